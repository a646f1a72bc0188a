//! The JSON of each Stripe object the emulator hands out, shaped so async-stripe's generated
//! types read it: every field those types require is present (nested required objects built
//! minimally and validly), optional ones are present when Rapport may read them or `null`,
//! enums use Stripe's strings, and each object carries its `object` name as Stripe's do.
//! The field set follows the API version async-stripe speaks
//! ([`stripe_shared::version::VERSION`]): a subscription's period lives on its item, an
//! invoice names its subscription under `parent.subscription_details`.

use serde_json::{Value, json};

use super::world::{Checkout, CheckoutStatus, Customer, Invoice, MeterEvent, PortalSession, Price, Subscription};

/// The portal configuration every portal session uses.
pub const PORTAL_CONFIGURATION: &str = "bpc_rapport_emulator";

/// A JSON object from `(field, value)` pairs. Used for the big objects: `json!` expands
/// recursively and a literal with fifty fields would pass the macro recursion limit.
fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(fields.into_iter().map(|(name, value)| (name.to_owned(), value)).collect())
}

/// A page of a list, as `GET /v1/<objects>` answers.
pub fn list(url: &str, data: Vec<Value>, has_more: bool) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

/// A customer.
pub fn customer(customer: &Customer) -> Value {
    object([
        ("id", json!(customer.id)),
        ("object", json!("customer")),
        ("address", Value::Null),
        ("balance", json!(0)),
        ("created", json!(customer.created)),
        ("currency", Value::Null),
        ("default_source", Value::Null),
        ("delinquent", json!(false)),
        ("description", Value::Null),
        ("email", json!(customer.email)),
        ("livemode", json!(false)),
        ("metadata", json!(customer.metadata)),
        ("name", json!(customer.name)),
        ("phone", Value::Null),
        ("preferred_locales", json!([])),
        ("shipping", Value::Null),
        ("tax_exempt", json!("none")),
        ("test_clock", Value::Null),
    ])
}

/// The metered price.
pub fn price(price: &Price) -> Value {
    object([
        ("id", json!(price.id)),
        ("object", json!("price")),
        ("active", json!(true)),
        ("billing_scheme", json!("per_unit")),
        ("created", json!(price.created)),
        ("currency", json!(price.currency)),
        ("custom_unit_amount", Value::Null),
        ("livemode", json!(false)),
        ("lookup_key", Value::Null),
        ("metadata", json!({})),
        ("nickname", json!(price.nickname)),
        ("product", json!(price.product)),
        (
            "recurring",
            json!({
                "interval": "month",
                "interval_count": 1,
                "meter": price.meter,
                "trial_period_days": null,
                "usage_type": "metered",
            }),
        ),
        ("tax_behavior", json!("unspecified")),
        ("tiers_mode", Value::Null),
        ("transform_quantity", Value::Null),
        ("type", json!("recurring")),
        ("unit_amount", json!(price.unit_amount)),
        ("unit_amount_decimal", json!(price.unit_amount.to_string())),
    ])
}

/// The legacy plan view of the price, which subscription items still carry.
pub fn plan(price: &Price) -> Value {
    object([
        ("id", json!(price.id)),
        ("object", json!("plan")),
        ("active", json!(true)),
        ("amount", json!(price.unit_amount)),
        ("amount_decimal", json!(price.unit_amount.to_string())),
        ("billing_scheme", json!("per_unit")),
        ("created", json!(price.created)),
        ("currency", json!(price.currency)),
        ("interval", json!("month")),
        ("interval_count", json!(1)),
        ("livemode", json!(false)),
        ("metadata", json!({})),
        ("meter", json!(price.meter)),
        ("nickname", json!(price.nickname)),
        ("product", json!(price.product)),
        ("tiers_mode", Value::Null),
        ("transform_usage", Value::Null),
        ("trial_period_days", Value::Null),
        ("usage_type", json!("metered")),
    ])
}

/// The subscription's one item; the current period is here in this API version.
fn subscription_item(subscription: &Subscription, price: &Price) -> Value {
    object([
        ("id", json!(subscription.item_id)),
        ("object", json!("subscription_item")),
        ("billing_thresholds", Value::Null),
        ("created", json!(subscription.created)),
        ("current_period_end", json!(subscription.current_period_end)),
        ("current_period_start", json!(subscription.current_period_start)),
        ("discounts", json!([])),
        ("metadata", json!({})),
        ("plan", plan(price)),
        ("price", self::price(price)),
        ("subscription", json!(subscription.id)),
        ("tax_rates", json!([])),
    ])
}

