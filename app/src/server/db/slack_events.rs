//! The `slack_events` table: Slack events already accepted, kept with their payload until
//! processed, so a retried or duplicated delivery runs once and an event acknowledged just
//! before a crash still runs after the restart.

use sqlx::{Any, Executor};

/// An accepted event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SlackEventRow {
    pub event_id: String,
    pub slack_team_id: Option<String>,
    pub event_type: String,
    pub received_at: i64,
    pub processed_at: Option<i64>,
    pub payload: String,
    pub claimed_at: Option<i64>,
}

/// Records an event. Returns `false` when the id was already recorded (a duplicate).
pub async fn insert_if_new<'e>(ex: impl Executor<'e, Database = Any>, row: &SlackEventRow) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO slack_events (event_id, slack_team_id, event_type, received_at, processed_at, payload, claimed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(&row.event_id)
    .bind(&row.slack_team_id)
    .bind(&row.event_type)
    .bind(row.received_at)
    .bind(row.processed_at)
    .bind(&row.payload)
    .bind(row.claimed_at)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Takes an unprocessed event for one worker until `now_ms + lease_ms`. Returns `false` when
/// it is processed or another worker holds it.
pub async fn claim<'e>(
    ex: impl Executor<'e, Database = Any>,
    event_id: &str,
    now_ms: i64,
    lease_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE slack_events SET claimed_at = $2
         WHERE event_id = $1 AND processed_at IS NULL AND (claimed_at IS NULL OR claimed_at <= $3)",
    )
    .bind(event_id)
    .bind(now_ms)
    .bind(now_ms - lease_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives a claimed event back (its processing failed), so a later run can take it.
pub async fn release<'e>(ex: impl Executor<'e, Database = Any>, event_id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE slack_events SET claimed_at = NULL WHERE event_id = $1 AND processed_at IS NULL")
        .bind(event_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Marks an event processed and drops its payload (it may hold what people wrote, and is
/// not needed any more). Returns `false` if another worker already did.
pub async fn update_processed<'e>(
    ex: impl Executor<'e, Database = Any>,
    event_id: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE slack_events SET processed_at = $2, payload = '' WHERE event_id = $1 AND processed_at IS NULL",
    )
    .bind(event_id)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Events accepted but not yet processed, oldest first.
pub async fn list_unprocessed<'e>(
    ex: impl Executor<'e, Database = Any>,
    limit: i64,
) -> sqlx::Result<Vec<SlackEventRow>> {
    sqlx::query_as("SELECT * FROM slack_events WHERE processed_at IS NULL ORDER BY received_at, event_id LIMIT $1")
        .bind(limit)
        .fetch_all(ex)
        .await
}

/// Forgets events processed before `before_ms` (their ids only guard against late retries).
pub async fn delete_processed_before<'e>(ex: impl Executor<'e, Database = Any>, before_ms: i64) -> sqlx::Result<u64> {
    let result = sqlx::query("DELETE FROM slack_events WHERE processed_at IS NOT NULL AND processed_at < $1")
        .bind(before_ms)
        .execute(ex)
        .await?;
    Ok(result.rows_affected())
}
