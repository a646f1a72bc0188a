//! The `questions` table: the questions of each pack, in the pack's order.

use std::sync::LazyLock;

use sqlx::{Any, Executor, FromRow as _, any::AnyRow};

use super::{LIST_SLOTS, bind_slots, fetch_listed, flag, packs::PackKind};

/// A question of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: String,
    pub pack_id: String,
    pub text: String,
    pub position: i64,
    /// Switched off by an admin: never asked again, still shown while it has answers.
    pub is_disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A `questions` row as stored (flag 0/1); becomes a [`Question`].
#[derive(sqlx::FromRow)]
struct QuestionRow {
    id: String,
    pack_id: String,
    text: String,
    position: i64,
    is_disabled: i64,
    created_at: i64,
    updated_at: i64,
}

impl From<QuestionRow> for Question {
    fn from(row: QuestionRow) -> Question {
        Question {
            id: row.id,
            pack_id: row.pack_id,
            text: row.text,
            position: row.position,
            is_disabled: flag(row.is_disabled),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

fn questions(rows: Vec<QuestionRow>) -> Vec<Question> {
    rows.into_iter().map(Question::from).collect()
}

/// A question a workspace can see, with its pack's name and its team-visible answer count.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QuestionWithCountRow {
    pub id: String,
    pub text: String,
    pub pack_name: String,
    pub answer_count: i64,
}

pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, row: &Question) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO questions (id, pack_id, text, position, is_disabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.id)
    .bind(&row.pack_id)
    .bind(&row.text)
    .bind(row.position)
    .bind(i64::from(row.is_disabled))
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// A question from one of the workspace's own or built-in packs, with its pack's name and
/// its team-visible answer count (as in [`list_with_answer_counts`]).
pub async fn find_visible<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    question_id: &str,
) -> sqlx::Result<Option<QuestionWithCountRow>> {
    sqlx::query_as(
        "SELECT q.id, q.text, k.name AS pack_name, COALESCE(c.answer_count, 0) AS answer_count
         FROM questions q
         JOIN packs k ON k.id = q.pack_id
         LEFT JOIN question_answer_counts c ON c.workspace_id = $1 AND c.question_id = q.id
         WHERE q.id = $2 AND (k.workspace_id = $1 OR k.workspace_id IS NULL)",
    )
    .bind(workspace_id)
    .bind(question_id)
    .fetch_optional(ex)
    .await
}

/// Every question the workspace can see, by pack id and position, with team-visible answer
/// counts (kept by triggers, migration 21; deactivated members' answers not counted). A
/// disabled question stays listed while it has answers. (Names are sorted by the caller: the
/// two databases collate text differently.)
pub async fn list_with_answer_counts<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
) -> sqlx::Result<Vec<QuestionWithCountRow>> {
    sqlx::query_as(
        "SELECT q.id, q.text, k.name AS pack_name, COALESCE(c.answer_count, 0) AS answer_count
         FROM questions q
         JOIN packs k ON k.id = q.pack_id
         LEFT JOIN question_answer_counts c ON c.workspace_id = $1 AND c.question_id = q.id
         WHERE (k.workspace_id = $1 OR k.workspace_id IS NULL)
           AND (q.is_disabled = 0 OR c.answer_count > 0)
         ORDER BY k.id, q.position, q.id",
    )
    .bind(workspace_id)
    .fetch_all(ex)
    .await
}

/// A question by id, in any pack the workspace can see.
pub async fn find<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    question_id: &str,
) -> sqlx::Result<Option<Question>> {
    let row: Option<QuestionRow> = sqlx::query_as(
        "SELECT q.* FROM questions q JOIN packs k ON k.id = q.pack_id
         WHERE q.id = $2 AND (k.workspace_id = $1 OR k.workspace_id IS NULL)",
    )
    .bind(workspace_id)
    .bind(question_id)
    .fetch_optional(ex)
    .await?;
    Ok(row.map(Question::from))
}

/// The questions `ids` that `workspace_id` may ask (those that exist), in no particular
/// order. One statement for up to twenty ids.
pub async fn find_many<'e>(
    ex: impl Executor<'e, Database = Any> + Copy,
    workspace_id: &str,
    ids: &[&str],
) -> sqlx::Result<Vec<Question>> {
    static FIND: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT q.* FROM questions q JOIN packs k ON k.id = q.pack_id
             WHERE q.id IN ({}) AND (k.workspace_id = $1 OR k.workspace_id IS NULL)",
            bind_slots(2, LIST_SLOTS)
        )
    });
    let question = |row: &AnyRow| Ok(Question::from(QuestionRow::from_row(row)?));
    fetch_listed(ex, &FIND, ids, |query| query.bind(workspace_id), |query, id| query.bind(*id), question).await
}

