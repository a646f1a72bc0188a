//! The inbound Stripe edge: webhooks from Stripe, verified ([`verify`]) and recorded in the
//! inbox ([`webhook`]). The calls we make to Stripe live in `app::server::stripe`, the rules
//! in `app::server::services::billing`.

pub mod verify;
pub mod webhook;

use axum::{Router, extract::DefaultBodyLimit, routing::post};

use self::webhook::WebhookState;

/// Stripe's events are well under this; anything bigger is refused before it is read.
const MAX_BODY_BYTES: usize = 512 * 1024;

/// The Stripe routes, with their own state.
pub fn router(state: WebhookState) -> Router {
    Router::new()
        .route("/stripe/webhook", post(webhook::receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
