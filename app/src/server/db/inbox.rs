//! The `inbox` table: everything a third party sends us (Slack events now, Stripe events
//! next), recorded once by (source, external id) and kept until processed. Items of one
//! ordering key run one at a time, in arrival order; a worker holds an item under a lease.

use sqlx::{Any, Executor};

use super::Backend;

/// Who sent an item, and what kind of delivery it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An Events API callback: processed by a worker after the acknowledgement.
    SlackEvent,
    /// A button press or modal submission: handled inline, recorded so a replay is ignored.
    SlackInteraction,
    /// A slash command: handled inline, recorded so a replay is ignored.
    SlackCommand,
    /// A Stripe webhook event.
    StripeEvent,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::SlackEvent => "slack_event",
            Source::SlackInteraction => "slack_interaction",
            Source::SlackCommand => "slack_command",
            Source::StripeEvent => "stripe_event",
        }
    }

    pub fn parse(raw: &str) -> Option<Source> {
        [Source::SlackEvent, Source::SlackInteraction, Source::SlackCommand, Source::StripeEvent]
            .into_iter()
            .find(|source| source.as_str() == raw)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct ItemRow {
    id: i64,
    source: String,
    external_id: String,
    ordering_key: String,
    kind: String,
    payload: String,
    attempts: i64,
    claimed_by: Option<String>,
}

/// A claimed item, as a worker runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: i64,
    pub source: Source,
    pub external_id: String,
    pub ordering_key: String,
    pub kind: String,
    pub payload: String,
    /// Failed tries before this one.
    pub attempts: i64,
    /// The claim token it is held under.
    pub claimed_by: String,
}

impl TryFrom<ItemRow> for Item {
    type Error = sqlx::Error;

    fn try_from(row: ItemRow) -> Result<Item, sqlx::Error> {
        let source = Source::parse(&row.source)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown inbox source {:?}", row.source).into()))?;
        Ok(Item {
            id: row.id,
            source,
            external_id: row.external_id,
            ordering_key: row.ordering_key,
            kind: row.kind,
            payload: row.payload,
            attempts: row.attempts,
            claimed_by: row.claimed_by.unwrap_or_default(),
        })
    }
}

/// An item as received: exactly the columns a new item sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem<'a> {
    pub source: Source,
    pub external_id: &'a str,
    pub ordering_key: &'a str,
    pub kind: &'a str,
    pub payload: &'a str,
}

/// Records an item to process. Returns `false` when (source, external id) was already
/// recorded (a retry or a duplicate delivery).
pub async fn insert_if_new<'e>(
    ex: impl Executor<'e, Database = Any>,
    item: &NewItem<'_>,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO inbox (source, external_id, ordering_key, kind, payload, received_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (source, external_id) DO NOTHING",
    )
    .bind(item.source.as_str())
    .bind(item.external_id)
    .bind(item.ordering_key)
    .bind(item.kind)
    .bind(item.payload)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Records an item handled as it arrived (nothing to keep, nothing left to do). Returns
/// `false` when it was already recorded: a replay.
pub async fn insert_handled<'e>(
    ex: impl Executor<'e, Database = Any>,
    source: Source,
    external_id: &str,
    kind: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO inbox (source, external_id, ordering_key, kind, payload, received_at, next_attempt_at,
                            processed_at)
         VALUES ($1, $2, '', $3, '', $4, $4, $4)
         ON CONFLICT (source, external_id) DO NOTHING",
    )
    .bind(source.as_str())
    .bind(external_id)
    .bind(kind)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Claims up to `limit` items under `token` until `lease_until`: for each ordering key, its
