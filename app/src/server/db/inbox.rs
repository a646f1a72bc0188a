//! The `inbox` table: everything a third party sends us (Slack events now, Stripe events
//! next), recorded once by (source, external id) and kept until processed. Items of one
//! ordering key run one at a time, in arrival order; a worker holds an item under a lease.

use std::collections::HashSet;

use sqlx::{Any, Executor};

use super::{Backend, Db};

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
    /// The stored form (`inbox.source`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::SlackEvent => "slack_event",
            Source::SlackInteraction => "slack_interaction",
            Source::SlackCommand => "slack_command",
            Source::StripeEvent => "stripe_event",
        }
    }

    /// Reads the stored form.
    pub fn parse(raw: &str) -> Option<Source> {
        [Source::SlackEvent, Source::SlackInteraction, Source::SlackCommand, Source::StripeEvent]
            .into_iter()
            .find(|source| source.as_str() == raw)
    }
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    source: String,
    external_id: String,
    ordering_key: String,
    kind: String,
    payload: String,
    attempts: i64,
    claimed_by: Option<String>,
    claimed_until: Option<i64>,
}

/// A claimed item, as a worker runs it. Its `Debug` leaves the payload out: it may hold
/// what people wrote.
#[derive(Clone, PartialEq, Eq)]
pub struct Item {
    pub id: i64,
    pub source: Source,
    pub external_id: String,
    pub ordering_key: String,
    pub kind: String,
    pub payload: String,
    /// Failed tries before this one.
    pub attempts: i64,
    /// The claim token it is held under, and until when.
    pub claimed_by: String,
    pub claimed_until: i64,
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Item")
            .field("id", &self.id)
            .field("source", &self.source)
            .field("external_id", &self.external_id)
            .field("ordering_key", &self.ordering_key)
            .field("kind", &self.kind)
            .field("payload_bytes", &self.payload.len())
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
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
            claimed_until: row.claimed_until.unwrap_or_default(),
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

/// Records `items`, each with the time it was received, in one statement; returns the
/// (source, external id) of those that were new. One already recorded, or given twice in `items`, is
/// kept once. At most [`MAX_INSERT_MANY`] items.
pub async fn insert_many_if_new<'e>(
    ex: impl Executor<'e, Database = Any>,
    items: &[(NewItem<'_>, i64)],
) -> sqlx::Result<HashSet<(String, String)>> {
    debug_assert!(items.len() <= MAX_INSERT_MANY);
    if items.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<String> = (0..items.len())
        .map(|n| {
            let p = n * 6;
            format!("(${}, ${}, ${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 6)
        })
        .collect();
    let sql = format!(
        "INSERT INTO inbox (source, external_id, ordering_key, kind, payload, received_at, next_attempt_at)
         VALUES {}
         ON CONFLICT (source, external_id) DO NOTHING
         RETURNING source, external_id",
        rows.join(", ")
    );
    let mut query = sqlx::query_as::<_, (String, String)>(&sql);
    for (item, received_at) in items {
        query = query
            .bind(item.source.as_str())
            .bind(item.external_id)
            .bind(item.ordering_key)
            .bind(item.kind)
            .bind(item.payload)
            .bind(*received_at);
    }
    Ok(query.fetch_all(ex).await?.into_iter().collect())
}

/// The most items [`insert_many_if_new`] takes: six parameters each, far below SQLite's
/// 32,766 and PostgreSQL's 65,535.
pub const MAX_INSERT_MANY: usize = 256;

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

/// Claims work under `token` until `lease_until`: for up to `keys` ordering keys whose
/// oldest unfinished item is due and held by nobody, that item and the next ones of its key,
/// `run` items at most, oldest first. A key's items so run one at a time in arrival order in
/// one worker, and a key whose oldest item waits (for a retry, or in another worker's hands)
/// holds back only its own later items.
///
/// Two steps in one transaction: the first picks the keys by locking their oldest item, the
/// second takes each key's run. The keys are looked for among the oldest open items first
/// ([`HEADS_WINDOW_PER_KEY`] per key asked for, items in a worker's hands left out): a key
/// with an item there has its oldest item there, so that is exact, and with a backlog spread
/// over many workspaces it costs the same with 100 or 100,000 items waiting. Only when that
/// window is full and yields no key (every key in it waits for a retry or is held, as a
/// self-hosted install's one workspace is while its backlog runs) is the whole backlog
/// grouped; a window that yields fewer keys than asked for is not topped up. The one place the dialects differ: PostgreSQL skips keys another
/// instance is claiming at this moment (`FOR UPDATE SKIP LOCKED`); SQLite's write
/// transaction already has the database to itself.
pub async fn claim(
    db: &Db,
    token: &str,
    now_ms: i64,
    lease_until: i64,
    keys: i64,
    run: i64,
) -> sqlx::Result<Vec<Item>> {
    let mut tx = db.begin_write().await?;
    let window = keys.max(1) * HEADS_WINDOW_PER_KEY;
    // Items under a live claim are left out: their workspace cannot be claimed now (the
    // heads query checks that), and the runs in hand would fill the window.
    let oldest = format!(
        "(SELECT id, ordering_key FROM inbox
          WHERE {OPEN} AND (claimed_until IS NULL OR claimed_until < $1)
          ORDER BY id LIMIT {window})"
    );
    let mut ready = ready_keys(db.backend(), &mut tx, &oldest, now_ms, keys).await?;
    if ready.is_empty() {
        let counted = format!("SELECT COUNT(*) FROM {oldest} oldest");
        let in_window: i64 = sqlx::query_scalar(&counted).bind(now_ms).fetch_one(&mut *tx).await?;
        if in_window == window {
            let everything = format!("(SELECT id, ordering_key FROM inbox WHERE {OPEN})");
            ready = ready_keys(db.backend(), &mut tx, &everything, now_ms, keys).await?;
        }
    }
    if ready.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    // Never over a live claim: the key was free a moment ago, in this same transaction.
    let take = format!(
        "UPDATE inbox SET claimed_by = $1, claimed_until = $2
         WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY ordering_key ORDER BY id) AS position
                                      FROM inbox
                                      WHERE {OPEN} AND ordering_key IN ({keys})) runs
                      WHERE position <= $3)
           AND (claimed_until IS NULL OR claimed_until < $4)
         RETURNING id, source, external_id, ordering_key, kind, payload, attempts, claimed_by, claimed_until",
        keys = super::bind_slots(5, ready.len())
    );
    let mut query = sqlx::query_as::<_, ItemRow>(&take).bind(token).bind(lease_until).bind(run).bind(now_ms);
    for (key,) in &ready {
        query = query.bind(key);
    }
    let rows = query.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let mut items = rows.into_iter().map(Item::try_from).collect::<sqlx::Result<Vec<_>>>()?;
    // RETURNING gives no order; each key's run goes oldest first.
    items.sort_by_key(|item| item.id);
    Ok(items)
}

