//! Insights: read-only aggregates over `prompts` and `answers` for `/admin/insights`, each
//! scoped to one workspace and one span of time. Every number is counted here, in SQL; the
//! service only arranges what comes back.
//!
//! A prompt counts as asked when it was sent (`sent_at` is set), in the week it was sent;
//! what became of it is its status (an answer withdrawn later leaves it answered). The same
//! statements run on SQLite and PostgreSQL: weeks are integer arithmetic on Unix ms, counts
//! are `COUNT(CASE ...)` (a plain `SUM` would be `numeric` on PostgreSQL), and the median is
//! picked with window functions, which both have.

use sqlx::{Any, Executor};

/// A week in milliseconds.
pub const WEEK_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Monday 1970-01-05 00:00 UTC, the first Monday after the Unix epoch (a Thursday): weeks are
/// counted from it, so every week starts on a Monday at 00:00 UTC.
pub const MONDAY_EPOCH_OFFSET_MS: i64 = 4 * 24 * 60 * 60 * 1000;

/// A quarter of an hour in milliseconds: the slice of UTC answer times are grouped by.
pub const QUARTER_HOUR_MS: i64 = 15 * 60 * 1000;

/// One week's prompts sent, by what became of them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WeekCountRow {
    /// The week's Monday, 00:00 UTC (Unix ms).
    pub week_start: i64,
    pub asked: i64,
    pub answered: i64,
    pub skipped: i64,
    pub expired: i64,
}

/// The workspace's prompts sent in `[from_ms, to_ms)`, counted per week (weeks without any
/// are left out).
pub async fn count_by_week<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::Result<Vec<WeekCountRow>> {
    // The week is worked out in the inner query and grouped by name outside, so the grouped
    // expression is a plain column on both backends.
    sqlx::query_as(
        "SELECT week_start,
                COUNT(*) AS asked,
                COUNT(CASE WHEN status = 'answered' THEN 1 END) AS answered,
                COUNT(CASE WHEN status = 'skipped' THEN 1 END) AS skipped,
                COUNT(CASE WHEN status = 'expired' THEN 1 END) AS expired
         FROM (SELECT ((sent_at - $4) / $5) * $5 + $4 AS week_start, status
               FROM prompts
               WHERE workspace_id = $1 AND sent_at >= $2 AND sent_at < $3) AS sent
         GROUP BY week_start
         ORDER BY week_start",
    )
    .bind(workspace_id)
    .bind(from_ms)
    .bind(to_ms)
    .bind(MONDAY_EPOCH_OFFSET_MS)
    .bind(WEEK_MS)
    .fetch_all(ex)
    .await
}

/// One question's prompts sent in a span, by what became of them, with the median time to
/// answer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QuestionCountRow {
    pub question_id: String,
    pub question: String,
    pub pack_name: String,
    pub asked: i64,
    pub answered: i64,
    pub skipped: i64,
    /// From the prompt's sending to its answer (ms), the median over the question's answers
    /// still kept; `None` when there is none.
    pub median_answer_ms: Option<i64>,
}

/// Every question the workspace asked in `[from_ms, to_ms)`, with its counts and median time
/// to answer, by id.
pub async fn count_by_question<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::Result<Vec<QuestionCountRow>> {
    // The median: the answers of each question numbered by their wait, then the middle one
    // (an odd count) or the middle two (an even count): for n answers, positions (n + 1) / 2
    // and (n + 2) / 2 in integer division, the same position twice when n is odd. Their mean
    // is (min + max) / 2 in integers, so both backends return the same whole milliseconds
    // (`AVG` would be `numeric` on PostgreSQL and `real` on SQLite).
    // Counted per question from the index alone; the questions' texts are joined to the few
    // counted rows, not to every prompt. The waits are sorted once: both window functions
    // share one ordering (the count's frame is the whole partition).
    sqlx::query_as(
        "WITH sent AS (
             SELECT id, question_id, status, sent_at
             FROM prompts
             WHERE workspace_id = $1 AND sent_at >= $2 AND sent_at < $3
         ),
         counts AS (
             SELECT question_id,
                    COUNT(*) AS asked,
                    COUNT(CASE WHEN status = 'answered' THEN 1 END) AS answered,
                    COUNT(CASE WHEN status = 'skipped' THEN 1 END) AS skipped
             FROM sent
             GROUP BY question_id
         ),
         waits AS (
             SELECT s.question_id,
                    a.created_at - s.sent_at AS wait_ms,
                    ROW_NUMBER() OVER by_wait AS wait_rank,
                    COUNT(*) OVER (by_wait ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS answer_count
             FROM sent s JOIN answers a ON a.prompt_id = s.id
             WINDOW by_wait AS (PARTITION BY s.question_id ORDER BY a.created_at - s.sent_at)
         ),
         medians AS (
             SELECT question_id, (MIN(wait_ms) + MAX(wait_ms)) / 2 AS median_answer_ms
             FROM waits
             WHERE wait_rank IN ((answer_count + 1) / 2, (answer_count + 2) / 2)
             GROUP BY question_id
         )
         SELECT q.id AS question_id,
                q.text AS question,
                k.name AS pack_name,
                c.asked,
                c.answered,
                c.skipped,
                m.median_answer_ms
         FROM counts c
         JOIN questions q ON q.id = c.question_id
         JOIN packs k ON k.id = q.pack_id
         LEFT JOIN medians m ON m.question_id = c.question_id
         ORDER BY q.id",
    )
    .bind(workspace_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(ex)
    .await
}

/// One pack's prompts sent in a span, by what became of them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PackCountRow {
    pub pack_id: String,
    pub pack_name: String,
    pub asked: i64,
    pub answered: i64,
    pub skipped: i64,
}

