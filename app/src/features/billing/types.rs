//! Wire types of billing.

use serde::{Deserialize, Serialize};

/// Where a workspace stands with billing. The one rule of whether a workspace is asked
/// questions is [`Standing::is_entitled`]; `services::billing::standing` decides the standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Standing {
    /// Billing is off (self-hosted, or no Stripe): nothing is limited.
    Free,
    /// The free trial runs until `ends_at` (Unix ms).
    Trial { ends_at: i64 },
    /// A subscription pays; the current period ends at `period_end` (Unix ms).
    Subscribed {
        period_end: i64,
        /// Cancelled: it ends at `period_end`.
        cancels_at_period_end: bool,
        /// A payment failed and Stripe is retrying it.
        payment_failing: bool,
        /// Still in the trial days: nothing is charged before `period_end`.
        trialing: bool,
    },
    /// No question is planned or asked until the workspace pays; its data stays.
    Lapsed { reason: LapseReason },
}

impl Standing {
    /// Whether the workspace's members are asked questions.
    pub fn is_entitled(&self) -> bool {
        !matches!(self, Standing::Lapsed { .. })
    }
}

/// Why a workspace lapsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LapseReason {
    /// The trial ended with no subscription.
    TrialEnded,
    /// Payments failed and Stripe gave up retrying.
    PaymentFailed,
    /// The subscription was cancelled and its last period ended.
    Cancelled,
}

impl LapseReason {
    /// The sentence admins read, on the banner and in Slack.
    pub fn sentence(self) -> &'static str {
        match self {
            LapseReason::TrialEnded => "Your Rapport trial has ended.",
            LapseReason::PaymentFailed => "Payment for Rapport failed and could not be collected.",
            LapseReason::Cancelled => "Your Rapport subscription has ended.",
        }
    }
}

/// An amount in a currency's smallest unit (cents), with Stripe's lower-case ISO code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: String,
}

impl Money {
    /// `$12.00`, `€3.50`, or `12.00 CHF` for a currency without a sign here.
    pub fn display(&self) -> String {
        let units = format!("{}.{:02}", self.minor / 100, (self.minor % 100).abs());
        match self.currency.as_str() {
            "usd" => format!("${units}"),
            "eur" => format!("€{units}"),
            "gbp" => format!("£{units}"),
            other => format!("{units} {}", other.to_uppercase()),
        }
    }
}

/// A past invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRow {
    pub number: Option<String>,
    /// Unix ms.
    pub created: i64,
    pub period_start: i64,
    pub period_end: i64,
    pub amount: Money,
    /// `paid`, `open`, ...
    pub status: String,
    pub url: Option<String>,
}

/// What `/admin/billing` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingOverview {
    pub standing: Standing,
    /// Whole days of the trial left (0 on its last day), while it runs.
    pub trial_days_left: Option<i64>,
    /// Members who answered at least once in the period counted so far.
    pub active_members: i64,
    /// The period `active_members` counts (Unix ms, end exclusive).
    pub period_start: i64,
    pub period_end: i64,
    /// The price of one active member for a period, when Stripe could tell.
    pub price: Option<Money>,
    /// The next invoice if the period ended now, while a subscription pays.
    pub estimate: Option<Money>,
    pub invoices: Vec<InvoiceRow>,
    /// Stripe could not be reached: what is shown may be out of date.
    pub stripe_unreachable: bool,
}

impl BillingOverview {
    /// Upgrade starts a subscription: there is none paying yet.
    pub fn can_upgrade(&self) -> bool {
        matches!(self.standing, Standing::Trial { .. } | Standing::Lapsed { .. })
    }

    /// Manage opens Stripe's portal: there is a subscription (or was one) to manage.
    pub fn can_manage(&self) -> bool {
        matches!(self.standing, Standing::Subscribed { .. })
            || matches!(self.standing, Standing::Lapsed { reason: LapseReason::PaymentFailed | LapseReason::Cancelled })
    }
}

/// What the dashboard's header tells admins about billing, when there is something to tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BillingNotice {
    /// Questions stopped; the banner says why and links to `/admin/billing`.
    Lapsed(LapseReason),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_shows_the_currency_and_two_decimals() {
        assert_eq!(Money { minor: 1200, currency: "usd".into() }.display(), "$12.00");
        assert_eq!(Money { minor: 405, currency: "eur".into() }.display(), "€4.05");
        assert_eq!(Money { minor: 7, currency: "chf".into() }.display(), "0.07 CHF");
    }

    #[test]
    fn only_a_lapsed_workspace_is_not_entitled() {
        assert!(Standing::Free.is_entitled());
        assert!(Standing::Trial { ends_at: 0 }.is_entitled());
        let failing =
            Standing::Subscribed { period_end: 0, cancels_at_period_end: true, payment_failing: true, trialing: false };
        assert!(failing.is_entitled());
        assert!(!Standing::Lapsed { reason: LapseReason::TrialEnded }.is_entitled());
    }
}
