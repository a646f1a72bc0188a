//! What Linux says about the server's process, from `/proc/<pid>`: the CPU time it used
//! (`stat`) and its memory (`status`). Read by the idle benchmark, the round and the soak.

use anyhow::Context as _;

/// User and system CPU time of process `pid` and all its threads, in clock ticks.
pub fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
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
pub async fn clock_ticks_per_second() -> u64 {
    let asked = tokio::process::Command::new("getconf").arg("CLK_TCK").output().await;
    asked.ok().and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok()).unwrap_or(100)
}

/// The memory fields `fields` of process `pid` (`VmRSS`, `RssAnon`, `VmHWM`, ...), in KiB.
pub fn memory_kib<const N: usize>(pid: u32, fields: [&str; N]) -> anyhow::Result<[u64; N]> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let mut values = [0; N];
    for (value, field) in values.iter_mut().zip(fields) {
        *value = status_kib(&status, field).with_context(|| format!("no {field} in /proc/{pid}/status"))?;
    }
    Ok(values)
}

/// The resident memory of process `pid` in KiB (`VmRSS`), if it can be read.
pub fn resident_kib(pid: u32) -> Option<u64> {
    memory_kib(pid, ["VmRSS"]).ok().map(|[rss]| rss)
}

/// A `/proc/<pid>/status` field given in kB (`VmRSS:  1234 kB`).
fn status_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?;
    line.trim().trim_end_matches("kB").trim().parse().ok()
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
    fn memory_is_read_from_the_status_fields_in_kib() {
        let status = "Name:\trapport\nVmRSS:\t   38224 kB\nRssAnon:\t   10896 kB\nRssFile:\t   27328 kB\n";
        assert_eq!(status_kib(status, "VmRSS"), Some(38_224));
        assert_eq!(status_kib(status, "RssAnon"), Some(10_896));
        assert_eq!(status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn vm_rss_is_read_in_kib() {
        let status = "Name:\trapport\nVmPeak:\t  900000 kB\nVmRSS:\t   61440 kB\nThreads:\t9\n";
        assert_eq!(status_kib(status, "VmRSS"), Some(61_440));
        assert_eq!(status_kib("Name:\trapport\n", "VmRSS"), None);
    }

    #[test]
    fn this_process_s_own_memory_and_cpu_time_can_be_read() {
        let pid = std::process::id();
        let [rss, peak] = memory_kib(pid, ["VmRSS", "VmHWM"]).unwrap();
        assert!(rss > 0 && peak >= rss, "{rss} {peak}");
        assert!(memory_kib(pid, ["NoSuchField"]).is_err());
        assert!(cpu_ticks(pid).is_ok());
    }
}
