//! `rapport-bench`: Rapport's benchmarks. Each makes its data in a fresh database, starts the
//! release server on it pinned to core 0, measures from this process (run it pinned to core
//! 1: `make bench` does), and writes its figures into `BENCHMARKS.md` beside their aims.
//!
//! Speed is measured here and only here: no test times anything. The soak (`soak`) is no
//! benchmark: it checks that nothing is lost, doubled or leaked over minutes of mixed load,
//! and writes its own report (`SOAK.md`).

mod bundle;
mod client;
mod fleet;
mod idle;
mod ingest;
mod measure;
mod pages;
mod process;
mod report;
mod round;
mod search;
mod server;
mod sign_ins;
mod soak;
mod team;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use app::server::db::Db;
use clap::{Parser, Subcommand, ValueEnum};

/// Rapport's benchmarks; figures go to BENCHMARKS.md.
#[derive(Debug, Parser)]
#[command(name = "rapport-bench")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
    /// The release server binary to measure
    #[arg(long, global = true, default_value = "target/release/rapport")]
    server: PathBuf,
    /// Which databases to measure on
    #[arg(long, global = true, value_enum, default_value = "both")]
    database: Databases,
    /// A PostgreSQL server where the benchmark may make (and drop) the database `rapport_bench`
    #[arg(long, global = true, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    /// The file the figures are written to
    #[arg(long, global = true, default_value = "BENCHMARKS.md")]
    out: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Search and insights with a team of 10,000 members and 200,000 answers (issue 11)
    Search {
        #[arg(long, default_value_t = defaults::TEAM.members)]
        members: usize,
        #[arg(long, default_value_t = defaults::TEAM.answers)]
        answers: usize,
    },
    /// B1: signed Slack events to /slack/events, flat out and at a steady rate (issue 13)
    Ingest {
        /// Requests in flight at once, each on its own connection
        #[arg(long, default_value_t = defaults::INGEST.connections)]
        connections: usize,
        /// How many teams the events come from
        #[arg(long, default_value_t = defaults::INGEST.teams)]
        teams: u64,
        /// Seconds sent flat out before the measured window
        #[arg(long, default_value_t = defaults::INGEST_WARM_UP)]
        warm_up: u64,
        /// Seconds measured flat out
        #[arg(long, default_value_t = defaults::INGEST_SECONDS)]
        seconds: u64,
        /// Events a second of the sustained run
        #[arg(long, default_value_t = defaults::INGEST_RATE)]
        rate: u64,
        /// Seconds of the sustained run
        #[arg(long, default_value_t = defaults::INGEST_SUSTAINED)]
        sustained: u64,
    },
    /// B2: a member's pages (the directory, a profile, the question list), signed in, on a
    /// team of 10,000 members and 200,000 answers, fetched flat out (issue 13)
    Pages {
        #[arg(long, default_value_t = defaults::TEAM.members)]
        members: usize,
        #[arg(long, default_value_t = defaults::TEAM.answers)]
        answers: usize,
        /// Requests in flight at once
        #[arg(long, default_value_t = defaults::PAGES.connections)]
        connections: usize,
        /// Seconds measured for each page, after 3 s of warm-up
        #[arg(long, default_value_t = defaults::PAGES.measured.as_secs())]
        seconds: u64,
    },
    /// B3's idle CPU and B4's memory: a server holding many installed workspaces with nothing
    /// due, left alone, beside one with an empty database (issue 13)
    Idle {
        #[arg(long, default_value_t = defaults::FLEET.workspaces)]
        workspaces: usize,
        /// Members of each workspace
        #[arg(long, default_value_t = defaults::FLEET.members_each)]
        members: usize,
        /// Seconds the CPU time is measured over
        #[arg(long, default_value_t = defaults::IDLE_SECONDS)]
        seconds: u64,
    },
    /// B3's round: every member of a fleet due a question at once, delivered against Slack's
    /// rate limits (the benchmark plays Slack for every workspace) (issue 13)
    Round {
        #[arg(long, default_value_t = defaults::FLEET.workspaces)]
        workspaces: usize,
        /// Members of each workspace
        #[arg(long, default_value_t = defaults::FLEET.members_each)]
        members: usize,
        /// Slack's workspace-wide limit on chat.postMessage, posts a minute
        #[arg(long, default_value_t = round::slack::Limits::default().posts_per_minute)]
        posts_per_minute: u32,
        /// Seconds to wait for the round before giving up
        #[arg(long, default_value_t = defaults::ROUND_WAIT.as_secs())]
        wait: u64,
    },
    /// B5: what a browser downloads, from the release build's site (`cargo leptos build
    /// --release --split` first; no server runs)
    Bundle,
    /// B6: password sign-ins, 40 a second, while events arrive at a steady rate (half B1's
    /// flat-out rate), against the events alone (issue 13)
    SignIn {
        /// Events a second, both windows
        #[arg(long, default_value_t = defaults::SIGN_IN_RATE)]
        rate: u64,
        /// Seconds of each window
        #[arg(long, default_value_t = defaults::SIGN_IN_SECONDS)]
        seconds: u64,
        /// Seconds of events before the windows
        #[arg(long, default_value_t = defaults::SIGN_IN_WARM_UP)]
        warm_up: u64,
    },
    /// Every benchmark above, one after another with their defaults (what `make bench` runs):
    /// search and B2 measure one team per database, made once, instead of a team each
    All,
    /// Mixed load on the server with the Slack emulator, a restart half-way, then checks
    /// (SQLite only; the report goes to --report, not BENCHMARKS.md)
    Soak {
        /// Minutes of load, the restart included
        #[arg(long, default_value_t = soak::DEFAULT_MINUTES)]
        #[arg(value_parser = clap::value_parser!(u64).range(1..))]
        minutes: u64,
        /// How many times faster the product's clock runs (RAPPORT_TIME_SCALE, 1 to 1000; faster,
        /// the restart's inbox clean-up deletes the first half's events, a week old in product
        /// time, before they are checked)
        #[arg(long, default_value_t = soak::DEFAULT_TIME_SCALE)]
        #[arg(value_parser = clap::value_parser!(u32).range(1..=1_000))]
        time_scale: u32,
        /// The file the report is written to (replaced each run)
        #[arg(long, default_value = soak::DEFAULT_REPORT)]
        report: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Databases {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Clone, Copy)]
