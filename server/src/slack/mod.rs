//! The Slack edge: verified endpoints for events and the slash command, the Web API client,
//! and the Block Kit Rapport sends.

pub mod asking;
pub mod blocks;
pub mod client;
pub mod commands;
pub mod events;
pub mod interactions;
pub mod manifest;
pub mod profile;
pub mod sharing;
pub mod verify;

use app::server::db::Db;
use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};

use self::{client::SlackApi, verify::SigningSecret};
use crate::routes::ServerState;

/// Slack's requests are small; anything bigger is refused before it is read.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the Slack endpoints need.
#[derive(Clone, Debug)]
pub struct SlackState {
    pub signing_secret: SigningSecret,
    pub api: SlackApi,
    pub db: Db,
}

/// `/slack/events` and `/slack/commands`.
pub fn router() -> Router<ServerState> {
    Router::new()
        .route("/slack/events", post(events::receive))
        .route("/slack/commands", post(commands::receive))
        .route("/slack/interactions", post(interactions::receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .route("/slack/manifest", get(manifest::serve))
}

/// Checks a request's Slack signature.
fn verify_request(slack: &SlackState, headers: &HeaderMap, body: &[u8]) -> Result<(), verify::Rejection> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    verify::verify(
        &slack.signing_secret,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        body,
        chrono::Utc::now().timestamp(),
    )
    .inspect_err(|rejection| {
        tracing::warn!(reason = %rejection, "refused a request that is not verifiably from Slack");
    })
}

/// A refused request is a 401 with the short reason.
impl IntoResponse for verify::Rejection {
    fn into_response(self) -> Response {
        (StatusCode::UNAUTHORIZED, self.to_string()).into_response()
    }
}

/// The answer when Slack is neither configured nor emulated.
fn not_configured() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "Slack is not configured").into_response()
}
