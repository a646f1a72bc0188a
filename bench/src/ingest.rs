//! B1, ingest: signed `message.im` events from many teams, as Slack delivers them, sent to
//! `/slack/events` by many connections at once. Two runs:
//! - flat out: as fast as the server acknowledges, a warm-up then a measured window; then
//!   every acknowledged event must be in the inbox, once;
//! - sustained: a steady rate for a minute, the unprocessed backlog and the server's memory
//!   read every second, then how long the backlog takes to drain once the load stops.
//!
//! The teams are not installed, so the inbox worker's work per event is what it does for any
//! event before a team's own rules: read it, look the team up, mark it done.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use app::server::db::Db;
use server::slack::verify::{SigningSecret, sign};

use crate::measure::{Samples, ms};

/// The signing secret of the hosted install the benchmark starts (`server::HOSTED_ENV`).
const SIGNING_SECRET: &str = "bench-signing-secret";
/// Every event id of the benchmark starts with this.
const EVENT_PREFIX: &str = "EvBENCH";

/// What to send.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Requests in flight at once, each on its own connection.
    pub connections: usize,
    /// How many teams the events come from.
    pub teams: u64,
}

/// The flat-out run's figures.
#[derive(Debug)]
pub struct FlatOut {
    pub measured: Duration,
    /// Events acknowledged (200) within the measured window.
    pub acknowledged: usize,
    pub latencies: Samples,
    /// Answers other than 200, over the whole run.
    pub refused: u64,
    /// Acknowledged over the whole run, warm-up included.
    pub acknowledged_in_all: usize,
    /// Acknowledged events missing from the inbox.
    pub missing: usize,
    /// Benchmark events in the inbox that were never acknowledged (recorded, but the answer
    /// was lost; none expected).
    pub unacknowledged: usize,
}

impl FlatOut {
    pub fn per_second(&self) -> f64 {
        self.acknowledged as f64 / self.measured.as_secs_f64()
    }
}

/// The sustained run's figures.
#[derive(Debug)]
pub struct Sustained {
    pub rate: u64,
    pub took: Duration,
    pub sent: u64,
    pub refused: u64,
    /// The largest unprocessed backlog seen while the load ran.
    pub peak_backlog: i64,
    /// The backlog when the load stopped, and how long it took to reach zero after that
    /// (`None`: not within the limit).
    pub backlog_at_stop: i64,
    pub drained_in: Option<Duration>,
    /// How long the backlog was watched after the load stopped.
    pub drain_limit: Duration,
    /// The backlog when the watch ended (0 when it drained).
    pub left_at_limit: i64,
    /// The server's resident memory (MiB) after the first 10 s and at the end of the load.
    pub rss_early_mib: f64,
    pub rss_late_mib: f64,
    /// How long each acknowledged event took.
    pub latencies: Samples,
}

impl Sustained {
    /// Events sent a second over the run.
    pub fn per_second(&self) -> f64 {
        self.sent as f64 / self.took.as_secs_f64().max(f64::EPSILON)
    }

    /// Whether the load came within [`RATE_SHORTFALL_PERCENT`] of the rate asked for; a
    /// backlog under a lighter load says nothing about the aim.
    pub fn reached_rate(&self) -> bool {
        self.per_second() * 100.0 >= self.rate as f64 * f64::from(100 - RATE_SHORTFALL_PERCENT)
    }
}

/// How far below the rate asked for the sustained load may fall and still be judged.
const RATE_SHORTFALL_PERCENT: u32 = 5;

/// The number of the next event this process makes: runs against one server (B6 sends
/// several) never repeat an event id, which the inbox would take as Slack delivering again.
static NEXT_EVENT: AtomicU64 = AtomicU64::new(1);

/// Makes and signs events, numbering them so that none repeats within the process.
struct Events {
    secret: SigningSecret,
    teams: u64,
    /// How many this run made.
    made: AtomicU64,
}

impl Events {
    fn new(teams: u64) -> Events {
        Events { secret: SigningSecret::new(SIGNING_SECRET), teams, made: AtomicU64::new(0) }
    }

