//! Verifies that a webhook comes from Stripe, before anything of it is read or stored: the
//! `Stripe-Signature` header carries `t=<unix seconds>` and one or more `v1=<hex>` HMAC-SHA256
//! signatures over `"{t}.{raw body}"`, keyed with the endpoint's signing secret, and `t` must
//! be within 5 minutes of now so a captured delivery cannot be replayed later. The check is
//! async-stripe's; this module gives it the app's clock, guards the timestamp arithmetic, and
//! names each refusal.

use app::server::secret::Secret;
use stripe_webhook::{Event, Webhook, WebhookError};

/// How far a delivery's timestamp may be from now, either way (Stripe's default tolerance).
pub const TOLERANCE_SECS: u64 = 300;

/// Why a delivery was refused; the text is the short reason sent back with the 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("missing Stripe-Signature header")]
    MissingHeader,
    #[error("malformed Stripe-Signature header")]
    MalformedHeader,
    #[error("timestamp is too far from now")]
    StaleTimestamp,
    #[error("signature does not match")]
    BadSignature,
}

/// A delivery that is verifiably from Stripe.
#[derive(Debug)]
pub enum Verified {
    /// An event we can read.
    Event(Box<Event>),
    /// Authentic, but not an event this version of async-stripe reads (an unknown shape or API
    /// version): acknowledged and logged, never retried. Its id, when the body has one.
    Unreadable { id: Option<String> },
}

/// The `Stripe-Signature` header Stripe sends for `payload` at `timestamp` (for the Stripe
/// emulator and the tests to sign what they send).
pub fn sign(secret: &Secret, timestamp: i64, payload: &str) -> String {
    Webhook::generate_test_header(payload, secret.expose(), Some(timestamp))
}

/// Checks a delivery's `Stripe-Signature` header against its raw body with the endpoint's
/// signing secret (`whsec_...`); `now_secs` is the current Unix time.
pub fn verify(secret: &Secret, signature: Option<&str>, payload: &str, now_secs: i64) -> Result<Verified, Rejection> {
    let signature = signature.ok_or(Rejection::MissingHeader)?;
    // Checked here first with `abs_diff`: async-stripe subtracts the two as i64, which a
    // forged `t` near i64::MIN would overflow.
    if timestamp_of(signature)?.abs_diff(now_secs) > TOLERANCE_SECS {
        return Err(Rejection::StaleTimestamp);
    }
    match Webhook::construct_event_with_timestamp(payload, signature, secret.expose(), now_secs) {
        Ok(event) => Ok(Verified::Event(Box::new(event))),
        Err(WebhookError::BadParse(_)) => Ok(Verified::Unreadable { id: id_of(payload) }),
        Err(WebhookError::BadSignature | WebhookError::BadKey) => Err(Rejection::BadSignature),
        Err(WebhookError::BadTimestamp(_)) => Err(Rejection::StaleTimestamp),
        Err(WebhookError::BadHeader(_)) => Err(Rejection::MalformedHeader),
    }
}

/// The `t=` of a `Stripe-Signature` header.
fn timestamp_of(signature: &str) -> Result<i64, Rejection> {
    signature
        .split(',')
        .find_map(|part| part.trim().strip_prefix("t="))
        .and_then(|t| t.parse().ok())
        .ok_or(Rejection::MalformedHeader)
}

/// The `id` of a JSON body, if it has a string one.
fn id_of(payload: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct WithId {
        id: String,
    }
    serde_json::from_str::<WithId>(payload).ok().map(|body| body.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn secret() -> Secret {
        Secret::new("whsec_test_secret")
    }

    /// A whole event envelope, of a type async-stripe does not model (so its object may be
    /// anything).
    const EVENT: &str = r#"{"id":"evt_1","object":"event","api_version":"2025-10-29.clover","created":1700000000,
        "data":{"object":{"id":"thing_1"}},"livemode":false,"pending_webhooks":1,"request":null,
        "type":"rapport.test"}"#;

    #[test]
    fn stripes_own_signature_of_the_test_payload_is_accepted() {
        // Signed by Stripe's library: the vector from issue 10.
        let header = "t=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990";
        let payload = r#"{"id":"evt_test_webhook","object":"event"}"#;

        let verified = verify(&secret(), Some(header), payload, NOW);

        // Authentic, but too short to be an event we read.
        assert!(matches!(verified, Ok(Verified::Unreadable { id: Some(ref id) }) if id == "evt_test_webhook"));
        assert_eq!(sign(&secret(), NOW, payload), header, "the emulator signs as Stripe does");
    }

    #[test]
    fn a_signed_event_is_read() {
        let header = sign(&secret(), NOW - 10, EVENT);

        let verified = verify(&secret(), Some(&header), EVENT, NOW);

        match verified {
            Ok(Verified::Event(event)) => assert_eq!(event.id.as_str(), "evt_1"),
            other => panic!("expected the event, got {other:?}"),
        }
    }

    #[test]
    fn forged_stale_and_malformed_deliveries_are_refused() {
        let header = sign(&secret(), NOW, EVENT);
        let other_secret = Secret::new("whsec_someone_else");
        let tampered = EVENT.replace("evt_1", "evt_2");
        let just_inside = sign(&secret(), NOW - 300, EVENT);
        let too_old = sign(&secret(), NOW - 301, EVENT);
        let from_the_future = sign(&secret(), NOW + 301, EVENT);

        assert!(verify(&secret(), Some(&just_inside), EVENT, NOW).is_ok());
        assert_eq!(verify(&secret(), None, EVENT, NOW).unwrap_err(), Rejection::MissingHeader);
        assert_eq!(verify(&other_secret, Some(&header), EVENT, NOW).unwrap_err(), Rejection::BadSignature);
        assert_eq!(verify(&secret(), Some(&header), &tampered, NOW).unwrap_err(), Rejection::BadSignature);
        assert_eq!(verify(&secret(), Some(&too_old), EVENT, NOW).unwrap_err(), Rejection::StaleTimestamp);
        assert_eq!(verify(&secret(), Some(&from_the_future), EVENT, NOW).unwrap_err(), Rejection::StaleTimestamp);
        for malformed in ["", "v1=abc", "t=soon,v1=abc", "t=,v1="] {
            assert_eq!(verify(&secret(), Some(malformed), EVENT, NOW).unwrap_err(), Rejection::MalformedHeader);
        }
    }

    #[test]
    fn one_matching_signature_among_several_is_enough() {
        let valid = sign(&secret(), NOW, EVENT);
        let v1 = valid.split(",v1=").nth(1).unwrap();
        let rolled = format!("t={NOW},v1={},v1={v1},v0=ignored", "0".repeat(64));

        assert!(verify(&secret(), Some(&rolled), EVENT, NOW).is_ok());
    }

    #[test]
    fn an_extreme_timestamp_is_stale_not_a_crash() {
        for t in [i64::MIN, i64::MAX] {
            let header = format!("t={t},v1={}", "0".repeat(64));

            assert_eq!(verify(&secret(), Some(&header), EVENT, NOW).unwrap_err(), Rejection::StaleTimestamp);
        }
    }
}
