//! The emulated Stripe account: its one price, the customers, checkout and portal sessions,
//! subscriptions, invoices and meter events the app made, the events made for webhooks and
//! the log of their deliveries. Plain records and lookups, depending on no sibling module but
//! [`super::idempotency`]: the billing rules live in [`super::billing`], events are made in
//! [`super::events`] and the JSON shapes in [`super::objects`].

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use rand::Rng as _;

use super::{
    Card, Delivery, METER_EVENT_NAME, METER_ID, PRICE_ID, PRODUCT_ID, UNIT_AMOUNT, idempotency::IdempotencyCache,
};
use crate::emulator::push_bounded;

/// Meter events kept per customer; the oldest go first.
pub const MAX_METER_EVENTS_PER_CUSTOMER: usize = 10_000;
/// Meter event identifiers remembered to refuse a repeat (Stripe: at least 24 hours).
const MAX_IDENTIFIERS: usize = 100_000;
/// Events kept for `events()`, the control page and resending.
const MAX_EVENTS: usize = 10_000;
/// Held events kept; past this the oldest held event is dropped, as if it never came.
const MAX_HELD: usize = 10_000;
/// Delivery attempts kept for the control page.
const MAX_DELIVERIES: usize = 1_000;
/// Checkout and portal sessions kept (Stripe expires them after a day and minutes).
const MAX_SESSIONS: usize = 1_000;
/// Invoices kept.
const MAX_INVOICES: usize = 10_000;

/// A metered price on the month, as seeded.
#[derive(Debug, Clone)]
pub struct Price {
    pub id: String,
    pub product: String,
    pub nickname: String,
    pub unit_amount: i64,
    pub currency: String,
    pub meter: String,
    pub event_name: String,
    pub created: i64,
}

/// A customer, as `POST /v1/customers` made it.
#[derive(Debug, Clone)]
pub struct Customer {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub created: i64,
    /// The card on file: attached by a paid checkout, changed in the portal.
    pub card: Option<Card>,
}

/// Where a Checkout Session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutStatus {
    Open,
    Complete,
    Expired,
}

impl CheckoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutStatus::Open => "open",
            CheckoutStatus::Complete => "complete",
            CheckoutStatus::Expired => "expired",
        }
    }
}

/// A Checkout Session in subscription mode.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub id: String,
    pub customer: String,
    pub price: String,
    pub success_url: String,
    pub cancel_url: Option<String>,
    pub client_reference_id: Option<String>,
    /// `subscription_data[trial_end]`, Unix seconds.
    pub trial_end: Option<i64>,
    pub metadata: BTreeMap<String, String>,
    /// `subscription_data[metadata]`: copied onto the subscription.
    pub subscription_metadata: BTreeMap<String, String>,
    pub created: i64,
    pub expires_at: i64,
    pub status: CheckoutStatus,
    pub subscription: Option<String>,
    /// The hosted page.
    pub url: String,
}

impl Checkout {
    /// The status as of `now`: an open session past its expiry is expired.
    pub fn status_at(&self, now: i64) -> CheckoutStatus {
        if self.status == CheckoutStatus::Open && now >= self.expires_at {
            CheckoutStatus::Expired
        } else {
            self.status
        }
    }

    /// Where the browser goes once paid: `success_url` with Stripe's `{CHECKOUT_SESSION_ID}`
    /// template filled in.
    pub fn success_redirect(&self) -> String {
        self.success_url.replace("{CHECKOUT_SESSION_ID}", &self.id)
    }
}

/// A customer-portal session.
#[derive(Debug, Clone)]
pub struct PortalSession {
    pub id: String,
    pub customer: String,
    pub return_url: Option<String>,
    pub created: i64,
    pub url: String,
}

/// The subscription statuses this account reaches (Stripe has a few more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    Trialing,
    Active,
    PastDue,
    Canceled,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Canceled => "canceled",
        }
    }
}

/// Why a subscription was (or will be) canceled, as `cancellation_details.reason` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancellationReason {
    CancellationRequested,
    PaymentFailed,
}

impl CancellationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CancellationReason::CancellationRequested => "cancellation_requested",
            CancellationReason::PaymentFailed => "payment_failed",
        }
    }
}

/// A subscription to the one price, with its one item.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: String,
    pub item_id: String,
    pub customer: String,
    pub price: String,
    pub created: i64,
    pub start_date: i64,
    pub status: SubscriptionStatus,
    pub metadata: BTreeMap<String, String>,
    /// Periods end whole months after the anchor (the start, or the trial's end).
    pub billing_cycle_anchor: i64,
    /// How many months after the anchor the current period ends.
    pub cycle: u32,
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub trial_start: Option<i64>,
    pub trial_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub cancellation_reason: Option<CancellationReason>,
    pub latest_invoice: Option<String>,
    /// Creation order, for "newest first".
    pub seq: u64,
}

/// Where an invoice stands (a finalized one: never a draft here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatus {
    Open,
    Paid,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
        }
    }
}

/// Why an invoice was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingReason {
    /// The first invoice, made when the subscription starts.
    SubscriptionCreate,
    /// The invoice for a period that ended.
    SubscriptionCycle,
}

