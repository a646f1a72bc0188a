//! `/slack/interactions`: buttons (`block_actions`) and the answer modal
//! (`view_submission`). Slack sends these as a form with one `payload` field of JSON. Each
//! is parsed here and handed to `services::actions`; a replayed request is ignored.

use app::{
    AppError,
    features::answers::types::{AnswerText, Visibility},
    server::{
        AppState,
        services::{
            actions::{self, Action, MessageAt},
            inbox::{self, Source},
            members as roster,
        },
        slack::blocks,
    },
};
use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::request::SlackRequest;

#[derive(Debug, Deserialize)]
struct InteractionForm {
    payload: String,
}

/// The JSON `payload` of the form Slack posts; `None` when there is none or it is not JSON.
fn read_payload(body: &[u8]) -> Option<Value> {
    let form = serde_urlencoded::from_bytes::<InteractionForm>(body).ok()?;
    serde_json::from_str(&form.payload).ok()
}

/// Receives one interaction.
#[tracing::instrument(name = "POST /slack/interactions", skip_all)]
pub async fn receive(State(state): State<AppState>, request: SlackRequest) -> Response {
    let Some(payload) = read_payload(&request.body) else {
        tracing::warn!("refused a signed interaction without a JSON payload");
        return (StatusCode::BAD_REQUEST, "missing payload").into_response();
    };
    let kind = payload["type"].as_str().unwrap_or("unknown");
    // Slack gives every interaction its own trigger id; a modal submission has none, and its
    // signature (timestamp and body) names it instead.
    let request_id = payload["trigger_id"].as_str().unwrap_or(&request.signature);
    match inbox::record_handled(&state, Source::SlackInteraction, request_id, kind).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(slack.interaction_type = %kind, "ignored a replayed interaction");
            return StatusCode::OK.into_response();
        }
        Err(error) => return failed(error),
    }
    let outcome = match kind {
        "block_actions" => block_actions(&state, &payload).await.map(|()| StatusCode::OK.into_response()),
        "view_submission" => view_submission(&state, &payload).await,
        other => {
            tracing::info!(slack.interaction_type = %other, "acknowledged an interaction Rapport does not use");
            Ok(StatusCode::OK.into_response())
        }
    };
    outcome.unwrap_or_else(failed)
}