/// A subscription with its one item.
pub fn subscription(subscription: &Subscription, price: &Price) -> Value {
    let items = list(
        &format!("/v1/subscription_items?subscription={}", subscription.id),
        vec![subscription_item(subscription, price)],
        false,
    );
    object([
        ("id", json!(subscription.id)),
        ("object", json!("subscription")),
        ("application", Value::Null),
        ("application_fee_percent", Value::Null),
        ("automatic_tax", json!({ "disabled_reason": null, "enabled": false, "liability": null })),
        ("billing_cycle_anchor", json!(subscription.billing_cycle_anchor)),
        ("billing_cycle_anchor_config", Value::Null),
        ("billing_mode", json!({ "type": "flexible", "flexible": null, "updated_at": null })),
        ("billing_schedules", json!([])),
        ("billing_thresholds", Value::Null),
        ("cancel_at", json!(subscription.cancel_at)),
        ("cancel_at_period_end", json!(subscription.cancel_at_period_end)),
        ("canceled_at", json!(subscription.canceled_at)),
        (
            "cancellation_details",
            json!({
                "comment": null,
                "feedback": null,
                "reason": subscription.cancellation_reason.map(|reason| reason.as_str()),
            }),
        ),
        ("collection_method", json!("charge_automatically")),
        ("created", json!(subscription.created)),
        ("currency", json!(price.currency)),
        ("customer", json!(subscription.customer)),
        ("customer_account", Value::Null),
        ("days_until_due", Value::Null),
        ("default_payment_method", Value::Null),
        ("default_source", Value::Null),
        ("default_tax_rates", json!([])),
        ("description", Value::Null),
        ("discounts", json!([])),
        ("ended_at", json!(subscription.ended_at)),
        ("invoice_settings", json!({ "account_tax_ids": null, "issuer": { "type": "self" } })),
        ("items", items),
        ("latest_invoice", json!(subscription.latest_invoice)),
        ("livemode", json!(false)),
        ("metadata", json!(subscription.metadata)),
        ("next_pending_invoice_item_invoice", Value::Null),
        ("on_behalf_of", Value::Null),
        ("pause_collection", Value::Null),
        ("payment_settings", Value::Null),
        ("pending_invoice_item_interval", Value::Null),
        ("pending_setup_intent", Value::Null),
        ("pending_update", Value::Null),
        ("schedule", Value::Null),
        ("start_date", json!(subscription.start_date)),
        ("status", json!(subscription.status.as_str())),
        ("test_clock", Value::Null),
        ("transfer_data", Value::Null),
        ("trial_end", json!(subscription.trial_end)),
        ("trial_settings", Value::Null),
        ("trial_start", json!(subscription.trial_start)),
    ])
}

/// The invoice's one line: the metered item over the period.
fn invoice_line(invoice: &Invoice, price: &Price) -> Value {
    let description = if invoice.trial {
        format!("Trial period for {}", price.nickname)
    } else {
        format!("{} × {} (at {} / month)", invoice.quantity, price.nickname, money(price.unit_amount, &price.currency))
    };
    object([
        ("id", json!(invoice.line_id)),
        ("object", json!("line_item")),
        ("amount", json!(invoice.amount_due)),
        ("currency", json!(price.currency)),
        ("description", json!(description)),
        ("discount_amounts", json!([])),
        ("discountable", json!(true)),
        ("discounts", json!([])),
        ("invoice", json!(invoice.id)),
        ("livemode", json!(false)),
        ("metadata", json!({})),
        (
            "parent",
            json!({
                "type": "subscription_item_details",
                "invoice_item_details": null,
                "subscription_item_details": {
                    "invoice_item": null,
                    "proration": false,
                    "proration_details": { "credited_items": null },
                    "subscription": invoice.subscription,
                    "subscription_item": invoice.subscription_item,
                },
            }),
        ),
        ("period", json!({ "end": invoice.period_end, "start": invoice.period_start })),
        ("pretax_credit_amounts", json!([])),
        (
            "pricing",
            json!({
                "type": "price_details",
                "price_details": { "price": price.id, "product": price.product },
                "unit_amount_decimal": invoice.unit_amount.to_string(),
            }),
        ),
        ("quantity", json!(invoice.quantity)),
        ("subtotal", json!(invoice.amount_due)),
        ("taxes", json!([])),
    ])
}

