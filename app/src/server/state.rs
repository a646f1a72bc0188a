//! `AppState`, the shared state of the process, and `ctx`, how server functions reach it.

use super::{clock::SharedClock, db::Db};

/// What every request handler and server function can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    /// Whether the dashboard shows team data without sign-in: the demo does; a real
    /// workspace does not, until Sign in with Slack lands.
    pub dashboard_open: bool,
    /// The product's time (schedules, pauses); tests and demos control it.
    pub clock: SharedClock,
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

    /// The product's current time (Unix ms), from the process clock.
    pub fn now_ms() -> i64 {
        state().map_or_else(|_| crate::server::now_ms(), |state| state.clock.now_ms())
    }

    /// Gives the HTTP response of a failed server function the error's status (401, 404, ...)
    /// instead of a blanket 500; during server rendering the page's status is set the same way.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(error) = &result {
            crate::error::set_response_status(error.status());
        }
        result
    }

    /// An admin of the viewer's workspace. Until Sign in with Slack lands this is whoever may
    /// see the dashboard at all (only the demo, see `AppState::dashboard_open`); then it
    /// will also check the member's admin flag.
    pub async fn admin() -> Result<Viewer, AppError> {
        member().await
    }

    /// The viewer of a dashboard page and their workspace.
    pub async fn member() -> Result<Viewer, AppError> {
        let state = state()?;
        if !state.dashboard_open {
            return Err(AppError::Unauthenticated);
        }
        let workspace_id = workspaces::dashboard_workspace(&state.db).await?;
        Ok(Viewer { db: state.db, workspace_id })
    }
}
