//! B3's round (issue 13): one round for a whole fleet, delivered against Slack's rate limits.
//! Every member of every workspace is due a question in the minute the fleet is made (all in
//! UTC); a hosted server starts on it with its Slack at the fleet's Slack ([`slack`]), plans
//! the round and sends it. Measured: how long from the server's start to the last question
//! posted, against the time Slack's limits allow ([`allowed`]); the share of calls refused
//! with 429; and that every member's question was posted exactly once, as Slack saw it and
//! as the database records it.

pub mod slack;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use app::server::db::Db;

use self::slack::{FleetSlack, Limits, Tally};
use crate::{
    fleet::{self, Fleet},
    process,
    report::{self, verdict},
    server::{Environment, Output, Server},
};

/// The aims from the issue.
const WITHIN_PERCENT: u32 = 5;
const RATE_LIMITED_AIM_PERCENT: f64 = 0.1;
/// How long after the last question the benchmark waits for a question posted twice.
const QUIET_AFTER: Duration = Duration::from_secs(3);
/// How often the benchmark looks at Slack's tally and counts the planned prompts.
const LOOK_EVERY: Duration = Duration::from_millis(200);

/// What one round came to.
#[derive(Debug, Clone)]
pub struct Figures {
    pub fleet: Fleet,
    pub limits: Limits,
    /// From the server's start to the last question posted; `None` when the round had not
    /// reached everyone when the benchmark stopped waiting.
    pub took: Option<Duration>,
    /// From the server's start to the first question posted (the planning before it).
    pub first_after: Option<Duration>,
    /// From the server's start to when every workspace had posted its first question, and
    /// all but its last minute's worth ([`milestones`]); `None` where one had not.
    pub every_workspace_reached: Vec<(u64, Option<Duration>)>,
    /// From the server's start to the first look ([`LOOK_EVERY`]) that found every member's
    /// question planned (a prompt in the database); `None` when none did.
    pub all_planned: Option<Duration>,
    pub waited: Duration,
    pub tally: Tally,
    /// The prompts in the database by status, after the round.
    pub prompts: Vec<(String, i64)>,
    /// The server's CPU over the round, in percent of a core, and its peak resident memory.
    pub cpu_percent: f64,
    pub peak_rss_kib: u64,
}

impl Figures {
    /// Over what Slack's limits allow, in percent.
    pub fn over_allowed_percent(&self) -> Option<f64> {
        let allowed = allowed(self.fleet, self.limits).as_secs_f64();
        self.took.map(|took| (took.as_secs_f64() / allowed - 1.0) * 100.0)
    }

    /// Questions posted a second between the first and the last.
    pub fn posting_rate(&self) -> Option<f64> {
        let (first, last) = (self.first_after?, self.took?);
        let span = last.saturating_sub(first).as_secs_f64();
        (span > 0.0).then(|| self.tally.questions as f64 / span)
    }

    /// Whether the round ended within [`WITHIN_PERCENT`] of what Slack allows (in whole
    /// milliseconds, so a round of exactly 105% counts as within).
    pub fn within_aim(&self) -> bool {
        let allowed = allowed(self.fleet, self.limits).as_millis();
        self.took.is_some_and(|took| took.as_millis() * 100 <= allowed * u128::from(100 + WITHIN_PERCENT))
    }

    pub fn rate_limited_percent(&self) -> f64 {
        self.tally.rate_limited as f64 * 100.0 / self.tally.calls.max(1) as f64
    }

    /// Every member's question posted once, none twice, and every prompt `sent`.
    pub fn exactly_once(&self) -> bool {
        let members = self.fleet.members() as u64;
        let all_sent = matches!(self.prompts.as_slice(),
            [(status, count)] if status == "sent" && u64::try_from(*count) == Ok(members));
        self.tally.doubled == 0 && self.tally.questions == members && all_sent
    }
}

