//! The gateway to Stripe: every call billing makes to Stripe's API, through `async-stripe`
//! at an exact release candidate (rustls, no OpenSSL). It speaks in the app's own types
//! (`db::billing::Subscription`, [`Invoice`], [`Price`]), so no Stripe type leaks into the
//! services. The base URL is configurable: the demo and the tests point it at the Stripe
//! emulator mounted on this server.

use std::{collections::HashMap, time::Duration};

use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest as _};
use stripe_billing::{
    billing_meter_event::CreateBillingMeterEvent, billing_portal_session::CreateBillingPortalSession,
    invoice::ListInvoice, subscription::ListSubscription, subscription::ListSubscriptionStatus,
};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
};
use stripe_core::customer::CreateCustomer;
use stripe_product::price::RetrievePrice;
use stripe_shared::{CheckoutSessionMode, SubscriptionStatus as StripeStatus};

use super::{
    db::billing::{Subscription, SubscriptionStatus},
    secret::Secret,
};

/// The name of the meter event Rapport reports active members under. The Stripe price in
/// `STRIPE_PRICE_ID` must be a metered price on a meter with this event name, aggregated
/// as `last` (the README says how to set it up).
pub const METER_EVENT_NAME: &str = "rapport_active_members";

/// How long one call to Stripe may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// How to reach Stripe.
#[derive(Clone, Debug)]
pub struct StripeSettings {
    pub secret_key: Secret,
    /// The metered price a subscription is for.
    pub price_id: String,
    /// Stripe's API base URL (ending in `/`); `None` for Stripe itself.
    pub api_url: Option<String>,
}

/// The Stripe gateway; cheap to clone.
#[derive(Clone)]
pub struct StripeGateway {
    client: Client,
    price_id: String,
}

impl std::fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeGateway").field("price_id", &self.price_id).finish_non_exhaustive()
    }
}

/// A failed call to Stripe.
#[derive(Debug, thiserror::Error)]
pub enum StripeCallError {
    /// Stripe refused the request (4xx other than 429): trying again will not help.
    #[error("Stripe refused the request ({status}): {code}: {message}")]
    Refused { status: u16, code: String, message: String },
    /// Stripe was unreachable, overloaded or answered something unreadable: try later.
    #[error("Stripe could not be reached: {0}")]
    Unavailable(String),
}

impl From<StripeError> for StripeCallError {
    fn from(error: StripeError) -> StripeCallError {
        match error {
            StripeError::Stripe(api, status) if (400..500).contains(&status) && status != 429 => {
                StripeCallError::Refused {
                    status,
                    code: api
                        .code
                        .as_ref()
                        .map_or_else(|| api.type_.as_str().to_owned(), |code| code.as_str().to_owned()),
                    message: api.message.clone().unwrap_or_default(),
                }
            }
            StripeError::Stripe(api, status) => {
                StripeCallError::Unavailable(format!("{status}: {}", api.message.clone().unwrap_or_default()))
            }
            other => StripeCallError::Unavailable(other.to_string()),
        }
    }
}

/// The price of one active member for one period, in the currency's smallest unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub unit_amount: i64,
    /// Stripe's lower-case ISO code (`usd`).
    pub currency: String,
}

/// A past invoice, as `/admin/billing` lists it. Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub number: Option<String>,
    pub created: i64,
    pub period_start: i64,
    pub period_end: i64,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub currency: String,
    /// `draft`, `open`, `paid`, `uncollectible` or `void`.
    pub status: String,
    /// Stripe's page for the invoice, when there is one.
    pub url: Option<String>,
}

/// What a checkout is for.
#[derive(Debug, Clone)]
pub struct CheckoutRequest<'a> {
    pub customer_id: &'a str,
    pub workspace_id: &'a str,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    /// Rapport's trial still running: the subscription charges nothing before it ends.
    pub trial_end_ms: Option<i64>,
}

impl StripeGateway {
    pub fn new(settings: &StripeSettings) -> anyhow::Result<StripeGateway> {
        let mut builder = ClientBuilder::new(settings.secret_key.expose()).timeout(CALL_TIMEOUT);
        if let Some(url) = &settings.api_url {
            builder = builder.url(url.clone());
        }
        let client =
            builder.build().map_err(|error| anyhow::anyhow!("the Stripe client could not be built: {error}"))?;
        Ok(StripeGateway { client, price_id: settings.price_id.clone() })
    }

    /// Creates the workspace's Stripe customer. The idempotency key is the workspace's, so
    /// two admins pressing Upgrade together get one customer.
    pub async fn create_customer(&self, workspace_id: &str, name: &str) -> Result<String, StripeCallError> {
        let metadata = HashMap::from([("workspace_id".to_owned(), workspace_id.to_owned())]);
        let customer = CreateCustomer::new()
            .name(name)
            .metadata(metadata)
            .customize()
            .request_strategy(idempotent(&format!("customer-{workspace_id}"))?)
            .send(&self.client)
            .await?;
        Ok(customer.id.to_string())
    }