impl BillingReason {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingReason::SubscriptionCreate => "subscription_create",
            BillingReason::SubscriptionCycle => "subscription_cycle",
        }
    }
}

/// An invoice of a subscription, with its one line (the metered item for the period).
#[derive(Debug, Clone)]
pub struct Invoice {
    pub id: String,
    pub line_id: String,
    pub number: String,
    pub customer: String,
    pub subscription: String,
    pub subscription_item: String,
    pub subscription_metadata: BTreeMap<String, String>,
    pub billing_reason: BillingReason,
    pub created: i64,
    pub period_start: i64,
    pub period_end: i64,
    /// The meter's value for the period (its `last` aggregation).
    pub quantity: u64,
    /// What one unit cost on this invoice (0 for a trial period).
    pub unit_amount: i64,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub status: InvoiceStatus,
    pub attempted: bool,
    pub attempt_count: u64,
    pub paid_at: Option<i64>,
    /// When the first charge failed; the scheduled retries count from here.
    pub first_failed_at: Option<i64>,
    /// How many scheduled retries have run.
    pub retries_done: usize,
    pub next_payment_attempt: Option<i64>,
    pub trial: bool,
    pub seq: u64,
}

/// One meter event, as reported.
#[derive(Debug, Clone)]
pub struct MeterEvent {
    pub identifier: String,
    pub event_name: String,
    pub customer: String,
    pub value: i64,
    pub timestamp: i64,
    pub created: i64,
    pub payload: BTreeMap<String, String>,
}

/// An event made for webhooks: its id, type and the whole JSON text sent.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub id: String,
    pub kind: String,
    pub payload: String,
}

/// One attempt to deliver an event; status 0 when the app did not answer.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    pub event_id: String,
    pub kind: String,
    pub status: u16,
    /// App-clock Unix seconds.
    pub at: i64,
}

/// The whole account, behind the emulator's one lock.
#[derive(Debug)]
pub struct World {
    pub price: Price,
    pub customers: Vec<Customer>,
    pub checkouts: VecDeque<Checkout>,
    pub portals: VecDeque<PortalSession>,
    pub subscriptions: Vec<Subscription>,
    pub invoices: VecDeque<Invoice>,
    meter_events: HashMap<String, VecDeque<MeterEvent>>,
    identifiers: VecDeque<String>,
    identifier_set: HashSet<String>,
    pub idempotency: IdempotencyCache,
    pub events: VecDeque<EventRecord>,
    /// Events made since the last [`World::take_outbox`].
    outbox: Vec<EventRecord>,
    pub held: VecDeque<EventRecord>,
    pub delivery: Delivery,
    pub deliveries: VecDeque<DeliveryRecord>,
    next_seq: u64,
    next_invoice_number: u64,
}

impl World {
    /// An account holding only the seeded price, made at `now`.
    pub fn new(now: i64) -> World {
        World {
            price: Price {
                id: PRICE_ID.to_owned(),
                product: PRODUCT_ID.to_owned(),
                nickname: "Active member".to_owned(),
                unit_amount: UNIT_AMOUNT,
                currency: "usd".to_owned(),
                meter: METER_ID.to_owned(),
                event_name: METER_EVENT_NAME.to_owned(),
                created: now,
            },
            customers: Vec::new(),
            checkouts: VecDeque::new(),
            portals: VecDeque::new(),
            subscriptions: Vec::new(),
            invoices: VecDeque::new(),
            meter_events: HashMap::new(),
            identifiers: VecDeque::new(),
            identifier_set: HashSet::new(),
            idempotency: IdempotencyCache::default(),
            events: VecDeque::new(),
            outbox: Vec::new(),
            held: VecDeque::new(),
            delivery: Delivery::Immediate,
            deliveries: VecDeque::new(),
            next_seq: 1,
            next_invoice_number: 1,
        }
    }

    /// A number that grows with every object made ("newest first" sorts by it).
    pub fn next_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// The next invoice number, as Stripe numbers an account's invoices.
    pub fn next_invoice_number(&mut self) -> String {
        let number = format!("RAPPORT-{:04}", self.next_invoice_number);
        self.next_invoice_number += 1;
        number
    }

    /// The price with this id (there is one).
    pub fn price(&self, id: &str) -> Option<&Price> {
        (self.price.id == id).then_some(&self.price)
    }

    /// Lookups by id.
    pub fn customer(&self, id: &str) -> Option<&Customer> {
        self.customers.iter().find(|customer| customer.id == id)
    }

    pub fn customer_mut(&mut self, id: &str) -> Option<&mut Customer> {
        self.customers.iter_mut().find(|customer| customer.id == id)
    }

    pub fn checkout(&self, id: &str) -> Option<&Checkout> {
        self.checkouts.iter().find(|checkout| checkout.id == id)
    }

    pub fn checkout_mut(&mut self, id: &str) -> Option<&mut Checkout> {
        self.checkouts.iter_mut().find(|checkout| checkout.id == id)
    }

