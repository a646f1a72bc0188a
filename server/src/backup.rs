//! `rapport backup` and `rapport restore`: a consistent copy of a SQLite database taken while
//! Rapport runs, and putting one back while it is stopped. PostgreSQL has its own tools
//! (`pg_dump`, `pg_restore`); with a PostgreSQL `DATABASE_URL` both commands name them instead.

use std::{
    fmt,
    io::ErrorKind,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context as _;
use app::server::db::{Backend, Db};
use sqlx::{
    Connection as _, Executor as _,
    sqlite::{SqliteConnectOptions, SqliteConnection, SqliteLockingMode},
};

/// How long each try of `restore` waits for the database's lock.
const LOCK_WAIT: Duration = Duration::from_millis(250);
/// How many times the exclusive lock is tried before the database is called in use.
const LOCK_TRIES: u32 = 8;

/// The FTS5 search indexes (migration 15), each with the statement that rebuilds it from its
/// table. They point at their tables' implicit rowids, which VACUUM may renumber.
const SEARCH_INDEXES: [(&str, &str); 3] = [
    ("answers_fts", "INSERT INTO answers_fts (answers_fts) VALUES ('rebuild')"),
    ("questions_fts", "INSERT INTO questions_fts (questions_fts) VALUES ('rebuild')"),
    ("members_fts", "INSERT INTO members_fts (members_fts) VALUES ('rebuild')"),
];

/// How many rows a database holds in the tables an operator knows it by: counts only, so a
/// report never shows personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub workspaces: i64,
    pub members: i64,
    pub answers: i64,
}

/// What `rapport backup` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The backup, as an absolute path.
    pub file: PathBuf,
    pub bytes: u64,
    pub rows: RowCounts,
}

/// What `rapport restore` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The database that was replaced, as an absolute path.
    pub database: PathBuf,
    /// The size of the backup put in its place.
    pub bytes: u64,
    /// Migrations the backup lacked (it came from an older Rapport), applied afterwards.
    pub migrations_applied: usize,
    pub rows: RowCounts,
}

/// Writes a consistent copy of the SQLite database at `db_url` to the new file `file`.
/// The server may go on writing meanwhile; an existing file and a missing folder are refused.
pub async fn backup(db_url: &str, file: &Path) -> anyhow::Result<BackupReport> {
    let database = sqlite_file(
        db_url,
        format!(
            "rapport backup copies a SQLite database, and DATABASE_URL is PostgreSQL's: use its own tool,\n  \
             pg_dump --format=custom --file {} \"$DATABASE_URL\"",
            shell_word(file)
        ),
    )?;
    anyhow::ensure!(database.is_file(), "there is no database at {} (DATABASE_URL) to back up", database.display());
    let file = std::path::absolute(file).with_context(|| format!("reading the path {}", file.display()))?;
    claim(&file)?;
    // From here the file is ours: a failed copy is removed rather than left to pass for a backup.
    let rows = write_copy(&database, &file).await.inspect_err(|_| discard(&file))?;
    let bytes = std::fs::metadata(&file).with_context(|| format!("reading {}", file.display()))?.len();
    Ok(BackupReport { file, bytes, rows })
}

/// Replaces the SQLite database at `db_url` with the backup `file`, then migrates it.
/// Refuses while anyone has the database open, and a backup that is not a sound SQLite
/// database of this or an older Rapport.
pub async fn restore(db_url: &str, file: &Path) -> anyhow::Result<RestoreReport> {
    let database = sqlite_file(
        db_url,
        format!(
            "rapport restore replaces a SQLite database, and DATABASE_URL is PostgreSQL's: stop Rapport and use \
             its own tool,\n  pg_restore --clean --if-exists --dbname \"$DATABASE_URL\" {}",
            shell_word(file)
        ),
    )?;
    let metadata = match std::fs::metadata(file) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == ErrorKind::NotFound => anyhow::bail!("there is no backup at {}", file.display()),
        Err(error) => return Err(error).with_context(|| format!("reading {}", file.display())),
    };
    anyhow::ensure!(metadata.is_file(), "{} is not a file", file.display());
    if let Some(folder) = database.parent() {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating the database folder {}", folder.display()))?;
    }
    let staging = with_suffix(&database, ".restoring");

    // Held from before the backup is read until just before the database's files change.
    let lock = if database.exists() { Some(lock_exclusively(&database).await?) } else { None };
    let staged = stage(file, &staging).await;
    // Closing the lock's connection also checkpoints the old database's WAL and deletes it.
    let released = match lock {
        Some(lock) => lock.close().await.context("releasing the database"),
        None => Ok(()),
    };
    let backup_migrations = staged.and_then(|count| released.map(|()| count)).inspect_err(|_| discard(&staging))?;
    swap_in(&staging, &database).inspect_err(|_| discard(&staging))?;

    let db = Db::connect(db_url).await?;
    db.migrate().await?;
    db.close().await;
    let mut conn =
        SqliteConnection::connect_with(&options(&database)).await.context("opening the restored database")?;
    // A backup made another way (the sqlite3 shell's VACUUM INTO) may hold stale search indexes.
    rebuild_search_indexes(&mut conn).await.context("rebuilding the search indexes")?;
    let rows = RowCounts::of(&mut conn).await.context("counting the restored database's rows")?;
    conn.close().await.context("closing the restored database")?;
    let known = Backend::Sqlite.migrator().iter().count();
    Ok(RestoreReport {
        database,
        bytes: metadata.len(),
        migrations_applied: known.saturating_sub(backup_migrations),
        rows,
    })
}

