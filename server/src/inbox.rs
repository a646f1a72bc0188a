//! The inbox worker: runs what third parties sent us (see `app::server::services::inbox`)
//! after it was recorded and acknowledged. Each claim hands it a run of the oldest waiting
//! items of each of a few ordering keys (a Slack team), so a team's events run one at a time
//! in order while up to [`CONCURRENCY`] teams run side by side: one slow workspace never
//! holds another back.
//! Nothing waits in memory beyond the items in hand; the rest wait in the table, however
//! many there are, and several instances share them under leases.

use std::time::Duration;

use app::server::{AppState, new_id, services::inbox};
use tokio::task::JoinSet;

/// Runs in hand at once in one process.
const CONCURRENCY: usize = 8;
/// The fewest free places a claim is made for while runs are in hand. A claim is a write
/// transaction of several statements whatever it takes, so under load the worker waits
/// until half its places are free and claims that many keys at once, rather than one key
/// each time a run ends; with nothing in hand it claims at once. Up to four slow runs in
/// hand (a workspace whose Slack calls hang) hold back nobody; with five, the next claim
/// waits until one of them ends.
const CLAIM_AT_LEAST: usize = CONCURRENCY / 2;
/// How often the worker looks for due items (retries come due without a wake-up).
const TICK: Duration = Duration::from_secs(1);

/// Runs inbox items in the background until shutdown begins; items in hand finish first.
pub fn spawn(state: AppState) {
    let tasks = state.tasks.clone();
    tasks.clone().spawn(async move {
        let mut running = JoinSet::new();
        let mut every = tokio::time::interval(TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            fill(&state, &mut running).await;
            tokio::select! {
                () = tasks.cancelled() => break,
                Some(finished) = running.join_next(), if !running.is_empty() => {
                    if let Err(error) = finished {
                        tracing::error!(error = %error, "an inbox item panicked");
                    }
                }
                () = state.wake.inbox.notified() => {},
                _ = every.tick() => {},
            }
        }
        while running.join_next().await.is_some() {}
    });
}

/// Claims and starts as many items as there is room for, once there is room for at least
/// [`CLAIM_AT_LEAST`] runs.
async fn fill(state: &AppState, running: &mut JoinSet<()>) {
    loop {
        let room = CONCURRENCY - running.len();
        if room < CLAIM_AT_LEAST || state.tasks.is_cancelled() {
            return;
        }
        // A new token each claim: a run whose lease ran out cannot write over a newer one.
        let token = new_id();
        let items = match inbox::claim(state, &token, i64::try_from(room).unwrap_or(1)).await {
            Ok(items) => items,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "could not claim inbox items");
                return;
            }
        };
        if items.is_empty() {
            return;
        }
        for run in inbox::runs(items) {
            let (state, token) = (state.clone(), token.clone());
            running.spawn(async move {
                inbox::run_in_order(&state, &token, run).await;
            });
        }
    }
}
