//! Sign-in on the wire: the ways in the `/login` page offers, who is signed in, and the
//! validated input of the admin account's email and password.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The ways to sign in that `/login` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    /// Sign in with Slack is set up (hosted, or the emulator in the demo).
    pub slack: bool,
    /// A self-hosted admin account exists, so the email and password form is shown.
    pub password: bool,
}

/// Who the header greets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInAs {
    pub name: String,
    /// Sees the admin pages.
    pub admin: bool,
    /// Has a profile and a `/me` page (the admin account has neither).
    pub member: bool,
    /// For an admin of a lapsed workspace: why questions stopped (the header's banner).
    #[serde(default)]
    pub billing_notice: Option<crate::features::billing::types::LapseReason>,
}

/// What `/login` says for the `error` its sign-in handlers send back.
pub fn sign_in_error_message(code: &str) -> &'static str {
    match code {
        "wrong_password" => "That email and password do not match an admin account.",
        "email" => "Email: enter an email address like ada@example.com.",
        "too_many_attempts" => "Too many sign-in attempts. Please wait 15 minutes and try again.",
        "busy" => "Many people are signing in right now. Please try again in a few seconds.",
        _ => "Something went wrong on our side. Please try again in a moment.",
    }
}

/// The sign-in page's address, coming back to `next` (a path of this site) afterwards.
pub fn login_href(next: &str) -> String {
    format!("/login?next={}", encode_next(next))
}

/// `next` as a query value: a path with its own query percent-encoded.
pub fn encode_next(next: &str) -> String {
    let mut encoded = String::with_capacity(next.len());
    for byte in next.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(char::from(byte))
            }
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    encoded
}

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
    fn a_sign_in_refused_for_load_says_to_try_again_soon_not_that_something_broke() {
        let busy = sign_in_error_message("busy");
        assert!(busy.contains("try again in a few seconds"), "{busy}");
        assert_ne!(busy, sign_in_error_message("internal"));
    }

    #[test]
    fn the_way_back_after_sign_in_is_encoded_in_the_login_address() {
        assert_eq!(login_href("/people/abc"), "/login?next=/people/abc");
        assert_eq!(login_href("/search?q=a b&x=1"), "/login?next=/search%3Fq%3Da%20b%26x%3D1");
    }

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
