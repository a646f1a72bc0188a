//! Bot tokens at rest: encrypted with XChaCha20-Poly1305 under a key from the environment
//! (`RAPPORT_TOKEN_KEY`), so a copy of the database alone does not give access to Slack.
//!
//! Stored format, v2: `v2:`, the 24-byte nonce, then the ciphertext, sealed with the workspace's
//! id as associated data, so a ciphertext copied into another workspace's row does not open.
//! The id, not the Slack team id: Rapport makes it once and never rewrites it, every table
//! points at it, and nobody outside Rapport picks it. v1 (rows sealed before v2): the nonce,
//! then the ciphertext, with no associated data; it still opens, and the next install or
//! `rapport rotate-token-key` seals it again as v2.
//!
//! During a key rotation a previous key (`RAPPORT_TOKEN_KEY_PREVIOUS`) opens what the current
//! one does not; only the current key seals.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    AeadCore, KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, OsRng, Payload},
};

use crate::server::secret::Secret;

/// Bytes of the random nonce stored in front of each ciphertext.
const NONCE_LEN: usize = 24;
/// What a v2 sealed value starts with (v1 starts with its nonce).
const V2_PREFIX: &[u8] = b"v2:";
/// The text the key check seals: opening it proves the key is this database's.
const CHECK_TEXT: &[u8] = b"rapport token key check";
/// The check's associated data (the table it is stored in).
const CHECK_AAD: &[u8] = b"token_key_checks";

/// Which configured key opened a sealed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsed {
    /// `RAPPORT_TOKEN_KEY`.
    Current,
    /// `RAPPORT_TOKEN_KEY_PREVIOUS`: a rotation is under way.
    Previous,
}

/// Encrypts and decrypts tokens. Never printed.
#[derive(Clone)]
pub struct TokenCipher {
    current: XChaCha20Poly1305,
    /// The key tokens were sealed with before a rotation; it opens but never seals.
    previous: Option<XChaCha20Poly1305>,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher(..)")
    }
}

impl TokenCipher {
    /// Reads a key written as base64 of 32 random bytes (`openssl rand -base64 32`).
    pub fn from_base64(key: &str) -> Result<TokenCipher, String> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| "must be base64".to_owned())?;
        let current =
            XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| "must decode to exactly 32 bytes".to_owned())?;
        Ok(TokenCipher { current, previous: None })
    }

    /// A cipher with a random key: tokens it encrypts are unreadable after a restart.
    pub fn random() -> TokenCipher {
        TokenCipher { current: XChaCha20Poly1305::new(&XChaCha20Poly1305::generate_key(&mut OsRng)), previous: None }
    }

    /// The same cipher, also opening what `previous`'s key sealed (a rotation under way).
    #[must_use]
    pub fn with_previous(self, previous: TokenCipher) -> TokenCipher {
        TokenCipher { previous: Some(previous.current), ..self }
    }

    /// `token` sealed (v2) with the current key for the workspace `workspace_id` only.
    pub fn seal(&self, workspace_id: &str, token: &Secret) -> anyhow::Result<Vec<u8>> {
        self.seal_bytes(token.expose().as_bytes(), workspace_id.as_bytes())
            .ok_or_else(|| anyhow::anyhow!("sealing a bot token failed"))
    }

    /// The token inside `sealed`, stored for the workspace `workspace_id`; fails if it was
    /// changed, sealed for another workspace, or sealed under neither key.
    pub fn open(&self, workspace_id: &str, sealed: &[u8]) -> anyhow::Result<Secret> {
        let (plain, _) = self.open_bytes(sealed, workspace_id.as_bytes()).ok_or_else(|| {
            anyhow::anyhow!(
                "a stored bot token does not open with RAPPORT_TOKEN_KEY (nor RAPPORT_TOKEN_KEY_PREVIOUS) \
                 for this workspace"
            )
        })?;
        Ok(Secret::new(String::from_utf8(plain)?))
    }

    /// The key check: a fixed text sealed with the current key, stored once per database.
    pub fn seal_check(&self) -> anyhow::Result<Vec<u8>> {
        self.seal_bytes(CHECK_TEXT, CHECK_AAD).ok_or_else(|| anyhow::anyhow!("sealing the token key check failed"))
    }

    /// Which key opens the stored key check, if either does.
    pub fn open_check(&self, sealed: &[u8]) -> Option<KeyUsed> {
        self.open_bytes(sealed, CHECK_AAD).filter(|(plain, _)| plain == CHECK_TEXT).map(|(_, used)| used)
    }

    fn seal_bytes(&self, plain: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self.current.encrypt(&nonce, Payload { msg: plain, aad }).ok()?;
        Some([V2_PREFIX, nonce.as_slice(), &ciphertext].concat())
    }

    /// The plaintext inside `sealed` and the key that opened it: the current key first.
    fn open_bytes(&self, sealed: &[u8], aad: &[u8]) -> Option<(Vec<u8>, KeyUsed)> {
        std::iter::once((&self.current, KeyUsed::Current))
            .chain(self.previous.iter().map(|key| (key, KeyUsed::Previous)))
            .find_map(|(key, used)| open_with(key, sealed, aad).map(|plain| (plain, used)))
    }
}