    /// Keeps a new session, forgetting the oldest past the limit.
    pub fn add_checkout(&mut self, checkout: Checkout) {
        push_bounded(&mut self.checkouts, checkout, MAX_SESSIONS);
    }

    pub fn portal(&self, id: &str) -> Option<&PortalSession> {
        self.portals.iter().find(|portal| portal.id == id)
    }

    /// Keeps a new portal session, forgetting the oldest past the limit.
    pub fn add_portal(&mut self, portal: PortalSession) {
        push_bounded(&mut self.portals, portal, MAX_SESSIONS);
    }

    pub fn subscription(&self, id: &str) -> Option<&Subscription> {
        self.subscriptions.iter().find(|subscription| subscription.id == id)
    }

    pub fn subscription_mut(&mut self, id: &str) -> Option<&mut Subscription> {
        self.subscriptions.iter_mut().find(|subscription| subscription.id == id)
    }

    /// The customer's newest subscription, of any status.
    pub fn newest_subscription(&self, customer: &str) -> Option<&Subscription> {
        self.subscriptions.iter().filter(|s| s.customer == customer).max_by_key(|s| s.seq)
    }

    /// The id of the customer's newest subscription that is not canceled.
    pub fn live_subscription_id(&self, customer: &str) -> Option<String> {
        self.subscriptions
            .iter()
            .filter(|s| s.customer == customer && s.status != SubscriptionStatus::Canceled)
            .max_by_key(|s| s.seq)
            .map(|s| s.id.clone())
    }

    pub fn invoice(&self, id: &str) -> Option<&Invoice> {
        self.invoices.iter().find(|invoice| invoice.id == id)
    }

    pub fn invoice_mut(&mut self, id: &str) -> Option<&mut Invoice> {
        self.invoices.iter_mut().find(|invoice| invoice.id == id)
    }

    /// Keeps a new invoice, forgetting the oldest past the limit.
    pub fn add_invoice(&mut self, invoice: Invoice) {
        push_bounded(&mut self.invoices, invoice, MAX_INVOICES);
    }

    /// Whether a meter event with this identifier was reported before.
    pub fn identifier_seen(&self, identifier: &str) -> bool {
        self.identifier_set.contains(identifier)
    }

    /// Keeps a meter event (and its identifier, to refuse a repeat).
    pub fn add_meter_event(&mut self, event: MeterEvent) {
        self.identifier_set.insert(event.identifier.clone());
        self.identifiers.push_back(event.identifier.clone());
        while self.identifiers.len() > MAX_IDENTIFIERS {
            if let Some(oldest) = self.identifiers.pop_front() {
                self.identifier_set.remove(&oldest);
            }
        }
        let events = self.meter_events.entry(event.customer.clone()).or_default();
        push_bounded(events, event, MAX_METER_EVENTS_PER_CUSTOMER);
    }

    /// The value last reported for the customer.
    pub fn last_meter_value(&self, customer: &str) -> Option<i64> {
        self.meter_events.get(customer).and_then(|events| events.back()).map(|event| event.value)
    }

    /// The meter's `last` aggregation over `[start, end)`: the value of the event with the
    /// latest timestamp in the period (of equal timestamps, the one reported last).
    pub fn meter_value_in(&self, customer: &str, start: i64, end: i64) -> Option<i64> {
        self.meter_events
            .get(customer)?
            .iter()
            .filter(|event| event.timestamp >= start && event.timestamp < end)
            .max_by_key(|event| event.timestamp)
            .map(|event| event.value)
    }

    /// Keeps an event made for webhooks (forgetting the oldest past the limit) and puts it in
    /// the outbox, where it waits until [`World::take_outbox`].
    pub fn record_event(&mut self, record: EventRecord) {
        push_bounded(&mut self.events, record.clone(), MAX_EVENTS);
        self.outbox.push(record);
    }

    /// The events made since the last call, as the delivery mode wants them sent: once,
    /// twice each, or none (held for later).
    pub fn take_outbox(&mut self) -> Vec<EventRecord> {
        let made = std::mem::take(&mut self.outbox);
        match self.delivery {
            Delivery::Immediate => made,
            Delivery::Twice => made.into_iter().flat_map(|event| [event.clone(), event]).collect(),
            Delivery::Held => {
                for event in made {
                    push_bounded(&mut self.held, event, MAX_HELD);
                }
                Vec::new()
            }
        }
    }

    /// A kept event, to send again.
    pub fn event(&self, id: &str) -> Option<&EventRecord> {
        self.events.iter().find(|event| event.id == id)
    }

    /// Notes one delivery attempt, forgetting the oldest past the limit.
    pub fn log_delivery(&mut self, event: &EventRecord, status: u16, at: i64) {
        let record = DeliveryRecord { event_id: event.id.clone(), kind: event.kind.clone(), status, at };
        push_bounded(&mut self.deliveries, record, MAX_DELIVERIES);
    }
}

/// A Stripe-like id: the prefix, an underscore and 14 random letters and digits.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_text(14))
}

/// Random letters and digits.
pub fn random_text(len: usize) -> String {
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(len).map(char::from).collect()
}
