//! Typed ids for the records pages link to, parsed from URLs before any query runs.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Checks the shape of an id taken from a URL. Ids are app-generated UUIDs, so anything else
/// cannot name a record: it is reported as not found rather than sent to the database.
fn parse_id(raw: &str) -> Result<String, AppError> {
    let well_formed = !raw.is_empty() && raw.len() <= 64 && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if well_formed { Ok(raw.to_owned()) } else { Err(AppError::NotFound) }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub struct $name(String);

        impl $name {
            /// Parses an id from a URL segment or request.
            pub fn parse(raw: &str) -> Result<Self, AppError> {
                parse_id(raw).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A member of a workspace.
    MemberId
);
id_type!(
    /// A question in a pack.
    QuestionId
);
id_type!(
    /// A pack of questions.
    PackId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_is_a_valid_id() {
        let id = MemberId::parse("0193a3f0-7c1e-7b2a-9f00-1234567890ab");
        assert_eq!(id.map(|id| id.to_string()).ok().as_deref(), Some("0193a3f0-7c1e-7b2a-9f00-1234567890ab"));
    }

    #[test]
    fn a_malformed_id_is_not_found() {
        for raw in ["", "a b", "x'; DROP TABLE members;--", &"a".repeat(65), "é"] {
            assert_eq!(QuestionId::parse(raw), Err(AppError::NotFound), "{raw:?}");
        }
    }
}
