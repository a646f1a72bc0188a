//! Which workspace a request belongs to.

use crate::{
    error::AppError,
    server::db::{Db, workspaces},
};

/// The workspace the dashboard shows.
///
/// Until Sign in with Slack lands, the dashboard serves a single-workspace (self-hosted or
/// demo) install: the one workspace in the database. With several workspaces nobody can be
/// told apart yet, so nothing is shown rather than the wrong team's data.
pub async fn dashboard_workspace(db: &Db) -> Result<String, AppError> {
    let mut found = workspaces::list(db.pool(), 2).await?;
    match (found.pop(), found.is_empty()) {
        (Some(only), true) => Ok(only.id),
        (Some(_), false) => Err(AppError::Unauthenticated),
        (None, _) => Err(AppError::NotFound),
    }
}

/// The workspace Slack calls `slack_team_id`, if Rapport knows it and it is still installed.
pub async fn find_active(db: &Db, slack_team_id: &str) -> Result<Option<workspaces::Workspace>, AppError> {
    let found = workspaces::find_by_slack_team_id(db.pool(), slack_team_id).await?;
    Ok(found.filter(workspaces::Workspace::is_active))
}

/// Stops everything for a workspace after `app_uninstalled` or `tokens_revoked` (either order,
/// any number of times). Returns whether Rapport knew the workspace.
pub async fn uninstall(db: &Db, slack_team_id: &str, now_ms: i64) -> Result<bool, AppError> {
    Ok(workspaces::update_uninstalled(db.pool(), slack_team_id, now_ms).await?)
}