/// An invoice. It names its subscription only under `parent` (the top-level
/// `subscription` field is gone from this API version, so the emulator leaves it out too).
pub fn invoice(invoice: &Invoice, price: &Price) -> Value {
    let lines = list(&format!("/v1/invoices/{}/lines", invoice.id), vec![invoice_line(invoice, price)], false);
    let total = invoice.amount_due;
    object([
        ("id", json!(invoice.id)),
        ("object", json!("invoice")),
        ("account_country", json!("US")),
        ("account_name", json!("Rapport (Stripe emulator)")),
        ("amount_due", json!(total)),
        ("amount_overpaid", json!(0)),
        ("amount_paid", json!(invoice.amount_paid)),
        ("amount_remaining", json!(total - invoice.amount_paid)),
        ("amount_shipping", json!(0)),
        ("attempt_count", json!(invoice.attempt_count)),
        ("attempted", json!(invoice.attempted)),
        ("auto_advance", json!(invoice.next_payment_attempt.is_some())),
        (
            "automatic_tax",
            json!({ "disabled_reason": null, "enabled": false, "liability": null, "provider": null, "status": null }),
        ),
        ("billing_reason", json!(invoice.billing_reason.as_str())),
        ("collection_method", json!("charge_automatically")),
        ("created", json!(invoice.created)),
        ("currency", json!(price.currency)),
        ("customer", json!(invoice.customer)),
        ("default_tax_rates", json!([])),
        ("description", Value::Null),
        ("discounts", json!([])),
        ("due_date", Value::Null),
        ("effective_at", json!(invoice.created)),
        ("ending_balance", json!(0)),
        ("hosted_invoice_url", Value::Null),
        ("invoice_pdf", Value::Null),
        ("issuer", json!({ "type": "self" })),
        ("lines", lines),
        ("livemode", json!(false)),
        ("metadata", json!({})),
        ("next_payment_attempt", json!(invoice.next_payment_attempt)),
        ("number", json!(invoice.number)),
        (
            "parent",
            json!({
                "type": "subscription_details",
                "quote_details": null,
                "subscription_details": {
                    "metadata": invoice.subscription_metadata,
                    "subscription": invoice.subscription,
                    "subscription_proration_date": null,
                },
            }),
        ),
        (
            "payment_settings",
            json!({ "default_mandate": null, "payment_method_options": null, "payment_method_types": null }),
        ),
        ("period_end", json!(invoice.period_end)),
        ("period_start", json!(invoice.period_start)),
        ("post_payment_credit_notes_amount", json!(0)),
        ("pre_payment_credit_notes_amount", json!(0)),
        ("receipt_number", Value::Null),
        ("starting_balance", json!(0)),
        ("statement_descriptor", Value::Null),
        ("status", json!(invoice.status.as_str())),
        (
            "status_transitions",
            json!({
                "finalized_at": invoice.created,
                "marked_uncollectible_at": null,
                "paid_at": invoice.paid_at,
                "voided_at": null,
            }),
        ),
        ("subtotal", json!(total)),
        ("subtotal_excluding_tax", json!(total)),
        ("total", json!(total)),
        ("total_discount_amounts", json!([])),
        ("total_excluding_tax", json!(total)),
        ("total_pretax_credit_amounts", json!([])),
        ("total_taxes", json!([])),
    ])
}