enum Database {
    Sqlite,
    Postgres,
}

impl Database {
    fn name(self) -> &'static str {
        match self {
            Database::Sqlite => "SQLite",
            Database::Postgres => "PostgreSQL",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgres => "postgres",
        }
    }
}

/// Where benchmark databases and probes live: outside the repository's sources.
const WORK_DIR: &str = "target/bench";
/// The port the measured server listens on.
const SERVER_ADDR: &str = "127.0.0.1:3950";
/// Where the second and third servers listen when several are measured side by side (B3 idle).
const SECOND_SERVER_ADDR: &str = "127.0.0.1:3955";
const THIRD_SERVER_ADDR: &str = "127.0.0.1:3956";

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rapport-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: &Cli) -> anyhow::Result<()> {
    anyhow::ensure!(
        cli.server.exists(),
        "no server binary at {} (build it with `cargo build --release -p server`, or give --server)",
        cli.server.display()
    );
    let databases: &[Database] = match cli.database {
        Databases::Sqlite => &[Database::Sqlite],
        Databases::Postgres => &[Database::Postgres],
        Databases::Both => &[Database::Sqlite, Database::Postgres],
    };
    let machine = report::Machine::read(Path::new(WORK_DIR))?;
    match &cli.bench {
        Bench::Search { members, answers } => {
            for &database in databases {
                let made = make_team(cli, database, team::Size { members: *members, answers: *answers }).await?;
                search_bench(cli, &machine, database, &made).await?;
            }
        }
        Bench::Ingest { connections, teams, warm_up, seconds, rate, sustained } => {
            let load = ingest::Load { connections: *connections, teams: *teams };
            let flat = (Duration::from_secs(*warm_up), Duration::from_secs(*seconds));
            for &database in databases {
                ingest_bench(cli, &machine, database, load, flat, (*rate, Duration::from_secs(*sustained))).await?;
            }
        }
        Bench::Pages { members, answers, connections, seconds } => {
            let size = team::Size { members: *members, answers: *answers };
            let load =
                pages::Load { connections: *connections, measured: Duration::from_secs(*seconds), ..defaults::PAGES };
            for &database in databases {
                let made = make_team(cli, database, size).await?;
                pages_bench(cli, &machine, database, &made, load).await?;
            }
        }
        Bench::Idle { workspaces, members, seconds } => {
            let fleet = fleet::Fleet { workspaces: *workspaces, members_each: *members };
            for &database in databases {
                idle_bench(cli, &machine, database, fleet, Duration::from_secs(*seconds)).await?;
            }
        }
        Bench::Round { workspaces, members, posts_per_minute, wait } => {
            let fleet = fleet::Fleet { workspaces: *workspaces, members_each: *members };
            let limits = round::slack::Limits { posts_per_minute: *posts_per_minute, ..Default::default() };
            for &database in databases {
                round_bench(cli, &machine, database, fleet, limits, Duration::from_secs(*wait)).await?;
            }
        }
        Bench::Bundle => bundle_bench(cli, &machine).await?,
        Bench::All => all_benches(cli, &machine, databases).await?,
        Bench::SignIn { rate, seconds, warm_up } => {
            let windows = (Duration::from_secs(*warm_up), Duration::from_secs(*seconds));
            for &database in databases {
                sign_in_bench(cli, &machine, database, *rate, windows).await?;
            }
        }
        Bench::Soak { minutes, time_scale, report } => {
            anyhow::ensure!(
                cli.database != Databases::Postgres,
                "the soak runs on SQLite only (pass --database sqlite)"
            );
            let settings = soak::Settings {
                binary: cli.server.clone(),
                database_url: fresh_database(cli, Database::Sqlite, "soak").await?,
                minutes: *minutes,
                time_scale: *time_scale,
                report: report.clone(),
            };
            soak::run(&settings, &machine).await?;
        }
    }
    Ok(())
}

