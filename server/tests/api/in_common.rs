//! Things in common on a profile: the questions two members both answered for the team, the
//! most alike first, never an only-me answer, and only for a member looking at someone else.

use app::{
    error::AppError,
    ids::MemberId,
    server::{services::people, viewer::Viewer},
};

use crate::helpers::{Team, TestDb, spawn_app};

on_both_backends!(
    two_members_see_the_questions_both_answered_most_alike_first,
    nobody_compares_with_themselves_and_a_visitor_sees_nothing_to_compare,
    the_profile_page_shows_both_answers_side_by_side,
);

async fn two_members_see_the_questions_both_answered_most_alike_first(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada", "Engineer").await;
    let bob = team.member("Bob", "Designer").await;
    let weekend = team.question("What do you do on weekends?").await;
    let drink = team.question("Tea or coffee?").await;
    let secret = team.question("A secret talent?").await;
    let alone = team.question("Favourite city?").await;
    team.answer(&ada, &weekend, "Painting watercolours by the river", "team").await;
    team.answer(&bob, &weekend, "I paint watercolour landscapes", "team").await;
    team.answer(&ada, &drink, "Coffee, black", "team").await;
    team.answer(&bob, &drink, "Green tea", "team").await;
    team.answer(&ada, &secret, "Juggling", "only_me").await;
    team.answer(&bob, &secret, "Juggling", "team").await;
    team.answer(&ada, &alone, "Lisbon", "team").await;

    let viewer = Viewer::member(db.db.clone(), team.workspace_id.clone(), ada.clone());
    let page = people::person_page(&viewer, &MemberId::parse(&bob).unwrap()).await.unwrap();
    assert_eq!(page.profile.answers.len(), 3, "the profile beside it keeps Bob's team answers");
    let found = page.in_common.unwrap();

    let questions: Vec<&str> = found.pairs.iter().map(|pair| pair.question.as_str()).collect();
    assert_eq!(questions, ["What do you do on weekends?", "Tea or coffee?"], "alike first; only-me never");
    assert_eq!(found.pairs[0].mine, "Painting watercolours by the river");
    assert_eq!(found.pairs[0].theirs, "I paint watercolour landscapes");
    assert_eq!(found.pairs[0].shared_words, ["painting", "watercolours"]);
    assert_eq!(found.both_said, ["painting", "watercolours"]);
    assert_eq!(found.name, "Bob");
}

async fn nobody_compares_with_themselves_and_a_visitor_sees_nothing_to_compare(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada", "Engineer").await;
    let other = Team::new(&db.db, "Other").await;
    let viewer = Viewer::member(db.db.clone(), team.workspace_id.clone(), ada.clone());
    let ada_id = MemberId::parse(&ada).unwrap();

    let in_common = |viewer: Viewer| {
        let ada_id = ada_id.clone();
        async move { people::person_page(&viewer, &ada_id).await.map(|page| page.in_common) }
    };
    assert_eq!(in_common(viewer).await.unwrap(), None, "not with oneself");
    let admin_account = Viewer::workspace_admin(db.db.clone(), team.workspace_id.clone());
    assert_eq!(in_common(admin_account).await.unwrap(), None, "the admin account is nobody");
    let stranger = Viewer::workspace_admin(db.db.clone(), other.workspace_id.clone());
    assert_eq!(in_common(stranger).await, Err(AppError::NotFound), "another workspace's member");
}

async fn the_profile_page_shows_both_answers_side_by_side(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada", "Engineer").await;
    let bob = team.member("Bob", "Designer").await;
    let question = team.question("Mountains or sea?").await;
    team.answer(&ada, &question, "Mountains, for the hiking", "team").await;
    team.answer(&bob, &question, "Hiking in the mountains", "team").await;

    let (status, page) = app.signed_in(&team.workspace_id, &ada).await.page(&format!("/people/{bob}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Things in common"), "{page}");
    assert!(page.contains("Mountains, for the hiking") && page.contains("Hiking in the mountains"), "{page}");
    let (_, own) = app.signed_in(&team.workspace_id, &ada).await.page(&format!("/people/{ada}")).await;
    assert!(!own.contains("Things in common"), "not on one's own profile");
    app.shut_down().await;
}
