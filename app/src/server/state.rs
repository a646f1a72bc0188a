//! `AppState`, the one shared state of the process, and `ctx`, how server functions reach it.

use std::sync::Arc;

use tokio::sync::Notify;

use super::{
    clock::SharedClock, db::Db, inbox_writer::InboxWriter, metrics::Metrics, slack::SlackGateway,
    stripe::StripeGateway, tasks::Tasks,
};
use crate::error::AppError;

/// Every shared handle of the process. Server functions, Slack handlers and background jobs
/// all reach the same handles through it; nothing keeps a second copy. The handles are
/// [`AppParts`], behind one pointer: every request, server function and task clones the
/// state, and a clone of the parts themselves was a few percent of a busy server's time
/// (BENCHMARKS.md, B1).
#[derive(Clone, Debug)]
pub struct AppState(Arc<AppParts>);

/// What [`AppState`] holds; a copy with one part changed makes another state (tests: a
/// second instance on the same database, a Slack that refuses).
#[derive(Clone, Debug)]
pub struct AppParts {
    pub db: Db,
    /// Writes what Slack and Stripe send into the inbox, many deliveries to a transaction.
    pub inbox_writer: InboxWriter,
    /// The product's time (schedules, pauses, retries); tests and demos control it.
    pub clock: SharedClock,
    /// Slack's Web API; `None` when Slack is neither configured nor emulated.
    pub slack: Option<SlackGateway>,
    /// Stripe's API; `None` when billing is off (self-hosted: nothing is limited).
    pub stripe: Option<StripeGateway>,
    /// Wakes background workers when there is new work for them.
    pub wake: Wake,
    /// Background work, started and stopped in one place.
    pub tasks: Tasks,
    /// This application's metrics (`/metrics`); each application has its own registry.
    pub metrics: Arc<Metrics>,
    /// The Slack emulator's page, when the emulator stands in for Slack (the demo): the
    /// landing page offers a way into it. `/emulator` on this server, or the page of an
    /// emulator running in a process of its own.
    pub emulator_page: Option<String>,
    /// The fictional demo team's Slack id, in the demo only (the emulator, or no Slack):
    /// anonymous visitors may browse that team read-only. `None` wherever real teams live.
    pub demo_team_id: Option<String>,
    /// Whether Sign in with Slack is set up (the `/login` page offers it).
    pub sign_in_with_slack: bool,
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
    /// The state that shares `parts` with every clone of it.
    pub fn new(parts: AppParts) -> AppState {
        AppState(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

impl AppParts {
    /// The Slack gateway, or an error for the rare path that needs Slack when it is off.
    pub fn slack(&self) -> anyhow::Result<&SlackGateway> {
        self.slack.as_ref().ok_or_else(|| anyhow::anyhow!("Slack is not configured"))
    }

    /// The product's current time (Unix ms).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// Context helpers for server functions: every server function starts with [`ctx::member`]
/// or [`ctx::admin`], so none can forget the check and no query ever takes a workspace id
/// from the client.
pub mod ctx {
    use leptos::prelude::use_context;

    use super::{AppError, AppState};
    use crate::server::viewer::{RequestViewer, Role, Viewer};

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
    /// A form posted without JavaScript keeps the redirect back to its page, which carries the
    /// error in its address for the page to show by the form (a 4xx would leave the visitor
    /// on a bare error body).
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(error) = &result {
            // Where a server function's failure is handled, so where it is logged (once).
            error.log_if_internal();
            if !is_plain_form_post() {
                crate::error::set_response_status(error.status());
            }
        }
        result
    }

    /// Whether a browser posted a form straight to a server function (no JavaScript ran):
    /// it asks for HTML back, where the pages' own calls ask for JSON.
    fn is_plain_form_post() -> bool {
        use_context::<http::request::Parts>().is_some_and(|request| {
            let accept = request.headers.get(http::header::ACCEPT).and_then(|accept| accept.to_str().ok());
            request.uri.path().starts_with("/api/") && accept.is_some_and(|accept| accept.contains("text/html"))
        })
    }

    /// Sends a browser that posted a form without JavaScript on to `url` (a 302); a page's
    /// own call gets `url` back as its answer and goes there itself.
    pub fn send_plain_form_to(url: &str) {
        if is_plain_form_post() {
            leptos_axum::redirect(url);
        }
    }

    /// Makes the server function's answer a file download named `filename` (a JSON export).
    pub fn download_as(filename: &'static str) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            let disposition = format!("attachment; filename=\"{filename}\"");
            if let Ok(value) = http::HeaderValue::from_str(&disposition) {
                response.insert_header(http::header::CONTENT_DISPOSITION, value);
            }
        }
    }

    /// Who is asking, if anyone: resolved from the session once per request, before the
    /// request is handled (the server puts a [`RequestViewer`] in it).
    pub async fn viewer() -> Result<Option<Viewer>, AppError> {
        let request = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<RequestViewer>().cloned())
            .map(|RequestViewer(viewer)| viewer);
        request.unwrap_or(Ok(None))
    }

    /// Who the header greets, from the request's already resolved viewer (no query).
    pub fn signed_in_as() -> Option<crate::features::auth::types::SignedInAs> {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<RequestViewer>().cloned())
            .and_then(|RequestViewer(viewer)| viewer.ok().flatten())
            .and_then(|viewer| viewer.signed_in_as())
    }

    /// The gate for reading team data: a signed-in member or admin, or a visitor of the demo.
    /// What only a member may change asks the viewer for [`Viewer::me`] too.
    pub async fn member() -> Result<Viewer, AppError> {
        viewer().await?.ok_or(AppError::Unauthenticated)
    }

    /// The gate for managing the workspace: an admin (Slack owner or admin, promoted member,
    /// or the self-hosted admin account).
    pub async fn admin() -> Result<Viewer, AppError> {
        let viewer = member().await?;
        match viewer.role {
            Role::Admin => Ok(viewer),
            Role::Visitor => Err(AppError::Unauthenticated),
            Role::Member => Err(AppError::Forbidden),
        }
    }
}