/// A Checkout Session as of `now` (an open one past its expiry reads as expired, and only
/// an open one has a page).
pub fn checkout(checkout: &Checkout, now: i64) -> Value {
    let status = checkout.status_at(now);
    let payment_status = if status == CheckoutStatus::Complete { "paid" } else { "unpaid" };
    let url = (status == CheckoutStatus::Open).then_some(&checkout.url);
    object([
        ("id", json!(checkout.id)),
        ("object", json!("checkout.session")),
        ("allow_promotion_codes", Value::Null),
        ("amount_subtotal", json!(0)),
        ("amount_total", json!(0)),
        ("automatic_tax", json!({ "enabled": false, "liability": null, "provider": null, "status": null })),
        ("billing_address_collection", Value::Null),
        ("cancel_url", json!(checkout.cancel_url)),
        ("client_reference_id", json!(checkout.client_reference_id)),
        ("client_secret", Value::Null),
        ("created", json!(checkout.created)),
        ("currency", json!("usd")),
        ("custom_fields", json!([])),
        (
            "custom_text",
            json!({ "after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null }),
        ),
        ("customer", json!(checkout.customer)),
        ("customer_creation", Value::Null),
        ("customer_email", Value::Null),
        ("expires_at", json!(checkout.expires_at)),
        ("invoice", Value::Null),
        ("livemode", json!(false)),
        ("locale", Value::Null),
        ("metadata", json!(checkout.metadata)),
        ("mode", json!("subscription")),
        ("payment_intent", Value::Null),
        ("payment_link", Value::Null),
        ("payment_method_types", json!(["card"])),
        ("payment_status", json!(payment_status)),
        ("recovered_from", Value::Null),
        ("setup_intent", Value::Null),
        ("shipping_options", json!([])),
        ("status", json!(status.as_str())),
        ("submit_type", Value::Null),
        ("subscription", json!(checkout.subscription)),
        ("success_url", json!(checkout.success_url)),
        ("url", json!(url)),
    ])
}

/// A customer-portal session.
pub fn portal(portal: &PortalSession) -> Value {
    json!({
        "id": portal.id,
        "object": "billing_portal.session",
        "configuration": PORTAL_CONFIGURATION,
        "created": portal.created,
        "customer": portal.customer,
        "customer_account": null,
        "flow": null,
        "livemode": false,
        "locale": null,
        "on_behalf_of": null,
        "return_url": portal.return_url,
        "url": portal.url,
    })
}

/// A meter event, as `POST /v1/billing/meter_events` answers.
pub fn meter_event(event: &MeterEvent) -> Value {
    json!({
        "object": "billing.meter_event",
        "created": event.created,
        "event_name": event.event_name,
        "identifier": event.identifier,
        "livemode": false,
        "payload": event.payload,
        "timestamp": event.timestamp,
    })
}

/// An event as a webhook carries it, rendered with the API version async-stripe speaks.
pub fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    let api_version = stripe_shared::version::VERSION;
    json!({
        "id": id,
        "object": "event",
        "api_version": api_version.as_str(),
        "created": created,
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": kind,
    })
}

/// An amount in the currency's smallest unit as people read it (`$4.00`).
pub fn money(amount: i64, currency: &str) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let cents = amount.unsigned_abs();
    let symbol = if currency == "usd" { "$" } else { "" };
    let suffix = if currency == "usd" { String::new() } else { format!(" {}", currency.to_uppercase()) };
    format!("{sign}{symbol}{}.{:02}{suffix}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    //! Each object must read back as async-stripe's own type, the way the app's client reads
    //! API answers (miniserde) and the webhook code reads events.

    use std::collections::BTreeMap;

    use app::server::secret::Secret;

    use super::*;
    use crate::{
        emulator::stripe::{
            Card,
            world::{BillingReason, CancellationReason, InvoiceStatus, SubscriptionStatus, World},
        },
        stripe::verify::{Verified, sign, verify},
    };

    const NOW: i64 = 1_800_000_000;

    fn subscription_of(world: &World, status: SubscriptionStatus) -> Subscription {
        Subscription {
            id: "sub_1".to_owned(),
            item_id: "si_1".to_owned(),
            customer: "cus_1".to_owned(),
            price: world.price.id.clone(),
            created: NOW,
            start_date: NOW,
            status,
            metadata: BTreeMap::from([("workspace_id".to_owned(), "w1".to_owned())]),
            billing_cycle_anchor: NOW + 86_400 * 14,
            cycle: 0,
            current_period_start: NOW,
            current_period_end: NOW + 86_400 * 14,
            trial_start: Some(NOW),
            trial_end: Some(NOW + 86_400 * 14),
            cancel_at_period_end: true,
            cancel_at: Some(NOW + 86_400 * 14),
            canceled_at: Some(NOW + 60),
            ended_at: None,
            cancellation_reason: Some(CancellationReason::CancellationRequested),
            latest_invoice: Some("in_1".to_owned()),
            seq: 1,
        }
    }

    fn invoice_of() -> Invoice {
        Invoice {
            id: "in_1".to_owned(),
            line_id: "il_1".to_owned(),
            number: "RAPPORT-0001".to_owned(),
            customer: "cus_1".to_owned(),
            subscription: "sub_1".to_owned(),
            subscription_item: "si_1".to_owned(),
            subscription_metadata: BTreeMap::from([("workspace_id".to_owned(), "w1".to_owned())]),
            billing_reason: BillingReason::SubscriptionCycle,
            created: NOW,
            period_start: NOW - 86_400 * 30,
            period_end: NOW,
            quantity: 7,
            unit_amount: 400,
            amount_due: 2_800,
            amount_paid: 0,
            status: InvoiceStatus::Open,
            attempted: true,
            attempt_count: 1,
            paid_at: None,
            first_failed_at: Some(NOW),
            retries_done: 0,
            next_payment_attempt: Some(NOW + 3 * 86_400),
            trial: false,
            seq: 2,
        }
    }

    fn checkout_of(world: &World) -> Checkout {
        Checkout {
            id: "cs_test_1".to_owned(),
            customer: "cus_1".to_owned(),
            price: world.price.id.clone(),
            success_url: "http://127.0.0.1:3000/billing?session={CHECKOUT_SESSION_ID}".to_owned(),
            cancel_url: Some("http://127.0.0.1:3000/billing".to_owned()),
            client_reference_id: Some("w1".to_owned()),
            trial_end: Some(NOW + 86_400 * 14),
            metadata: BTreeMap::new(),
            subscription_metadata: BTreeMap::from([("workspace_id".to_owned(), "w1".to_owned())]),
            created: NOW,
            expires_at: NOW + 86_400,
            status: CheckoutStatus::Open,
            subscription: None,
            url: "http://127.0.0.1:3000/stripe-emulator/checkout/cs_test_1".to_owned(),
        }
    }

    #[test]
    fn a_customer_reads_as_async_stripes_customer() {
        let customer = Customer {
            id: "cus_1".to_owned(),
            name: Some("Northwind".to_owned()),
            email: None,
            metadata: BTreeMap::from([("workspace_id".to_owned(), "w1".to_owned())]),
            created: NOW,
            card: Some(Card::Succeeds),
        };

        let read: stripe_shared::Customer = miniserde::json::from_str(&super::customer(&customer).to_string()).unwrap();

        assert_eq!(read.id.as_str(), "cus_1");
        assert_eq!(read.name.as_deref(), Some("Northwind"));
        assert_eq!(read.metadata.unwrap().get("workspace_id").map(String::as_str), Some("w1"));
    }

    #[test]
    fn the_price_reads_as_a_metered_monthly_price() {
        let world = World::new(NOW);

        let read: stripe_shared::Price = miniserde::json::from_str(&super::price(&world.price).to_string()).unwrap();

        assert_eq!(read.id.as_str(), super::super::PRICE_ID);
        assert_eq!(read.unit_amount, Some(400));
        assert_eq!(read.currency.to_string(), "usd");
        let recurring = read.recurring.unwrap();
        assert_eq!(recurring.usage_type.as_str(), "metered");
        assert_eq!(recurring.meter.as_deref(), Some(super::super::METER_ID));
    }

    #[test]
    fn subscriptions_of_every_status_read_with_their_period_on_the_item() {
        let world = World::new(NOW);
        for status in [
            SubscriptionStatus::Trialing,
            SubscriptionStatus::Active,
            SubscriptionStatus::PastDue,
            SubscriptionStatus::Canceled,
        ] {
            let json = super::subscription(&subscription_of(&world, status), &world.price).to_string();

            let read: stripe_shared::Subscription = miniserde::json::from_str(&json).unwrap();

            assert_eq!(read.status.as_str(), status.as_str());
            assert!(read.cancel_at_period_end);
            let item = read.items.data.first().unwrap();
            assert_eq!(item.current_period_end, NOW + 86_400 * 14);
            assert_eq!(read.metadata.get("workspace_id").map(String::as_str), Some("w1"));
        }
    }

    #[test]
    fn a_list_of_subscriptions_reads_as_async_stripes_list() {
        let world = World::new(NOW);
        let page = list(
            "/v1/subscriptions",
            vec![super::subscription(&subscription_of(&world, SubscriptionStatus::Active), &world.price)],
            false,
        );

        let read: stripe_types::List<stripe_shared::Subscription> =
            miniserde::json::from_str(&page.to_string()).unwrap();

        assert_eq!(read.data.len(), 1);
        assert!(!read.has_more);
    }

    #[test]
    fn an_invoice_reads_with_its_line_subscription_and_status() {
        let world = World::new(NOW);
        let page = list("/v1/invoices", vec![super::invoice(&invoice_of(), &world.price)], false);

        let read: stripe_types::List<stripe_shared::Invoice> = miniserde::json::from_str(&page.to_string()).unwrap();

        let invoice = read.data.first().unwrap();
        assert_eq!(invoice.amount_due, 2_800);
        assert_eq!(invoice.status.as_ref().map(|status| status.as_str()), Some("open"));
        assert_eq!(invoice.number.as_deref(), Some("RAPPORT-0001"));
        assert_eq!(invoice.lines.data.first().and_then(|line| line.quantity), Some(7));
        let parent = invoice.parent.as_ref().and_then(|parent| parent.subscription_details.as_ref()).unwrap();
        assert_eq!(parent.subscription.id().as_str(), "sub_1");
    }

    #[test]
    fn a_checkout_session_reads_open_with_its_page_and_complete_without() {
        let world = World::new(NOW);
        let mut session = checkout_of(&world);

        let open: stripe_shared::CheckoutSession =
            miniserde::json::from_str(&super::checkout(&session, NOW).to_string()).unwrap();
        session.status = CheckoutStatus::Complete;
        session.subscription = Some("sub_1".to_owned());
        let complete: stripe_shared::CheckoutSession =
            miniserde::json::from_str(&super::checkout(&session, NOW).to_string()).unwrap();

        assert_eq!(open.url.as_deref(), Some("http://127.0.0.1:3000/stripe-emulator/checkout/cs_test_1"));
        assert_eq!(open.status.map(|status| status.as_str().to_owned()).as_deref(), Some("open"));
        assert_eq!(complete.payment_status.as_str(), "paid");
        assert_eq!(complete.subscription.map(|sub| sub.id().to_string()).as_deref(), Some("sub_1"));
        assert_eq!(complete.url, None);
    }

    #[test]
    fn a_portal_session_and_a_meter_event_read_as_async_stripes() {
        let portal = PortalSession {
            id: "bps_1".to_owned(),
            customer: "cus_1".to_owned(),
            return_url: Some("http://127.0.0.1:3000/billing".to_owned()),
            created: NOW,
            url: "http://127.0.0.1:3000/stripe-emulator/portal/bps_1".to_owned(),
        };
        let event = MeterEvent {
            identifier: "w1-2027-01".to_owned(),
            event_name: super::super::METER_EVENT_NAME.to_owned(),
            customer: "cus_1".to_owned(),
            value: 7,
            timestamp: NOW,
            created: NOW,
            payload: BTreeMap::from([
                ("stripe_customer_id".to_owned(), "cus_1".to_owned()),
                ("value".to_owned(), "7".to_owned()),
            ]),
        };

        let portal: stripe_billing::BillingPortalSession =
            miniserde::json::from_str(&super::portal(&portal).to_string()).unwrap();
        let event: stripe_billing::BillingMeterEvent =
            miniserde::json::from_str(&super::meter_event(&event).to_string()).unwrap();

        assert_eq!(portal.url, "http://127.0.0.1:3000/stripe-emulator/portal/bps_1");
        assert_eq!(event.identifier, "w1-2027-01");
        assert_eq!(event.payload.get("value").map(String::as_str), Some("7"));
    }

    #[test]
    fn webhook_events_pass_the_apps_verification_and_read_as_typed_objects() {
        let world = World::new(NOW);
        let secret = Secret::new(super::super::WEBHOOK_SECRET);
        let subscription = super::subscription(&subscription_of(&world, SubscriptionStatus::PastDue), &world.price);
        let cases = [
            ("customer.subscription.updated", subscription.clone()),
            ("customer.subscription.deleted", subscription.clone()),
            ("customer.subscription.created", subscription),
            ("invoice.paid", super::invoice(&invoice_of(), &world.price)),
            ("invoice.payment_failed", super::invoice(&invoice_of(), &world.price)),
            ("checkout.session.completed", super::checkout(&checkout_of(&world), NOW)),
        ];

        for (kind, object) in cases {
            let payload = event("evt_1", kind, NOW, object).to_string();
            let header = sign(&secret, NOW, &payload);

            match verify(&secret, Some(&header), &payload, NOW) {
                Ok(Verified::Event(event)) => {
                    assert_eq!(event.type_.as_str(), kind);
                    assert_eq!(
                        event.api_version.map(|version| version.as_str().to_owned()),
                        Some(stripe_shared::version::VERSION.as_str().to_owned())
                    );
                }
                other => panic!("{kind} was not read as an event: {other:?}"),
            }
        }
    }

    #[test]
    fn money_reads_as_people_write_it() {
        assert_eq!(money(400, "usd"), "$4.00");
        assert_eq!(money(123_456, "usd"), "$1234.56");
        assert_eq!(money(5, "eur"), "0.05 EUR");
    }
}