/// Opens a v2 value with `aad`, else a v1 value (no associated data). A v1 nonce begins with
/// the bytes of the v2 prefix once in 16 million, so a failed v2 opening still tries v1;
/// that cannot open a v2 value sealed for another workspace, whose v1 reading has no valid tag.
fn open_with(key: &XChaCha20Poly1305, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    if let Some(body) = sealed.strip_prefix(V2_PREFIX)
        && let Some(plain) = decrypt(key, body, aad)
    {
        return Some(plain);
    }
    decrypt(key, sealed, b"")
}

fn decrypt(key: &XChaCha20Poly1305, body: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let (nonce, ciphertext) = body.split_at_checked(NONCE_LEN)?;
    key.decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const OTHER_KEY: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

    fn cipher(key: &str) -> TokenCipher {
        TokenCipher::from_base64(key).unwrap()
    }

    /// A token sealed as Rapport sealed them before v2: nonce and ciphertext, no associated data.
    fn sealed_as_v1(key: &str, token: &str) -> Vec<u8> {
        let key = XChaCha20Poly1305::new_from_slice(&STANDARD.decode(key).unwrap()).unwrap();
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        [nonce.as_slice(), &key.encrypt(&nonce, token.as_bytes()).unwrap()].concat()
    }

    #[test]
    fn a_token_round_trips_and_is_not_stored_in_clear() {
        let cipher = cipher(KEY);
        let token = Secret::new("xoxb-secret-token");
        let sealed = cipher.seal("W1", &token).unwrap();
        assert!(sealed.starts_with(b"v2:"));
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(cipher.open("W1", &sealed).unwrap(), token);
        assert_ne!(sealed, cipher.seal("W1", &token).unwrap(), "a fresh nonce each time");
    }

    #[test]
    fn a_token_sealed_for_one_workspace_does_not_open_for_another() {
        let cipher = cipher(KEY);
        let sealed = cipher.seal("W1", &Secret::new("xoxb-1")).unwrap();
        assert!(cipher.open("W2", &sealed).is_err());
        assert!(cipher.open("", &sealed).is_err());
        assert_eq!(cipher.open("W1", &sealed).unwrap(), Secret::new("xoxb-1"));
    }

    #[test]
    fn a_token_sealed_before_workspaces_were_bound_still_opens() {
        let sealed = sealed_as_v1(KEY, "xoxb-old");
        assert_eq!(cipher(KEY).open("W1", &sealed).unwrap(), Secret::new("xoxb-old"));
        assert!(cipher(OTHER_KEY).open("W1", &sealed).is_err());
    }

    #[test]
    fn a_changed_ciphertext_or_another_key_does_not_open() {
        let cipher = cipher(KEY);
        let mut sealed = cipher.seal("W1", &Secret::new("xoxb-1")).unwrap();
        assert!(TokenCipher::random().open("W1", &sealed).is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(cipher.open("W1", &sealed).is_err());
        assert!(cipher.open("W1", b"v2:short").is_err());
    }

    #[test]
    fn during_a_rotation_the_previous_key_opens_and_only_the_new_one_seals() {
        let old = cipher(KEY);
        let rotating = cipher(OTHER_KEY).with_previous(cipher(KEY));
        let sealed_before = old.seal("W1", &Secret::new("xoxb-1")).unwrap();
        let sealed_v1 = sealed_as_v1(KEY, "xoxb-2");

        assert!(cipher(OTHER_KEY).open("W1", &sealed_before).is_err());
        assert_eq!(rotating.open("W1", &sealed_before).unwrap(), Secret::new("xoxb-1"));
        assert_eq!(rotating.open("W1", &sealed_v1).unwrap(), Secret::new("xoxb-2"));
        assert!(rotating.open("W2", &sealed_before).is_err(), "the previous key is bound to the workspace too");
        let resealed = rotating.seal("W1", &Secret::new("xoxb-1")).unwrap();
        assert_eq!(cipher(OTHER_KEY).open("W1", &resealed).unwrap(), Secret::new("xoxb-1"));
        assert!(old.open("W1", &resealed).is_err());
    }

    #[test]
    fn the_key_check_tells_which_key_opens_it() {
        let check = cipher(KEY).seal_check().unwrap();
        assert_eq!(cipher(KEY).open_check(&check), Some(KeyUsed::Current));
        assert_eq!(cipher(OTHER_KEY).open_check(&check), None);
        assert_eq!(cipher(OTHER_KEY).with_previous(cipher(KEY)).open_check(&check), Some(KeyUsed::Previous));
        let token = cipher(KEY).seal("token_key_checks", &Secret::new("xoxb-1")).unwrap();
        assert_eq!(cipher(KEY).open_check(&token), None, "a token is no key check");
    }

    #[test]
    fn a_malformed_key_is_refused_with_a_reason() {
        assert_eq!(TokenCipher::from_base64("not base64!").unwrap_err(), "must be base64");
        assert_eq!(TokenCipher::from_base64("c2hvcnQ=").unwrap_err(), "must decode to exactly 32 bytes");
    }
}
