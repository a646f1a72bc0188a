//! Billing (hosted mode): the trial, the subscription per active member, and
//! `/admin/billing` with Upgrade (Stripe Checkout) and Manage (Stripe's customer portal).

pub mod api;
pub mod types;
pub mod ui;
