//! Bot tokens at rest: encrypted with XChaCha20-Poly1305 under a key from the environment
//! (`RAPPORT_TOKEN_KEY`), so a copy of the database alone does not give access to Slack.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    AeadCore, KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, OsRng},
};

use crate::server::secret::Secret;

/// Bytes of the random nonce stored in front of each ciphertext.
const NONCE_LEN: usize = 24;

/// Encrypts and decrypts tokens. Never printed.
#[derive(Clone)]
pub struct TokenCipher(XChaCha20Poly1305);

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher(..)")
    }
}

impl TokenCipher {
    /// Reads a key written as base64 of 32 random bytes (`openssl rand -base64 32`).
    pub fn from_base64(key: &str) -> Result<TokenCipher, String> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| "must be base64".to_owned())?;
        let cipher =
            XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| "must decode to exactly 32 bytes".to_owned())?;
        Ok(TokenCipher(cipher))
    }

    /// A cipher with a random key: tokens it encrypts are unreadable after a restart.
    pub fn random() -> TokenCipher {
        TokenCipher(XChaCha20Poly1305::new(&XChaCha20Poly1305::generate_key(&mut OsRng)))
    }

    /// The nonce followed by the ciphertext of `token`.
    pub fn encrypt(&self, token: &Secret) -> anyhow::Result<Vec<u8>> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .0
            .encrypt(&nonce, token.expose().as_bytes())
            .map_err(|_| anyhow::anyhow!("encrypting a bot token failed"))?;
        Ok([nonce.as_slice(), &ciphertext].concat())
    }

    /// The token inside `sealed`; fails if it was changed or sealed under another key.
    pub fn decrypt(&self, sealed: &[u8]) -> anyhow::Result<Secret> {
        anyhow::ensure!(sealed.len() > NONCE_LEN, "a stored bot token is too short to be sealed");
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let plain = self
            .0
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| anyhow::anyhow!("a stored bot token does not open with RAPPORT_TOKEN_KEY"))?;
        Ok(Secret::new(String::from_utf8(plain)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn a_token_round_trips_and_is_not_stored_in_clear() {
        let cipher = TokenCipher::from_base64(KEY).unwrap();
        let token = Secret::new("xoxb-secret-token");
        let sealed = cipher.encrypt(&token).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(cipher.decrypt(&sealed).unwrap(), token);
        assert_ne!(sealed, cipher.encrypt(&token).unwrap(), "a fresh nonce each time");
    }

    #[test]
    fn a_changed_ciphertext_or_another_key_does_not_open() {
        let cipher = TokenCipher::from_base64(KEY).unwrap();
        let mut sealed = cipher.encrypt(&Secret::new("xoxb-1")).unwrap();
        assert!(TokenCipher::random().decrypt(&sealed).is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(cipher.decrypt(&sealed).is_err());
    }

    #[test]
    fn a_malformed_key_is_refused_with_a_reason() {
        assert_eq!(TokenCipher::from_base64("not base64!").unwrap_err(), "must be base64");
        assert_eq!(TokenCipher::from_base64("c2hvcnQ=").unwrap_err(), "must decode to exactly 32 bytes");
    }
}
