//! Requests as Slack sends them to the app: Events API callbacks, `/rapport` commands and
//! interactions (buttons, the answer modal), signed with the emulator's signing secret. The
//! protocol is Slack's, as the emulator itself speaks it (`server::emulator::deliver`): an
//! HMAC-SHA256 of `v0:{timestamp}:{body}` sent as `X-Slack-Signature: v0=<hex>` beside
//! `X-Slack-Request-Timestamp` (the wall clock's seconds, whatever the product's clock says).

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use anyhow::Context as _;
use app::server::slack::blocks::{BLOCK_ANSWER, BLOCK_VISIBILITY, INPUT_ANSWER, INPUT_VISIBILITY, MODAL_ANSWER};
use serde_json::{Value, json};
use server::slack::verify::{SigningSecret, sign};

use super::record::{Reply, send};

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";
/// The app id Slack would put in each request; Rapport does not read it.
const APP_ID: &str = "ASOAK00001";

/// An event ready to deliver: its id, and the body exactly as signed (a redelivery sends the
/// same body, as Slack's retries do).
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub body: String,
}

/// Sends signed requests to the app at `base_url` as Slack does for the emulated team.
pub struct Slack {
    http: reqwest::Client,
    base_url: String,
    /// Where a command's `response_url` points: the Slack emulator's.
    emulator_url: String,
    secret: SigningSecret,
    team_id: String,
    /// Numbers event ids and trigger ids, so none repeats within a run.
    next_id: AtomicU64,
}

