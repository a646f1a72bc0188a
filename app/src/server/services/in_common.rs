//! Things in common between the viewer and a coworker: the questions both answered for the
//! team, with the answers side by side, those that look alike first, and "you both ..."
//! highlights. Only team-visible answers count; an only-me answer is never compared.
//!
//! How alike two answers look: each answer becomes a set of word stems (lower case, stop
//! words dropped, a few English suffixes cut: "painting", "paints" and "painted" all become
//! "paint"), and the measure is the share of stems the two sets have in common (Jaccard:
//! shared / all distinct). Simple, explainable on the page ("you both said *paint*"), and
//! good enough for answers a few sentences long.

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    error::AppError,
    features::people::types::{CommonAnswer, InCommon},
    ids::QuestionId,
    server::{
        db::{
            answers::{self, MemberAnswerRow},
            members::Member,
        },
        viewer::Viewer,
    },
};

/// At most this many "you both ..." words are named.
const HIGHLIGHTED_WORDS: usize = 3;

/// What the viewer and `member` of their workspace have in common, given `member`'s
/// team-visible answers newest first (`theirs`, as the profile shows them); `None` when there
/// is nobody to compare with: the viewer is no member (a demo visitor, the admin account) or
/// looks at their own profile. Reads only the viewer's own answers.
pub async fn between(
    viewer: &Viewer,
    member: &Member,
    theirs: &[MemberAnswerRow],
) -> Result<Option<InCommon>, AppError> {
    let Some(me) = viewer.member_id.as_deref().filter(|me| *me != member.id) else { return Ok(None) };
    let mine = answers::list_team_visible_for_member(viewer.db.pool(), &viewer.workspace_id, me).await?;
    // Newest first, so the first answer seen per question is the latest.
    let mut latest_of_mine: BTreeMap<String, MemberAnswerRow> = BTreeMap::new();
    for row in mine {
        latest_of_mine.entry(row.question_id.clone()).or_insert(row);
    }
    let mut seen = BTreeSet::new();
    let mut pairs = Vec::new();
    for row in theirs {
        let Some(own) = latest_of_mine.get(&row.question_id) else { continue };
        if !seen.insert(row.question_id.as_str()) {
            continue;
        }
        let (score, shared_words) = alike(&own.text, &row.text);
        let pair = CommonAnswer {
            question_id: QuestionId::parse(&row.question_id)?,
            question: row.question.clone(),
            mine: own.text.clone(),
            theirs: row.text.clone(),
            shared_words,
        };
        pairs.push((score, own.created_at.max(row.created_at), pair));
    }
    // Most alike first; among equals, the most recently answered.
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    let pairs: Vec<CommonAnswer> = pairs.into_iter().map(|(_, _, pair)| pair).collect();
    let both_said = highlighted_words(&pairs);
    Ok(Some(InCommon { name: member.name.clone(), pairs, both_said }))
}

/// The words said most often across the pairs, as the viewer wrote them.
fn highlighted_words(pairs: &[CommonAnswer]) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for word in pairs.iter().flat_map(|pair| &pair.shared_words) {
        *counts.entry(word.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    ranked.into_iter().take(HIGHLIGHTED_WORDS).map(|(word, _)| word.to_owned()).collect()
}

/// How alike two answers look (0 to 1), and the words they share, as the first answer
/// wrote them, in its order.
pub fn alike(first: &str, second: &str) -> (f64, Vec<String>) {
    let a = stems(first);
    let b: BTreeSet<String> = stems(second).into_iter().map(|(stem, _)| stem).collect();
    let a_stems: BTreeSet<&String> = a.iter().map(|(stem, _)| stem).collect();
    let union = a_stems.len() + b.iter().filter(|stem| !a_stems.contains(stem)).count();
    let mut shared = Vec::new();
    let mut named = BTreeSet::new();
    for (stem, word) in &a {
        if b.contains(stem) && named.insert(stem.clone()) {
            shared.push(word.clone());
        }
    }
    let score = if union == 0 { 0.0 } else { named.len() as f64 / union as f64 };
    (score, shared)
}

/// The (stem, word as written, lower-cased) pairs of a text, stop words left out.
fn stems(text: &str) -> Vec<(String, String)> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .filter(|word| word.chars().count() > 1 && !STOP_WORDS.contains(&word.as_str()))
        .map(|word| (stem(&word), word))
        .collect()
}

/// Cuts a few common English suffixes, keeping at least three letters.
fn stem(word: &str) -> String {
    for (suffix, replacement) in [("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")] {
        if let Some(root) = word.strip_suffix(suffix)
            && root.chars().count() >= 3
            && !(suffix == "s" && root.ends_with('s'))
        {
            return format!("{root}{replacement}");
        }
    }
    word.to_owned()
}

/// Words too common to say anything about what two people have in common.
const STOP_WORDS: [&str; 60] = [
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by",
    "can", "do", "for", "from", "get", "had", "has", "have", "he", "her", "his", "how", "if", "in", "is", "it", "its",
    "just", "like", "me", "more", "my", "no", "not", "of", "on", "or", "our", "really", "she", "so", "that", "the",
    "their", "them", "then", "there", "they", "this", "to", "was", "we", "with", "you",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_that_differ_only_by_their_ending_count_as_shared() {
        let (score, shared) = alike("Painting watercolours on weekends", "I paint with watercolour");
        assert_eq!(shared, ["painting", "watercolours"]);
        assert!(score > 0.5, "{score}");
    }

    #[test]
    fn stop_words_alone_make_nothing_in_common() {
        let (score, shared) = alike("It is the one with a view", "It was in the city");
        assert_eq!(shared, Vec::<String>::new());
        assert!(score.abs() < f64::EPSILON);
    }

    #[test]
    fn empty_or_punctuation_only_answers_compare_as_unlike() {
        assert_eq!(alike("", "").0, 0.0);
        assert_eq!(alike("!!!", "...").1, Vec::<String>::new());
    }

    #[test]
    fn stems_keep_short_words_and_double_s_whole() {
        assert_eq!(stem("cities"), "city");
        assert_eq!(stem("hiking"), "hik");
        assert_eq!(stem("hikes"), "hik");
        assert_eq!(stem("glass"), "glass");
        assert_eq!(stem("bus"), "bus");
    }

    #[test]
    fn the_words_said_most_often_are_highlighted_first() {
        let pair = |words: &[&str]| CommonAnswer {
            question_id: QuestionId::parse("q").unwrap(),
            question: String::new(),
            mine: String::new(),
            theirs: String::new(),
            shared_words: words.iter().map(|w| (*w).to_owned()).collect(),
        };
        let pairs = [pair(&["tea", "hiking"]), pair(&["tea"]), pair(&["books", "hiking", "tea"])];
        assert_eq!(highlighted_words(&pairs), ["tea", "hiking", "books"]);
    }
}
