//! B3's idle figure and B4 (issue 13): a hosted server holding many installed workspaces
//! with questions on and nothing due, left alone. What it costs then is what every hosted
//! install pays all day between rounds: the CPU its background work takes (B3: under 2% of
//! a core) and its resident memory (B4: at most 40 MB, and at most 1 KB for each installed
//! workspace beyond that, read as the slope between the fleet and one of ten times as many
//! workspaces holding the same members, a tenth as many each).
//!
//! The fleet (`fleet::create`) asks weekly three days from today
//! (`fleet::Asking::in_three_days`): the server has nothing to plan and nothing to send.

use std::time::{Duration, Instant};

use app::server::db::Db;

use crate::{
    fleet::Fleet,
    process,
    report::{self, verdict},
};

/// The aims from the issue.
pub const CPU_AIM_PERCENT: f64 = 2.0;
pub const MEMORY_AIM_MB: f64 = 40.0;
pub const PER_WORKSPACE_AIM_BYTES: f64 = 1_000.0;
/// How far apart two memory readings of the same idle server on the same data were seen
/// (KiB): the program's code pages, mapped from its file as they run, differ by about a
/// megabyte between two starts, and the allocated memory by up to half that.
const READING_SPREAD_KIB: f64 = 1_024.0;
/// What a fleet's members a workspace must be a multiple of (at least one such).
///
/// The wider fleet gives each of its workspaces a tenth of them, and must hold the same members.
pub const MEMBERS_MULTIPLE: usize = 10;
/// How long a server may take to plan every workspace of its fleet once, at start.
const FIRST_PLANNING_LIMIT: Duration = Duration::from_secs(180);

/// What one idle server cost over a window.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    /// Share of one core its process used over the window, in percent.
    pub cpu_percent: f64,
    pub window: Duration,
    /// Resident memory at the end of the window.
    pub rss_kib: u64,
    /// The anonymous part of it (the heap and stacks; the rest is the program's own code
    /// and libraries, read from their files).
    pub anon_kib: u64,
}

/// Waits `settle` (start-up work, the first planning passes), then reads the CPU time
/// process `pid` uses over `window` and its resident memory at the end.
pub async fn read(pid: u32, settle: Duration, window: Duration) -> anyhow::Result<Reading> {
    tokio::time::sleep(settle).await;
    let ticks_per_second = process::clock_ticks_per_second().await;
    let before = process::cpu_ticks(pid)?;
    let started = Instant::now();
    tokio::time::sleep(window).await;
    let used = process::cpu_ticks(pid)? - before;
    let window = started.elapsed();
    let cpu_percent = used as f64 / ticks_per_second as f64 / window.as_secs_f64() * 100.0;
    let [rss_kib, anon_kib] = process::memory_kib(pid, ["VmRSS", "RssAnon"])?;
    Ok(Reading { cpu_percent, window, rss_kib, anon_kib })
}

