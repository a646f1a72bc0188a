//! The inbox: what third parties send us, recorded before it is acknowledged and processed
//! afterwards, with retries. Recording dedupes by (source, external id); running an item
//! dispatches it by source, and its outcome is recorded: processed (with the rest of its
//! run), retried after a growing wait, or given up after [`MAX_ATTEMPTS`] with the reason
//! logged. The worker loop that claims and runs items lives in the server (`inbox`
//! worker); the rules live here.

use std::time::Duration;

pub use crate::server::db::inbox::Source;

use super::{billing, slack_events};
use crate::server::{
    AppState,
    db::inbox::{self, Item, NewItem},
    slack::client::SlackCallError,
    stripe::StripeCallError,
};

/// Tries before an item that keeps failing is given up.
pub const MAX_ATTEMPTS: i64 = 8;
/// The first retry waits this long; each next one twice as long.
const FIRST_RETRY_MS: i64 = 5_000;
/// No retry waits longer than this.
const LONGEST_RETRY_MS: i64 = 10 * 60 * 1000;
/// How long a worker holds a run before another may take it (a crash mid-run). One item
/// makes at most about five Slack calls of at most 10 s each, and a run renews its lease
/// before an item when less than half is left, so no item outlives it; after a crash, that
/// workspace's later events wait at most this long.
pub const LEASE_MS: i64 = 2 * 60 * 1000;
/// How long processed ids are kept: Slack retries within minutes and a replayed request is
/// refused after 5, so a week is ample.
pub const KEEP_FINISHED_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Records a Slack event to process and wakes the worker. Returns `false` for an event id
/// already recorded (Slack's retry, or a duplicate delivery).
pub async fn record_slack_event(
    state: &AppState,
    event_id: &str,
    team_id: Option<&str>,
    event_type: &str,
    payload: &str,
) -> anyhow::Result<bool> {
    // Events of one team run in order (a `team_join` before the `user_change` that follows).
    let ordering_key = format!("slack:{}", team_id.unwrap_or_default());
    let item = NewItem {
        source: Source::SlackEvent,
        external_id: event_id,
        ordering_key: &ordering_key,
        kind: event_type,
        payload,
    };
    record(state, &item).await
}

/// Records an authentic Stripe event to process and wakes the worker. Events about one
/// customer run one at a time. Returns `false` for an event id already recorded (Stripe's
/// retry, or a duplicate delivery).
pub async fn record_stripe_event(
    state: &AppState,
    event_id: &str,
    customer_id: Option<&str>,
    event_type: &str,
    payload: &str,
) -> anyhow::Result<bool> {
    let ordering_key = format!("stripe:{}", customer_id.unwrap_or_default());
    let item = NewItem {
        source: Source::StripeEvent,
        external_id: event_id,
        ordering_key: &ordering_key,
        kind: event_type,
        payload,
    };
    record(state, &item).await
}

/// Records an item to process, unless its id was recorded before, and wakes the worker.
/// Returns once the item is committed (with whatever else arrived meanwhile).
async fn record(state: &AppState, item: &NewItem<'_>) -> anyhow::Result<bool> {
    let recorded = state.inbox_writer.record(item, state.now_ms()).await?;
    if recorded {
        state.wake.inbox.notify_one();
    }
    Ok(recorded)
}

/// Records a request handled inline (an interaction, a slash command) by its id. Returns
/// `false` when it was seen before: a replay of a signed request, to be ignored.
pub async fn record_handled(state: &AppState, source: Source, external_id: &str, kind: &str) -> anyhow::Result<bool> {
    Ok(inbox::insert_handled(state.db.pool(), source, external_id, kind, state.now_ms()).await?)
}

/// The most items of one ordering key a claim hands to one worker at a time: as many as
/// are recorded processed in one statement.
pub const RUN: i64 = inbox::MAX_PROCESSED_AT_ONCE as i64;

/// Claims runs of items for up to `keys` ordering keys (see [`inbox::claim`]), oldest first.
/// Use a new `token` for every claim: a run whose lease ran out must find its later writes
/// refused, even when this same process took the key again.
pub async fn claim(state: &AppState, token: &str, keys: i64) -> anyhow::Result<Vec<Item>> {
    let now = state.now_ms();
    Ok(inbox::claim(&state.db, token, now, now + LEASE_MS, keys, RUN).await?)
}

