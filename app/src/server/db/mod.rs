//! Storage: the connection pool for SQLite or PostgreSQL, migrations, and one repository
//! module per table. All SQL of the app lives under this folder.
//!
//! Both backends go through sqlx's `Any` driver, so every query here is written in SQL that
//! both dialects accept: `$n` binds, integer flags (0/1) and integer Unix-millisecond times.

pub mod admin_accounts;
pub mod answers;
pub mod billing;
pub mod directory;
pub mod inbox;
pub mod insights;
pub mod members;
pub mod packs;
pub mod prompts;
pub mod questions;
pub mod schedules;
pub mod search;
pub mod sessions;
pub mod sign_in_links;
pub mod token_key_checks;
pub mod weekly_summaries;
pub mod workspaces;

use std::{str::FromStr, sync::Arc, time::Duration};

use anyhow::Context as _;
use sqlx::{AnyPool, Executor as _, any::AnyPoolOptions, migrate::Migrator};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a SQLite writer waits for a lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// How long a PostgreSQL connection may sit in the pool before it is checked again on its
/// way out.
pub const POSTGRES_PING_AFTER_IDLE: Duration = Duration::from_secs(10);

/// Which database server `DATABASE_URL` points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl FromStr for Backend {
    type Err = String;

    /// Reads the backend from a database URL's scheme.
    fn from_str(url: &str) -> Result<Self, Self::Err> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err("must start with sqlite: or postgres://".to_owned())
        }
    }
}

impl Backend {
    /// The migrations written in this backend's dialect.
    pub fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// The database handle shared by every request and job.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// Where the directory's pages start, per workspace, as the database last said.
    page_starts: Arc<directory::KeptPageStarts>,
}

/// Why the database cannot serve requests right now (the body of a 503 from `/readyz`, so
/// it never carries the driver's own words: those can name hosts, users and tables).
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    /// `detail` is the driver's error, for the server's log only.
    #[error("the database does not answer")]
    Unreachable { detail: String },
    #[error("migration {0} is not applied")]
    MigrationPending(i64),
    #[error("migration {0} failed and needs attention")]
    MigrationFailed(i64),
}

/// `count` (at least one) numbered bind slots from `$first` on, comma-separated, for an
/// `IN (...)` list or a row of `VALUES`.
fn bind_slots(first: usize, count: usize) -> String {
    debug_assert!(count > 0, "a list of bind slots needs at least one");
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// Bind slots of one list statement ([`bind_padded`]): as many as a delivery batch holds.
const LIST_SLOTS: usize = 20;

/// Binds `values` (one to `slots` of them) with `bind`, then the first again into each slot
/// left, so a statement with a list of `slots` is prepared once per connection however many
/// values it is given. A repeat changes nothing in an `IN` list, nor in a `CASE`, where the
/// first `WHEN` that matches wins.
fn bind_padded<'q, T>(
    query: BoundQuery<'q>,
    values: &'q [T],
    slots: usize,
    bind: impl Fn(BoundQuery<'q>, &'q T) -> BoundQuery<'q>,
) -> BoundQuery<'q> {
    assert!(!values.is_empty() && values.len() <= slots, "{} values for {slots} slots", values.len());
    (0..slots).fold(query, |query, slot| bind(query, values.get(slot).unwrap_or(&values[0])))
}

