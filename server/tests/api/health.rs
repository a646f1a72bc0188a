//! `/healthz` and `/readyz`.

use crate::helpers::{TestDb, spawn_app};

on_both_backends!(
    a_migrated_app_is_alive_and_ready,
    a_missing_migration_makes_the_app_not_ready,
    a_closed_database_makes_the_app_not_ready_but_still_alive,
);

async fn a_migrated_app_is_alive_and_ready(db: TestDb) {
    let app = spawn_app(&db).await;

    let alive = app.get("/healthz").await;
    let ready = app.get("/readyz").await;

    assert_eq!(alive.status().as_u16(), 200);
    assert_eq!(ready.status().as_u16(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
}

async fn a_missing_migration_makes_the_app_not_ready(db: TestDb) {
    let app = spawn_app(&db).await;
    sqlx::query("DELETE FROM _sqlx_migrations").execute(app.db.pool()).await.unwrap();

    let ready = app.get("/readyz").await;

    assert_eq!(ready.status().as_u16(), 503);
    let reason = ready.text().await.unwrap();
    assert!(reason.contains("migration") && reason.contains("not applied"), "{reason}");
}

async fn a_closed_database_makes_the_app_not_ready_but_still_alive(db: TestDb) {
    let app = spawn_app(&db).await;
    app.db.close().await;

    let ready = app.get("/readyz").await;
    let alive = app.get("/healthz").await;

    assert_eq!(ready.status().as_u16(), 503);
    // The reason, never the driver's own words ("...closed pool"), which can name hosts and users.
    assert_eq!(ready.text().await.unwrap(), "not ready: the database does not answer");
    assert_eq!(alive.status().as_u16(), 200);
}
