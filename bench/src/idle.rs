//! B3's idle figure and B4 (issue 13): a hosted server holding many installed workspaces
//! with questions on and nothing due, left alone. What it costs then is what every hosted
//! install pays all day between rounds: the CPU its background work takes (B3: under 2% of
//! a core) and its resident memory (B4: at most 40 MB, and at most 1 KB for each installed
//! workspace beyond an empty server's).
//!
//! Every workspace asks weekly on the weekday three days from today at 10:00, so each
//! member's latest slot (in any time zone) lies days back, past the catch-up window, and the
//! next days ahead: the server has nothing to plan and nothing to send.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use app::server::db::{Db, members, schedules, workspaces};
use chrono::{Datelike as _, TimeZone as _, Utc};

use crate::{
    soak::memory::resident_kib,
    team::{member_row, workspace_row},
};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// The aims from the issue.
pub const CPU_AIM_PERCENT: f64 = 2.0;
pub const MEMORY_AIM_MB: f64 = 40.0;
pub const PER_WORKSPACE_AIM_BYTES: f64 = 1_000.0;

/// How many installed workspaces, each with how many members.
#[derive(Debug, Clone, Copy)]
pub struct Fleet {
    pub workspaces: usize,
    pub members_each: usize,
}

/// Writes `fleet` into an empty, migrated database: installed workspaces asking weekly, none
/// due at `now_ms`, members in the demo team's time zones.
pub async fn create(db: &Db, fleet: Fleet, now_ms: i64) -> anyhow::Result<()> {
    anyhow::ensure!(fleet.workspaces > 0 && fleet.members_each > 0, "a fleet needs workspaces and members");
    let content = server::demo::content()?;
    let created_at = now_ms - 30 * DAY_MS;
    let schedule_day = weekday_in_three_days(now_ms);
    let mut tx = db.begin_write().await?;
    for number in 0..fleet.workspaces {
        let mut workspace = workspace_row(&format!("TIDLE{number:06}"), &format!("Idle team {number}"), created_at);
        workspace.questions_enabled = true;
        workspaces::insert(&mut *tx, &workspace).await?;
        let schedule = schedules::ScheduleRow {
            workspace_id: workspace.id.clone(),
            weekdays: 1 << schedule_day,
            local_minute: 10 * 60,
            cadence: "weekly".to_owned(),
            updated_at: created_at,
        };
        schedules::upsert(&mut *tx, &schedule).await?;
        for member in 0..fleet.members_each {
            let person = &content.members[member % content.members.len()];
            let row = member_row(&workspace.id, member, person.name.clone(), person, created_at);
            members::insert(&mut *tx, &row).await?;
        }
    }
    tx.commit().await.context("committing the idle workspaces")?;
    Ok(())
}

/// The weekday (0 = Monday) three days after `now_ms`'s UTC date: whatever a member's time
/// zone, their latest weekly slot is at least three days back and their next days ahead.
fn weekday_in_three_days(now_ms: i64) -> u32 {
    let today = Utc.timestamp_millis_opt(now_ms).single().map_or(0, |now| now.weekday().num_days_from_monday());
    (today + 3) % 7
}

/// What one idle server cost over a window.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    /// Share of one core its process used over the window, in percent.
    pub cpu_percent: f64,
    pub window: Duration,
    /// Resident memory at the end of the window.
    pub rss_kib: u64,
}

/// Waits `settle` (start-up work, the first planning passes), then reads the CPU time
/// process `pid` uses over `window` and its resident memory at the end.
pub async fn read(pid: u32, settle: Duration, window: Duration) -> anyhow::Result<Reading> {
    tokio::time::sleep(settle).await;
    let ticks_per_second = clock_ticks_per_second().await;
    let before = cpu_ticks(pid)?;
    let started = Instant::now();
    tokio::time::sleep(window).await;
    let used = cpu_ticks(pid)? - before;
    let window = started.elapsed();
    let cpu_percent = used as f64 / ticks_per_second as f64 / window.as_secs_f64() * 100.0;
    let rss_kib = resident_kib(pid).context("reading the server's resident memory")?;
    Ok(Reading { cpu_percent, window, rss_kib })
}