async fn search_bench(cli: &Cli, machine: &report::Machine, database: Database, made: &MadeTeam) -> anyhow::Result<()> {
    println!("==> search and insights on {}", database.name());
    let MadeTeam { url, db, team, made_in } = made;
    let server = server::Server::start(&cli.server, url, SERVER_ADDR).await?;
    let client = client::Client::signed_in(&server.base_url, db, &team.workspace_id, &team.admin_member_id).await?;
    let figures = search::measure(&client, team).await;
    server.stop().await?;
    let figures = figures?;
    let table = search::table(&figures);
    println!("{table}");
    let body = format!(
        "### Search and insights on {name}\n\n{machine}\nTeam: {members} members, {answers} answers of \
         {questions} questions ({prompts} questions asked over a year), made in {made:.0} s. {queries} \
         queries, one request at a time from a signed-in admin.\n\n{table}",
        name = database.name(),
        machine = machine.line(),
        members = team.members,
        answers = team.answers,
        questions = team.questions,
        prompts = team.prompts,
        made = made_in.as_secs_f64(),
        queries = figures.queries,
    );
    report::write_block(&cli.out, &format!("search/{}", database.slug()), &body)
}

/// A team at scale in a fresh database of its own, for the search benchmark and B2 (neither
/// changes it, so one team serves both).
struct MadeTeam {
    url: String,
    db: Db,
    team: Arc<team::Team>,
    made_in: Duration,
}

