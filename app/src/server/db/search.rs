//! Full-text search over the people, questions and team-visible answers of a workspace:
//! FTS5 on SQLite, `tsvector` documents with GIN indexes on PostgreSQL (made by the
//! migration `20261203000012_search.sql`, people's and answers' stored since migrations 17
//! and 15), each group ranked, with the matched words marked.
//!
//! The dialects differ in every statement here, so each query comes in two versions, chosen
//! in one place ([`Statements::for_backend`]). Who may be found is written once for both (the
//! `*_visible!` fragments), and both tokenise text the same way (Porter stems of runs of
//! letters and digits, no stop words, accents kept), so the same data gives the same matches.
//! Only the order of equally good matches may differ: FTS5 ranks by `bm25()`, PostgreSQL by
//! `ts_rank()`.
//!
//! The words searched for are always bound, never written into SQL.

use sqlx::{Any, Executor};

use super::Backend;
use crate::features::search::types::SearchQuery;

/// Put before a matched word in the `*_marked` columns.
pub const HIT_START: char = '\u{1}';
/// Put after a matched word in the `*_marked` columns.
pub const HIT_END: char = '\u{2}';

/// A person whose name or title matches, the matched words marked.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonHitRow {
    pub id: String,
    pub avatar_url: String,
    pub name_marked: String,
    pub title_marked: String,
}

/// A question whose text matches, the matched words marked.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QuestionHitRow {
    pub id: String,
    pub pack_name: String,
    pub text_marked: String,
}

/// A team-visible answer whose text matches: about 30 words of it around the match, the
/// matched words marked, and its whole text (to tell whether the snippet left any out).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AnswerHitRow {
    pub member_id: String,
    pub member_name: String,
    pub question_id: String,
    pub question: String,
    pub text: String,
    pub snippet_marked: String,
    pub created_at: i64,
}

/// The people of `workspace_id` whose name or title holds every word of `query` (the last
/// one as a prefix), best first, at most `limit`: humans still in the workspace, as in the
/// directory.
pub async fn people<'e>(
    ex: impl Executor<'e, Database = Any>,
    backend: Backend,
    workspace_id: &str,
    query: &SearchQuery,
    limit: usize,
) -> sqlx::Result<Vec<PersonHitRow>> {
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let statements = Statements::for_backend(backend);
    sqlx::query_as(statements.people)
        .persistent(statements.prepared)
        .bind(statements.match_text(query, 1))
        .bind(workspace_id)
        .bind(super::sql_count(limit))
        .fetch_all(ex)
        .await
}

/// The questions `workspace_id` sees on `/questions` whose text holds every word of `query`,
/// best first, at most `limit`.
pub async fn questions<'e>(
    ex: impl Executor<'e, Database = Any>,
    backend: Backend,
    workspace_id: &str,
    query: &SearchQuery,
    limit: usize,
) -> sqlx::Result<Vec<QuestionHitRow>> {
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let statements = Statements::for_backend(backend);
    sqlx::query_as(statements.questions)
        .persistent(statements.prepared)
        .bind(statements.match_text(query, 1))
        .bind(workspace_id)
        .bind(super::sql_count(limit))
        .fetch_all(ex)
        .await
}

/// Letters the last word needs before it matches answers as a prefix. One or two letters
/// start most words, so they would match most answers (all of them ranked, and on
/// PostgreSQL each checked against its stored document: 0.6 s at 200,000 answers); people
/// and questions, far fewer, match a prefix from the first letter.
pub const ANSWER_PREFIX_FROM: usize = 3;

/// How many matching answers are ranked: the newest this many. A word most answers hold
/// (`the`, or the one letter typed so far) matches most of a large team's answers, and
/// ranking every match costs about a microsecond each (a fifth of a second at 200,000); the
/// best of the newest 500 is what a person searching wants anyway. Pages end there. Why 500
/// and not more: PostgreSQL finds the window by walking answers newest first and checking
/// each one's document, so a word in one answer of twenty reads twenty rows per answer in
/// the window (40,000 rows for 2,000); and SQLite's p99 went from 33 to 15 ms at 200,000
/// answers (BENCHMARKS.md).
pub const RANKED_WINDOW: usize = 500;