/// The SQLite file `db_url` names, as an absolute path; `postgres_instead` is the answer to a
/// PostgreSQL URL.
fn sqlite_file(db_url: &str, postgres_instead: String) -> anyhow::Result<PathBuf> {
    let backend: Backend = db_url.parse().map_err(|reason| anyhow::anyhow!("DATABASE_URL {reason}"))?;
    if backend == Backend::Postgres {
        anyhow::bail!(postgres_instead);
    }
    let options: SqliteConnectOptions = db_url.parse().context("reading the SQLite DATABASE_URL")?;
    let path = options.get_filename();
    // sqlx names an in-memory database `file:sqlx-in-memory-<n>`.
    let in_memory = db_url.contains("mode=memory") || path.to_string_lossy().starts_with("file:sqlx-in-memory");
    anyhow::ensure!(!in_memory && !path.as_os_str().is_empty(), "DATABASE_URL must name a SQLite file");
    std::path::absolute(path).context("reading the SQLite file's path")
}

/// A connection to the existing file `path`, with sqlx's defaults (foreign keys on, a busy
/// timeout) and its journal mode left as the file has it.
fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new().filename(path)
}

/// Creates `file` empty, so its name is ours (VACUUM INTO writes into an empty file); refuses an
/// existing file and a missing folder.
fn claim(file: &Path) -> anyhow::Result<()> {
    if let Some(folder) = file.parent() {
        anyhow::ensure!(folder.is_dir(), "the folder {} does not exist: create it first", folder.display());
    }
    match std::fs::OpenOptions::new().write(true).create_new(true).open(file) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {
            anyhow::bail!("{} already exists: a backup never overwrites a file, so choose a new name", file.display())
        }
        Err(error) => Err(error).with_context(|| format!("creating {}", file.display())),
    }
}

/// Copies `database` into the empty file `file`, rebuilds the copy's search indexes, checks it
/// and syncs it to disk.
async fn write_copy(database: &Path, file: &Path) -> anyhow::Result<RowCounts> {
    let into = file.to_str().context("the backup's path must be valid UTF-8")?;
    let mut live = SqliteConnection::connect_with(&options(database)).await.context("opening the database")?;
    // One read transaction: the copy is the database as of one moment, and in WAL mode the
    // server's writes go on meanwhile. The file name is an expression, so it is bound.
    sqlx::query("VACUUM INTO $1").bind(into).execute(&mut live).await.context("copying the database (VACUUM INTO)")?;
    live.close().await.context("closing the database")?;

    let mut copy = SqliteConnection::connect_with(&options(file)).await.context("opening the copy")?;
    rebuild_search_indexes(&mut copy).await.context("rebuilding the copy's search indexes")?;
    let problems = integrity_problems(&mut copy).await.context("checking the copy")?;
    anyhow::ensure!(problems.is_empty(), "the copy fails SQLite's integrity check: {}", summary(&problems));
    let rows = RowCounts::of(&mut copy).await.context("counting the copy's rows")?;
    copy.close().await.context("closing the copy")?;
    // SQLite does not sync what VACUUM INTO writes.
    sync(file).with_context(|| format!("syncing {}", file.display()))?;
    Ok(rows)
}

