//! The `slack_events` table: Slack event ids already accepted, so that a retried or
//! duplicated delivery is processed once.

use sqlx::{Any, Executor};

/// Records an event id. Returns `false` when the id was already recorded (a duplicate).
pub async fn insert_if_new<'e>(
    ex: impl Executor<'e, Database = Any>,
    event_id: &str,
    slack_team_id: Option<&str>,
    event_type: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO slack_events (event_id, slack_team_id, event_type, received_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id)
    .bind(slack_team_id)
    .bind(event_type)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}
