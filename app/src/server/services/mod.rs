//! Services: one module per use case, owning its rules and transactions. Server functions,
//! the Slack edge and the background workers call these; these call the repositories in
//! `db` and the Slack and Stripe gateways, never the other way round.

pub mod accounts;
pub mod actions;
pub mod answers;
pub mod asking;
pub mod billing;
pub mod builtin_packs;
pub mod delivery;
pub mod home;
pub mod in_common;
pub mod inbox;
pub mod insights;
pub mod install;
pub mod me;
pub mod member_admin;
pub mod members;
pub mod metrics;
pub mod packs;
pub mod people;
pub mod picking;
pub mod questions;
pub mod rounds;
pub mod schedule;
pub mod search;
pub mod setup;
pub mod sharing;
pub mod sign_in;
pub mod slack_events;
pub mod token_keys;
pub mod weekly_summary;
pub mod workspace_data;
pub mod workspaces;