/// Items neither processed nor given up.
const OPEN: &str = "processed_at IS NULL AND gave_up_at IS NULL";
/// How many of the oldest open items a claim looks through for each key it asks for.
const HEADS_WINDOW_PER_KEY: i64 = 128;

/// Up to `keys` ordering keys whose oldest open item, among the open items `items` (a
/// subquery of `id, ordering_key`), is due and held by nobody; oldest first, locked on
/// PostgreSQL.
async fn ready_keys(
    backend: Backend,
    tx: &mut sqlx::Transaction<'static, Any>,
    items: &str,
    now_ms: i64,
    keys: i64,
) -> sqlx::Result<Vec<(String,)>> {
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE OF i SKIP LOCKED",
        Backend::Sqlite => "",
    };
    // The oldest open item of each key comes from one grouped scan, not a per-row
    // `NOT EXISTS`: that plan's cost grew with the square of the backlog when PostgreSQL's
    // statistics lagged behind a burst of events. A head is open already; saying so again
    // for `i` ([`OPEN`]: only `i` has those columns here) lets PostgreSQL, which joins the
    // heads in id order, walk the index of open items instead of the primary key from the
    // first item ever kept: that walk read every processed item each claim (78 ms with
    // 67,000 processed, 2.8 ms with this), and finished items are kept for a week.
    let heads = format!(
        "SELECT i.ordering_key FROM inbox i
         JOIN (SELECT MIN(id) AS id FROM {items} open_items GROUP BY ordering_key) heads ON heads.id = i.id
         WHERE {OPEN}
           AND i.next_attempt_at <= $1 AND (i.claimed_until IS NULL OR i.claimed_until < $1)
           -- A key some worker still holds items of is busy, whichever item is oldest now:
           -- ids are handed out before commit, so an older item can appear behind a run.
           AND NOT EXISTS (SELECT 1 FROM inbox held
                           WHERE held.ordering_key = i.ordering_key AND held.claimed_by IS NOT NULL
                             AND held.processed_at IS NULL AND held.gave_up_at IS NULL
                             AND held.claimed_until >= $1)
         ORDER BY i.id LIMIT $2 {lock}"
    );
    sqlx::query_as(&heads).bind(now_ms).bind(keys).fetch_all(&mut **tx).await
}

