//! The `schedules` table: when each workspace's members are asked. No row means the
//! defaults (`services::schedule::Schedule::default`).

use sqlx::{Any, Executor};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScheduleRow {
    pub workspace_id: String,
    /// Bit 0 is Monday ... bit 6 is Sunday.
    pub weekdays: i64,
    /// Minutes after local midnight.
    pub local_minute: i64,
    /// `daily`, `twice_weekly`, `weekly` or `biweekly`.
    pub cadence: String,
    pub updated_at: i64,
}

pub async fn find<'e>(ex: impl Executor<'e, Database = Any>, workspace_id: &str) -> sqlx::Result<Option<ScheduleRow>> {
    sqlx::query_as("SELECT * FROM schedules WHERE workspace_id = $1").bind(workspace_id).fetch_optional(ex).await
}

pub async fn upsert<'e>(ex: impl Executor<'e, Database = Any>, row: &ScheduleRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO schedules (workspace_id, weekdays, local_minute, cadence, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (workspace_id) DO UPDATE SET
             weekdays = excluded.weekdays, local_minute = excluded.local_minute, cadence = excluded.cadence,
             updated_at = excluded.updated_at",
    )
    .bind(&row.workspace_id)
    .bind(row.weekdays)
    .bind(row.local_minute)
    .bind(&row.cadence)
    .bind(row.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}
