//! What to do when Slack does not take a message: wait as long as it says, retry what may
//! pass later with growing, jittered delays, and stop for good what never will.

use crate::server::slack::client::SlackCallError;

/// Tries before a prompt that keeps failing is given up.
pub const MAX_ATTEMPTS: i64 = 6;
/// The first retry waits about this long; each next one twice as long.
const FIRST_RETRY_MS: i64 = 30_000;
/// No retry waits longer than this.
const LONGEST_RETRY_MS: i64 = 30 * 60 * 1000;
/// A 429 without `Retry-After` waits this long.
const DEFAULT_RETRY_AFTER_MS: i64 = 30_000;

/// What a failed send leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Slack is rate limiting the workspace: hold all its sends this long (not a failure).
    SlowDown { wait_ms: i64 },
    /// Worth another try after `wait_ms`. The message may have reached Slack (a timeout or a
    /// 5xx), so the retry looks for it first.
    Retry { wait_ms: i64, reason: String },
    /// This prompt will not be delivered; others may.
    Fail { reason: String },
    /// Slack will never deliver to this member: stop asking them.
    StopMember { reason: String },
    /// Slack refused the workspace's token: stop sending to the workspace.
    StopWorkspace { reason: String },
}

/// Judges a failed send of a prompt that had `attempts` failed tries before this one.
pub fn judge(error: &SlackCallError, attempts: i64, prompt_id: &str) -> Verdict {
    match error {
        SlackCallError::RateLimited(after) => Verdict::SlowDown {
            // A nonsense Retry-After (days) is capped like any other wait.
            wait_ms: after.map_or(DEFAULT_RETRY_AFTER_MS, |secs| {
                i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000).min(LONGEST_RETRY_MS)
            }),
        },
        SlackCallError::Transient(reason) => transient(reason, attempts, prompt_id),
        SlackCallError::Refused(code) => match code.as_str() {
            "user_not_found" | "channel_not_found" | "user_disabled" | "cannot_dm_bot" | "is_archived" => {
                Verdict::StopMember { reason: code.clone() }
            }
            "not_authed"
            | "invalid_auth"
            | "token_revoked"
            | "account_inactive"
            | "token_expired"
            | "team_access_not_granted"
            | "missing_scope"
            | "no_permission"
            | "ekm_access_denied" => Verdict::StopWorkspace { reason: code.clone() },
            // Slack's own trouble, reported in a 200: as good as a 5xx.
            "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
                transient(code, attempts, prompt_id)
            }
            _ => Verdict::Fail { reason: code.clone() },
        },
    }
}

fn transient(reason: &str, attempts: i64, prompt_id: &str) -> Verdict {
    let tries = attempts + 1;
    if tries >= MAX_ATTEMPTS {
        return Verdict::Fail { reason: format!("gave up after {tries} tries: {reason}") };
    }
    Verdict::Retry { wait_ms: backoff_ms(tries, prompt_id), reason: reason.to_owned() }
}

/// The wait before try `tries + 1`: doubling from [`FIRST_RETRY_MS`], capped, with ±25%
/// jitter so prompts that failed together do not all come back together. The jitter is
/// drawn from the prompt id, so a test can predict it and prompts still spread out.
pub fn backoff_ms(tries: i64, prompt_id: &str) -> i64 {
    let exponent = u32::try_from(tries.clamp(1, 20) - 1).unwrap_or(0);
    let base = FIRST_RETRY_MS.saturating_mul(1_i64 << exponent).min(LONGEST_RETRY_MS);
    let spread = base / 2;
    let draw = i64::try_from(fnv1a(prompt_id, tries) % 1_000).unwrap_or(500);
    base - spread / 2 + spread * draw / 1_000
}

/// A small, stable hash (FNV-1a) of the prompt id and the try.
fn fnv1a(text: &str, tries: i64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes().chain(tries.to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_waits_as_long_as_slack_says() {
        assert_eq!(judge(&SlackCallError::RateLimited(Some(7)), 0, "p"), Verdict::SlowDown { wait_ms: 7_000 });
        assert_eq!(judge(&SlackCallError::RateLimited(None), 3, "p"), Verdict::SlowDown { wait_ms: 30_000 });
    }

    #[test]
    fn transient_errors_back_off_with_jitter_then_give_up() {
        let error = SlackCallError::Transient("HTTP 503".into());
        let mut previous = 0;
        for attempts in 0..MAX_ATTEMPTS - 1 {
            let Verdict::Retry { wait_ms, .. } = judge(&error, attempts, "prompt-1") else {
                panic!("try {attempts} should be retried");
            };
            let base = (30_000_i64 << attempts).min(LONGEST_RETRY_MS);
            assert!(wait_ms >= base * 3 / 4 && wait_ms <= base * 5 / 4, "{wait_ms} is within 25% of {base}");
            assert!(wait_ms > previous || base == LONGEST_RETRY_MS, "waits grow");
            previous = wait_ms;
        }
        assert!(
            matches!(judge(&error, MAX_ATTEMPTS - 1, "p"), Verdict::Fail { reason } if reason.contains("HTTP 503"))
        );
        let spread: std::collections::HashSet<i64> = (0..20).map(|n| backoff_ms(1, &format!("prompt-{n}"))).collect();
        assert!(spread.len() > 10, "prompts failing together come back at different times");
    }

    #[test]
    fn permanent_errors_stop_the_member_or_the_workspace() {
        for code in ["user_not_found", "channel_not_found"] {
            assert_eq!(
                judge(&SlackCallError::Refused(code.into()), 0, "p"),
                Verdict::StopMember { reason: code.into() }
            );
        }
        for code in ["not_authed", "invalid_auth", "token_revoked", "account_inactive"] {
            assert_eq!(
                judge(&SlackCallError::Refused(code.into()), 0, "p"),
                Verdict::StopWorkspace { reason: code.into() }
            );
        }
        assert_eq!(
            judge(&SlackCallError::Refused("msg_too_long".into()), 0, "p"),
            Verdict::Fail { reason: "msg_too_long".into() }
        );
        assert!(matches!(judge(&SlackCallError::Refused("internal_error".into()), 0, "p"), Verdict::Retry { .. }));
    }
}
