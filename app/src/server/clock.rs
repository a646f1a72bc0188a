//! The time the product runs on. Everything that decides *when* (schedules, rounds,
//! retries, pauses) asks a [`Clock`] instead of the system, so tests set the time and demos
//! can run it faster.

use std::{
    fmt::Debug,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
};

/// A source of the current time in Unix milliseconds.
pub trait Clock: Send + Sync + Debug {
    fn now_ms(&self) -> i64;
}

/// The clock every part of the process shares.
pub type SharedClock = Arc<dyn Clock>;

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        super::now_ms()
    }
}

/// Wall-clock time that runs `scale` times faster from the moment it is made (demos with the
/// Slack emulator: at 60, a day of rounds passes in 24 minutes).
#[derive(Debug, Clone, Copy)]
pub struct ScaledClock {
    /// The wall-clock time it was made at.
    started_at: i64,
    /// The product's time then.
    origin: i64,
    scale: f64,
}

impl ScaledClock {
    /// Starts at the wall clock's time.
    pub fn new(scale: f64) -> ScaledClock {
        ScaledClock::resuming(scale, None)
    }

    /// Starts at the wall clock's time or at `last_recorded`, whichever is later: a restarted
    /// fast demo goes on from where its database got to, instead of going back to today while
    /// its rounds, sends and retries are already stamped days ahead.
    pub fn resuming(scale: f64, last_recorded: Option<i64>) -> ScaledClock {
        let started_at = super::now_ms();
        ScaledClock { started_at, origin: last_recorded.map_or(started_at, |at| at.max(started_at)), scale }
    }
}

impl Clock for ScaledClock {
    fn now_ms(&self) -> i64 {
        let elapsed = (super::now_ms() - self.started_at) as f64;
        self.origin + (elapsed * self.scale) as i64
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn new(now_ms: i64) -> ManualClock {
        ManualClock { now: Arc::new(AtomicI64::new(now_ms)) }
    }

    pub fn set(&self, now_ms: i64) {
        self.now.store(now_ms, Ordering::SeqCst);
    }

    pub fn advance(&self, by_ms: i64) {
        self.now.fetch_add(by_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(1_000);
        let shared: SharedClock = Arc::new(clock.clone());
        assert_eq!(shared.now_ms(), 1_000);
        clock.advance(500);
        assert_eq!(shared.now_ms(), 1_500);
        clock.set(42);
        assert_eq!(shared.now_ms(), 42);
    }

    #[test]
    fn a_scaled_clock_starts_at_the_wall_clock_time() {
        let clock = ScaledClock::new(60.0);
        let drift = (clock.now_ms() - super::super::now_ms()).abs();
        assert!(drift < 60_000, "a scaled clock starts near now, drift {drift} ms");
    }

    #[test]
    fn a_scaled_clock_resumes_from_a_later_recorded_time_and_never_goes_back_to_an_earlier_one() {
        let now = super::super::now_ms();
        let ahead = now + 3 * 24 * 60 * 60 * 1000;
        let resumed = ScaledClock::resuming(60.0, Some(ahead));
        let behind = ScaledClock::resuming(60.0, Some(now - 1_000_000));

        assert!((resumed.now_ms() - ahead).abs() < 60_000, "resumed at {}, not {ahead}", resumed.now_ms());
        assert!((behind.now_ms() - now).abs() < 60_000, "an earlier record leaves it at the wall clock");
    }
}
