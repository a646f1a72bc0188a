//! `rapport backup` and `rapport restore` (SQLite only; PostgreSQL has pg_dump and pg_restore):
//! a copy taken while the app writes holds everything committed before it began and restores
//! into a sound, searchable database; neither command overwrites or replaces what it must not.

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use app::{
    features::search::types::SearchQuery,
    server::db::{Backend, Db, search},
};
use server::backup::{backup, restore};
use sqlx::{Connection as _, sqlite::SqliteConnection};

use crate::helpers::{Team, TestDb, eventually, spawn_app};

#[tokio::test]
async fn a_backup_taken_while_the_app_writes_restores_everything_committed_before_it() {
    let source = TestDb::sqlite().await;
    let app = spawn_app(&source).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let workspace_id = team.workspace_id.clone();
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let weekends = team.question("What do you do on weekends?").await;
    let mut painted = Vec::new();
    let mut ids = Vec::new();
    for picture in 1..=3 {
        let text = format!("I paint watercolours on weekends, picture {picture}");
        ids.push(team.answer(&ada, &weekends, &text, "team").await);
        painted.push(text);
    }
    // Answers written one after another, each committed before its id is noted.
    let committed = Arc::new(Mutex::new(ids));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn({
        let (committed, stop) = (committed.clone(), stop.clone());
        async move {
            let mut week = 0;
            while !stop.load(Ordering::Relaxed) {
                week += 1;
                let id = team.answer(&ada, &weekends, &format!("Gardening, week {week}"), "team").await;
                committed.lock().unwrap().push(id);
            }
        }
    });
    eventually("the writer has committed answers", || async { committed.lock().unwrap().len() >= 15 }).await;
    let before_backup = committed.lock().unwrap().clone();
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("rapport-backup.db");

    let written = backup(&source.url, &file).await.unwrap();

    let after_backup = before_backup.len() + 5;
    eventually("the app goes on writing", || async { committed.lock().unwrap().len() >= after_backup }).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    app.shut_down().await;
    assert!(written.rows.answers >= i64::try_from(before_backup.len()).unwrap(), "{written}");
    assert_eq!(written.bytes, std::fs::metadata(&file).unwrap().len());

    let restored_folder = tempfile::tempdir().unwrap();
    let restored_url = format!("sqlite://{}/restored.db", restored_folder.path().display());
    let restored = restore(&restored_url, &file).await.unwrap();

    assert_eq!(restored.rows, written.rows, "the restored database holds what the backup holds");
    assert_eq!(restored.migrations_applied, 0);
    let db = Db::connect(&restored_url).await.unwrap();
    db.readiness().await.unwrap();
    let stored: HashSet<String> = sqlx::query_as::<_, (String,)>("SELECT id FROM answers")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|(id,)| id)
        .collect();
    let missing: Vec<&String> = before_backup.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(missing.is_empty(), "answers committed before the backup are missing: {missing:?}");
    let integrity: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check").fetch_all(db.pool()).await.unwrap();
    assert_eq!(integrity, [("ok".to_owned(),)]);
    // Found through the rebuilt FTS5 index, whose rowids must lead to the right answers.
    let hits = search::answers(db.pool(), Backend::Sqlite, &workspace_id, &SearchQuery::parse("watercolour"), 10, 0)
        .await
        .unwrap();
    let mut found: Vec<String> = hits.into_iter().map(|hit| hit.text).collect();
    found.sort();
    assert_eq!(found, painted);
    db.close().await;
}

#[tokio::test]
async fn a_restore_waits_for_rapport_to_stop_then_replaces_the_database() {
    let db = TestDb::sqlite().await;
    Team::new(&db.db, "Acme").await;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("backup.db");
    backup(&db.url, &file).await.unwrap();
    Team::new(&db.db, "Later").await;
    let mut transaction = db.db.begin_write().await.unwrap();
    sqlx::query("UPDATE workspaces SET name = name").execute(&mut *transaction).await.unwrap();

    let refused = restore(&db.url, &file).await.unwrap_err();

    assert!(refused.to_string().contains("the database is in use: stop Rapport first"), "{refused:#}");
    assert!(!staging_of(&db.url).exists(), "nothing is staged while the database is in use");
    transaction.rollback().await.unwrap();
    assert_eq!(workspace_names(&db.db).await, ["Acme", "Later"]);

    db.db.close().await;
    let restored = restore(&db.url, &file).await.unwrap();

    assert_eq!(restored.rows.workspaces, 1);
    let reopened = Db::connect(&db.url).await.unwrap();
    assert_eq!(workspace_names(&reopened).await, ["Acme"]);
    assert!(!staging_of(&db.url).exists());
    reopened.close().await;
}

#[tokio::test]
async fn a_backup_never_overwrites_a_file_nor_makes_a_folder() {
    let db = TestDb::sqlite().await;
    let folder = tempfile::tempdir().unwrap();
    let taken = folder.path().join("taken.db");
    std::fs::write(&taken, "an earlier backup").unwrap();

    let overwrite = backup(&db.url, &taken).await.unwrap_err();
    let no_folder = backup(&db.url, &folder.path().join("missing/backup.db")).await.unwrap_err();

    assert!(overwrite.to_string().contains("already exists"), "{overwrite:#}");
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "an earlier backup");
    assert!(no_folder.to_string().contains("does not exist"), "{no_folder:#}");
    assert!(!folder.path().join("missing").exists());
}

#[tokio::test]
async fn a_restore_refuses_a_file_that_is_not_a_sqlite_database() {
    let folder = tempfile::tempdir().unwrap();
    let notes = folder.path().join("notes.txt");
    std::fs::write(&notes, "Meeting notes, not a database.\n".repeat(100)).unwrap();
    let url = format!("sqlite://{}/rapport.db", folder.path().display());

    let refused = restore(&url, &notes).await.unwrap_err();

    assert!(refused.to_string().contains("notes.txt is not a SQLite database"), "{refused:#}");
    assert!(!folder.path().join("rapport.db").exists(), "no database is made from it");
    assert!(!staging_of(&url).exists());
}

#[tokio::test]
async fn a_restore_refuses_a_backup_from_a_newer_rapport() {
    let db = TestDb::sqlite().await;
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("backup.db");
    backup(&db.url, &file).await.unwrap();
    let mut copy = SqliteConnection::connect(&format!("sqlite://{}", file.display())).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99991231000001, 'from a later release', 1, x'00', 0)",
    )
    .execute(&mut copy)
    .await
    .unwrap();
    copy.close().await.unwrap();
    let url = format!("sqlite://{}/restored.db", folder.path().display());

    let refused = restore(&url, &file).await.unwrap_err();

    assert!(refused.to_string().contains("comes from a newer Rapport"), "{refused:#}");
    assert!(refused.to_string().contains("99991231000001"), "{refused:#}");
    assert!(!folder.path().join("restored.db").exists());
}

async fn workspace_names(db: &Db) -> Vec<String> {
    sqlx::query_as::<_, (String,)>("SELECT name FROM workspaces ORDER BY name")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|(name,)| name)
        .collect()
}

/// Where `restore` copies a backup for the database at `url` before putting it in place.
fn staging_of(url: &str) -> PathBuf {
    PathBuf::from(format!("{}.restoring", url.trim_start_matches("sqlite://")))
}