/// Makes a team of `size` in a fresh, migrated `team` database on `database`.
async fn make_team(cli: &Cli, database: Database, size: team::Size) -> anyhow::Result<MadeTeam> {
    println!("==> a team on {}: making {} members and {} answers", database.name(), size.members, size.answers);
    let url = fresh_database(cli, database, "team").await?;
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let started = Instant::now();
    let team = Arc::new(team::create(&db, size, app::server::now_ms()).await?);
    settle(&db, database).await?;
    let made_in = started.elapsed();
    println!("    made in {:.0} s", made_in.as_secs_f64());
    Ok(MadeTeam { url, db, team, made_in })
}

/// B2 on `database`: the pages of `made`'s team fetched flat out by its admin.
async fn pages_bench(
    cli: &Cli,
    machine: &report::Machine,
    database: Database,
    made: &MadeTeam,
    load: pages::Load,
) -> anyhow::Result<()> {
    println!("==> B2 pages on {}", database.name());
    let MadeTeam { url, db, team, .. } = made;
    let server = server::Server::start(&cli.server, url, SERVER_ADDR).await?;
    let client = client::Client::signed_in(&server.base_url, db, &team.workspace_id, &team.admin_member_id).await?;
    let figures = pages::measure(&client, team, load).await;
    server.stop().await?;
    let figures = figures?;
    let table = pages::table(&figures);
    println!("{table}");
    let body = format!(
        "### B2 pages on {name}\n\n{machine}\nTeam: {members} members, {answers} answers. Signed in as its \
         admin, each page kind fetched flat out for {seconds} s after 3 s of warm-up, with the requests in flight \
         the table says (directory pages and profiles drawn at random over the whole team); a render is a whole \
         HTML page read to its end.\n\n{table}",
        name = database.name(),
        machine = machine.line(),
        members = team.members,
        answers = team.answers,
        seconds = load.measured.as_secs(),
    );
    report::write_block(&cli.out, &format!("pages/{}", database.slug()), &body)
}

/// Every benchmark with its defaults, as the subcommands run them alone, except that search
/// and B2 share one team per database and B6 sends events at half the rate B1 has just
/// measured flat out on the same database, as the issue sets it. B5 reads the release site,
/// built beforehand.
async fn all_benches(cli: &Cli, machine: &report::Machine, databases: &[Database]) -> anyhow::Result<()> {
    let started = Instant::now();
    for &database in databases {
        let made = make_team(cli, database, defaults::TEAM).await?;
        timed("search", search_bench(cli, machine, database, &made)).await?;
        timed("B2", pages_bench(cli, machine, database, &made, defaults::PAGES)).await?;
        made.db.close().await;
    }
    let secs = Duration::from_secs;
    let mut sign_in_rates = Vec::with_capacity(databases.len());
    for &database in databases {
        let flat = (secs(defaults::INGEST_WARM_UP), secs(defaults::INGEST_SECONDS));
        let sustained = (defaults::INGEST_RATE, secs(defaults::INGEST_SUSTAINED));
        let flat_out = timed("B1", ingest_bench(cli, machine, database, defaults::INGEST, flat, sustained)).await?;
        sign_in_rates.push(sign_ins::event_rate(flat_out));
    }
    for &database in databases {
        timed("B3 idle and B4", idle_bench(cli, machine, database, defaults::FLEET, secs(defaults::IDLE_SECONDS)))
            .await?;
        let limits = round::slack::Limits::default();
        timed("B3's round", round_bench(cli, machine, database, defaults::FLEET, limits, defaults::ROUND_WAIT)).await?;
    }
    for (&database, rate) in databases.iter().zip(sign_in_rates) {
        let windows = (secs(defaults::SIGN_IN_WARM_UP), secs(defaults::SIGN_IN_SECONDS));
        timed("B6", sign_in_bench(cli, machine, database, rate, windows)).await?;
    }
    timed("B5", bundle_bench(cli, machine)).await?;
    println!("==> every benchmark ran in {:.1} minutes", started.elapsed().as_secs_f64() / 60.0);
    Ok(())
}

/// Runs one benchmark of `all` and prints how long it took, data and checks included, so
/// the log shows where a run's minutes went.
async fn timed<T>(name: &str, bench: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    let started = Instant::now();
    let outcome = bench.await?;
    println!("    {name} took {:.0} s in all", started.elapsed().as_secs_f64());
    Ok(outcome)
}

