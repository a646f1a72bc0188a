//! The dispatcher loop: every [`TICK`] (or at once when woken by a question asked on
//! demand) it expires questions too late to send, plans due rounds and starts a delivery
//! lane for each workspace with due prompts. What a lane does is
//! `app::server::services::delivery`; this module only runs lanes, in parallel, one per
//! workspace at a time in this process, so a slow or rate-limited workspace never holds up
//! the others.

use std::{
    collections::HashMap,
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
    /// Workspaces with a lane running in this process, each with whether more work came for
    /// it since the lane last looked ([`LaneGuard`]).
    busy: Arc<Mutex<HashMap<String, bool>>>,
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
    /// due prompt (lanes in parallel) and waits for the lanes it started. One report per
    /// workspace, whether its lane ran once or was started again within the pass.
    pub async fn run_once(&self) -> anyhow::Result<Vec<LaneReport>> {
        let mut lanes = self.start_pass().await?;
        let mut reports: Vec<LaneReport> = Vec::new();
        while let Some(report) = lanes.join_next().await {
            let report = report.context("a delivery lane panicked")?;
            match reports.iter_mut().find(|one| one.workspace_id == report.workspace_id) {
                Some(earlier) => earlier.add(report),
                None => reports.push(report),
            }
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

    /// Starts the workspace's delivery lane in `lanes`. When one is running in this process
    /// already, it looks again before it ends instead: the work may have come (the second
    /// sweep of a round, say) after it found nothing more to claim.
    fn start_lane(&self, lanes: &mut JoinSet<LaneReport>, workspace_id: String) {
        let Some(mut guard) = LaneGuard::take(&self.busy, &workspace_id) else { return };
        let state = self.state.clone();
        lanes.spawn(async move {
            let mut report = delivery::run_lane(&state, &workspace_id).await;
            while guard.more_came() {
                report.add(delivery::run_lane(&state, &workspace_id).await);
            }
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

/// Marks a workspace's lane as running in this process until it ends or is dropped (a lane
/// that panicked).
struct LaneGuard {
    busy: Arc<Mutex<HashMap<String, bool>>>,
    workspace_id: String,
    ended: bool,
}

impl LaneGuard {
    /// Marks the workspace's lane as running; `None` when one already runs, which is then told
    /// that more work came.
    fn take(busy: &Arc<Mutex<HashMap<String, bool>>>, workspace_id: &str) -> Option<LaneGuard> {
        let mut running = busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(more_came) = running.get_mut(workspace_id) {
            *more_came = true;
            return None;
        }
        running.insert(workspace_id.to_owned(), false);
        Some(LaneGuard { busy: busy.clone(), workspace_id: workspace_id.to_owned(), ended: false })
    }

    /// Whether more work came since the lane last looked: then it runs again. Otherwise the
    /// lane ends here, in the same lock, so work that comes later starts a new lane.
    fn more_came(&mut self) -> bool {
        let mut running = self.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(more_came) = running.get_mut(&self.workspace_id).filter(|more_came| **more_came) {
            *more_came = false;
            return true;
        }
        running.remove(&self.workspace_id);
        self.ended = true;
        false
    }
}

impl Drop for LaneGuard {
    fn drop(&mut self) {
        if !self.ended {
            self.busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.workspace_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_that_comes_while_a_lane_runs_has_it_look_again_and_none_is_lost() {
        let busy = Arc::default();
        let mut lane = LaneGuard::take(&busy, "w1").expect("no lane runs yet");
        assert!(LaneGuard::take(&busy, "w1").is_none(), "one lane per workspace");
        assert!(LaneGuard::take(&busy, "w2").is_some(), "another workspace's lane runs beside it");
        assert!(lane.more_came(), "told while it ran: it looks again");
        assert!(!lane.more_came(), "nothing since: it ends");
        let mut next = LaneGuard::take(&busy, "w1").expect("work after the end starts a new lane");
        drop(lane);
        assert!(LaneGuard::take(&busy, "w1").is_none(), "an ended guard dropped late leaves the new lane be");
        assert!(next.more_came());
        drop(next);
        assert!(LaneGuard::take(&busy, "w1").is_some(), "a lane dropped without ending (a panic) frees its workspace");
    }
}