/// The shortest time in which Slack's limits let every workspace post its members'
/// questions: a workspace's first `posts_per_minute` at once, and each later one a minute
/// after the one that many before it, so its last at `(members - 1) / posts_per_minute`
/// whole minutes. (The per-channel limit does not bind: each member has a DM of their own.)
pub fn allowed(fleet: Fleet, limits: Limits) -> Duration {
    let per_minute = usize::try_from(limits.posts_per_minute.max(1)).unwrap_or(usize::MAX);
    let minutes = fleet.members_each.saturating_sub(1) / per_minute;
    Duration::from_secs(60 * u64::try_from(minutes).unwrap_or(u64::MAX))
}

/// The counts of questions at which the benchmark notes when every workspace got there: the
/// first, and all but a workspace's last minute's worth, after which the round cannot end
/// sooner than a minute.
fn milestones(fleet: Fleet, limits: Limits) -> Vec<u64> {
    let all_but_the_last_minute =
        fleet.members_each.saturating_sub(usize::try_from(limits.posts_per_minute).unwrap_or(0));
    let mut counts = vec![1];
    if all_but_the_last_minute > 1 {
        counts.push(u64::try_from(all_but_the_last_minute).unwrap_or(u64::MAX));
    }
    counts
}

/// Makes `fleet` in the empty, migrated database `db` (every member due now), then starts
/// `binary` on `database_url` against the fleet's Slack and waits up to `wait` for the round.
pub async fn measure(
    binary: &std::path::Path,
    database_url: &str,
    db: &Db,
    addr: &str,
    fleet: Fleet,
    limits: Limits,
    wait: Duration,
) -> anyhow::Result<Figures> {
    let slack =
        FleetSlack::start((0..fleet.workspaces).map(fleet::team_id), limits, &milestones(fleet, limits)).await?;
    let environment = Environment::HostedWithSlack { api_url: slack.api_url.clone() };
    let mut server = Server::start_with(binary, database_url, addr, &environment, &Output::Terminal).await?;
    let started = Instant::now();
    let pid = server.pid().context("the server had already exited")?;
    let ticks_before = process::cpu_ticks(pid)?;
    let everyone = u64::try_from(fleet.members())?;
    let mut last_seen = slack.tally();
    let mut all_planned = None;
    while last_seen.questions < everyone && started.elapsed() < wait {
        tokio::time::sleep(LOOK_EVERY).await;
        server.ensure_running().context("during the round")?;
        last_seen = slack.tally();
        if all_planned.is_none() && count_prompts(db).await? >= everyone {
            all_planned = Some(started.elapsed());
        }
    }
    tokio::time::sleep(QUIET_AFTER).await;
    let waited = started.elapsed();
    let cpu_seconds = (process::cpu_ticks(pid)? - ticks_before) as f64 / process::clock_ticks_per_second().await as f64;
    let [peak_rss_kib] = process::memory_kib(pid, ["VmHWM"])?;
    server.stop().await?;
    let tally = slack.tally();
    let prompts: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM prompts GROUP BY status ORDER BY status")
            .fetch_all(db.pool())
            .await
            .context("counting the round's prompts")?;
    let since_start = |at: Option<Instant>| at.map(|at| at.saturating_duration_since(started));
    Ok(Figures {
        fleet,
        limits,
        took: if tally.questions >= everyone { since_start(last_seen.last_post) } else { None },
        first_after: since_start(tally.first_post),
        every_workspace_reached: tally
            .milestones
            .iter()
            .map(|milestone| {
                let everyone = usize::try_from(milestone.workspaces).is_ok_and(|count| count >= fleet.workspaces);
                (milestone.questions, since_start(milestone.last_reached.filter(|_| everyone)))
            })
            .collect(),
        all_planned,
        waited,
        cpu_percent: cpu_seconds / waited.as_secs_f64() * 100.0,
        peak_rss_kib,
        tally,
        prompts,
    })
}