/// User and system CPU time of process `pid` and all its threads, in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).with_context(|| format!("reading /proc/{pid}/stat"))?;
    parse_cpu_ticks(&stat).with_context(|| format!("no CPU times in /proc/{pid}/stat"))
}

/// `utime + stime` from a `/proc/<pid>/stat` line: fields 14 and 15, counted after the
/// command name (which may hold spaces and parentheses, so the last `)` ends it).
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

/// The kernel's clock tick rate (`getconf CLK_TCK`), 100 on Linux unless told otherwise.
async fn clock_ticks_per_second() -> u64 {
    let asked = tokio::process::Command::new("getconf").arg("CLK_TCK").output().await;
    asked.ok().and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok()).unwrap_or(100)
}

/// The figures of one database.
pub struct Figures {
    pub fleet: Fleet,
    pub empty: Reading,
    pub full: Reading,
}

impl Figures {
    /// Resident memory beyond the empty server's, for each installed workspace.
    pub fn bytes_per_workspace(&self) -> f64 {
        (self.full.rss_kib as f64 - self.empty.rss_kib as f64) * 1024.0 / self.fleet.workspaces as f64
    }
}

/// The figures as a Markdown table, each beside its aim.
pub fn table(figures: &Figures) -> String {
    let verdict = |met: bool| if met { "met" } else { "**not met**" };
    let mb = |kib: u64| kib as f64 * 1024.0 / 1_000_000.0;
    let Fleet { workspaces, members_each } = figures.fleet;
    let rows = [
        (
            format!("CPU, {workspaces} workspaces installed, nothing due"),
            format!("{:.2}% of a core over {:.0} s", figures.full.cpu_percent, figures.full.window.as_secs_f64()),
            format!("< {CPU_AIM_PERCENT}%"),
            verdict(figures.full.cpu_percent < CPU_AIM_PERCENT),
        ),
        (
            "CPU, empty database".to_owned(),
            format!("{:.2}% of a core over {:.0} s", figures.empty.cpu_percent, figures.empty.window.as_secs_f64()),
            String::new(),
            "",
        ),
        (
            "resident memory, empty database".to_owned(),
            format!("{:.1} MB", mb(figures.empty.rss_kib)),
            format!("<= {MEMORY_AIM_MB} MB"),
            verdict(mb(figures.empty.rss_kib) <= MEMORY_AIM_MB),
        ),
        (
            format!("resident memory, {workspaces} workspaces of {members_each} members"),
            format!("{:.1} MB", mb(figures.full.rss_kib)),
            String::new(),
            "",
        ),
        (
            "memory for each installed workspace beyond that".to_owned(),
            format!("{:.0} bytes", figures.bytes_per_workspace()),
            format!("<= {PER_WORKSPACE_AIM_BYTES:.0} bytes"),
            verdict(figures.bytes_per_workspace() <= PER_WORKSPACE_AIM_BYTES),
        ),
    ];
    let mut lines = vec!["| figure | measured | target | |".to_owned(), "|---|---|---|---|".to_owned()];
    lines.extend(
        rows.into_iter().map(|(figure, measured, target, met)| format!("| {figure} | {measured} | {target} | {met} |")),
    );
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_after_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (rapport (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 567 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse_cpu_ticks(stat), Some(1234 + 567));
        assert_eq!(parse_cpu_ticks("4242 (rapport) S 1"), None);
    }

    #[test]
    fn the_weekly_day_is_three_days_after_today_in_utc() {
        // 2026-12-04 was a Friday (4): three days on is Monday (0).
        let friday_noon = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).single().unwrap().timestamp_millis();
        assert_eq!(weekday_in_three_days(friday_noon), 0);
    }
}
