//! The Slack edge: verified endpoints for events and the slash command, the Web API client,
//! and the Block Kit Rapport sends.

pub mod asking;
pub mod blocks;
pub mod client;
pub mod commands;
pub mod events;
pub mod home;
pub mod install;
pub mod interactions;
pub mod manifest;
pub mod profile;
pub mod sharing;
pub mod tokens;
pub mod verify;

use std::sync::Arc;

use anyhow::Context as _;
use app::server::{
    clock::SharedClock,
    db::{Db, workspaces::WorkspaceRow},
};
use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};

use self::{
    client::{SlackApi, SlackConnection},
    tokens::TokenCipher,
    verify::SigningSecret,
};
use crate::routes::ServerState;

/// Slack's requests are small; anything bigger is refused before it is read.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the Slack endpoints need.
#[derive(Clone, Debug)]
pub struct SlackState {
    pub signing_secret: SigningSecret,
    pub connection: SlackConnection,
    pub db: Db,
    /// The bot token of the one workspace of a self-hosted or emulated install.
    pub fixed_token: Option<String>,
    /// "Add to Slack" installs, when configured.
    pub oauth: Option<OAuthSettings>,
    /// Accepted events on their way to the worker.
    pub events: events::EventQueue,
    /// The product's time: schedules, pauses, retries.
    pub clock: SharedClock,
    /// Wakes the dispatcher when a question is asked on demand, so it goes out at once.
    pub dispatch_wake: Arc<tokio::sync::Notify>,
}

/// The app's OAuth credentials and where installers approve the app.
#[derive(Clone, Debug)]
pub struct OAuthSettings {
    pub client_id: String,
    pub client_secret: String,
    /// Slack's authorize page (`https://slack.com/oauth/v2/authorize`, or the emulator's).
    pub authorize_url: String,
    /// Seals the bot tokens installs store.
    pub cipher: TokenCipher,
}

impl SlackState {
    /// The Web API as `workspace`'s bot: its stored token from an install, else the token
    /// from the environment.
    pub fn api_for(&self, workspace: &WorkspaceRow) -> anyhow::Result<SlackApi> {
        let stored = match (&workspace.bot_token_ciphertext, &self.oauth) {
            (Some(sealed), Some(oauth)) => {
                Some(oauth.cipher.decrypt(sealed).context("opening the workspace's bot token"))
            }
            _ => None,
        };
        match (stored, self.fixed_token.as_deref()) {
            (Some(Ok(token)), _) => Ok(self.connection.with_token(&token)),
            // The emulator seals with a key of one process; after a restart its fixed token serves.
            (Some(Err(_)) | None, Some(fixed)) => Ok(self.connection.with_token(fixed)),
            (Some(Err(error)), None) => Err(error),
            (None, None) => anyhow::bail!("the workspace has no bot token"),
        }
    }
}

/// `/slack/events` and `/slack/commands`.
pub fn router() -> Router<ServerState> {
    Router::new()
        .route("/slack/events", post(events::receive))
        .route("/slack/commands", post(commands::receive))
        .route("/slack/interactions", post(interactions::receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .route("/slack/manifest", get(manifest::serve))
        .route("/slack/install", get(install::start))
        .route("/slack/oauth/callback", get(install::callback))
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