/// Each benchmark's workload as the issue sets it: the subcommands' defaults, and `all`'s.
mod defaults {
    use std::time::Duration;

    use crate::{fleet, ingest, pages, team};

    pub const TEAM: team::Size = team::Size { members: 10_000, answers: 200_000 };
    pub const INGEST: ingest::Load = ingest::Load { connections: 64, teams: 1_000 };
    pub const INGEST_WARM_UP: u64 = 10;
    pub const INGEST_SECONDS: u64 = 20;
    pub const INGEST_RATE: u64 = 5_000;
    pub const INGEST_SUSTAINED: u64 = 60;
    pub const PAGES: pages::Load =
        pages::Load { connections: 16, warm_up: Duration::from_secs(3), measured: Duration::from_secs(10) };
    pub const FLEET: fleet::Fleet = fleet::Fleet { workspaces: 1_000, members_each: 100 };
    pub const IDLE_SECONDS: u64 = 30;
    pub const ROUND_WAIT: Duration = Duration::from_secs(600);
    /// B6's event rate when it runs alone (`all` uses half of B1's rate, just measured):
    /// about half of B1's flat-out figure on SQLite when B6 was written (4,443 a second).
    pub const SIGN_IN_RATE: u64 = 2_200;
    /// B6's windows and the warm-up before them. After 5 s of warm-up the inbox was still
    /// more than a second's events behind in the window alone (no baseline, on both
    /// databases); after 15 or 25 s it was not (BENCHMARKS.md, B6). 15 s windows keep B6 as
    /// long as it was with 20 s windows and 5 s of warm-up.
    pub const SIGN_IN_SECONDS: u64 = 15;
    pub const SIGN_IN_WARM_UP: u64 = 15;
}

/// Fresh statistics after a bulk load, as a database that has lived a while has them; on
/// PostgreSQL also the visibility map, without which no index-only scan skips the heap
/// (autovacuum does both some time after a bulk load). Sent as plain text: VACUUM cannot be
/// prepared.
async fn settle(db: &Db, database: Database) -> anyhow::Result<()> {
    let settle = match database {
        Database::Sqlite => "ANALYZE",
        Database::Postgres => "VACUUM ANALYZE",
    };
    sqlx::Executor::execute(db.pool(), settle).await.context("gathering statistics")?;
    Ok(())
}

/// B1 on `database`: flat out on a fresh database, then sustained on another, each with a
/// server of its own (the flat-out run leaves a backlog the sustained run must not inherit).
/// Answers the flat-out rate, events acknowledged a second.
async fn ingest_bench(
    cli: &Cli,
    machine: &report::Machine,
    database: Database,
    load: ingest::Load,
    (warm_up, measured): (Duration, Duration),
    (rate, sustained_for): (u64, Duration),
) -> anyhow::Result<f64> {
    println!(
        "==> B1 ingest on {}: {} connections, events from {} teams, {} s flat out after {} s of warm-up",
        database.name(),
        load.connections,
        load.teams,
        measured.as_secs(),
        warm_up.as_secs()
    );
    let (server, db) = ingest_server(cli, database).await?;
    let flat = ingest::flat_out(&server.base_url, &db, load, warm_up, measured).await;
    server.stop().await?;
    db.close().await;
    let flat = flat?;
    println!(
        "    {:.0} events/s acknowledged; now {} s at {rate} events/s",
        flat.per_second(),
        sustained_for.as_secs()
    );
    let (server, db) = ingest_server(cli, database).await?;
    let sustained =
        ingest::sustained(&server.base_url, &db, server.pid(), load, rate, sustained_for, INGEST_DRAIN_LIMIT).await;
    server.stop().await?;
    db.close().await;
    let sustained = sustained?;
    let table = ingest::table(&flat, &sustained);
    println!("{table}");
    let body = format!(
        "### B1 ingest on {name}\n\n{machine}\nSigned `message.im` events with unique ids from {teams} teams (not \
         installed: the worker looks each team up and marks the event done), {connections} connections: {warm_up} s \
         of warm-up, then {measured} s measured flat out; then, on a fresh database and server, {rate} events/s for \
         {sustained} s, the unprocessed backlog and the server's memory read every second.\n\n{table}",
        name = database.name(),
        machine = machine.line(),
        teams = load.teams,
        connections = load.connections,
        warm_up = warm_up.as_secs(),
        measured = measured.as_secs(),
        sustained = sustained_for.as_secs(),
    );
    report::write_block(&cli.out, &format!("ingest/{}", database.slug()), &body)?;
    Ok(flat.per_second())
}

