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

pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, row: &PromptRow) -> sqlx::Result<()> {
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

/// The member's open prompt (sent and not yet answered or skipped), if any. There is at
/// most one; the newest wins if older data says otherwise.
pub async fn find_open_for_member<'e>(
    ex: impl Executor<'e, Database = Any>,
    member_id: &str,
) -> sqlx::Result<Option<PromptRow>> {
    sqlx::query_as(
        "SELECT * FROM prompts
         WHERE member_id = $1 AND status IN ('pending', 'in_flight', 'sent')
         ORDER BY due_at DESC, id DESC
         LIMIT 1",
    )
    .bind(member_id)
    .fetch_optional(ex)
    .await
}

/// Records that a prompt in flight reached Slack as message `ts`. Returns `false` if it was
/// no longer in flight (a state never moves backwards).
pub async fn update_sent<'e>(
    ex: impl Executor<'e, Database = Any>,
    prompt_id: &str,
    slack_message_ts: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE prompts SET status = 'sent', sent_at = $3, slack_message_ts = $2, updated_at = $3
         WHERE id = $1 AND status = 'in_flight'",
    )
    .bind(prompt_id)
    .bind(slack_message_ts)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Moves a prompt from `from` to `to`. Returns `false` when it was not in `from` (someone
/// else got there first), so callers never act twice on one prompt.
pub async fn update_status<'e>(
    ex: impl Executor<'e, Database = Any>,
    prompt_id: &str,
    from: &str,
    to: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query("UPDATE prompts SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2")
        .bind(prompt_id)
        .bind(from)
        .bind(to)
        .bind(now_ms)
        .execute(ex)
        .await?;
    Ok(result.rows_affected() == 1)
}
