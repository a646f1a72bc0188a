//! Limits on signing in and installing, per client address. Password attempts are counted
//! per address and per email, so nobody can guess an admin's password by trying many (and
//! nobody can lock an admin out from one address while the admin signs in from another: each
//! key has its own budget). Starts — of an install, a Sign in with Slack, a password sign-in,
//! a link's redemption — are limited per address and for everyone together, since each may
//! store a session and call Slack. Counts live in this process (one [`AttemptLimiter`] per
//! app, no global): behind several instances each allows its own budget.
//!
//! The address is the connecting socket's: Rapport reads no forwarding header, which anyone
//! can forge. Behind a reverse proxy every visitor shares the proxy's address.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Mutex, PoisonError},
};

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts},
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};

use super::SignInSettings;

/// What one key may do: password attempts within [`WINDOW_MS`], and starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub per_address: u32,
    pub per_email: u32,
    /// Starts one address may make a minute, once its first `start_burst` are spent.
    pub starts_per_minute: u32,
    pub start_burst: u32,
    /// Starts a minute from every address together (and as many at once).
    pub all_starts_per_minute: u32,
}

/// The window attempts are counted in.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Above this many keys, finished windows are forgotten, so a flood of made-up emails
/// cannot grow the table without bound.
const PRUNE_ABOVE: usize = 10_000;
/// The most addresses whose starts are remembered at once.
const MAX_ADDRESSES: usize = 10_000;

/// The default budget: a person who mistypes a few times, or starts over a few times, never
/// notices it.
pub const DEFAULT_BUDGET: Budget =
    Budget { per_address: 20, per_email: 10, starts_per_minute: 10, start_burst: 10, all_starts_per_minute: 600 };

/// Counts password attempts per key in fixed windows, and starts per address in token
/// buckets.
#[derive(Debug)]
pub struct AttemptLimiter {
    budget: Budget,
    windows: Mutex<HashMap<String, Window>>,
    starts: Mutex<Starts>,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started_at: i64,
    attempts: u32,
}

/// The start buckets: one per address, one for everyone.
#[derive(Debug, Default)]
struct Starts {
    per_address: HashMap<String, Bucket>,
    all: Option<Bucket>,
}

/// How fast a bucket refills and how much it holds.
#[derive(Clone, Copy, Debug)]
struct Rate {
    per_minute: u32,
    burst: u32,
}

/// A token bucket: `tokens` as of `at_ms`.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

impl Bucket {
    fn full(rate: Rate, now_ms: i64) -> Bucket {
        Bucket { tokens: f64::from(rate.burst), at_ms: now_ms }
    }

    /// The bucket as it stands at `now_ms`, refilled for the time since.
    fn refilled(self, rate: Rate, now_ms: i64) -> Bucket {
        let elapsed_ms = (now_ms - self.at_ms).max(0) as f64;
        let tokens = self.tokens + elapsed_ms * f64::from(rate.per_minute) / 60_000.0;
        Bucket { tokens: tokens.min(f64::from(rate.burst)), at_ms: self.at_ms.max(now_ms) }
    }

    /// Milliseconds until the bucket holds a whole token; 0 when it does.
    fn wait_ms(&self, rate: Rate) -> i64 {
        if self.tokens >= 1.0 {
            return 0;
        }
        ((1.0 - self.tokens) * 60_000.0 / f64::from(rate.per_minute.max(1))).ceil() as i64
    }
}

impl Starts {
    /// Forgets addresses whose buckets have refilled (as good as never seen); if every one is
    /// still in use, the one idle longest.
    fn make_room(&mut self, rate: Rate, now_ms: i64) {
        let full = f64::from(rate.burst);
        self.per_address.retain(|_, bucket| bucket.refilled(rate, now_ms).tokens < full);
        if self.per_address.len() >= MAX_ADDRESSES
            && let Some(oldest) =
                self.per_address.iter().min_by_key(|(_, bucket)| bucket.at_ms).map(|(address, _)| address.clone())
        {
            self.per_address.remove(&oldest);
        }
    }
}

impl AttemptLimiter {
    pub fn new(budget: Budget) -> AttemptLimiter {
        AttemptLimiter { budget, windows: Mutex::new(HashMap::new()), starts: Mutex::new(Starts::default()) }
    }