    /// The next event's number, body and signature headers.
    fn next(&self) -> (u64, String, String, String) {
        let number = NEXT_EVENT.fetch_add(1, Ordering::Relaxed);
        self.made.fetch_add(1, Ordering::Relaxed);
        let team = number % self.teams;
        let now = chrono::Utc::now();
        let ts = format!("{}.{:06}", now.timestamp(), number % 1_000_000);
        let body = serde_json::json!({
            "token": "bench",
            "team_id": format!("TBENCH{team:05}"),
            "api_app_id": "ABENCH0001",
            "type": "event_callback",
            "event_id": format!("{EVENT_PREFIX}{number:012}"),
            "event_time": now.timestamp(),
            "event": {
                "type": "message", "channel_type": "im", "channel": format!("DBENCH{team:05}"),
                "user": format!("UBENCH{:05}", number % 997), "text": "Coffee, then the crossword.",
                "ts": ts, "event_ts": ts,
            },
        })
        .to_string();
        let timestamp = now.timestamp().to_string();
        let signature = sign(&self.secret, &timestamp, body.as_bytes());
        (number, body, timestamp, signature)
    }
}

/// One connection's sender.
fn http() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the load's HTTP client")
}

/// Sends one event; its number when the server acknowledged it, and how long that took.
async fn send(http: &reqwest::Client, url: &str, events: &Events) -> (Option<u64>, Duration) {
    let (number, body, timestamp, signature) = events.next();
    let started = Instant::now();
    let answer = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", timestamp)
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await;
    let took = started.elapsed();
    let acknowledged = answer.is_ok_and(|response| response.status() == reqwest::StatusCode::OK);
    (acknowledged.then_some(number), took)
}

/// Sends as fast as the server answers for `warm_up + measured`, then checks the inbox.
pub async fn flat_out(
    base_url: &str,
    db: &Db,
    load: Load,
    warm_up: Duration,
    measured: Duration,
) -> anyhow::Result<FlatOut> {
    let url = format!("{base_url}/slack/events");
    let events = Arc::new(Events::new(load.teams));
    let started = Instant::now();
    let (window_start, window_end) = (started + warm_up, started + warm_up + measured);
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..load.connections {
        let (url, events, http) = (url.clone(), events.clone(), http()?);
        senders.spawn(async move {
            let mut acknowledged = Vec::new();
            let mut in_window = Samples::default();
            let mut refused = 0u64;
            while Instant::now() < window_end {
                let sent_at = Instant::now();
                let (number, took) = send(&http, &url, &events).await;
                match number {
                    Some(number) => {
                        if sent_at >= window_start && sent_at + took <= window_end {
                            in_window.push(took);
                        }
                        acknowledged.push(number);
                    }
                    None => refused += 1,
                }
            }
            (acknowledged, in_window, refused)
        });
    }
    let mut figures = FlatOut {
        measured,
        acknowledged: 0,
        latencies: Samples::default(),
        refused: 0,
        acknowledged_in_all: 0,
        missing: 0,
        unacknowledged: 0,
    };
    let mut acknowledged = HashSet::new();
    while let Some(sender) = senders.join_next().await {
        let (numbers, in_window, refused) = sender.context("a load connection panicked")?;
        figures.acknowledged += in_window.len();
        figures.latencies.extend(in_window);
        figures.refused += refused;
        acknowledged.extend(numbers);
    }
    figures.acknowledged_in_all = acknowledged.len();
    let recorded = recorded_events(db).await?;
    figures.missing = acknowledged.iter().filter(|number| !recorded.contains(*number)).count();
    figures.unacknowledged = recorded.iter().filter(|number| !acknowledged.contains(*number)).count();
    Ok(figures)
}

/// The numbers of the benchmark's events in the inbox (the table's unique key keeps each
/// once).
async fn recorded_events(db: &Db) -> anyhow::Result<HashSet<u64>> {
    let ids: Vec<(String,)> =
        sqlx::query_as("SELECT external_id FROM inbox WHERE source = 'slack_event' AND external_id LIKE 'EvBENCH%'")
            .fetch_all(db.pool())
            .await
            .context("reading the recorded events")?;
    Ok(ids.iter().filter_map(|(id,)| id.strip_prefix(EVENT_PREFIX)?.parse().ok()).collect())
}