/// Splits claimed items into their ordering keys' runs, each oldest first.
pub fn runs(items: Vec<Item>) -> Vec<Vec<Item>> {
    let mut runs: Vec<Vec<Item>> = Vec::new();
    for item in items {
        match runs.iter_mut().find(|run| run[0].ordering_key == item.ordering_key) {
            Some(run) => run.push(item),
            None => runs.push(vec![item]),
        }
    }
    runs
}

/// Runs claimed items here, run after run; returns the ids of the items it ran.
pub async fn run_claimed(state: &AppState, token: &str, items: Vec<Item>) -> Vec<String> {
    let mut ran = Vec::new();
    for run in runs(items) {
        ran.extend(run_in_order(state, token, run).await);
    }
    ran
}

/// Runs one key's run in order. Items processed are recorded so together, once the run
/// ends or before anything else is written for it: one write for the run instead of one
/// for each item. Until then they stay held under `token` (the key's later items wait, and
/// the lease renewal covers them), so a crash meanwhile runs them again, as it does an item
/// whose outcome was not yet written. An item to be tried again stops the run (the key's
/// later items must not overtake it) and the rest is given back, as it is when shutdown
/// begins; the lease is renewed when half of it has passed. Returns the ids of the items
/// it ran.
pub async fn run_in_order(state: &AppState, token: &str, items: Vec<Item>) -> Vec<String> {
    let mut ran = Vec::new();
    let Some(key) = items.first().map(|item| item.ordering_key.clone()) else { return ran };
    let mut lease_until = items.iter().map(|item| item.claimed_until).min().unwrap_or_default();
    let mut processed = Vec::new();
    for item in &items {
        if state.tasks.is_cancelled() {
            record_processed(state, token, &mut processed).await;
            give_back(state, token, &key).await;
            return ran;
        }
        let now = state.now_ms();
        if now > lease_until - LEASE_MS / 2 {
            match inbox::renew(state.db.pool(), token, &key, now + LEASE_MS).await {
                Ok(held) if held.contains(&item.id) => lease_until = now + LEASE_MS,
                Ok(_) => {
                    tracing::warn!(inbox.id = item.id, "an inbox run's lease was lost; another worker has it");
                    return ran;
                }
                Err(error) => {
                    tracing::warn!(error = %error, "could not renew an inbox run's lease");
                    record_processed(state, token, &mut processed).await;
                    return ran;
                }
            }
        }
        ran.push(item.external_id.clone());
        match attempt(state, item).await {
            Ok(()) => processed.push(item.id),
            Err(error) => {
                if !record_processed(state, token, &mut processed).await
                    || record_failure(state, item, &error).await != Ran::Done
                {
                    give_back(state, token, &key).await;
                    return ran;
                }
            }
        }
    }
    record_processed(state, token, &mut processed).await;
    ran
}

/// Gives back what is left of a run, so the next claim takes it again in order.
async fn give_back(state: &AppState, token: &str, key: &str) {
    if let Err(error) = inbox::release(state.db.pool(), token, key).await {
        // Not given back: the lease runs out and the next claim takes them.
        tracing::warn!(error = %error, "could not give back the rest of an inbox run");
    }
}

/// What a failed item came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    /// Given up for good: the key's next item may run.
    Done,
    /// Put back to try again later.
    Retrying,
    /// The outcome could not be recorded (the claim was lost, or the database failed).
    Unrecorded,
}

/// Runs one claimed item: dispatches it by source.
#[tracing::instrument(name = "inbox item", skip_all, fields(inbox.id = item.id, inbox.source = item.source.as_str(), inbox.kind = %item.kind))]
async fn attempt(state: &AppState, item: &Item) -> anyhow::Result<()> {
    match item.source {
        Source::SlackEvent => {
            let team_id = item.ordering_key.strip_prefix("slack:").filter(|team| !team.is_empty());
            slack_events::process(state, team_id, &item.payload).await
        }
        // Handled inline when they arrived; nothing is ever left to run.
        Source::SlackInteraction | Source::SlackCommand => Ok(()),
        Source::StripeEvent => billing::process_event(state, &item.payload).await,
    }
}

/// Records the items of a run processed so far, and empties `processed`. `false` when
/// they could not all be recorded (a claim lost meanwhile, or the database failed): the
/// run must stop. Errors are logged here, once.
async fn record_processed(state: &AppState, token: &str, processed: &mut Vec<i64>) -> bool {
    if processed.is_empty() {
        return true;
    }
    let marked = inbox::update_processed(state.db.pool(), processed, token, state.now_ms()).await;
    let expected = processed.len() as u64;
    processed.clear();
    if marked.as_ref().is_ok_and(|&marked| marked > 0) {
        state.wake.inbox_done.notify_waiters();
    }
    match marked {
        Ok(marked) if marked == expected => true,
        Ok(marked) => {
            tracing::warn!(marked, expected, "an inbox run's claim was lost before its items were recorded processed");
            false
        }
        Err(error) => {
            tracing::error!(error = %error, "could not record inbox items processed");
            false
        }
    }
}

