//! The `token_key_checks` table: one row, a fixed text sealed with the key this database's
//! bot tokens are sealed with, so start-up can tell a wrong `RAPPORT_TOKEN_KEY` at once.

use sqlx::{Any, Executor};

/// The stored key check, if hosted mode ever started on this database.
pub async fn find<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT ciphertext FROM token_key_checks WHERE id = 1").fetch_optional(ex).await
}

/// Stores the key check unless one is stored already (another instance may start at the same
/// time); returns whether this one was stored.
pub async fn insert_if_absent<'e>(
    ex: impl Executor<'e, Database = Any>,
    ciphertext: &[u8],
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO token_key_checks (id, ciphertext, created_at, updated_at) VALUES (1, $1, $2, $2)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(ciphertext)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Stores the key check, replacing the one stored (a key rotation).
pub async fn upsert<'e>(ex: impl Executor<'e, Database = Any>, ciphertext: &[u8], now_ms: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO token_key_checks (id, ciphertext, created_at, updated_at) VALUES (1, $1, $2, $2)
         ON CONFLICT (id) DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
    )
    .bind(ciphertext)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}
