//! Wire types of the directory and profile pages.

use serde::{Deserialize, Serialize};

use crate::ids::{MemberId, QuestionId};

/// A member's most recent team-visible answer, shown in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestAnswer {
    pub question: String,
    pub text: String,
    pub answered_at_ms: i64,
}

/// One card of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonSummary {
    pub id: MemberId,
    pub name: String,
    pub title: String,
    pub avatar_url: String,
    pub answer_count: i64,
    pub latest: Option<LatestAnswer>,
}

/// The directory's filter: the words typed, each of which a person's name or title must
/// hold (anywhere, ignoring case). At most [`MAX_FILTER_WORDS`] words of the first
/// [`MAX_FILTER_CHARS`] characters count; never fails.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirectoryFilter {
    words: Vec<String>,
}

pub const MAX_FILTER_CHARS: usize = 100;
pub const MAX_FILTER_WORDS: usize = 6;

impl DirectoryFilter {
    pub fn parse(raw: &str) -> DirectoryFilter {
        let end = raw.char_indices().nth(MAX_FILTER_CHARS).map_or(raw.len(), |(at, _)| at);
        DirectoryFilter { words: raw[..end].split_whitespace().take(MAX_FILTER_WORDS).map(str::to_lowercase).collect() }
    }

    /// The words, lower-cased.
    pub fn words(&self) -> &[String] {
        &self.words
    }
}

/// One page of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    /// This page's people, by name.
    pub people: Vec<PersonSummary>,
    /// How many people the filter leaves (everyone without one).
    pub matching: i64,
    /// How many people the directory holds.
    pub everyone: i64,
    /// Counted from 1.
    pub page: u32,
    pub has_next_page: bool,
    /// The filter's words as applied, joined by spaces (empty: none).
    pub filter: String,
}

/// The address of page `page` (from 1) of the directory narrowed by `filter`.
pub fn directory_href(filter: &str, page: u32) -> String {
    let mut params = Vec::new();
    if !filter.trim().is_empty() {
        params.push(format!("q={}", crate::features::auth::types::encode_next(filter.trim())));
    }
    if page > 1 {
        params.push(format!("page={page}"));
    }
    match params.is_empty() {
        true => "/people".to_owned(),
        false => format!("/people?{}", params.join("&")),
    }
}

/// A member's profile page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: MemberId,
    pub name: String,
    pub title: String,
    pub avatar_url: String,
    pub time_zone: Option<String>,
    /// Team-visible answers, newest first.
    pub answers: Vec<ProfileAnswer>,
}

/// What the profile page shows: the member's profile and, for a signed-in member looking at
/// someone else, what the two have in common (`None`: nobody to compare).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonPage {
    pub profile: Profile,
    pub in_common: Option<InCommon>,
}

/// One answer on a profile, with the question it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileAnswer {
    pub question_id: QuestionId,
    pub question: String,
    pub text: String,
    pub answered_at_ms: i64,
}

/// What the viewer and a coworker have in common: the questions both answered for the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InCommon {
    /// The coworker's name.
    pub name: String,
    /// Most alike first.
    pub pairs: Vec<CommonAnswer>,
    /// Words both said most often ("you both mentioned ..."), as the viewer wrote them.
    pub both_said: Vec<String>,
}

/// One question both answered, with both answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommonAnswer {
    pub question_id: QuestionId,
    pub question: String,
    pub mine: String,
    pub theirs: String,
    /// The words the two answers share, as the viewer wrote them.
    pub shared_words: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_keeps_a_few_lower_cased_words_of_what_was_typed() {
        assert_eq!(DirectoryFilter::parse("  Ada   ÉMILE ").words(), ["ada", "émile"]);
        assert!(DirectoryFilter::parse(" \t ").words().is_empty());
        assert_eq!(DirectoryFilter::parse("a b c d e f g h").words().len(), MAX_FILTER_WORDS);
        let long = format!("{} tail", "x".repeat(MAX_FILTER_CHARS));
        assert_eq!(DirectoryFilter::parse(&long).words(), ["x".repeat(MAX_FILTER_CHARS)]);
    }

    #[test]
    fn directory_addresses_leave_out_the_first_page_and_an_empty_filter() {
        assert_eq!(directory_href("", 1), "/people");
        assert_eq!(directory_href(" ", 3), "/people?page=3");
        assert_eq!(directory_href("ada lovelace", 1), "/people?q=ada%20lovelace");
        assert_eq!(directory_href("r&d", 2), "/people?q=r%26d&page=2");
    }
}
