//! The billing rules, as Stripe runs them for a metered monthly price: a paid checkout
//! starts a subscription (trialing when it has a trial end), each ended period is invoiced
//! at the meter's `last` value times the unit price and charged to the card on file, a
//! failed charge makes the subscription `past_due` and is retried 3, 5 and 7 days after it
//! first failed, and after the last failed retry Stripe gives up and cancels. A plan set to
//! cancel at period end ends there instead of renewing.
//!
//! Everything here is a change to the [`World`] at a given time, with the events it makes
//! left in its outbox; nothing waits or sends. Times are Unix seconds.

use anyhow::{Context as _, anyhow, bail};

use super::{
    Card, CheckoutOutcome, events,
    world::{
        BillingReason, CancellationReason, Checkout, CheckoutStatus, Invoice, InvoiceStatus, Subscription,
        SubscriptionStatus, World, new_id,
    },
};

pub const DAY: i64 = 86_400;

/// When the scheduled retries of a failed charge run, in days after it first failed
/// (Stripe's default "smart retries" spread a few attempts over about a week).
pub const RETRY_DAYS: [i64; 3] = [3, 5, 7];

/// The most steps one subscription takes in one [`World::advance`], so a clock jumped
/// absurdly far cannot keep the lock forever (a hundred years of monthly periods fit).
const MAX_STEPS: usize = 5_000;

/// How one attempt to collect an invoice went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    Paid,
    /// Failed; another retry is scheduled (or, for a manual attempt, the schedule stands).
    Failed,
    /// Failed, and that was the last scheduled retry: Stripe gives up.
    Exhausted,
}

/// Why an attempt runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttemptKind {
    /// The charge when the invoice is made.
    First,
    /// One of the retries on the schedule.
    Scheduled,
    /// Right after the customer changed their card; it leaves the schedule as it is.
    Manual,
}

/// `secs` plus whole calendar months (Jan 31 + 1 month is the last day of February, as
/// Stripe bills); 30 days a month should the date be out of chrono's range.
pub fn add_months(secs: i64, months: u32) -> i64 {
    chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0)
        .and_then(|start| start.checked_add_months(chrono::Months::new(months)))
        .map_or(secs + i64::from(months) * 30 * DAY, |end| end.timestamp())
}

impl World {
    /// Pays checkout session `session_id` with `card` at `now`: the subscription starts,
    /// the session completes and the events Stripe sends are made.
    pub fn pay_checkout(&mut self, session_id: &str, card: Card, now: i64) -> anyhow::Result<CheckoutOutcome> {
        let session = self.checkout(session_id).with_context(|| format!("no checkout session {session_id}"))?.clone();
        match session.status_at(now) {
            CheckoutStatus::Complete => {
                return Ok(CheckoutOutcome::AlreadyComplete { redirect: session.success_redirect() });
            }
            CheckoutStatus::Expired => return Ok(CheckoutOutcome::Expired),
            CheckoutStatus::Open => {}
        }
        if card == Card::Declined {
            return Ok(CheckoutOutcome::Declined);
        }
        let customer = self.customer_mut(&session.customer).context("the session's customer is gone")?;
        customer.card = Some(card);
        let subscription_id = self.start_subscription(&session, now);
        // A metered plan (and a trial) owes nothing up front: Stripe makes a $0 first
        // invoice, paid at once.
        let first_invoice = self.new_invoice(&subscription_id, now, now, 0, BillingReason::SubscriptionCreate, now);
        self.attempt_payment(&first_invoice, now, AttemptKind::First);
        if let Some(completed) = self.checkout_mut(session_id) {
            completed.status = CheckoutStatus::Complete;
            completed.subscription = Some(subscription_id.clone());
        }
        events::checkout(self, "checkout.session.completed", session_id, now);
        events::subscription(self, "customer.subscription.created", &subscription_id, now);
        events::invoice(self, "invoice.paid", &first_invoice, now);
        Ok(CheckoutOutcome::Completed { subscription_id, redirect: session.success_redirect() })
    }