/// Extends the lease on what `token` still holds of `ordering_key` to `lease_until` (a long
/// run). Returns the ids still held: an item missing was lost to another worker.
pub async fn renew<'e>(
    ex: impl Executor<'e, Database = Any>,
    token: &str,
    ordering_key: &str,
    lease_until: i64,
) -> sqlx::Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "UPDATE inbox SET claimed_until = $3
         WHERE claimed_by = $1 AND ordering_key = $2 AND processed_at IS NULL AND gave_up_at IS NULL
         RETURNING id",
    )
    .bind(token)
    .bind(ordering_key)
    .bind(lease_until)
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Gives back what `token` still holds of `ordering_key` (a run stopped early), so the next
/// claim takes it again in order.
pub async fn release<'e>(ex: impl Executor<'e, Database = Any>, token: &str, ordering_key: &str) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "UPDATE inbox SET claimed_by = NULL, claimed_until = NULL
         WHERE claimed_by = $1 AND ordering_key = $2 AND processed_at IS NULL AND gave_up_at IS NULL",
    )
    .bind(token)
    .bind(ordering_key)
    .execute(ex)
    .await?;
    Ok(result.rows_affected())
}

/// Marks items held under `token` processed and drops their payloads (they may hold what
/// people wrote). Returns how many were marked: fewer than `ids` when a claim was lost
/// meanwhile. At most [`MAX_PROCESSED_AT_ONCE`] ids.
pub async fn update_processed<'e>(
    ex: impl Executor<'e, Database = Any>,
    ids: &[i64],
    token: &str,
    now_ms: i64,
) -> sqlx::Result<u64> {
    assert!(ids.len() <= MAX_PROCESSED_AT_ONCE, "at most {MAX_PROCESSED_AT_ONCE} items are marked at once");
    let Some(&first) = ids.first() else { return Ok(0) };
    // Every slot is bound (the ones past `ids` repeat the first), so there is one statement,
    // prepared once per connection, whatever the number. Every outcome clears `claimed_by`,
    // so an item held under `token` is unfinished; saying `processed_at IS NULL` as well led
    // SQLite to walk every unfinished item by `inbox_finished` instead of looking up the ids.
    static MARK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "UPDATE inbox SET processed_at = $2, payload = '', claimed_by = NULL, claimed_until = NULL, last_error = NULL
             WHERE claimed_by = $1 AND id IN ({})",
            super::bind_slots(3, MAX_PROCESSED_AT_ONCE)
        )
    });
    let mut query = sqlx::query(&MARK).bind(token).bind(now_ms);
    for slot in 0..MAX_PROCESSED_AT_ONCE {
        query = query.bind(ids.get(slot).copied().unwrap_or(first));
    }
    Ok(query.execute(ex).await?.rows_affected())
}

/// The most items [`update_processed`] marks in one statement: a claim's longest run.
pub const MAX_PROCESSED_AT_ONCE: usize = 32;

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

/// Refreshes PostgreSQL's statistics of the inbox; nothing to do on SQLite.
///
/// Autovacuum would, a minute or more later (or never, where it is off). Planned from an
/// inbox that was empty, a claim walks every open item to find a few keys' runs (measured on
/// a backlog of 114,000: 60 ms a claim before, 6 ms after). SQLite plans these from its
/// indexes alone.
pub async fn refresh_statistics(db: &Db) -> sqlx::Result<()> {
    db.refresh_statistics("inbox").await
}

/// How many items are still to be processed (waiting, held or due for a retry).
pub async fn count_unfinished<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<i64> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL AND gave_up_at IS NULL")
            .fetch_one(ex)
            .await?;
    Ok(count)
}

/// When the oldest item still to be processed was received (Unix ms), if there is one.
pub async fn find_oldest_unfinished_received_at<'e>(
    ex: impl Executor<'e, Database = Any>,
) -> sqlx::Result<Option<i64>> {
    let (oldest,): (Option<i64>,) =
        sqlx::query_as("SELECT MIN(received_at) FROM inbox WHERE processed_at IS NULL AND gave_up_at IS NULL")
            .fetch_one(ex)
            .await?;
    Ok(oldest)
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
    /// The claim token it is held under, if a worker holds it.
    pub claimed_by: Option<String>,
}

/// An item's state by (source, external id).
pub async fn find_state<'e>(
    ex: impl Executor<'e, Database = Any>,
    source: Source,
    external_id: &str,
) -> sqlx::Result<Option<ItemState>> {
    sqlx::query_as(
        "SELECT external_id, attempts, processed_at, gave_up_at, last_error, payload, claimed_by FROM inbox
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
