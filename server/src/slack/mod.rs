//! The inbound Slack edge: requests Slack sends us (events, interactions, slash commands),
//! the "Add to Slack" redirects and the app manifest. Each handler verifies (through
//! [`request::SlackRequest`]), parses, calls one service and renders the reply; the rules
//! live in `app::server::services` and the Web API client in `app::server::slack`.

pub mod commands;
pub mod events;
pub mod install;
pub mod interactions;
pub mod manifest;
pub mod request;
pub mod verify;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};

use crate::state::ServerState;

/// Slack's requests are small; anything bigger is refused before it is read.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every Slack route.
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
