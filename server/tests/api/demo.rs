//! The demo workspace, seeded into a real database and served.

use app::features::answers::types::Visibility;

use app::server::db::{answers, workspaces};
use server::{demo, startup::Application};

use crate::helpers::{TestDb, spawn_app, test_config};

on_both_backends!(the_demo_seeds_once_and_fills_every_page);

async fn the_demo_seeds_once_and_fills_every_page(db: TestDb) {
    let now = app::server::now_ms();

    let first = demo::seed(&db.db, now).await.unwrap().expect("seeded");
    let second = demo::seed(&db.db, now).await.unwrap();

    assert!(first.members >= 25 && first.packs >= 3, "{first:?}");
    assert!(first.answers >= 200 && first.only_me_answers > 0, "{first:?}");
    assert_eq!(second, None, "seeding twice adds nothing");
    assert_eq!(workspaces::list(db.db.pool(), 10).await.unwrap().len(), 1);
    let only_me = answers::count_for_workspace(db.db.pool(), &first.workspace_id, Visibility::OnlyMe).await.unwrap();
    assert_eq!(usize::try_from(only_me).unwrap(), first.only_me_answers);

    let app = spawn_app(&db).await;
    let (status, people) = app.page("/people").await;
    assert_eq!(status, 200);
    assert!(people.matches(r#"class="person-card""#).count() >= 25);
    let (status, questions) = app.page("/questions").await;
    assert_eq!(status, 200);
    assert!(questions.matches(r#"class="question-row""#).count() >= 24);
    app.shut_down().await;
}

on_both_backends!(an_empty_database_gets_the_demo_but_a_used_one_does_not);

async fn an_empty_database_gets_the_demo_but_a_used_one_does_not(empty: TestDb) {
    let seeded = demo::seed_if_empty(&empty.db, app::server::now_ms()).await.unwrap();
    assert!(seeded.is_some());

    let used = empty.another().await;
    crate::helpers::Team::new(&used.db, "A real team").await;
    let seeded = demo::seed_if_empty(&used.db, app::server::now_ms()).await.unwrap();
    assert!(seeded.is_none());
    assert_eq!(workspaces::list(used.db.pool(), 10).await.unwrap().len(), 1);
}

on_both_backends!(a_fast_demo_started_again_goes_on_from_the_time_its_database_got_to);

/// At `RAPPORT_TIME_SCALE` the product's clock runs ahead of the wall clock, so a restarted
/// demo that began at the wall clock again would find its rounds, sends and retries stamped
/// days in its future, and do nothing until it caught up.
async fn a_fast_demo_started_again_goes_on_from_the_time_its_database_got_to(db: TestDb) {
    let now = app::server::now_ms();
    let seeded = demo::seed(&db.db, now).await.unwrap().expect("seeded");
    let days_ahead = now + 3 * 24 * 60 * 60 * 1000;
    sqlx::query(
        "UPDATE prompts SET updated_at = $2 WHERE id IN (SELECT id FROM prompts WHERE workspace_id = $1 LIMIT 1)",
    )
    .bind(&seeded.workspace_id)
    .bind(days_ahead)
    .execute(db.db.pool())
    .await
    .unwrap();
    let mut config = test_config(&db);
    config.time_scale = 60.0;

    let app = Application::build(config).await.unwrap();

    let resumed_at = app.state().now_ms();
    assert!(resumed_at >= days_ahead && resumed_at < days_ahead + 10 * 60 * 1000, "{resumed_at} vs {days_ahead}");
}
