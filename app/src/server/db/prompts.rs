//! The `prompts` table: one question to one member for one slot. The row is also the
//! delivery job, so its status says where the question is in its life.

use std::sync::LazyLock;

use sqlx::{Any, AnyConnection, Executor, FromRow as _, Row as _, any::AnyRow};

use super::{Backend, BoundQuery, Db, LIST_SLOTS, ROWS_PER_INSERT, bind_slots, case_slots, fetch_listed, insert_sql};

/// Where a prompt is in its life. `Pending`, `InFlight` and `Sent` are open (a member has
/// at most one open prompt); the rest are closed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptStatus {
    /// Waiting to be sent (due now or later, or waiting for a retry).
    Pending,
    /// A dispatcher holds it under a lease and is sending it.
    InFlight,
    /// In the member's DM, waiting for an answer.
    Sent,
    Answered,
    Skipped,
    Failed,
    /// Not delivered in time, or left unanswered when the next round came.
    Expired,
}

impl PromptStatus {
    /// Every status, in the order of a prompt's life.
    pub const ALL: [PromptStatus; 7] = [
        PromptStatus::Pending,
        PromptStatus::InFlight,
        PromptStatus::Sent,
        PromptStatus::Answered,
        PromptStatus::Skipped,
        PromptStatus::Failed,
        PromptStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PromptStatus::Pending => "pending",
            PromptStatus::InFlight => "in_flight",
            PromptStatus::Sent => "sent",
            PromptStatus::Answered => "answered",
            PromptStatus::Skipped => "skipped",
            PromptStatus::Failed => "failed",
            PromptStatus::Expired => "expired",
        }
    }

    pub(crate) fn parse(raw: &str) -> sqlx::Result<PromptStatus> {
        Ok(match raw {
            "pending" => PromptStatus::Pending,
            "in_flight" => PromptStatus::InFlight,
            "sent" => PromptStatus::Sent,
            "answered" => PromptStatus::Answered,
            "skipped" => PromptStatus::Skipped,
            "failed" => PromptStatus::Failed,
            "expired" => PromptStatus::Expired,
            other => return Err(super::decode_error("prompts.status", other)),
        })
    }
}

/// One question to one member for one slot; also the delivery job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub id: String,
    pub workspace_id: String,
    pub member_id: String,
    pub question_id: String,
    pub due_at: i64,
    pub sent_at: Option<i64>,
    pub slack_message_ts: Option<String>,
    pub status: PromptStatus,
    pub created_at: i64,
    pub updated_at: i64,
    /// The member's local date of the scheduled slot; `None` when asked on demand.
    pub round_date: Option<String>,
    /// Failed delivery tries so far (a 429 is not a failure).
    pub attempts: i64,
    /// When a dispatcher may next try to deliver it.
    pub next_attempt_at: i64,
    /// The claim token of the dispatcher holding it.
    pub claimed_by: Option<String>,
    /// A dispatcher's lease: until then, nobody else touches it.
    pub claimed_until: Option<i64>,
    /// When a Slack call to deliver it first started: a retry looks for the message first.
    pub send_started_at: Option<i64>,
    /// Why it failed or expired (the last error while it is retried).
    pub failure_reason: Option<String>,
}

/// A `prompts` row as stored (status as text); becomes a [`Prompt`].
#[derive(Debug, Clone, sqlx::FromRow)]
struct PromptRow {
    id: String,
    workspace_id: String,
    member_id: String,
    question_id: String,
    due_at: i64,
    sent_at: Option<i64>,
    slack_message_ts: Option<String>,
    status: String,
    created_at: i64,
    updated_at: i64,
    round_date: Option<String>,
    attempts: i64,
    next_attempt_at: i64,
    claimed_by: Option<String>,
    claimed_until: Option<i64>,
    send_started_at: Option<i64>,
    failure_reason: Option<String>,
}

impl TryFrom<PromptRow> for Prompt {
    type Error = sqlx::Error;

