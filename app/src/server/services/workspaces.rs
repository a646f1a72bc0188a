//! Which workspace a request belongs to.

use crate::{
    error::AppError,
    server::db::{Db, workspaces},
};

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