/// The team-visible answers of members still in `workspace_id` whose text holds every word
/// of `query`, best of the newest [`RANKED_WINDOW`] first: `limit` of them after skipping
/// `offset`.
pub async fn answers<'e>(
    ex: impl Executor<'e, Database = Any>,
    backend: Backend,
    workspace_id: &str,
    query: &SearchQuery,
    limit: usize,
    offset: u64,
) -> sqlx::Result<Vec<AnswerHitRow>> {
    // No words match nothing (an empty FTS5 query would be a syntax error).
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let statements = Statements::for_backend(backend);
    sqlx::query_as(statements.answers)
        .persistent(statements.prepared)
        .bind(statements.match_text(query, ANSWER_PREFIX_FROM))
        .bind(workspace_id)
        .bind(super::sql_count(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .bind(super::sql_count(RANKED_WINDOW))
        .fetch_all(ex)
        .await
}

/// The search statements of one dialect, and how the words are written for its matcher.
/// Every statement binds `$1` the match text, `$2` the workspace, `$3` the limit and (for
/// answers) `$4` the offset and `$5` the ranked window.
struct Statements {
    backend: Backend,
    /// Whether the statements are kept prepared on the connection. Not on PostgreSQL: after
    /// five runs of a prepared statement it may settle on one plan for any words (a generic
    /// plan), and the plan that suits a word in every answer is the slowest for a word in a
    /// few, or for a prefix: 100 to 180 ms instead of 10 to 25 at 200,000 answers
    /// (BENCHMARKS.md). A statement that is not kept is planned for its own words each time,
    /// which costs about a millisecond. SQLite has no such plans, and keeps them.
    prepared: bool,
    people: &'static str,
    questions: &'static str,
    answers: &'static str,
}

impl Statements {
    /// The one place the dialects are told apart.
    fn for_backend(backend: Backend) -> &'static Statements {
        match backend {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        }
    }

    /// `query` as this dialect's matcher reads it (bound as `$1`); the last word is a prefix
    /// when it has at least `prefix_from` letters.
    fn match_text(&self, query: &SearchQuery, prefix_from: usize) -> String {
        match self.backend {
            Backend::Sqlite => fts5_match(query, prefix_from),
            Backend::Postgres => tsquery(query, prefix_from),
        }
    }
}

/// The words as an FTS5 query: `"w1" "w2" "w3"*`. Each word is a quoted string, so none is
/// read as an operator (`OR`, `NEAR`) or a column filter; all are required; the last also
/// matches as a prefix once it has `prefix_from` letters, so results follow what is being
/// typed. (Words hold only letters and digits; a quote would be doubled, as FTS5 strings
/// escape it, all the same.)
fn fts5_match(query: &SearchQuery, prefix_from: usize) -> String {
    let quoted: Vec<String> = query.words().iter().map(|word| format!("\"{}\"", word.replace('"', "\"\""))).collect();
    let star = if last_is_prefix(query, prefix_from) { "*" } else { "" };
    if quoted.is_empty() { String::new() } else { format!("{}{star}", quoted.join(" ")) }
}

/// Whether the last word is long enough to match as a prefix.
fn last_is_prefix(query: &SearchQuery, prefix_from: usize) -> bool {
    query.words().last().is_some_and(|word| word.chars().count() >= prefix_from)
}

/// The words as a PostgreSQL `tsquery` for `to_tsquery`: `'w1' & 'w2' & 'w3':*`, the same
/// meaning as [`fts5_match`]. Each word is a quoted lexeme (a quote or backslash in it would be
/// escaped), so none is read as an operator.
fn tsquery(query: &SearchQuery, prefix_from: usize) -> String {
    let quoted: Vec<String> =
        query.words().iter().map(|word| format!("'{}'", word.replace('\\', "\\\\").replace('\'', "''"))).collect();
    let star = if last_is_prefix(query, prefix_from) { ":*" } else { "" };
    if quoted.is_empty() { String::new() } else { format!("{}{star}", quoted.join(" & ")) }
}

// Who may be found, written once for both dialects (`$2` is the viewer's workspace). The
// aliases are the statements': `m` a member, `a` an answer, `q` a question, `k` its pack.

/// People as the directory lists them: humans still in the workspace.
macro_rules! person_visible {
    () => {
        "m.workspace_id = $2 AND m.is_bot = 0 AND m.is_deleted = 0 AND m.forgotten_at IS NULL"
    };
}

/// Answers as profiles and question pages show them: team-visible, from members still in the
/// workspace (only-me answers, withdrawn ones and those of deactivated members never match).
macro_rules! answer_visible {
    () => {
        "a.workspace_id = $2 AND a.visibility = 'team' AND m.is_deleted = 0 AND m.forgotten_at IS NULL"
    };
}

/// Questions as `/questions` lists them (`db::questions::list_with_answer_counts`): from the
/// workspace's own packs or the built-in ones, and a switched-off question only while it has
/// team-visible answers.
macro_rules! question_visible {
    () => {
        "(k.workspace_id = $2 OR k.workspace_id IS NULL)
         AND (q.is_disabled = 0 OR EXISTS (
             SELECT 1 FROM answers qa
             JOIN prompts qp ON qp.id = qa.prompt_id
             JOIN members qm ON qm.id = qp.member_id
             WHERE qp.question_id = q.id AND qa.workspace_id = $2
               AND qa.visibility = 'team' AND qm.is_deleted = 0))"
    };
}

// PostgreSQL: the documents searched. A question's is exactly the expression of its index
// in migrations/postgres/20261203000012_search.sql (how PostgreSQL knows to use the index);
// people's and answers' are stored, made by the expressions that migration first indexed.

/// A person's document is stored in a side table kept by a trigger (migration 17; `d`
/// joined to `m`).
macro_rules! pg_person_document {
    () => {
        "d.document"
    };
}

macro_rules! pg_question_document {
    () => {
        "to_tsvector('rapport_search', regexp_replace(q.text, '[[:punct:]]+', ' ', 'g'))"
    };
}

/// An answer's document is stored (migration 15, generated from the same expression).
macro_rules! pg_answer_document {
    () => {
        "a.search_document"
    };
}

/// PostgreSQL: a column's text with every match marked; the marker characters are taken out
/// of the text first, so only the marks `ts_headline` adds remain. `<` and `>` go in as
/// [`PG_LESS_THAN`] and [`PG_GREATER_THAN`] and come back in `services::search`: its parser
/// reads `<b>` or `<script>…</script>` as markup and would leave those words out of what it
/// shows.
macro_rules! pg_highlight_all {
    ($column:literal) => {
        concat!(
            "ts_headline('rapport_search', translate(",
            $column,
            ", '<>' || chr(1) || chr(2), chr(57344) || chr(57345)), query,
                         'HighlightAll=true, StartSel=' || chr(1) || ', StopSel=' || chr(2))"
        )
    };
}

