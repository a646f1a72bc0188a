//! The `workspaces` table: one row per Slack workspace (team) using Rapport.

use sqlx::{Any, Executor};

/// A stored workspace.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WorkspaceRow {
    pub id: String,
    pub slack_team_id: String,
    pub name: String,
    pub default_time_zone: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert<'e>(
    ex: impl Executor<'e, Database = Any>,
    row: &WorkspaceRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO workspaces (id, slack_team_id, name, default_time_zone, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&row.id)
    .bind(&row.slack_team_id)
    .bind(&row.name)
    .bind(&row.default_time_zone)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find_by_slack_team_id<'e>(
    ex: impl Executor<'e, Database = Any>,
    slack_team_id: &str,
) -> sqlx::Result<Option<WorkspaceRow>> {
    sqlx::query_as("SELECT * FROM workspaces WHERE slack_team_id = $1")
        .bind(slack_team_id)
        .fetch_optional(ex)
        .await
}

/// The first `limit` workspaces, oldest first.
pub async fn list<'e>(
    ex: impl Executor<'e, Database = Any>,
    limit: i64,
) -> sqlx::Result<Vec<WorkspaceRow>> {
    sqlx::query_as("SELECT * FROM workspaces ORDER BY created_at, id LIMIT $1")
        .bind(limit)
        .fetch_all(ex)
        .await
}
