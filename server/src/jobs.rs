//! Periodic jobs beside the requests: the daily digests, the weekly summaries, billing's pass, the Stripe
//! emulator's clock, and the hourly clean-up of expired sessions and old inbox items. Each
//! runs until shutdown begins.

use std::time::Duration;

use anyhow::Context as _;
use app::server::{
    AppState,
    services::{billing, inbox, sharing, sign_in, weekly_summary, workspace_data},
};

use crate::{emulator::stripe::StripeEmulator, sessions::DbSessionStore};

/// How often digest workspaces are checked for a due digest.
const DIGEST_CHECK: Duration = Duration::from_secs(5 * 60);
/// How often workspaces are checked for a due weekly summary.
const SUMMARY_CHECK: Duration = Duration::from_secs(15 * 60);
/// How often billing tells admins of lapsed workspaces and reports usage to Stripe.
const BILLING_CHECK: Duration = Duration::from_secs(60);
/// How often the Stripe emulator catches up with the clock (period ends, retries).
const STRIPE_EMULATOR_TICK: Duration = Duration::from_secs(1);
/// How often old sessions and inbox items are cleaned up.
const CLEAN_UP: Duration = Duration::from_secs(60 * 60);

/// Starts posting the daily digests of digest-mode workspaces (needs Slack).
pub fn spawn_digests(state: &AppState) {
    every(state, DIGEST_CHECK, "posting the daily digests", |state| async move {
        sharing::post_due_digests(&state, state.now_ms()).await.map(drop)
    });
}

/// Starts sending the admins' weekly summaries (needs Slack).
pub fn spawn_weekly_summaries(state: &AppState) {
    every(state, SUMMARY_CHECK, "sending the weekly summaries", |state| async move {
        weekly_summary::send_due(&state).await.map(drop)
    });
}

/// Starts billing's periodic pass (needs Stripe).
pub fn spawn_billing(state: &AppState) {
    every(state, BILLING_CHECK, "telling admins of lapses and reporting usage to Stripe", |state| async move {
        billing::tick(&state).await
    });
}

/// Lets the Stripe emulator end periods, charge and retry as time passes (the demo).
pub fn spawn_stripe_emulator(state: &AppState, emulator: StripeEmulator) {
    every(state, STRIPE_EMULATOR_TICK, "advancing the Stripe emulator", move |_| {
        let emulator = emulator.clone();
        async move { emulator.tick().await }
    });
}

/// Starts the hourly clean-up.
pub fn spawn_clean_up(state: &AppState, uninstall_grace_days: i64) {
    every(
        state,
        CLEAN_UP,
        "cleaning up old sessions, sign-in links, inbox items and uninstalled workspaces",
        move |state| async move {
            DbSessionStore::new(state.db.clone()).delete_expired().await.context("deleting expired sessions")?;
            sign_in::delete_expired_links(&state.db, state.now_ms()).await.context("deleting expired sign-in links")?;
            inbox::forget_finished(&state).await.context("forgetting old inbox items")?;
            let purged = workspace_data::purge_uninstalled(&state.db, state.now_ms(), uninstall_grace_days)
                .await
                .context("deleting the data of workspaces uninstalled long ago")?;
            if purged > 0 {
                tracing::info!(workspaces = purged, "deleted the data of workspaces uninstalled past the grace period");
            }
            Ok(())
        },
    );
}

/// Runs `job` every `period` (the first time at once) until shutdown; a failure is logged.
fn every<F, Fut>(state: &AppState, period: Duration, what: &'static str, job: F)
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let (state, tasks) = (state.clone(), state.tasks.clone());
    tasks.clone().spawn(async move {
        let mut ticks = tokio::time::interval(period);
        loop {
            tokio::select! {
                () = tasks.cancelled() => break,
                _ = ticks.tick() => {
                    if let Err(error) = job(state.clone()).await {
                        tracing::warn!(error = format!("{error:#}"), job = what, "a periodic job failed");
                    }
                }
            }
        }
    });
}
