//! The `questions` table: the questions of each pack, in the pack's order.

use sqlx::{Any, Executor};

/// A stored question.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QuestionRow {
    pub id: String,
    pub pack_id: String,
    pub text: String,
    pub position: i64,
    pub is_disabled: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A question a workspace can see, with its pack's name and its team-visible answer count.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QuestionWithCountRow {
    pub id: String,
    pub text: String,
    pub pack_name: String,
    pub answer_count: i64,
}

pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, row: &QuestionRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO questions (id, pack_id, text, position, is_disabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.id)
    .bind(&row.pack_id)
    .bind(&row.text)
    .bind(row.position)
    .bind(row.is_disabled)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// A question from one of the workspace's own or built-in packs, with its pack's name.
pub async fn find_visible<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    question_id: &str,
) -> sqlx::Result<Option<QuestionWithCountRow>> {
    sqlx::query_as(
        "SELECT q.id, q.text, k.name AS pack_name,
                (SELECT COUNT(*) FROM answers a
                 JOIN prompts p ON p.id = a.prompt_id
                 JOIN members m ON m.id = p.member_id
                 WHERE p.question_id = q.id AND a.workspace_id = $1
                   AND a.visibility = 'team' AND m.is_deleted = 0) AS answer_count
         FROM questions q
         JOIN packs k ON k.id = q.pack_id
         WHERE q.id = $2 AND (k.workspace_id = $1 OR k.workspace_id IS NULL)",
    )
    .bind(workspace_id)
    .bind(question_id)
    .fetch_optional(ex)
    .await
}

/// Every question the workspace can see, by pack id and position, with team-visible answer
/// counts. A disabled question stays listed while it has answers. (Names are sorted by the
/// caller: the two databases collate text differently.)
pub async fn list_with_answer_counts<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
) -> sqlx::Result<Vec<QuestionWithCountRow>> {
    sqlx::query_as(
        "WITH counts AS (
             SELECT p.question_id, COUNT(*) AS answer_count
             FROM answers a
             JOIN prompts p ON p.id = a.prompt_id
             JOIN members m ON m.id = p.member_id
             WHERE a.workspace_id = $1 AND a.visibility = 'team' AND m.is_deleted = 0
             GROUP BY p.question_id
         )
         SELECT q.id, q.text, k.name AS pack_name, COALESCE(c.answer_count, 0) AS answer_count
         FROM questions q
         JOIN packs k ON k.id = q.pack_id
         LEFT JOIN counts c ON c.question_id = q.id
         WHERE (k.workspace_id = $1 OR k.workspace_id IS NULL)
           AND (q.is_disabled = 0 OR c.answer_count > 0)
         ORDER BY k.id, q.position, q.id",
    )
    .bind(workspace_id)
    .fetch_all(ex)
    .await
}

/// The question to ask a member next: one they have never been asked, in pack and position
/// order; when they have seen them all, the one asked least recently.
pub async fn find_next_for_member<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    member_id: &str,
) -> sqlx::Result<Option<QuestionRow>> {
    sqlx::query_as(
        "SELECT q.* FROM questions q
         JOIN packs k ON k.id = q.pack_id
         LEFT JOIN (SELECT question_id, MAX(due_at) AS last_asked FROM prompts
                    WHERE member_id = $2 GROUP BY question_id) asked ON asked.question_id = q.id
         WHERE (k.workspace_id = $1 OR k.workspace_id IS NULL) AND q.is_disabled = 0 AND k.kind = 'regular'
         ORDER BY CASE WHEN asked.last_asked IS NULL THEN 0 ELSE 1 END, asked.last_asked,
                  k.id, q.position, q.id
         LIMIT 1",
    )
    .bind(workspace_id)
    .bind(member_id)
    .fetch_optional(ex)
    .await
}

/// A question by id, in any pack the workspace can see.
pub async fn find<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    question_id: &str,
) -> sqlx::Result<Option<QuestionRow>> {
    sqlx::query_as(
        "SELECT q.* FROM questions q JOIN packs k ON k.id = q.pack_id
         WHERE q.id = $2 AND (k.workspace_id = $1 OR k.workspace_id IS NULL)",
    )
    .bind(workspace_id)
    .bind(question_id)
    .fetch_optional(ex)
    .await
}

/// Inserts a built-in question or brings its text and position up to date (its id, and so
/// every prompt and answer that points at it, stays).
pub async fn upsert_builtin<'e>(ex: impl Executor<'e, Database = Any>, row: &QuestionRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO questions (id, pack_id, text, position, is_disabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 0, $5, $5)
         ON CONFLICT (id) DO UPDATE SET text = excluded.text, position = excluded.position,
                                        updated_at = excluded.updated_at",
    )
    .bind(&row.id)
    .bind(&row.pack_id)
    .bind(&row.text)
    .bind(row.position)
    .bind(row.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}
