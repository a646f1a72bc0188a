//! The `billing_accounts` table: per workspace, its Stripe customer, its subscription as
//! Stripe last described it, whether its admins were told it lapsed, and what was last
//! reported to Stripe's meter of active members. No row: billing never touched the
//! workspace (it is in its trial, or billing is off).

use sqlx::{Any, Executor};

/// A subscription's status, as Stripe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    /// Checkout began but the first payment has not gone through.
    Incomplete,
    /// The first payment never went through; Stripe gave up on it.
    IncompleteExpired,
    Trialing,
    Active,
    /// A payment failed and Stripe is still retrying it.
    PastDue,
    /// Stripe gave up on a payment and keeps the subscription unpaid.
    Unpaid,
    /// Ended: cancelled by the customer, or by Stripe after its last retry.
    Canceled,
    Paused,
}

impl SubscriptionStatus {
    const ALL: [SubscriptionStatus; 8] = [
        SubscriptionStatus::Incomplete,
        SubscriptionStatus::IncompleteExpired,
        SubscriptionStatus::Trialing,
        SubscriptionStatus::Active,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Unpaid,
        SubscriptionStatus::Canceled,
        SubscriptionStatus::Paused,
    ];

    /// Stripe's name, also the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Incomplete => "incomplete",
            SubscriptionStatus::IncompleteExpired => "incomplete_expired",
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Unpaid => "unpaid",
            SubscriptionStatus::Canceled => "canceled",
            SubscriptionStatus::Paused => "paused",
        }
    }

    /// Reads Stripe's name (or the stored form).
    pub fn parse(raw: &str) -> Option<SubscriptionStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// Whether the subscription pays for questions: running, in Stripe's trial, or with a
    /// failed payment Stripe is still retrying (the workspace lapses only when it gives up).
    pub fn is_live(self) -> bool {
        matches!(self, SubscriptionStatus::Trialing | SubscriptionStatus::Active | SubscriptionStatus::PastDue)
    }
}

/// A workspace's subscription, as Stripe last described it. Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub status: SubscriptionStatus,
    pub period_start: i64,
    pub period_end: i64,
    /// Cancelled by the customer: it runs to `period_end`, then ends.
    pub cancel_at_period_end: bool,
}

/// What was last reported to Stripe's meter: the count of active members in the period
/// starting at `period_start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reported {
    pub period_start: i64,
    pub active: i64,
}

/// A workspace's billing row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub workspace_id: String,
    /// When the free trial ends, where it is not 30 days from the install.
    pub trial_ends_at: Option<i64>,
    pub stripe_customer_id: Option<String>,
    pub subscription: Option<Subscription>,
    /// When the admins were told the workspace lapsed; cleared when it is entitled again.
    pub lapse_notice_at: Option<i64>,
    pub reported: Option<Reported>,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    workspace_id: String,
    trial_ends_at: Option<i64>,
    stripe_customer_id: Option<String>,
    subscription_id: Option<String>,
    subscription_status: Option<String>,
    period_start: Option<i64>,
    period_end: Option<i64>,
    cancel_at_period_end: i64,
    lapse_notice_at: Option<i64>,
    reported_period_start: Option<i64>,
    reported_active: Option<i64>,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Account {
        let status = row.subscription_status.as_deref().and_then(SubscriptionStatus::parse);
        let subscription = match (row.subscription_id, status, row.period_start, row.period_end) {
            (Some(id), Some(status), Some(period_start), Some(period_end)) => Some(Subscription {
                id,
                status,
                period_start,
                period_end,
                cancel_at_period_end: row.cancel_at_period_end != 0,
            }),
            _ => None,
        };
        let reported = match (row.reported_period_start, row.reported_active) {
            (Some(period_start), Some(active)) => Some(Reported { period_start, active }),
            _ => None,
        };
        Account {
            workspace_id: row.workspace_id,
            trial_ends_at: row.trial_ends_at,
            stripe_customer_id: row.stripe_customer_id,
            subscription,
            lapse_notice_at: row.lapse_notice_at,
            reported,
        }
    }
}

const COLUMNS: &str =
    "workspace_id, trial_ends_at, stripe_customer_id, subscription_id, subscription_status, period_start, period_end,
     cancel_at_period_end, lapse_notice_at, reported_period_start, reported_active";

pub async fn find<'e>(ex: impl Executor<'e, Database = Any>, workspace_id: &str) -> sqlx::Result<Option<Account>> {
    let row: Option<AccountRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM billing_accounts WHERE workspace_id = $1"))
            .bind(workspace_id)
            .fetch_optional(ex)
            .await?;
    Ok(row.map(Account::from))
}

