//! The Stripe emulator: stands in for Stripe when none is configured, so billing works on a
//! laptop and in tests. It keeps a fictional Stripe account with one metered price and
//! answers the API calls Rapport makes through async-stripe under
//! `/stripe-emulator/v1/...` with Stripe's shapes and errors (`api.rs`); serves the hosted
//! Checkout and customer-portal pages and a control page (`pages.rs`); runs the billing
//! cycle on the app's clock when told to ([`StripeEmulator::tick`], rules in `billing.rs`);
//! and sends signed webhooks to `/stripe/webhook`, which tests and the demo can hold back,
//! repeat, reorder and resend (`webhooks.rs`).
//!
//! Where it differs from Stripe (on purpose, for a small stand-in): periods are calendar
//! months from the anchor and invoices are charged the moment a period ends (Stripe waits
//! about an hour); failed charges are retried 3, 5 and 7 days after the first failure and
//! then the subscription is canceled (Stripe's retry settings vary); webhook deliveries are
//! retried for about a second, not three days; unknown parameters are ignored rather than
//! refused; `expand[]` is ignored (related objects are always ids).

mod api;
mod billing;
mod events;
mod form;
mod idempotency;
mod objects;
mod pages;
mod webhooks;
mod world;

pub use pages::page_policy;

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use anyhow::Context as _;
use app::server::{clock::SharedClock, secret::Secret};
use axum::{Router, routing::any};

use world::World;

/// The secret key the emulator accepts (what the demo configures).
pub const SECRET_KEY: &str = "sk_test_rapport_emulator";
/// The webhook signing secret the demo configures for the emulator.
pub const WEBHOOK_SECRET: &str = "whsec_rapport_emulator";
/// The seeded price: $4.00 per active member per month, metered.
pub const PRICE_ID: &str = "price_rapport_active_member";
/// The event name of the seeded price's meter.
pub const METER_EVENT_NAME: &str = "rapport_active_members";
/// The seeded price's meter, which keeps the `last` value of a period.
pub const METER_ID: &str = "mtr_rapport_active_members";
/// The product the seeded price belongs to.
pub const PRODUCT_ID: &str = "prod_rapport";
/// The seeded price per active member per month, in cents.
pub const UNIT_AMOUNT: i64 = 400;

/// How long the app may take to answer one webhook delivery.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// The test cards the checkout and portal pages offer, as in Stripe's test mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Card {
    /// `4242 4242 4242 4242`: every charge succeeds.
    Succeeds,
    /// `4000 0000 0000 0002`: declined at once; it never attaches.
    Declined,
    /// `4000 0000 0000 0341`: attaches and the first payment succeeds; later charges fail.
    FailsLater,
}

impl Card {
    /// All three, in the order the pages list them.
    pub const ALL: [Card; 3] = [Card::Succeeds, Card::Declined, Card::FailsLater];

    /// The card number, spaced as printed on a card.
    pub fn number(self) -> &'static str {
        match self {
            Card::Succeeds => "4242 4242 4242 4242",
            Card::Declined => "4000 0000 0000 0002",
            Card::FailsLater => "4000 0000 0000 0341",
        }
    }

    /// The card with this number, spaces or not.
    pub fn from_number(number: &str) -> Option<Card> {
        let digits: String = number.chars().filter(|c| !c.is_whitespace()).collect();
        Card::ALL.into_iter().find(|card| card.number().replace(' ', "") == digits)
    }

    /// The last four digits.
    pub fn last4(self) -> &'static str {
        let number = self.number();
        &number[number.len() - 4..]
    }

    /// What the card does, for the pages.
    pub fn behaviour(self) -> &'static str {
        match self {
            Card::Succeeds => "succeeds",
            Card::Declined => "declined",
            Card::FailsLater => "first payment succeeds, later charges fail",
        }
    }

    /// Whether a charge to this card goes through.
    fn charges(self) -> bool {
        self == Card::Succeeds
    }
}

/// How the emulator delivers the webhooks it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    /// Each event once, as it is made.
    #[default]
    Immediate,
    /// Each event twice in a row, as Stripe may.
    Twice,
    /// Kept in a queue until [`StripeEmulator::release`] or
    /// [`StripeEmulator::release_all_reversed`].
    Held,
}