/// How many prompts the database holds: every one is a member's question planned.
async fn count_prompts(db: &Db) -> anyhow::Result<u64> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM prompts")
        .fetch_one(db.pool())
        .await
        .context("counting the planned prompts during the round")?;
    Ok(u64::try_from(count)?)
}

/// The figures as a Markdown table, each beside its aim.
pub fn table(figures: &Figures) -> String {
    let Fleet { workspaces, members_each } = figures.fleet;
    let members = figures.fleet.members();
    let allowed = allowed(figures.fleet, figures.limits).as_secs();
    let seconds = |took: Option<Duration>| took.map_or_else(|| "-".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()));
    let (took, took_met) = match (figures.took, figures.over_allowed_percent()) {
        (Some(took), Some(over)) => (
            format!("{} ({over:+.0}% of the {allowed} s Slack's limits allow)", seconds(Some(took))),
            figures.within_aim(),
        ),
        _ => (
            format!(
                "not everyone reached in {:.0} s: {} of {members} questions posted",
                figures.waited.as_secs_f64(),
                figures.tally.questions
            ),
            false,
        ),
    };
    let tally = &figures.tally;
    let statuses = figures.prompts.iter().map(|(status, count)| format!("{count} {status}")).collect::<Vec<_>>();
    let before = [
        (
            format!(
                "one round, {members} members in {workspaces} workspaces of {members_each}, from the server's start"
            ),
            took,
            format!("within {WITHIN_PERCENT}% of what Slack's limits allow"),
            verdict(took_met),
        ),
        (
            "calls refused with 429".to_owned(),
            format!("{} of {} ({:.2}%)", tally.rate_limited, tally.calls, figures.rate_limited_percent()),
            format!("<= {RATE_LIMITED_AIM_PERCENT}%"),
            verdict(figures.rate_limited_percent() <= RATE_LIMITED_AIM_PERCENT),
        ),
        (
            "every question posted exactly once".to_owned(),
            format!(
                "{} posted, {} twice; prompts: {}",
                tally.questions,
                tally.doubled,
                if statuses.is_empty() { "none".to_owned() } else { statuses.join(", ") }
            ),
            format!("{members} once each, all sent"),
            verdict(figures.exactly_once()),
        ),
        ("first question posted, from the server's start".to_owned(), seconds(figures.first_after), String::new(), ""),
    ];
    let milestones = figures.every_workspace_reached.iter().map(|&(questions, reached)| {
        let figure = match questions {
            1 => "every workspace's first question posted, from the server's start".to_owned(),
            _ => format!(
                "every workspace's question {questions} posted (its last may follow only a minute after it), from \
                 the server's start"
            ),
        };
        (figure, seconds(reached), String::new(), "")
    });
    let after = [
        (
            format!(
                "every member's question planned, from the server's start (looked for every {} ms)",
                LOOK_EVERY.as_millis()
            ),
            seconds(figures.all_planned),
            String::new(),
            "",
        ),
        (
            "questions posted a second, first to last".to_owned(),
            figures.posting_rate().map_or_else(|| "-".to_owned(), |rate| format!("{rate:.0}")),
            String::new(),
            "",
        ),
        (
            "server CPU over the round, and its peak memory".to_owned(),
            format!(
                "{:.0}% of a core over {:.0} s; {:.0} MB",
                figures.cpu_percent,
                figures.waited.as_secs_f64(),
                figures.peak_rss_kib as f64 * 1024.0 / 1_000_000.0
            ),
            String::new(),
            "",
        ),
        ("other refused calls".to_owned(), tally.refused.to_string(), String::new(), ""),
    ];
    report::figures_table(before.into_iter().chain(milestones).chain(after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(took_secs: Option<u64>, tally: Tally, prompts: &[(&str, i64)]) -> Figures {
        Figures {
            fleet: Fleet { workspaces: 2, members_each: 100 },
            limits: Limits::default(),
            took: took_secs.map(Duration::from_secs),
            first_after: Some(Duration::from_secs(1)),
            every_workspace_reached: vec![(1, Some(Duration::from_secs(2))), (40, None)],
            all_planned: Some(Duration::from_millis(31_400)),
            waited: Duration::from_secs(70),
            tally,
            prompts: prompts.iter().map(|(status, count)| ((*status).to_owned(), *count)).collect(),
            cpu_percent: 50.0,
            peak_rss_kib: 40_000,
        }
    }

    #[test]
    fn slack_allows_a_workspace_its_limit_at_once_then_the_rest_a_minute_later() {
        let limits = Limits::default();
        assert_eq!(allowed(Fleet { workspaces: 1_000, members_each: 100 }, limits), Duration::from_secs(60));
        assert_eq!(allowed(Fleet { workspaces: 1, members_each: 60 }, limits), Duration::ZERO);
        assert_eq!(allowed(Fleet { workspaces: 1, members_each: 121 }, limits), Duration::from_secs(120));
    }

    #[test]
    fn the_round_notes_the_first_question_and_all_but_the_last_minute_s_worth() {
        let limits = Limits::default();
        assert_eq!(milestones(Fleet { workspaces: 1_000, members_each: 100 }, limits), [1, 40]);
        assert_eq!(milestones(Fleet { workspaces: 1, members_each: 121 }, limits), [1, 61]);
        assert_eq!(milestones(Fleet { workspaces: 1, members_each: 60 }, limits), [1]);
    }

    #[test]
    fn a_round_is_exactly_once_only_when_everyone_was_posted_once_and_recorded_sent() {
        let everyone = Tally { questions: 200, calls: 200, ..Tally::default() };
        assert!(figures(Some(62), everyone.clone(), &[("sent", 200)]).exactly_once());
        let twice = Tally { doubled: 1, ..everyone.clone() };
        assert!(!figures(Some(62), twice, &[("sent", 200)]).exactly_once());
        assert!(!figures(Some(62), everyone.clone(), &[("sent", 199), ("failed", 1)]).exactly_once());
        let short = Tally { questions: 199, ..everyone };
        assert!(!figures(None, short, &[("sent", 199), ("pending", 1)]).exactly_once());
    }

    #[test]
    fn the_round_is_judged_against_what_slack_allows() {
        let tally = Tally { questions: 200, calls: 2_000, rate_limited: 3, ..Tally::default() };
        let close = figures(Some(63), tally.clone(), &[("sent", 200)]);
        assert!(close.over_allowed_percent().is_some_and(|over| (over - 5.0).abs() < 1e-9));
        assert!(close.within_aim(), "63 s is 105% of 60 s exactly");
        assert!(!figures(Some(64), tally.clone(), &[("sent", 200)]).within_aim());
        assert!((close.rate_limited_percent() - 0.15).abs() < 1e-9);
        let written = table(&close);
        let round_row =
            "63.0 s (+5% of the 60 s Slack's limits allow) | within 5% of what Slack's limits allow | met |";
        assert!(written.contains(round_row), "{written}");
        assert!(written.contains("3 of 2000 (0.15%) | <= 0.1% | **not met** |"), "{written}");
        assert!(
            written.contains("| every workspace's first question posted, from the server's start | 2.0 s |"),
            "{written}"
        );
        assert!(
            written.contains(
                "question 40 posted (its last may follow only a minute after it), from the server's start | - |"
            ),
            "{written}"
        );
        assert!(
            written.contains(
                "| every member's question planned, from the server's start (looked for every 200 ms) | 31.4 s |"
            ),
            "{written}"
        );
        let unfinished = table(&figures(None, Tally { questions: 150, ..tally }, &[("sent", 150)]));
        assert!(unfinished.contains("not everyone reached in 70 s: 150 of 200 questions posted"), "{unfinished}");
    }
}
