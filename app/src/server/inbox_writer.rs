//! Group commit for the inbox: deliveries that arrive together are written in one
//! transaction. A request hands its item to the one writer task and waits; the writer takes
//! every item waiting (up to [`MAX_BATCH`]), inserts them in one transaction (a few
//! multi-row statements) and answers each request only after it has committed. So an acknowledged
//! delivery is as safe as one written alone, while a burst costs one commit (one WAL append
//! and one turn of SQLite's write lock, one fsync on PostgreSQL) instead of one per request.
//! Requests that arrive alone are written alone, without waiting for company.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::{mpsc, oneshot};

use super::{
    db::{
        Db,
        inbox::{self, NewItem, Source},
    },
    tasks::Tasks,
};

/// The most items written in one transaction.
const MAX_BATCH: usize = inbox::MAX_INSERT_MANY;
/// Items that may wait for the writer; a request beyond that waits to hand its item over.
const QUEUE: usize = 4 * MAX_BATCH;
/// Items handed over since the last refresh of the inbox's statistics that call for another.
///
/// A burst of deliveries outgrows what the database planned its claims for
/// (`inbox::refresh_statistics`).
const REFRESH_AFTER_ITEMS: usize = 10_000;
/// The shortest time between two refreshes of the inbox's statistics.
const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(30);

/// Hands inbox items to the writer task; cheap to clone. The task ends once every clone is
/// dropped, after writing what it was handed.
#[derive(Clone, Debug)]
pub struct InboxWriter {
    queue: mpsc::Sender<Pending>,
}

/// An item waiting to be written, and the request waiting for the outcome.
#[derive(Debug)]
struct Pending {
    item: OwnedItem,
    received_at: i64,
    done: oneshot::Sender<anyhow::Result<bool>>,
}

/// [`NewItem`] owned, to cross into the writer task.
#[derive(Debug)]
struct OwnedItem {
    source: Source,
    external_id: String,
    ordering_key: String,
    kind: String,
    payload: String,
}

impl OwnedItem {
    fn new(item: &NewItem<'_>) -> OwnedItem {
        OwnedItem {
            source: item.source,
            external_id: item.external_id.to_owned(),
            ordering_key: item.ordering_key.to_owned(),
            kind: item.kind.to_owned(),
            payload: item.payload.to_owned(),
        }
    }

    fn as_new(&self) -> NewItem<'_> {
        NewItem {
            source: self.source,
            external_id: &self.external_id,
            ordering_key: &self.ordering_key,
            kind: &self.kind,
            payload: &self.payload,
        }
    }
}

impl InboxWriter {
    /// Starts the writer task on `db` (within a Tokio runtime); refreshes of the statistics
    /// start through `tasks`.
    pub fn start(db: Db, tasks: Tasks) -> InboxWriter {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(db, tasks, waiting));
        InboxWriter { queue }
    }

    /// Records `item` as received at `received_at` and returns once it is committed:
    /// `false` when (source, external id) was already recorded. An error means it is not
    /// stored, and the sender should be told to deliver it again.
    pub async fn record(&self, item: &NewItem<'_>, received_at: i64) -> anyhow::Result<bool> {
        let (done, outcome) = oneshot::channel();
        let pending = Pending { item: OwnedItem::new(item), received_at, done };
        self.queue.send(pending).await.map_err(|_| anyhow::anyhow!("the inbox writer has stopped"))?;
        outcome.await.context("the inbox writer stopped before writing the item")?
    }
}

/// Writes batches until every [`InboxWriter`] is dropped and the queue is empty.
///
/// After a burst it has the inbox's statistics refreshed beside them (a failure is logged),
/// unless shutdown has begun.
async fn write_batches(db: Db, tasks: Tasks, mut waiting: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut since_refresh = 0;
    let mut refreshed_at: Option<Instant> = None;
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        since_refresh += batch.len();
        write(&db, &mut batch).await;
        if refresh_due(since_refresh, refreshed_at.map(|at| at.elapsed())) && !tasks.is_cancelled() {
            since_refresh = 0;
            refreshed_at = Some(Instant::now());
            let db = db.clone();
            tasks.spawn(async move {
                if let Err(error) = inbox::refresh_statistics(&db).await {
                    tracing::warn!(error = %error, "could not refresh the inbox's statistics after a burst");
                }
            });
        }
    }
}

/// Whether `written` items, handed over since the last refresh `since` ago, call for another.
///
/// `since` is `None` when the statistics were never refreshed.
fn refresh_due(written: usize, since: Option<Duration>) -> bool {
    written >= REFRESH_AFTER_ITEMS && since.is_none_or(|since| since >= REFRESH_AT_MOST_EVERY)
}

/// Writes `batch` in one transaction and answers each waiting request. When the database
/// refuses the batch, each item is tried again alone, so one bad item fails no other; when
/// the database cannot be reached, the whole batch fails at once (its senders deliver again).
async fn write(db: &Db, batch: &mut Vec<Pending>) {
    match insert_all(db, batch).await {
        Ok(recorded) => {
            for (pending, recorded) in batch.drain(..).zip(recorded) {
                // A request that gave up waiting has nobody to tell; its item is stored.
                let _ = pending.done.send(Ok(recorded));
            }
        }
        Err(error) if batch.len() == 1 || !matches!(error, sqlx::Error::Database(_)) => {
            let reason = format!("{error}");
            for pending in batch.drain(..) {
                let _ = pending.done.send(Err(anyhow::anyhow!("recording an inbox item: {reason}")));
            }
        }
        Err(error) => {
            tracing::warn!(error = %error, items = batch.len(), "an inbox batch failed; writing its items one by one");
            for pending in batch.drain(..) {
                let outcome = inbox::insert_if_new(db.pool(), &pending.item.as_new(), pending.received_at)
                    .await
                    .context("recording an inbox item");
                let _ = pending.done.send(outcome);
            }
        }
    }
}

/// Inserts every item of `batch` in one transaction; whether each was new (of two with one
/// id, the first). The statements take a power of two of items each (at most eight
/// statements), so each size is prepared once and then reused from the connection's cache.
async fn insert_all(db: &Db, batch: &[Pending]) -> sqlx::Result<Vec<bool>> {
    let items: Vec<(NewItem<'_>, i64)> =
        batch.iter().map(|pending| (pending.item.as_new(), pending.received_at)).collect();
    let mut tx = db.begin_write().await?;
    let mut new = std::collections::HashSet::new();
    let mut rest = items.as_slice();
    while !rest.is_empty() {
        let size = 1 << rest.len().ilog2();
        let (chunk, after) = rest.split_at(size);
        new.extend(inbox::insert_many_if_new(&mut *tx, chunk).await?);
        rest = after;
    }
    tx.commit().await?;
    Ok(batch
        .iter()
        .map(|pending| new.remove(&(pending.item.source.as_str().to_owned(), pending.item.external_id.clone())))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_refreshes_the_statistics_at_most_every_thirty_seconds() {
        assert!(!refresh_due(REFRESH_AFTER_ITEMS - 1, None));
        assert!(refresh_due(REFRESH_AFTER_ITEMS, None));
        assert!(!refresh_due(REFRESH_AFTER_ITEMS * 5, Some(Duration::from_secs(29))));
        assert!(refresh_due(REFRESH_AFTER_ITEMS, Some(REFRESH_AT_MOST_EVERY)));
        assert!(!refresh_due(REFRESH_AFTER_ITEMS - 1, Some(Duration::from_secs(600))));
    }
}
