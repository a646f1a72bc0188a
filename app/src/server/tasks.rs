//! [`Tasks`]: the one place background work is started, so shutdown can stop all of it.
//! Every loop and every piece of work that leaves a request starts through
//! [`Tasks::spawn`] and watches [`Tasks::cancelled`]; shutdown cancels, then waits (bounded)
//! for them to finish their current item.

use std::time::Duration;

use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// The process's background tasks and the signal that tells them to stop.
#[derive(Clone, Debug, Default)]
pub struct Tasks {
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl Tasks {
    /// Starts `work` in the background, tracked until it ends.
    pub fn spawn<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(work);
    }

    /// Completes when shutdown has begun: loops stop taking new work.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// Whether shutdown has begun.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Tells every task to stop and waits up to `grace` for them to finish. Returns how many
    /// were still running when the wait ended (0 when all finished).
    pub async fn shut_down(&self, grace: Duration) -> usize {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait()).await.is_err() {
            return self.tracker.len();
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_stops_loops_and_waits_for_the_current_item() {
        let tasks = Tasks::default();
        let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (worker, done) = (tasks.clone(), finished.clone());
        tasks.spawn(async move {
            worker.cancelled().await;
            // The item in hand still completes after the signal.
            tokio::time::sleep(Duration::from_millis(20)).await;
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        assert_eq!(tasks.shut_down(Duration::from_secs(5)).await, 0);
        assert!(finished.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_task_that_ignores_the_signal_is_left_after_the_grace_period() {
        let tasks = Tasks::default();
        tasks.spawn(std::future::pending());
        assert_eq!(tasks.shut_down(Duration::from_millis(20)).await, 1);
    }
}
