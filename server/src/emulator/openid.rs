//! The emulator's "Sign in with Slack" signing key: it signs the emulated ID tokens with RS256
//! and publishes the public half as a key set (JWKS), as Slack does at
//! `https://slack.com/openid/connect/keys`, so the app verifies emulated sign-ins exactly as
//! it verifies real ones.
//!
//! The key pair in `openid_key.pem` is public (it is committed to this repository): it is for
//! the emulator and tests only, and must never be trusted for real Slack, whose tokens are
//! verified against Slack's own published keys.

use std::sync::LazyLock;

use axum::Json;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The key id (`kid`) the emulator's ID tokens carry and its key set lists.
pub const KEY_ID: &str = "rapport-emulator-1";

/// The public key's modulus, base64url without padding, computed once from `openid_key.pem`
/// (a test below proves the two still match).
const N: &str = "tk3DeC7avg0EWnoMlGzUNuEpgfhmCeOSAVBBvQ1JaOo0Zjmti5D7zbN2ceAVRyecCzg2RMvGdQnVWo-srW0vandhMpazu4SSPb2Mz3mIXZidUMpwtqOtcfPNfEbtUbKuqU-dYICnm9vza4dd5PmrojQ80p94i9lUOS-kxKYqflRF2hQwo9BtHw9Qod0zi8b85EA85FLNIHU_mKB1RsMY2I1YvrPIX3woiXflOR7oZ04XovpmbsKjq8F4iQeWgNyVEANK2j-LBdcSxuHRl4l0AKGkwL15ezPz0paB7iyjFr5ptJWbD4-UwtesA7-rVcS6YGxpVfkL90hiTqUI5a8vZw";
/// The public key's exponent (65537), base64url without padding.
const E: &str = "AQAB";

/// The emulator's private key (PKCS#8 PEM); public knowledge, see the module comment.
const PRIVATE_KEY_PEM: &str = include_str!("openid_key.pem");

/// The private key, parsed on first use.
static SIGNING_KEY: LazyLock<EncodingKey> = LazyLock::new(|| {
    // The PEM is compiled in and parsed by this module's tests: a failure here is a broken build.
    EncodingKey::from_rsa_pem(PRIVATE_KEY_PEM.as_bytes()).expect("the emulator's committed key is an RSA PEM")
});

/// Signs `claims` as an RS256 ID token whose header names [`KEY_ID`].
pub fn sign_id_token(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KEY_ID.to_owned());
    // RS256 signing with a valid key only fails if the system's random source does.
    jsonwebtoken::encode(&header, claims, &SIGNING_KEY).expect("the emulator's key signs any JSON claims")
}

/// What is wrong with the next ID token the emulator hands out, for tests of the app's
/// checks: each is a token Slack never sends, but a forger or a replay might.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadIdToken {
    /// Signed, then altered: the signature no longer matches.
    WrongSignature,
    /// Issued to another app.
    OtherAudience,
    /// Expired an hour ago.
    Expired,
    /// Carries another sign-in's nonce.
    OtherNonce,
    /// Unsigned (`alg: none`).
    AlgNone,
    /// Names a key Slack does not publish.
    UnknownKeyId,
}

impl BadIdToken {
    /// Spoils the claims before signing, or the token after.
    pub fn spoil_claims(self, claims: &mut Value, now_secs: i64) {
        match self {
            BadIdToken::OtherAudience => claims["aud"] = json!("1000000002.another-app"),
            BadIdToken::Expired => {
                claims["iat"] = json!(now_secs - 7200);
                claims["exp"] = json!(now_secs - 3600);
            }
            BadIdToken::OtherNonce => claims["nonce"] = json!("the-nonce-of-another-sign-in"),
            BadIdToken::WrongSignature | BadIdToken::AlgNone | BadIdToken::UnknownKeyId => {}
        }
    }

    /// Spoils a signed token (header or signature).
    pub fn spoil_token(self, token: &str, claims: &Value) -> String {
        let encode = |value: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
        let mut parts = token.splitn(3, '.').map(str::to_owned).collect::<Vec<_>>();
        match self {
            BadIdToken::WrongSignature => {
                // Another valid base64url signature of the same length: one character changed.
                let signature = &mut parts[2];
                let first = if signature.starts_with('A') { "B" } else { "A" };
                signature.replace_range(0..1, first);
            }
            BadIdToken::AlgNone => {
                return format!("{}.{}.", encode(&json!({ "alg": "none", "typ": "JWT" })), encode(claims));
            }
            BadIdToken::UnknownKeyId => {
                parts[0] = encode(&json!({ "alg": "RS256", "typ": "JWT", "kid": "a-retired-key" }));
            }
            BadIdToken::OtherAudience | BadIdToken::Expired | BadIdToken::OtherNonce => {}
        }
        parts.join(".")
    }
}

/// The emulator's key set in Slack's JWKS shape: its one RS256 signing key.
pub fn jwks() -> Value {
    json!({ "keys": [{ "kty": "RSA", "kid": KEY_ID, "alg": "RS256", "use": "sig", "n": N, "e": E }] })
}

/// `GET /emulator/openid/connect/keys`: the key set, where Slack serves its own.
pub async fn keys() -> Json<Value> {
    Json(jwks())
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;

    #[test]
    fn a_token_signed_by_the_emulator_verifies_with_the_published_modulus_and_exponent() {
        let published = &jwks()["keys"][0];
        let key = DecodingKey::from_rsa_components(published["n"].as_str().unwrap(), published["e"].as_str().unwrap())
            .unwrap();

        let token = sign_id_token(&json!({ "sub": "UDEMO004", "exp": 4_000_000_000_u64 }));

        let decoded = jsonwebtoken::decode::<Value>(&token, &key, &Validation::new(Algorithm::RS256)).unwrap();
        assert_eq!(decoded.claims["sub"], "UDEMO004");
        assert_eq!(decoded.header.kid.as_deref(), Some(KEY_ID));
        assert_eq!(published["kid"], KEY_ID);
    }
}