    fn try_from(row: PromptRow) -> sqlx::Result<Prompt> {
        Ok(Prompt {
            status: PromptStatus::parse(&row.status)?,
            id: row.id,
            workspace_id: row.workspace_id,
            member_id: row.member_id,
            question_id: row.question_id,
            due_at: row.due_at,
            sent_at: row.sent_at,
            slack_message_ts: row.slack_message_ts,
            created_at: row.created_at,
            updated_at: row.updated_at,
            round_date: row.round_date,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            claimed_by: row.claimed_by,
            claimed_until: row.claimed_until,
            send_started_at: row.send_started_at,
            failure_reason: row.failure_reason,
        })
    }
}

fn prompts(rows: Vec<PromptRow>) -> sqlx::Result<Vec<Prompt>> {
    rows.into_iter().map(Prompt::try_from).collect()
}

/// Stores a new prompt with every column as given.
pub async fn insert<'e>(ex: impl Executor<'e, Database = Any>, row: &Prompt) -> sqlx::Result<()> {
    let sql = super::insert_sql(INSERT, 1);
    bind_insert(sqlx::query(&sql), row).execute(ex).await?;
    Ok(())
}

/// Stores many new prompts at once (a bulk load), [`super::ROWS_PER_INSERT`] to a statement.
pub async fn insert_many(conn: &mut AnyConnection, rows: &[Prompt]) -> sqlx::Result<()> {
    super::insert_rows(conn, INSERT, rows, bind_insert).await
}

/// The insert's columns; [`bind_insert`] binds a prompt's values in this order.
const INSERT: &str = "INSERT INTO prompts (id, workspace_id, member_id, question_id, due_at, sent_at,
                                           slack_message_ts, status, created_at, updated_at, round_date,
                                           attempts, next_attempt_at, claimed_by, claimed_until, send_started_at,
                                           failure_reason)";

fn bind_insert<'q>(query: BoundQuery<'q>, row: &'q Prompt) -> BoundQuery<'q> {
    query
        .bind(&row.id)
        .bind(&row.workspace_id)
        .bind(&row.member_id)
        .bind(&row.question_id)
        .bind(row.due_at)
        .bind(row.sent_at)
        .bind(&row.slack_message_ts)
        .bind(row.status.as_str())
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(&row.round_date)
        .bind(row.attempts)
        .bind(row.next_attempt_at)
        .bind(&row.claimed_by)
        .bind(row.claimed_until)
        .bind(row.send_started_at)
        .bind(&row.failure_reason)
}

/// A member's question for one round, as the planner writes it: exactly the columns it
/// sets (it waits, due at its slot, untried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundPrompt {
    pub id: String,
    pub workspace_id: String,
    pub member_id: String,
    pub question_id: String,
    /// The member's local slot (Unix ms), and its local date (`YYYY-MM-DD`).
    pub due_at: i64,
    pub round_date: String,
}

/// Inserts a round's prompt unless the member already has one for that round or an open
/// one (the unique indexes decide, so concurrent planners insert it once). Returns whether
/// it was inserted.
pub async fn insert_if_new(conn: &mut AnyConnection, prompt: &RoundPrompt, now_ms: i64) -> sqlx::Result<bool> {
    Ok(!insert_many_if_new(conn, std::slice::from_ref(prompt), now_ms).await?.is_empty())
}

/// Inserts a round's prompts, each unless its member already has one for that round or an
/// open one (the unique indexes decide, so concurrent planners insert each once), a hundred
/// to a statement. Returns the ids of the ones inserted.
pub async fn insert_many_if_new(
    conn: &mut AnyConnection,
    rows: &[RoundPrompt],
    now_ms: i64,
) -> sqlx::Result<Vec<String>> {
    const INSERT: &str = "INSERT INTO prompts (id, workspace_id, member_id, question_id, due_at, status, created_at,
                                               updated_at, round_date, attempts, next_attempt_at)";
    let mut inserted = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!("{} ON CONFLICT DO NOTHING RETURNING id", insert_sql(INSERT, chunk.len()));
        let query = chunk.iter().fold(sqlx::query(&sql), |query, row| {
            query
                .bind(&row.id)
                .bind(&row.workspace_id)
                .bind(&row.member_id)
                .bind(&row.question_id)
                .bind(row.due_at)
                .bind(PromptStatus::Pending.as_str())
                .bind(now_ms)
                .bind(now_ms)
                .bind(&row.round_date)
                .bind(0_i64)
                .bind(row.due_at)
        });
        for row in query.fetch_all(&mut *conn).await? {
            inserted.push(row.try_get(0)?);
        }
    }
    Ok(inserted)
}

