//! The `prompts` table: one question to one member for one slot. The row is also the
//! delivery job, so its status says where the question is in its life.

use sqlx::{Any, Executor};

/// A stored prompt. `status` is one of `pending`, `in_flight`, `sent`, `answered`,
/// `skipped`, `failed`, `expired` (enforced by a CHECK constraint).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PromptRow {
    pub id: String,
    pub workspace_id: String,
    pub member_id: String,
    pub question_id: String,
    pub due_at: i64,
    pub sent_at: Option<i64>,
    pub slack_message_ts: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert<'e>(
    ex: impl Executor<'e, Database = Any>,
    row: &PromptRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO prompts (id, workspace_id, member_id, question_id, due_at, sent_at,
                              slack_message_ts, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&row.id)
    .bind(&row.workspace_id)
    .bind(&row.member_id)
    .bind(&row.question_id)
    .bind(row.due_at)
    .bind(row.sent_at)
    .bind(&row.slack_message_ts)
    .bind(&row.status)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}
