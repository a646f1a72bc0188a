//! `/slack/events`: the Events API. Each event is verified, recorded by `event_id` and
//! acknowledged at once; the work runs afterwards in a task. An event recorded but not yet
//! processed when the process stops is processed at the next start.

use anyhow::Context as _;
use app::{
    features::answers::types::{AnswerText, Visibility},
    server::{
        db::{members, slack_events, workspaces::WorkspaceRow},
        services::{answers as answering, members as roster, workspaces},
    },
};
use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use slack_morphism::prelude::*;
use tokio::sync::mpsc;

use super::{SlackState, blocks, home, not_configured, profile, sharing, verify_request};
use crate::routes::ServerState;

/// Receives one delivery from Slack.
pub async fn receive(State(state): State<ServerState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(slack) = state.slack else {
        return not_configured();
    };
    if let Err(rejection) = verify_request(&slack, &headers, &body) {
        return rejection.into_response();
    }
    let Ok(envelope) = serde_json::from_slice::<serde_json::Value>(&body) else {
        tracing::warn!("ignored a signed Slack event that is not JSON");
        return StatusCode::BAD_REQUEST.into_response();
    };
    match envelope["type"].as_str() {
        Some("url_verification") => Json(serde_json::json!({ "challenge": envelope["challenge"] })).into_response(),
        Some("event_callback") => accept(&slack, &envelope, &body).await,
        other => {
            tracing::info!(slack.request_type = ?other, "acknowledged a Slack request of a type Rapport does not use");
            StatusCode::OK.into_response()
        }
    }
}

/// Records the event (once per `event_id`) and starts processing it.
async fn accept(slack: &SlackState, envelope: &serde_json::Value, body: &[u8]) -> Response {
    let Some(event_id) = envelope["event_id"].as_str() else {
        tracing::warn!("acknowledged a Slack event without an event_id");
        return StatusCode::OK.into_response();
    };
    let row = slack_events::SlackEventRow {
        event_id: event_id.to_owned(),
        slack_team_id: envelope["team_id"].as_str().map(str::to_owned),
        event_type: envelope["event"]["type"].as_str().unwrap_or("unknown").to_owned(),
        received_at: slack.clock.now_ms(),
        processed_at: None,
        payload: String::from_utf8_lossy(body).into_owned(),
        claimed_at: None,
    };
    match slack_events::insert_if_new(slack.db.pool(), &row).await {
        Ok(true) => {
            slack.events.push(row);
            StatusCode::OK.into_response()
        }
        Ok(false) => {
            tracing::info!(slack.event_id = %event_id, "acknowledged a Slack event already received");
            StatusCode::OK.into_response()
        }
        Err(error) => {
            // Not stored, so not acknowledged: Slack will deliver it again.
            tracing::error!(error = %error, slack.event_id = %event_id, "could not record a Slack event");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Accepted events waiting to run. One worker runs them one at a time in the order they
/// arrived, so a `team_join` is applied before the `user_change` that follows it.
#[derive(Clone, Debug)]
pub struct EventQueue(mpsc::UnboundedSender<slack_events::SlackEventRow>);

impl EventQueue {
    /// A queue and the receiving end for [`run_worker`].
    pub fn new() -> (EventQueue, mpsc::UnboundedReceiver<slack_events::SlackEventRow>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (EventQueue(sender), receiver)
    }

    fn push(&self, row: slack_events::SlackEventRow) {
        // Only fails when the worker is gone (shutdown); the row is stored, so the next start runs it.
        let _ = self.0.send(row);
    }
}

/// Runs queued events until the queue closes.
pub async fn run_worker(slack: SlackState, mut queue: mpsc::UnboundedReceiver<slack_events::SlackEventRow>) {
    while let Some(row) = queue.recv().await {
        process(&slack, row).await;
    }
}

/// Queues every event recorded but not processed (after a restart).
pub async fn process_backlog(slack: &SlackState) -> anyhow::Result<usize> {
    let backlog = slack_events::list_unprocessed(slack.db.pool(), 1_000).await?;
    let count = backlog.len();
    for row in backlog {
        slack.events.push(row);
    }
    Ok(count)
}

/// How long a worker holds an event before another may take it (a crash mid-event).
const CLAIM_LEASE_MS: i64 = 5 * 60 * 1000;

/// Runs one recorded event, if no other worker has it, and marks it processed. A failure is
/// logged and the event given back for the next start, when Slack or the database may be back.
pub async fn process(slack: &SlackState, row: slack_events::SlackEventRow) {
    match slack_events::claim(slack.db.pool(), &row.event_id, slack.clock.now_ms(), CLAIM_LEASE_MS).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(error) => {
            tracing::error!(error = %error, slack.event_id = %row.event_id, "could not claim a Slack event");
            return;
        }
    }
    let outcome = match handle(slack, &row).await {
        Ok(()) => {
            slack_events::update_processed(slack.db.pool(), &row.event_id, slack.clock.now_ms()).await.map(|_| ())
        }
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                slack.event_id = %row.event_id,
                slack.event_type = %row.event_type,
                "processing a Slack event failed; it will be retried at the next start"
            );
            slack_events::release(slack.db.pool(), &row.event_id).await
        }
    };
    if let Err(error) = outcome {
        tracing::error!(error = %error, slack.event_id = %row.event_id, "could not record a Slack event's outcome");
    }
}

