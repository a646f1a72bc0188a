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
    // `abs_diff` cannot overflow, whatever number the header holds.
    if now_secs.abs_diff(sent_at) > MAX_CLOCK_SKEW_SECS.unsigned_abs() {
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
    fn timestamps_at_the_ends_of_the_number_range_are_stale_not_a_panic() {
        for extreme in [i64::MIN, i64::MAX] {
            let timestamp = extreme.to_string();
            assert_eq!(check(Some(&timestamp), Some(SIGNATURE), BODY, 1_531_420_618), Err(Rejection::StaleTimestamp));
            assert_eq!(check(Some(&timestamp), Some(SIGNATURE), BODY, -1_531_420_618), Err(Rejection::StaleTimestamp));
        }
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

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::fuzzing;

    /// A Unix time in seconds, from 1970 to 2100.
    const SECONDS: std::ops::Range<i64> = 0..4_102_444_800;

    /// A timestamp header: often a number of seconds (sometimes spaced or signed), else any text.
    fn any_timestamp() -> impl Strategy<Value = String> {
        prop_oneof![
            SECONDS.prop_map(|seconds| seconds.to_string()),
            any::<i64>().prop_map(|seconds| format!(" {seconds:+}\t")),
            fuzzing::text(24),
        ]
    }

    /// A signature header: often `v0=` and some hex, else any text.
    fn any_signature() -> impl Strategy<Value = String> {
        prop_oneof![
            fuzzing::bytes(40).prop_map(|digest| format!("v0={}", hex::encode(digest))),
            "v0=[0-9a-fA-F]{0,70}",
            fuzzing::text(80),
        ]
    }

    /// A change of one byte in a body: replaced, taken out or put in.
    #[derive(Debug, Clone)]
    enum Tampering {
        Replace(prop::sample::Index, u8),
        Remove(prop::sample::Index),
        Insert(prop::sample::Index, u8),
    }

    fn tampering() -> impl Strategy<Value = Tampering> {
        prop_oneof![
            (any::<prop::sample::Index>(), 1_u8..).prop_map(|(at, flip)| Tampering::Replace(at, flip)),
            any::<prop::sample::Index>().prop_map(Tampering::Remove),
            (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(at, byte)| Tampering::Insert(at, byte)),
        ]
    }

    proptest! {
        #![proptest_config(fuzzing::config(256))]

        #[test]
        fn any_headers_and_body_are_refused_without_the_secrets_signature(
            secret in fuzzing::text(40),
            timestamp in prop::option::of(any_timestamp()),
            signature in prop::option::of(any_signature()),
            body in fuzzing::bytes(512),
            now_secs in prop_oneof![SECONDS, any::<i64>()],
        ) {
            let secret = SigningSecret::new(secret);

            let verdict = verify(&secret, timestamp.as_deref(), signature.as_deref(), &body, now_secs);

            prop_assert!(verdict.is_err(), "a signature nobody computed was accepted");
        }

        #[test]
        fn a_signed_body_verifies_within_five_minutes_either_way_and_not_after(
            secret in fuzzing::text(40),
            body in fuzzing::bytes(2048),
            sent_at in SECONDS,
            skew in -MAX_CLOCK_SKEW_SECS..=MAX_CLOCK_SKEW_SECS,
            late in 1..=i64::from(u32::MAX),
            capitals in any::<bool>(),
        ) {
            let secret = SigningSecret::new(secret);
            let timestamp = sent_at.to_string();
            let signed = sign(&secret, &timestamp, &body);
            // Hex reads in either case.
            let signature = if capitals { signed.to_ascii_uppercase().replacen("V0=", "v0=", 1) } else { signed };
            let check = |now_secs| verify(&secret, Some(&timestamp), Some(&signature), &body, now_secs);

            prop_assert_eq!(check(sent_at + skew), Ok(()));
            let too_far = MAX_CLOCK_SKEW_SECS + late;
            prop_assert_eq!(check(sent_at + too_far), Err(Rejection::StaleTimestamp));
            prop_assert_eq!(check(sent_at - too_far), Err(Rejection::StaleTimestamp));
        }

        #[test]
        fn any_one_byte_change_to_a_signed_body_is_refused(
            secret in fuzzing::text(40),
            body in prop::collection::vec(any::<u8>(), 1..2048),
            sent_at in SECONDS,
            change in tampering(),
        ) {
            let secret = SigningSecret::new(secret);
            let timestamp = sent_at.to_string();
            let signature = sign(&secret, &timestamp, &body);
            let mut tampered = body.clone();
            match change {
                Tampering::Replace(at, flip) => tampered[at.index(body.len())] ^= flip,
                Tampering::Remove(at) => {
                    tampered.remove(at.index(body.len()));
                }
                Tampering::Insert(at, byte) => tampered.insert(at.index(body.len() + 1), byte),
            }

            let verdict = verify(&secret, Some(&timestamp), Some(&signature), &tampered, sent_at);

            prop_assert_eq!(verdict, Err(Rejection::BadSignature));
        }
    }
}
