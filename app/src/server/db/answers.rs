//! The `answers` table: what a member said to a prompt, and who may see it.

use std::collections::HashMap;

use sqlx::{Any, AnyConnection, Executor};

use super::{BoundQuery, Db};
use crate::{features::answers::types::Visibility, server::zones};

/// What a member said to a prompt, and who may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub id: String,
    pub workspace_id: String,
    pub prompt_id: String,
    pub text: String,
    pub visibility: Visibility,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A team-visible answer on a member's profile, with its question.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberAnswerRow {
    pub id: String,
    pub question_id: String,
    pub question: String,
    pub text: String,
    pub created_at: i64,
}

/// A team-visible answer on a question's page, with who gave it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QuestionAnswerRow {
    pub id: String,
    pub member_id: String,
    pub member_name: String,
    pub member_title: String,
    pub member_avatar_url: String,
    pub text: String,
    pub created_at: i64,
}

/// Stores an answer with the hour of the week it was given in the member's own time zone
/// then (their zone, else the workspace's), which the insights heatmap counts: SQLite has no
/// time zones, so the hour is worked out here, with the zone's rules on that day.
pub async fn insert(conn: &mut AnyConnection, row: &Answer) -> sqlx::Result<()> {
    insert_many(conn, std::slice::from_ref(row)).await
}

/// Stores many answers at once (a bulk load), as [`insert`] stores one.
///
/// A statement per [`super::ROWS_PER_INSERT`] answers, after one read of their prompts' zones.
pub async fn insert_many(conn: &mut AnyConnection, rows: &[Answer]) -> sqlx::Result<()> {
    for chunk in rows.chunks(super::ROWS_PER_INSERT) {
        let zones_by_prompt = prompt_zones(conn, chunk).await?;
        // No prompt: the insert fails on its foreign key, as it would have anyway.
        let with_hours: Vec<(&Answer, Option<i64>)> = chunk
            .iter()
            .map(|row| {
                let hour = zones_by_prompt.get(&row.prompt_id).map(|(member, workspace)| {
                    zones::hour_of_week(zones::member_zone(member.as_deref(), workspace), row.created_at)
                });
                (row, hour)
            })
            .collect();
        super::insert_rows(conn, INSERT, &with_hours, bind_insert).await?;
    }
    Ok(())
}

/// The insert's columns; [`bind_insert`] binds an answer's values, and its local hour, in
/// this order.
const INSERT: &str =
    "INSERT INTO answers (id, workspace_id, prompt_id, text, visibility, created_at, updated_at, local_hour_of_week)";

fn bind_insert<'q>(query: BoundQuery<'q>, (row, local_hour): &'q (&Answer, Option<i64>)) -> BoundQuery<'q> {
    query
        .bind(&row.id)
        .bind(&row.workspace_id)
        .bind(&row.prompt_id)
        .bind(&row.text)
        .bind(row.visibility.as_str())
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(*local_hour)
}

/// The member's and the workspace's time zones of each answer's prompt, by prompt id.
async fn prompt_zones(
    conn: &mut AnyConnection,
    answers: &[Answer],
) -> sqlx::Result<HashMap<String, (Option<String>, String)>> {
    let sql = format!(
        "SELECT p.id, m.time_zone, w.default_time_zone
         FROM prompts p
         JOIN members m ON m.id = p.member_id
         JOIN workspaces w ON w.id = p.workspace_id
         WHERE p.id IN ({})",
        super::bind_slots(1, answers.len())
    );
    let query = answers.iter().fold(sqlx::query_as(&sql), |query, answer| query.bind(&answer.prompt_id));
    let rows: Vec<(String, Option<String>, String)> = query.fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().map(|(prompt_id, member, workspace)| (prompt_id, (member, workspace))).collect())
}

/// How many answers [`fill_local_hours`] reads and writes at a time.
const FILL_BATCH: i64 = 500;

/// One answer stored before answers kept their local hour, with the zones to work it out.
#[derive(sqlx::FromRow)]
struct HourlessRow {
    id: String,
    created_at: i64,
    member_zone: Option<String>,
    workspace_zone: String,
}

