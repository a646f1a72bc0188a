//! The soak's report (`SOAK.md` by default): what ran where, each check's verdict with its
//! numbers, what the load did and what the server did meanwhile.

use std::{fmt::Write as _, time::Duration};

use app::server::slack::blocks::ACTION_SKIP;

use super::{
    checks::{Check, Evidence},
    memory::Judged,
    record::{AnswerWay, Failure},
    rounds,
    server_log::{LogSummary, Message},
};
use crate::report::Machine;

/// How the run went, besides the evidence: its settings and its timings.
pub struct Run<'a> {
    pub machine: &'a Machine,
    pub minutes: u64,
    pub time_scale: u32,
    pub database: &'a str,
    pub server_log: &'a str,
    /// When the restart began, from the start of the load.
    pub restart_at: Duration,
    /// From the stop signal until the restarted server was ready.
    pub down_for: Duration,
}

/// The report in Markdown.
pub fn render(run: &Run<'_>, evidence: &Evidence, checks: &[Check]) -> String {
    let mut out = String::new();
    header(&mut out, run, checks);
    verdicts(&mut out, checks);
    did(&mut out, run, evidence);
    saw(&mut out, run, evidence);
    failures(&mut out, evidence);
    out
}

fn header(out: &mut String, run: &Run<'_>, checks: &[Check]) {
    let day_minutes = 24.0 * 60.0 / f64::from(run.time_scale);
    let failed = checks.iter().filter(|check| !check.passed).count();
    let verdict = if failed == 0 {
        "**Passed**: every check below held.".to_owned()
    } else {
        format!("**Failed**: {failed} of {} checks below did not hold.", checks.len())
    };
    let _ = writeln!(out, "# Soak test\n");
    let _ = writeln!(out, "Written by `make soak` (`rapport-bench soak`); each run replaces it.\n");
    let _ = writeln!(out, "{}\n", run.machine.line());
    let _ = writeln!(
        out,
        "The release server on SQLite (`{}`), with no Slack configured, so the Slack emulator stands in (in a \
         process of its own, `rapport emulator`, so the server's memory is Rapport's alone) and the demo team is \
         seeded; `RAPPORT_TIME_SCALE={}` (a day of the product's clock every {day_minutes:.1} minutes). The server \
         runs on core 0, the load and the emulator on core 1: {} minutes of signed Slack events, slash commands, button \
         presses and modal answers, page views and searches by a signed-in member and admin, while the server's \
         scheduler sends rounds of questions through the emulator. Half-way ({:.1} min) the server was stopped with \
         SIGTERM and started again on the same database while the load went on. Its log: `{}`.\n",
        run.database,
        run.time_scale,
        run.minutes,
        run.restart_at.as_secs_f64() / 60.0,
        run.server_log,
    );
    let _ = writeln!(out, "{verdict}\n");
}

fn verdicts(out: &mut String, checks: &[Check]) {
    let _ = writeln!(out, "## Checks\n\n| check | verdict | what was seen |\n|---|---|---|");
    for check in checks {
        let verdict = if check.passed { "passed" } else { "**failed**" };
        let _ = writeln!(out, "| {} | {verdict} | {} |", check.name, cell(&check.details));
    }
    let _ = writeln!(out);
}

fn did(out: &mut String, run: &Run<'_>, evidence: &Evidence) {
    let records = &evidence.records;
    let tally = &records.tally;
    let _ = writeln!(out, "## What the load did\n\n| request | sent | outcomes |\n|---|---:|---|");
    for (kind, outcomes) in &tally.by_kind {
        let sent: u64 = outcomes.values().sum();
        let shown: Vec<String> =
            outcomes.iter().map(|(outcome, count)| format!("{}: {count}", outcome.label())).collect();
        let _ = writeln!(out, "| {kind} | {sent} | {} |", shown.join(", "));
    }
    let _ = writeln!(out, "| **all** | **{}** | |\n", tally.total());
    let gap: Vec<String> = tally.during_restart.iter().map(|(kind, count)| format!("{kind}: {count}")).collect();
    let _ = writeln!(
        out,
        "The restart: stopped in {:.1} s, answering again {:.1} s after the signal; {} requests refused or \
         unanswered meanwhile ({}).\n",
        evidence.stops[0].took.as_secs_f64(),
        run.down_for.as_secs_f64(),
        tally.total_during_restart(),
        if gap.is_empty() { "none".to_owned() } else { gap.join(", ") },
    );
    let in_dm = records.answers.iter().filter(|answer| answer.way == AnswerWay::DirectMessage).count();
    let skips = records.presses.iter().filter(|press| press.action == ACTION_SKIP).count();
    let _ = writeln!(
        out,
        "{} answers given ({in_dm} in the DM, the rest in the modal); Skip pressed {skips} times and Another \
         question {} times; {} Slack deliveries repeated with the same event id; {} steps of load skipped because \
         the soak's own database read failed.\n",
        records.answers.len(),
        records.presses.len() - skips,
        records.redeliveries,
        records.driver_errors,
    );
}