/// What paying a checkout session did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutOutcome {
    /// Paid: the subscription exists and the browser goes on to `redirect` (the session's
    /// success URL with its id filled in).
    Completed { subscription_id: String, redirect: String },
    /// The card was declined; the session stays open for another try.
    Declined,
    /// Paid before; nothing changed.
    AlreadyComplete { redirect: String },
    /// The session passed its expiry unpaid.
    Expired,
}

/// An invoice as tests read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatedInvoice {
    pub id: String,
    pub subscription: String,
    /// `open` or `paid`.
    pub status: String,
    /// The meter's value for the period.
    pub quantity: u64,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub attempt_count: u64,
    /// Unix seconds.
    pub period_start: i64,
    pub period_end: i64,
}

/// The emulator; cheap to clone, all clones share one account.
#[derive(Clone)]
pub struct StripeEmulator {
    world: Arc<Mutex<World>>,
    /// Where the app listens (no trailing slash), and its origin for the pages' checks.
    app_url: String,
    app_origin: String,
    webhook_url: String,
    secret_key: Secret,
    webhook_secret: Secret,
    clock: SharedClock,
    http: reqwest::Client,
}

impl std::fmt::Debug for StripeEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeEmulator").field("app_url", &self.app_url).finish_non_exhaustive()
    }
}

