//! The `packs` table: named sets of questions, built in (no workspace) or a workspace's own.

use sqlx::{Any, Executor};

/// A stored pack. `workspace_id` is `None` for a built-in pack.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PackRow {
    pub id: String,
    pub workspace_id: Option<String>,
    pub name: String,
    pub description: String,
    /// `regular`, or `first_week` for the pack new members get first.
    pub kind: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, row: &PackRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO packs (id, workspace_id, name, description, kind, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.id)
    .bind(&row.workspace_id)
    .bind(&row.name)
    .bind(&row.description)
    .bind(&row.kind)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// Inserts a built-in pack or brings its name and description up to date.
pub async fn upsert_builtin<'e>(ex: impl Executor<'e, Database = Any>, row: &PackRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO packs (id, workspace_id, name, description, kind, created_at, updated_at)
         VALUES ($1, NULL, $2, $3, $4, $5, $5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
                                        kind = excluded.kind, updated_at = excluded.updated_at",
    )
    .bind(&row.id)
    .bind(&row.name)
    .bind(&row.description)
    .bind(&row.kind)
    .bind(row.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}