/// Every pack the workspace asked a question from in `[from_ms, to_ms)`, with its counts, by
/// id.
pub async fn count_by_pack<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::Result<Vec<PackCountRow>> {
    // Counted per question first (from the index alone), then the few question rows are
    // summed per pack; `CAST` keeps PostgreSQL's `SUM` of integers an integer.
    sqlx::query_as(
        "SELECT k.id AS pack_id,
                k.name AS pack_name,
                CAST(SUM(c.asked) AS BIGINT) AS asked,
                CAST(SUM(c.answered) AS BIGINT) AS answered,
                CAST(SUM(c.skipped) AS BIGINT) AS skipped
         FROM (SELECT question_id,
                      COUNT(*) AS asked,
                      COUNT(CASE WHEN status = 'answered' THEN 1 END) AS answered,
                      COUNT(CASE WHEN status = 'skipped' THEN 1 END) AS skipped
               FROM prompts
               WHERE workspace_id = $1 AND sent_at >= $2 AND sent_at < $3
               GROUP BY question_id) AS c
         JOIN questions q ON q.id = c.question_id
         JOIN packs k ON k.id = q.pack_id
         GROUP BY k.id, k.name
         ORDER BY k.id",
    )
    .bind(workspace_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(ex)
    .await
}

/// How many answers members of one time zone gave in one quarter of an hour (UTC).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AnswerTimeRow {
    /// The members' IANA zone as Slack gave it; `None` for members without one.
    pub time_zone: Option<String>,
    /// The quarter hour: `created_at / QUARTER_HOUR_MS` (its start is this times
    /// [`QUARTER_HOUR_MS`]).
    pub quarter_hour: i64,
    pub answers: i64,
}

/// The workspace's answers given in `[from_ms, to_ms)`, counted per (member's time zone, UTC
/// quarter hour).
///
/// Grouped so, not by local weekday and hour, because SQLite has no time zones: the service
/// turns each group (at most zones × quarter hours of the span, never more than the answers)
/// into a local weekday and hour with the zone's rules, DST included. Quarter hours, not
/// hours, because some zones are 30 or 45 minutes off UTC: every zone's offset and every DST
/// change is a whole number of quarter hours, so one UTC quarter hour is one local hour.
pub async fn count_answers_by_zone_and_quarter_hour<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::Result<Vec<AnswerTimeRow>> {
    sqlx::query_as(
        "SELECT time_zone, quarter_hour, COUNT(*) AS answers
         FROM (SELECT m.time_zone, a.created_at / $4 AS quarter_hour
               FROM answers a
               JOIN prompts p ON p.id = a.prompt_id
               JOIN members m ON m.id = p.member_id
               WHERE a.workspace_id = $1 AND p.workspace_id = $1 AND a.created_at >= $2 AND a.created_at < $3)
              AS given
         GROUP BY time_zone, quarter_hour
         ORDER BY time_zone, quarter_hour",
    )
    .bind(workspace_id)
    .bind(from_ms)
    .bind(to_ms)
    .bind(QUARTER_HOUR_MS)
    .fetch_all(ex)
    .await
}
