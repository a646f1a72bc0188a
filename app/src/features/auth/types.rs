//! Validated sign-in input: an admin's email and password.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The shortest password an admin account accepts.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest: argon2 takes any length, but an unbounded input is unbounded work.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// An email address, trimmed and lower-cased (so `Ada@Example.com` signs in as
/// `ada@example.com`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, AppError> {
        let email = raw.trim().to_lowercase();
        let invalid = |message: &str| AppError::Invalid { field: "email".into(), message: message.into() };
        let Some((local, domain)) = email.split_once('@') else {
            return Err(invalid("must be an email address like ada@example.com"));
        };
        if local.is_empty() || !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
            return Err(invalid("must be an email address like ada@example.com"));
        }
        if email.len() > 254 || email.chars().any(char::is_whitespace) {
            return Err(invalid("must be an email address like ada@example.com"));
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: long enough, not absurdly long. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Password, AppError> {
        let chars = raw.chars().count();
        let invalid = |message: String| AppError::Invalid { field: "password".into(), message };
        if chars < MIN_PASSWORD_CHARS {
            return Err(invalid(format!("must be at least {MIN_PASSWORD_CHARS} characters")));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(invalid(format!("must be at most {MAX_PASSWORD_CHARS} characters")));
        }
        Ok(Password(raw.to_owned()))
    }

    /// The password itself, for hashing or checking it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_lower_cased_and_must_look_like_one() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        for bad in ["ada", "@example.com", "ada@example", "ada@.com", "a da@example.com", ""] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_password_must_be_long_enough_and_never_prints() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        let password = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