/// What PostgreSQL's highlighting gets instead of `<` (a private-use character, U+E000).
pub const PG_LESS_THAN: char = '\u{E000}';
/// What PostgreSQL's highlighting gets instead of `>` (U+E001).
pub const PG_GREATER_THAN: char = '\u{E001}';

static SQLITE: Statements = Statements {
    backend: Backend::Sqlite,
    prepared: true,
    // bm25 is lower for a better match; a word in the name weighs twice one in the title.
    people: concat!(
        "SELECT m.id, m.avatar_url,
                COALESCE(highlight(members_fts, 0, char(1), char(2)), '') AS name_marked,
                COALESCE(highlight(members_fts, 1, char(1), char(2)), '') AS title_marked
         FROM members_fts
         JOIN members m ON m.rowid = members_fts.rowid
         WHERE members_fts MATCH $1 AND ",
        person_visible!(),
        "
         ORDER BY bm25(members_fts, 2.0, 1.0), m.id
         LIMIT $3"
    ),
    questions: concat!(
        "SELECT q.id, k.name AS pack_name,
                COALESCE(highlight(questions_fts, 0, char(1), char(2)), '') AS text_marked
         FROM questions_fts
         JOIN questions q ON q.rowid = questions_fts.rowid
         JOIN packs k ON k.id = q.pack_id
         WHERE questions_fts MATCH $1 AND ",
        question_visible!(),
        "
         ORDER BY bm25(questions_fts), q.id
         LIMIT $3"
    ),
    // The newest `$5` visible matches are ranked (the window, see [`RANKED_WINDOW`]): FTS5
    // hands its matches newest first (by rowid) and stops once the window is full. Only the
    // page's snippets are made, at the end: `snippet()` is the costly part.
    // The snippet has no ellipses of its own: PostgreSQL's has none, so both leave them to
    // the caller, which compares the snippet with the whole text.
    answers: concat!(
        "WITH matched AS (
             SELECT answers_fts.rowid AS rid, bm25(answers_fts) AS score
             FROM answers_fts
             JOIN answers a ON a.rowid = answers_fts.rowid
             JOIN prompts p ON p.id = a.prompt_id
             JOIN members m ON m.id = p.member_id
             WHERE answers_fts MATCH $1 AND ",
        answer_visible!(),
        "
             ORDER BY answers_fts.rowid DESC
             LIMIT $5
         ),
         page AS (
             SELECT a.rowid AS rid, a.id, m.id AS member_id, m.name AS member_name, q.id AS question_id,
                    q.text AS question, a.text, a.created_at, matched.score
             FROM matched
             JOIN answers a ON a.rowid = matched.rid
             JOIN prompts p ON p.id = a.prompt_id
             JOIN members m ON m.id = p.member_id
             JOIN questions q ON q.id = p.question_id
             ORDER BY matched.score, a.created_at DESC, a.id
             LIMIT $3 OFFSET $4
         )
         SELECT page.member_id, page.member_name, page.question_id, page.question, page.text, page.created_at,
                COALESCE(snippet(answers_fts, 0, char(1), char(2), '', 30), '') AS snippet_marked
         FROM page
         JOIN answers_fts ON answers_fts.rowid = page.rid
         WHERE answers_fts MATCH $1
         ORDER BY page.score, page.created_at DESC, page.id"
    ),
};

