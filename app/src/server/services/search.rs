//! Search: the people, questions and team-visible answers of the viewer's workspace that
//! hold the words typed, each group best match first, the matched words marked. Who may be
//! found is the rule of the pages that show them (the directory, `/questions`, profiles):
//! `db::search` applies it in SQL.

use crate::{
    error::AppError,
    features::search::types::{AnswerHit, PersonHit, QuestionHit, SearchQuery, SearchResults, Segment},
    ids::{MemberId, QuestionId},
    server::{
        db::search::{
            self, AnswerHitRow, HIT_END, HIT_START, PG_GREATER_THAN, PG_LESS_THAN, PersonHitRow, QuestionHitRow,
        },
        viewer::Viewer,
    },
};

/// Answers on a page of results.
pub const ANSWERS_PER_PAGE: usize = 10;
/// People shown, on the first page only.
pub const TOP_PEOPLE: usize = 5;
/// Questions shown, on the first page only.
pub const TOP_QUESTIONS: usize = 5;

/// Page `page` of the results for `query` in the viewer's workspace (pages count from 1; 0
/// reads as 1). A query with no words finds nothing and is not an error.
pub async fn search(viewer: &Viewer, query: &SearchQuery, page: u32) -> Result<SearchResults, AppError> {
    let page = page.max(1);
    let mut results = SearchResults { words: query.words().to_vec(), page, ..SearchResults::default() };
    if query.is_empty() {
        return Ok(results);
    }
    let (pool, backend, workspace_id) = (viewer.db.pool(), viewer.db.backend(), viewer.workspace_id.as_str());
    if page == 1 {
        results.people = search::people(pool, backend, workspace_id, query, TOP_PEOPLE)
            .await?
            .into_iter()
            .map(person_hit)
            .collect::<Result<_, AppError>>()?;
        results.questions = search::questions(pool, backend, workspace_id, query, TOP_QUESTIONS)
            .await?
            .into_iter()
            .map(question_hit)
            .collect::<Result<_, AppError>>()?;
    }
    let offset = u64::from(page - 1) * ANSWERS_PER_PAGE as u64;
    // One more than a page: whether it comes back tells whether there is a next page.
    let mut answers = search::answers(pool, backend, workspace_id, query, ANSWERS_PER_PAGE + 1, offset).await?;
    results.has_next_page = answers.len() > ANSWERS_PER_PAGE;
    answers.truncate(ANSWERS_PER_PAGE);
    results.answers = answers.into_iter().map(answer_hit).collect::<Result<_, AppError>>()?;
    Ok(results)
}

fn person_hit(row: PersonHitRow) -> Result<PersonHit, AppError> {
    Ok(PersonHit {
        id: MemberId::parse(&row.id)?,
        name: segments(&row.name_marked),
        title: segments(&row.title_marked),
        avatar_url: row.avatar_url,
    })
}

fn question_hit(row: QuestionHitRow) -> Result<QuestionHit, AppError> {
    Ok(QuestionHit { id: QuestionId::parse(&row.id)?, text: segments(&row.text_marked), pack: row.pack_name })
}

fn answer_hit(row: AnswerHitRow) -> Result<AnswerHit, AppError> {
    Ok(AnswerHit {
        member_id: MemberId::parse(&row.member_id)?,
        member_name: row.member_name,
        question_id: QuestionId::parse(&row.question_id)?,
        question: row.question,
        snippet: snippet(&row.snippet_marked, &row.text),
        answered_at_ms: row.created_at,
    })
}

/// Splits text the database marked with [`HIT_START`] and [`HIT_END`] into plain and matched
/// segments. No marker character reaches a segment: one out of place (the stored text held
/// it) is dropped, so the worst it can do is mark the wrong words. Neighbours of the same
/// kind are joined and empty segments left out.
fn segments(marked: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut hit = false;
    for c in marked.chars() {
        match c {
            HIT_START | HIT_END => {
                let starts = c == HIT_START;
                if starts != hit {
                    push(&mut out, std::mem::take(&mut text), hit);
                    hit = starts;
                }
            }
            // PostgreSQL's stand-ins for `<` and `>` (see `db::search::PG_LESS_THAN`).
            PG_LESS_THAN => text.push('<'),
            PG_GREATER_THAN => text.push('>'),
            other => text.push(other),
        }
    }
    push(&mut out, text, hit);
    out
}

fn push(segments: &mut Vec<Segment>, text: String, hit: bool) {
    if text.is_empty() {
        return;
    }
    match segments.last_mut() {
        Some(last) if last.hit == hit => last.text.push_str(&text),
        _ => segments.push(Segment { text, hit }),
    }
}

/// The segments of an answer's snippet, with "…" where it leaves out some of `full`, the
/// answer's whole text (neither database adds the ellipses the same way, so neither does).
fn snippet(marked: &str, full: &str) -> Vec<Segment> {
    let shown = segments(marked);
    let shown_text: String = shown.iter().map(|segment| segment.text.as_str()).collect();
    let full: String = full.chars().filter(|c| *c != HIT_START && *c != HIT_END).collect();
    let has_words = |text: &str| text.chars().any(char::is_alphanumeric);
    let shown_trimmed = shown_text.trim();
    // Only left-out words count: a full stop after the snippet is not worth an ellipsis.
    let (cut_before, cut_after) = match full.find(shown_trimmed) {
        Some(at) if !shown_trimmed.is_empty() => (has_words(&full[..at]), has_words(&full[at + shown_trimmed.len()..])),
        _ => (false, false),
    };
    let mut out = Vec::new();
    if cut_before {
        push(&mut out, "… ".to_owned(), false);
    }
    for segment in shown {
        push(&mut out, segment.text, segment.hit);
    }
    if cut_after {
        push(&mut out, " …".to_owned(), false);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Segment {
        Segment { text: text.into(), hit: false }
    }

    fn hit(text: &str) -> Segment {
        Segment { text: text.into(), hit: true }
    }

    #[test]
    fn marked_words_become_hit_segments() {
        assert_eq!(
            segments("I \u{1}paint\u{2} \u{1}watercolours\u{2} on weekends"),
            [plain("I "), hit("paint"), plain(" "), hit("watercolours"), plain(" on weekends")]
        );
        assert_eq!(segments("\u{1}Ada\u{2}"), [hit("Ada")]);
        assert!(segments("").is_empty());
    }

    #[test]
    fn stray_markers_never_reach_the_text() {
        assert_eq!(segments("a\u{2}b"), [plain("ab")]);
        assert_eq!(segments("\u{1}a\u{1}b\u{2}c"), [hit("ab"), plain("c")]);
        assert_eq!(segments("a\u{1}b"), [plain("a"), hit("b")]);
        let text: String = segments("\u{2}\u{1}\u{1}x\u{2}\u{2}").iter().map(|s| s.text.clone()).collect();
        assert_eq!(text, "x");
    }

    #[test]
    fn a_snippet_says_where_it_leaves_text_out() {
        let full = "Long ago people painted caves, and some still paint today far away";
        assert_eq!(
            snippet("some still \u{1}paint\u{2} today", full),
            [plain("… some still "), hit("paint"), plain(" today …")]
        );
        assert_eq!(snippet("Long ago \u{1}people\u{2}", full), [plain("Long ago "), hit("people"), plain(" …")]);
        assert_eq!(snippet("I \u{1}paint\u{2}", "I paint."), [plain("I "), hit("paint")]);
    }
}
