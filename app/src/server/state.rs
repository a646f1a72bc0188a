//! `AppState`, the shared state of the process, and `ctx`, how server functions reach it.

use super::db::Db;

/// What every request handler and server function can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
}

/// Context helpers for server functions: every server function that reads team data starts
/// with one of these, so no query ever takes a workspace id from the client.
pub mod ctx {
    use leptos::prelude::use_context;

    use super::AppState;
    use crate::{
        error::AppError,
        server::{db::Db, services::workspaces},
    };

    /// Who is asking: a member of one workspace.
    #[derive(Clone, Debug)]
    pub struct Viewer {
        pub db: Db,
        pub workspace_id: String,
    }

    /// The process state, provided to every server function by the router.
    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("AppState is not in the Leptos context")))
    }

    /// The viewer of a dashboard page and their workspace.
    pub async fn member() -> Result<Viewer, AppError> {
        let state = state()?;
        let workspace_id = workspaces::dashboard_workspace(&state.db).await?;
        Ok(Viewer { db: state.db, workspace_id })
    }
}
