//! The server's resident memory: sampled from `/proc/<pid>/status` every few seconds, and
//! judged flat or not for each half of the run (a restart starts it afresh).
//!
//! The rule: in each half, after a warm-up, the mean of the last window must be less than
//! [`MAX_GROWTH_PERCENT`] above the mean of the first window after the warm-up. Warm-up and
//! windows are a minute each, or a third of the half when the half is shorter than three
//! minutes (then the verdict says little).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::task::JoinHandle;

use super::lock;
use crate::process::resident_kib;

/// How often the server's memory is read.
const EVERY: Duration = Duration::from_secs(5);
/// The warm-up and each window, at most.
const WINDOW: Duration = Duration::from_secs(60);
/// The growth from the first window after warm-up to the last one above which memory is
/// not flat.
pub const MAX_GROWTH_PERCENT: f64 = 10.0;

/// One reading: in which half, how long after the server became ready, how much.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub half: usize,
    pub at: Duration,
    pub rss_kib: u64,
}

/// The server being watched.
#[derive(Debug, Clone, Copy)]
struct Watched {
    half: usize,
    pid: u32,
    since: Instant,
}

/// Reads the memory of whichever server is running, until stopped.
#[derive(Debug, Default)]
pub struct Watch {
    current: Mutex<Option<Watched>>,
    samples: Mutex<Vec<Sample>>,
    stopped: AtomicBool,
}

impl Watch {
    /// From now on, reads the server `pid` (ready just now) as half `half`.
    pub fn follow(&self, half: usize, pid: Option<u32>) {
        *lock(&self.current) = pid.map(|pid| Watched { half, pid, since: Instant::now() });
    }

    /// Stops reading until the next [`Watch::follow`] (the server is stopping).
    pub fn pause(&self) {
        *lock(&self.current) = None;
    }

    /// Starts reading every few seconds.
    pub fn spawn(self: &Arc<Self>) -> JoinHandle<()> {
        let watch = Arc::clone(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(EVERY);
            while !watch.stopped.load(Ordering::SeqCst) {
                ticks.tick().await;
                watch.read_once();
            }
        })
    }

    /// Ends the readings (the task stops at its next tick).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Every reading so far, in order.
    pub fn samples(&self) -> Vec<Sample> {
        lock(&self.samples).clone()
    }

    fn read_once(&self) {
        let Some(watched) = *lock(&self.current) else { return };
        // Unreadable while the process exits; the next reading comes soon enough.
        if let Some(rss_kib) = resident_kib(watched.pid) {
            lock(&self.samples).push(Sample { half: watched.half, at: watched.since.elapsed(), rss_kib });
        }
    }
}

/// One half's memory, summed up and judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub half: usize,
    pub samples: usize,
    pub min_mib: f64,
    pub max_mib: f64,
    /// Means of the first window after warm-up and of the last window; `None` when the half
    /// had no reading in one of them.
    pub early_mib: Option<f64>,
    pub late_mib: Option<f64>,
    /// The mean of each whole minute of the half, in order (a minute without a reading is
    /// left out): whether growth slows down shows here.
    pub minute_means_mib: Vec<f64>,
}

impl Judged {
    /// Growth from the early to the late window, in percent.
    pub fn growth_percent(&self) -> Option<f64> {
        Some((self.late_mib? / self.early_mib? - 1.0) * 100.0)
    }

    /// Flat: judged, and grew less than [`MAX_GROWTH_PERCENT`].
    pub fn is_flat(&self) -> bool {
        self.growth_percent().is_some_and(|growth| growth < MAX_GROWTH_PERCENT)
    }
}

/// Judges half `half`, which lasted `length`, from every sample taken.
pub fn judge(samples: &[Sample], half: usize, length: Duration) -> Judged {
    let readings: Vec<&Sample> = samples.iter().filter(|s| s.half == half && s.at <= length).collect();
    let window = WINDOW.min(length / 3);
    let mean_between = |from: Duration, to: Duration| {
        let inside: Vec<f64> = readings.iter().filter(|s| s.at >= from && s.at < to).map(|s| mib(s.rss_kib)).collect();
        (!inside.is_empty()).then(|| inside.iter().sum::<f64>() / inside.len() as f64)
    };
    let all = readings.iter().map(|s| mib(s.rss_kib));
    Judged {
        half,
        samples: readings.len(),
        min_mib: all.clone().fold(f64::INFINITY, f64::min),
        max_mib: all.fold(0.0, f64::max),
        early_mib: mean_between(window, window * 2),
        late_mib: mean_between(length.saturating_sub(window), length + Duration::from_millis(1)),
        minute_means_mib: (0..length.as_secs().div_ceil(60))
            .filter_map(|minute| mean_between(Duration::from_secs(minute * 60), Duration::from_secs((minute + 1) * 60)))
            .collect(),
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(half: usize, readings: &[(u64, u64)]) -> Vec<Sample> {
        readings
            .iter()
            .map(|&(secs, mib)| Sample { half, at: Duration::from_secs(secs), rss_kib: mib * 1024 })
            .collect()
    }

    #[test]
    fn growth_during_warm_up_does_not_count_but_growth_after_it_does() {
        let five_minutes = Duration::from_secs(300);
        let warm_then_flat = samples(1, &[(5, 20), (30, 40), (65, 50), (110, 50), (250, 52), (295, 53)]);
        let judged = judge(&warm_then_flat, 1, five_minutes);
        assert_eq!((judged.early_mib, judged.late_mib), (Some(50.0), Some(52.5)));
        assert!(judged.is_flat(), "{judged:?}");
        assert_eq!((judged.min_mib, judged.max_mib), (20.0, 53.0));

        let leaking = samples(1, &[(65, 50), (110, 50), (250, 60), (295, 62)]);
        assert!(!judge(&leaking, 1, five_minutes).is_flat());
    }

    #[test]
    fn each_half_is_judged_on_its_own_readings_and_none_is_not_flat() {
        let mut both = samples(1, &[(65, 50), (295, 50)]);
        both.extend(samples(2, &[(65, 30), (295, 90)]));

        assert!(judge(&both, 1, Duration::from_secs(300)).is_flat());
        assert!(!judge(&both, 2, Duration::from_secs(300)).is_flat());
        let empty = judge(&[], 1, Duration::from_secs(300));
        assert_eq!((empty.samples, empty.growth_percent()), (0, None));
        assert!(!empty.is_flat());
    }
}