/// Waits until the server on `url` has planned each workspace of its fleet once (none is
/// left without its next planning time), so the window reads the server idle, not its
/// first pass over ten thousand workspaces.
pub async fn wait_for_first_planning(url: &str) -> anyhow::Result<()> {
    let db = Db::connect(url).await?;
    let started = Instant::now();
    let result = loop {
        let (unplanned,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM workspaces WHERE plan_after IS NULL").fetch_one(db.pool()).await?;
        if unplanned == 0 {
            break Ok(());
        }
        if started.elapsed() > FIRST_PLANNING_LIMIT {
            break Err(anyhow::anyhow!(
                "{unplanned} workspaces were still unplanned {} s after the idle server started",
                FIRST_PLANNING_LIMIT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    db.close().await;
    result
}

/// The figures of one database: an empty server, one with the fleet, and one with the
/// wider fleet ([`Figures::wider_of`]).
pub struct Figures {
    pub fleet: Fleet,
    pub empty: Reading,
    pub full: Reading,
    pub wider: Reading,
}

impl Figures {
    /// The same members in ten times as many workspaces, a tenth of them each.
    ///
    /// What the two fleets' servers differ by is then workspaces alone.
    pub fn wider_of(fleet: Fleet) -> Fleet {
        Fleet { workspaces: fleet.workspaces * 10, members_each: fleet.members_each / MEMBERS_MULTIPLE }
    }

    /// Resident memory for each installed workspace: what the wider fleet's more cost, each.
    ///
    /// Measured between two fleets, not from the empty server, because the first workspaces
    /// bring a cost of their own once, whatever their number (the code that plans a round
    /// and the statements it prepares, SQLite's caches filling): 1 to 4 MB, the same at
    /// 100 workspaces as at 1,000 (BENCHMARKS.md, B4).
    pub fn bytes_per_workspace(&self) -> f64 {
        self.slope(|reading| reading.rss_kib)
    }

    /// The anonymous part of [`Figures::bytes_per_workspace`]: what the process allocates.
    /// The rest is mapped from files (the program's code and libraries, SQLite's shared
    /// memory); it differs by about a megabyte between two starts of the same server on the
    /// same data (seen here: a server with 100 workspaces 0.4 MB below the empty one), about
    /// 117 bytes a workspace over the 9,000 more of the wider fleet, so the table shows both
    /// and judges them against that spread ([`Figures::per_workspace_verdict`]).
    pub fn anon_bytes_per_workspace(&self) -> f64 {
        self.slope(|reading| reading.anon_kib)
    }

    /// Resident memory beyond the empty server's with the fleet, for each workspace: the
    /// one-time cost of the first workspaces spread over all of them.
    pub fn bytes_beyond_empty(&self) -> f64 {
        (self.full.rss_kib as f64 - self.empty.rss_kib as f64) * 1024.0 / self.fleet.workspaces.max(1) as f64
    }

    /// How finely the slopes resolve a workspace's cost: two readings of the same server on
    /// the same data were seen about a megabyte apart ([`READING_SPREAD_KIB`]), spread over
    /// the workspaces between the two fleets.
    pub fn resolution_bytes(&self) -> f64 {
        READING_SPREAD_KIB * 1024.0 / self.more_workspaces() as f64
    }

    /// Met when both slopes are within the aim by more than the resolution, not met when
    /// either is past it by more, and otherwise not resolved by this measurement.
    pub fn per_workspace_verdict(&self) -> &'static str {
        let resolution = self.resolution_bytes();
        let slopes = [self.anon_bytes_per_workspace(), self.bytes_per_workspace()];
        if slopes.iter().any(|slope| slope - resolution > PER_WORKSPACE_AIM_BYTES) {
            "**not met**"
        } else if slopes.iter().all(|slope| slope + resolution <= PER_WORKSPACE_AIM_BYTES) {
            "met"
        } else {
            "not resolved (the ± is more than the aim)"
        }
    }

    fn more_workspaces(&self) -> usize {
        Figures::wider_of(self.fleet).workspaces.saturating_sub(self.fleet.workspaces).max(1)
    }

    fn slope(&self, kib: impl Fn(&Reading) -> u64) -> f64 {
        (kib(&self.wider) as f64 - kib(&self.full) as f64) * 1024.0 / self.more_workspaces() as f64
    }
}

/// The figures as a Markdown table, each beside its aim.
pub fn table(figures: &Figures) -> String {
    let mb = |kib: u64| kib as f64 * 1024.0 / 1_000_000.0;
    let Fleet { workspaces, members_each } = figures.fleet;
    let wider = Figures::wider_of(figures.fleet);
    let rows = [
        (
            format!("CPU, {workspaces} workspaces installed, nothing due"),
            format!("{:.2}% of a core over {:.0} s", figures.full.cpu_percent, figures.full.window.as_secs_f64()),
            format!("< {CPU_AIM_PERCENT}%"),
            verdict(figures.full.cpu_percent < CPU_AIM_PERCENT),
        ),
        (
            format!("CPU, {} workspaces installed, nothing due", wider.workspaces),
            format!("{:.2}% of a core over {:.0} s", figures.wider.cpu_percent, figures.wider.window.as_secs_f64()),
            String::new(),
            "",
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
            format!("{:.1} MB ({:.1} MB anonymous)", mb(figures.full.rss_kib), mb(figures.full.anon_kib)),
            String::new(),
            "",
        ),
        (
            format!("resident memory, {} workspaces of {} members", wider.workspaces, wider.members_each),
            format!("{:.1} MB ({:.1} MB anonymous)", mb(figures.wider.rss_kib), mb(figures.wider.anon_kib)),
            String::new(),
            "",
        ),
        (
            "memory for each installed workspace (between the two fleets): allocated (anonymous), and all resident"
                .to_owned(),
            format!(
                "{:.0} bytes, {:.0} bytes, each ± {:.0}",
                figures.anon_bytes_per_workspace(),
                figures.bytes_per_workspace(),
                figures.resolution_bytes()
            ),
            format!("<= {PER_WORKSPACE_AIM_BYTES:.0} bytes"),
            figures.per_workspace_verdict(),
        ),
        (
            format!("memory beyond the empty server's with {workspaces} workspaces, each"),
            format!("{:.0} bytes (the first workspaces' one-time cost included)", figures.bytes_beyond_empty()),
            String::new(),
            "",
        ),
    ];
    report::figures_table(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(rss_kib: u64, anon_kib: u64) -> Reading {
        Reading { cpu_percent: 0.0, window: Duration::ZERO, rss_kib, anon_kib }
    }

    #[test]
    fn the_cost_of_a_workspace_is_the_slope_to_the_same_members_in_ten_times_the_workspaces() {
        let figures = Figures {
            fleet: Fleet { workspaces: 1_000, members_each: 100 },
            empty: reading(30_000, 7_000),
            full: reading(34_000, 10_000),
            wider: reading(43_000, 14_500),
        };
        let wider = Figures::wider_of(figures.fleet);
        assert_eq!((wider.workspaces, wider.members()), (10_000, 100_000));
        // 9,000 KiB over 9,000 more workspaces; the 4 MiB the first ones brought is not counted.
        assert_eq!(figures.bytes_per_workspace(), 1_024.0);
        assert_eq!(figures.anon_bytes_per_workspace(), 512.0);
    }

    #[test]
    fn a_slope_within_the_readings_spread_of_the_aim_is_not_resolved() {
        let figures = |workspaces, full: Reading, wider: Reading| Figures {
            fleet: Fleet { workspaces, members_each: 100 },
            empty: reading(30_000, 7_000),
            full,
            wider,
        };
        // Over 900 more workspaces a megabyte of spread is about 1,165 bytes each: more than the aim.
        let small = figures(100, reading(34_000, 10_000), reading(34_100, 10_000));
        assert_eq!(small.resolution_bytes().round(), 1_165.0);
        assert!(small.per_workspace_verdict().starts_with("not resolved"));
        let past = figures(100, reading(34_000, 10_000), reading(36_500, 10_000));
        assert_eq!(past.per_workspace_verdict(), "**not met**");
        // Over 9,000 it resolves a tenth of that.
        let many = figures(1_000, reading(34_000, 10_000), reading(41_000, 13_000));
        assert_eq!(many.resolution_bytes().round(), 117.0);
        assert_eq!(many.per_workspace_verdict(), "met");
    }
}