/// Gives every answer stored before migration 16 its local hour of the week (see [`insert`]),
/// a batch per write transaction, and returns how many it filled in. Runs at every start;
/// once all are filled it is one indexed read that finds nothing (no write lock taken).
pub async fn fill_local_hours(db: &Db) -> sqlx::Result<u64> {
    let mut filled = 0;
    loop {
        let rows: Vec<HourlessRow> = sqlx::query_as(
            "SELECT a.id, a.created_at, m.time_zone AS member_zone, w.default_time_zone AS workspace_zone
             FROM answers a
             JOIN prompts p ON p.id = a.prompt_id
             JOIN members m ON m.id = p.member_id
             JOIN workspaces w ON w.id = a.workspace_id
             WHERE a.local_hour_of_week IS NULL
             LIMIT $1",
        )
        .bind(FILL_BATCH)
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            return Ok(filled);
        }
        // Only still-empty hours are set: a second server filling in at the same time writes
        // the same values, and the trigger counts each answer once.
        let mut tx = db.begin_write().await?;
        for row in &rows {
            let zone = zones::member_zone(row.member_zone.as_deref(), &row.workspace_zone);
            filled +=
                sqlx::query("UPDATE answers SET local_hour_of_week = $2 WHERE id = $1 AND local_hour_of_week IS NULL")
                    .bind(&row.id)
                    .bind(zones::hour_of_week(zone, row.created_at))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
        }
        tx.commit().await?;
    }
}

/// Answers in a workspace by visibility, for reports and checks.
pub async fn count_for_workspace<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    visibility: Visibility,
) -> sqlx::Result<i64> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM answers WHERE workspace_id = $1 AND visibility = $2")
        .bind(workspace_id)
        .bind(visibility.as_str())
        .fetch_one(ex)
        .await?;
    Ok(count)
}

/// How many members answered at least once in `[from_ms, until_ms)`: the active members a
/// billing period counts. Any answer is activity, an only-me one too; a skip is not an
/// answer, so a member who only skipped does not count.
pub async fn count_members_who_answered<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    from_ms: i64,
    until_ms: i64,
) -> sqlx::Result<i64> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(DISTINCT p.member_id)
         FROM answers a
         JOIN prompts p ON p.id = a.prompt_id
         WHERE a.workspace_id = $1 AND a.created_at >= $2 AND a.created_at < $3",
    )
    .bind(workspace_id)
    .bind(from_ms)
    .bind(until_ms)
    .fetch_one(ex)
    .await?;
    Ok(count)
}

/// A member's team-visible answers, newest first.
pub async fn list_team_visible_for_member<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    member_id: &str,
) -> sqlx::Result<Vec<MemberAnswerRow>> {
    sqlx::query_as(
        "SELECT a.id, q.id AS question_id, q.text AS question, a.text, a.created_at
         FROM answers a
         JOIN prompts p ON p.id = a.prompt_id
         JOIN questions q ON q.id = p.question_id
         WHERE a.workspace_id = $1 AND p.member_id = $2 AND a.visibility = 'team'
         ORDER BY a.created_at DESC, a.id DESC",
    )
    .bind(workspace_id)
    .bind(member_id)
    .fetch_all(ex)
    .await
}

/// Everyone's team-visible answers to one question, newest first, leaving out members who
/// have left the workspace.
pub async fn list_team_visible_for_question<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    question_id: &str,
) -> sqlx::Result<Vec<QuestionAnswerRow>> {
    sqlx::query_as(
        "SELECT a.id, m.id AS member_id, m.name AS member_name, m.title AS member_title,
                m.avatar_url AS member_avatar_url, a.text, a.created_at
         FROM answers a
         JOIN prompts p ON p.id = a.prompt_id
         JOIN members m ON m.id = p.member_id
         WHERE a.workspace_id = $1 AND p.question_id = $2
           AND a.visibility = 'team' AND m.is_deleted = 0
         ORDER BY a.created_at DESC, a.id DESC",
    )
    .bind(workspace_id)
    .bind(question_id)
    .fetch_all(ex)
    .await
}

/// A team-visible answer as the sharing channel shows it: who, to what, and what they said.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DigestAnswerRow {
    pub id: String,
    pub member_name: String,
    pub member_title: String,
    pub question: String,
    pub text: String,
    pub created_at: i64,
}

