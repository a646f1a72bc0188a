//! Validated answer input, shared by Slack (DM replies, the modal) and the dashboard.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The longest answer Rapport keeps, in characters (a Slack modal's input allows 3,000).
pub const MAX_ANSWER_CHARS: usize = 3_000;

/// Who may see an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Visibility {
    /// Everyone in the workspace (the default).
    Team,
    /// Only the member who wrote it.
    OnlyMe,
}

impl Visibility {
    /// The stored form (`answers.visibility`).
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Team => "team",
            Visibility::OnlyMe => "only_me",
        }
    }

    /// Reads the stored form or a form value.
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match raw {
            "team" => Ok(Visibility::Team),
            "only_me" => Ok(Visibility::OnlyMe),
            _ => Err(AppError::Invalid { field: "visibility".into(), message: "must be team or only_me".into() }),
        }
    }
}

/// An answer's text: trimmed, not empty, at most [`MAX_ANSWER_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerText(String);

impl AnswerText {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let text = raw.trim();
        let invalid = |message: String| AppError::Invalid { field: "answer".into(), message };
        if text.is_empty() {
            return Err(invalid("Please write an answer first.".into()));
        }
        let length = text.chars().count();
        if length > MAX_ANSWER_CHARS {
            return Err(invalid(format!(
                "Please keep it under {MAX_ANSWER_CHARS} characters (this one has {length})."
            )));
        }
        Ok(AnswerText(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_trimmed_and_must_not_be_empty() {
        assert_eq!(AnswerText::parse("  Porridge \n").unwrap().as_str(), "Porridge");
        assert!(matches!(AnswerText::parse(" \n\t"), Err(AppError::Invalid { field, .. }) if field == "answer"));
    }

    #[test]
    fn an_answer_may_have_three_thousand_characters_but_not_more() {
        assert!(AnswerText::parse(&"é".repeat(3_000)).is_ok());
        let too_long = AnswerText::parse(&"a".repeat(3_001));
        assert!(matches!(too_long, Err(AppError::Invalid { message, .. }) if message.contains("3001")));
    }

    #[test]
    fn visibility_round_trips_through_its_stored_form() {
        for visibility in [Visibility::Team, Visibility::OnlyMe] {
            assert_eq!(Visibility::parse(visibility.as_str()), Ok(visibility));
        }
        assert!(Visibility::parse("everyone").is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::fuzzing;

    /// A character that trimming keeps.
    fn kept_char() -> impl Strategy<Value = char> {
        any::<char>().prop_filter("not whitespace", |c| !c.is_whitespace())
    }

    proptest! {
        #![proptest_config(fuzzing::config(256))]

        #[test]
        fn any_text_is_a_trimmed_answer_within_the_limit_or_a_refusal(
            raw in fuzzing::text(MAX_ANSWER_CHARS + 100),
        ) {
            match AnswerText::parse(&raw) {
                Ok(answer) => {
                    prop_assert_eq!(answer.as_str(), raw.trim());
                    prop_assert!(!answer.as_str().is_empty());
                    prop_assert!(answer.as_str().chars().count() <= MAX_ANSWER_CHARS);
                    let again = AnswerText::parse(answer.as_str());
                    prop_assert_eq!(again, Ok(answer.clone()), "parsing again changes nothing");
                }
                Err(AppError::Invalid { field, message }) => {
                    prop_assert_eq!(field, "answer");
                    prop_assert!(!message.is_empty());
                }
                Err(other) => return Err(TestCaseError::fail(format!("not a refusal of the answer: {other:?}"))),
            }
        }

        #[test]
        fn an_answer_is_kept_up_to_the_limit_and_refused_past_it(
            kept in prop::collection::vec(kept_char(), MAX_ANSWER_CHARS - 3..=MAX_ANSWER_CHARS + 3),
            padding in "[ \t\r\n\u{a0}\u{3000}]{0,3}",
        ) {
            let text: String = kept.iter().collect();

            let parsed = AnswerText::parse(&format!("{padding}{text}{padding}"));

            if kept.len() <= MAX_ANSWER_CHARS {
                prop_assert_eq!(parsed.map(|answer| answer.as_str().to_owned()), Ok(text));
            } else {
                prop_assert!(parsed.is_err(), "{} characters were kept", kept.len());
            }
        }

        #[test]
        fn only_the_two_stored_forms_are_visibilities(
            raw in prop_oneof![Just("team".to_owned()), Just("only_me".to_owned()), fuzzing::text(12)],
        ) {
            match Visibility::parse(&raw) {
                Ok(visibility) => prop_assert_eq!(visibility.as_str(), raw),
                Err(error) => prop_assert!(raw != "team" && raw != "only_me", "{:?}: {:?}", raw, error),
            }
        }
    }
}