    /// Counts an attempt from `address` for `email` at `now_ms`; `Err` with the seconds to
    /// wait when either has used its budget (the attempt is then not counted).
    pub fn attempt(&self, address: &str, email: &str, now_ms: i64) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, window| now_ms - window.started_at < WINDOW_MS);
        }
        let keys = [
            (format!("address:{address}"), self.budget.per_address),
            (format!("email:{email}"), self.budget.per_email),
        ];
        let mut wait_ms = 0;
        for (key, allowed) in &keys {
            if let Some(window) = windows.get(key).filter(|w| now_ms - w.started_at < WINDOW_MS)
                && window.attempts >= *allowed
            {
                wait_ms = wait_ms.max(window.started_at + WINDOW_MS - now_ms);
            }
        }
        if wait_ms > 0 {
            return Err(u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000));
        }
        for (key, _) in keys {
            let window = windows.entry(key).or_insert(Window { started_at: now_ms, attempts: 0 });
            if now_ms - window.started_at >= WINDOW_MS {
                *window = Window { started_at: now_ms, attempts: 0 };
            }
            window.attempts += 1;
        }
        Ok(())
    }

    /// Takes back an attempt [`AttemptLimiter::attempt`] counted for `address` and `email`
    /// when no password was checked for it (the server was too busy to): someone told to try
    /// again in a few seconds must not use up their budget doing so.
    pub fn give_back(&self, address: &str, email: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        for key in [format!("address:{address}"), format!("email:{email}")] {
            if let Some(window) = windows.get_mut(&key) {
                window.attempts = window.attempts.saturating_sub(1);
            }
        }
    }

    /// Counts a start from `address` at `now_ms`; `Err` with the seconds to wait (one at
    /// least) when the address, or everyone together, has used its budget (the start is then
    /// not counted).
    pub fn start(&self, address: &str, now_ms: i64) -> Result<(), u64> {
        let mine = Rate { per_minute: self.budget.starts_per_minute, burst: self.budget.start_burst };
        let everyone = Rate { per_minute: self.budget.all_starts_per_minute, burst: self.budget.all_starts_per_minute };
        let mut starts = self.starts.lock().unwrap_or_else(PoisonError::into_inner);
        if !starts.per_address.contains_key(address) && starts.per_address.len() >= MAX_ADDRESSES {
            starts.make_room(mine, now_ms);
        }
        let address_bucket =
            starts.per_address.get(address).map_or_else(|| Bucket::full(mine, now_ms), |b| b.refilled(mine, now_ms));
        let all_bucket = starts.all.map_or_else(|| Bucket::full(everyone, now_ms), |b| b.refilled(everyone, now_ms));
        let wait_ms = address_bucket.wait_ms(mine).max(all_bucket.wait_ms(everyone));
        if wait_ms > 0 {
            return Err(u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000).max(1));
        }
        starts.per_address.insert(address.to_owned(), Bucket { tokens: address_bucket.tokens - 1.0, ..address_bucket });
        starts.all = Some(Bucket { tokens: all_bucket.tokens - 1.0, ..all_bucket });
        Ok(())
    }
}

/// The address a request comes from, as the budgets key it: the connecting socket's, or
/// `unknown` when the server was not started with it (one budget for all such requests).
pub fn client_address(peer: Option<&ConnectInfo<SocketAddr>>) -> String {
    peer.map_or_else(|| "unknown".to_owned(), |ConnectInfo(peer)| peer.ip().to_string())
}

/// An extractor that lets a start through only within its address's budget of starts
/// ([`AttemptLimiter::start`]); over it, the request is answered 429 with `Retry-After`
/// before its handler runs, so it stores no session and calls nobody.
#[derive(Debug, Clone, Copy)]
pub struct WithinStartBudget;

impl<S> FromRequestParts<S> for WithinStartBudget
where
    S: Send + Sync,
    SignInSettings: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let settings = SignInSettings::from_ref(state);
        let address = client_address(parts.extensions.get::<ConnectInfo<SocketAddr>>());
        match settings.attempts.start(&address, app::server::now_ms()) {
            Ok(()) => Ok(WithinStartBudget),
            Err(wait_secs) => {
                // Not the path: a link's holds its sign-in token.
                tracing::warn!(wait_secs, "refused a start over its address's budget");
                Err(too_many_starts(wait_secs))
            }
        }
    }
}

