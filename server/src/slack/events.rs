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

/// What one delivery to `/slack/events` is, read from its JSON envelope.
#[derive(Debug, PartialEq)]
enum Delivery {
    /// Slack checking the endpoint while the app is set up: the reply echoes the challenge.
    UrlVerification { challenge: serde_json::Value },
    /// An event to record and run; `event_id` names it.
    Event { event_id: String, team_id: Option<String>, event_type: String },
    /// An event without an `event_id`, which nothing could record once.
    Unnamed,
    /// A request of a type Rapport does not use.
    Other(Option<String>),
}

impl Delivery {
    /// Reads a delivery's body; an error when it is not JSON.
    fn read(body: &[u8]) -> serde_json::Result<Delivery> {
        let envelope: serde_json::Value = serde_json::from_slice(body)?;
        Ok(match envelope["type"].as_str() {
            Some("url_verification") => Delivery::UrlVerification { challenge: envelope["challenge"].clone() },
            Some("event_callback") => match envelope["event_id"].as_str() {
                Some(event_id) => Delivery::Event {
                    event_id: event_id.to_owned(),
                    team_id: envelope["team_id"].as_str().map(str::to_owned),
                    event_type: envelope["event"]["type"].as_str().unwrap_or("unknown").to_owned(),
                },
                None => Delivery::Unnamed,
            },
            other => Delivery::Other(other.map(str::to_owned)),
        })
    }
}

/// Receives one delivery from Slack.
#[tracing::instrument(name = "POST /slack/events", skip_all)]
pub async fn receive(State(state): State<AppState>, request: SlackRequest) -> Response {
    let Ok(delivery) = Delivery::read(&request.body) else {
        tracing::warn!("ignored a signed Slack event that is not JSON");
        return StatusCode::BAD_REQUEST.into_response();
    };
    match delivery {
        Delivery::UrlVerification { challenge } => Json(serde_json::json!({ "challenge": challenge })).into_response(),
        Delivery::Event { event_id, team_id, event_type } => {
            accept(&state, &event_id, team_id.as_deref(), &event_type, &request.body).await
        }
        Delivery::Unnamed => {
            tracing::warn!("acknowledged a Slack event without an event_id");
            StatusCode::OK.into_response()
        }
        Delivery::Other(other) => {
            tracing::info!(slack.request_type = ?other, "acknowledged a Slack request of a type Rapport does not use");
            StatusCode::OK.into_response()
        }
    }
}

/// Records the event (once per `event_id`); the worker runs it.
async fn accept(state: &AppState, event_id: &str, team_id: Option<&str>, event_type: &str, body: &[u8]) -> Response {
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

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::fuzzing;

    /// Keys and values of Slack's envelopes, so that random documents often look like one.
    const WORDS: &[&str] =
        &["type", "url_verification", "event_callback", "challenge", "event_id", "team_id", "event", "message"];

    proptest! {
        #![proptest_config(fuzzing::config(256))]

        #[test]
        fn any_body_is_a_delivery_unless_it_is_not_json(
            body in prop_oneof![fuzzing::bytes(256), fuzzing::json(WORDS).prop_map(|doc| doc.to_string().into_bytes())],
        ) {
            let delivery = Delivery::read(&body);

            prop_assert_eq!(delivery.is_ok(), serde_json::from_slice::<Value>(&body).is_ok());
        }

        #[test]
        fn an_event_envelope_reads_as_its_id_team_and_type(
            event_id in fuzzing::text(24),
            team_id in prop::option::of(fuzzing::text(12)),
            event_type in prop::option::of(fuzzing::text(24)),
            rest in fuzzing::json(WORDS),
        ) {
            let event = match &event_type {
                Some(kind) => json!({ "type": kind, "rest": rest }),
                None => json!([rest]),
            };
            let mut envelope = json!({ "type": "event_callback", "event_id": event_id, "event": event });
            if let Some(team_id) = &team_id {
                envelope["team_id"] = json!(team_id);
            }

            let delivery = Delivery::read(envelope.to_string().as_bytes());

            let event_type = event_type.unwrap_or_else(|| "unknown".to_owned());
            prop_assert_eq!(delivery.ok(), Some(Delivery::Event { event_id, team_id, event_type }));
        }

        #[test]
        fn a_url_check_gets_its_challenge_back(challenge in fuzzing::text(80)) {
            let body = json!({ "token": "legacy", "challenge": challenge, "type": "url_verification" }).to_string();

            let delivery = Delivery::read(body.as_bytes());

            prop_assert_eq!(delivery.ok(), Some(Delivery::UrlVerification { challenge: json!(challenge) }));
        }
    }
}