    /// Makes the subscription a paid checkout asks for; returns its id.
    fn start_subscription(&mut self, session: &Checkout, now: i64) -> String {
        let trial_end = session.trial_end.filter(|end| *end > now);
        let (status, anchor, cycle) = match trial_end {
            Some(end) => (SubscriptionStatus::Trialing, end, 0),
            None => (SubscriptionStatus::Active, now, 1),
        };
        let seq = self.next_seq();
        let subscription = Subscription {
            id: new_id("sub"),
            item_id: new_id("si"),
            customer: session.customer.clone(),
            price: session.price.clone(),
            created: now,
            start_date: now,
            status,
            metadata: session.subscription_metadata.clone(),
            billing_cycle_anchor: anchor,
            cycle,
            current_period_start: now,
            current_period_end: add_months(anchor, cycle),
            trial_start: trial_end.map(|_| now),
            trial_end,
            cancel_at_period_end: false,
            cancel_at: None,
            canceled_at: None,
            ended_at: None,
            cancellation_reason: None,
            latest_invoice: None,
            seq,
        };
        let id = subscription.id.clone();
        self.subscriptions.push(subscription);
        id
    }

    /// Makes an open invoice of `subscription_id` for `[start, end)` at the meter's
    /// `quantity` (nothing owed while trialing); returns its id.
    fn new_invoice(
        &mut self,
        subscription_id: &str,
        start: i64,
        end: i64,
        quantity: u64,
        reason: BillingReason,
        now: i64,
    ) -> String {
        let seq = self.next_seq();
        let number = self.next_invoice_number();
        let unit_price = self.price.unit_amount;
        let Some(subscription) = self.subscription_mut(subscription_id) else {
            return String::new();
        };
        let trial = subscription.status == SubscriptionStatus::Trialing;
        let unit_amount = if trial { 0 } else { unit_price };
        let amount = i64::try_from(quantity).unwrap_or(i64::MAX).saturating_mul(unit_amount);
        let invoice = Invoice {
            id: new_id("in"),
            line_id: new_id("il"),
            number,
            customer: subscription.customer.clone(),
            subscription: subscription.id.clone(),
            subscription_item: subscription.item_id.clone(),
            subscription_metadata: subscription.metadata.clone(),
            billing_reason: reason,
            created: now,
            period_start: start,
            period_end: end,
            quantity,
            unit_amount,
            amount_due: amount,
            amount_paid: 0,
            status: InvoiceStatus::Open,
            attempted: false,
            attempt_count: 0,
            paid_at: None,
            first_failed_at: None,
            retries_done: 0,
            next_payment_attempt: None,
            trial,
            seq,
        };
        let id = invoice.id.clone();
        subscription.latest_invoice = Some(id.clone());
        self.add_invoice(invoice);
        id
    }

    /// Tries to collect invoice `id` from its customer's card at `at`. Nothing owed is paid
    /// without a charge; otherwise only [`Card::Succeeds`] pays.
    fn attempt_payment(&mut self, id: &str, at: i64, kind: AttemptKind) -> Attempt {
        let card = self.invoice(id).and_then(|invoice| self.customer(&invoice.customer)).and_then(|c| c.card);
        let Some(invoice) = self.invoice_mut(id) else {
            return Attempt::Failed;
        };
        invoice.attempted = true;
        if invoice.amount_due > 0 {
            invoice.attempt_count += 1;
        }
        if invoice.amount_due <= 0 || card.is_some_and(Card::charges) {
            invoice.status = InvoiceStatus::Paid;
            invoice.amount_paid = invoice.amount_due;
            invoice.paid_at = Some(at);
            invoice.next_payment_attempt = None;
            return Attempt::Paid;
        }
        let first_failed = *invoice.first_failed_at.get_or_insert(at);
        match kind {
            AttemptKind::Manual => return Attempt::Failed,
            AttemptKind::Scheduled => invoice.retries_done += 1,
            AttemptKind::First => {}
        }
        invoice.next_payment_attempt = RETRY_DAYS.get(invoice.retries_done).map(|days| first_failed + days * DAY);
        if invoice.next_payment_attempt.is_some() { Attempt::Failed } else { Attempt::Exhausted }
    }