/// When and from which pack a member was asked each question they were ever asked.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AskedRow {
    pub question_id: String,
    pub pack_id: String,
    pub last_asked_at: i64,
}

/// What `member_id` was asked before: each question once, with when it was last asked.
pub async fn list_asked_for_member<'e>(
    ex: impl Executor<'e, Database = Any>,
    member_id: &str,
) -> sqlx::Result<Vec<AskedRow>> {
    sqlx::query_as(
        "SELECT p.question_id, q.pack_id, MAX(p.created_at) AS last_asked_at
         FROM prompts p JOIN questions q ON q.id = p.question_id
         WHERE p.member_id = $1
         GROUP BY p.question_id, q.pack_id",
    )
    .bind(member_id)
    .fetch_all(ex)
    .await
}

/// What each of `member_ids` was asked before, as pairs of member id and [`AskedRow`]. One
/// statement for up to twenty members.
pub async fn list_asked_for_members<'e>(
    ex: impl Executor<'e, Database = Any> + Copy,
    member_ids: &[&str],
) -> sqlx::Result<Vec<(String, AskedRow)>> {
    #[derive(sqlx::FromRow)]
    struct MemberAsked {
        member_id: String,
        #[sqlx(flatten)]
        asked: AskedRow,
    }
    static LIST: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT p.member_id, p.question_id, q.pack_id, MAX(p.created_at) AS last_asked_at
             FROM prompts p JOIN questions q ON q.id = p.question_id
             WHERE p.member_id IN ({})
             GROUP BY p.member_id, p.question_id, q.pack_id",
            bind_slots(1, LIST_SLOTS)
        )
    });
    let asked = |row: &AnyRow| MemberAsked::from_row(row).map(|row| (row.member_id, row.asked));
    fetch_listed(ex, &LIST, member_ids, |query| query, |query, id| query.bind(*id), asked).await
}

/// A prompt's `column` while it is in flight, NULL otherwise, as one expression: a condition
/// on it leaves PostgreSQL nothing an index on `status` can serve, so a statement finds its
/// prompts by what else it names (their ids, their workspace). Between two vacuums such an
/// index keeps an entry for every version of every prompt that was ever in flight, and
/// PostgreSQL counts only the live ones: in a round of 100,000, statements that took that
/// path were seen taking 10 to 18 ms each (BENCHMARKS.md, B3).
fn while_in_flight(column: &str) -> String {
    format!("CASE WHEN status = 'in_flight' THEN {column} END")
}

/// The condition that a prompt is in flight under the claim whose token is the bind `token`
/// (see [`while_in_flight`]: a write under a claim finds its prompts by id).
fn held_under(token: &str) -> String {
    format!("{} = {token}", while_in_flight("claimed_by"))
}

/// The condition on a prompt (columns prefixed by `table`) that a dispatcher may take it at
/// `now` (the bind `now`): waiting and due, or in flight with its lease over (the dispatcher
/// holding it stopped).
fn claimable(table: &str, now: &str) -> String {
    format!(
        "(({table}status = 'pending' AND {table}next_attempt_at <= {now}) \
         OR ({table}status = 'in_flight' AND {table}claimed_until < {now}))"
    )
}

