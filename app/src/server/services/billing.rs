//! Billing (hosted mode): the trial, where a workspace stands, Upgrade and Manage, what Stripe
//! tells us, the usage Stripe bills, and telling admins once when questions stop.
//!
//! - **The rule**: [`entitled`] decides whether a workspace's members are asked questions;
//!   planning (`rounds`), asking on demand (`asking`) and delivery (`delivery`) all ask it.
//! - **Price per active member**: a member counts in a period if they answered at least
//!   once in it. The subscription is for a metered price whose meter keeps the *last* value
//!   reported in a period; [`report_usage`] reports the count of members active so far, and
//!   the final count with a timestamp inside the period once it ends, so Stripe bills each
//!   period in arrears for the members actually active (README, "Billing").
//! - **Webhooks** only say "look again": [`sync_customer`] reads the customer's subscription
//!   as Stripe has it now and stores it whole, so events in any order, twice or late, end in
//!   the same state.

use serde_json::Value;

use crate::{
    error::AppError,
    features::billing::types::{BillingOverview, InvoiceRow, LapseReason, Money, Standing},
    server::{
        AppState,
        db::{
            answers,
            billing::{self, Account, Reported, SubscriptionStatus},
            members,
            workspaces::{self, Workspace},
        },
        slack::blocks,
        stripe::{CheckoutRequest, StripeCallError, StripeGateway},
    },
};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// The free trial: 30 days from the install, long enough for at least four weekly rounds.
pub const TRIAL_MS: i64 = 30 * DAY_MS;
/// Stripe's Checkout takes a trial end only this far ahead; closer to the trial's end, the
/// subscription starts at once.
const CHECKOUT_TRIAL_MIN_MS: i64 = 2 * DAY_MS + 60 * 60 * 1000;
/// Invoices `/admin/billing` lists.
const INVOICES_SHOWN: i64 = 12;

/// When the workspace's free trial ends (Unix ms): 30 days from the install, unless its
/// billing row says otherwise (the demo team's trial starts when the demo is seeded).
pub fn trial_ends_at(workspace: &Workspace, account: Option<&Account>) -> i64 {
    account.and_then(|account| account.trial_ends_at).unwrap_or_else(|| workspace.created_at.saturating_add(TRIAL_MS))
}

/// Where a workspace stands, from what is stored. Once it has subscribed, the subscription
/// decides (subscribing ends the free trial; the days left of it carry over as Stripe's
/// trial): live in Stripe's terms, it pays; unpaid or ended, the workspace has lapsed.
/// Before that (or while a checkout's first payment is pending) the trial runs, then lapses.
pub fn standing_of(billing_on: bool, workspace: &Workspace, account: Option<&Account>, now_ms: i64) -> Standing {
    if !billing_on {
        return Standing::Free;
    }
    let subscription = account.and_then(|account| account.subscription.as_ref());
    match subscription.map(|subscription| (subscription, subscription.status)) {
        Some((subscription, status)) if status.is_live() => Standing::Subscribed {
            period_end: subscription.period_end,
            cancels_at_period_end: subscription.cancel_at_period_end,
            payment_failing: status == SubscriptionStatus::PastDue,
            trialing: status == SubscriptionStatus::Trialing,
        },
        Some((_, SubscriptionStatus::Unpaid)) => Standing::Lapsed { reason: LapseReason::PaymentFailed },
        Some((_, SubscriptionStatus::Canceled | SubscriptionStatus::Paused)) => {
            Standing::Lapsed { reason: LapseReason::Cancelled }
        }
        _ => {
            let trial_end = trial_ends_at(workspace, account);
            if now_ms < trial_end {
                Standing::Trial { ends_at: trial_end }
            } else {
                Standing::Lapsed { reason: LapseReason::TrialEnded }
            }
        }
    }
}

/// Where `workspace` stands now.
pub async fn standing(state: &AppState, workspace: &Workspace) -> Result<Standing, AppError> {
    if state.stripe.is_none() {
        return Ok(Standing::Free);
    }
    let account = billing::find(state.db.pool(), &workspace.id).await?;
    Ok(standing_of(true, workspace, account.as_ref(), state.now_ms()))
}