static POSTGRES: Statements = Statements {
    backend: Backend::Postgres,
    prepared: false,
    people: concat!(
        "SELECT m.id, m.avatar_url, ",
        pg_highlight_all!("m.name"),
        " AS name_marked, ",
        pg_highlight_all!("m.title"),
        " AS title_marked
         FROM member_search_documents d
         JOIN members m ON m.id = d.member_id
         CROSS JOIN to_tsquery('rapport_search', $1) AS query
         WHERE ",
        pg_person_document!(),
        " @@ query AND ",
        person_visible!(),
        "
         ORDER BY ts_rank(",
        pg_person_document!(),
        ", query) DESC, m.id
         LIMIT $3"
    ),
    questions: concat!(
        "SELECT q.id, k.name AS pack_name, ",
        pg_highlight_all!("q.text"),
        " AS text_marked
         FROM questions q
         JOIN packs k ON k.id = q.pack_id
         CROSS JOIN to_tsquery('rapport_search', $1) AS query
         WHERE ",
        pg_question_document!(),
        " @@ query AND ",
        question_visible!(),
        "
         ORDER BY ts_rank(",
        pg_question_document!(),
        ", query) DESC, q.id
         LIMIT $3"
    ),
    // The newest `$5` visible matches are ranked (see [`RANKED_WINDOW`]), by the stored
    // document (migration 15), then the page is picked and only its snippets are made:
    // `ts_headline` is the expensive part. The tsquery and the rank stay inside (the Any
    // driver cannot decode a tsquery, and the rank is only for ordering).
    answers: concat!(
        "SELECT hit.member_id, hit.member_name, q.id AS question_id, q.text AS question, hit.text, hit.created_at,
                ts_headline('rapport_search', translate(hit.text, '<>' || chr(1) || chr(2), chr(57344) || chr(57345)), hit.query,
                            'MaxWords=30, MinWords=15, StartSel=' || chr(1) || ', StopSel=' || chr(2)) AS snippet_marked
         FROM (
             SELECT recent.id, recent.member_id, recent.member_name, recent.question_id, recent.text,
                    recent.created_at, recent.query, ts_rank(recent.document, recent.query) AS rank
             FROM (
                 SELECT a.id, m.id AS member_id, m.name AS member_name, p.question_id, a.text, a.created_at,
                        ",
        pg_answer_document!(),
        " AS document, query
                 FROM answers a
                 JOIN prompts p ON p.id = a.prompt_id
                 JOIN members m ON m.id = p.member_id
                 CROSS JOIN to_tsquery('rapport_search', $1) AS query
                 WHERE ",
        pg_answer_document!(),
        " @@ query AND ",
        answer_visible!(),
        "
                 ORDER BY a.created_at DESC, a.id
                 LIMIT $5
             ) recent
             ORDER BY rank DESC, recent.created_at DESC, recent.id
             LIMIT $3 OFFSET $4
         ) hit
         JOIN questions q ON q.id = hit.question_id
         ORDER BY hit.rank DESC, hit.created_at DESC, hit.id"
    ),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_become_quoted_fts5_strings_the_last_a_prefix() {
        assert_eq!(fts5_match(&SearchQuery::parse("Painting watercol"), 1), r#""painting" "watercol"*"#);
        assert_eq!(fts5_match(&SearchQuery::parse(r#"a OR "b NEAR"#), 1), r#""a" "or" "b" "near"*"#);
        assert_eq!(fts5_match(&SearchQuery::parse(" * - "), 1), "");
        assert_eq!(fts5_match(&SearchQuery::parse("painting wa"), 3), r#""painting" "wa""#);
        assert_eq!(fts5_match(&SearchQuery::parse("painting wat"), 3), r#""painting" "wat"*"#);
    }

    #[test]
    fn the_words_become_quoted_lexemes_of_a_tsquery_the_last_a_prefix() {
        assert_eq!(tsquery(&SearchQuery::parse("Painting watercol"), 1), "'painting' & 'watercol':*");
        assert_eq!(tsquery(&SearchQuery::parse("a & !b | c:*"), 1), "'a' & 'b' & 'c':*");
        assert_eq!(tsquery(&SearchQuery::parse(" * - "), 1), "");
        assert_eq!(tsquery(&SearchQuery::parse("painting wa"), 3), "'painting' & 'wa'");
    }

    #[test]
    fn each_postgres_document_is_made_by_the_expression_first_indexed() {
        let squashed = |sql: &str| sql.split_whitespace().collect::<Vec<_>>().join(" ");
        let search = squashed(include_str!("../../../../migrations/postgres/20261203000012_search.sql"));
        let at_scale =
            squashed(include_str!("../../../../migrations/postgres/20261203000015_search_and_insights_at_scale.sql"));
        let people =
            squashed(include_str!("../../../../migrations/postgres/20261204000017_member_search_documents.sql"));
        // Questions: the query repeats the indexed expression, or the index goes unused.
        let question_expression = squashed(&pg_question_document!().replace("q.", ""));
        assert!(search.contains(&format!("ON questions USING GIN ({question_expression})")));
        // Answers: the stored document is made by the expression migration 12 indexed.
        let answer_expression = "to_tsvector('rapport_search', regexp_replace(text, '[[:punct:]]+', ' ', 'g'))";
        assert!(search.contains(answer_expression));
        assert!(
            at_scale.contains(&format!("search_document tsvector GENERATED ALWAYS AS ({answer_expression}) STORED"))
        );
        assert!(at_scale.contains("ON answers USING GIN (search_document)"));
        // People: the side table's document is the name and title of migration 12's index.
        for part in [
            "setweight(to_tsvector('rapport_search', regexp_replace(name, '[[:punct:]]+', ' ', 'g')), 'A')",
            "setweight(to_tsvector('rapport_search', regexp_replace(title, '[[:punct:]]+', ' ', 'g')), 'B')",
        ] {
            assert!(search.contains(part) && people.contains(part), "{part}");
        }
        assert!(people.contains("ON member_search_documents USING GIN (document)"));
        assert_eq!(pg_person_document!(), "d.document");
    }
}