/// Runs `sql`, whose list has [`LIST_SLOTS`] slots, once for each twenty of `values`, and
/// decodes every row it returns. `lead` binds what comes before the list, `bind` one value
/// (padded by [`bind_padded`]). Nothing runs for no values.
async fn fetch_listed<'e, 'q, T, R>(
    ex: impl sqlx::Executor<'e, Database = sqlx::Any> + Copy,
    sql: &'q str,
    values: &'q [T],
    lead: impl Fn(BoundQuery<'q>) -> BoundQuery<'q>,
    bind: impl Fn(BoundQuery<'q>, &'q T) -> BoundQuery<'q>,
    decode: impl Fn(&sqlx::any::AnyRow) -> sqlx::Result<R>,
) -> sqlx::Result<Vec<R>> {
    let mut decoded = Vec::with_capacity(values.len());
    for chunk in values.chunks(LIST_SLOTS) {
        let query = bind_padded(lead(sqlx::query(sql)), chunk, LIST_SLOTS, &bind);
        for row in query.fetch_all(ex).await? {
            decoded.push(decode(&row)?);
        }
    }
    Ok(decoded)
}

/// The two halves of an `UPDATE` that gives each of `count` rows its own value, for (key,
/// value) pairs bound in turn from `$first` on: `CASE key WHEN $first THEN $first+1 ... END`
/// for the `SET`, and the `IN` list of the keys for the `WHERE`.
fn case_slots(key: &str, first: usize, count: usize) -> (String, String) {
    let keys: Vec<usize> = (0..count).map(|pair| first + 2 * pair).collect();
    let whens: Vec<String> = keys.iter().map(|n| format!("WHEN ${n} THEN ${}", n + 1)).collect();
    let list: Vec<String> = keys.iter().map(|n| format!("${n}")).collect();
    (format!("CASE {key} {} END", whens.join(" ")), list.join(", "))
}

/// Rows one multi-row `INSERT` writes ([`insert_rows`]), far inside both databases' limit
/// on bind parameters (SQLite 32,766, PostgreSQL 65,535) at the widest table's 22 columns.
/// A fixed count, so a load prepares one statement for its full chunks and one for the rest.
const ROWS_PER_INSERT: usize = 100;

/// A query being bound, as [`insert_rows`] hands it to a table's binder.
type BoundQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// `insert` (`INSERT INTO table (a, b, ...)`) with `VALUES` for `rows` rows.
///
/// Each row gets one numbered bind slot per column of the list: `($1, $2), ($3, $4)`.
fn insert_sql(insert: &str, rows: usize) -> String {
    let columns = insert.matches(',').count() + 1;
    let values: Vec<String> = (0..rows).map(|row| format!("({})", bind_slots(1 + row * columns, columns))).collect();
    format!("{insert} VALUES {}", values.join(", "))
}

/// Writes `rows` with `insert` (see [`insert_sql`]), [`ROWS_PER_INSERT`] to a statement.
///
/// `bind` binds one row's values in the column list's order. One statement instead of one
/// a row is what makes a bulk load (a benchmark's team, the demo) take seconds, not
/// minutes. Outside a transaction, a refused row refuses its whole statement.
async fn insert_rows<T>(
    conn: &mut sqlx::AnyConnection,
    insert: &str,
    rows: &[T],
    bind: impl for<'q> Fn(BoundQuery<'q>, &'q T) -> BoundQuery<'q>,
) -> sqlx::Result<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = insert_sql(insert, chunk.len());
        let query = chunk.iter().fold(sqlx::query(&sql), &bind);
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A row count or offset as SQL binds it (`LIMIT`, `OFFSET`): saturating, never wrapping.
fn sql_count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Db {
    /// Opens a pool on `url`. A SQLite file (and its folder) is created when missing.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend: Backend = url.parse().map_err(|reason| anyhow::anyhow!("DATABASE_URL {reason}"))?;
        let pool = match backend {
            Backend::Sqlite => connect_sqlite(url).await?,
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                // sqlx pings a connection each time it leaves the pool, by default: a round
                // trip to the server before every statement. It pings each one as it comes
                // back as well, so only a connection left idle a while (the server restarted,
                // a proxy dropped it) is checked again before use; one dropped sooner fails
                // its next statement. B1 flat out went from 2,565 and 2,941 to 3,642 and
                // 3,184 events a second (BENCHMARKS.md, B1: "PostgreSQL's pool pings
                // only idle connections").
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= POSTGRES_PING_AFTER_IDLE {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect(url)
                .await
                .context("connecting to PostgreSQL")?,
        };
        Ok(Db { pool, backend, page_starts: Arc::default() })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn kept_page_starts(&self) -> &directory::KeptPageStarts {
        &self.page_starts
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`, waiting up to the busy timeout): a plain `BEGIN` that reads first
    /// cannot wait for a writer that got in meanwhile and fails with "database is locked".
    /// PostgreSQL's plain `BEGIN` has no such problem.
    pub async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Refreshes PostgreSQL's statistics of `table` (`ANALYZE`); nothing to do on SQLite.
    ///
    /// Skipped while autovacuum (or another refresh) holds the table, rather than waiting for
    /// it or cancelling its vacuum. Each table's module says when its statistics go stale.
    pub async fn refresh_statistics(&self, table: &'static str) -> sqlx::Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::raw_sql(&format!("ANALYZE (SKIP_LOCKED) {table}")).execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Applies every migration not yet applied.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.backend.migrator().run(&self.pool).await.context("running database migrations")?;
        // Data that SQL alone cannot work out (a time zone's rules) is filled in after.
        let filled = answers::fill_local_hours(self).await.context("filling in the answers' local hours")?;
        if filled > 0 {
            tracing::info!(answers = filled, "filled in the local hour of answers stored before the insights rollups");
        }
        let filled = members::fill_directory_keys(self).await.context("filling in the directory's sort keys")?;
        if filled > 0 {
            tracing::info!(members = filled, "filled in the directory's sort keys of members stored before them");
        }
        Ok(())
    }

    /// The latest time anything was recorded with the product's clock: a prompt or an answer
    /// changed, a Slack or Stripe delivery received. `None` for an empty database.
    pub async fn last_recorded_time(&self) -> sqlx::Result<Option<i64>> {
        sqlx::query_scalar(
            "SELECT MAX(latest) FROM (
                 SELECT MAX(updated_at) AS latest FROM prompts
                 UNION ALL SELECT MAX(updated_at) FROM answers
                 UNION ALL SELECT MAX(received_at) FROM inbox
             ) AS recorded",
        )
        .fetch_one(&self.pool)
        .await
    }

    /// Checks that the database answers and that every migration is applied.
    pub async fn readiness(&self) -> Result<(), NotReady> {
        let applied: Vec<(i64, i64)> =
            sqlx::query_as("SELECT version, CAST(CASE WHEN success THEN 1 ELSE 0 END AS BIGINT) FROM _sqlx_migrations")
                .fetch_all(&self.pool)
                .await
                .map_err(|error| match error {
                    // No migrations table yet: reachable, but nothing is applied.
                    sqlx::Error::Database(_) => NotReady::MigrationPending(first_version(self.backend)),
                    other => NotReady::Unreachable { detail: other.to_string() },
                })?;
        for migration in self.backend.migrator().iter() {
            match applied.iter().find(|(version, _)| *version == migration.version) {
                None => return Err(NotReady::MigrationPending(migration.version)),
                Some((_, 0)) => return Err(NotReady::MigrationFailed(migration.version)),
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Waits for open connections to finish and closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn first_version(backend: Backend) -> i64 {
    backend.migrator().iter().next().map_or(0, |m| m.version)
}

/// Connections to a SQLite file. Two, not more: SQLite writes one at a time, and in WAL mode
/// a connection drops its whole page cache whenever another one wrote since its last read,
/// then reads the pages again; every further connection is one more cache emptied by every
/// write, and one more thread (sqlx runs each connection on its own) to switch to on the
/// server's core. Two let a second statement run while one waits. Against eight, measured
/// back to back on one machine, B1, B2 and B3's round all went faster and the round's peak
/// memory fell by a third (BENCHMARKS.md, B1: "SQLite keeps two connections").
const SQLITE_CONNECTIONS: u32 = 2;

/// SQLite settings applied to every connection, logged once at start.
async fn connect_sqlite(url: &str) -> anyhow::Result<AnyPool> {
    let url = sqlite_url_creating_file(url)?;
    let pool = AnyPoolOptions::new()
        .max_connections(SQLITE_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(10))
        // sqlx pings a connection each time it leaves the pool, by default: for SQLite a
        // trip to the connection's thread and back before every statement, to check a file
        // that cannot go away as a server can. Without it B1's events took 38 thread
        // switches each instead of 51 (BENCHMARKS.md, B1: "SQLite's pool stops pinging").
        .test_before_acquire(false)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL: readers never block the writer. NORMAL is durable in WAL mode except
                // for the last commits before a power cut, the usual trade-off for an app.
                conn.execute(
                    format!(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};"
                    )
                    .as_str(),
                )
                .await?;
                Ok(())
            })
        })
        .connect(&url)
        .await
        .context("opening the SQLite database")?;
    log_sqlite_settings(&pool).await?;
    Ok(pool)
}

/// Makes sure the folder of a SQLite file exists and asks SQLite to create the file.
fn sqlite_url_creating_file(url: &str) -> anyhow::Result<String> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        anyhow::bail!("DATABASE_URL must name a SQLite file (WAL mode needs one), not {url:?}");
    }
    if let Some(folder) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating the database folder {}", folder.display()))?;
    }
    let has_mode = query.split('&').any(|pair| pair.starts_with("mode="));
    Ok(match (query.is_empty(), has_mode) {
        (_, true) => url.to_owned(),
        (true, false) => format!("{url}?mode=rwc"),
        (false, false) => format!("{url}&mode=rwc"),
    })
}

async fn log_sqlite_settings(pool: &AnyPool) -> anyhow::Result<()> {
    let (journal_mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(pool).await?;
    let (synchronous,): (i64,) = sqlx::query_as("PRAGMA synchronous").fetch_one(pool).await?;
    let (foreign_keys,): (i64,) = sqlx::query_as("PRAGMA foreign_keys").fetch_one(pool).await?;
    let (busy_timeout,): (i64,) = sqlx::query_as("PRAGMA busy_timeout").fetch_one(pool).await?;
    let synchronous = match synchronous {
        0 => "OFF",
        1 => "NORMAL",
        2 => "FULL",
        3 => "EXTRA",
        _ => "unknown",
    };
    tracing::info!(
        sqlite.journal_mode = %journal_mode,
        sqlite.synchronous = synchronous,
        sqlite.foreign_keys = foreign_keys == 1,
        sqlite.busy_timeout_ms = busy_timeout,
        "SQLite database opened"
    );
    Ok(())
}

/// Converts a stored 0/1 flag into a `bool` (flags are integers on both backends).
pub(crate) fn flag(value: i64) -> bool {
    value != 0
}

/// The error for a stored status or kind this code does not know (a newer release wrote it,
/// or the data was changed by hand).
pub(crate) fn decode_error(column: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("{column} holds an unknown value {value:?}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_row_insert_numbers_one_slot_per_column_row_after_row() {
        assert_eq!(insert_sql("INSERT INTO t (a, b)", 1), "INSERT INTO t (a, b) VALUES ($1, $2)");
        assert_eq!(
            insert_sql("INSERT INTO t (a,\n b, c)", 2),
            "INSERT INTO t (a,\n b, c) VALUES ($1, $2, $3), ($4, $5, $6)"
        );
    }

    #[test]
    fn bind_slots_are_numbered_from_the_first_one_asked() {
        assert_eq!(bind_slots(2, 3), "$2, $3, $4");
        assert_eq!(bind_slots(5, 1), "$5");
    }

    #[test]
    fn case_slots_pair_each_key_with_the_slot_after_it() {
        assert_eq!(
            case_slots("id", 3, 2),
            ("CASE id WHEN $3 THEN $4 WHEN $5 THEN $6 END".to_owned(), "$3, $5".to_owned())
        );
    }

    #[test]
    fn the_backend_comes_from_the_url_scheme() {
        assert_eq!("sqlite://data/rapport.db".parse(), Ok(Backend::Sqlite));
        assert_eq!("sqlite:rapport.db".parse(), Ok(Backend::Sqlite));
        assert_eq!("postgres://postgres@127.0.0.1/rapport".parse(), Ok(Backend::Postgres));
        assert_eq!("postgresql://db/rapport".parse(), Ok(Backend::Postgres));
        assert!("mysql://db/rapport".parse::<Backend>().is_err());
    }

    #[test]
    fn a_sqlite_url_asks_for_the_file_to_be_created() {
        let dir = std::env::temp_dir().join(format!("rapport-url-{}", std::process::id()));
        let url = format!("sqlite://{}/sub/app.db", dir.display());
        assert_eq!(sqlite_url_creating_file(&url).ok(), Some(format!("{url}?mode=rwc")));
        assert!(dir.join("sub").is_dir());
        let explicit = format!("sqlite://{}/sub/app.db?mode=ro", dir.display());
        assert_eq!(sqlite_url_creating_file(&explicit).ok(), Some(explicit.clone()));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_in_memory_sqlite_url_is_refused() {
        assert!(sqlite_url_creating_file("sqlite::memory:").is_err());
    }

    #[test]
    fn both_dialects_have_the_same_migration_versions() {
        let versions = |backend: Backend| backend.migrator().iter().map(|m| m.version).collect::<Vec<_>>();
        assert!(!versions(Backend::Sqlite).is_empty());
        assert_eq!(versions(Backend::Sqlite), versions(Backend::Postgres));
    }
}