/// Logged with a reference; Slack shows the member a generic failure.
fn failed(error: anyhow::Error) -> Response {
    AppError::log_with_reference(error);
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

async fn block_actions(state: &AppState, payload: &Value) -> anyhow::Result<()> {
    let (Some(team_id), Some(user_id)) = (payload["team"]["id"].as_str(), payload["user"]["id"].as_str()) else {
        return Ok(());
    };
    let Some((workspace, member)) = roster::identify(&state.db, team_id, user_id).await?.known() else {
        return Ok(());
    };
    let button = &payload["actions"][0];
    // A prompt id on a question's buttons, an answer id on "Undo".
    let value = button["value"].as_str().unwrap_or_default().to_owned();
    let action = match button["action_id"].as_str().unwrap_or_default() {
        blocks::ACTION_ANSWER => {
            let Some(trigger_id) = payload["trigger_id"].as_str() else {
                anyhow::bail!("block_actions without a trigger_id");
            };
            Action::Answer { prompt_id: value, trigger_id: trigger_id.to_owned() }
        }
        blocks::ACTION_SKIP => Action::Skip { prompt_id: value },
        blocks::ACTION_ANOTHER => Action::Another { prompt_id: value },
        blocks::ACTION_UNDO_ANSWER => Action::Undo { answer_id: value, thanks: pressed_in(payload) },
        blocks::ACTION_ASK_NOW => Action::AskNow,
        blocks::ACTION_PAUSE => Action::Pause,
        blocks::ACTION_RESUME => Action::Resume,
        blocks::ACTION_SIGN_IN => {
            let Some(trigger_id) = payload["trigger_id"].as_str() else {
                anyhow::bail!("block_actions without a trigger_id");
            };
            Action::SignIn { trigger_id: trigger_id.to_owned() }
        }
        other => {
            tracing::info!(slack.action_id = %other, "acknowledged a button Rapport does not use");
            return Ok(());
        }
    };
    actions::press(state, &workspace, &member, action).await
}

/// The message whose button was pressed, as Slack names it (`container`).
fn pressed_in(payload: &Value) -> Option<MessageAt> {
    let container = &payload["container"];
    let channel = container["channel_id"].as_str().or_else(|| payload["channel"]["id"].as_str())?;
    let ts = container["message_ts"].as_str()?;
    Some(MessageAt { channel: channel.to_owned(), ts: ts.to_owned() })
}

/// Stores the modal's answer, or tells Slack which field to fix (the modal stays open).
async fn view_submission(state: &AppState, payload: &Value) -> anyhow::Result<Response> {
    let view = &payload["view"];
    if view["callback_id"] != blocks::MODAL_ANSWER {
        return Ok(StatusCode::OK.into_response());
    }
    let sender = match (payload["team"]["id"].as_str(), payload["user"]["id"].as_str()) {
        (Some(team_id), Some(user_id)) => roster::identify(&state.db, team_id, user_id).await?.known(),
        _ => None,
    };
    let Some((workspace, member)) = sender else {
        return Ok(field_error(blocks::BLOCK_ANSWER, "Rapport is not set up for you here."));
    };
    let values = &view["state"]["values"];
    let raw_text = values[blocks::BLOCK_ANSWER][blocks::INPUT_ANSWER]["value"].as_str().unwrap_or_default();
    let raw_visibility = values[blocks::BLOCK_VISIBILITY][blocks::INPUT_VISIBILITY]["selected_option"]["value"]
        .as_str()
        .unwrap_or("team");
    let text = match AnswerText::parse(raw_text) {
        Ok(text) => text,
        Err(AppError::Invalid { message, .. }) => return Ok(field_error(blocks::BLOCK_ANSWER, &message)),
        Err(other) => return Err(anyhow::anyhow!("{other}")),
    };
    let Ok(visibility) = Visibility::parse(raw_visibility) else {
        return Ok(field_error(blocks::BLOCK_VISIBILITY, "Choose who can see your answer."));
    };
    let prompt_id = view["private_metadata"].as_str().unwrap_or_default();
    if !actions::submit_answer(state, &workspace, &member, prompt_id, &text, visibility).await? {
        return Ok(field_error(blocks::BLOCK_ANSWER, "This question was already answered or skipped."));
    }
    Ok(StatusCode::OK.into_response())
}

fn field_error(block_id: &str, message: &str) -> Response {
    Json(json!({ "response_action": "errors", "errors": { block_id: message } })).into_response()
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::fuzzing;

    /// Keys and values of Slack's interaction payloads, so that random ones often look like one.
    const WORDS: &[&str] =
        &["type", "block_actions", "view_submission", "actions", "action_id", "value", "trigger_id", "view", "state"];

    proptest! {
        #![proptest_config(fuzzing::config(256))]

        #[test]
        fn any_body_is_a_payload_or_refused(
            body in prop_oneof![
                fuzzing::bytes(256),
                fuzzing::text(200).prop_map(|payload| format!("payload={payload}").into_bytes()),
            ],
        ) {
            let _payload = read_payload(&body);
        }

        #[test]
        fn a_payload_posted_as_a_form_reads_back_as_the_same_json(
            payload in fuzzing::json(WORDS),
            token in fuzzing::text(16),
        ) {
            let text = payload.to_string();
            let body = serde_urlencoded::to_string([("token", token.as_str()), ("payload", text.as_str())]).unwrap();

            let read = read_payload(body.as_bytes());

            // Compared with the text read directly: JSON numbers need not round-trip exactly.
            prop_assert_eq!(read, Some(serde_json::from_str::<Value>(&text).unwrap()));
        }
    }
}
