//! The weekly summary admins may turn on: on Monday mornings (09:00 in the workspace's
//! time zone) each admin gets a Slack DM with the past week's numbers ("12 of 30 answered
//! this week; the most answered question was ..."). It goes out once a week, even with
//! several instances: sending is claimed in the database first.

use chrono::{Datelike as _, Duration, NaiveTime, TimeZone as _};
use chrono_tz::Tz;

use crate::{
    error::AppError,
    server::{
        AppState,
        db::{
            members,
            weekly_summaries::{self, WeekNumbers},
            workspaces::{self, Workspace},
        },
        slack::blocks,
        viewer::Viewer,
    },
};

const WEEK_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// The local time on Mondays the summary goes out.
const SEND_AT_HOUR: u32 = 9;

/// Whether the viewer's workspace's admins get the summary.
pub async fn is_enabled(viewer: &Viewer) -> Result<bool, AppError> {
    Ok(weekly_summaries::is_enabled(viewer.db.pool(), &viewer.workspace_id).await?)
}

/// Turns the summary on or off for the viewer's workspace.
pub async fn set_enabled(viewer: &Viewer, enabled: bool, now_ms: i64) -> Result<(), AppError> {
    Ok(weekly_summaries::upsert_enabled(viewer.db.pool(), &viewer.workspace_id, enabled, now_ms).await?)
}

/// The latest Monday 09:00 in `zone` at or before `now_ms` (Unix ms).
pub fn latest_send_time(zone: Tz, now_ms: i64) -> i64 {
    let Some(now) = zone.timestamp_millis_opt(now_ms).single() else { return now_ms };
    let days_since_monday = i64::from(now.weekday().num_days_from_monday());
    let monday = now.date_naive() - Duration::days(days_since_monday);
    let nine = NaiveTime::from_hms_opt(SEND_AT_HOUR, 0, 0).unwrap_or_default();
    let at = |date: chrono::NaiveDate| {
        // A DST gap at 09:00 cannot happen in any zone today, but take the earliest if it did.
        zone.from_local_datetime(&date.and_time(nine)).earliest().map_or(now_ms, |at| at.timestamp_millis())
    };
    let this_monday = at(monday);
    if this_monday <= now_ms { this_monday } else { at(monday - Duration::days(7)) }
}

/// Sends the summaries that are due now; returns how many workspaces got one.
pub async fn send_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.now_ms();
    let mut sent = 0;
    // Any workspace not sent one in the last week may be due; its own Monday decides.
    for row in weekly_summaries::list_due(state.db.pool(), now).await? {
        let Some(workspace) = workspaces::find(state.db.pool(), &row.workspace_id).await? else { continue };
        let zone: Tz = workspace.default_time_zone.parse().unwrap_or(Tz::UTC);
        let due_at = latest_send_time(zone, now);
        if row.last_sent_at.is_some_and(|last| last >= due_at) {
            continue;
        }
        if !weekly_summaries::claim(state.db.pool(), &workspace.id, due_at, now).await? {
            continue;
        }
        let mut connection = state.db.pool().acquire().await?;
        let numbers = weekly_summaries::week_numbers(&mut connection, &workspace.id, due_at - WEEK_MS, due_at).await?;
        drop(connection);
        tell_admins(state, &workspace, &summary_text(&numbers)).await;
        sent += 1;
    }
    Ok(sent)
}

/// The summary's text.
pub fn summary_text(numbers: &WeekNumbers) -> String {
    if numbers.asked == 0 {
        return "Rapport's week: no questions went out.".to_owned();
    }
    let mut text = format!("Rapport's week: {} of {} answered.", numbers.answered, numbers.asked);
    if let Some((question, answers)) = &numbers.top_question {
        let answers = if *answers == 1 { "1 answer".to_owned() } else { format!("{answers} answers") };
        text.push_str(&format!(" The most answered question was \u{201c}{question}\u{201d} ({answers})."));
    }
    text
}

/// Sends `text` to each admin of the workspace; a failure is logged and the rest still go.
async fn tell_admins(state: &AppState, workspace: &Workspace, text: &str) {
    let api = match state.slack().and_then(|slack| slack.api_for(workspace)) {
        Ok(api) => api,
        Err(error) => {
            tracing::warn!(workspace.id = %workspace.id, error = %error, "could not send the weekly summary");
            return;
        }
    };
    let admins = match members::list_for_workspace(state.db.pool(), &workspace.id).await {
        Ok(members) => members.into_iter().filter(|m| m.manages_rapport() && !m.is_deleted && !m.is_bot),
        Err(error) => {
            tracing::warn!(workspace.id = %workspace.id, error = %error, "could not list the admins for the summary");
            return;
        }
    };
    for admin in admins {
        if let Err(error) = api.post_to(&admin.dm_target(), blocks::text_message(blocks::escape(text))).await {
            tracing::warn!(workspace.id = %workspace.id, error = %error, "could not send an admin the weekly summary");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
    }

    #[test]
    fn the_summary_goes_out_on_monday_at_nine_local_time() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Wednesday 2026-12-02: the Monday before, 09:00 in Berlin (UTC+1).
        assert_eq!(latest_send_time(berlin, at("2026-12-02T12:00:00Z")), at("2026-11-30T08:00:00Z"));
        // Monday 08:59 in Berlin: still last week's Monday.
        assert_eq!(latest_send_time(berlin, at("2026-11-30T07:59:00Z")), at("2026-11-23T08:00:00Z"));
        // Monday 09:00 in Berlin exactly.
        assert_eq!(latest_send_time(berlin, at("2026-11-30T08:00:00Z")), at("2026-11-30T08:00:00Z"));
    }

    #[test]
    fn the_text_names_the_counts_and_the_most_answered_question() {
        let numbers = WeekNumbers { asked: 30, answered: 12, top_question: Some(("Tea or coffee?".into(), 8)) };
        assert_eq!(
            summary_text(&numbers),
            "Rapport's week: 12 of 30 answered. The most answered question was \u{201c}Tea or coffee?\u{201d} (8 answers)."
        );
        let quiet = WeekNumbers { asked: 0, answered: 0, top_question: None };
        assert_eq!(summary_text(&quiet), "Rapport's week: no questions went out.");
    }
}
