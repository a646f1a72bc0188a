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
