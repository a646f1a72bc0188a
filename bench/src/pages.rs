//! B2 (issue 13): the pages a member browses, signed in, on a team of 10,000 members and
//! 200,000 answers: the directory (`/people`, a page of it), a profile (`/people/:id`), and
//! the question list (`/questions`, shown for comparison; the issue sets no aim for it).
//! Each is fetched flat out from many connections at once, so the figure is what the
//! server's one core renders a second, whole HTML pages read to their end. The question list
//! is fetched one request at a time: it counts every answer of the team on each visit (about
//! 0.75 s at this size), so 16 at once wait past the database pool's 10 s and fail.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use rand::{Rng as _, SeedableRng as _, rngs::StdRng};

use crate::{
    client::Client,
    measure::{Samples, ms},
    team::Team,
};

/// The aims from the issue, for `/people` and `/people/:id`.
pub const RENDERS_AIM: f64 = 5_000.0;
pub const P99_AIM_MS: f64 = 20.0;

/// How the pages are fetched.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub connections: usize,
    pub warm_up: Duration,
    pub measured: Duration,
}

/// Which page, and whether the aim applies to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Directory,
    Profile,
    Questions,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Directory, Kind::Profile, Kind::Questions];

    fn name(self) -> &'static str {
        match self {
            Kind::Directory => "`/people?page=N` (a page of the directory)",
            Kind::Profile => "`/people/:id` (a member's profile)",
            Kind::Questions => "`/questions` (for comparison)",
        }
    }

    fn has_aim(self) -> bool {
        self != Kind::Questions
    }

    /// Requests in flight at once for this kind under `load`.
    fn connections(self, load: Load) -> usize {
        if self.has_aim() { load.connections } else { 1 }
    }

    /// A path of this kind, drawn at random over the whole team.
    fn path(self, team: &Team, rng: &mut StdRng) -> String {
        match self {
            Kind::Directory => {
                let pages = team.members.div_ceil(PEOPLE_PER_PAGE).max(1);
                format!("/people?page={}", rng.random_range(1..=pages))
            }
            Kind::Profile => format!("/people/{}", team.member_ids[rng.random_range(0..team.member_ids.len())]),
            Kind::Questions => "/questions".to_owned(),
        }
    }

    /// What every page of this kind must show, so that a page of errors is not measured.
    fn check(self, body: &str) -> anyhow::Result<()> {
        let needle = match self {
            Kind::Directory => "class=\"person-card\"",
            Kind::Profile => "class=\"profile-header\"",
            Kind::Questions => "class=\"question-row\"",
        };
        anyhow::ensure!(body.contains(needle), "the page shows no {needle}");
        Ok(())
    }
}

/// The directory's page size, as the app has it (`services::people::PEOPLE_PER_PAGE`).
const PEOPLE_PER_PAGE: usize = app::server::services::people::PEOPLE_PER_PAGE;

/// The figures of one kind of page.
pub struct Figure {
    pub kind: Kind,
    pub connections: usize,
    pub renders_per_second: f64,
    pub latencies: Samples,
    /// The mean size of the pages fetched (warm-up included).
    pub bytes: usize,
}

/// Fetches each kind of page flat out for `load`, signed in as `client`.
pub async fn measure(client: &Client, team: &Arc<Team>, load: Load) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for kind in Kind::ALL {
        figures.push(measure_kind(client, team, load, kind).await?);
    }
    Ok(figures)
}

async fn measure_kind(client: &Client, team: &Arc<Team>, load: Load, kind: Kind) -> anyhow::Result<Figure> {
    let started = Instant::now();
    let (window_start, window_end) = (started + load.warm_up, started + load.warm_up + load.measured);
    let in_window = Arc::new(AtomicU64::new(0));
    let mut fetchers = tokio::task::JoinSet::new();
    for connection in 0..kind.connections(load) {
        let (client, team, in_window) = (client.clone(), team.clone(), in_window.clone());
        fetchers.spawn(async move {
            let mut rng = StdRng::seed_from_u64(connection as u64);
            let mut latencies = Samples::default();
            let (mut bytes, mut pages) = (0, 0);
            while Instant::now() < window_end {
                let path = kind.path(&team, &mut rng);
                let sent_at = Instant::now();
                let fetched = client.get(&path).await?;
                kind.check(&fetched.body).map_err(|error| error.context(path))?;
                if sent_at >= window_start && sent_at + fetched.took <= window_end {
                    latencies.push(fetched.took);
                    in_window.fetch_add(1, Ordering::Relaxed);
                }
                bytes += fetched.body.len();
                pages += 1;
            }
            anyhow::Ok((latencies, bytes, pages))
        });
    }
    let mut latencies = Samples::default();
    let (mut bytes, mut pages) = (0, 0);
    while let Some(done) = fetchers.join_next().await {
        let (samples, fetched_bytes, fetched_pages) = done??;
        latencies.extend(samples);
        bytes += fetched_bytes;
        pages += fetched_pages;
    }
    let bytes = bytes / pages.max(1);
    let renders_per_second = in_window.load(Ordering::Relaxed) as f64 / load.measured.as_secs_f64();
    Ok(Figure { kind, connections: kind.connections(load), renders_per_second, latencies, bytes })
}

/// The figures as a Markdown table, each beside its aim.
pub fn table(figures: &[Figure]) -> String {
    use crate::report::verdict;
    let mut rows = vec![
        "| page | in flight | renders/s | p50 | p99 | mean page size | target | |".to_owned(),
        "|---|---:|---:|---:|---:|---:|---|---|".to_owned(),
    ];
    for figure in figures {
        let p99 = figure.latencies.percentile(99.0);
        let (target, met) = match figure.kind.has_aim() {
            true => (
                format!(">= {RENDERS_AIM:.0}/s, p99 <= {P99_AIM_MS:.0} ms"),
                verdict(figure.renders_per_second >= RENDERS_AIM && p99.as_secs_f64() * 1000.0 <= P99_AIM_MS),
            ),
            false => (String::new(), ""),
        };
        rows.push(format!(
            "| {} | {} | {:.0} | {} | {} | {:.0} KB | {target} | {met} |",
            figure.kind.name(),
            figure.connections,
            figure.renders_per_second,
            ms(figure.latencies.percentile(50.0)),
            ms(p99),
            figure.bytes as f64 / 1000.0,
        ));
    }
    rows.join("\n")
}
