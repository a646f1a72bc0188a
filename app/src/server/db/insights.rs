//! Insights: read-only aggregates for `/admin/insights`, each scoped to one workspace and one
//! span of whole weeks. Every number is counted in SQL; the service only arranges what comes
//! back.
//!
//! The counts are read from the rollup tables of migration 16, which triggers keep as prompts
//! and answers change: prompts sent per week, question and status
//! (`insight_prompt_weeks`); answers per question, whole minutes (and hours) waited and week
//! sent (`insight_answer_waits`, `insight_answer_wait_hours`); answers per week and local
//! hour of the week
//! (`insight_answer_hours`). A prompt counts as asked when it was sent, in the week it was
//! sent; what became of it is its status (an answer withdrawn later leaves it answered). So a
//! span must start and end on a week's start ([`MONDAY_EPOCH_OFFSET_MS`] plus whole weeks).
//! The same statements run on SQLite and PostgreSQL: sums are cast to `BIGINT` (PostgreSQL's
//! `SUM` of integers is `numeric`), and the median is picked with window functions.

use sqlx::{Any, Executor};

/// A week in milliseconds.
pub const WEEK_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Monday 1970-01-05 00:00 UTC, the first Monday after the Unix epoch (a Thursday): weeks are
/// counted from it, so every week starts on a Monday at 00:00 UTC.
pub const MONDAY_EPOCH_OFFSET_MS: i64 = 4 * 24 * 60 * 60 * 1000;

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

/// The workspace's prompts sent in the weeks `[from_ms, to_ms)`, counted per week (weeks
/// without any are left out).
pub async fn count_by_week<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::Result<Vec<WeekCountRow>> {
    sqlx::query_as(
        "SELECT week_start,
                CAST(SUM(prompt_count) AS BIGINT) AS asked,
                CAST(SUM(CASE WHEN status = 'answered' THEN prompt_count ELSE 0 END) AS BIGINT) AS answered,
                CAST(SUM(CASE WHEN status = 'skipped' THEN prompt_count ELSE 0 END) AS BIGINT) AS skipped,
                CAST(SUM(CASE WHEN status = 'expired' THEN prompt_count ELSE 0 END) AS BIGINT) AS expired
         FROM insight_prompt_weeks
         WHERE workspace_id = $1 AND week_start >= $2 AND week_start < $3
         GROUP BY week_start
         HAVING SUM(prompt_count) > 0
         ORDER BY week_start",
    )
    .bind(workspace_id)
    .bind(from_ms)
    .bind(to_ms)
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
    /// From the prompt's sending to its answer, in whole minutes (as ms), the median over the
    /// question's answers still kept; `None` when there is none.
    pub median_answer_ms: Option<i64>,
}