const DIGEST_SELECT: &str = "SELECT a.id, m.name AS member_name, m.title AS member_title, q.text AS question,
                                    a.text, a.created_at
                             FROM answers a
                             JOIN prompts p ON p.id = a.prompt_id
                             JOIN members m ON m.id = p.member_id
                             JOIN questions q ON q.id = p.question_id";

/// Team-visible answers created in `(since, until]`, oldest first, from members still in
/// the workspace.
pub async fn list_team_visible_between<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    since: i64,
    until: i64,
) -> sqlx::Result<Vec<DigestAnswerRow>> {
    sqlx::query_as(&format!(
        "{DIGEST_SELECT} WHERE a.workspace_id = $1 AND a.visibility = 'team' AND m.is_deleted = 0
           AND a.created_at > $2 AND a.created_at <= $3
         ORDER BY a.created_at, a.id",
    ))
    .bind(workspace_id)
    .bind(since)
    .bind(until)
    .fetch_all(ex)
    .await
}

/// The team-visible answers a post in the sharing channel shows now, oldest first, from
/// members still in the workspace (what is left of it after withdrawals).
pub async fn list_in_post<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    channel: &str,
    ts: &str,
) -> sqlx::Result<Vec<DigestAnswerRow>> {
    sqlx::query_as(&format!(
        "{DIGEST_SELECT} WHERE a.workspace_id = $1 AND a.shared_channel_id = $2 AND a.shared_ts = $3
           AND a.visibility = 'team' AND m.is_deleted = 0
         ORDER BY a.created_at, a.id",
    ))
    .bind(workspace_id)
    .bind(channel)
    .bind(ts)
    .fetch_all(ex)
    .await
}

/// One of a member's own answers, whoever may see it (for the member's own eyes only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnAnswer {
    pub question: String,
    pub text: String,
    pub visibility: Visibility,
    pub created_at: i64,
}

/// A member's newest answers, team-visible and only-me alike, at most `limit`.
pub async fn list_own<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    member_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<OwnAnswer>> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT q.text AS question, a.text, a.visibility, a.created_at
         FROM answers a
         JOIN prompts p ON p.id = a.prompt_id
         JOIN questions q ON q.id = p.question_id
         WHERE a.workspace_id = $1 AND p.member_id = $2
         ORDER BY a.created_at DESC, a.id DESC
         LIMIT $3",
    )
    .bind(workspace_id)
    .bind(member_id)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(question, text, visibility, created_at)| {
            let visibility =
                Visibility::parse(&visibility).map_err(|_| super::decode_error("answers.visibility", &visibility))?;
            Ok(OwnAnswer { question, text, visibility, created_at })
        })
        .collect()
}

/// One of a member's answers as they manage it on `/me`, with where it was shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedAnswer {
    pub id: String,
    /// The prompt it answers.
    pub prompt_id: String,
    pub question_id: String,
    pub question: String,
    pub text: String,
    pub visibility: Visibility,
    pub created_at: i64,
    pub updated_at: i64,
    /// The post in the sharing channel that shows the answer, if one does.
    pub shared: Option<SharedPost>,
}

/// A post in the sharing channel that shows one or more answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedPost {
    pub channel: String,
    pub ts: String,
    pub kind: SharedAs,
}

/// What kind of post shows a shared answer, so it can be rebuilt as it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedAs {
    /// The answer's own post.
    Answer,
    /// A "Meet X" post introducing a new member, quoting their first answer.
    Introduction,
    /// A daily digest listing the day's answers.
    Digest,
}

impl SharedAs {
    /// The stored form (`answers.shared_as`).
    pub fn as_str(self) -> &'static str {
        match self {
            SharedAs::Answer => "answer",
            SharedAs::Introduction => "introduction",
            SharedAs::Digest => "digest",
        }
    }

    /// Reads the stored form.
    pub fn parse(raw: &str) -> sqlx::Result<SharedAs> {
        match raw {
            "answer" => Ok(SharedAs::Answer),
            "introduction" => Ok(SharedAs::Introduction),
            "digest" => Ok(SharedAs::Digest),
            other => Err(super::decode_error("answers.shared_as", other)),
        }
    }
}

type ManagedRow = (String, String, String, String, String, String, i64, i64, Option<String>, Option<String>, String);

