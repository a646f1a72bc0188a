//! `AppState`, the one shared state of the process, and `ctx`, how server functions reach it.

use std::sync::Arc;

use tokio::sync::Notify;

use super::{clock::SharedClock, db::Db, slack::SlackGateway, tasks::Tasks};
use crate::error::AppError;

/// Every shared handle of the process. Server functions, Slack handlers and background jobs
/// all reach the same handles through it; nothing keeps a second copy.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    /// The product's time (schedules, pauses, retries); tests and demos control it.
    pub clock: SharedClock,
    /// Slack's Web API; `None` when Slack is neither configured nor emulated.
    pub slack: Option<SlackGateway>,
    /// Wakes background workers when there is new work for them.
    pub wake: Wake,
    /// Background work, started and stopped in one place.
    pub tasks: Tasks,
    /// Slack is the built-in emulator (the demo): the landing page offers a way into it.
    pub emulated: bool,
    /// Whether the dashboard shows team data without sign-in: the demo does; a real
    /// workspace does not, until Sign in with Slack lands.
    pub dashboard_open: bool,
    /// Where Slack and browsers reach this server (no trailing slash).
    pub public_url: String,
}

/// Wake-ups for the background workers, so work asked for in a request starts at once
/// instead of at the worker's next tick.
#[derive(Clone, Debug, Default)]
pub struct Wake {
    /// A question was asked on demand: the dispatcher delivers it now.
    pub dispatcher: Arc<Notify>,
    /// Something landed in the inbox: the inbox worker runs it now.
    pub inbox: Arc<Notify>,
    /// An inbox item finished (processed, retried or given up): whoever drains the inbox
    /// looks again.
    pub inbox_done: Arc<Notify>,
}

impl AppState {
    /// The Slack gateway, or an error for the rare path that needs Slack when it is off.
    pub fn slack(&self) -> anyhow::Result<&SlackGateway> {
        self.slack.as_ref().ok_or_else(|| anyhow::anyhow!("Slack is not configured"))
    }

    /// The product's current time (Unix ms).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// Context helpers for server functions: every server function that reads team data starts
/// with one of these, so no query ever takes a workspace id from the client.
pub mod ctx {
    use leptos::prelude::use_context;

    use super::{AppError, AppState};
    use crate::server::{db::Db, services::workspaces};

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
            // Where a server function's failure is handled, so where it is logged (once).
            error.log_if_internal();
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
