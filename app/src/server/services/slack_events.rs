//! What Rapport does with each Slack event, once it is verified and recorded in the inbox:
//! a DM answers the member's open question, App Home is published, the roster follows
//! `team_join` and `user_change`, and an uninstall stops everything.

use anyhow::Context as _;
use slack_morphism::prelude::*;

use super::{answers as answering, home, members as roster, sharing, workspaces};
use crate::{
    error::AppError,
    features::answers::types::{AnswerText, Visibility},
    server::{
        AppState,
        db::{members, workspaces::Workspace},
        slack::{blocks, profile},
    },
};

/// Runs one recorded event (the Events API envelope as Slack sent it). Events for a team
/// Rapport does not know, or of a kind it does not use, are done with nothing to do.
#[tracing::instrument(name = "slack event", skip_all, fields(slack.team_id = team_id.unwrap_or("none")))]
pub async fn process(state: &AppState, team_id: Option<&str>, payload: &str) -> anyhow::Result<()> {
    // Only the inner event is read with Slack's models: envelopes vary (retries, org installs).
    let envelope: serde_json::Value = serde_json::from_str(payload).context("reading a stored Slack event")?;
    let event_type = envelope["event"]["type"].as_str().unwrap_or("unknown");
    let Some(team_id) = team_id else {
        // Enterprise Grid org-wide installs send events without a team; Rapport is per team.
        tracing::info!(slack.event_type = %event_type, "ignored a Slack event without a team_id");
        return Ok(());
    };
    let Some(workspace) = workspaces::find_active(&state.db, team_id).await? else {
        tracing::debug!(slack.event_type = %event_type, "ignored a Slack event for an unknown or uninstalled workspace");
        return Ok(());
    };
    let Ok(event) = serde_json::from_value::<SlackEventCallbackBody>(envelope["event"].clone()) else {
        tracing::warn!(slack.event_type = %event_type, "ignored a Slack event of an unexpected shape");
        return Ok(());
    };
    let now = state.now_ms();
    match event {
        SlackEventCallbackBody::Message(message) => on_direct_message(state, &workspace, &message).await,
        SlackEventCallbackBody::AppHomeOpened(opened) => {
            match members::find_by_slack_user_id(state.db.pool(), &workspace.id, &opened.user.0).await? {
                Some(member) => home::publish(state, &workspace, &member).await,
                None => Ok(()),
            }
        }
        SlackEventCallbackBody::TeamJoin(join) => {
            roster::sync_from_slack(&state.db, &workspace.id, &profile::from_slack_user(&join.user), now).await?;
            // Joined after the install: the first-week pack, and a "Meet X" once they answer.
            roster::welcome(&state.db, &workspace.id, &join.user.id.0, now).await?;
            Ok(())
        }
        SlackEventCallbackBody::UserChange(change) => {
            roster::sync_from_slack(&state.db, &workspace.id, &profile::from_slack_user(&change.user), now).await?;
            Ok(())
        }
        SlackEventCallbackBody::AppUninstalled(_) => stop_workspace(state, team_id, now).await,
        SlackEventCallbackBody::Unknown(raw) if raw["type"] == "tokens_revoked" => {
            stop_workspace(state, team_id, now).await
        }
        _ => {
            tracing::info!(slack.event_type = %event_type, "ignored a Slack event Rapport does not use");
            Ok(())
        }
    }
}

async fn stop_workspace(state: &AppState, team_id: &str, now: i64) -> anyhow::Result<()> {
    workspaces::uninstall(&state.db, team_id, now).await?;
    tracing::info!("Rapport was removed from a workspace: all sending stopped");
    Ok(())
}

/// A member's DM to the bot answers their open question; anything else gets a hint.
async fn on_direct_message(state: &AppState, workspace: &Workspace, message: &SlackMessageEvent) -> anyhow::Result<()> {
    let is_direct = message.origin.channel_type.as_ref().is_some_and(|kind| kind.0 == "im");
    // Edits, joins and the bot's own messages have a subtype or a bot id: not answers.
    let from_a_person = message.subtype.is_none() && message.sender.bot_id.is_none();
    let (Some(user), Some(channel)) = (message.sender.user.as_ref(), message.origin.channel.as_ref()) else {
        return Ok(());
    };
    if !is_direct || !from_a_person {
        return Ok(());
    }
    let Some(member) = members::find_by_slack_user_id(state.db.pool(), &workspace.id, &user.0).await? else {
        return Ok(());
    };
    let now = state.now_ms();
    if member.dm_channel_id.as_deref() != Some(channel.0.as_str()) {
        members::update_dm_channel(state.db.pool(), &member.id, &channel.0, now).await?;
    }
    roster::reachable_again(&state.db, &member, now).await?;
    let say = |text: String| async move {
        state.slack()?.api_for(workspace)?.post_message(&channel.0, blocks::text_message(text)).await?;
        anyhow::Ok(())
    };
    let text = blocks::unescape(&message.content.as_ref().and_then(|c| c.text.clone()).unwrap_or_default());
    let answer = match AnswerText::parse(&text) {
        Ok(answer) => answer,
        Err(AppError::Invalid { message, .. }) => return say(message).await.context("replying in the DM"),
        Err(other) => return Err(anyhow::anyhow!("{other}")),
    };
    let Some(answered) =
        answering::answer_open_prompt(&state.db, &member, None, &answer, Visibility::Team, now).await?
    else {
        let hint = "I don't have a question waiting for you right now. Type `/rapport ask` to get one.";
        return say(hint.to_owned()).await.context("replying in the DM");
    };
    sharing::after_answer(state, workspace, &member, &answered, &channel.0).await;
    Ok(())
}