/// Workspaces with prompts to deliver at `now` (see [`claimable`]), leaving out those Slack
/// asked to wait.
pub async fn list_workspaces_with_due<'e>(
    ex: impl Executor<'e, Database = Any>,
    now_ms: i64,
) -> sqlx::Result<Vec<String>> {
    let sql = format!(
        "SELECT DISTINCT p.workspace_id FROM prompts p JOIN workspaces w ON w.id = p.workspace_id
         WHERE {} AND (w.sending_paused_until IS NULL OR w.sending_paused_until <= $1)
         ORDER BY p.workspace_id",
        claimable("p.", "$1")
    );
    let rows: Vec<(String,)> = sqlx::query_as(&sql).bind(now_ms).fetch_all(ex).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Takes up to `limit` deliverable prompts of one workspace under the claim token `token`
/// until `lease_until`, oldest due first. Returns them as they were before the claim, apart
/// from the status (`in_flight`) and lease.
///
/// The one place the dialects differ: PostgreSQL skips rows another dispatcher is claiming
/// at this moment (`FOR UPDATE SKIP LOCKED`), so instances never wait on or take each other's
/// prompts; SQLite has a single writer, so the one statement is already atomic.
pub async fn claim<'e>(
    ex: impl Executor<'e, Database = Any>,
    backend: Backend,
    workspace_id: &str,
    token: &str,
    now_ms: i64,
    lease_until: i64,
    limit: i64,
) -> sqlx::Result<Vec<Prompt>> {
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE prompts SET status = 'in_flight', claimed_by = $5, claimed_until = $3, updated_at = $2
         WHERE id IN (SELECT id FROM prompts WHERE workspace_id = $1 AND {}
                      ORDER BY next_attempt_at, id LIMIT $4 {lock})
         RETURNING *",
        claimable("", "$2")
    );
    let rows: Vec<PromptRow> = sqlx::query_as(&sql)
        .bind(workspace_id)
        .bind(now_ms)
        .bind(lease_until)
        .bind(limit)
        .bind(token)
        .fetch_all(ex)
        .await?;
    prompts(rows)
}

/// How many messages the workspace's prompts took in the pacing window: sent since `since`,
/// or being sent now.
///
/// Two counts, each within the workspace's entries of its `(workspace_id, sent_at)` index:
/// the recent sends, and its unsent prompts held by a live claim. They never overlap: a
/// prompt gets `sent_at` only as it becomes `sent`, and a sent prompt never goes back to
/// being claimed. The second reads every prompt of the workspace never sent (waiting, in
/// flight, or failed or expired before sending, which are few). As one `OR` with a plain
/// `status = 'in_flight'`, PostgreSQL looked the second half up in the index on `status`
/// across every workspace ([`while_in_flight`]): 18 ms a count in the middle of a round.
pub async fn count_recent_sends<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    since: i64,
    now_ms: i64,
) -> sqlx::Result<i64> {
    static COUNT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT (SELECT COUNT(*) FROM prompts WHERE workspace_id = $1 AND sent_at > $2)
                  + (SELECT COUNT(*) FROM prompts WHERE workspace_id = $1 AND sent_at IS NULL AND {} >= $3)",
            while_in_flight("claimed_until")
        )
    });
    let (count,): (i64,) = sqlx::query_as(&COUNT).bind(workspace_id).bind(since).bind(now_ms).fetch_one(ex).await?;
    Ok(count)
}

/// Marks the prompts `ids` claimed under `token` as about to be sent (kept from the first
/// try on) and renews their lease to `lease_until`, committed before the Slack calls, so
/// whoever retries one knows to look for its message first. Returns the ids still held
/// under the claim: one missing was lost (its lease ran out and another dispatcher took it),
/// and this one must not send it. One statement for up to twenty ids.
pub async fn update_send_started_many<'e>(
    ex: impl Executor<'e, Database = Any> + Copy,
    ids: &[&str],
    token: &str,
    now_ms: i64,
    lease_until: i64,
) -> sqlx::Result<Vec<String>> {
    static MARK: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE prompts SET send_started_at = COALESCE(send_started_at, $2), claimed_until = $3, updated_at = $2
             WHERE id IN ({}) AND {}
             RETURNING id",
            bind_slots(4, LIST_SLOTS),
            held_under("$1")
        )
    });
    fetch_listed(
        ex,
        &MARK,
        ids,
        |query| query.bind(token).bind(now_ms).bind(lease_until),
        |query, id| query.bind(*id),
        |row| row.try_get(0),
    )
    .await
}