/// The workspace whose Stripe customer `customer_id` is, if it is one of ours.
pub async fn find_workspace_of_customer<'e>(
    ex: impl Executor<'e, Database = Any>,
    customer_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT workspace_id FROM billing_accounts WHERE stripe_customer_id = $1")
        .bind(customer_id)
        .fetch_optional(ex)
        .await
}

/// Every row with a Stripe customer (the workspaces billing reports usage for).
pub async fn list_customers<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<Vec<Account>> {
    let rows: Vec<AccountRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM billing_accounts WHERE stripe_customer_id IS NOT NULL ORDER BY workspace_id"
    ))
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(Account::from).collect())
}

/// Gives the workspace its Stripe customer, unless it has one already. Returns the
/// customer the workspace has afterwards (an earlier one wins a race).
pub async fn insert_customer<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    customer_id: &str,
    now_ms: i64,
) -> sqlx::Result<String> {
    sqlx::query_scalar(
        "INSERT INTO billing_accounts (workspace_id, stripe_customer_id, created_at, updated_at)
         VALUES ($1, $2, $3, $3)
         ON CONFLICT (workspace_id) DO UPDATE SET
             stripe_customer_id = COALESCE(billing_accounts.stripe_customer_id, excluded.stripe_customer_id),
             updated_at = excluded.updated_at
         RETURNING stripe_customer_id",
    )
    .bind(workspace_id)
    .bind(customer_id)
    .bind(now_ms)
    .fetch_one(ex)
    .await
}

/// Writes the subscription as Stripe describes it now (`None`: the customer has none).
pub async fn update_subscription<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    subscription: Option<&Subscription>,
    now_ms: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "UPDATE billing_accounts SET subscription_id = $2, subscription_status = $3, period_start = $4,
             period_end = $5, cancel_at_period_end = $6, updated_at = $7
         WHERE workspace_id = $1",
    )
    .bind(workspace_id)
    .bind(subscription.map(|subscription| subscription.id.as_str()))
    .bind(subscription.map(|subscription| subscription.status.as_str()))
    .bind(subscription.map(|subscription| subscription.period_start))
    .bind(subscription.map(|subscription| subscription.period_end))
    .bind(i64::from(subscription.is_some_and(|subscription| subscription.cancel_at_period_end)))
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected())
}

/// Sets when the workspace's free trial ends.
pub async fn upsert_trial_end<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    ends_at: i64,
    now_ms: i64,
) -> sqlx::Result<()> {
    upsert_time(ex, workspace_id, TimeColumn::TrialEndsAt, Some(ends_at), now_ms).await
}

/// Records that the admins were told the workspace lapsed (`Some`), or clears it.
pub async fn upsert_lapse_notice<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    told_at: Option<i64>,
    now_ms: i64,
) -> sqlx::Result<()> {
    upsert_time(ex, workspace_id, TimeColumn::LapseNoticeAt, told_at, now_ms).await
}

/// The time columns [`upsert_time`] sets: a closed set, as the name is written into the SQL.
#[derive(Debug, Clone, Copy)]
enum TimeColumn {
    TrialEndsAt,
    LapseNoticeAt,
}

impl TimeColumn {
    fn name(self) -> &'static str {
        match self {
            TimeColumn::TrialEndsAt => "trial_ends_at",
            TimeColumn::LapseNoticeAt => "lapse_notice_at",
        }
    }
}

/// Sets one time column of the workspace's row, creating the row if it has none.
async fn upsert_time<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    column: TimeColumn,
    value: Option<i64>,
    now_ms: i64,
) -> sqlx::Result<()> {
    let column = column.name();
    sqlx::query(&format!(
        "INSERT INTO billing_accounts (workspace_id, {column}, created_at, updated_at)
         VALUES ($1, $2, $3, $3)
         ON CONFLICT (workspace_id) DO UPDATE SET {column} = excluded.{column},
             updated_at = excluded.updated_at"
    ))
    .bind(workspace_id)
    .bind(value)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// Records what was reported to Stripe's meter.
pub async fn update_reported<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    reported: Reported,
    now_ms: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "UPDATE billing_accounts SET reported_period_start = $2, reported_active = $3, updated_at = $4
         WHERE workspace_id = $1",
    )
    .bind(workspace_id)
    .bind(reported.period_start)
    .bind(reported.active)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected())
}
