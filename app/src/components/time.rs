//! Dates as people read them.

use chrono::DateTime;
use leptos::prelude::*;

/// Formats a Unix-millisecond time as a calendar date, e.g. `3 Nov 2026` (UTC, so the
/// server and the browser render the same text).
pub fn format_date(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map(|at| at.format("%-d %b %Y").to_string()).unwrap_or_default()
}

/// "answered on <date>" as a `<time>` element.
#[component]
pub fn AnsweredOn(ms: i64) -> impl IntoView {
    let iso = DateTime::from_timestamp_millis(ms).map(|at| at.to_rfc3339()).unwrap_or_default();
    view! { <time class="answered-on" datetime=iso>{format_date(ms)}</time> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_reads_as_a_calendar_date() {
        // 2026-11-03T09:30:00Z
        assert_eq!(format_date(1_793_698_200_000), "3 Nov 2026");
    }
}