/// Events recorded and not yet processed or given up.
async fn backlog(db: &Db) -> anyhow::Result<i64> {
    app::server::db::inbox::count_unfinished(db.pool()).await.context("counting the unprocessed events")
}

/// Sends `rate` events a second for `duration`, spread over the connections, reading the
/// backlog and the server's memory every second; then waits up to `drain_limit` for the
/// backlog to empty.
pub async fn sustained(
    base_url: &str,
    db: &Db,
    server_pid: Option<u32>,
    load: Load,
    rate: u64,
    duration: Duration,
    drain_limit: Duration,
) -> anyhow::Result<Sustained> {
    let url = format!("{base_url}/slack/events");
    let events = Arc::new(Events::new(load.teams));
    let started = Instant::now();
    let end = started + duration;
    let refused = Arc::new(AtomicU64::new(0));
    let mut senders = tokio::task::JoinSet::new();
    let per_connection = Duration::from_secs_f64(load.connections as f64 / rate as f64);
    for connection in 0..load.connections {
        let (url, events, http, refused) = (url.clone(), events.clone(), http()?, refused.clone());
        senders.spawn(async move {
            // Staggered, so the connections' sends spread over each period.
            let offset = per_connection.mul_f64(connection as f64 / load.connections as f64);
            let mut ticks = tokio::time::interval_at((started + offset).into(), per_connection);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut latencies = Samples::default();
            loop {
                ticks.tick().await;
                if Instant::now() >= end {
                    break;
                }
                match send(&http, &url, &events).await {
                    (Some(_), took) => latencies.push(took),
                    (None, _) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        });
    }
    // (since the start, backlog, resident MiB), every second.
    let mut readings: Vec<(Duration, i64, f64)> = Vec::new();
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_secs(1)).await;
        readings.push((started.elapsed(), backlog(db).await?, rss_mib(server_pid)));
    }
    let mut latencies = Samples::default();
    while let Some(sender) = senders.join_next().await {
        latencies.extend(sender.context("a load connection panicked")?);
    }
    let took = started.elapsed();
    let stopped = Instant::now();
    let backlog_at_stop = backlog(db).await?;
    let mut drained_in = None;
    let mut left_at_limit = backlog_at_stop;
    while stopped.elapsed() < drain_limit {
        left_at_limit = backlog(db).await?;
        if left_at_limit == 0 {
            drained_in = Some(stopped.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let early = readings.iter().find(|(at, _, _)| *at >= Duration::from_secs(10)).map_or(0.0, |(_, _, rss)| *rss);
    Ok(Sustained {
        rate,
        took,
        sent: events.made.load(Ordering::Relaxed),
        refused: refused.load(Ordering::Relaxed),
        peak_backlog: readings.iter().map(|(_, backlog, _)| *backlog).max().unwrap_or_default(),
        backlog_at_stop,
        drained_in,
        drain_limit,
        left_at_limit,
        rss_early_mib: early,
        rss_late_mib: readings.last().map_or(0.0, |(_, _, rss)| *rss),
        latencies,
    })
}

/// The resident memory of process `pid` in MiB (0 when it cannot be read).
fn rss_mib(pid: Option<u32>) -> f64 {
    pid.and_then(crate::process::resident_kib).map_or(0.0, |kib| kib as f64 / 1024.0)
}

/// The figures as a Markdown table beside their targets.
pub fn table(flat: &FlatOut, sustained: &Sustained) -> String {
    use crate::report::verdict;
    let p99 = flat.latencies.percentile(99.0);
    let drained = sustained.drained_in.map_or_else(
        || format!("{} still unprocessed {} s after", sustained.left_at_limit, sustained.drain_limit.as_secs()),
        ms,
    );
    let lost = flat.missing;
    // The backlog's aims are judged only under the rate they are set for.
    let judged = |met: bool| if sustained.reached_rate() { verdict(met) } else { "not judged: the load fell short" };
    let rows = [
        (
            "acknowledged events/s (flat out)".to_owned(),
            format!("{:.0}", flat.per_second()),
            ">= 15,000".to_owned(),
            verdict(flat.per_second() >= 15_000.0),
        ),
        ("p50 latency".to_owned(), ms(flat.latencies.percentile(50.0)), String::new(), ""),
        ("p99 latency".to_owned(), ms(p99), "<= 25 ms".to_owned(), verdict(p99 <= Duration::from_millis(25))),
        (
            "acknowledged events missing from the inbox".to_owned(),
            format!("{lost} of {}", flat.acknowledged_in_all),
            "0".to_owned(),
            verdict(lost == 0),
        ),
        ("answers other than 200 (flat out)".to_owned(), flat.refused.to_string(), String::new(), ""),
        ("recorded but never acknowledged".to_owned(), flat.unacknowledged.to_string(), String::new(), ""),
        (
            "sustained: events/s the load reached".to_owned(),
            format!("{:.0}", sustained.per_second()),
            format!("{} (within {RATE_SHORTFALL_PERCENT}%)", sustained.rate),
            verdict(sustained.reached_rate()),
        ),
        (
            format!("sustained {} events/s: peak backlog", sustained.rate),
            sustained.peak_backlog.to_string(),
            "< 10,000".to_owned(),
            judged(sustained.peak_backlog < 10_000),
        ),
        (
            "backlog drained after the load stopped".to_owned(),
            format!("{} left, {drained}", sustained.backlog_at_stop),
            "<= 5 s".to_owned(),
            judged(sustained.drained_in.is_some_and(|took| took <= Duration::from_secs(5))),
        ),
        (
            "resident memory at 10 s and at the end".to_owned(),
            format!("{:.1} → {:.1} MiB", sustained.rss_early_mib, sustained.rss_late_mib),
            "flat".to_owned(),
            verdict(sustained.rss_late_mib <= sustained.rss_early_mib * 1.1),
        ),
        ("sustained: p99 latency".to_owned(), ms(sustained.latencies.percentile(99.0)), String::new(), ""),
        (
            "sustained: sent, refused".to_owned(),
            format!("{} in {:.1} s, {} refused", sustained.sent, sustained.took.as_secs_f64(), sustained.refused),
            String::new(),
            "",
        ),
    ];
    let mut out = String::from("| figure | measured | target | |\n|---|---|---|---|\n");
    for (figure, measured, target, verdict) in rows {
        out.push_str(&format!("| {figure} | {measured} | {target} | {verdict} |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat_out() -> FlatOut {
        FlatOut {
            measured: Duration::from_secs(20),
            acknowledged: 40_000,
            latencies: Samples::default(),
            refused: 0,
            acknowledged_in_all: 60_000,
            missing: 0,
            unacknowledged: 0,
        }
    }

    fn sustained(sent: u64) -> Sustained {
        Sustained {
            rate: 5_000,
            took: Duration::from_secs(60),
            sent,
            refused: 0,
            peak_backlog: 800,
            backlog_at_stop: 500,
            drained_in: Some(Duration::from_secs(1)),
            drain_limit: Duration::from_secs(20),
            left_at_limit: 0,
            rss_early_mib: 30.0,
            rss_late_mib: 30.0,
            latencies: Samples::default(),
        }
    }

    #[test]
    fn a_small_backlog_is_met_only_when_the_load_reached_its_rate() {
        let full = table(&flat_out(), &sustained(298_000));
        assert!(full.contains("| sustained: events/s the load reached | 4967 | 5000 (within 5%) | met |"), "{full}");
        assert!(full.contains("| sustained 5000 events/s: peak backlog | 800 | < 10,000 | met |"), "{full}");
        let short = table(&flat_out(), &sustained(120_000));
        assert!(short.contains("| 2000 | 5000 (within 5%) | **not met** |"), "{short}");
        assert!(short.contains("| 800 | < 10,000 | not judged: the load fell short |"), "{short}");
        assert!(short.contains("| 500 left, 1000.0 ms | <= 5 s | not judged: the load fell short |"), "{short}");
    }
}