/// The one entitlement rule: whether `workspace`'s members may be asked questions now.
pub async fn entitled(state: &AppState, workspace: &Workspace) -> Result<bool, AppError> {
    Ok(standing(state, workspace).await?.is_entitled())
}

/// What the header's banner tells the workspace's admins: why questions stopped, if they did.
pub async fn notice(state: &AppState, workspace_id: &str) -> Result<Option<LapseReason>, AppError> {
    let Some(workspace) = workspaces::find(state.db.pool(), workspace_id).await? else { return Ok(None) };
    Ok(match standing(state, &workspace).await? {
        Standing::Lapsed { reason } => Some(reason),
        _ => None,
    })
}

/// Whole days left of a trial ending at `ends_at` (0 on its last day).
pub fn days_left(ends_at: i64, now_ms: i64) -> i64 {
    (ends_at - now_ms).max(0) / DAY_MS
}

/// The period whose active members count now: the subscription's current period, or else
/// the trial (or, after it, the last 30 days).
fn counted_period(workspace: &Workspace, account: Option<&Account>, now_ms: i64) -> (i64, i64) {
    match account.and_then(|account| account.subscription.as_ref()) {
        Some(subscription) if subscription.status.is_live() => (subscription.period_start, subscription.period_end),
        _ if now_ms < trial_ends_at(workspace, account) => {
            (trial_ends_at(workspace, account) - TRIAL_MS, trial_ends_at(workspace, account))
        }
        _ => (now_ms - TRIAL_MS, now_ms),
    }
}

/// What `/admin/billing` shows. Stripe is asked for the price and the invoices; when it
/// cannot be reached the page still shows what is stored, and says so.
pub async fn overview(state: &AppState, workspace: &Workspace) -> Result<BillingOverview, AppError> {
    let now = state.now_ms();
    let account = billing::find(state.db.pool(), &workspace.id).await?;
    let standing = standing_of(state.stripe.is_some(), workspace, account.as_ref(), now);
    let (period_start, period_end) = counted_period(workspace, account.as_ref(), now);
    let active_members =
        answers::count_members_who_answered(state.db.pool(), &workspace.id, period_start, period_end.min(now + 1))
            .await?;
    let trial_days_left = match standing {
        Standing::Trial { ends_at } => Some(days_left(ends_at, now)),
        _ => None,
    };
    let mut overview = BillingOverview {
        standing,
        trial_days_left,
        active_members,
        period_start,
        period_end,
        price: None,
        estimate: None,
        invoices: Vec::new(),
        stripe_unreachable: false,
    };
    let Some(stripe) = &state.stripe else { return Ok(overview) };
    match stripe.price().await {
        Ok(price) => {
            let paying = matches!(overview.standing, Standing::Subscribed { trialing: false, .. });
            overview.estimate = paying.then(|| Money {
                minor: price.unit_amount.saturating_mul(active_members),
                currency: price.currency.clone(),
            });
            overview.price = Some(Money { minor: price.unit_amount, currency: price.currency });
        }
        Err(error) => {
            tracing::warn!(error = %error, "could not read the price from Stripe");
            overview.stripe_unreachable = true;
        }
    }
    if let Some(customer) = account.as_ref().and_then(|account| account.stripe_customer_id.as_deref()) {
        match stripe.invoices(customer, INVOICES_SHOWN).await {
            Ok(invoices) => overview.invoices = invoices.into_iter().map(invoice_row).collect(),
            Err(error) => {
                tracing::warn!(error = %error, "could not list invoices from Stripe");
                overview.stripe_unreachable = true;
            }
        }
    }
    Ok(overview)
}