    /// Opens a Stripe Checkout in subscription mode; returns the page to send the admin to.
    pub async fn checkout_url(&self, request: &CheckoutRequest<'_>) -> Result<String, StripeCallError> {
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price = Some(self.price_id.clone());
        let mut subscription = CreateCheckoutSessionSubscriptionData::new();
        subscription.metadata = Some(HashMap::from([("workspace_id".to_owned(), request.workspace_id.to_owned())]));
        subscription.trial_end = request.trial_end_ms.map(|ms| ms / 1000);
        let session = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Subscription)
            .customer(request.customer_id)
            .client_reference_id(request.workspace_id)
            .line_items(vec![item])
            .subscription_data(subscription)
            .success_url(request.success_url)
            .cancel_url(request.cancel_url)
            .send(&self.client)
            .await?;
        session.url.ok_or_else(|| StripeCallError::Unavailable("the checkout session came without a page".into()))
    }

    /// Opens the customer portal (card, plan, cancel); returns the page to send the admin to.
    pub async fn portal_url(&self, customer_id: &str, return_url: &str) -> Result<String, StripeCallError> {
        let session =
            CreateBillingPortalSession::new().customer(customer_id).return_url(return_url).send(&self.client).await?;
        Ok(session.url)
    }

    /// The customer's subscription as it stands now: the newest live one, or else the
    /// newest of any status; `None` when the customer has never subscribed.
    pub async fn current_subscription(&self, customer_id: &str) -> Result<Option<Subscription>, StripeCallError> {
        let list = ListSubscription::new()
            .customer(customer_id)
            .status(ListSubscriptionStatus::All)
            .limit(20)
            .send(&self.client)
            .await?;
        let mut subscriptions: Vec<Subscription> = list.data.iter().filter_map(subscription_of).collect();
        subscriptions.sort_by_key(|subscription| (subscription.status.is_live(), subscription.period_start));
        Ok(subscriptions.pop())
    }

    /// Reports the count of the customer's active members so far in the period, as of
    /// `at_ms`. The meter keeps the last value of a period, so a repeat does no harm; the
    /// identifier lets Stripe drop a retried report.
    pub async fn report_active_members(
        &self,
        customer_id: &str,
        active: i64,
        at_ms: i64,
        identifier: &str,
    ) -> Result<(), StripeCallError> {
        let payload = HashMap::from([
            ("stripe_customer_id".to_owned(), customer_id.to_owned()),
            ("value".to_owned(), active.to_string()),
        ]);
        let sent = CreateBillingMeterEvent::new(METER_EVENT_NAME, payload)
            .identifier(identifier)
            .timestamp(at_ms / 1000)
            .send(&self.client)
            .await;
        match sent.map_err(StripeCallError::from) {
            Ok(_) => Ok(()),
            // Reported before (a retry after a lost answer): done.
            Err(StripeCallError::Refused { code, .. }) if code == "resource_already_exists" => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The customer's latest invoices, newest first.
    pub async fn invoices(&self, customer_id: &str, limit: i64) -> Result<Vec<Invoice>, StripeCallError> {
        let list = ListInvoice::new().customer(customer_id).limit(limit).send(&self.client).await?;
        Ok(list.data.into_iter().map(invoice_of).collect())
    }

    /// The price of one active member.
    pub async fn price(&self) -> Result<Price, StripeCallError> {
        let price = RetrievePrice::new(self.price_id.as_str()).send(&self.client).await?;
        Ok(Price { unit_amount: price.unit_amount.unwrap_or_default(), currency: price.currency.to_string() })
    }
}

fn idempotent(key: &str) -> Result<RequestStrategy, StripeCallError> {
    IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|error| StripeCallError::Unavailable(format!("bad idempotency key: {error}")))
}

/// The app's view of a Stripe subscription; `None` for one it cannot read (no item, or a
/// status Stripe added after this version).
fn subscription_of(subscription: &stripe_shared::Subscription) -> Option<Subscription> {
    let status = SubscriptionStatus::parse(match &subscription.status {
        StripeStatus::Unknown(raw) => raw.as_str(),
        known => known.as_str(),
    })?;
    let item = subscription.items.data.first()?;
    Some(Subscription {
        id: subscription.id.to_string(),
        status,
        period_start: item.current_period_start * 1000,
        period_end: item.current_period_end * 1000,
        cancel_at_period_end: subscription.cancel_at_period_end,
    })
}

fn invoice_of(invoice: stripe_shared::Invoice) -> Invoice {
    Invoice {
        number: invoice.number,
        created: invoice.created * 1000,
        period_start: invoice.period_start * 1000,
        period_end: invoice.period_end * 1000,
        amount_due: invoice.amount_due,
        amount_paid: invoice.amount_paid,
        currency: invoice.currency.to_string(),
        status: invoice.status.map_or_else(|| "draft".to_owned(), |status| status.as_str().to_owned()),
        url: invoice.hosted_invoice_url,
    }
}
