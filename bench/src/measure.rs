//! Timings and what they sum up to.

use std::time::Duration;

/// Durations of many tries of one thing.
#[derive(Debug, Default, Clone)]
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn push(&mut self, took: Duration) {
        self.0.push(took);
    }

    /// Adds every sample of `other`.
    pub fn extend(&mut self, other: Samples) {
        self.0.extend(other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `percent` percentile (nearest rank: the smallest sample that at least `percent`
    /// of the samples are not above); zero when there are none.
    pub fn percentile(&self, percent: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    pub fn max(&self) -> Duration {
        self.0.iter().copied().max().unwrap_or_default()
    }
}

/// Milliseconds with one decimal, as the tables show them.
pub fn ms(took: Duration) -> String {
    format!("{:.1} ms", took.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(millis: impl IntoIterator<Item = u64>) -> Samples {
        let mut samples = Samples::default();
        for m in millis {
            samples.push(Duration::from_millis(m));
        }
        samples
    }

    #[test]
    fn percentiles_are_by_nearest_rank() {
        let hundred = samples((1..=100).rev());
        assert_eq!(hundred.percentile(50.0), Duration::from_millis(50));
        assert_eq!(hundred.percentile(99.0), Duration::from_millis(99));
        assert_eq!(hundred.percentile(100.0), Duration::from_millis(100));
        assert_eq!(samples([7]).percentile(99.0), Duration::from_millis(7));
        assert_eq!(samples([3, 1, 2]).percentile(0.0), Duration::from_millis(1));
    }

    #[test]
    fn no_samples_sum_up_to_zero() {
        assert_eq!(Samples::default().percentile(99.0), Duration::ZERO);
        assert_eq!(Samples::default().max(), Duration::ZERO);
    }

    #[test]
    fn milliseconds_keep_one_decimal() {
        assert_eq!(ms(Duration::from_micros(12_345)), "12.3 ms");
    }
}