fn invoice_row(invoice: crate::server::stripe::Invoice) -> InvoiceRow {
    InvoiceRow {
        number: invoice.number,
        created: invoice.created,
        period_start: invoice.period_start,
        period_end: invoice.period_end,
        amount: Money {
            minor: if invoice.status == "paid" { invoice.amount_paid } else { invoice.amount_due },
            currency: invoice.currency,
        },
        status: invoice.status,
        url: invoice.url,
    }
}

/// The gateway, or the error an admin sees when billing is off.
fn gateway(state: &AppState) -> Result<&StripeGateway, AppError> {
    state.stripe.as_ref().ok_or_else(|| AppError::Conflict("billing is not turned on for this server".into()))
}

/// Turns a failed Stripe call into what the admin sees: a refusal is said as Stripe said it,
/// an outage is an internal error (logged with a reference).
fn stripe_error(error: StripeCallError) -> AppError {
    match error {
        StripeCallError::Refused { message, .. } => AppError::Conflict(format!("Stripe refused: {message}")),
        unavailable @ StripeCallError::Unavailable(_) => AppError::internal(unavailable),
    }
}

/// The workspace's Stripe customer, created on first use.
async fn customer_of(state: &AppState, stripe: &StripeGateway, workspace: &Workspace) -> Result<String, AppError> {
    let account = billing::find(state.db.pool(), &workspace.id).await?;
    if let Some(customer) = account.and_then(|account| account.stripe_customer_id) {
        return Ok(customer);
    }
    let created = stripe.create_customer(&workspace.id, &workspace.name).await.map_err(stripe_error)?;
    Ok(billing::insert_customer(state.db.pool(), &workspace.id, &created, state.now_ms()).await?)
}

/// Upgrade: opens Stripe Checkout for a subscription; returns where to send the admin. A
/// workspace still in its trial keeps the rest of it free.
#[tracing::instrument(skip_all, fields(workspace.id = %workspace.id))]
pub async fn start_checkout(state: &AppState, workspace: &Workspace) -> Result<String, AppError> {
    let stripe = gateway(state)?;
    if let Standing::Subscribed { .. } = standing(state, workspace).await? {
        return Err(AppError::Conflict("this workspace already has a subscription; use Manage to change it".into()));
    }
    let customer = customer_of(state, stripe, workspace).await?;
    let account = billing::find(state.db.pool(), &workspace.id).await?;
    let trial_end = trial_ends_at(workspace, account.as_ref());
    let page = format!("{}/admin/billing", state.public_url);
    let request = CheckoutRequest {
        customer_id: &customer,
        workspace_id: &workspace.id,
        success_url: &format!("{page}?checkout=done"),
        cancel_url: &page,
        trial_end_ms: (trial_end - state.now_ms() > CHECKOUT_TRIAL_MIN_MS).then_some(trial_end),
    };
    stripe.checkout_url(&request).await.map_err(stripe_error)
}

/// Manage: opens Stripe's customer portal; returns where to send the admin.
#[tracing::instrument(skip_all, fields(workspace.id = %workspace.id))]
pub async fn open_portal(state: &AppState, workspace: &Workspace) -> Result<String, AppError> {
    let stripe = gateway(state)?;
    let account = billing::find(state.db.pool(), &workspace.id).await?;
    let Some(customer) = account.and_then(|account| account.stripe_customer_id) else {
        return Err(AppError::Conflict("this workspace has no subscription to manage yet; use Upgrade".into()));
    };
    let return_url = format!("{}/admin/billing", state.public_url);
    stripe.portal_url(&customer, &return_url).await.map_err(stripe_error)
}

/// The event types billing reads; any other authentic event is acknowledged and logged.
pub const EVENT_TYPES: [&str; 6] = [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
];