/// Opens `database` and takes SQLite's exclusive lock on it, held until the returned
/// connection closes; says the database is in use when another connection has it open.
async fn lock_exclusively(database: &Path) -> anyhow::Result<SqliteConnection> {
    // In WAL mode `BEGIN EXCLUSIVE` alone keeps out writers but not readers. In the exclusive
    // locking mode SQLite takes the file's exclusive lock as it opens the WAL, which fails
    // while any other connection has the database open, a running Rapport's idle pool included.
    let lock_options = options(database).locking_mode(SqliteLockingMode::Exclusive).busy_timeout(LOCK_WAIT);
    let refusal = |error: sqlx::Error| {
        if is_busy(&error) {
            anyhow::anyhow!("the database is in use: stop Rapport first")
        } else {
            anyhow::Error::new(error)
                .context(format!("opening {} to replace it (move it aside if it is damaged)", database.display()))
        }
    };
    // A server that was just stopped may still be closing its connections: a few tries,
    // LOCK_WAIT apart, before the database is called in use.
    let mut tries = 0;
    loop {
        tries += 1;
        let attempt = match SqliteConnection::connect_with(&lock_options).await {
            Ok(mut conn) => match conn.execute("BEGIN EXCLUSIVE").await {
                Ok(_) => return Ok(conn),
                Err(error) => {
                    // A failed attempt may keep a shared lock until its connection is closed.
                    let _ = conn.close().await;
                    error
                }
            },
            Err(error) => error,
        };
        if !is_busy(&attempt) || tries >= LOCK_TRIES {
            return Err(refusal(attempt));
        }
        tokio::time::sleep(LOCK_WAIT).await;
    }
}

/// Whether SQLite answered "busy" or "locked": another connection holds a lock.
fn is_busy(error: &sqlx::Error) -> bool {
    let code = error.as_database_error().and_then(|error| error.code()).and_then(|code| code.parse::<i32>().ok());
    // SQLITE_BUSY and SQLITE_LOCKED; an extended result code keeps the primary one in its low byte.
    code.is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// Copies the backup `file` to `staging` and checks the copy, so the backup itself is never
/// opened for writing; returns how many migrations the backup has applied.
async fn stage(file: &Path, staging: &Path) -> anyhow::Result<usize> {
    std::fs::copy(file, staging).with_context(|| format!("copying {} to {}", file.display(), staging.display()))?;
    let migrations = check_backup(file, staging).await?;
    sync(staging).with_context(|| format!("syncing {}", staging.display()))?;
    Ok(migrations)
}

/// Checks that `staging`, a copy of the backup `file`, is a sound SQLite database of a Rapport
/// this build can run; returns how many migrations it has applied.
async fn check_backup(file: &Path, staging: &Path) -> anyhow::Result<usize> {
    let unreadable =
        |error: sqlx::Error| anyhow::anyhow!("{} is not a SQLite database, or it is damaged ({error})", file.display());
    let mut conn = SqliteConnection::connect_with(&options(staging)).await.map_err(unreadable)?;
    let problems = integrity_problems(&mut conn).await.map_err(unreadable)?;
    anyhow::ensure!(
        problems.is_empty(),
        "{} is damaged: SQLite's integrity check finds {}",
        file.display(),
        summary(&problems)
    );
    anyhow::ensure!(
        has_table(&mut conn, "_sqlx_migrations").await.context("reading the backup")?,
        "{} is not a Rapport backup: it has no _sqlx_migrations table",
        file.display()
    );
    let applied: Vec<(i64,)> = sqlx::query_as("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .context("reading the backup's migrations")?;
    conn.close().await.context("closing the backup")?;
    let known: Vec<i64> = Backend::Sqlite.migrator().iter().map(|migration| migration.version).collect();
    if let Some((unknown,)) = applied.iter().find(|(version,)| !known.contains(version)) {
        anyhow::bail!(
            "{} comes from a newer Rapport: its migration {unknown} is unknown to this build, so restore it \
             with that release or a later one",
            file.display()
        );
    }
    Ok(applied.len())
}

/// Puts `staging` in place of `database` with one rename. The old database's WAL, shared-memory
/// and journal files go first: SQLite would apply a stale WAL or journal to the new file.
fn swap_in(staging: &Path, database: &Path) -> anyhow::Result<()> {
    for suffix in ["-wal", "-shm", "-journal"] {
        let stale = with_suffix(database, suffix);
        remove_if_present(&stale).with_context(|| format!("removing {}", stale.display()))?;
    }
    std::fs::rename(staging, database)
        .with_context(|| format!("moving {} to {}", staging.display(), database.display()))?;
    sync_folder(database).context("syncing the database's folder")
}

/// Rebuilds every search index the database has from its table, in one transaction.
async fn rebuild_search_indexes(conn: &mut SqliteConnection) -> sqlx::Result<()> {
    let mut transaction = conn.begin().await?;
    for (index, rebuild) in SEARCH_INDEXES {
        // A database from before the indexes (migration 12) has none to rebuild.
        if has_table(&mut transaction, index).await? {
            sqlx::query(rebuild).execute(&mut *transaction).await?;
        }
    }
    transaction.commit().await
}

/// Whether the database has a table (or virtual table) named `name`.
async fn has_table(conn: &mut SqliteConnection, name: &str) -> sqlx::Result<bool> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// What `PRAGMA integrity_check` finds wrong: nothing when it answers "ok".
async fn integrity_problems(conn: &mut SqliteConnection) -> sqlx::Result<Vec<String>> {
    let lines: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check").fetch_all(conn).await?;
    Ok(lines.into_iter().map(|(line,)| line).filter(|line| line != "ok").collect())
}

/// The first few of an integrity check's findings, for a message.
fn summary(problems: &[String]) -> String {
    problems.iter().take(3).map(String::as_str).collect::<Vec<_>>().join("; ")
}

impl RowCounts {
    async fn of(conn: &mut SqliteConnection) -> sqlx::Result<RowCounts> {
        let (workspaces,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM workspaces").fetch_one(&mut *conn).await?;
        let (members,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM members").fetch_one(&mut *conn).await?;
        let (answers,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM answers").fetch_one(&mut *conn).await?;
        Ok(RowCounts { workspaces, members, answers })
    }
}

/// Flushes `file` to disk, and its folder, where its name is.
fn sync(file: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new().write(true).open(file)?.sync_all()?;
    sync_folder(file)
}

/// Flushes the folder of `path`, so a file created or renamed there survives a power cut.
#[cfg(unix)]
fn sync_folder(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(folder) => std::fs::File::open(folder)?.sync_all(),
        None => Ok(()),
    }
}

/// Only Unix lets a folder be opened and flushed.
#[cfg(not(unix))]
fn sync_folder(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Removes what an unfinished step left behind; failing to is not worth reporting over the
/// error that stopped the step.
fn discard(path: &Path) {
    let _ = std::fs::remove_file(path);
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// `path` with `suffix` added to its file name, as SQLite names a database's `-wal` file.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `path` as one shell word, for a command to copy and paste.
fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c));
    if plain { text } else { format!("'{}'", text.replace('\'', r"'\''")) }
}

/// `bytes` as people write a file's size: "812 bytes", "4.2 MB".
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

impl fmt::Display for RowCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let RowCounts { workspaces, members, answers } = self;
        write!(f, "{workspaces} workspace(s), {members} member(s), {answers} answer(s)")
    }
}

impl fmt::Display for BackupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Wrote {} ({}): {}.", self.file.display(), human_size(self.bytes), self.rows)
    }
}

