//! The `sessions` table: browser sessions, stored for tower-sessions.

use sqlx::{Any, Executor};

/// A stored session: JSON data and when it stops being valid (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub data: String,
    pub expires_at: i64,
}

/// Stores a new session; returns `false` if the id is taken.
pub async fn insert_if_new<'e>(ex: impl Executor<'e, Database = Any>, row: &SessionRow) -> sqlx::Result<bool> {
    let result =
        sqlx::query("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
            .bind(&row.id)
            .bind(&row.data)
            .bind(row.expires_at)
            .execute(ex)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// Stores a session, replacing the one with the same id.
pub async fn upsert<'e>(ex: impl Executor<'e, Database = Any>, row: &SessionRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
    )
    .bind(&row.id)
    .bind(&row.data)
    .bind(row.expires_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// A session that has not expired at `now_ms`.
pub async fn find_valid<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    now_ms: i64,
) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as("SELECT * FROM sessions WHERE id = $1 AND expires_at > $2")
        .bind(id)
        .bind(now_ms)
        .fetch_optional(ex)
        .await
}

pub async fn delete<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(ex).await?;
    Ok(())
}

/// Removes sessions that expired before `now_ms`.
pub async fn delete_expired<'e>(ex: impl Executor<'e, Database = Any>, now_ms: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now_ms).execute(ex).await?.rows_affected())
}
