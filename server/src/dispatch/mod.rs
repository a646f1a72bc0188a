//! The dispatcher: plans due rounds and delivers prompts. Prompts are rows and the row is
//! the job: each pass claims due prompts per workspace under a lease, sends them through
//! [`sender`], and records every outcome on the row, so a crash, a restart or a second
//! instance never sends one twice.
//!
//! Workspaces are delivered in parallel lanes, one per workspace with due work, so a slow or
//! rate-limited workspace never holds up the others. Each lane keeps to
//! [`SENDS_PER_MINUTE`], counted in the database across instances.

pub mod policy;
pub mod sender;

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use app::server::{
    db::{prompts, workspaces},
    new_id,
    services::{rounds, schedule::CATCH_UP_MS},
};
use tokio::{sync::Notify, task::JoinSet};

use self::sender::Outcome;
use crate::slack::SlackState;

/// How often the dispatcher looks for due work (real time), unless woken earlier.
const TICK: Duration = Duration::from_secs(1);
/// How long a claim lasts before another dispatcher may take the prompt (longer than a
/// lookup plus a send, each bounded by the Slack client's timeout).
pub const LEASE_MS: i64 = 60_000;
/// Prompts claimed at a time per workspace.
const BATCH: i64 = 10;
/// Messages per workspace per minute: well inside what Slack allows for `chat.postMessage`
/// to different DMs, so a large round is paced instead of throttled.
pub const SENDS_PER_MINUTE: i64 = 60;

/// Plans and delivers. Cheap to clone; clones share their set of busy lanes.
#[derive(Clone, Debug)]
pub struct Dispatcher {
    slack: SlackState,
    /// Workspaces with a lane running in this process.
    busy: Arc<Mutex<HashSet<String>>>,
    wake: Arc<Notify>,
    /// Whether passes plan scheduled rounds (otherwise they deliver only what was asked).
    plans_rounds: bool,
}

/// What one workspace's lane did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaneReport {
    pub workspace_id: String,
    pub sent: usize,
    /// Found already posted by an earlier try and recorded, not sent again.
    pub found_posted: usize,
    pub retrying: usize,
    pub slowed_down: bool,
    /// Failed prompts by reason.
    pub failed: BTreeMap<String, usize>,
}

impl Dispatcher {
    pub fn new(slack: SlackState) -> Dispatcher {
        let wake = slack.dispatch_wake.clone();
        Dispatcher { slack, busy: Arc::default(), wake, plans_rounds: true }
    }

    /// A dispatcher that delivers questions asked on demand but plans no rounds (tests of
    /// on-demand flows on the wall clock, whose outcome must not depend on the time of day).
    #[must_use]
    pub fn without_rounds(mut self) -> Dispatcher {
        self.plans_rounds = false;
        self
    }

    /// One pass: expires questions too late to send, plans due rounds, then delivers every
    /// due prompt (lanes in parallel) and waits for the lanes it started.
    pub async fn run_once(&self) -> anyhow::Result<Vec<LaneReport>> {
        let mut lanes = self.start_pass().await?;
        let mut reports = Vec::new();
        while let Some(report) = lanes.join_next().await {
            reports.push(report?);
        }
        reports.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
        Ok(reports)
    }

    /// Runs passes every [`TICK`], or at once when woken (a question asked on demand), until
    /// the process ends. Lanes run on while the next pass starts.
    pub fn spawn(self) {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => {},
                    () = self.wake.notified() => {},
                }
                match self.start_pass().await {
                    Ok(lanes) => {
                        tokio::spawn(finish(lanes));
                    }
                    Err(error) => tracing::warn!(error = format!("{error:#}"), "a dispatch pass failed"),
                }
            }
        });
    }

    async fn start_pass(&self) -> anyhow::Result<JoinSet<LaneReport>> {
        let db = &self.slack.db;
        let now = self.slack.clock.now_ms();
        let expired = prompts::expire_undelivered_before(db.pool(), now - CATCH_UP_MS, now).await?;
        if expired > 0 {
            tracing::warn!(expired, "questions could not be delivered in time and expired");
        }
        let planned = if self.plans_rounds { rounds::plan_due(db, now).await? } else { Vec::new() };
        for planned in planned {
            tracing::info!(
                workspace.id = %planned.workspace_id,
                planned = planned.prompts,
                closed_unanswered = planned.expired,
                next_round_at = %planned.next_round_at.map_or_else(|| "none".to_owned(), utc_time),
                "planned a round"
            );
        }
        let mut lanes = JoinSet::new();
        for workspace_id in prompts::list_workspaces_with_due(db.pool(), now).await? {
            let Some(guard) = LaneGuard::take(&self.busy, &workspace_id) else { continue };
            let slack = self.slack.clone();
            lanes.spawn(async move {
                let report = run_lane(&slack, &workspace_id).await;
                drop(guard);
                report
            });
        }
        Ok(lanes)
    }
}