/// The Stripe customer a webhook event is about: the `customer` of its object (an id or an
/// expanded customer), or the object itself when it is a customer.
pub fn customer_of_event(event: &Value) -> Option<String> {
    let object = &event["data"]["object"];
    let customer = match &object["customer"] {
        Value::String(id) => Some(id.clone()),
        Value::Object(expanded) => expanded.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    customer.or_else(|| (object["object"] == "customer").then(|| object["id"].as_str().map(str::to_owned)).flatten())
}

/// Processes a recorded Stripe event (from the inbox): reads its customer's subscription
/// as Stripe has it now. An event about a customer that is not ours changes nothing.
#[tracing::instrument(skip_all)]
pub async fn process_event(state: &AppState, payload: &str) -> anyhow::Result<()> {
    let event: Value = serde_json::from_str(payload)?;
    let Some(customer) = customer_of_event(&event) else {
        tracing::info!(event.kind = %event["type"], "a Stripe event about no customer; nothing to do");
        return Ok(());
    };
    sync_customer(state, &customer).await
}

/// Stores the customer's subscription as Stripe has it now, and clears a lapse notice once
/// the workspace is entitled again (so a later lapse is told again).
pub async fn sync_customer(state: &AppState, customer_id: &str) -> anyhow::Result<()> {
    let stripe = state.stripe.as_ref().ok_or_else(|| anyhow::anyhow!("billing is off"))?;
    let Some(workspace_id) = billing::find_workspace_of_customer(state.db.pool(), customer_id).await? else {
        tracing::info!("a Stripe event about a customer of no workspace here; nothing to do");
        return Ok(());
    };
    let subscription = stripe.current_subscription(customer_id).await?;
    let now = state.now_ms();
    billing::update_subscription(state.db.pool(), &workspace_id, subscription.as_ref(), now).await?;
    tracing::info!(
        workspace.id = %workspace_id,
        subscription.status = subscription.as_ref().map_or("none", |subscription| subscription.status.as_str()),
        "read the workspace's subscription from Stripe"
    );
    if let Some(workspace) = workspaces::find(state.db.pool(), &workspace_id).await? {
        settle_notice(state, &workspace).await?;
    }
    Ok(())
}

/// The periodic billing pass: tells admins of newly lapsed workspaces, and reports active
/// members to Stripe. A workspace that fails is logged and does not hold up the others.
pub async fn tick(state: &AppState) -> anyhow::Result<()> {
    if state.stripe.is_none() {
        return Ok(());
    }
    for workspace in workspaces::list_asking(state.db.pool()).await? {
        if let Err(error) = settle_notice(state, &workspace).await {
            tracing::warn!(workspace.id = %workspace.id, error = format!("{error:#}"), "could not settle a lapse notice");
        }
    }
    report_usage(state).await
}

/// Tells the admins once, in Slack, that questions stopped; clears that once entitled again.
async fn settle_notice(state: &AppState, workspace: &Workspace) -> anyhow::Result<()> {
    let account = billing::find(state.db.pool(), &workspace.id).await?;
    let now = state.now_ms();
    let told = account.as_ref().and_then(|account| account.lapse_notice_at).is_some();
    match standing_of(state.stripe.is_some(), workspace, account.as_ref(), now) {
        Standing::Lapsed { reason } if !told && workspace.is_active() => {
            // Recorded first: the admins are told at most once, even if Slack fails.
            billing::upsert_lapse_notice(state.db.pool(), &workspace.id, Some(now), now).await?;
            tell_admins(state, workspace, reason).await;
        }
        standing if standing.is_entitled() && told => {
            billing::upsert_lapse_notice(state.db.pool(), &workspace.id, None, now).await?;
            tracing::info!(workspace.id = %workspace.id, "the workspace is entitled again; questions resume");
        }
        _ => {}
    }
    Ok(())
}

/// Sends each admin of the workspace a DM saying questions stopped and where to pay.
async fn tell_admins(state: &AppState, workspace: &Workspace, reason: LapseReason) {
    let text = format!(
        "{} Rapport has stopped asking questions; your team's answers and profiles stay. \
         An admin can subscribe at {}/admin/billing to start again.",
        reason.sentence(),
        state.public_url
    );
    let api = match state.slack().and_then(|slack| slack.api_for(workspace)) {
        Ok(api) => api,
        Err(error) => {
            tracing::warn!(workspace.id = %workspace.id, error = %error, "could not tell the admins the workspace lapsed");
            return;
        }
    };
    let admins = match members::list_for_workspace(state.db.pool(), &workspace.id).await {
        Ok(members) => {
            members.into_iter().filter(|member| member.manages_rapport() && !member.is_deleted && !member.is_bot)
        }
        Err(error) => {
            tracing::warn!(workspace.id = %workspace.id, error = %error, "could not list the admins to tell");
            return;
        }
    };
    for admin in admins {
        if let Err(error) = api.post_to(&admin.dm_target(), blocks::text_message(text.clone())).await {
            tracing::warn!(workspace.id = %workspace.id, error = %error, "could not tell an admin the workspace lapsed");
        }
    }
}

/// Reports each subscribed workspace's active members to Stripe's meter when the count
/// changed: first the final count of a period that ended (timestamped inside it), then the
/// count so far in the current one.
pub async fn report_usage(state: &AppState) -> anyhow::Result<()> {
    let Some(stripe) = &state.stripe else { return Ok(()) };
    for account in billing::list_customers(state.db.pool()).await? {
        if let Err(error) = report_account(state, stripe, &account).await {
            tracing::warn!(workspace.id = %account.workspace_id, error = format!("{error:#}"), "could not report usage to Stripe");
        }
    }
    Ok(())
}

async fn report_account(state: &AppState, stripe: &StripeGateway, account: &Account) -> anyhow::Result<()> {
    let (Some(customer), Some(subscription)) = (&account.stripe_customer_id, &account.subscription) else {
        return Ok(());
    };
    let now = state.now_ms();
    let mut reported = account.reported;
    // The period reported last has ended since: its final count, timestamped inside it.
    if let Some(last) = reported.filter(|last| last.period_start < subscription.period_start) {
        let final_count = report_if_changed(state, stripe, account, customer, last, subscription.period_start).await?;
        reported = Some(final_count);
    }
    if !subscription.status.is_live() && subscription.period_end <= now {
        return Ok(());
    }
    let current = reported
        .filter(|last| last.period_start == subscription.period_start)
        .unwrap_or(Reported { period_start: subscription.period_start, active: -1 });
    report_if_changed(state, stripe, account, customer, current, subscription.period_end).await?;
    Ok(())
}

/// Counts the members active from `last.period_start` until `period_end` (or now), and
/// reports the count when it differs from `last.active`. Returns what stands reported.
async fn report_if_changed(
    state: &AppState,
    stripe: &StripeGateway,
    account: &Account,
    customer: &str,
    last: Reported,
    period_end: i64,
) -> anyhow::Result<Reported> {
    let now = state.now_ms();
    let until = period_end.min(now + 1);
    let active =
        answers::count_members_who_answered(state.db.pool(), &account.workspace_id, last.period_start, until).await?;
    if active == last.active {
        return Ok(last);
    }
    let at = (until - 1).max(last.period_start);
    let identifier = format!("{}-{}-{active}", account.workspace_id, last.period_start);
    stripe.report_active_members(customer, active, at, &identifier).await?;
    let reported = Reported { period_start: last.period_start, active };
    billing::update_reported(state.db.pool(), &account.workspace_id, reported, now).await?;
    Ok(reported)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::{
        billing::Subscription,
        workspaces::{ShareMode, WorkspaceStatus},
    };

    const INSTALLED: i64 = 1_790_000_000_000;

    fn workspace() -> Workspace {
        Workspace {
            id: "w1".into(),
            slack_team_id: "T1".into(),
            name: "Team".into(),
            default_time_zone: "UTC".into(),
            status: WorkspaceStatus::Active,
            uninstalled_at: None,
            bot_user_id: None,
            sharing_channel_id: None,
            share_mode: ShareMode::Immediate,
            last_digest_at: None,
            questions_enabled: true,
            bot_token_ciphertext: None,
            installed_by_slack_user_id: None,
            created_at: INSTALLED,
            updated_at: INSTALLED,
            include_guests: false,
            sending_paused_until: None,
            delivery_stopped_reason: None,
        }
    }

    fn account(status: SubscriptionStatus, cancel_at_period_end: bool) -> Account {
        Account {
            workspace_id: "w1".into(),
            trial_ends_at: None,
            stripe_customer_id: Some("cus_1".into()),
            subscription: Some(Subscription {
                id: "sub_1".into(),
                status,
                period_start: INSTALLED,
                period_end: INSTALLED + 40 * DAY_MS,
                cancel_at_period_end,
            }),
            lapse_notice_at: None,
            reported: None,
        }
    }

    #[test]
    fn billing_off_limits_nothing() {
        let long_after = INSTALLED + 400 * DAY_MS;
        assert_eq!(standing_of(false, &workspace(), None, long_after), Standing::Free);
    }

    #[test]
    fn the_trial_runs_thirty_days_from_the_install_then_lapses() {
        let ends_at = INSTALLED + TRIAL_MS;
        assert_eq!(standing_of(true, &workspace(), None, ends_at - 1), Standing::Trial { ends_at });
        assert_eq!(
            standing_of(true, &workspace(), None, ends_at),
            Standing::Lapsed { reason: LapseReason::TrialEnded }
        );
        assert_eq!(days_left(ends_at, INSTALLED), 30);
        assert_eq!(days_left(ends_at, ends_at - 1), 0);
    }

    #[test]
    fn a_failed_payment_lapses_only_when_stripe_gives_up() {
        let after_trial = INSTALLED + TRIAL_MS + DAY_MS;
        let retrying = standing_of(true, &workspace(), Some(&account(SubscriptionStatus::PastDue, false)), after_trial);
        assert!(matches!(retrying, Standing::Subscribed { payment_failing: true, .. }));
        let gave_up = standing_of(true, &workspace(), Some(&account(SubscriptionStatus::Unpaid, false)), after_trial);
        assert_eq!(gave_up, Standing::Lapsed { reason: LapseReason::PaymentFailed });
    }

    #[test]
    fn a_cancel_at_period_end_keeps_questions_until_stripe_ends_it() {
        let after_trial = INSTALLED + TRIAL_MS + DAY_MS;
        let cancelling = standing_of(true, &workspace(), Some(&account(SubscriptionStatus::Active, true)), after_trial);
        assert!(cancelling.is_entitled());
        let ended = standing_of(true, &workspace(), Some(&account(SubscriptionStatus::Canceled, true)), after_trial);
        assert_eq!(ended, Standing::Lapsed { reason: LapseReason::Cancelled });
    }

    #[test]
    fn subscribing_ends_the_trial_but_an_unpaid_checkout_does_not() {
        let in_trial = INSTALLED + DAY_MS;
        let ended = standing_of(true, &workspace(), Some(&account(SubscriptionStatus::Canceled, false)), in_trial);
        assert_eq!(ended, Standing::Lapsed { reason: LapseReason::Cancelled });
        let pending = standing_of(true, &workspace(), Some(&account(SubscriptionStatus::Incomplete, false)), in_trial);
        assert_eq!(pending, Standing::Trial { ends_at: INSTALLED + TRIAL_MS });
    }

    #[test]
    fn the_customer_of_an_event_comes_from_its_object() {
        let subscription = serde_json::json!({"data": {"object": {"object": "subscription", "customer": "cus_1"}}});
        assert_eq!(customer_of_event(&subscription).as_deref(), Some("cus_1"));
        let expanded = serde_json::json!({"data": {"object": {"customer": {"id": "cus_2", "object": "customer"}}}});
        assert_eq!(customer_of_event(&expanded).as_deref(), Some("cus_2"));
        let customer = serde_json::json!({"data": {"object": {"object": "customer", "id": "cus_3"}}});
        assert_eq!(customer_of_event(&customer).as_deref(), Some("cus_3"));
        assert_eq!(customer_of_event(&serde_json::json!({"data": {"object": {}}})), None);
    }
}
