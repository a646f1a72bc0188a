//! The demo workspace, seeded into a real database and served.

use app::features::answers::types::Visibility;

use app::server::db::{answers, workspaces};
use server::demo;

use crate::helpers::{TestDb, spawn_app};

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