/// Puts a `claimed` prompt (as its claim returned it) back to wait until `next_attempt_at`. `failed_try`
/// counts the try against the prompt; `posted_maybe` keeps the sign that a message may have
/// reached Slack (timeouts, 5xx) or clears it (a 429 or a send that never started). Like
/// every write after a claim, it does nothing once the claim was lost to another dispatcher.
pub async fn update_retry<'e>(
    ex: impl Executor<'e, Database = Any>,
    claimed: &Prompt,
    next_attempt_at: i64,
    failed_try: bool,
    posted_maybe: bool,
    reason: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    static RETRY: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE prompts
             SET status = 'pending', next_attempt_at = $2, attempts = attempts + $3, claimed_by = NULL,
                 claimed_until = NULL, send_started_at = CASE WHEN $4 = 1 THEN send_started_at ELSE NULL END,
                 failure_reason = $5, updated_at = $6
             WHERE id = $1 AND {}",
            held_under("$7")
        )
    });
    let result = sqlx::query(&RETRY)
        .bind(&claimed.id)
        .bind(next_attempt_at)
        .bind(i64::from(failed_try))
        .bind(i64::from(posted_maybe))
        .bind(reason)
        .bind(now_ms)
        .bind(&claimed.claimed_by)
        .execute(ex)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Fails a prompt claimed under `token` that will not be delivered, and records why.
pub async fn update_failed<'e>(
    ex: impl Executor<'e, Database = Any>,
    prompt_id: &str,
    token: &str,
    reason: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    static FAIL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE prompts SET status = 'failed', failure_reason = $3, claimed_by = NULL, claimed_until = NULL,
                                updated_at = $4
             WHERE id = $1 AND {}",
            held_under("$2")
        )
    });
    let result = sqlx::query(&FAIL).bind(prompt_id).bind(token).bind(reason).bind(now_ms).execute(ex).await?;
    Ok(result.rows_affected() == 1)
}

/// Fails every waiting prompt of a workspace (Slack refused its token for good).
pub async fn fail_waiting_for_workspace<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    reason: &str,
    now_ms: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "UPDATE prompts SET status = 'failed', failure_reason = $2, claimed_until = NULL, updated_at = $3
         WHERE workspace_id = $1 AND status = 'pending'",
    )
    .bind(workspace_id)
    .bind(reason)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected())
}

/// Expires prompts still waiting for their first try that were due before `due_before`: a
/// question arriving hours late is worse than none, and the next round comes anyway.
pub async fn expire_undelivered_before<'e>(
    ex: impl Executor<'e, Database = Any>,
    due_before: i64,
    now_ms: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "UPDATE prompts SET status = 'expired', failure_reason = 'not delivered in time', updated_at = $2
         WHERE status = 'pending' AND send_started_at IS NULL AND due_at < $1",
    )
    .bind(due_before)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected())
}

/// A round's prompts counted by status and failure reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundStatusCount {
    pub status: PromptStatus,
    pub failure_reason: Option<String>,
    pub count: i64,
}

/// How many prompts there are of each status (the metrics' gauges); a status no prompt has
/// is left out.
pub async fn count_by_status<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<Vec<(PromptStatus, i64)>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM prompts GROUP BY status").fetch_all(ex).await?;
    rows.into_iter().map(|(status, count)| Ok((PromptStatus::parse(&status)?, count))).collect()
}

/// The latest round of a workspace that was due by `now` (`YYYY-MM-DD`), if any.
pub async fn find_last_round_date<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    now_ms: i64,
) -> sqlx::Result<Option<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT MAX(round_date) FROM prompts WHERE workspace_id = $1 AND due_at <= $2")
            .bind(workspace_id)
            .bind(now_ms)
            .fetch_optional(ex)
            .await?;
    Ok(row.and_then(|(date,)| date))
}

pub async fn count_round_by_status<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    round_date: &str,
) -> sqlx::Result<Vec<RoundStatusCount>> {
    let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT status, failure_reason, COUNT(*) AS count FROM prompts
         WHERE workspace_id = $1 AND round_date = $2
         GROUP BY status, failure_reason
         ORDER BY status, failure_reason",
    )
    .bind(workspace_id)
    .bind(round_date)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(status, failure_reason, count)| {
            Ok(RoundStatusCount { status: PromptStatus::parse(&status)?, failure_reason, count })
        })
        .collect()
}

