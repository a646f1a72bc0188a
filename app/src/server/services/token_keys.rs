//! The key that seals installed bot tokens (`RAPPORT_TOKEN_KEY`, hosted mode): checked at every
//! start, so a wrong key stops the server at once instead of failing on each workspace's
//! token later, and rotated by `rapport rotate-token-key`.

use anyhow::Context as _;

use crate::server::{
    db::{Db, token_key_checks, workspaces},
    slack::tokens::{KeyUsed, TokenCipher},
};

/// Why start-up or a rotation refuses the configured keys.
pub const WRONG_KEY: &str = "RAPPORT_TOKEN_KEY is not the key this database's tokens were sealed with (nor is \
    RAPPORT_TOKEN_KEY_PREVIOUS): set the key they were sealed with; to change keys, set the old one as \
    RAPPORT_TOKEN_KEY_PREVIOUS and the new one as RAPPORT_TOKEN_KEY, then run `rapport rotate-token-key`";

/// Checks that the configured keys are this database's: the stored key check must open with
/// one of them. The first start stores the check, once the tokens stored before it (if any)
/// are seen to open. Returns which key opened the check.
pub async fn check(db: &Db, cipher: &TokenCipher, now_ms: i64) -> anyhow::Result<KeyUsed> {
    let stored = match token_key_checks::find(db.pool()).await.context("reading the token key check")? {
        Some(stored) => stored,
        None => {
            // A database from before the check: its tokens tell whether the key is theirs.
            let tokens =
                workspaces::list_sealed_bot_tokens(db.pool()).await.context("reading the stored bot tokens")?;
            let opens =
                tokens.iter().any(|token| cipher.open(&token.workspace_id, &token.bot_token_ciphertext).is_ok());
            anyhow::ensure!(tokens.is_empty() || opens, WRONG_KEY);
            let stored_here = token_key_checks::insert_if_absent(db.pool(), &cipher.seal_check()?, now_ms)
                .await
                .context("storing the token key check")?;
            if stored_here {
                tracing::info!("stored the token key check: later starts need this RAPPORT_TOKEN_KEY");
            }
            // Another instance starting at the same moment may have stored its check first.
            token_key_checks::find(db.pool())
                .await
                .context("reading the token key check")?
                .context("the token key check was not stored")?
        }
    };
    let used = cipher.open_check(&stored).ok_or_else(|| anyhow::anyhow!(WRONG_KEY))?;
    if used == KeyUsed::Previous {
        tracing::warn!(
            "this database's tokens are sealed with RAPPORT_TOKEN_KEY_PREVIOUS: run `rapport rotate-token-key` \
             to seal them with RAPPORT_TOKEN_KEY"
        );
    }
    Ok(used)
}

/// Re-seals every stored bot token with the current key (each opened with the current or the
/// previous key) and stores a new key check, in one transaction; returns how many tokens it
/// re-sealed. Afterwards the previous key opens nothing that is needed.
pub async fn rotate(db: &Db, cipher: &TokenCipher, now_ms: i64) -> anyhow::Result<u64> {
    let mut tx = db.begin_write().await.context("starting the key rotation")?;
    let stored_check = token_key_checks::find(&mut *tx).await.context("reading the token key check")?;
    anyhow::ensure!(stored_check.is_none_or(|check| cipher.open_check(&check).is_some()), WRONG_KEY);
    let tokens = workspaces::list_sealed_bot_tokens(&mut *tx).await.context("reading the stored bot tokens")?;
    let mut resealed = 0;
    for token in tokens {
        let plain = cipher
            .open(&token.workspace_id, &token.bot_token_ciphertext)
            .with_context(|| format!("re-sealing the bot token of workspace {}", token.workspace_id))?;
        let sealed = cipher.seal(&token.workspace_id, &plain)?;
        // A re-install meanwhile (PostgreSQL, another instance) keeps its token, sealed with the current key.
        if workspaces::update_resealed_bot_token(&mut *tx, &token.workspace_id, &token.bot_token_ciphertext, &sealed)
            .await
            .context("storing a re-sealed bot token")?
        {
            resealed += 1;
        }
    }
    token_key_checks::upsert(&mut *tx, &cipher.seal_check()?, now_ms).await.context("storing the token key check")?;
    tx.commit().await.context("committing the key rotation")?;
    Ok(resealed)
}