/// A built-in question as the shipped data describes it: exactly the columns an upsert sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinQuestion {
    pub id: String,
    pub pack_id: String,
    pub text: String,
    pub position: i64,
}

/// Inserts a built-in question or brings its text and position up to date (its id, and so
/// every prompt and answer that points at it, stays).
pub async fn upsert_builtin<'e>(
    ex: impl Executor<'e, Database = Any>,
    row: &BuiltinQuestion,
    now_ms: i64,
) -> sqlx::Result<()> {
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
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// A pack's questions in order.
pub async fn list_for_pack<'e>(ex: impl Executor<'e, Database = Any>, pack_id: &str) -> sqlx::Result<Vec<Question>> {
    let rows: Vec<QuestionRow> = sqlx::query_as("SELECT * FROM questions WHERE pack_id = $1 ORDER BY position, id")
        .bind(pack_id)
        .fetch_all(ex)
        .await?;
    Ok(questions(rows))
}

/// Changes a question's text; returns how many rows changed.
pub async fn update_text<'e>(
    ex: impl Executor<'e, Database = Any>,
    pack_id: &str,
    question_id: &str,
    text: &str,
    now_ms: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query("UPDATE questions SET text = $3, updated_at = $4 WHERE id = $2 AND pack_id = $1")
        .bind(pack_id)
        .bind(question_id)
        .bind(text)
        .bind(now_ms)
        .execute(ex)
        .await?;
    Ok(result.rows_affected())
}

/// Moves a question to `position` within its pack.
pub async fn update_position<'e>(
    ex: impl Executor<'e, Database = Any>,
    pack_id: &str,
    question_id: &str,
    position: i64,
    now_ms: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query("UPDATE questions SET position = $3, updated_at = $4 WHERE id = $2 AND pack_id = $1")
        .bind(pack_id)
        .bind(question_id)
        .bind(position)
        .bind(now_ms)
        .execute(ex)
        .await?;
    Ok(result.rows_affected())
}

/// Switches a question off (it is not asked) or on again.
pub async fn update_disabled<'e>(
    ex: impl Executor<'e, Database = Any>,
    pack_id: &str,
    question_id: &str,
    disabled: bool,
    now_ms: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query("UPDATE questions SET is_disabled = $3, updated_at = $4 WHERE id = $2 AND pack_id = $1")
        .bind(pack_id)
        .bind(question_id)
        .bind(i64::from(disabled))
        .bind(now_ms)
        .execute(ex)
        .await?;
    Ok(result.rows_affected())
}

/// Every question of every pack the workspace can see, by pack and position (one query for
/// the admin's pack list).
pub async fn list_for_workspace_packs<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
) -> sqlx::Result<Vec<Question>> {
    let rows: Vec<QuestionRow> = sqlx::query_as(
        "SELECT q.* FROM questions q JOIN packs k ON k.id = q.pack_id
         WHERE k.workspace_id = $1 OR k.workspace_id IS NULL
         ORDER BY q.pack_id, q.position, q.id",
    )
    .bind(workspace_id)
    .fetch_all(ex)
    .await?;
    Ok(questions(rows))
}

/// The questions a workspace asks from: enabled questions of its enabled packs of `kind`,
/// by pack and position.
pub async fn list_askable<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    kind: PackKind,
) -> sqlx::Result<Vec<Question>> {
    let rows: Vec<QuestionRow> = sqlx::query_as(
        "SELECT q.* FROM questions q
         JOIN packs k ON k.id = q.pack_id
         LEFT JOIN workspace_packs wp ON wp.pack_id = k.id AND wp.workspace_id = $1
         WHERE (k.workspace_id = $1 OR k.workspace_id IS NULL) AND q.is_disabled = 0 AND k.kind = $2
           AND COALESCE(wp.is_enabled, 1) = 1
         ORDER BY k.id, q.position, q.id",
    )
    .bind(workspace_id)
    .bind(kind.as_str())
    .fetch_all(ex)
    .await?;
    Ok(questions(rows))
}
