//! Wire types of the directory and profile pages.

use serde::{Deserialize, Serialize};

use crate::ids::{MemberId, QuestionId};

/// A member's most recent team-visible answer, shown in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestAnswer {
    pub question: String,
    pub text: String,
    pub answered_at_ms: i64,
}

/// One card of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonSummary {
    pub id: MemberId,
    pub name: String,
    pub title: String,
    pub avatar_url: String,
    pub answer_count: i64,
    pub latest: Option<LatestAnswer>,
}

impl PersonSummary {
    /// Whether this person matches the directory filter: every word of the filter appears in
    /// the name or the title, ignoring case.
    pub fn matches(&self, filter: &str) -> bool {
        let haystack = format!("{} {}", self.name, self.title).to_lowercase();
        filter.split_whitespace().all(|word| haystack.contains(&word.to_lowercase()))
    }
}

/// A member's profile page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: MemberId,
    pub name: String,
    pub title: String,
    pub avatar_url: String,
    pub time_zone: Option<String>,
    /// Team-visible answers, newest first.
    pub answers: Vec<ProfileAnswer>,
}

/// One answer on a profile, with the question it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileAnswer {
    pub question_id: QuestionId,
    pub question: String,
    pub text: String,
    pub answered_at_ms: i64,
}

/// What the viewer and a coworker have in common: the questions both answered for the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InCommon {
    /// The coworker's name.
    pub name: String,
    /// Most alike first.
    pub pairs: Vec<CommonAnswer>,
    /// Words both said most often ("you both mentioned ..."), as the viewer wrote them.
    pub both_said: Vec<String>,
}

/// One question both answered, with both answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommonAnswer {
    pub question_id: QuestionId,
    pub question: String,
    pub mine: String,
    pub theirs: String,
    /// The words the two answers share, as the viewer wrote them.
    pub shared_words: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str, title: &str) -> PersonSummary {
        PersonSummary {
            id: MemberId::parse("m1").unwrap(),
            name: name.into(),
            title: title.into(),
            avatar_url: String::new(),
            answer_count: 0,
            latest: None,
        }
    }

    #[test]
    fn the_filter_matches_name_or_title_ignoring_case() {
        let ada = person("Ada Lovelace", "Staff Engineer");
        assert!(ada.matches(""));
        assert!(ada.matches("ada"));
        assert!(ada.matches("ENGINEER"));
        assert!(ada.matches("  lovelace   staff "));
        assert!(!ada.matches("designer"));
        assert!(!ada.matches("ada designer"));
    }
}
