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
    let Some(event) = inner_event(&envelope) else {
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
        // Slack Connect: a user of another team in a shared channel is not a member here.
        SlackEventCallbackBody::TeamJoin(join) if !of_team(&join.user, team_id) => Ok(()),
        SlackEventCallbackBody::UserChange(change) if !of_team(&change.user, team_id) => Ok(()),
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
            if !revokes_bot_token(&raw, &workspace) {
                // A member's user token (Sign in with Slack) went; the bot still works.
                tracing::info!("a Slack user token was revoked; the bot token was not");
                return Ok(());
            }
            stop_workspace(state, team_id, now).await
        }
        _ => {
            tracing::info!(slack.event_type = %event_type, "ignored a Slack event Rapport does not use");
            Ok(())
        }
    }
}

/// The envelope's event, read with Slack's models; `None` when it has an unexpected shape.
fn inner_event(envelope: &serde_json::Value) -> Option<SlackEventCallbackBody> {
    serde_json::from_value(envelope["event"].clone()).ok()
}

/// Whether a user object Slack sent belongs to `team_id` (no team named: Slack's own events
/// for a workspace's members, taken as that workspace's).
fn of_team(user: &SlackUser, team_id: &str) -> bool {
    user.team_id.as_ref().is_none_or(|team| team.0 == team_id)
}

/// Whether a `tokens_revoked` event names the workspace's bot: its `tokens.bot` lists bot
/// user ids (`tokens.oauth` the members whose user tokens went). When the bot's user id was
/// never learned, any revoked bot token is ours: an app has one bot per workspace.
fn revokes_bot_token(event: &serde_json::Value, workspace: &Workspace) -> bool {
    let bots: Vec<&str> = event["tokens"]["bot"]
        .as_array()
        .map(|ids| ids.iter().filter_map(|id| id.as_str()).collect())
        .unwrap_or_default();
    match workspace.bot_user_id.as_deref() {
        Some(ours) => bots.contains(&ours),
        None => !bots.is_empty(),
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
    sharing::after_answer(state, workspace, &member, &answered, sharing::AnsweredBy::DmReply, &channel.0).await;
    Ok(())
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::fuzzing;

    /// The event types Rapport acts on, and one it does not.
    const EVENT_TYPES: &[&str] = &[
        "message",
        "app_home_opened",
        "team_join",
        "user_change",
        "app_uninstalled",
        "tokens_revoked",
        "reaction_added",
    ];
    /// Keys and values of those events, so that random events often have their fields.
    const WORDS: &[&str] = &[
        "type",
        "user",
        "id",
        "team_id",
        "channel",
        "channel_type",
        "im",
        "text",
        "ts",
        "subtype",
        "bot_id",
        "tokens",
        "bot",
        "oauth",
        "profile",
        "name",
        "tab",
        "home",
    ];

    /// An event of a type Rapport uses, with fields of any shape.
    fn odd_event() -> impl Strategy<Value = Value> {
        let fields = prop::collection::vec((prop::sample::select(WORDS), fuzzing::json(WORDS)), 0..8);
        (prop::sample::select(EVENT_TYPES), fields).prop_map(|(kind, fields)| {
            let mut event: serde_json::Map<String, Value> =
                fields.into_iter().map(|(key, value)| (key.to_owned(), value)).collect();
            event.insert("type".to_owned(), json!(kind));
            json!({ "type": "event_callback", "event_id": "Ev1", "team_id": "T1", "event": event })
        })
    }

    proptest! {
        #![proptest_config(fuzzing::config(256))]

        #[test]
        fn any_stored_payload_is_an_event_or_an_error(
            payload in prop_oneof![fuzzing::text(200), fuzzing::json(WORDS).prop_map(|doc| doc.to_string())],
            event in odd_event(),
        ) {
            if let Ok(envelope) = serde_json::from_str::<Value>(&payload) {
                let _event = inner_event(&envelope);
            }
            let _event = inner_event(&event);
        }

        #[test]
        fn a_direct_message_reads_as_its_sender_channel_and_text(
            user in "U[A-Z0-9]{2,10}",
            channel in "D[A-Z0-9]{2,10}",
            text in fuzzing::text(300),
        ) {
            let event = json!({
                "type": "message", "channel": channel, "channel_type": "im", "user": user, "text": text,
                "ts": "1700000000.000100",
            });
            let envelope = json!({ "type": "event_callback", "event_id": "Ev1", "team_id": "T1", "event": event });

            let Some(SlackEventCallbackBody::Message(message)) = inner_event(&envelope) else {
                return Err(TestCaseError::fail("not read as a message"));
            };

            prop_assert!(message.subtype.is_none() && message.sender.bot_id.is_none());
            prop_assert_eq!(message.sender.user.map(|id| id.0), Some(user));
            prop_assert_eq!(message.origin.channel.map(|id| id.0), Some(channel));
            prop_assert_eq!(message.origin.channel_type.map(|kind| kind.0), Some("im".to_owned()));
            prop_assert_eq!(message.content.and_then(|content| content.text), Some(text));
        }

        #[test]
        fn a_user_who_joins_is_of_the_team_their_event_names(
            user in "U[A-Z0-9]{2,10}",
            team in "T[A-Z0-9]{2,10}",
            other_team in "E[A-Z0-9]{2,10}",
            named in any::<bool>(),
        ) {
            let mut joined = json!({ "id": user, "name": "ada" });
            if named {
                joined["team_id"] = json!(team);
            }
            let envelope = json!({ "type": "event_callback", "event": { "type": "team_join", "user": joined } });

            let Some(SlackEventCallbackBody::TeamJoin(join)) = inner_event(&envelope) else {
                return Err(TestCaseError::fail("not read as a team_join"));
            };

            prop_assert!(of_team(&join.user, &team));
            // Without a team named, Slack's own event for the workspace is taken as its.
            prop_assert_eq!(of_team(&join.user, &other_team), !named);
        }
    }
}
