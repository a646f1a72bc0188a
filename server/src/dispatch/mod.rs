//! The dispatcher loop: every [`TICK`] (or at once when woken by a question asked on
//! demand) it expires questions too late to send, plans due rounds and starts a delivery
//! lane for each workspace with due prompts. What a lane does is
//! `app::server::services::delivery`; this module only runs lanes, in parallel, one per
//! workspace at a time in this process, so a slow or rate-limited workspace never holds up
//! the others.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context as _;
use app::server::{
    AppState,
    services::{
        delivery::{self, LaneReport},
        rounds,
        schedule::CATCH_UP_MS,
    },
};
use tokio::task::JoinSet;

/// How often the dispatcher looks for due work (real time), unless woken earlier.
const TICK: Duration = Duration::from_secs(1);

/// Plans and delivers. Cheap to clone; clones share their set of busy lanes.
#[derive(Clone, Debug)]
pub struct Dispatcher {
    state: AppState,
    /// Workspaces with a lane running in this process.
    busy: Arc<Mutex<HashSet<String>>>,
    /// Whether passes plan scheduled rounds (otherwise they deliver only what was asked).
    plans_rounds: bool,
}

impl Dispatcher {
    pub fn new(state: AppState) -> Dispatcher {
        Dispatcher { state, busy: Arc::default(), plans_rounds: true }
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
            reports.push(report.context("a delivery lane panicked")?);
        }
        reports.sort_by(|a, b| a.workspace_id.cmp(&b.workspace_id));
        Ok(reports)
    }

    /// Runs passes every [`TICK`], or at once when woken, until shutdown begins. Lanes run
    /// on while the next pass starts; shutdown waits for the lanes in hand.
    pub fn spawn(self) {
        let tasks = self.state.tasks.clone();
        tasks.clone().spawn(async move {
            let mut every = tokio::time::interval(TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = tasks.cancelled() => break,
                    _ = every.tick() => {},
                    () = self.state.wake.dispatcher.notified() => {},
                }
                match self.start_pass().await {
                    Ok(lanes) => tasks.spawn(finish(lanes)),
                    Err(error) => tracing::warn!(error = format!("{error:#}"), "a dispatch pass failed"),
                }
            }
        });
    }

    /// Expires what is too late, plans the due rounds workspace by workspace, starting each
    /// one's lane as soon as it is planned (a large round's first questions go out while the
    /// rest is planned, and its pace starts counting then), then starts a lane for every
    /// other workspace with due prompts.
    async fn start_pass(&self) -> anyhow::Result<JoinSet<LaneReport>> {
        let now = self.state.now_ms();
        delivery::expire_late(&self.state, now - CATCH_UP_MS).await.context("expiring late questions")?;
        let mut lanes = JoinSet::new();
        if self.plans_rounds {
            rounds::plan_due_each(&self.state, now, |planned| {
                tracing::info!(
                    workspace.id = %planned.workspace_id,
                    planned = planned.prompts,
                    closed_unanswered = planned.expired,
                    next_round_at = %planned.next_round_at.map_or_else(|| "none".to_owned(), utc_time),
                    "planned a round"
                );
                if planned.prompts > 0 && !planned.waiting_for_slack {
                    self.start_lane(&mut lanes, planned.workspace_id);
                }
            })
            .await?;
        }
        for workspace_id in delivery::workspaces_with_due(&self.state).await.context("listing due workspaces")? {
            self.start_lane(&mut lanes, workspace_id);
        }
        Ok(lanes)
    }

    /// Starts the workspace's delivery lane in `lanes`, unless one is running in this process.
    fn start_lane(&self, lanes: &mut JoinSet<LaneReport>, workspace_id: String) {
        let Some(guard) = LaneGuard::take(&self.busy, &workspace_id) else { return };
        let state = self.state.clone();
        lanes.spawn(async move {
            let report = delivery::run_lane(&state, &workspace_id).await;
            drop(guard);
            report
        });
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
