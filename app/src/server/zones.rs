//! Members' time zones: which zone a member lives by, and where an instant falls in their
//! week. Shared by the schedule (when to ask) and the stored answers (when people answer).

use chrono::{Datelike as _, TimeZone as _, Timelike as _, Utc};
use chrono_tz::Tz;

/// Hours in a week: the range of [`hour_of_week`].
pub const HOURS_IN_WEEK: i64 = 7 * 24;

/// The member's time zone: their own from Slack, else the workspace's, else UTC.
pub fn member_zone(member_zone: Option<&str>, workspace_zone: &str) -> Tz {
    member_zone.and_then(|name| name.parse().ok()).or_else(|| workspace_zone.parse().ok()).unwrap_or(Tz::UTC)
}

/// The hour of the week at `at_ms` in `zone`, with the zone's rules on that day (daylight
/// saving included): 0 is Monday 00:00 to 01:00, 167 is Sunday 23:00 to midnight. An instant
/// chrono cannot place (beyond year 262,000) counts as Monday 00:00.
pub fn hour_of_week(zone: Tz, at_ms: i64) -> i64 {
    let Some(at) = Utc.timestamp_millis_opt(at_ms).single() else { return 0 };
    let local = at.with_timezone(&zone);
    i64::from(local.weekday().num_days_from_monday()) * 24 + i64::from(local.hour())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(utc: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(utc).unwrap().timestamp_millis()
    }

    #[test]
    fn a_members_own_zone_comes_first_then_the_workspaces_then_utc() {
        assert_eq!(member_zone(Some("Europe/Berlin"), "UTC"), chrono_tz::Europe::Berlin);
        assert_eq!(member_zone(Some("Mars/Olympus"), "Asia/Kolkata"), chrono_tz::Asia::Kolkata);
        assert_eq!(member_zone(None, "Nowhere"), Tz::UTC);
    }

    #[test]
    fn the_hour_of_the_week_follows_the_zones_daylight_saving() {
        let berlin = chrono_tz::Europe::Berlin;
        // 09:30 in Berlin on Friday 27 March 2026 (winter, UTC+1), then on Friday 3 April
        // (summer, UTC+2): both in Friday's hour 9.
        assert_eq!(hour_of_week(berlin, at("2026-03-27T08:30:00Z")), 4 * 24 + 9);
        assert_eq!(hour_of_week(berlin, at("2026-04-03T07:30:00Z")), 4 * 24 + 9);
        // And back: Friday 23 October (summer) and Monday 26 October (winter again) at 09:30.
        assert_eq!(hour_of_week(berlin, at("2026-10-23T07:30:00Z")), 4 * 24 + 9);
        assert_eq!(hour_of_week(berlin, at("2026-10-26T08:30:00Z")), 9);
        // Kolkata is 5:30 ahead: Sunday 23:50 UTC is Monday 05:20 there.
        assert_eq!(hour_of_week(chrono_tz::Asia::Kolkata, at("2026-03-29T23:50:00Z")), 5);
        assert_eq!(hour_of_week(Tz::UTC, at("2026-03-29T23:50:00Z")), HOURS_IN_WEEK - 1);
    }
}
