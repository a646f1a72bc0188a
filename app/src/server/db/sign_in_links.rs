//! The `sign_in_links` table: one-time sign-in links handed out in Slack, kept as a hash of
//! their token.

use sqlx::{Any, Executor};

/// A link as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SignInLink {
    pub token_hash: String,
    pub workspace_id: String,
    pub member_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, link: &SignInLink) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sign_in_links (token_hash, workspace_id, member_id, created_at, expires_at, used_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&link.token_hash)
    .bind(&link.workspace_id)
    .bind(&link.member_id)
    .bind(link.created_at)
    .bind(link.expires_at)
    .bind(link.used_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// Marks the link used and returns it, if it is unused and unexpired at `now_ms`: one
/// statement, so two tabs opening the same link cannot both get it.
pub async fn redeem<'e>(
    ex: impl Executor<'e, Database = Any>,
    token_hash: &str,
    now_ms: i64,
) -> sqlx::Result<Option<SignInLink>> {
    sqlx::query_as(
        "UPDATE sign_in_links SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING *",
    )
    .bind(token_hash)
    .bind(now_ms)
    .fetch_optional(ex)
    .await
}

/// Removes links that expired before `now_ms`, used or not.
pub async fn delete_expired<'e>(ex: impl Executor<'e, Database = Any>, now_ms: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM sign_in_links WHERE expires_at <= $1").bind(now_ms).execute(ex).await?.rows_affected())
}