    /// Brings every subscription up to `now`: ends periods (renewing, or canceling one set
    /// to cancel) and runs the retries that fell due, in the order they happened.
    pub fn advance(&mut self, now: i64) {
        let live: Vec<String> = self
            .subscriptions
            .iter()
            .filter(|s| s.status != SubscriptionStatus::Canceled)
            .map(|s| s.id.clone())
            .collect();
        for id in live {
            self.advance_subscription(&id, now);
        }
    }

    /// Moves a live subscription's period end to `now` and brings it up to date, as a
    /// Stripe test clock advanced to the period's end would: a plan set to cancel ends, any
    /// other is invoiced and renewed.
    pub fn end_period_now(&mut self, id: &str, now: i64) -> anyhow::Result<()> {
        let Some(subscription) = self.subscription_mut(id) else { bail!("no subscription {id}") };
        if subscription.status == SubscriptionStatus::Canceled {
            bail!("{id} has ended already");
        }
        subscription.current_period_end =
            subscription.current_period_end.min(now).max(subscription.current_period_start);
        self.advance_subscription(id, now);
        Ok(())
    }

    fn advance_subscription(&mut self, id: &str, now: i64) {
        for _ in 0..MAX_STEPS {
            let Some(subscription) = self.subscription(id) else { return };
            if subscription.status == SubscriptionStatus::Canceled {
                return;
            }
            let period_end = subscription.current_period_end;
            match self.due_retry(id) {
                Some((invoice, at)) if at <= period_end && at <= now => self.retry(id, &invoice, at),
                _ if period_end <= now => self.end_period(id),
                _ => return,
            }
        }
        tracing::warn!(subscription.id = %id, "the Stripe emulator stopped advancing a subscription after too many steps");
    }

    /// The subscription's earliest scheduled retry: the invoice and when.
    fn due_retry(&self, subscription_id: &str) -> Option<(String, i64)> {
        self.invoices
            .iter()
            .filter(|invoice| invoice.subscription == subscription_id && invoice.status == InvoiceStatus::Open)
            .filter_map(|invoice| invoice.next_payment_attempt.map(|at| (invoice.id.clone(), at)))
            .min_by_key(|(_, at)| *at)
    }

    /// Runs a scheduled retry of `invoice_id` at `at`.
    fn retry(&mut self, subscription_id: &str, invoice_id: &str, at: i64) {
        match self.attempt_payment(invoice_id, at, AttemptKind::Scheduled) {
            Attempt::Paid => {
                events::invoice(self, "invoice.paid", invoice_id, at);
                if self.refresh_status(subscription_id) {
                    events::subscription(self, "customer.subscription.updated", subscription_id, at);
                }
            }
            Attempt::Failed => events::invoice(self, "invoice.payment_failed", invoice_id, at),
            Attempt::Exhausted => {
                events::invoice(self, "invoice.payment_failed", invoice_id, at);
                self.cancel_now(subscription_id, at, CancellationReason::PaymentFailed);
            }
        }
    }

