//! `/slack/interactions`: buttons (`block_actions`) and the answer modal
//! (`view_submission`). Slack sends these as a form with one `payload` field of JSON.

use anyhow::Context as _;
use app::{
    AppError,
    features::answers::types::{AnswerText, Visibility},
    server::{
        db::{members, members::MemberRow, prompts as prompt_rows, questions, workspaces::WorkspaceRow},
        services::{answers as answering, members as roster, prompts, workspaces},
    },
};
use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{SlackState, asking, blocks, home, not_configured, sharing, verify_request};
use crate::routes::ServerState;

#[derive(Debug, Deserialize)]
struct InteractionForm {
    payload: String,
}

/// Receives one interaction.
pub async fn receive(State(state): State<ServerState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(slack) = state.slack else { return not_configured() };
    if let Err(rejection) = verify_request(&slack, &headers, &body) {
        return rejection.into_response();
    }
    let payload = serde_urlencoded::from_bytes::<InteractionForm>(&body)
        .ok()
        .and_then(|form| serde_json::from_str::<Value>(&form.payload).ok());
    let Some(payload) = payload else {
        tracing::warn!("refused a signed interaction without a JSON payload");
        return (StatusCode::BAD_REQUEST, "missing payload").into_response();
    };
    let outcome = match payload["type"].as_str() {
        Some("block_actions") => block_actions(&slack, &payload).await.map(|()| StatusCode::OK.into_response()),
        Some("view_submission") => view_submission(&slack, &payload).await,
        other => {
            tracing::info!(slack.interaction_type = ?other, "acknowledged an interaction Rapport does not use");
            Ok(StatusCode::OK.into_response())
        }
    };
    outcome.unwrap_or_else(|error| {
        // Logged with a reference; Slack shows the member a generic failure.
        AppError::log_with_reference(error);
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

/// The workspace and member an interaction comes from, if Rapport knows both.
async fn sender(slack: &SlackState, payload: &Value) -> anyhow::Result<Option<(WorkspaceRow, MemberRow)>> {
    let (Some(team_id), Some(user_id)) = (payload["team"]["id"].as_str(), payload["user"]["id"].as_str()) else {
        return Ok(None);
    };
    let Some(workspace) = workspaces::find_active(&slack.db, team_id).await? else { return Ok(None) };
    let member = members::find_by_slack_user_id(slack.db.pool(), &workspace.id, user_id).await?;
    Ok(member.map(|member| (workspace, member)))
}

async fn block_actions(slack: &SlackState, payload: &Value) -> anyhow::Result<()> {
    let Some((workspace, member)) = sender(slack, payload).await? else { return Ok(()) };
    let action = &payload["actions"][0];
    let prompt_id = action["value"].as_str().unwrap_or_default();
    let dm = member.dm_channel_id.clone().unwrap_or_else(|| member.slack_user_id.clone());
    let now = slack.clock.now_ms();
    match action["action_id"].as_str().unwrap_or_default() {
        blocks::ACTION_ANSWER => {
            let Some(open) = open_prompt(slack, &member, prompt_id).await? else {
                return say(slack, &workspace, &dm, "That question is closed; type `/rapport ask` for a new one.")
                    .await;
            };
            let question = questions::find(slack.db.pool(), &member.workspace_id, &open.question_id).await?;
            let trigger_id = payload["trigger_id"].as_str().context("block_actions without a trigger_id")?;
            let view = blocks::answer_modal(&question.map(|q| q.text).unwrap_or_default(), &open.id);
            slack.api_for(&workspace)?.open_view(trigger_id, view).await.context("opening the answer modal")?;
        }
        blocks::ACTION_SKIP => {
            let reply = if prompts::skip(&slack.db, &member, prompt_id, now).await? {
                "Skipped. See you next time!"
            } else {
                "That question is already closed."
            };
            say(slack, &workspace, &dm, reply).await?;
        }
        blocks::ACTION_ANOTHER => {
            let asked = asking::ask_another(slack, &workspace, &member, prompt_id).await?;
            // The new question itself is the answer to the button; anything else needs words.
            if asked != asking::Asked::Sent {
                say(slack, &workspace, &dm, &asked.reply()).await?;
            }
        }
        blocks::ACTION_ASK_NOW => {
            let reply = asking::ask(slack, &workspace, &member).await?.reply();
            say(slack, &workspace, &dm, &reply).await?;
        }
        blocks::ACTION_PAUSE | blocks::ACTION_RESUME => {
            let pausing = action["action_id"] == blocks::ACTION_PAUSE;
            if pausing {
                roster::pause(&slack.db, &member, None, now).await?;
            } else {
                roster::resume(&slack.db, &member, now).await?;
            }
            let refreshed = members::find(slack.db.pool(), &workspace.id, &member.id).await?.unwrap_or(member);
            home::publish(slack, &workspace, &refreshed).await?;
        }
        other => tracing::info!(slack.action_id = %other, "acknowledged a button Rapport does not use"),
    }
    Ok(())
}

/// The member's open prompt, if it is `prompt_id`.
async fn open_prompt(
    slack: &SlackState,
    member: &MemberRow,
    prompt_id: &str,
) -> anyhow::Result<Option<prompt_rows::PromptRow>> {
    Ok(prompt_rows::find_open_for_member(slack.db.pool(), &member.id).await?.filter(|p| p.id == prompt_id))
}

async fn say(slack: &SlackState, workspace: &WorkspaceRow, channel: &str, text: &str) -> anyhow::Result<()> {
    slack.api_for(workspace)?.post_message(channel, blocks::text_message(text)).await.context("replying in the DM")?;
    Ok(())
}

/// Stores the modal's answer, or tells Slack which field to fix (the modal stays open).
async fn view_submission(slack: &SlackState, payload: &Value) -> anyhow::Result<Response> {
    let view = &payload["view"];
    if view["callback_id"] != blocks::MODAL_ANSWER {
        return Ok(StatusCode::OK.into_response());
    }
    let Some((workspace, member)) = sender(slack, payload).await? else {
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
    let answered =
        answering::answer_open_prompt(&slack.db, &member, Some(prompt_id), &text, visibility, slack.clock.now_ms())
            .await?;
    let Some(answered) = answered else {
        return Ok(field_error(blocks::BLOCK_ANSWER, "This question was already answered or skipped."));
    };
    let slack = slack.clone();
    tokio::spawn(async move {
        let dm = member.dm_channel_id.clone().unwrap_or_else(|| member.slack_user_id.clone());
        let thanks = match answered.visibility {
            Visibility::Team => {
                format!("Thanks! Your answer to “{}” is shared with your team.", blocks::escape(&answered.question))
            }
            Visibility::OnlyMe => {
                format!("Saved. Your answer to “{}” is visible only to you.", blocks::escape(&answered.question))
            }
        };
        let shared = async {
            say(&slack, &workspace, &dm, &thanks).await?;
            sharing::after_answer(&slack, &workspace, &member, &answered, &dm).await
        };
        if let Err(error) = shared.await {
            tracing::warn!(error = format!("{error:#}"), "could not share an answer");
        }
    });
    Ok(StatusCode::OK.into_response())
}

fn field_error(block_id: &str, message: &str) -> Response {
    Json(json!({ "response_action": "errors", "errors": { block_id: message } })).into_response()
}
