//! Server functions of the landing page.

use leptos::prelude::*;

use crate::error::AppError;

/// Whether the built-in Slack emulator stands in for Slack (the demo), so a visitor can try
/// Rapport as a member.
#[server(prefix = "/api", endpoint = "home/emulated")]
pub async fn is_emulated() -> Result<bool, AppError> {
    use crate::server::ctx;

    ctx::respond(ctx::state().map(|state| state.emulated))
}
