//! What the emulator sends to the app, exactly as Slack sends it: signed events, slash
//! commands and interactions.

use anyhow::Context as _;
use serde_json::{Value, json};

use super::Emulator;
use crate::slack::verify::sign;

impl Emulator {
    /// Delivers an Events API callback for the emulated team; returns the HTTP status.
    pub async fn send_event(&self, event: Value) -> anyhow::Result<u16> {
        let envelope = json!({
            "token": "emulator",
            "team_id": self.team_id(),
            "api_app_id": "AEMULATOR1",
            "type": "event_callback",
            // Random, so event ids never repeat across restarts of a long-lived database.
            "event_id": format!("Ev{:016X}", rand::random::<u64>()),
            "event_time": chrono::Utc::now().timestamp(),
            "event": event,
        });
        let (status, _) = self.post_signed("/slack/events", "application/json", envelope.to_string()).await?;
        Ok(status)
    }

    /// A member's DM to the bot.
    pub async fn send_direct_message(&self, user_id: &str, text: &str) -> anyhow::Result<u16> {
        let ts = format!("{}.{:06}", chrono::Utc::now().timestamp(), rand::random::<u32>() % 1_000_000);
        self.send_event(json!({
            "type": "message", "channel": format!("D{user_id}"), "channel_type": "im",
            "user": user_id, "text": text, "ts": ts, "event_ts": ts,
        }))
        .await
    }

    /// Runs `/rapport <text>` as `user_id`; returns the reply's text (also kept for the page).
    pub async fn send_command(&self, user_id: &str, text: &str) -> anyhow::Result<String> {
        let form = serde_urlencoded::to_string([
            ("token", "emulator"),
            ("team_id", self.team_id().as_str()),
            ("team_domain", "northwind"),
            ("channel_id", "CGENERAL01"),
            ("channel_name", "general"),
            ("user_id", user_id),
            ("command", "/rapport"),
            ("text", text),
            ("response_url", &format!("{}/emulator/response", self.own_url)),
            ("trigger_id", &self.new_trigger(user_id)),
        ])?;
        let (status, body) = self.post_signed("/slack/commands", "application/x-www-form-urlencoded", form).await?;
        let reply = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|reply| reply["text"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("The app answered {status}: {body}"));
        self.world().keep_reply(user_id, reply.clone());
        self.bump();
        Ok(reply)
    }

    /// `user_id` presses a button; returns the HTTP status.
    pub async fn press_button(&self, user_id: &str, action_id: &str, value: &str) -> anyhow::Result<u16> {
        let payload = json!({
            "type": "block_actions",
            "team": { "id": self.team_id() },
            "user": { "id": user_id },
            "api_app_id": "AEMULATOR1",
            "trigger_id": self.new_trigger(user_id),
            "container": { "type": "message", "channel_id": format!("D{user_id}") },
            "actions": [{ "type": "button", "action_id": action_id, "value": value, "action_ts": "1" }],
        });
        let (status, _) = self.send_interaction(payload).await?;
        Ok(status)
    }

    /// `user_id` submits their open modal; returns Slack's field errors, if any.
    pub async fn submit_modal(&self, user_id: &str, text: &str, visibility: &str) -> anyhow::Result<Option<Value>> {
        let modal = self.world().open_modals.get(user_id).cloned().context("no modal is open")?;
        let mut view = modal.clone();
        view["state"] = json!({ "values": {
            "answer": { "text": { "type": "plain_text_input", "value": text } },
            "visibility": { "choice": { "type": "radio_buttons", "selected_option": { "value": visibility } } },
        } });
        let payload = json!({ "type": "view_submission", "team": { "id": self.team_id() }, "user": { "id": user_id }, "view": view });
        let (_, body) = self.send_interaction(payload).await?;
        let reply = serde_json::from_str::<Value>(&body).ok();
        match reply {
            Some(reply) if reply["response_action"] == "errors" => Ok(Some(reply["errors"].clone())),
            _ => {
                self.world().open_modals.remove(user_id);
                Ok(None)
            }
        }
    }

    /// Closes a member's modal without submitting it.
    pub fn close_modal(&self, user_id: &str) {
        self.world().open_modals.remove(user_id);
    }

    /// The modal `user_id` has open, if any.
    pub fn open_modal(&self, user_id: &str) -> Option<Value> {
        self.world().open_modals.get(user_id).cloned()
    }

    /// Ephemeral replies shown to `user_id`, oldest first.
    pub fn ephemeral_replies(&self, user_id: &str) -> Vec<String> {
        self.world().ephemeral.get(user_id).map(|replies| replies.iter().cloned().collect()).unwrap_or_default()
    }

    /// A counter that moves whenever the emulated Slack changes.
    pub fn version(&self) -> u64 {
        self.world().version
    }

    async fn send_interaction(&self, payload: Value) -> anyhow::Result<(u16, String)> {
        let form = serde_urlencoded::to_string([("payload", payload.to_string())])?;
        self.post_signed("/slack/interactions", "application/x-www-form-urlencoded", form).await
    }

    fn new_trigger(&self, user_id: &str) -> String {
        let trigger = format!("{}.{}.emulator", rand::random::<u32>(), rand::random::<u32>());
        self.world().keep_trigger(&trigger, user_id);
        trigger
    }

    async fn post_signed(&self, path: &str, content_type: &str, body: String) -> anyhow::Result<(u16, String)> {
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let signature = sign(&self.signing_secret, &timestamp, body.as_bytes());
        let response = self
            .http
            .post(format!("{}{path}", self.app_url))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", timestamp)
            .header("x-slack-signature", signature)
            .body(body)
            .send()
            .await
            .with_context(|| format!("delivering to {path}"))?;
        let status = response.status().as_u16();
        Ok((status, response.text().await.unwrap_or_default()))
    }
}