async fn handle(slack: &SlackState, row: &slack_events::SlackEventRow) -> anyhow::Result<()> {
    let Some(team_id) = row.slack_team_id.as_deref() else {
        // Enterprise Grid org-wide installs send events without a team; Rapport is per team.
        tracing::info!(slack.event_type = %row.event_type, "ignored a Slack event without a team_id");
        return Ok(());
    };
    let Some(workspace) = workspaces::find_active(&slack.db, team_id).await? else {
        tracing::info!(slack.event_type = %row.event_type, "ignored a Slack event for an unknown or uninstalled workspace");
        return Ok(());
    };
    // Only the inner event is read with Slack's models: envelopes vary (retries, org installs).
    let envelope: serde_json::Value = serde_json::from_str(&row.payload).context("reading a stored Slack event")?;
    let Ok(event) = serde_json::from_value::<SlackEventCallbackBody>(envelope["event"].clone()) else {
        tracing::warn!(slack.event_type = %row.event_type, "ignored a Slack event of an unexpected shape");
        return Ok(());
    };
    let now = slack.clock.now_ms();
    match event {
        SlackEventCallbackBody::Message(message) => on_direct_message(slack, &workspace, &message).await,
        SlackEventCallbackBody::AppHomeOpened(opened) => publish_home(slack, &workspace, &opened.user.0).await,
        SlackEventCallbackBody::TeamJoin(join) => {
            roster::sync_from_slack(&slack.db, &workspace.id, &profile::from_slack_user(&join.user), now).await?;
            // Joined after the install: the first-week pack, and a "Meet X" once they answer.
            roster::welcome(&slack.db, &workspace.id, &join.user.id.0, now).await?;
            Ok(())
        }
        SlackEventCallbackBody::UserChange(change) => {
            roster::sync_from_slack(&slack.db, &workspace.id, &profile::from_slack_user(&change.user), now).await?;
            Ok(())
        }
        SlackEventCallbackBody::AppUninstalled(_) => stop_workspace(slack, team_id, now).await,
        SlackEventCallbackBody::Unknown(raw) if raw["type"] == "tokens_revoked" => {
            stop_workspace(slack, team_id, now).await
        }
        _ => {
            tracing::info!(slack.event_type = %row.event_type, "ignored a Slack event Rapport does not use");
            Ok(())
        }
    }
}

async fn stop_workspace(slack: &SlackState, team_id: &str, now: i64) -> anyhow::Result<()> {
    workspaces::uninstall(&slack.db, team_id, now).await?;
    tracing::info!(slack.team_id = %team_id, "Rapport was removed from a workspace: all sending stopped");
    Ok(())
}

/// A member's DM to the bot answers their open question; anything else gets a hint.
async fn on_direct_message(
    slack: &SlackState,
    workspace: &WorkspaceRow,
    message: &SlackMessageEvent,
) -> anyhow::Result<()> {
    let is_direct = message.origin.channel_type.as_ref().is_some_and(|kind| kind.0 == "im");
    // Edits, joins and the bot's own messages have a subtype or a bot id: not answers.
    let from_a_person = message.subtype.is_none() && message.sender.bot_id.is_none();
    let (Some(user), Some(channel)) = (message.sender.user.as_ref(), message.origin.channel.as_ref()) else {
        return Ok(());
    };
    if !is_direct || !from_a_person {
        return Ok(());
    }
    let Some(member) = members::find_by_slack_user_id(slack.db.pool(), &workspace.id, &user.0).await? else {
        return Ok(());
    };
    if member.dm_channel_id.as_deref() != Some(channel.0.as_str()) {
        members::update_dm_channel(slack.db.pool(), &member.id, &channel.0, slack.clock.now_ms()).await?;
    }
    roster::reachable_again(&slack.db, &member, slack.clock.now_ms()).await?;
    let text = blocks::unescape(&message.content.as_ref().and_then(|c| c.text.clone()).unwrap_or_default());
    let answer = match AnswerText::parse(&text) {
        Ok(answer) => answer,
        Err(app::AppError::Invalid { message, .. }) => {
            slack
                .api_for(workspace)?
                .post_message(&channel.0, blocks::text_message(message))
                .await
                .context("replying in the DM")?;
            return Ok(());
        }
        Err(other) => return Err(anyhow::anyhow!("{other}")),
    };
    let Some(answered) =
        answering::answer_open_prompt(&slack.db, &member, None, &answer, Visibility::Team, slack.clock.now_ms())
            .await?
    else {
        let hint = "I don't have a question waiting for you right now. Type `/rapport ask` to get one.";
        slack
            .api_for(workspace)?
            .post_message(&channel.0, blocks::text_message(hint))
            .await
            .context("replying in the DM")?;
        return Ok(());
    };
    // The answer is stored: from here a Slack failure must not fail the event, or its retry
    // would find no open question and tell the member they have none.
    let thanks = format!("Thanks! Your answer to “{}” is shared with your team.", blocks::escape(&answered.question));
    let shared = async {
        slack.api_for(workspace)?.post_message(&channel.0, blocks::text_message(thanks)).await?;
        sharing::after_answer(slack, workspace, &member, &answered, &channel.0).await
    };
    if let Err(error) = shared.await {
        tracing::warn!(error = format!("{error:#}"), answer.id = %answered.answer_id, "an answer was stored but not shared");
    }
    Ok(())
}

/// Publishes the App Home tab of the member who opened it.
async fn publish_home(slack: &SlackState, workspace: &WorkspaceRow, slack_user_id: &str) -> anyhow::Result<()> {
    match members::find_by_slack_user_id(slack.db.pool(), &workspace.id, slack_user_id).await? {
        Some(member) => home::publish(slack, workspace, &member).await,
        None => Ok(()),
    }
}
