//! Verifies that a request really comes from Slack: the `v0` HMAC-SHA256 signature over the
//! timestamp and the raw body, with the app's signing secret, and a timestamp close to now so
//! a captured request cannot be replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a request's timestamp may be from now, either way (Slack's recommendation).
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The app's signing secret from Slack's app settings. Never printed.
#[derive(Clone)]
pub struct SigningSecret(String);

impl SigningSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        SigningSecret(secret.into())
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

/// Why a request was refused; the text is the short reason sent back with the 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("malformed X-Slack-Request-Timestamp")]
    MalformedTimestamp,
    #[error("request timestamp is too far from now")]
    StaleTimestamp,
    #[error("malformed X-Slack-Signature")]
    MalformedSignature,
    #[error("signature does not match")]
    BadSignature,
}

/// The `v0=<hex>` signature Slack sends for `body` at `timestamp` (used by the emulator and
/// by tests to sign what they send).
pub fn sign(secret: &SigningSecret, timestamp: &str, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("v0={}", hex::encode(digest))
}

/// Checks a request's `X-Slack-Request-Timestamp` and `X-Slack-Signature` against its raw
/// body. `now_secs` is the current Unix time.
pub fn verify(
    secret: &SigningSecret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_secs: i64,
) -> Result<(), Rejection> {
    let timestamp = timestamp.ok_or(Rejection::MissingHeader("X-Slack-Request-Timestamp"))?;
    let signature = signature.ok_or(Rejection::MissingHeader("X-Slack-Signature"))?;
    let sent_at: i64 = timestamp.trim().parse().map_err(|_| Rejection::MalformedTimestamp)?;
    if (now_secs - sent_at).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(Rejection::StaleTimestamp);
    }
    let expected = signature
        .strip_prefix("v0=")
        .and_then(|hex_digest| hex::decode(hex_digest).ok())
        .ok_or(Rejection::MalformedSignature)?;
    // `verify_slice` compares in constant time, so timing leaks nothing about the digest.
    mac(secret, timestamp, body).verify_slice(&expected).map_err(|_| Rejection::BadSignature)
}

fn new_mac(secret: &SigningSecret) -> Hmac<Sha256> {
    // HMAC takes a key of any length, so this cannot fail.
    match Hmac::<Sha256>::new_from_slice(secret.0.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    }
}

fn mac(secret: &SigningSecret, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = new_mac(secret);
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slack's documented example ("Verifying requests from Slack").
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn secret() -> SigningSecret {
        SigningSecret::new(SECRET)
    }

    fn check(timestamp: Option<&str>, signature: Option<&str>, body: &str, now: i64) -> Result<(), Rejection> {
        verify(&secret(), timestamp, signature, body.as_bytes(), now)
    }

    #[test]
    fn slacks_documented_example_signs_and_verifies() {
        assert_eq!(sign(&secret(), TIMESTAMP, BODY.as_bytes()), SIGNATURE);
        assert_eq!(check(Some(TIMESTAMP), Some(SIGNATURE), BODY, 1_531_420_618), Ok(()));
    }

    #[test]
    fn a_changed_body_or_secret_is_refused() {
        let tampered = BODY.replace("roadrunner", "coyote");
        assert_eq!(check(Some(TIMESTAMP), Some(SIGNATURE), &tampered, 1_531_420_618), Err(Rejection::BadSignature));
        let other =
            verify(&SigningSecret::new("another"), Some(TIMESTAMP), Some(SIGNATURE), BODY.as_bytes(), 1_531_420_618);
        assert_eq!(other, Err(Rejection::BadSignature));
    }

    #[test]
    fn timestamps_more_than_five_minutes_away_either_way_are_refused() {
        let sent = 1_531_420_618;
        assert_eq!(check(Some(TIMESTAMP), Some(SIGNATURE), BODY, sent + 300), Ok(()));
        assert_eq!(check(Some(TIMESTAMP), Some(SIGNATURE), BODY, sent - 300), Ok(()));
        assert_eq!(check(Some(TIMESTAMP), Some(SIGNATURE), BODY, sent + 301), Err(Rejection::StaleTimestamp));
        assert_eq!(check(Some(TIMESTAMP), Some(SIGNATURE), BODY, sent - 301), Err(Rejection::StaleTimestamp));
    }

    #[test]
    fn missing_or_malformed_headers_are_refused_with_a_reason() {
        let now = 1_531_420_618;
        assert_eq!(check(None, Some(SIGNATURE), BODY, now), Err(Rejection::MissingHeader("X-Slack-Request-Timestamp")));
        assert_eq!(check(Some(TIMESTAMP), None, BODY, now), Err(Rejection::MissingHeader("X-Slack-Signature")));
        assert_eq!(check(Some("yesterday"), Some(SIGNATURE), BODY, now), Err(Rejection::MalformedTimestamp));
        assert_eq!(check(Some(TIMESTAMP), Some("v1=abc"), BODY, now), Err(Rejection::MalformedSignature));
        assert_eq!(check(Some(TIMESTAMP), Some("v0=zz"), BODY, now), Err(Rejection::MalformedSignature));
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        assert!(!format!("{:?}", secret()).contains(SECRET));
    }
}
