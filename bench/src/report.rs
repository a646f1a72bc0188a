//! Writing figures into `BENCHMARKS.md`: each benchmark owns one block of the file, between
//! two marker lines, and replaces only that block when it runs again, stamped with the
//! commit, the date and the machine it ran on.

use std::{fs, io::Write as _, path::Path, process::Command, time::Instant};

use anyhow::Context as _;

/// The facts that make a figure comparable: where and on what it was measured.
#[derive(Debug, Clone)]
pub struct Machine {
    pub commit: String,
    pub date: String,
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: u64,
    /// `fdatasync` calls a second on a 4 KiB write, in the directory the databases live in.
    pub syncs_per_second: u64,
}

/// Every core of the machine, not only those this process may run on: `make bench` runs
/// the benchmarks under `taskset -c 1`, where `std::thread::available_parallelism` says 1.
pub fn machine_cores() -> usize {
    processors(&fs::read_to_string("/proc/cpuinfo").unwrap_or_default())
}

/// The processors `/proc/cpuinfo`'s text lists; at least one.
fn processors(cpuinfo: &str) -> usize {
    cpuinfo.lines().filter(|line| line.starts_with("processor")).count().max(1)
}

impl Machine {
    /// Reads this machine's facts; `data_dir` is where the sync rate is measured.
    pub fn read(data_dir: &Path) -> anyhow::Result<Machine> {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name")?.split_once(':').map(|(_, name)| name.trim().to_owned()))
            .unwrap_or_else(|| "unknown".to_owned());
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: u64 = meminfo
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:")?.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        Ok(Machine {
            commit: commit(),
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            cpu,
            cores: processors(&cpuinfo),
            memory_gib: memory_kib.div_ceil(1024 * 1024),
            syncs_per_second: syncs_per_second(data_dir)?,
        })
    }

    /// One line for under a block's heading.
    pub fn line(&self) -> String {
        format!(
            "Commit `{}`, {}; {} cores ({}), {} GiB; disk: {} fdatasync/s.",
            self.commit, self.date, self.cores, self.cpu, self.memory_gib, self.syncs_per_second
        )
    }
}

/// The short commit id, marked `+changes` when the work tree differs from it.
fn commit() -> String {
    let run = |args: &[&str]| {
        Command::new("git").args(args).output().ok().map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let id = run(&["rev-parse", "--short", "HEAD"]).filter(|id| !id.is_empty()).unwrap_or_else(|| "unknown".into());
    let dirty = run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|changes| !changes.is_empty());
    if dirty { format!("{id}+changes") } else { id }
}

/// Rounds the disk's sync rate is measured over at least, besides one second: a single sync
/// that stalls for over a second (seen once on a virtual disk, in `make test`) must not make
/// the rate read as none.
const SYNC_ROUNDS_AT_LEAST: u64 = 10;

/// How many 4 KiB write + `fdatasync` rounds a second `dir` allows, over at least one second
/// and [`SYNC_ROUNDS_AT_LEAST`] rounds: what a commit that waits for the disk costs here.
fn syncs_per_second(dir: &Path) -> anyhow::Result<u64> {
    fs::create_dir_all(dir)?;
    let path = dir.join("sync-probe");
    let mut file = fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let block = [0_u8; 4096];
    let started = Instant::now();
    let mut rounds = 0_u64;
    while rounds < SYNC_ROUNDS_AT_LEAST || started.elapsed().as_secs_f64() < 1.0 {
        file.write_all(&block)?;
        file.sync_data()?;
        rounds += 1;
    }
    let rate = (rounds as f64 / started.elapsed().as_secs_f64()).round() as u64;
    drop(file);
    fs::remove_file(&path)?;
    Ok(rate)
}

/// Puts `body` into `file` as the block `name`: in place of the block's earlier figures, or
/// at the end the first time. The rest of the file is kept as written.
pub fn write_block(file: &Path, name: &str, body: &str) -> anyhow::Result<()> {
    let text = fs::read_to_string(file).unwrap_or_default();
    let updated = replace_block(&text, name, body);
    fs::write(file, updated).with_context(|| format!("writing {}", file.display()))
}

/// A figure's verdict beside its aim: met, or not met in bold.
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**not met**" }
}

/// Rows of (figure, measured, target, verdict) as a Markdown table.
pub fn figures_table(rows: impl IntoIterator<Item = (String, String, String, &'static str)>) -> String {
    let mut lines = vec!["| figure | measured | target | |".to_owned(), "|---|---|---|---|".to_owned()];
    lines.extend(
        rows.into_iter().map(|(figure, measured, target, met)| format!("| {figure} | {measured} | {target} | {met} |")),
    );
    lines.join("\n")
}

fn replace_block(text: &str, name: &str, body: &str) -> String {
    let (begin, end) = (format!("<!-- begin {name} -->"), format!("<!-- end {name} -->"));
    let block = format!("{begin}\n{}\n{end}", body.trim_end());
    match (text.find(&begin), text.find(&end)) {
        (Some(start), Some(stop)) if stop > start => {
            format!("{}{block}{}", &text[..start], &text[stop + end.len()..])
        }
        _ if text.is_empty() => format!("{block}\n"),
        _ => format!("{}\n\n{block}\n", text.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_s_cores_are_counted_from_its_list_of_processors() {
        let two = "processor\t: 0\nmodel name\t: A CPU\n\nprocessor\t: 1\nmodel name\t: A CPU\n";

        assert_eq!(processors(two), 2);
        assert_eq!(processors(""), 1);
    }

    #[test]
    fn a_block_is_added_once_and_then_replaced_in_place() {
        let first = replace_block("# Benchmarks\n\nIntro.\n", "search/sqlite", "p99 9 ms");
        assert_eq!(
            first,
            "# Benchmarks\n\nIntro.\n\n<!-- begin search/sqlite -->\np99 9 ms\n<!-- end search/sqlite -->\n"
        );
        let with_other = replace_block(&first, "search/postgres", "p99 7 ms");
        let again = replace_block(&with_other, "search/sqlite", "p99 8 ms\n");
        assert!(again.contains("<!-- begin search/sqlite -->\np99 8 ms\n<!-- end search/sqlite -->"), "{again}");
        assert!(!again.contains("9 ms"));
        assert!(again.contains("p99 7 ms"));
        assert!(again.find("search/sqlite") < again.find("search/postgres"), "the block stays where it was");
    }

    #[test]
    fn figures_are_a_markdown_table_with_their_verdicts() {
        let rows = [("B9".to_owned(), "3 s".to_owned(), "<= 2 s".to_owned(), verdict(false))];
        assert_eq!(
            figures_table(rows),
            "| figure | measured | target | |\n|---|---|---|---|\n| B9 | 3 s | <= 2 s | **not met** |"
        );
    }

    #[test]
    fn the_sync_rate_is_measured_in_the_given_directory() {
        let dir = std::env::temp_dir().join(format!("rapport-bench-sync-{}", std::process::id()));
        assert!(syncs_per_second(&dir).unwrap() > 0);
        assert!(!dir.join("sync-probe").exists());
        fs::remove_dir_all(dir).unwrap();
    }
}