const MANAGED_SELECT: &str = "SELECT a.id, a.prompt_id, q.id, q.text, a.text, a.visibility, a.created_at,
                                     a.updated_at, a.shared_channel_id, a.shared_ts, a.shared_as
                              FROM answers a
                              JOIN prompts p ON p.id = a.prompt_id
                              JOIN questions q ON q.id = p.question_id";

fn managed(row: ManagedRow) -> sqlx::Result<ManagedAnswer> {
    let (id, prompt_id, question_id, question, text, visibility, created_at, updated_at, channel, ts, shared_as) = row;
    let visibility =
        Visibility::parse(&visibility).map_err(|_| super::decode_error("answers.visibility", &visibility))?;
    let kind = SharedAs::parse(&shared_as)?;
    let shared = channel.zip(ts).map(|(channel, ts)| SharedPost { channel, ts, kind });
    Ok(ManagedAnswer { id, prompt_id, question_id, question, text, visibility, created_at, updated_at, shared })
}

/// Every answer of a member, newest first, whoever may see it (for the member only).
pub async fn list_managed<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    member_id: &str,
) -> sqlx::Result<Vec<ManagedAnswer>> {
    let rows: Vec<ManagedRow> = sqlx::query_as(&format!(
        "{MANAGED_SELECT} WHERE a.workspace_id = $1 AND p.member_id = $2 ORDER BY a.created_at DESC, a.id DESC"
    ))
    .bind(workspace_id)
    .bind(member_id)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(managed).collect()
}

/// One answer of a member, or `None` when the id is not theirs.
pub async fn find_managed<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    member_id: &str,
    answer_id: &str,
) -> sqlx::Result<Option<ManagedAnswer>> {
    let row: Option<ManagedRow> =
        sqlx::query_as(&format!("{MANAGED_SELECT} WHERE a.workspace_id = $1 AND p.member_id = $2 AND a.id = $3"))
            .bind(workspace_id)
            .bind(member_id)
            .bind(answer_id)
            .fetch_optional(ex)
            .await?;
    row.map(managed).transpose()
}

/// Changes an answer's text and who may see it.
pub async fn update_text_and_visibility<'e>(
    ex: impl Executor<'e, Database = Any>,
    answer_id: &str,
    text: &str,
    visibility: Visibility,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE answers SET text = $2, visibility = $3, updated_at = $4 WHERE id = $1")
        .bind(answer_id)
        .bind(text)
        .bind(visibility.as_str())
        .bind(now_ms)
        .execute(ex)
        .await?;
    Ok(())
}

/// Records which post in the sharing channel shows the answer (or that none does).
pub async fn update_shared<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    answer_id: &str,
    shared: Option<&SharedPost>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE answers SET shared_channel_id = $3, shared_ts = $4, shared_as = $5 WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace_id)
    .bind(answer_id)
    .bind(shared.map(|post| post.channel.as_str()))
    .bind(shared.map(|post| post.ts.as_str()))
    // With no post the kind means nothing; 'answer' keeps the column non-null.
    .bind(shared.map_or(SharedAs::Answer, |post| post.kind).as_str())
    .execute(ex)
    .await?;
    Ok(())
}

/// Deletes an answer (withdrawn, or its member asked to be forgotten).
pub async fn delete<'e>(ex: impl Executor<'e, Database = Any>, answer_id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM answers WHERE id = $1").bind(answer_id).execute(ex).await?;
    Ok(())
}

/// A workspace's answer as its export lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExportRow {
    pub member_id: String,
    pub member_name: String,
    pub question: String,
    pub text: String,
    pub visibility: String,
    pub created_at: i64,
}

/// Every answer of a workspace, oldest first (the admin's export of the workspace's data).
pub async fn list_for_export<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
) -> sqlx::Result<Vec<ExportRow>> {
    sqlx::query_as(
        "SELECT m.id AS member_id, m.name AS member_name, q.text AS question, a.text, a.visibility, a.created_at
         FROM answers a
         JOIN prompts p ON p.id = a.prompt_id
         JOIN members m ON m.id = p.member_id
         JOIN questions q ON q.id = p.question_id
         WHERE a.workspace_id = $1
         ORDER BY a.created_at, a.id",
    )
    .bind(workspace_id)
    .fetch_all(ex)
    .await
}
