//! Sending events to the app as Stripe does: each event's JSON POSTed to
//! `{app_url}/stripe/webhook` with a `Stripe-Signature` made with the endpoint's secret at
//! the app clock's time (the app verifies against its own clock). A refusal or no answer
//! is retried a few times with a short backoff (Stripe keeps trying for three days; a test
//! cannot wait that long). The delivery mode can repeat every event or hold them back, so
//! tests and the demo can deliver late, twice or out of order.

use std::time::Duration;

use anyhow::Context as _;
use axum::http::header;

use super::{
    Delivery, StripeEmulator,
    world::{EventRecord, World},
};
use crate::stripe::verify::sign;

/// Attempts per delivery, and the wait before the second (doubling after).
const DELIVERY_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

impl StripeEmulator {
    /// Applies a change to the account at the app clock's now, then sends the events it
    /// made. The lock is released before anything is sent.
    pub(super) async fn settle<T>(&self, change: impl FnOnce(&mut World, i64) -> T) -> T {
        let now = self.now_secs();
        let (value, outgoing) = {
            let mut world = self.world();
            let value = change(&mut world, now);
            (value, world.take_outbox())
        };
        self.deliver(&outgoing).await;
        value
    }

    /// Sets how events are delivered from now on. Events already held stay held.
    pub fn set_delivery(&self, mode: Delivery) {
        self.world().delivery = mode;
    }

    /// The ids of the events held back, oldest first.
    pub fn held(&self) -> Vec<String> {
        self.world().held.iter().map(|event| event.id.clone()).collect()
    }

    /// Sends the held events named in `order`, in that order, once each; returns their
    /// final HTTP statuses (0: no answer). Held events not named stay held; a named event
    /// that is not held (sent already, or never made) is skipped.
    pub async fn release(&self, order: &[String]) -> anyhow::Result<Vec<u16>> {
        let events: Vec<EventRecord> = {
            let mut world = self.world();
            order
                .iter()
                .filter_map(|id| {
                    let at = world.held.iter().position(|event| &event.id == id)?;
                    world.held.remove(at)
                })
                .collect()
        };
        Ok(self.deliver(&events).await)
    }

    /// Sends every held event, newest first: deliveries arriving late and out of order.
    pub async fn release_all_reversed(&self) -> Vec<u16> {
        let events: Vec<EventRecord> = self.world().held.drain(..).rev().collect();
        self.deliver(&events).await
    }

    /// Sends an event made earlier once more: the same id and body, a fresh signature.
    pub async fn resend(&self, event_id: &str) -> anyhow::Result<u16> {
        let event = self.world().event(event_id).cloned().with_context(|| format!("no event {event_id} is kept"))?;
        Ok(self.send(&event).await)
    }

    /// Every event kept, oldest first: (id, type).
    pub fn events(&self) -> Vec<(String, String)> {
        self.world().events.iter().map(|event| (event.id.clone(), event.kind.clone())).collect()
    }

    /// The JSON text of an event made, as it is sent (for tests that sign it themselves).
    pub fn event_payload(&self, event_id: &str) -> Option<String> {
        self.world().events.iter().find(|event| event.id == event_id).map(|event| event.payload.clone())
    }

    /// The latest delivery attempts, oldest first: (event id, HTTP status; 0 for no answer).
    pub fn deliveries(&self) -> Vec<(String, u16)> {
        self.world().deliveries.iter().map(|delivery| (delivery.event_id.clone(), delivery.status)).collect()
    }

    /// Sends events one after another, in order; returns each one's final status.
    pub(super) async fn deliver(&self, events: &[EventRecord]) -> Vec<u16> {
        let mut statuses = Vec::with_capacity(events.len());
        for event in events {
            statuses.push(self.send(event).await);
        }
        statuses
    }

    /// Delivers one event, retrying a refusal or no answer with a growing wait; returns the
    /// last status (0 when the app never answered).
    async fn send(&self, event: &EventRecord) -> u16 {
        let mut status = 0;
        for attempt in 1..=DELIVERY_ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(FIRST_BACKOFF * 2_u32.pow(attempt - 2)).await;
            }
            let outcome = self.post(&event.payload).await;
            status = *outcome.as_ref().unwrap_or(&0);
            let at = self.now_secs();
            self.world().log_delivery(event, status, at);
            match outcome {
                Ok(code) if (200..300).contains(&code) => return code,
                Ok(code) => tracing::warn!(
                    event.id = %event.id, event.kind = %event.kind, status = code, attempt,
                    "the app refused a Stripe emulator webhook"
                ),
                Err(error) => tracing::warn!(
                    event.id = %event.id, event.kind = %event.kind, attempt, error = %error,
                    "a Stripe emulator webhook got no answer"
                ),
            }
        }
        status
    }

    /// One signed POST of `payload`; the app's HTTP status.
    async fn post(&self, payload: &str) -> Result<u16, reqwest::Error> {
        let signature = sign(&self.webhook_secret, self.now_secs(), payload);
        let response = self
            .http
            .post(self.webhook_url.as_str())
            .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
            .header("stripe-signature", signature)
            .body(payload.to_owned())
            .send()
            .await?;
        Ok(response.status().as_u16())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use app::server::{clock::ManualClock, secret::Secret};

    use super::*;
    use crate::emulator::stripe::{SECRET_KEY, WEBHOOK_SECRET, events};

    fn emulator() -> StripeEmulator {
        StripeEmulator::new(
            "http://127.0.0.1:9",
            SECRET_KEY,
            Secret::new(WEBHOOK_SECRET),
            Arc::new(ManualClock::new(1_800_000_000_000)),
        )
        .unwrap()
    }

    fn make_events(emulator: &StripeEmulator, kinds: &[&str]) -> Vec<String> {
        let mut world = emulator.world();
        for kind in kinds {
            events::emit(&mut world, kind, serde_json::json!({ "id": "x" }), 1_800_000_000);
        }
        world.take_outbox();
        world.held.iter().map(|event| event.id.clone()).collect()
    }

    #[test]
    fn held_events_wait_in_order_and_twice_repeats_each() {
        let emulator = emulator();
        emulator.set_delivery(Delivery::Held);

        let held = make_events(&emulator, &["invoice.paid", "customer.subscription.updated"]);
        emulator.set_delivery(Delivery::Twice);
        events::emit(&mut emulator.world(), "invoice.paid", serde_json::json!({}), 1);
        let twice = emulator.world().take_outbox();

        assert_eq!(emulator.held(), held);
        assert_eq!(emulator.events().len(), 3);
        assert_eq!(twice.len(), 2);
        assert_eq!(twice[0].id, twice[1].id);
    }

    #[tokio::test]
    async fn releasing_names_only_the_events_it_sends_and_skips_those_not_held() {
        let emulator = emulator();
        emulator.set_delivery(Delivery::Held);
        let held = make_events(&emulator, &["invoice.paid", "customer.subscription.updated"]);

        let statuses = emulator.release(&["evt_unknown".to_owned()]).await.unwrap();

        assert!(statuses.is_empty(), "nothing named was held");
        assert_eq!(emulator.held(), held, "the held events stay held, in order");
        assert!(emulator.deliveries().is_empty());
    }
}
