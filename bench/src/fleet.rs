//! A hosted install's fleet: many installed workspaces with questions on, each with its bot
//! token sealed as an install stores it, for B3 (idle and round) and B4. When the fleet asks
//! is the benchmark's to choose ([`Asking`]): days ahead for an idle server, now for a round.

use anyhow::Context as _;
use app::server::{
    db::{Db, members, schedules, workspaces},
    secret::Secret,
    slack::tokens::TokenCipher,
};
use chrono::{Datelike as _, TimeZone as _, Timelike as _, Utc};

use crate::{
    server::TOKEN_KEY,
    team::{member_row, workspace_row},
};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How many installed workspaces, each with how many members.
#[derive(Debug, Clone, Copy)]
pub struct Fleet {
    pub workspaces: usize,
    pub members_each: usize,
}

impl Fleet {
    pub fn members(self) -> usize {
        self.workspaces * self.members_each
    }
}

/// When every workspace of a fleet asks, weekly: on `weekday` (0 = Monday) at `local_minute`
/// of each member's day, in `time_zone` for everyone or else in the demo team's zones.
#[derive(Debug, Clone, Copy)]
pub struct Asking {
    pub weekday: u32,
    pub local_minute: u32,
    pub time_zone: Option<&'static str>,
}

impl Asking {
    /// At 10:00 on the weekday three days after `now_ms`'s UTC date: whatever a member's time
    /// zone, their latest weekly slot is at least three days back (past the catch-up window)
    /// and their next days ahead, so nothing is due.
    pub fn in_three_days(now_ms: i64) -> Asking {
        let today = utc(now_ms).map_or(0, |now| now.weekday().num_days_from_monday());
        Asking { weekday: (today + 3) % 7, local_minute: 10 * 60, time_zone: None }
    }

    /// Everyone in UTC, at the minute `now_ms` falls in: the round is due at once.
    pub fn now_in_utc(now_ms: i64) -> Asking {
        let now = utc(now_ms);
        Asking {
            weekday: now.map_or(0, |now| now.weekday().num_days_from_monday()),
            local_minute: now.map_or(0, |now| now.hour() * 60 + now.minute()),
            time_zone: Some("UTC"),
        }
    }
}

fn utc(ms: i64) -> Option<chrono::DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// The Slack team id of workspace `number`.
pub fn team_id(number: usize) -> String {
    format!("TFLEET{number:06}")
}

/// The bot token workspace `slack_team_id` was installed with: the benchmark's Slack
/// (`round::slack`) knows the team by it.
pub fn bot_token(slack_team_id: &str) -> String {
    format!("xoxb-bench-{slack_team_id}")
}

/// Writes `fleet` into an empty, migrated database: installed workspaces asking as `asking`
/// says, their tokens sealed with the benchmark server's key, members as the demo team's.
pub async fn create(db: &Db, fleet: Fleet, asking: Asking, now_ms: i64) -> anyhow::Result<()> {
    anyhow::ensure!(fleet.workspaces > 0 && fleet.members_each > 0, "a fleet needs workspaces and members");
    let content = server::demo::content()?;
    let cipher = TokenCipher::from_base64(TOKEN_KEY).map_err(|error| anyhow::anyhow!("the token key {error}"))?;
    let created_at = now_ms - 30 * DAY_MS;
    let mut tx = db.begin_write().await?;
    for number in 0..fleet.workspaces {
        let team_id = team_id(number);
        let mut workspace = workspace_row(&team_id, &format!("Fleet team {number}"), created_at);
        workspace.questions_enabled = true;
        workspace.bot_token_ciphertext = Some(cipher.seal(&workspace.id, &Secret::new(bot_token(&team_id)))?);
        if let Some(zone) = asking.time_zone {
            zone.clone_into(&mut workspace.default_time_zone);
        }
        workspaces::insert(&mut *tx, &workspace).await?;
        let schedule = schedules::ScheduleRow {
            workspace_id: workspace.id.clone(),
            weekdays: 1 << asking.weekday,
            local_minute: i64::from(asking.local_minute),
            cadence: "weekly".to_owned(),
            updated_at: created_at,
        };
        schedules::upsert(&mut *tx, &schedule).await?;
        let members: Vec<_> = (0..fleet.members_each)
            .map(|member| {
                let person = &content.members[member % content.members.len()];
                let mut row = member_row(&workspace.id, member, person.name.clone(), person, created_at);
                row.time_zone = asking.time_zone.map(str::to_owned).or(row.time_zone);
                row
            })
            .collect();
        members::insert_many(&mut tx, &members).await?;
    }
    tx.commit().await.context("committing the fleet")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_fleet_asks_three_days_after_today_in_utc() {
        // 2026-12-04 was a Friday (4): three days on is Monday (0).
        let friday_noon = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).single().unwrap().timestamp_millis();
        assert_eq!(Asking::in_three_days(friday_noon).weekday, 0);
    }

    #[test]
    fn a_round_fleet_asks_in_the_minute_it_is_made() {
        let friday = Utc.with_ymd_and_hms(2026, 12, 4, 23, 59, 41).single().unwrap().timestamp_millis();
        let asking = Asking::now_in_utc(friday);
        assert_eq!((asking.weekday, asking.local_minute, asking.time_zone), (4, 23 * 60 + 59, Some("UTC")));
    }
}
