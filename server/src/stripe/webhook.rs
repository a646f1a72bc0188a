//! `POST /stripe/webhook`: Stripe's events. The `Stripe-Signature` header is checked over
//! the raw body before anything is read or stored; a refused delivery gets 400 and leaves
//! no trace. An authentic event billing reads is recorded in the inbox once by its id and
//! acknowledged; the inbox worker processes it afterwards (`services::billing`), with
//! retries. Any other authentic event is acknowledged and logged. Every delivery is counted
//! by event type and outcome (`rapport_stripe_webhooks_total`).

use app::server::{
    AppState,
    secret::Secret,
    services::{billing, inbox},
};
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use super::verify::{self, Verified};

/// The webhook's state: the app, and the endpoint's signing secret (`None`: billing is off).
#[derive(Clone, Debug)]
pub struct WebhookState {
    pub app: AppState,
    pub secret: Option<Secret>,
}

/// Receives one delivery from Stripe.
#[tracing::instrument(name = "POST /stripe/webhook", skip_all)]
pub async fn receive(State(state): State<WebhookState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &state.secret else {
        return (StatusCode::NOT_FOUND, "billing is not turned on").into_response();
    };
    let Ok(payload) = std::str::from_utf8(&body) else {
        return (StatusCode::BAD_REQUEST, "the body is not UTF-8").into_response();
    };
    let signature = headers.get("stripe-signature").and_then(|value| value.to_str().ok());
    let now_secs = state.app.now_ms().div_euclid(1000);
    let metrics = &state.app.metrics;
    match verify::verify(secret, signature, payload, now_secs) {
        Err(rejection) => {
            tracing::warn!(reason = %rejection, "refused a Stripe webhook delivery");
            // Nothing of an unverified body is read, its type neither.
            metrics.count_stripe_webhook(UNKNOWN_TYPE, "refused");
            (StatusCode::BAD_REQUEST, rejection.to_string()).into_response()
        }
        Ok(Verified::Unreadable { id }) => {
            tracing::warn!(stripe.event_id = ?id, "acknowledged an authentic Stripe event this version cannot read");
            metrics.count_stripe_webhook(UNKNOWN_TYPE, "unreadable");
            StatusCode::OK.into_response()
        }
        Ok(Verified::Event(_)) => {
            let (event_type, outcome, response) = accept(&state.app, payload).await;
            metrics.count_stripe_webhook(event_type, outcome);
            response
        }
    }
}

/// The event type label of a delivery whose type is not read (refused, unreadable).
const UNKNOWN_TYPE: &str = "unknown";
/// The event type label of an authentic event billing does not read: Stripe has hundreds
/// of types, and one series each would say nothing more.
const OTHER_TYPE: &str = "other";

/// Records an event billing reads (once per id); the worker runs it. Returns the event's
/// type and the outcome to count it by, and the response.
async fn accept(state: &AppState, payload: &str) -> (&'static str, &'static str, Response) {
    let Ok(event) = serde_json::from_str::<serde_json::Value>(payload) else {
        return (UNKNOWN_TYPE, "unreadable", StatusCode::OK.into_response());
    };
    let (Some(event_id), Some(event_type)) = (event["id"].as_str(), event["type"].as_str()) else {
        tracing::warn!("acknowledged an authentic Stripe event without an id or type");
        return (UNKNOWN_TYPE, "unreadable", StatusCode::OK.into_response());
    };
    let Some(event_type) = billing::EVENT_TYPES.iter().copied().find(|read| *read == event_type) else {
        tracing::info!(stripe.event_id = %event_id, stripe.event_type = %event_type, "acknowledged a Stripe event billing does not read");
        return (OTHER_TYPE, "ignored", StatusCode::OK.into_response());
    };
    let customer = billing::customer_of_event(&event);
    match inbox::record_stripe_event(state, event_id, customer.as_deref(), event_type, payload).await {
        Ok(true) => (event_type, "recorded", StatusCode::OK.into_response()),
        Ok(false) => {
            tracing::info!(stripe.event_id = %event_id, "acknowledged a Stripe event already received");
            (event_type, "duplicate", StatusCode::OK.into_response())
        }
        Err(error) => {
            // Not stored, so not acknowledged: Stripe will deliver it again.
            tracing::error!(error = format!("{error:#}"), stripe.event_id = %event_id, "could not record a Stripe event");
            (event_type, "error", StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
    }
}