fn saw(out: &mut String, run: &Run<'_>, evidence: &Evidence) {
    let questions = rounds::count(&evidence.prompts, &evidence.at_restart);
    let _ = writeln!(out, "## What the server did\n\n### Questions\n");
    let _ = writeln!(out, "| half | planned by rounds | round days | asked on demand |\n|---|---:|---:|---:|");
    for (half, counts) in questions.halves.iter().enumerate() {
        let _ =
            writeln!(out, "| {} | {} | {} | {} |", half + 1, counts.scheduled, counts.round_dates, counts.on_demand);
    }
    let statuses: Vec<String> = questions.by_status.iter().map(|(status, count)| format!("{status} {count}")).collect();
    let _ = writeln!(out, "\nHow the soak's questions ended: {}.\n", statuses.join(", "));
    if run.time_scale > 1 && questions.halves[1].scheduled == 0 {
        // A restarted fast clock resumes from the database's latest time; if it did not,
        // the second half would plan no round.
        let _ = writeln!(out, "No round was planned in the second half: did the clock go back at the restart?\n");
    }
    let drained = &evidence.drained;
    let _ = writeln!(
        out,
        "When the load stopped, {} Slack events were waiting in the inbox; {} were left after {:.1} s of waiting \
         for them.\n",
        drained.waiting,
        drained.left,
        drained.took.as_secs_f64(),
    );
    let posted = &evidence.posted;
    let _ = writeln!(
        out,
        "The emulator (its own process, running through both halves) received {} and {} DM messages in the \
         first and second half, {} and {} of them questions.\n",
        posted[0].messages,
        posted[1].messages,
        posted[0].per_prompt.values().sum::<usize>(),
        posted[1].per_prompt.values().sum::<usize>(),
    );
    memory(out, &evidence.memory);
    log(out, &evidence.log);
}

fn memory(out: &mut String, judged: &[Judged; 2]) {
    let _ = writeln!(
        out,
        "### Resident memory\n\nRead every 5 s; each half is judged after a warm-up (see `bench/src/soak/memory.rs`).\n\n\
         | half | readings | min | max | after warm-up | at the end | growth |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for half in judged {
        let mib = |value: Option<f64>| value.map_or("–".to_owned(), |v| format!("{v:.1} MiB"));
        let growth = half.growth_percent().map_or("–".to_owned(), |g| format!("{g:+.1}%"));
        let (min, max) = if half.samples == 0 { (None, None) } else { (Some(half.min_mib), Some(half.max_mib)) };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {growth} |",
            half.half,
            half.samples,
            mib(min),
            mib(max),
            mib(half.early_mib),
            mib(half.late_mib),
        );
    }
    let _ = writeln!(out);
    for half in judged {
        let means: Vec<String> = half.minute_means_mib.iter().map(|mib| format!("{mib:.1}")).collect();
        let _ = writeln!(out, "Half {}, the mean of each minute: {} MiB.\n", half.half, means.join(", "));
    }
}

fn log(out: &mut String, log: &LogSummary) {
    let _ = writeln!(
        out,
        "### Server log\n\n{} lines: {} ERROR, {} WARN, {} not JSON (stderr).\n",
        log.lines, log.errors, log.warnings, log.other_lines
    );
    for (level, messages) in [("ERROR", &log.top_errors), ("WARN", &log.top_warnings)] {
        if messages.is_empty() {
            continue;
        }
        let _ = writeln!(out, "| {level} | times | first line |\n|---|---:|---|");
        for Message { text, count, example } in messages {
            let _ = writeln!(out, "| {} | {count} | `{}` |", cell(text), cell(example).replace('`', "'"));
        }
        let _ = writeln!(out);
    }
}

fn failures(out: &mut String, evidence: &Evidence) {
    let mut examples = String::new();
    let tally = &evidence.records.tally;
    let lists: [(&str, &[Failure]); 2] = [
        ("Server errors (5xx)", &tally.server_error_examples),
        ("Refused or unanswered while the server was up", &tally.failed_while_up_examples),
    ];
    for (title, failed) in lists.into_iter().filter(|(_, failed)| !failed.is_empty()) {
        let _ = writeln!(examples, "### {title}\n\n| request | path | outcome | body |\n|---|---|---|---|");
        for failure in failed {
            let (kind, path, outcome) = (failure.kind, &failure.path, failure.outcome.label());
            let _ = writeln!(examples, "| {kind} | `{path}` | {outcome} | {} |", cell(&failure.excerpt));
        }
        let _ = writeln!(examples);
    }
    if !evidence.records.driver_error_examples.is_empty() {
        let _ = writeln!(examples, "### The soak's own errors\n");
        for error in &evidence.records.driver_error_examples {
            let _ = writeln!(examples, "- {}", cell(error));
        }
        let _ = writeln!(examples);
    }
    if !evidence.log.other_examples.is_empty() {
        let _ = writeln!(examples, "### Server output that is not a log line\n\n```");
        for line in &evidence.log.other_examples {
            let _ = writeln!(examples, "{line}");
        }
        let _ = writeln!(examples, "```\n");
    }
    if !examples.is_empty() {
        let _ = writeln!(out, "## The first few of what went wrong\n\n{examples}");
    }
}

/// Text for a table cell: one line, no column breaks.
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_stays_one_cell_on_one_line() {
        assert_eq!(cell("a | b\nc"), "a \\| b c");
    }
}
