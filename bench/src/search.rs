//! Search and insights at scale (issue 11): a team of 10,000 members and 200,000 answers,
//! searched as people type and as the `/search` page, and the insights page loaded for
//! each period, one request at a time from a signed-in admin.
//!
//! Queries are words of the team's own answers at every frequency (the most common ones
//! match thousands of answers, the rarest a handful), names, two-word queries, a word typed
//! one letter at a time, and words nobody wrote.

use std::collections::HashMap;

use serde_json::Value;

use crate::{
    client::Client,
    measure::{Samples, ms},
    team::Team,
};

/// Requests of each kind measured, after one pass of warm-up.
const SEARCH_REQUESTS: usize = 1_000;
/// Loads of the insights page measured for each period, after a few of warm-up.
const INSIGHTS_LOADS: usize = 30;
const INSIGHTS_WARM_UP: usize = 3;
/// Aims from the issue.
pub const SEARCH_P99_AIM_MS: f64 = 50.0;
pub const INSIGHTS_AIM_MS: f64 = 200.0;
/// Words too common to say anything about a team.
const STOP_WORDS: [&str; 24] = [
    "that", "this", "with", "from", "have", "just", "when", "they", "them", "then", "than", "what", "your", "into",
    "over", "there", "their", "were", "been", "about", "after", "every", "still", "even",
];

/// The figures of one run.
pub struct Figures {
    pub queries: usize,
    pub as_you_type: Samples,
    pub page: Samples,
    pub insights: Vec<(u32, Samples)>,
}

/// Runs the measurements against a server holding `team`, signed in as its admin.
pub async fn measure(client: &Client, team: &Team) -> anyhow::Result<Figures> {
    let queries = queries(team);
    let mut as_you_type = Samples::default();
    let mut page = Samples::default();
    for warm_up in [true, false] {
        for (round, query) in queries.iter().cycle().enumerate() {
            if (warm_up && round == queries.len()) || as_you_type.len() == SEARCH_REQUESTS {
                break;
            }
            let typed = client.call("search", &[("q", query), ("page", "1")]).await?;
            let shown = client.get(&format!("/search?q={}", encode(query))).await?;
            if warm_up {
                check_results(query, &typed.body, team)?;
                continue;
            }
            as_you_type.push(typed.took);
            page.push(shown.took);
        }
    }
    let mut insights = Vec::new();
    for weeks in [4, 12, 52] {
        let path = format!("/admin/insights?weeks={weeks}");
        let mut loads = Samples::default();
        for load in 0..INSIGHTS_WARM_UP + INSIGHTS_LOADS {
            let fetched = client.get(&path).await?;
            anyhow::ensure!(fetched.body.contains("<svg"), "{path} shows no chart");
            if load >= INSIGHTS_WARM_UP {
                loads.push(fetched.took);
            }
        }
        insights.push((weeks, loads));
    }
    Ok(Figures { queries: queries.len(), as_you_type, page, insights })
}

/// The figures as a Markdown table, each beside its aim.
pub fn table(figures: &Figures) -> String {
    let aim = |took: std::time::Duration, limit_ms: f64| {
        if took.as_secs_f64() * 1000.0 < limit_ms { "met" } else { "**missed**" }
    };
    let mut rows =
        vec!["| measure | requests | p50 | p99 | max | aim |".to_owned(), "|---|---:|---:|---:|---:|---|".to_owned()];
    for (name, samples) in [
        ("search as you type (`/api/search`, page 1)", &figures.as_you_type),
        ("search page (`/search?q=`, whole HTML)", &figures.page),
    ] {
        let p99 = samples.percentile(99.0);
        rows.push(format!(
            "| {name} | {} | {} | {} | {} | p99 < {SEARCH_P99_AIM_MS} ms: {} |",
            samples.len(),
            ms(samples.percentile(50.0)),
            ms(p99),
            ms(samples.max()),
            aim(p99, SEARCH_P99_AIM_MS)
        ));
    }
    for (weeks, samples) in &figures.insights {
        let p50 = samples.percentile(50.0);
        rows.push(format!(
            "| insights page, last {weeks} weeks | {} | {} | {} | {} | < {INSIGHTS_AIM_MS} ms: {} |",
            samples.len(),
            ms(p50),
            ms(samples.percentile(99.0)),
            ms(samples.max()),
            aim(p50, INSIGHTS_AIM_MS)
        ));
    }
    rows.join("\n")
}

/// The queries: words of every frequency, names, pairs, a word being typed, and nothing.
fn queries(team: &Team) -> Vec<String> {
    let words = words_by_frequency(&team.answer_texts);
    let mut queries: Vec<String> = Vec::new();
    let pick = |from: usize, count: usize| words.iter().skip(from).take(count).cloned().collect::<Vec<_>>();
    let (common, middling, rare) = (pick(0, 6), pick(words.len() / 2, 6), pick(words.len().saturating_sub(6), 6));
    queries.extend(common.iter().chain(&middling).chain(&rare).cloned());
    queries.extend(team.first_names.iter().take(4).cloned());
    queries.extend(team.last_names.iter().rev().take(4).cloned());
    for (first, second) in common.iter().zip(&middling).take(4) {
        queries.push(format!("{first} {second}"));
    }
    if let (Some(first), Some(last)) = (team.first_names.first(), team.last_names.first()) {
        queries.push(format!("{first} {last}"));
    }
    if let Some(word) = common.first() {
        queries.extend((1..word.len()).map(|end| word[..end].to_owned()));
    }
    queries.push("zebra accordion".to_owned());
    queries.push("\"unbalanced -quote NEAR*".to_owned());
    queries
}

/// Words of four letters or more in `texts`, most frequent first (ties alphabetical).
fn words_by_frequency(texts: &[String]) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for text in texts {
        for word in text.split(|c: char| !c.is_alphabetic()) {
            let word = word.to_lowercase();
            if word.chars().count() >= 4 && !STOP_WORDS.contains(&word.as_str()) {
                *counts.entry(word).or_default() += 1;
            }
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    words.into_iter().map(|(word, _)| word).collect()
}

/// A warm-up check that search works at all: the team's most common words find answers.
fn check_results(query: &str, body: &str, team: &Team) -> anyhow::Result<()> {
    let common = words_by_frequency(&team.answer_texts);
    if common.first().is_some_and(|word| word == query) {
        let results: Value = serde_json::from_str(body)?;
        let found = results["answers"].as_array().map_or(0, Vec::len);
        anyhow::ensure!(found > 0, "searching for {query:?} found no answers: {body}");
    }
    Ok(())
}

/// Percent-encodes a query for a URL (and a value of a form, for the soak's Slack requests).
pub(crate) fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(byte).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_counted_without_case_short_words_or_stop_words() {
        let texts = ["Coffee, then coffee again.", "Garden coffee with that cat"].map(str::to_owned);
        assert_eq!(words_by_frequency(&texts), ["coffee", "again", "garden"]);
    }

    #[test]
    fn queries_are_encoded_for_a_url() {
        assert_eq!(encode("café \"x\"&y"), "caf%C3%A9%20%22x%22%26y");
    }
}