    /// Ends the current period: the subscription ends there when set to, otherwise the
    /// period is invoiced, the next one starts and the invoice is charged.
    fn end_period(&mut self, id: &str) {
        let Some(subscription) = self.subscription(id) else { return };
        let (start, end, customer) =
            (subscription.current_period_start, subscription.current_period_end, subscription.customer.clone());
        if subscription.cancel_at_period_end {
            self.cancel_now(id, end, CancellationReason::CancellationRequested);
            return;
        }
        let quantity = self.meter_value_in(&customer, start, end).map_or(0, |value| u64::try_from(value).unwrap_or(0));
        let invoice = self.new_invoice(id, start, end, quantity, BillingReason::SubscriptionCycle, end);
        if let Some(subscription) = self.subscription_mut(id) {
            subscription.cycle += 1;
            let next_end = add_months(subscription.billing_cycle_anchor, subscription.cycle);
            subscription.current_period_start = end;
            // Never a period of no length, so the loop in `advance` always moves on.
            subscription.current_period_end = if next_end > end { next_end } else { end + 30 * DAY };
            if subscription.status == SubscriptionStatus::Trialing {
                subscription.status = SubscriptionStatus::Active;
            }
        }
        let paid = self.attempt_payment(&invoice, end, AttemptKind::First) == Attempt::Paid;
        self.refresh_status(id);
        events::subscription(self, "customer.subscription.updated", id, end);
        events::invoice(self, if paid { "invoice.paid" } else { "invoice.payment_failed" }, &invoice, end);
    }

    /// Sets an active or past-due subscription's status from its invoices: `past_due`
    /// while one is unpaid, `active` otherwise. Returns whether it changed.
    fn refresh_status(&mut self, id: &str) -> bool {
        let owing = self.invoices.iter().any(|invoice| {
            invoice.subscription == id
                && invoice.status == InvoiceStatus::Open
                && invoice.next_payment_attempt.is_some()
        });
        let Some(subscription) = self.subscription_mut(id) else { return false };
        let status = match subscription.status {
            SubscriptionStatus::Active | SubscriptionStatus::PastDue if owing => SubscriptionStatus::PastDue,
            SubscriptionStatus::Active | SubscriptionStatus::PastDue => SubscriptionStatus::Active,
            other => other,
        };
        let changed = status != subscription.status;
        subscription.status = status;
        changed
    }

    /// Cancels the subscription at `at` and says so. Its unpaid invoices stay open, with no
    /// more retries.
    fn cancel_now(&mut self, id: &str, at: i64, reason: CancellationReason) {
        let Some(subscription) = self.subscription_mut(id) else { return };
        subscription.status = SubscriptionStatus::Canceled;
        subscription.ended_at = Some(at);
        // Stripe keeps the time a pending cancellation was asked for.
        subscription.canceled_at = Some(subscription.canceled_at.unwrap_or(at));
        subscription.cancellation_reason = Some(reason);
        for invoice in self.invoices.iter_mut().filter(|invoice| invoice.subscription == id) {
            invoice.next_payment_attempt = None;
        }
        events::subscription(self, "customer.subscription.deleted", id, at);
    }

    /// Sets (or, with `cancel` false, withdraws) the customer's pending cancellation at the
    /// end of the period, as the portal's "Cancel plan" and "Renew plan" do.
    pub fn set_cancel_at_period_end(&mut self, customer: &str, cancel: bool, now: i64) -> anyhow::Result<()> {
        let id = self.live_subscription_id(customer).ok_or_else(|| anyhow!("{customer} has no live subscription"))?;
        let Some(subscription) = self.subscription_mut(&id) else { bail!("{customer} has no live subscription") };
        if subscription.cancel_at_period_end == cancel {
            return Ok(());
        }
        subscription.cancel_at_period_end = cancel;
        subscription.cancel_at = cancel.then_some(subscription.current_period_end);
        subscription.canceled_at = cancel.then_some(now);
        subscription.cancellation_reason = cancel.then_some(CancellationReason::CancellationRequested);
        events::subscription(self, "customer.subscription.updated", &id, now);
        Ok(())
    }