impl StripeEmulator {
    /// An emulator for the app at `app_url`, accepting `secret_key`, signing webhooks with
    /// `webhook_secret` and keeping time by `clock`.
    pub fn new(
        app_url: &str,
        secret_key: &str,
        webhook_secret: Secret,
        clock: SharedClock,
    ) -> anyhow::Result<StripeEmulator> {
        let app_url = app_url.trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&app_url).with_context(|| format!("the app's address {app_url} is not a URL"))?;
        let http = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .build()
            .context("building the Stripe emulator's webhook client")?;
        let now = clock.now_ms().div_euclid(1000);
        Ok(StripeEmulator {
            world: Arc::new(Mutex::new(World::new(now))),
            app_origin: parsed.origin().ascii_serialization(),
            webhook_url: format!("{app_url}/stripe/webhook"),
            app_url,
            secret_key: Secret::new(secret_key),
            webhook_secret,
            clock,
            http,
        })
    }

    /// The API under `/stripe-emulator/v1/...`, the hosted pages under
    /// `/stripe-emulator/checkout/{id}` and `/stripe-emulator/portal/{id}`, and the control
    /// page at `/stripe-emulator`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/stripe-emulator/v1/{*path}", any(api::call))
            .merge(pages::routes())
            .with_state(self.clone())
    }

    /// Brings the account up to the clock's now: ends the periods that ended (invoicing and
    /// charging them, or canceling a plan set to cancel), runs the payment retries that fell
    /// due, and sends the events that made. A big jump of the clock rolls every period it
    /// passes.
    pub async fn tick(&self) -> anyhow::Result<()> {
        self.settle(|world, now| world.advance(now)).await;
        Ok(())
    }

    /// Ends the subscription's current period now (the control page's test clock).
    pub async fn end_period_now(&self, subscription_id: &str) -> anyhow::Result<()> {
        self.settle(|world, now| world.end_period_now(subscription_id, now)).await
    }

    /// Pays a checkout session with a test card, as its page's Subscribe button does.
    pub async fn pay_checkout(&self, session_id: &str, card: Card) -> anyhow::Result<CheckoutOutcome> {
        self.settle(|world, now| world.pay_checkout(session_id, card, now)).await
    }

    /// Sets the customer's plan to cancel at the end of its period (the portal's "Cancel
    /// plan"). A customer without a live plan is logged and left as is.
    pub async fn cancel_at_period_end(&self, customer: &str) {
        if let Err(error) = self.set_pending_cancel(customer, true).await {
            tracing::warn!(stripe.customer = %customer, error = format!("{error:#}"), "the Stripe emulator did not cancel");
        }
    }

    /// Withdraws a pending cancellation (the portal's "Renew plan").
    pub async fn renew(&self, customer: &str) {
        if let Err(error) = self.set_pending_cancel(customer, false).await {
            tracing::warn!(stripe.customer = %customer, error = format!("{error:#}"), "the Stripe emulator did not renew");
        }
    }

    /// Changes the customer's card (the portal's "Change card"); a past-due plan's unpaid
    /// invoices are retried at once. [`Card::Declined`] does not attach, as in Stripe: the
    /// card on file stays, and the refusal is logged.
    pub async fn change_card(&self, customer: &str, card: Card) {
        if let Err(error) = self.try_change_card(customer, card).await {
            tracing::warn!(stripe.customer = %customer, error = format!("{error:#}"), "the Stripe emulator kept the old card");
        }
    }

    /// Sets or withdraws a pending cancellation, saying why it could not.
    async fn set_pending_cancel(&self, customer: &str, cancel: bool) -> anyhow::Result<()> {
        self.settle(|world, now| world.set_cancel_at_period_end(customer, cancel, now)).await
    }

    /// Changes the card, saying why it could not.
    async fn try_change_card(&self, customer: &str, card: Card) -> anyhow::Result<()> {
        self.settle(|world, now| world.change_card(customer, card, now)).await
    }

    /// The status of the customer's newest subscription (`trialing`, `active`, `past_due`,
    /// `canceled`).
    pub fn subscription_status(&self, customer: &str) -> Option<String> {
        self.world().newest_subscription(customer).map(|subscription| subscription.status.as_str().to_owned())
    }

    /// The meter value last reported for the customer.
    pub fn meter_value(&self, customer: &str) -> Option<i64> {
        self.world().last_meter_value(customer)
    }

    /// The customer's invoices, oldest first.
    pub fn invoices(&self, customer: &str) -> Vec<EmulatedInvoice> {
        let world = self.world();
        let mut invoices: Vec<_> = world.invoices.iter().filter(|invoice| invoice.customer == customer).collect();
        invoices.sort_by_key(|invoice| invoice.seq);
        invoices
            .into_iter()
            .map(|invoice| EmulatedInvoice {
                id: invoice.id.clone(),
                subscription: invoice.subscription.clone(),
                status: invoice.status.as_str().to_owned(),
                quantity: invoice.quantity,
                amount_due: invoice.amount_due,
                amount_paid: invoice.amount_paid,
                attempt_count: invoice.attempt_count,
                period_start: invoice.period_start,
                period_end: invoice.period_end,
            })
            .collect()
    }

    /// The checkout session id in a checkout page URL the emulator handed out.
    pub fn checkout_url_session(url: &str) -> Option<String> {
        let (_, rest) = url.split_once("/stripe-emulator/checkout/")?;
        let id = rest.split(['?', '#', '/']).next().filter(|id| !id.is_empty())?;
        Some(id.to_owned())
    }

    /// The app clock's now, in Unix seconds (Stripe's unit).
    fn now_secs(&self) -> i64 {
        self.clock.now_ms().div_euclid(1000)
    }

    fn world(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use app::server::clock::ManualClock;

    use super::*;
    use crate::emulator::stripe::billing::DAY;

    const START_MS: i64 = 1_799_971_200_000;

    fn emulator(clock: &ManualClock) -> StripeEmulator {
        let emulator = StripeEmulator::new(
            "http://127.0.0.1:9/",
            SECRET_KEY,
            Secret::new(WEBHOOK_SECRET),
            Arc::new(clock.clone()),
        )
        .unwrap();
        // Nothing listens at the app's address in unit tests.
        emulator.set_delivery(Delivery::Held);
        emulator
    }

    /// A customer with an open checkout session, made through the emulated API's functions.
    fn customer_with_session(emulator: &StripeEmulator) -> (String, String) {
        let mut world = emulator.world();
        let customer = world::Customer {
            id: "cus_test".to_owned(),
            name: None,
            email: None,
            metadata: Default::default(),
            created: START_MS / 1000,
            card: None,
        };
        world.customers.push(customer);
        let session = world::Checkout {
            id: "cs_test_session".to_owned(),
            customer: "cus_test".to_owned(),
            price: PRICE_ID.to_owned(),
            success_url: "http://127.0.0.1:9/billing?session={CHECKOUT_SESSION_ID}".to_owned(),
            cancel_url: None,
            client_reference_id: None,
            trial_end: None,
            metadata: Default::default(),
            subscription_metadata: Default::default(),
            created: START_MS / 1000,
            expires_at: START_MS / 1000 + DAY,
            status: world::CheckoutStatus::Open,
            subscription: None,
            url: "http://127.0.0.1:9/stripe-emulator/checkout/cs_test_session".to_owned(),
        };
        world.add_checkout(session);
        ("cus_test".to_owned(), "cs_test_session".to_owned())
    }

    #[test]
    fn cards_are_known_by_their_numbers_with_or_without_spaces() {
        assert_eq!(Card::from_number("4242424242424242"), Some(Card::Succeeds));
        assert_eq!(Card::from_number("4000 0000 0000 0341"), Some(Card::FailsLater));
        assert_eq!(Card::from_number("4000000000000002"), Some(Card::Declined));
        assert_eq!(Card::from_number("1234"), None);
        assert_eq!(Card::FailsLater.last4(), "0341");
    }

    #[test]
    fn a_checkout_page_url_names_its_session() {
        assert_eq!(
            StripeEmulator::checkout_url_session("http://127.0.0.1:3000/stripe-emulator/checkout/cs_test_abc?x=1"),
            Some("cs_test_abc".to_owned())
        );
        assert_eq!(StripeEmulator::checkout_url_session("http://127.0.0.1:3000/billing"), None);
    }

    #[tokio::test]
    async fn a_tick_past_the_period_end_invoices_the_last_meter_value_on_the_apps_clock() {
        let clock = ManualClock::new(START_MS);
        let emulator = emulator(&clock);
        let (customer, session) = customer_with_session(&emulator);
        emulator.pay_checkout(&session, Card::Succeeds).await.unwrap();
        {
            let mut world = emulator.world();
            for (value, day) in [(4, 1), (9, 20)] {
                world.add_meter_event(world::MeterEvent {
                    identifier: format!("report-{day}"),
                    event_name: METER_EVENT_NAME.to_owned(),
                    customer: customer.clone(),
                    value,
                    timestamp: START_MS / 1000 + day * DAY,
                    created: START_MS / 1000 + day * DAY,
                    payload: Default::default(),
                });
            }
        }

        clock.advance(30 * DAY * 1000);
        emulator.tick().await.unwrap();
        let before = emulator.invoices(&customer).len();
        clock.advance(DAY * 1000);
        emulator.tick().await.unwrap();

        assert_eq!(before, 1, "only the first $0 invoice before the period ends");
        let invoices = emulator.invoices(&customer);
        let last = invoices.last().unwrap();
        assert_eq!((last.quantity, last.amount_due, last.status.as_str()), (9, 3_600, "paid"));
        assert_eq!(emulator.meter_value(&customer), Some(9));
        assert_eq!(emulator.subscription_status(&customer).as_deref(), Some("active"));
        let kinds: Vec<String> = emulator.events().into_iter().map(|(_, kind)| kind).collect();
        assert_eq!(
            kinds,
            [
                "checkout.session.completed",
                "customer.subscription.created",
                "invoice.paid",
                "customer.subscription.updated",
                "invoice.paid"
            ]
        );
        assert_eq!(emulator.held().len(), 5, "held, not sent: nothing listens");
    }

    #[tokio::test]
    async fn three_failed_retries_cancel_the_plan() {
        let clock = ManualClock::new(START_MS);
        let emulator = emulator(&clock);
        let (customer, session) = customer_with_session(&emulator);
        emulator.pay_checkout(&session, Card::FailsLater).await.unwrap();
        // Three active members in the period: the invoice at its end has something to charge.
        emulator.world().add_meter_event(world::MeterEvent {
            identifier: "active-1".to_owned(),
            event_name: METER_EVENT_NAME.to_owned(),
            customer: customer.clone(),
            value: 3,
            timestamp: START_MS / 1000 + DAY,
            created: START_MS / 1000 + DAY,
            payload: Default::default(),
        });
        let end_ms = START_MS + 31 * DAY * 1000;

        clock.set(end_ms);
        emulator.tick().await.unwrap();
        let after_first = emulator.subscription_status(&customer);
        for days in [3, 5] {
            clock.set(end_ms + days * DAY * 1000);
            emulator.tick().await.unwrap();
        }
        let after_two_retries = emulator.subscription_status(&customer);
        clock.set(end_ms + 7 * DAY * 1000);
        emulator.tick().await.unwrap();

        assert_eq!(after_first.as_deref(), Some("past_due"));
        assert_eq!(after_two_retries.as_deref(), Some("past_due"));
        assert_eq!(emulator.subscription_status(&customer).as_deref(), Some("canceled"));
        let kinds: Vec<String> = emulator.events().into_iter().map(|(_, kind)| kind).skip(3).collect();
        assert_eq!(
            kinds,
            [
                "customer.subscription.updated",
                "invoice.payment_failed",
                "invoice.payment_failed",
                "invoice.payment_failed",
                "invoice.payment_failed",
                "customer.subscription.deleted"
            ]
        );
        assert_eq!(emulator.invoices(&customer).last().map(|invoice| invoice.attempt_count), Some(4));
    }
}
