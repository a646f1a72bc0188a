//! Server-only half of the app: the shared state, storage, the services that own the rules,
//! the gateways to Slack and Stripe, and the metrics.

pub mod clock;
pub mod db;
pub mod inbox_writer;
pub mod metrics;
pub mod secret;
pub mod services;
pub mod slack;
pub mod state;
pub mod stripe;
pub mod tasks;
pub mod viewer;
pub mod zones;

pub use state::{AppParts, AppState, ctx};

/// Milliseconds since the Unix epoch, the unit every stored timestamp uses.
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// A new app-generated id (UUIDv7: sortable by creation time).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