/// oldest unfinished item, when that item is due and nobody holds it. So a key's items run
/// one at a time in arrival order, and a key whose oldest item waits (for a retry, or in
/// another worker's hands) holds back only its own later items.
///
/// The one place the dialects differ: PostgreSQL skips rows another instance is claiming at
/// this moment (`FOR UPDATE SKIP LOCKED`); SQLite has a single writer, so the statement is
/// already atomic.
pub async fn claim<'e>(
    ex: impl Executor<'e, Database = Any>,
    backend: Backend,
    token: &str,
    now_ms: i64,
    lease_until: i64,
    limit: i64,
) -> sqlx::Result<Vec<Item>> {
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE OF i SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE inbox SET claimed_by = $1, claimed_until = $3
         WHERE id IN (
             SELECT i.id FROM inbox i
             WHERE i.processed_at IS NULL AND i.gave_up_at IS NULL AND i.next_attempt_at <= $2
               AND (i.claimed_until IS NULL OR i.claimed_until < $2)
               AND NOT EXISTS (SELECT 1 FROM inbox e
                               WHERE e.ordering_key = i.ordering_key AND e.id < i.id
                                 AND e.processed_at IS NULL AND e.gave_up_at IS NULL)
             ORDER BY i.id LIMIT $4 {lock})
         RETURNING id, source, external_id, ordering_key, kind, payload, attempts, claimed_by"
    );
    let rows: Vec<ItemRow> =
        sqlx::query_as(&sql).bind(token).bind(now_ms).bind(lease_until).bind(limit).fetch_all(ex).await?;
    let mut items = rows.into_iter().map(Item::try_from).collect::<sqlx::Result<Vec<_>>>()?;
    // RETURNING gives no order; run them oldest first.
    items.sort_by_key(|item| item.id);
    Ok(items)
}

/// Marks an item held under `token` processed and drops its payload (it may hold what
/// people wrote). `false` when the claim was lost meanwhile.
pub async fn update_processed<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
    token: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE inbox SET processed_at = $3, payload = '', claimed_by = NULL, claimed_until = NULL, last_error = NULL
         WHERE id = $1 AND claimed_by = $2 AND processed_at IS NULL",
    )
    .bind(id)
    .bind(token)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Puts an item held under `token` back to try again at `next_attempt_at`, counting the
/// failed try and keeping why it failed.
pub async fn update_retry<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
    token: &str,
    next_attempt_at: i64,
    error: &str,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE inbox SET attempts = attempts + 1, next_attempt_at = $3, last_error = $4,
                          claimed_by = NULL, claimed_until = NULL
         WHERE id = $1 AND claimed_by = $2 AND processed_at IS NULL",
    )
    .bind(id)
    .bind(token)
    .bind(next_attempt_at)
    .bind(error)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives up an item held under `token` whose retries ran out; later items of its key run.
pub async fn update_gave_up<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
    token: &str,
    error: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE inbox SET attempts = attempts + 1, gave_up_at = $3, last_error = $4,
                          claimed_by = NULL, claimed_until = NULL
         WHERE id = $1 AND claimed_by = $2 AND processed_at IS NULL",
    )
    .bind(id)
    .bind(token)
    .bind(now_ms)
    .bind(error)
    .execute(ex)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// How many items are still to be processed (waiting, held or due for a retry).
pub async fn count_unfinished<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<i64> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL AND gave_up_at IS NULL")
            .fetch_one(ex)
            .await?;
    Ok(count)
}

/// What became of an item, for checks and reports.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemState {
    pub external_id: String,
    pub attempts: i64,
    pub processed_at: Option<i64>,
    pub gave_up_at: Option<i64>,
    pub last_error: Option<String>,
    pub payload: String,
}

/// An item's state by (source, external id).
pub async fn find_state<'e>(
    ex: impl Executor<'e, Database = Any>,
    source: Source,
    external_id: &str,
) -> sqlx::Result<Option<ItemState>> {
    sqlx::query_as(
        "SELECT external_id, attempts, processed_at, gave_up_at, last_error, payload FROM inbox
         WHERE source = $1 AND external_id = $2",
    )
    .bind(source.as_str())
    .bind(external_id)
    .fetch_optional(ex)
    .await
}

/// Forgets items finished before `before_ms` (their ids only guard against late retries and
/// replays, and given-up items are kept this long for an operator to look at).
pub async fn delete_finished_before<'e>(ex: impl Executor<'e, Database = Any>, before_ms: i64) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "DELETE FROM inbox WHERE (processed_at IS NOT NULL AND processed_at < $1)
                              OR (gave_up_at IS NOT NULL AND gave_up_at < $1)",
    )
    .bind(before_ms)
    .execute(ex)
    .await?;
    Ok(result.rows_affected())
}
