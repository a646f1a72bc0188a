//! [`Secret`]: a string that must never reach a log line, a panic message or the client.

/// A secret value (a bot token, a client secret). `Debug` prints a placeholder; the value
/// is read only through [`Secret::expose`], so every use is easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Whether two secret strings (a state, a nonce, a token) are equal, taking as long for a
/// near miss as for a far one, so timing tells an attacker nothing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let secret = Secret::new("xoxb-very-secret");
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some(Secret([redacted]))");
        assert_eq!(secret.expose(), "xoxb-very-secret");
    }

    #[test]
    fn equal_secrets_match_and_any_difference_does_not() {
        assert!(constant_time_eq(b"state-123", b"state-123"));
        assert!(!constant_time_eq(b"state-123", b"state-124"));
        assert!(!constant_time_eq(b"state", b"state-123"));
    }
}