/// Waits for a pass's lanes in the background; a lane that panicked is logged, not lost.
async fn finish(mut lanes: JoinSet<LaneReport>) {
    while let Some(lane) = lanes.join_next().await {
        if let Err(error) = lane {
            tracing::error!(error = %error, "a delivery lane panicked");
        }
    }
}

/// A Unix-ms time as RFC 3339 in UTC, for the log.
fn utc_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(|| ms.to_string(), |time| time.to_rfc3339())
}

/// Marks a workspace's lane as running in this process until dropped.
struct LaneGuard {
    busy: Arc<Mutex<HashSet<String>>>,
    workspace_id: String,
}

impl LaneGuard {
    fn take(busy: &Arc<Mutex<HashSet<String>>>, workspace_id: &str) -> Option<LaneGuard> {
        let mut set = busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        set.insert(workspace_id.to_owned())
            .then(|| LaneGuard { busy: busy.clone(), workspace_id: workspace_id.to_owned() })
    }
}

impl Drop for LaneGuard {
    fn drop(&mut self) {
        self.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.workspace_id);
    }
}

/// Delivers one workspace's due prompts, batch by batch, while its pace allows.
async fn run_lane(slack: &SlackState, workspace_id: &str) -> LaneReport {
    let mut report = LaneReport { workspace_id: workspace_id.to_owned(), ..LaneReport::default() };
    if let Err(error) = deliver_batches(slack, workspace_id, &mut report).await {
        tracing::warn!(workspace.id = %workspace_id, error = format!("{error:#}"), "a delivery lane stopped early");
    }
    if report != (LaneReport { workspace_id: workspace_id.to_owned(), ..LaneReport::default() }) {
        tracing::info!(
            workspace.id = %workspace_id,
            sent = report.sent,
            found_posted = report.found_posted,
            retrying = report.retrying,
            slowed_down = report.slowed_down,
            failed = ?report.failed,
            "delivered questions"
        );
    }
    report
}

async fn deliver_batches(slack: &SlackState, workspace_id: &str, report: &mut LaneReport) -> anyhow::Result<()> {
    let db = &slack.db;
    loop {
        let now = slack.clock.now_ms();
        let Some(workspace) = workspaces::find(db.pool(), workspace_id).await? else { return Ok(()) };
        if workspace.sending_paused_until.is_some_and(|until| until > now) {
            return Ok(());
        }
        let used = prompts::count_recent_sends(db.pool(), workspace_id, now - 60_000, now).await?;
        let room = (SENDS_PER_MINUTE - used).min(BATCH);
        if room <= 0 {
            return Ok(());
        }
        let token = new_id();
        let batch = prompts::claim(db.pool(), db.backend(), workspace_id, &token, now, now + LEASE_MS, room).await?;
        if batch.is_empty() {
            return Ok(());
        }
        let mut halted: Option<Outcome> = None;
        for prompt in &batch {
            match &halted {
                // The workspace must wait: hand the rest back untouched.
                Some(Outcome::SlowedDown { until }) => {
                    prompts::update_retry(db.pool(), prompt, *until, false, true, "waiting for Slack", now).await?;
                }
                // Slack refused the workspace: the rest fail for the same reason.
                Some(Outcome::WorkspaceStopped(reason)) => {
                    prompts::update_failed(db.pool(), &prompt.id, &token, reason, now).await?;
                    tally(report, Outcome::Failed(reason.clone()));
                }
                _ => {
                    let outcome = sender::deliver(slack, &workspace, prompt).await?;
                    if outcome.halts_workspace() {
                        halted = Some(outcome.clone());
                    }
                    tally(report, outcome);
                }
            }
        }
        if halted.is_some() {
            return Ok(());
        }
    }
}

fn tally(report: &mut LaneReport, outcome: Outcome) {
    match outcome {
        Outcome::Sent => report.sent += 1,
        Outcome::FoundPosted => report.found_posted += 1,
        Outcome::Retrying(_) => report.retrying += 1,
        Outcome::SlowedDown { .. } => report.slowed_down = true,
        Outcome::Failed(reason) | Outcome::WorkspaceStopped(reason) => *report.failed.entry(reason).or_default() += 1,
        Outcome::Lost => {}
    }
}
