//! Server functions of the landing page.

use leptos::prelude::*;

use crate::error::AppError;

/// The Slack emulator's page when the emulator stands in for Slack (the demo), so a visitor
/// can try Rapport as a member; `None` with a real Slack.
#[server(prefix = "/api", endpoint = "home/emulator")]
pub async fn emulator_page() -> Result<Option<String>, AppError> {
    use crate::server::ctx;

    ctx::respond(ctx::state().map(|state| state.emulator_page.clone()))
}