/// Every prompt of a workspace, by due time (reports and checks).
pub async fn list_for_workspace<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
) -> sqlx::Result<Vec<Prompt>> {
    let rows: Vec<PromptRow> = sqlx::query_as("SELECT * FROM prompts WHERE workspace_id = $1 ORDER BY due_at, id")
        .bind(workspace_id)
        .fetch_all(ex)
        .await?;
    prompts(rows)
}

/// The member's open prompt (sent and not yet answered or skipped), if any. There is at
/// most one; the newest wins if older data says otherwise.
pub async fn find_open_for_member<'e>(
    ex: impl Executor<'e, Database = Any>,
    member_id: &str,
) -> sqlx::Result<Option<Prompt>> {
    let row: Option<PromptRow> = sqlx::query_as(
        "SELECT * FROM prompts
         WHERE member_id = $1 AND status IN ('pending', 'in_flight', 'sent')
         ORDER BY due_at DESC, id DESC
         LIMIT 1",
    )
    .bind(member_id)
    .fetch_optional(ex)
    .await?;
    row.map(Prompt::try_from).transpose()
}

/// One prompt of a workspace, whatever its status.
pub async fn find<'e>(
    ex: impl Executor<'e, Database = Any>,
    workspace_id: &str,
    prompt_id: &str,
) -> sqlx::Result<Option<Prompt>> {
    let row: Option<PromptRow> = sqlx::query_as("SELECT * FROM prompts WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(prompt_id)
        .fetch_optional(ex)
        .await?;
    row.map(Prompt::try_from).transpose()
}

/// Records that a prompt claimed under `token` reached Slack as message `ts`. Returns `false`
/// if it was no longer in flight under that claim (a state never moves backwards).
pub async fn update_sent<'e>(
    ex: impl Executor<'e, Database = Any> + Copy,
    prompt_id: &str,
    token: &str,
    slack_message_ts: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    Ok(!update_sent_many(ex, &[(prompt_id, slack_message_ts)], token, now_ms).await?.is_empty())
}

/// Records that the prompts claimed under `token` reached Slack, each as its message `ts`
/// (pairs of prompt id and `ts`). Returns the ids recorded: one missing was no longer in
/// flight under that claim (a state never moves backwards). One statement for up to twenty.
pub async fn update_sent_many<'e>(
    ex: impl Executor<'e, Database = Any> + Copy,
    sent: &[(&str, &str)],
    token: &str,
    now_ms: i64,
) -> sqlx::Result<Vec<String>> {
    static MARK: LazyLock<String> = LazyLock::new(|| {
        let (ts_by_id, ids) = case_slots("id", 3, LIST_SLOTS);
        format!(
            "UPDATE prompts SET status = 'sent', sent_at = $2, slack_message_ts = {ts_by_id}, claimed_by = NULL,
                                claimed_until = NULL, failure_reason = NULL, updated_at = $2
             WHERE id IN ({ids}) AND {held}
             RETURNING id",
            held = held_under("$1")
        )
    });
    fetch_listed(
        ex,
        &MARK,
        sent,
        |query| query.bind(token).bind(now_ms),
        |query, (id, ts)| query.bind(*id).bind(*ts),
        |row| row.try_get(0),
    )
    .await
}

/// Moves a prompt from `from` to `to`. Returns `false` when it was not in `from` (someone
/// else got there first), so callers never act twice on one prompt.
pub async fn update_status<'e>(
    ex: impl Executor<'e, Database = Any>,
    prompt_id: &str,
    from: PromptStatus,
    to: PromptStatus,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query("UPDATE prompts SET status = $3, updated_at = $4 WHERE id = $1 AND status = $2")
        .bind(prompt_id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(now_ms)
        .execute(ex)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Refreshes PostgreSQL's statistics of the prompts table, as autovacuum would a minute or
/// more later (or never, where it is off): until then the pacing and claiming queries are
/// planned from the table as it was, and after a round that many times its size they scan it
/// whole. SQLite plans these from its indexes alone: nothing to do there.
pub async fn refresh_statistics(db: &Db) -> sqlx::Result<()> {
    db.refresh_statistics("prompts").await
}
