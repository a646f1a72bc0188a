//! `/slack/events`: the Events API. Each event is verified, recorded in the inbox by
//! `event_id` and acknowledged at once; the inbox worker processes it afterwards, so an
//! event acknowledged just before a crash still runs after the restart.

use app::server::{AppState, services::inbox};
use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::request::SlackRequest;

/// Receives one delivery from Slack.
#[tracing::instrument(name = "POST /slack/events", skip_all)]
pub async fn receive(State(state): State<AppState>, request: SlackRequest) -> Response {
    let Ok(envelope) = serde_json::from_slice::<serde_json::Value>(&request.body) else {
        tracing::warn!("ignored a signed Slack event that is not JSON");
        return StatusCode::BAD_REQUEST.into_response();
    };
    match envelope["type"].as_str() {
        Some("url_verification") => Json(serde_json::json!({ "challenge": envelope["challenge"] })).into_response(),
        Some("event_callback") => accept(&state, &envelope, &request.body).await,
        other => {
            tracing::info!(slack.request_type = ?other, "acknowledged a Slack request of a type Rapport does not use");
            StatusCode::OK.into_response()
        }
    }
}

/// Records the event (once per `event_id`); the worker runs it.
async fn accept(state: &AppState, envelope: &serde_json::Value, body: &[u8]) -> Response {
    let Some(event_id) = envelope["event_id"].as_str() else {
        tracing::warn!("acknowledged a Slack event without an event_id");
        return StatusCode::OK.into_response();
    };
    let team_id = envelope["team_id"].as_str();
    let event_type = envelope["event"]["type"].as_str().unwrap_or("unknown");
    let payload = String::from_utf8_lossy(body);
    match inbox::record_slack_event(state, event_id, team_id, event_type, &payload).await {
        Ok(true) => StatusCode::OK.into_response(),
        Ok(false) => {
            tracing::info!(slack.event_id = %event_id, "acknowledged a Slack event already received");
            StatusCode::OK.into_response()
        }
        Err(error) => {
            // Not stored, so not acknowledged: Slack will deliver it again.
            tracing::error!(error = format!("{error:#}"), slack.event_id = %event_id, "could not record a Slack event");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
