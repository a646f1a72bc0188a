//! Password attempts, limited per client address and per email, so nobody can guess an
//! admin's password by trying many (and nobody can lock an admin out from one address
//! while the admin signs in from another: each key has its own budget). Counts live in
//! this process: behind several instances each allows its own budget, still far too few
//! guesses to matter against a 12-character password.

use std::{collections::HashMap, sync::Mutex};

/// Attempts one key may make within [`WINDOW_MS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub per_address: u32,
    pub per_email: u32,
}

/// The window attempts are counted in.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Above this many keys, finished windows are forgotten, so a flood of made-up emails
/// cannot grow the table without bound.
const PRUNE_ABOVE: usize = 10_000;

/// The default budget: a person who mistypes a few times never notices it.
pub const DEFAULT_BUDGET: Budget = Budget { per_address: 20, per_email: 10 };

/// Counts attempts per key in fixed windows.
#[derive(Debug)]
pub struct AttemptLimiter {
    budget: Budget,
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started_at: i64,
    attempts: u32,
}

impl AttemptLimiter {
    pub fn new(budget: Budget) -> AttemptLimiter {
        AttemptLimiter { budget, windows: Mutex::new(HashMap::new()) }
    }

    /// Counts an attempt from `address` for `email` at `now_ms`; `Err` with the seconds to
    /// wait when either has used its budget (the attempt is then not counted).
    pub fn attempt(&self, address: &str, email: &str, now_ms: i64) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Budget = Budget { per_address: 5, per_email: 3 };

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
    fn an_address_trying_many_emails_is_stopped_too() {
        let limiter = AttemptLimiter::new(BUDGET);
        for n in 0..5 {
            assert_eq!(limiter.attempt("10.0.0.1", &format!("user{n}@example.com"), 0), Ok(()));
        }
        assert!(limiter.attempt("10.0.0.1", "someone-else@example.com", 1).is_err());
        assert_eq!(limiter.attempt("10.0.0.9", "someone-else@example.com", 1), Ok(()), "other addresses go on");
    }
}