/// B5: the sizes of the release site in this checkout.
async fn bundle_bench(cli: &Cli, machine: &report::Machine) -> anyhow::Result<()> {
    let pkg = bundle::pkg_dir(Path::new("."));
    println!("==> B5 bundle: the release site in {}", pkg.display());
    let figures = bundle::measure(&pkg).await?;
    let table = bundle::table(&figures);
    println!("{table}");
    let body = format!(
        "### B5 bundle\n\n{machine}\nThe release site (`cargo leptos build --release --split`, the wasm built with \
         the `wasm-release` profile and `wasm-opt`), each file's size raw and after `gzip -9`; a page's own files \
         are those the split manifest lists for its route.\n\n{table}",
        machine = machine.line(),
    );
    report::write_block(&cli.out, "bundle", &body)
}

/// B6 on `database`: events at `rate` for `window` alone, then for `window` beside password
/// sign-ins, after `warm_up` at the same rate.
async fn sign_in_bench(
    cli: &Cli,
    machine: &report::Machine,
    database: Database,
    rate: u64,
    (warm_up, window): (Duration, Duration),
) -> anyhow::Result<()> {
    println!(
        "==> B6 sign-ins on {}: events at {rate}/s for {} s alone, then beside {} sign-ins a second",
        database.name(),
        window.as_secs(),
        sign_ins::SIGN_INS_PER_SECOND
    );
    let (server, db) = ingest_server(cli, database).await?;
    let measured = async {
        let emails = sign_ins::create_accounts(&db, sign_ins::SIGN_INS_PER_SECOND * window.as_secs()).await?;
        let load = defaults::INGEST;
        let events = |seconds: Duration| {
            ingest::sustained(&server.base_url, &db, server.pid(), load, rate, seconds, Duration::ZERO)
        };
        events(warm_up).await?;
        let run = events(window).await?;
        let alone =
            sign_ins::Alone { peak_backlog: run.peak_backlog.max(run.backlog_at_stop), latencies: run.latencies };
        let (beside, signed) = tokio::join!(
            events(window),
            sign_ins::sign_in_steadily(&server.base_url, &emails, sign_ins::SIGN_INS_PER_SECOND, window)
        );
        anyhow::Ok((alone, beside?, signed?))
    }
    .await;
    server.stop().await?;
    db.close().await;
    let (alone, beside, signed) = measured?;
    let table = sign_ins::table(&alone, &beside.latencies, &signed, rate, window);
    println!("{table}");
    let body = format!(
        "### B6 sign-ins on {name}\n\n{machine}\nSigned `message.im` events at {rate}/s from 1000 teams over 64 \
         connections (B1's load), {warm_up} s of warm-up, then {seconds} s alone and {seconds} s beside password sign-ins \
         (argon2id, the crate's defaults: 19 MiB, 2 passes) of admin accounts (8 sign-ins each at most) from 250 \
         loopback addresses, {per_second} a second. Every event id is new, in every window.\n\n{table}",
        name = database.name(),
        machine = machine.line(),
        warm_up = warm_up.as_secs(),
        seconds = window.as_secs(),
        per_second = sign_ins::SIGN_INS_PER_SECOND,
    );
    report::write_block(&cli.out, &format!("sign-in/{}", database.slug()), &body)
}

