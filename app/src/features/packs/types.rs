//! Wire types and validated input of the packs area.

use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    ids::{PackId, QuestionId},
};

/// The longest pack name, in characters.
pub const MAX_PACK_NAME_CHARS: usize = 60;
/// The longest question, in characters.
pub const MAX_QUESTION_CHARS: usize = 300;
/// The most questions one CSV import may add.
pub const MAX_IMPORT_ROWS: usize = 500;
/// The largest CSV file one import takes, in bytes: room for [`MAX_IMPORT_ROWS`] long
/// questions, even in scripts of two or three bytes a character.
pub const MAX_IMPORT_BYTES: usize = 500_000;

/// A pack as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackView {
    pub id: PackId,
    pub name: String,
    pub description: String,
    /// Shipped with Rapport: it can be switched off but not edited.
    pub builtin: bool,
    /// New members' first-week pack.
    pub first_week: bool,
    pub enabled: bool,
    pub questions: Vec<QuestionView>,
}

/// A question in an admin's pack view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionView {
    pub id: QuestionId,
    pub text: String,
    pub position: i64,
    pub disabled: bool,
}

/// A pack name: trimmed, 1 to [`MAX_PACK_NAME_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackName(String);

impl PackName {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        bounded("name", raw, MAX_PACK_NAME_CHARS, "Give the pack a name.").map(PackName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A question's text: trimmed, on one line, 1 to [`MAX_QUESTION_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionText(String);

impl QuestionText {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let text = bounded("question", raw, MAX_QUESTION_CHARS, "Write the question first.")?;
        if text.contains(['\n', '\r']) {
            return Err(invalid("question", "Keep the question on one line.".into()));
        }
        Ok(QuestionText(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn bounded(field: &str, raw: &str, max: usize, empty: &str) -> Result<String, AppError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(invalid(field, empty.into()));
    }
    let length = text.chars().count();
    if length > max {
        return Err(invalid(field, format!("Keep it to {max} characters (this has {length}).")));
    }
    Ok(text.to_owned())
}

fn invalid(field: &str, message: String) -> AppError {
    AppError::Invalid { field: field.into(), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_questions_are_trimmed_and_bounded() {
        assert_eq!(PackName::parse("  Team fun ").unwrap().as_str(), "Team fun");
        assert!(PackName::parse("   ").is_err());
        assert!(PackName::parse(&"n".repeat(61)).is_err());
        assert_eq!(QuestionText::parse(" Tea or coffee? ").unwrap().as_str(), "Tea or coffee?");
        assert!(QuestionText::parse("two\nlines").is_err());
        assert!(QuestionText::parse(&"q".repeat(301)).is_err());
    }
}