impl fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Restored {} from a backup of {}: {}", self.database.display(), human_size(self.bytes), self.rows)?;
        match self.migrations_applied {
            0 => f.write_str("; it was up to date."),
            applied => write!(f, "; {applied} migration(s) brought it up to date."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn with_postgresql_both_commands_name_pg_dump_and_pg_restore() {
        let url = "postgres://rapport:db-password-value@db:5432/rapport";

        let backup_refused = backup(url, Path::new("backups/rapport.dump")).await.unwrap_err().to_string();
        let restore_refused = restore(url, Path::new("my backup.dump")).await.unwrap_err().to_string();

        let pg_dump = r#"pg_dump --format=custom --file backups/rapport.dump "$DATABASE_URL""#;
        assert!(backup_refused.contains(pg_dump), "{backup_refused}");
        let pg_restore = r#"pg_restore --clean --if-exists --dbname "$DATABASE_URL" 'my backup.dump'"#;
        assert!(restore_refused.contains(pg_restore), "{restore_refused}");
        assert!(!backup_refused.contains("db-password-value") && !restore_refused.contains("db-password-value"));
    }

    #[test]
    fn a_sqlite_url_names_a_file_and_an_in_memory_database_is_refused() {
        let path = sqlite_file("sqlite://data/rapport.db?mode=rwc", String::new()).unwrap();
        assert!(path.is_absolute() && path.ends_with("data/rapport.db"), "{}", path.display());
        assert!(sqlite_file("sqlite::memory:", String::new()).is_err());
        assert!(sqlite_file("mysql://db/rapport", String::new()).is_err());
    }

    #[test]
    fn a_path_is_quoted_for_the_shell_only_when_it_needs_to_be() {
        assert_eq!(shell_word(Path::new("backups/rapport-2026-12-01.dump")), "backups/rapport-2026-12-01.dump");
        assert_eq!(shell_word(Path::new("Ada's backup.dump")), r"'Ada'\''s backup.dump'");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(812), "812 bytes");
        assert_eq!(human_size(4_200_000), "4.2 MB");
        assert_eq!(human_size(3_000_000_000_000_000), "3000.0 TB");
    }
}