/// B3's idle figure and B4 on `database`: three servers side by side, on an empty database,
/// `fleet` and its members in ten times the workspaces, left alone for `window` once they
/// have settled.
async fn idle_bench(
    cli: &Cli,
    machine: &report::Machine,
    database: Database,
    fleet: fleet::Fleet,
    window: Duration,
) -> anyhow::Result<()> {
    println!(
        "==> B3 idle and B4 memory on {}: {} workspaces of {} members, {} s measured",
        database.name(),
        fleet.workspaces,
        fleet.members_each,
        window.as_secs()
    );
    anyhow::ensure!(
        fleet.members_each > 0 && fleet.members_each.is_multiple_of(idle::MEMBERS_MULTIPLE),
        "B4 spreads the fleet's members over ten times the workspaces: give --members a multiple of {}",
        idle::MEMBERS_MULTIPLE
    );
    // The three servers idle side by side, each pinned to the server core: together they
    // use well under 1% of it, and each one's CPU time and memory are its own process's.
    let empty = idle_database(cli, database, "idle_empty", None).await?;
    let full = idle_database(cli, database, "idle_full", Some(fleet)).await?;
    let wider = idle_database(cli, database, "idle_wider", Some(idle::Figures::wider_of(fleet))).await?;
    let servers = [
        server::Server::start(&cli.server, &empty, SERVER_ADDR).await?,
        server::Server::start(&cli.server, &full, SECOND_SERVER_ADDR).await?,
        server::Server::start(&cli.server, &wider, THIRD_SERVER_ADDR).await?,
    ];
    for fleet_url in [&full, &wider] {
        idle::wait_for_first_planning(fleet_url).await?;
    }
    let [empty, full, wider] = servers.each_ref().map(server::Server::pid);
    let exited = || anyhow::anyhow!("an idle server had already exited");
    let (empty, full, wider) = (empty.ok_or_else(exited)?, full.ok_or_else(exited)?, wider.ok_or_else(exited)?);
    let readings = tokio::join!(
        idle::read(empty, IDLE_SETTLE, window),
        idle::read(full, IDLE_SETTLE, window),
        idle::read(wider, IDLE_SETTLE, window),
    );
    for server in servers {
        server.stop().await?;
    }
    let (empty, full, wider) = (readings.0?, readings.1?, readings.2?);
    let figures = idle::Figures { fleet, empty, full, wider };
    let table = idle::table(&figures);
    println!("{table}");
    let body = format!(
        "### B3 idle and B4 memory on {name}\n\n{machine}\nThree hosted servers (Slack out of reach), side by \
         side on the server core, left alone for {window} s from {settle} s after each had planned its workspaces \
         once: one on an empty database, \
         one with {workspaces} installed workspaces of {members} members each and one with the same members in \
         {wider} workspaces of {wider_members}, questions on, asking weekly and none due. CPU is each server \
         process's user and system time (`/proc/<pid>/stat`, all threads) over the window; memory its resident set \
         at the end (`/proc/<pid>/status`), and a workspace's share of it the difference between the two fleets \
         over the workspaces between them, for what the process allocates (anonymous) and for its whole resident \
         set.\n\n{table}",
        name = database.name(),
        machine = machine.line(),
        window = window.as_secs(),
        settle = IDLE_SETTLE.as_secs(),
        workspaces = fleet.workspaces,
        members = fleet.members_each,
        wider = idle::Figures::wider_of(fleet).workspaces,
        wider_members = idle::Figures::wider_of(fleet).members_each,
    );
    report::write_block(&cli.out, &format!("idle/{}", database.slug()), &body)
}