/// Every question the workspace asked in the weeks `[from_ms, to_ms)`, with its counts and
/// median time to answer, by id.
pub async fn count_by_question<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::Result<Vec<QuestionCountRow>> {
    // The median, from the answers counted per whole minute waited: with n answers, the
    // middle ones are at positions (n + 1) / 2 and (n + 2) / 2 in integer division (the same
    // one twice when n is odd), and the median is their mean, in whole milliseconds on both
    // backends. Counted per hour waited first, the hours holding those positions are found
    // (`middles`, with the answers before them); only their minutes are read, each position
    // at the first minute whose running count reaches it. Every sum is cast to `BIGINT`, or
    // PostgreSQL would halve `numeric`s with a fraction.
    sqlx::query_as(
        "WITH counts AS (
             SELECT question_id,
                    SUM(prompt_count) AS asked,
                    SUM(CASE WHEN status = 'answered' THEN prompt_count ELSE 0 END) AS answered,
                    SUM(CASE WHEN status = 'skipped' THEN prompt_count ELSE 0 END) AS skipped
             FROM insight_prompt_weeks
             WHERE workspace_id = $1 AND week_start >= $2 AND week_start < $3
             GROUP BY question_id
             HAVING SUM(prompt_count) > 0
         ),
         hours AS (
             SELECT question_id, wait_hour, CAST(SUM(answer_count) AS BIGINT) AS answers
             FROM insight_answer_wait_hours
             WHERE workspace_id = $1 AND week_start >= $2 AND week_start < $3
             GROUP BY question_id, wait_hour
             HAVING SUM(answer_count) > 0
         ),
         hours_running AS (
             SELECT question_id, wait_hour, answers,
                    CAST(SUM(answers) OVER by_hour AS BIGINT) AS reached,
                    CAST(SUM(answers) OVER (by_hour ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS BIGINT)
                        AS total
             FROM hours
             WINDOW by_hour AS (PARTITION BY question_id ORDER BY wait_hour)
         ),
         middles AS (
             SELECT question_id, wait_hour, reached - answers AS answers_before,
                    (total + 1) / 2 AS low_position, (total + 2) / 2 AS high_position
             FROM hours_running
             WHERE reached - answers < (total + 2) / 2 AND reached >= (total + 1) / 2
         ),
         minutes AS (
             SELECT m.question_id, m.wait_hour, w.wait_minute, m.answers_before, m.low_position, m.high_position,
                    CAST(SUM(w.answer_count) AS BIGINT) AS answers
             FROM middles m
             JOIN insight_answer_waits w
               ON w.workspace_id = $1 AND w.question_id = m.question_id
              AND w.wait_minute >= m.wait_hour * 60 AND w.wait_minute < m.wait_hour * 60 + 60
              AND w.week_start >= $2 AND w.week_start < $3
             GROUP BY m.question_id, m.wait_hour, w.wait_minute, m.answers_before, m.low_position, m.high_position
         ),
         minutes_running AS (
             SELECT question_id, wait_minute, low_position, high_position,
                    answers_before + CAST(SUM(answers) OVER (PARTITION BY question_id, wait_hour ORDER BY wait_minute) AS BIGINT)
                        AS reached
             FROM minutes
         ),
         medians AS (
             SELECT question_id,
                    MIN(CASE WHEN reached >= low_position THEN wait_minute END) AS low_minute,
                    MIN(CASE WHEN reached >= high_position THEN wait_minute END) AS high_minute
             FROM minutes_running
             GROUP BY question_id
         )
         SELECT q.id AS question_id,
                q.text AS question,
                k.name AS pack_name,
                CAST(c.asked AS BIGINT) AS asked,
                CAST(c.answered AS BIGINT) AS answered,
                CAST(c.skipped AS BIGINT) AS skipped,
                CAST((m.low_minute + m.high_minute) * 60000 / 2 AS BIGINT) AS median_answer_ms
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

/// Every pack the workspace asked a question from in the weeks `[from_ms, to_ms)`, with its
/// counts, by id.
pub async fn count_by_pack<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::Result<Vec<PackCountRow>> {
    sqlx::query_as(
        "SELECT k.id AS pack_id,
                k.name AS pack_name,
                CAST(SUM(w.prompt_count) AS BIGINT) AS asked,
                CAST(SUM(CASE WHEN w.status = 'answered' THEN w.prompt_count ELSE 0 END) AS BIGINT) AS answered,
                CAST(SUM(CASE WHEN w.status = 'skipped' THEN w.prompt_count ELSE 0 END) AS BIGINT) AS skipped
         FROM insight_prompt_weeks w
         JOIN questions q ON q.id = w.question_id
         JOIN packs k ON k.id = q.pack_id
         WHERE w.workspace_id = $1 AND w.week_start >= $2 AND w.week_start < $3
         GROUP BY k.id, k.name
         HAVING SUM(w.prompt_count) > 0
         ORDER BY k.id",
    )
    .bind(workspace_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(ex)
    .await
}

/// How many answers were given in one hour of the week, in the members' own time.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AnswerHourRow {
    /// 0 is Monday 00:00 to 01:00, 167 is Sunday 23:00 to midnight
    /// ([`crate::server::zones::hour_of_week`]).
    pub hour_of_week: i64,
    pub answers: i64,
}

/// The workspace's answers given in the weeks `[from_ms, to_ms)` and still kept, counted per
/// hour of the week in each member's own time zone when they answered (hours without any are
/// left out).
pub async fn count_answers_by_local_hour<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::Result<Vec<AnswerHourRow>> {
    sqlx::query_as(
        "SELECT hour_of_week, CAST(SUM(answer_count) AS BIGINT) AS answers
         FROM insight_answer_hours
         WHERE workspace_id = $1 AND week_start >= $2 AND week_start < $3
         GROUP BY hour_of_week
         HAVING SUM(answer_count) > 0
         ORDER BY hour_of_week",
    )
    .bind(workspace_id)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(ex)
    .await
}
