//! The `weekly_summaries` table: whether a workspace's admins get the weekly summary in
//! Slack, and when it was last sent. No row: off. Also the week's numbers the summary tells.

use sqlx::{Any, Executor};

/// A workspace whose admins get the summary, and when it was last sent.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SummaryRow {
    pub workspace_id: String,
    pub last_sent_at: Option<i64>,
}

/// Whether the workspace's admins get the summary.
pub async fn is_enabled<'e>(ex: impl Executor<'e, Database = Any>, workspace_id: &str) -> sqlx::Result<bool> {
    let enabled: Option<i64> = sqlx::query_scalar("SELECT enabled FROM weekly_summaries WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_optional(ex)
        .await?;
    Ok(enabled == Some(1))
}

/// Turns the summary on or off.
pub async fn upsert_enabled<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    enabled: bool,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO weekly_summaries (workspace_id, enabled, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
    )
    .bind(workspace_id)
    .bind(i64::from(enabled))
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// Installed workspaces with the summary on that were not sent one since `sent_before`.
pub async fn list_due<'e>(ex: impl Executor<'e, Database = Any>, sent_before: i64) -> sqlx::Result<Vec<SummaryRow>> {
    sqlx::query_as(
        "SELECT s.workspace_id, s.last_sent_at FROM weekly_summaries s
         JOIN workspaces w ON w.id = s.workspace_id
         WHERE s.enabled = 1 AND w.status = 'active' AND (s.last_sent_at IS NULL OR s.last_sent_at < $1)
         ORDER BY s.workspace_id",
    )
    .bind(sent_before)
    .fetch_all(ex)
    .await
}

/// Claims this week's summary: records it as sent at `now_ms` unless another instance did
/// since `sent_before`. Returns whether this caller sends it.
pub async fn claim<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    sent_before: i64,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE weekly_summaries SET last_sent_at = $3, updated_at = $3
         WHERE workspace_id = $1 AND enabled = 1 AND (last_sent_at IS NULL OR last_sent_at < $2)",
    )
    .bind(workspace_id)
    .bind(sent_before)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A week's numbers: members asked (a question was sent to them), members who answered,
/// and the question answered most (its text and how many answered it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekNumbers {
    pub asked: i64,
    pub answered: i64,
    pub top_question: Option<(String, i64)>,
}

/// The numbers of `workspace_id` for questions sent in `[from_ms, until_ms)`.
pub async fn week_numbers(
    ex: &mut sqlx::AnyConnection,
    workspace_id: &str,
    from_ms: i64,
    until_ms: i64,
) -> sqlx::Result<WeekNumbers> {
    let (asked, answered): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(DISTINCT p.member_id),
                COUNT(DISTINCT CASE WHEN a.id IS NOT NULL THEN p.member_id END)
         FROM prompts p LEFT JOIN answers a ON a.prompt_id = p.id
         WHERE p.workspace_id = $1 AND p.sent_at >= $2 AND p.sent_at < $3",
    )
    .bind(workspace_id)
    .bind(from_ms)
    .bind(until_ms)
    .fetch_one(&mut *ex)
    .await?;
    let top_question: Option<(String, i64)> = sqlx::query_as(
        "SELECT q.text, COUNT(*) AS answers
         FROM answers a JOIN prompts p ON p.id = a.prompt_id JOIN questions q ON q.id = p.question_id
         WHERE p.workspace_id = $1 AND p.sent_at >= $2 AND p.sent_at < $3
         GROUP BY q.id, q.text
         ORDER BY answers DESC, q.text
         LIMIT 1",
    )
    .bind(workspace_id)
    .bind(from_ms)
    .bind(until_ms)
    .fetch_optional(&mut *ex)
    .await?;
    Ok(WeekNumbers { asked, answered, top_question })
}