/// 429 with `Retry-After` and a short plain message.
fn too_many_starts(wait_secs: u64) -> Response {
    let message = format!("Too many tries from your address. Please wait {wait_secs} s and try again.\n");
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, wait_secs.to_string())], message).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Budget = Budget { per_address: 5, per_email: 3, ..DEFAULT_BUDGET };

    #[test]
    fn an_email_gets_its_budget_then_waits_for_the_window_to_end() {
        let limiter = AttemptLimiter::new(BUDGET);
        for second in 0..3 {
            assert_eq!(limiter.attempt("10.0.0.1", "ada@example.com", second * 1000), Ok(()));
        }
        assert_eq!(limiter.attempt("10.0.0.2", "ada@example.com", 5_000), Err(900 - 5));
        assert_eq!(limiter.attempt("10.0.0.2", "ada@example.com", WINDOW_MS), Ok(()));
    }

    #[test]
    fn an_attempt_given_back_does_not_count() {
        let limiter = AttemptLimiter::new(BUDGET);
        for second in 0..10 {
            assert_eq!(limiter.attempt("10.0.0.1", "ada@example.com", second * 1000), Ok(()), "try {second}");
            limiter.give_back("10.0.0.1", "ada@example.com");
        }
        for second in 10..13 {
            assert_eq!(limiter.attempt("10.0.0.1", "ada@example.com", second * 1000), Ok(()));
        }
        assert!(limiter.attempt("10.0.0.1", "ada@example.com", 13_000).is_err(), "the budget still holds");
        limiter.give_back("10.0.0.7", "nobody@example.com");
        assert_eq!(
            limiter.attempt("10.0.0.7", "nobody@example.com", 14_000),
            Ok(()),
            "nothing to give back is harmless"
        );
    }

    #[test]
    fn an_address_trying_many_emails_is_stopped_too() {
        let limiter = AttemptLimiter::new(BUDGET);
        for n in 0..5 {
            assert_eq!(limiter.attempt("10.0.0.1", &format!("user{n}@example.com"), 0), Ok(()));
        }
        assert!(limiter.attempt("10.0.0.1", "someone-else@example.com", 1).is_err());
        assert_eq!(limiter.attempt("10.0.0.9", "someone-else@example.com", 1), Ok(()), "other addresses go on");
    }

    #[test]
    fn an_address_starts_its_burst_at_once_then_one_every_six_seconds() {
        let limiter = AttemptLimiter::new(DEFAULT_BUDGET);
        for n in 0..10 {
            assert_eq!(limiter.start("10.0.0.1", n), Ok(()), "start {n}");
        }
        assert_eq!(limiter.start("10.0.0.1", 10), Err(6), "the 11th within the minute waits");
        assert_eq!(limiter.start("10.0.0.2", 10), Ok(()), "other addresses go on");
        assert_eq!(limiter.start("10.0.0.1", 6_010), Ok(()), "a refused start was not counted");
        assert_eq!(limiter.start("10.0.0.1", 6_011), Err(6));
        assert_eq!(limiter.start("10.0.0.1", 60_000), Ok(()));
    }

    #[test]
    fn everyone_together_is_capped_too() {
        let limiter = AttemptLimiter::new(Budget { all_starts_per_minute: 3, ..DEFAULT_BUDGET });
        for n in 0..3 {
            assert_eq!(limiter.start(&format!("10.0.0.{n}"), 0), Ok(()));
        }
        assert_eq!(limiter.start("10.0.0.9", 0), Err(20), "a new address waits for the shared budget");
    }

    #[test]
    fn the_table_of_addresses_stays_bounded() {
        let limiter = AttemptLimiter::new(Budget { all_starts_per_minute: u32::MAX, ..DEFAULT_BUDGET });
        for n in 0..(MAX_ADDRESSES + 50) {
            let address = format!("10.{}.{}.{}", n / 65_536, (n / 256) % 256, n % 256);
            assert_eq!(limiter.start(&address, 0), Ok(()));
        }
        let starts = limiter.starts.lock().unwrap();
        assert!(starts.per_address.len() <= MAX_ADDRESSES, "{}", starts.per_address.len());
    }
}