    /// Puts `card` on file for the customer. A declining card does not attach (Stripe
    /// refuses it); on a past-due subscription the unpaid invoices are retried at once.
    pub fn change_card(&mut self, customer: &str, card: Card, now: i64) -> anyhow::Result<()> {
        if card == Card::Declined {
            bail!("Your card was declined.");
        }
        self.customer_mut(customer).with_context(|| format!("no customer {customer}"))?.card = Some(card);
        let Some(id) = self.live_subscription_id(customer) else { return Ok(()) };
        if self.subscription(&id).is_none_or(|s| s.status != SubscriptionStatus::PastDue) {
            return Ok(());
        }
        let mut unpaid: Vec<(u64, String)> = self
            .invoices
            .iter()
            .filter(|i| i.subscription == id && i.status == InvoiceStatus::Open && i.next_payment_attempt.is_some())
            .map(|invoice| (invoice.seq, invoice.id.clone()))
            .collect();
        unpaid.sort();
        for (_, invoice) in unpaid {
            let kind = match self.attempt_payment(&invoice, now, AttemptKind::Manual) {
                Attempt::Paid => "invoice.paid",
                Attempt::Failed | Attempt::Exhausted => "invoice.payment_failed",
            };
            events::invoice(self, kind, &invoice, now);
        }
        if self.refresh_status(&id) {
            events::subscription(self, "customer.subscription.updated", &id, now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::emulator::stripe::{
        METER_EVENT_NAME,
        world::{Customer, MeterEvent},
    };

    /// 2027-01-15T00:00:00Z.
    const START: i64 = 1_799_971_200;

    fn workspace_metadata(workspace_id: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("workspace_id".to_owned(), workspace_id.to_owned())])
    }

    fn world_with_checkout(trial_end: Option<i64>) -> World {
        let mut world = World::new(START);
        world.customers.push(Customer {
            id: "cus_1".to_owned(),
            name: Some("Northwind".to_owned()),
            email: None,
            metadata: BTreeMap::new(),
            created: START,
            card: None,
        });
        world.add_checkout(Checkout {
            id: "cs_test_1".to_owned(),
            customer: "cus_1".to_owned(),
            price: world.price.id.clone(),
            success_url: "http://127.0.0.1:3000/billing?session={CHECKOUT_SESSION_ID}".to_owned(),
            cancel_url: None,
            client_reference_id: Some("w1".to_owned()),
            trial_end,
            metadata: BTreeMap::new(),
            subscription_metadata: workspace_metadata("w1"),
            created: START,
            expires_at: START + DAY,
            status: CheckoutStatus::Open,
            subscription: None,
            url: "http://127.0.0.1:3000/stripe-emulator/checkout/cs_test_1".to_owned(),
        });
        world
    }

    fn report(world: &mut World, value: i64, timestamp: i64) {
        world.add_meter_event(MeterEvent {
            identifier: new_id("id"),
            event_name: METER_EVENT_NAME.to_owned(),
            customer: "cus_1".to_owned(),
            value,
            timestamp,
            created: timestamp,
            payload: BTreeMap::new(),
        });
    }

    fn kinds(world: &mut World) -> Vec<String> {
        world.take_outbox().into_iter().map(|event| event.kind).collect()
    }

    fn subscription(world: &World) -> &Subscription {
        world.subscriptions.first().unwrap()
    }

    fn cycle_invoices(world: &World) -> Vec<&Invoice> {
        world.invoices.iter().filter(|i| i.billing_reason == BillingReason::SubscriptionCycle).collect()
    }

    #[test]
    fn months_are_calendar_months_from_the_anchor() {
        // 2027-01-31T12:00:00Z.
        let end_of_january = 1_801_396_800;

        assert_eq!(add_months(START, 1), START + 31 * DAY, "January has 31 days");
        assert_eq!(add_months(end_of_january, 1), end_of_january + 28 * DAY, "to the last day of February");
        assert_eq!(add_months(end_of_january, 2), end_of_january + 59 * DAY, "back to the 31st in March");
    }

    #[test]
    fn a_paid_checkout_starts_an_active_subscription_with_a_paid_zero_invoice() {
        let mut world = world_with_checkout(None);

        let outcome = world.pay_checkout("cs_test_1", Card::Succeeds, START).unwrap();

        let CheckoutOutcome::Completed { subscription_id, redirect } = outcome.clone() else {
            panic!("not completed: {outcome:?}")
        };
        assert_eq!(redirect, "http://127.0.0.1:3000/billing?session=cs_test_1");
        let subscription = subscription(&world);
        assert_eq!(subscription.id, subscription_id);
        assert_eq!(subscription.status, SubscriptionStatus::Active);
        assert_eq!(subscription.current_period_end, START + 31 * DAY);
        assert_eq!(subscription.metadata, workspace_metadata("w1"));
        let invoice = world.invoices.front().unwrap();
        assert_eq!((invoice.status, invoice.amount_due), (InvoiceStatus::Paid, 0));
        assert_eq!(world.checkout("cs_test_1").unwrap().status, CheckoutStatus::Complete);
        assert_eq!(kinds(&mut world), ["checkout.session.completed", "customer.subscription.created", "invoice.paid"]);
    }

    #[test]
    fn a_declined_card_leaves_the_session_open_and_makes_nothing() {
        let mut world = world_with_checkout(None);

        let outcome = world.pay_checkout("cs_test_1", Card::Declined, START).unwrap();

        assert_eq!(outcome, CheckoutOutcome::Declined);
        assert!(world.subscriptions.is_empty());
        assert_eq!(world.checkout("cs_test_1").unwrap().status, CheckoutStatus::Open);
        assert!(kinds(&mut world).is_empty());
    }

    #[test]
    fn a_period_end_invoices_the_last_meter_value_of_the_period() {
        let mut world = world_with_checkout(None);
        world.pay_checkout("cs_test_1", Card::Succeeds, START).unwrap();
        kinds(&mut world);
        let end = START + 31 * DAY;
        report(&mut world, 9, START + DAY);
        report(&mut world, 6, START + 10 * DAY);
        report(&mut world, 5, START + 2 * DAY);
        report(&mut world, 40, end);

        world.advance(end - 1);
        let before = world.invoices.len();
        world.advance(end);

        assert_eq!(before, 1, "nothing is invoiced before the period ends");
        let invoices = cycle_invoices(&world);
        let [invoice] = invoices.as_slice() else { panic!("expected one cycle invoice, got {invoices:?}") };
        assert_eq!((invoice.period_start, invoice.period_end), (START, end));
        assert_eq!(invoice.quantity, 6, "the latest event in the period, not the latest reported");
        assert_eq!(invoice.amount_due, 6 * 400);
        assert_eq!(invoice.status, InvoiceStatus::Paid);
        let subscription = subscription(&world);
        assert_eq!((subscription.current_period_start, subscription.status), (end, SubscriptionStatus::Active));
        assert_eq!(kinds(&mut world), ["customer.subscription.updated", "invoice.paid"]);
    }

    #[test]
    fn a_trial_ends_with_a_zero_invoice_and_the_plan_turns_active() {
        let trial_end = START + 14 * DAY;
        let mut world = world_with_checkout(Some(trial_end));
        world.pay_checkout("cs_test_1", Card::FailsLater, START).unwrap();
        assert_eq!(kinds(&mut world), ["checkout.session.completed", "customer.subscription.created", "invoice.paid"]);
        assert_eq!(world.invoices.front().map(|invoice| (invoice.trial, invoice.amount_due)), Some((true, 0)));
        report(&mut world, 12, START + DAY);

        world.advance(trial_end);

        let invoices = cycle_invoices(&world);
        let [invoice] = invoices.as_slice() else { panic!("expected the trial's invoice, got {invoices:?}") };
        assert_eq!((invoice.quantity, invoice.amount_due, invoice.status), (12, 0, InvoiceStatus::Paid));
        let subscription = subscription(&world);
        assert_eq!(subscription.status, SubscriptionStatus::Active);
        assert_eq!(subscription.current_period_end, add_months(trial_end, 1));
    }

    #[test]
    fn a_big_clock_jump_rolls_every_period_it_passes() {
        let mut world = world_with_checkout(None);
        world.pay_checkout("cs_test_1", Card::Succeeds, START).unwrap();

        world.advance(add_months(START, 3));

        assert_eq!(cycle_invoices(&world).len(), 3);
        assert_eq!(subscription(&world).current_period_start, add_months(START, 3));
    }

    #[test]
    fn after_three_failed_retries_stripe_gives_up_and_cancels() {
        let mut world = world_with_checkout(None);
        world.pay_checkout("cs_test_1", Card::FailsLater, START).unwrap();
        kinds(&mut world);
        report(&mut world, 3, START + DAY);
        let end = START + 31 * DAY;

        world.advance(end);
        assert_eq!(subscription(&world).status, SubscriptionStatus::PastDue);
        assert_eq!(kinds(&mut world), ["customer.subscription.updated", "invoice.payment_failed"]);
        world.advance(end + 3 * DAY - 1);
        assert!(kinds(&mut world).is_empty(), "no retry before three days");
        world.advance(end + 3 * DAY);
        world.advance(end + 5 * DAY);
        assert_eq!(kinds(&mut world), ["invoice.payment_failed", "invoice.payment_failed"]);
        assert_eq!(subscription(&world).status, SubscriptionStatus::PastDue);

        world.advance(end + 7 * DAY);

        assert_eq!(kinds(&mut world), ["invoice.payment_failed", "customer.subscription.deleted"]);
        let subscription = subscription(&world);
        assert_eq!(subscription.status, SubscriptionStatus::Canceled);
        assert_eq!(subscription.ended_at, Some(end + 7 * DAY));
        assert_eq!(subscription.cancellation_reason, Some(CancellationReason::PaymentFailed));
        let invoice = cycle_invoices(&world)[0].clone();
        assert_eq!(
            (invoice.attempt_count, invoice.status, invoice.next_payment_attempt),
            (4, InvoiceStatus::Open, None)
        );
        world.advance(end + 90 * DAY);
        assert!(kinds(&mut world).is_empty(), "a canceled plan stays quiet");
    }

    #[test]
    fn a_new_card_on_a_past_due_plan_pays_at_once_and_reactivates() {
        let mut world = world_with_checkout(None);
        world.pay_checkout("cs_test_1", Card::FailsLater, START).unwrap();
        report(&mut world, 3, START + DAY);
        world.advance(START + 31 * DAY);
        kinds(&mut world);

        world.change_card("cus_1", Card::Succeeds, START + 32 * DAY).unwrap();

        assert_eq!(kinds(&mut world), ["invoice.paid", "customer.subscription.updated"]);
        assert_eq!(subscription(&world).status, SubscriptionStatus::Active);
        assert!(
            world.change_card("cus_1", Card::Declined, START + 32 * DAY).is_err(),
            "a declining card never attaches"
        );
        assert_eq!(world.customer("cus_1").unwrap().card, Some(Card::Succeeds));
    }

    #[test]
    fn a_plan_set_to_cancel_ends_at_the_period_end_without_an_invoice() {
        let mut world = world_with_checkout(None);
        world.pay_checkout("cs_test_1", Card::Succeeds, START).unwrap();
        kinds(&mut world);

        world.set_cancel_at_period_end("cus_1", true, START + DAY).unwrap();
        world.set_cancel_at_period_end("cus_1", true, START + DAY).unwrap();
        world.advance(START + 31 * DAY);

        assert_eq!(kinds(&mut world), ["customer.subscription.updated", "customer.subscription.deleted"]);
        let subscription = subscription(&world);
        assert_eq!(subscription.status, SubscriptionStatus::Canceled);
        assert_eq!((subscription.canceled_at, subscription.ended_at), (Some(START + DAY), Some(START + 31 * DAY)));
        assert!(cycle_invoices(&world).is_empty());
    }
}
