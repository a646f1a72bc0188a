//! What `/metrics` reports of the database, read when Prometheus scrapes (one query each):
//! the inbox's backlog and the age of its oldest item, prompts by status, workspaces Slack
//! holds with `Retry-After`, and the connection pool; then every metric, encoded.

use anyhow::Context as _;

use crate::server::{
    AppState,
    db::{inbox, prompts, workspaces},
};

/// Sets the gauges read from the database and the pool, and encodes every metric of the
/// application in the text format Prometheus scrapes.
pub async fn render(state: &AppState) -> anyhow::Result<String> {
    let pool = state.db.pool();
    let now = state.now_ms();
    let backlog = inbox::count_unfinished(pool).await.context("counting the inbox's backlog")?;
    let oldest = inbox::find_oldest_unfinished_received_at(pool).await.context("reading the inbox's oldest item")?;
    let by_status = prompts::count_by_status(pool).await.context("counting prompts by status")?;
    let held = workspaces::count_sending_paused(pool, now).await.context("counting workspaces held by Slack")?;
    let metrics = &state.metrics;
    metrics.set_inbox(backlog, oldest.map_or(0, |received_at| (now - received_at) / 1000));
    metrics.set_prompts(&by_status);
    metrics.set_lanes_held(held);
    // Read after the queries above, so this scrape's own connection is back in the pool.
    let open = i64::from(pool.size());
    let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
    metrics.set_pool(open, open - idle);
    metrics.encode()
}
