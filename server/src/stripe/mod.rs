//! The Stripe edge: webhooks from Stripe. So far only their verification (issue 10 builds the
//! rest: recording them in the inbox, billing, the Stripe emulator); nothing routes here yet.

pub mod verify;
