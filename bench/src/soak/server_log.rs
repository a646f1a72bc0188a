//! The server's log over the run (both starts, `RAPPORT_LOG_FORMAT=json`): its warnings and
//! errors counted, by message. Lines that are not JSON came from stderr (a panic, a failed
//! start); they are kept as they are, and a panic counts as an error.

use std::{collections::BTreeMap, path::Path};

use anyhow::Context as _;
use serde_json::Value;

/// Distinct messages listed for each level, most frequent first.
const LISTED: usize = 5;
/// Characters kept of an example line.
const EXAMPLE_CHARS: usize = 400;

/// How often one message was logged, with its first line as an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub count: usize,
    pub example: String,
}

/// The log, summed up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSummary {
    pub lines: usize,
    pub warnings: usize,
    pub errors: usize,
    /// The most frequent warning and error messages.
    pub top_warnings: Vec<Message>,
    pub top_errors: Vec<Message>,
    /// Lines that are not JSON (stderr), the first few of them.
    pub other_lines: usize,
    pub other_examples: Vec<String>,
}

/// Reads and sums up the log at `path`.
pub fn read(path: &Path) -> anyhow::Result<LogSummary> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the server log {}", path.display()))?;
    Ok(summarise(&text))
}

fn summarise(text: &str) -> LogSummary {
    let mut summary = LogSummary::default();
    let mut warnings: BTreeMap<String, Message> = BTreeMap::new();
    let mut errors: BTreeMap<String, Message> = BTreeMap::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        summary.lines += 1;
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            summary.other_lines += 1;
            if summary.other_examples.len() < LISTED {
                summary.other_examples.push(line.chars().take(EXAMPLE_CHARS).collect());
            }
            if line.contains("panicked") {
                summary.errors += 1;
                count(&mut errors, "a panic (see the log)", line);
            }
            continue;
        };
        // `flatten_event` puts the message at the top; unflattened it sits under `fields`.
        let message =
            entry["message"].as_str().or_else(|| entry["fields"]["message"].as_str()).unwrap_or("(no message)");
        match entry["level"].as_str() {
            Some("WARN") => {
                summary.warnings += 1;
                count(&mut warnings, message, line);
            }
            Some("ERROR") => {
                summary.errors += 1;
                count(&mut errors, message, line);
            }
            _ => {}
        }
    }
    summary.top_warnings = most_frequent(warnings);
    summary.top_errors = most_frequent(errors);
    summary
}

fn count(messages: &mut BTreeMap<String, Message>, text: &str, line: &str) {
    messages
        .entry(text.to_owned())
        .or_insert_with(|| Message {
            text: text.to_owned(),
            count: 0,
            example: line.chars().take(EXAMPLE_CHARS).collect(),
        })
        .count += 1;
}

fn most_frequent(messages: BTreeMap<String, Message>) -> Vec<Message> {
    let mut listed: Vec<Message> = messages.into_values().collect();
    // Stable, so equal counts stay in the messages' alphabetical order.
    listed.sort_by_key(|message| std::cmp::Reverse(message.count));
    listed.truncate(LISTED);
    listed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_and_errors_are_counted_by_message_and_stderr_apart() {
        let log = [
            r#"{"timestamp":"t","level":"INFO","message":"Rapport is listening"}"#,
            r#"{"timestamp":"t","level":"WARN","message":"refused a cross-site request","path":"/api/x"}"#,
            r#"{"timestamp":"t","level":"WARN","message":"refused a cross-site request","path":"/api/y"}"#,
            r#"{"timestamp":"t","level":"WARN","message":"a periodic job failed"}"#,
            r#"{"timestamp":"t","level":"ERROR","message":"could not record a Slack event"}"#,
            "thread 'tokio-runtime-worker' panicked at app/src/x.rs:1:1:",
            "",
        ]
        .join("\n");

        let summary = summarise(&log);

        assert_eq!((summary.lines, summary.warnings, summary.errors, summary.other_lines), (6, 3, 2, 1));
        assert_eq!(summary.top_warnings[0].text, "refused a cross-site request");
        assert_eq!(summary.top_warnings[0].count, 2);
        assert!(summary.top_warnings[0].example.contains("/api/x"), "the first line is the example");
        let errors: Vec<&str> = summary.top_errors.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(errors, ["a panic (see the log)", "could not record a Slack event"]);
    }
}
