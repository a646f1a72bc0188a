//! The `packs` table: named sets of questions, built in (no workspace) or a workspace's own.

use sqlx::{Any, Executor};

use super::flag;

/// What a pack is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackKind {
    /// Asked in the scheduled rounds.
    Regular,
    /// What new members get in their first week.
    FirstWeek,
}

impl PackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PackKind::Regular => "regular",
            PackKind::FirstWeek => "first_week",
        }
    }
}

impl TryFrom<String> for PackKind {
    type Error = sqlx::Error;

    fn try_from(raw: String) -> sqlx::Result<PackKind> {
        match raw.as_str() {
            "regular" => Ok(PackKind::Regular),
            "first_week" => Ok(PackKind::FirstWeek),
            other => Err(super::decode_error("packs.kind", other)),
        }
    }
}

/// A named set of questions. `workspace_id` is `None` for a built-in pack.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pack {
    pub id: String,
    pub workspace_id: Option<String>,
    pub name: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub kind: PackKind,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, row: &Pack) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO packs (id, workspace_id, name, description, kind, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.id)
    .bind(&row.workspace_id)
    .bind(&row.name)
    .bind(&row.description)
    .bind(row.kind.as_str())
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// A built-in pack as the shipped data describes it: exactly the columns an upsert sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinPack {
    pub id: String,
    pub name: String,
    pub description: String,
    pub kind: PackKind,
}

/// Inserts a built-in pack or brings its name, description and kind up to date.
pub async fn upsert_builtin<'e>(
    ex: impl Executor<'e, Database = Any>,
    row: &BuiltinPack,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO packs (id, workspace_id, name, description, kind, created_at, updated_at)
         VALUES ($1, NULL, $2, $3, $4, $5, $5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
                                        kind = excluded.kind, updated_at = excluded.updated_at",
    )
    .bind(&row.id)
    .bind(&row.name)
    .bind(&row.description)
    .bind(row.kind.as_str())
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// A pack as a workspace sees it, with whether that workspace asks from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackState {
    pub id: String,
    pub workspace_id: Option<String>,
    pub name: String,
    pub description: String,
    pub kind: PackKind,
    pub is_enabled: bool,
}

/// The workspace's own packs and the built-in ones, each with its on/off state.
pub async fn list_with_state<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
) -> sqlx::Result<Vec<PackState>> {
    let rows: Vec<(String, Option<String>, String, String, String, i64)> = sqlx::query_as(
        "SELECT k.id, k.workspace_id, k.name, k.description, k.kind, COALESCE(wp.is_enabled, 1) AS is_enabled
         FROM packs k
         LEFT JOIN workspace_packs wp ON wp.pack_id = k.id AND wp.workspace_id = $1
         WHERE k.workspace_id = $1 OR k.workspace_id IS NULL
         ORDER BY k.id",
    )
    .bind(workspace_id)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(id, workspace_id, name, description, kind, is_enabled)| {
            Ok(PackState { id, workspace_id, name, description, kind: kind.try_into()?, is_enabled: flag(is_enabled) })
        })
        .collect()
}

/// A pack the workspace can see (its own or a built-in one).
pub async fn find_visible<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    pack_id: &str,
) -> sqlx::Result<Option<Pack>> {
    sqlx::query_as("SELECT * FROM packs WHERE id = $2 AND (workspace_id = $1 OR workspace_id IS NULL)")
        .bind(workspace_id)
        .bind(pack_id)
        .fetch_optional(ex)
        .await
}

/// Renames one of the workspace's own packs; returns how many rows changed (0 or 1).
pub async fn update_name<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    pack_id: &str,
    name: &str,
    description: &str,
    now_ms: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "UPDATE packs SET name = $3, description = $4, updated_at = $5 WHERE id = $2 AND workspace_id = $1",
    )
    .bind(workspace_id)
    .bind(pack_id)
    .bind(name)
    .bind(description)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected())
}

/// Deletes one of the workspace's own packs with its questions.
pub async fn delete_own<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    pack_id: &str,
) -> sqlx::Result<u64> {
    let result = sqlx::query("DELETE FROM packs WHERE id = $2 AND workspace_id = $1")
        .bind(workspace_id)
        .bind(pack_id)
        .execute(ex)
        .await?;
    Ok(result.rows_affected())
}

/// How many prompts (asked questions, answered or not) point into a pack.
pub async fn count_prompts<'e>(ex: impl Executor<'e, Database = Any>, pack_id: &str) -> sqlx::Result<i64> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM prompts p JOIN questions q ON q.id = p.question_id WHERE q.pack_id = $1")
            .bind(pack_id)
            .fetch_one(ex)
            .await?;
    Ok(count)
}

/// Switches a pack on or off for one workspace.
pub async fn upsert_enabled<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    pack_id: &str,
    enabled: bool,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO workspace_packs (workspace_id, pack_id, is_enabled, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id, pack_id) DO UPDATE SET is_enabled = excluded.is_enabled, updated_at = excluded.updated_at",
    )
    .bind(workspace_id)
    .bind(pack_id)
    .bind(i64::from(enabled))
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}