/// B3's round on `database`: `fleet`, every member due at once, delivered against Slack's
/// `limits`, waiting up to `wait`.
async fn round_bench(
    cli: &Cli,
    machine: &report::Machine,
    database: Database,
    fleet: fleet::Fleet,
    limits: round::slack::Limits,
    wait: Duration,
) -> anyhow::Result<()> {
    println!(
        "==> B3 round on {}: {} workspaces of {} members, Slack allowing {} posts a minute in each",
        database.name(),
        fleet.workspaces,
        fleet.members_each,
        limits.posts_per_minute
    );
    let url = fresh_database(cli, database, "round").await?;
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let started = Instant::now();
    let now = app::server::now_ms();
    fleet::create(&db, fleet, fleet::Asking::now_in_utc(now), now).await?;
    settle(&db, database).await?;
    println!("    made in {:.0} s; the round begins", started.elapsed().as_secs_f64());
    let figures = round::measure(&cli.server, &url, &db, SERVER_ADDR, fleet, limits, wait).await;
    db.close().await;
    let figures = figures?;
    let table = round::table(&figures);
    println!("{table}");
    let body = format!(
        "### B3 round on {name}\n\n{machine}\nA hosted server started on {workspaces} installed workspaces of \
         {members} members each, every member due a question (all in UTC, the slot in the minute the fleet was \
         made); its Slack is the benchmark's (`bench/src/round/slack.rs`), which plays every workspace and \
         allows {posts} posts a minute in each and one a second in each channel. Timed from the server's being \
         ready to the last member's question reaching Slack.\n\n{table}",
        name = database.name(),
        machine = machine.line(),
        workspaces = fleet.workspaces,
        members = fleet.members_each,
        posts = limits.posts_per_minute,
    );
    report::write_block(&cli.out, &format!("round/{}", database.slug()), &body)
}

/// How long an idle server runs before it is measured: start-up and its first passes.
const IDLE_SETTLE: Duration = Duration::from_secs(15);

/// A fresh database `name` for an idle server, empty or holding `fleet`, and its URL.
async fn idle_database(
    cli: &Cli,
    database: Database,
    name: &str,
    fleet: Option<fleet::Fleet>,
) -> anyhow::Result<String> {
    let url = fresh_database(cli, database, name).await?;
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    if let Some(fleet) = fleet {
        let started = Instant::now();
        let now = app::server::now_ms();
        fleet::create(&db, fleet, fleet::Asking::in_three_days(now), now).await?;
        settle(&db, database).await?;
        println!("    {} workspaces made in {:.0} s", fleet.workspaces, started.elapsed().as_secs_f64());
    }
    db.close().await;
    Ok(url)
}

/// How long the sustained run waits for the backlog to drain once its load has stopped: four
/// times the 5 s aim, so a backlog that misses it still shows how far it got.
const INGEST_DRAIN_LIMIT: Duration = Duration::from_secs(20);

/// A fresh database for B1 and the release server on it.
async fn ingest_server(cli: &Cli, database: Database) -> anyhow::Result<(server::Server, Db)> {
    let url = fresh_database(cli, database, "ingest").await?;
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let server = server::Server::start(&cli.server, &url, SERVER_ADDR).await?;
    Ok((server, db))
}

/// A new, empty database for benchmark `name` on `database`, and its URL.
async fn fresh_database(cli: &Cli, database: Database, name: &str) -> anyhow::Result<String> {
    match database {
        Database::Sqlite => {
            let dir = Path::new(WORK_DIR);
            std::fs::create_dir_all(dir)?;
            for suffix in ["", "-wal", "-shm"] {
                let file = dir.join(format!("{name}.db{suffix}"));
                if file.exists() {
                    std::fs::remove_file(&file).with_context(|| format!("removing {}", file.display()))?;
                }
            }
            Ok(format!("sqlite://{WORK_DIR}/{name}.db"))
        }
        Database::Postgres => {
            let admin = Db::connect(&cli.postgres_url).await.context("connecting to PostgreSQL")?;
            let database_name = format!("rapport_bench_{name}");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {database_name} WITH (FORCE)")).execute(admin.pool()).await?;
            sqlx::query(&format!("CREATE DATABASE {database_name}")).execute(admin.pool()).await?;
            let base = cli.postgres_url.rsplit_once('/').map_or(cli.postgres_url.as_str(), |(base, _)| base);
            Ok(format!("{base}/{database_name}"))
        }
    }
}
