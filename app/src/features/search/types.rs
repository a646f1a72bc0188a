//! Wire types of the search page, and the query a visitor types, read as plain words.

use serde::{Deserialize, Serialize};

use crate::ids::{MemberId, QuestionId};

/// How much of what was typed is read: anything after is ignored.
pub const MAX_QUERY_CHARS: usize = 2_000;
/// How many words of it are searched for.
pub const MAX_QUERY_WORDS: usize = 12;

/// What a visitor typed into a search box, as the words it holds: runs of Unicode letters and
/// digits, lower-cased. Everything else (quotes, `*`, `-`, `OR`, `NEAR(…)`) separates words and
/// is never read as query syntax, so no input can make a search fail. Made only by
/// [`SearchQuery::parse`], so its words are always runs of letters and digits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    words: Vec<String>,
}

impl SearchQuery {
    /// Reads the words of `raw`: at most [`MAX_QUERY_WORDS`] of them, from its first
    /// [`MAX_QUERY_CHARS`] characters. Never fails; text with no words gives an empty query.
    pub fn parse(raw: &str) -> SearchQuery {
        let end = raw.char_indices().nth(MAX_QUERY_CHARS).map_or(raw.len(), |(at, _)| at);
        let words = raw[..end]
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .take(MAX_QUERY_WORDS)
            .map(str::to_lowercase)
            .collect();
        SearchQuery { words }
    }

    /// The words, in the order typed; the last may be unfinished (it is matched as a prefix).
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether there is nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// A piece of a result's text: plain, or a match of the words searched for (shown marked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub text: String,
    pub hit: bool,
}

/// The text of `segments` without its marks.
pub fn plain_text(segments: &[Segment]) -> String {
    segments.iter().map(|segment| segment.text.as_str()).collect()
}

/// A person whose name or title matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonHit {
    pub id: MemberId,
    pub name: Vec<Segment>,
    pub title: Vec<Segment>,
    pub avatar_url: String,
}

/// A question whose text matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionHit {
    pub id: QuestionId,
    pub text: Vec<Segment>,
    pub pack: String,
}

/// A team-visible answer whose text matches, with who gave it and to which question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerHit {
    pub member_id: MemberId,
    pub member_name: String,
    pub question_id: QuestionId,
    pub question: String,
    /// About 30 words of the answer around the match, with "…" where text was left out.
    pub snippet: Vec<Segment>,
    pub answered_at_ms: i64,
}

/// One page of search results, each group best match first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    /// The words searched for; empty when nothing was typed (and nothing was searched).
    pub words: Vec<String>,
    /// The page shown, from 1.
    pub page: u32,
    /// The best matching people, on the first page only.
    pub people: Vec<PersonHit>,
    /// The best matching questions, on the first page only.
    pub questions: Vec<QuestionHit>,
    /// This page's answers.
    pub answers: Vec<AnswerHit>,
    /// Whether more answers match on the next page.
    pub has_next_page: bool,
}

impl SearchResults {
    /// Whether this page shows nothing at all.
    pub fn is_empty(&self) -> bool {
        self.people.is_empty() && self.questions.is_empty() && self.answers.is_empty()
    }
}

/// The address of page `page` (from 1) of the results for `q`.
pub fn search_href(q: &str, page: u32) -> String {
    let q = crate::features::auth::types::encode_next(q);
    if page > 1 { format!("/search?q={q}&page={page}") } else { format!("/search?q={q}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(raw: &str) -> Vec<String> {
        SearchQuery::parse(raw).words().to_vec()
    }

    #[test]
    fn a_query_is_read_as_lower_cased_words() {
        assert_eq!(words("Painting, watercolours!"), ["painting", "watercolours"]);
        assert_eq!(words("  route   66 "), ["route", "66"]);
        assert_eq!(words("Café über naïve 日本語"), ["café", "über", "naïve", "日本語"]);
        assert_eq!(words("don't"), ["don", "t"]);
    }

    #[test]
    fn query_syntax_is_only_words_or_nothing() {
        assert_eq!(words(r#""unbalanced"#), ["unbalanced"]);
        assert_eq!(words("a OR b"), ["a", "or", "b"]);
        assert_eq!(words("NEAR(paint brush, 2)"), ["near", "paint", "brush", "2"]);
        assert_eq!(words("-paint* col:title ^x"), ["paint", "col", "title", "x"]);
        assert_eq!(words("'; DROP TABLE answers; --"), ["drop", "table", "answers"]);
        for nothing in ["", "   ", "\"", "*", "-", "\"\"", "()", "\t\n"] {
            assert!(SearchQuery::parse(nothing).is_empty(), "{nothing:?}");
        }
    }

    #[test]
    fn a_query_is_capped_in_words_and_characters() {
        let many = (1..=20).map(|n| format!("w{n}")).collect::<Vec<_>>().join(" ");
        assert_eq!(words(&many).len(), MAX_QUERY_WORDS);
        assert_eq!(words(&many).last().map(String::as_str), Some("w12"));

        // The word that starts at character 2,000 is past the cap.
        let long = format!("{} tail", "x".repeat(MAX_QUERY_CHARS - 1));
        assert_eq!(words(&long), ["x".repeat(MAX_QUERY_CHARS - 1)]);
        assert_eq!(words(&"a".repeat(10 * MAX_QUERY_CHARS)), ["a".repeat(MAX_QUERY_CHARS)]);
        assert_eq!(words(&"é ".repeat(MAX_QUERY_CHARS)).len(), MAX_QUERY_WORDS);
    }

    #[test]
    fn the_results_address_keeps_the_query_whole() {
        assert_eq!(search_href("paint & draw", 1), "/search?q=paint%20%26%20draw");
        assert_eq!(search_href("paint", 2), "/search?q=paint&page=2");
    }
}