/// Records why `item` failed: tried again later, or given up (retries spent, or a failure
/// that will never pass). Errors are logged here, once.
#[tracing::instrument(name = "inbox item", skip_all, fields(inbox.id = item.id, inbox.source = item.source.as_str(), inbox.kind = %item.kind))]
async fn record_failure(state: &AppState, item: &Item, error: &anyhow::Error) -> Ran {
    let now = state.now_ms();
    let reason = format!("{error:#}");
    let tries = item.attempts + 1;
    let (ran, recorded) = if tries >= MAX_ATTEMPTS || is_permanent(error) {
        tracing::error!(error = %reason, tries, "gave up on an inbox item");
        (Ran::Done, inbox::update_gave_up(state.db.pool(), item.id, &item.claimed_by, &reason, now).await)
    } else {
        let wait_ms = retry_wait_ms(tries);
        tracing::warn!(error = %reason, tries, wait_ms, "an inbox item failed; trying again later");
        let next = now + wait_ms;
        (Ran::Retrying, inbox::update_retry(state.db.pool(), item.id, &item.claimed_by, next, &reason).await)
    };
    match recorded {
        Ok(true) => {
            state.wake.inbox_done.notify_waiters();
            ran
        }
        Ok(false) => {
            tracing::warn!("an inbox item's claim was lost before its outcome was recorded");
            Ran::Unrecorded
        }
        Err(error) => {
            tracing::error!(error = %error, "could not record an inbox item's outcome");
            Ran::Unrecorded
        }
    }
}

/// Whether a failure will fail again however often it is tried: an item that cannot be read,
/// or Slack or Stripe refusing a call for good (`channel_not_found`, `invalid_auth`,
/// `resource_missing`, ...). Those are given up at once, so they never hold their
/// workspace's later events back.
fn is_permanent(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.is::<serde_json::Error>()
            || matches!(cause.downcast_ref::<SlackCallError>(), Some(SlackCallError::Refused(_)))
            || matches!(cause.downcast_ref::<StripeCallError>(), Some(StripeCallError::Refused { .. }))
    })
}

/// The wait before try `tries + 1`: doubling from [`FIRST_RETRY_MS`], capped.
pub fn retry_wait_ms(tries: i64) -> i64 {
    let exponent = u32::try_from(tries.clamp(1, 20) - 1).unwrap_or(0);
    FIRST_RETRY_MS.saturating_mul(1_i64 << exponent).min(LONGEST_RETRY_MS)
}

/// Runs every item that can run now, here, until none is left to process (items another
/// worker holds are waited for, woken by `state.wake.inbox_done`). Items waiting for a
/// retry later count as left. For tests and tools that must see the inbox drained.
pub async fn drain(state: &AppState, give_up_after: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + give_up_after;
    loop {
        let token = crate::server::new_id();
        let items = claim(state, &token, 32).await?;
        if !items.is_empty() {
            run_claimed(state, &token, items).await;
            continue;
        }
        // Listen before counting, so an item finished in between still wakes this wait.
        let done = state.wake.inbox_done.notified();
        tokio::pin!(done);
        done.as_mut().enable();
        let left = inbox::count_unfinished(state.db.pool()).await?;
        if left == 0 {
            return Ok(());
        }
        if tokio::time::timeout_at(deadline, done).await.is_err() {
            anyhow::bail!("{left} inbox items were still unprocessed after {give_up_after:?}");
        }
    }
}

/// Forgets items finished more than [`KEEP_FINISHED_MS`] ago.
pub async fn forget_finished(state: &AppState) -> anyhow::Result<u64> {
    Ok(inbox::delete_finished_before(state.db.pool(), state.now_ms() - KEEP_FINISHED_MS).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_a_cap() {
        let waits: Vec<i64> = (1..MAX_ATTEMPTS).map(retry_wait_ms).collect();
        assert_eq!(waits[..3], [5_000, 10_000, 20_000]);
        assert!(waits.windows(2).all(|pair| pair[1] >= pair[0]));
        assert_eq!(retry_wait_ms(30), LONGEST_RETRY_MS);
    }
}