impl Slack {
    pub fn new(base_url: &str, emulator_url: &str, signing_secret: &str, team_id: &str) -> anyhow::Result<Slack> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("building the HTTP client for Slack's requests")?;
        Ok(Slack {
            http,
            base_url: base_url.to_owned(),
            emulator_url: emulator_url.to_owned(),
            secret: SigningSecret::new(signing_secret),
            team_id: team_id.to_owned(),
            next_id: AtomicU64::new(1),
        })
    }

    /// An Events API callback around `event`, with an id of its own.
    pub fn event(&self, event: Value) -> Event {
        let id = format!("EvSOAK{:010}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let body = json!({
            "token": "soak",
            "team_id": self.team_id,
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": id,
            "event_time": chrono::Utc::now().timestamp(),
            "event": event,
        });
        Event { id, body: body.to_string() }
    }

    /// A member's message in their DM with the bot (`message.im`).
    pub fn direct_message(&self, user_id: &str, text: &str) -> Event {
        let ts = self.message_ts();
        self.event(json!({
            "type": "message", "channel": format!("D{user_id}"), "channel_type": "im",
            "user": user_id, "text": text, "ts": ts, "event_ts": ts,
        }))
    }

    /// A member opening the app's Home tab (`app_home_opened`).
    pub fn home_opened(&self, user_id: &str) -> Event {
        self.event(json!({
            "type": "app_home_opened", "user": user_id, "channel": format!("D{user_id}"), "tab": "home",
            "event_ts": self.message_ts(),
        }))
    }

    /// Delivers `event`; `retry` above 0 marks a redelivery as Slack marks its retries.
    pub async fn deliver(&self, event: &Event, retry: u32) -> Reply {
        let mut headers = Vec::new();
        if retry > 0 {
            headers.push(("x-slack-retry-num", retry.to_string()));
            headers.push(("x-slack-retry-reason", "http_timeout".to_owned()));
        }
        self.post_signed("/slack/events", JSON, event.body.clone(), &headers).await
    }

    /// `user_id` types `/rapport <text>`.
    pub async fn command(&self, user_id: &str, text: &str) -> Reply {
        let response_url = format!("{}/emulator/response", self.emulator_url);
        let trigger_id = self.trigger_id();
        let body = form(&[
            ("token", "soak"),
            ("team_id", &self.team_id),
            ("team_domain", "northwind"),
            ("channel_id", "CGENERAL01"),
            ("channel_name", "general"),
            ("user_id", user_id),
            ("command", "/rapport"),
            ("text", text),
            ("response_url", &response_url),
            ("trigger_id", &trigger_id),
        ]);
        self.post_signed("/slack/commands", FORM, body, &[]).await
    }

    /// `user_id` presses the button `action_id` (whose value is `value`) in their DM.
    pub async fn press(&self, user_id: &str, action_id: &str, value: &str) -> Reply {
        let payload = json!({
            "type": "block_actions",
            "team": { "id": self.team_id },
            "user": { "id": user_id },
            "api_app_id": APP_ID,
            "trigger_id": self.trigger_id(),
            "container": { "type": "message", "channel_id": format!("D{user_id}") },
            "actions": [{ "type": "button", "action_id": action_id, "value": value, "action_ts": self.message_ts() }],
        });
        self.interact(&payload).await
    }

    /// `user_id` submits the answer modal of `prompt_id` with `text`, for the team to see.
    pub async fn submit_answer(&self, user_id: &str, prompt_id: &str, text: &str) -> Reply {
        let payload = json!({
            "type": "view_submission",
            "team": { "id": self.team_id },
            "user": { "id": user_id },
            "api_app_id": APP_ID,
            "view": {
                "type": "modal",
                "callback_id": MODAL_ANSWER,
                "private_metadata": prompt_id,
                "state": { "values": {
                    BLOCK_ANSWER: { INPUT_ANSWER: { "type": "plain_text_input", "value": text } },
                    BLOCK_VISIBILITY: { INPUT_VISIBILITY: { "type": "radio_buttons", "selected_option": { "value": "team" } } },
                } },
            },
        });
        self.interact(&payload).await
    }

    /// Interactions come as a form with one `payload` field of JSON.
    async fn interact(&self, payload: &Value) -> Reply {
        let body = form(&[("payload", &payload.to_string())]);
        self.post_signed("/slack/interactions", FORM, body, &[]).await
    }

    async fn post_signed(&self, path: &str, content_type: &str, body: String, headers: &[(&str, String)]) -> Reply {
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let signature = sign(&self.secret, &timestamp, body.as_bytes());
        let mut request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", timestamp)
            .header("x-slack-signature", signature);
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        send(request.body(body)).await
    }

    /// A trigger id as Slack hands one out with each command and button press; the app
    /// records it to ignore replays, so each is new.
    fn trigger_id(&self) -> String {
        format!("{}.{}.soak", self.next_id.fetch_add(1, Ordering::Relaxed), rand::random::<u32>())
    }

    /// A message timestamp in Slack's `seconds.micros` form, unique within the run.
    fn message_ts(&self) -> String {
        let micros = self.next_id.fetch_add(1, Ordering::Relaxed) % 1_000_000;
        format!("{}.{micros:06}", chrono::Utc::now().timestamp())
    }
}

/// `pairs` as an `application/x-www-form-urlencoded` body.
fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("{}={}", crate::search::encode(key), crate::search::encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_encodes_every_value() {
        assert_eq!(
            form(&[("text", "profile <@U1>"), ("payload", "{\"a\":1}")]),
            "text=profile%20%3C%40U1%3E&payload=%7B%22a%22%3A1%7D"
        );
    }

    #[test]
    fn events_get_ids_of_their_own_and_a_redelivery_sends_the_same_body() {
        let slack = Slack::new("http://127.0.0.1:9", "http://127.0.0.1:8", "secret", "TDEMO0001").unwrap();

        let first = slack.direct_message("UDEMO001", "[soak-1] hello");
        let second = slack.home_opened("UDEMO002");

        assert_ne!(first.id, second.id);
        let envelope: Value = serde_json::from_str(&first.body).unwrap();
        assert_eq!(envelope["event_id"], first.id.as_str());
        assert_eq!(envelope["event"]["channel"], "DUDEMO001");
        assert_eq!(envelope["event"]["channel_type"], "im");
    }
}
