//! Question packs as admins manage them, on SQLite and PostgreSQL.

use app::{
    AppError,
    features::packs::types::{PackName, QuestionText},
    ids::{PackId, QuestionId},
    server::{
        db::{members, questions},
        services::{builtin_packs, packs, picking},
        viewer::Viewer,
    },
};

use crate::helpers::{Team, TestDb, spawn_app};

fn viewer(team: &Team) -> Viewer {
    Viewer::workspace_admin(team.db.clone(), team.workspace_id.clone())
}

fn text(raw: &str) -> QuestionText {
    QuestionText::parse(raw).unwrap()
}

async fn pack_texts(viewer: &Viewer, pack: &PackId) -> Vec<(String, bool)> {
    let all = packs::list(viewer).await.unwrap();
    let pack = all.into_iter().find(|p| &p.id == pack).unwrap();
    pack.questions.into_iter().map(|q| (q.text, q.disabled)).collect()
}

on_both_backends!(
    an_admin_writes_orders_and_switches_off_questions_of_their_own_pack,
    built_in_packs_can_be_switched_off_but_not_edited,
    a_pack_whose_questions_were_asked_is_kept,
    a_bad_csv_imports_nothing_and_a_good_one_round_trips,
    another_workspaces_pack_is_not_found,
);

async fn an_admin_writes_orders_and_switches_off_questions_of_their_own_pack(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    let admin = viewer(&team);
    let pack = packs::create(&admin, &PackName::parse("Team fun").unwrap(), "Light ones", 1).await.unwrap();
    let a = packs::add_question(&admin, &pack, &text("Tea or coffee?"), 2).await.unwrap();
    let b = packs::add_question(&admin, &pack, &text("Best view?"), 3).await.unwrap();
    let c = packs::add_question(&admin, &pack, &text("Favourite biscuit?"), 4).await.unwrap();

    let duplicate = packs::add_question(&admin, &pack, &text("TEA OR COFFEE?"), 5).await;
    packs::reorder(&admin, &pack, &[c.clone(), a.clone(), b.clone()], 6).await.unwrap();
    let incomplete = packs::reorder(&admin, &pack, &[c.clone(), a.clone()], 7).await;
    packs::edit_question(&admin, &pack, &b, &text("Best view you know?"), 8).await.unwrap();
    packs::set_question_disabled(&admin, &pack, &a, true, 9).await.unwrap();
    packs::rename(&admin, &pack, &PackName::parse("Team favourites").unwrap(), "", 10).await.unwrap();

    assert!(matches!(duplicate, Err(AppError::Invalid { .. })));
    assert!(matches!(incomplete, Err(AppError::Invalid { .. })));
    assert_eq!(
        pack_texts(&admin, &pack).await,
        [
            ("Favourite biscuit?".to_owned(), false),
            ("Tea or coffee?".to_owned(), true),
            ("Best view you know?".to_owned(), false),
        ]
    );
    let listed = packs::list(&admin).await.unwrap();
    assert!(listed.iter().any(|p| p.id == pack && p.name == "Team favourites" && !p.builtin && p.enabled));
}

async fn built_in_packs_can_be_switched_off_but_not_edited(db: TestDb) {
    builtin_packs::install_builtin(&db.db, 1).await.unwrap();
    let team = Team::new(&db.db, "Acme").await;
    let admin = viewer(&team);
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let next_pack = || async {
        let mut conn = db.db.pool().acquire().await.unwrap();
        let question = picking::next_question(&mut conn, &team.workspace_id, &ada, false).await.unwrap().unwrap();
        question.pack_id
    };
    let first = next_pack().await;

    packs::set_enabled(&admin, &PackId::parse(&first).unwrap(), false, 2).await.unwrap();
    let edit = packs::add_question(&admin, &PackId::parse(&first).unwrap(), &text("Sneaky?"), 3).await;

    assert_ne!(next_pack().await, first, "a switched-off pack is not asked from");
    assert_eq!(edit, Err(AppError::Forbidden));
    let listed = packs::list(&admin).await.unwrap();
    let builtin = listed.iter().filter(|p| p.builtin).count();
    assert!(builtin >= 9, "{builtin} built-in packs");
    assert!(listed.iter().any(|p| p.id.as_str() == first && !p.enabled));
    assert!(listed.iter().any(|p| p.first_week));
    // Switched back on, it is asked from again.
    packs::set_enabled(&admin, &PackId::parse(&first).unwrap(), true, 4).await.unwrap();
    assert_eq!(next_pack().await, first);
}

async fn a_pack_whose_questions_were_asked_is_kept(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let admin = viewer(&team);
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let question = team.question("Favourite breakfast?").await;
    team.answer(&ada, &question, "Porridge", "team").await;
    let asked_pack = questions::find(db.db.pool(), &team.workspace_id, &question).await.unwrap().unwrap().pack_id;
    let empty = packs::create(&admin, &PackName::parse("Spare").unwrap(), "", 1).await.unwrap();

    let refused = packs::delete(&admin, &PackId::parse(&asked_pack).unwrap()).await;
    let deleted = packs::delete(&admin, &empty).await;

    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    assert_eq!(deleted, Ok(()));
    let profile = app::server::services::people::profile(&admin, &app::ids::MemberId::parse(&ada).unwrap()).await;
    assert_eq!(profile.unwrap().answers.len(), 1, "the answer is still there");
    assert!(members::find(db.db.pool(), &team.workspace_id, &ada).await.unwrap().is_some());
}

async fn a_bad_csv_imports_nothing_and_a_good_one_round_trips(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    let admin = viewer(&team);
    let pack = packs::create(&admin, &PackName::parse("Imported").unwrap(), "", 1).await.unwrap();
    packs::add_question(&admin, &pack, &text("Tea or coffee?"), 2).await.unwrap();

    let bad = packs::import_csv(&admin, &pack, "question\nBest view?\n\"a\",\"b\"\ntea or coffee?\n", 3).await;
    let Err(AppError::Invalid { message, .. }) = bad else { panic!("the bad file is refused: {bad:?}") };
    assert!(message.contains("line 3") && message.contains("line 4"), "{message}");
    assert_eq!(pack_texts(&admin, &pack).await.len(), 1, "nothing was half-imported");

    let added =
        packs::import_csv(&admin, &pack, "question\n\"Cats, dogs or neither?\"\nBest view?\n", 4).await.unwrap();
    let exported = packs::export_csv(&admin, &pack).await.unwrap();
    let copy = packs::create(&admin, &PackName::parse("Copy").unwrap(), "", 5).await.unwrap();
    packs::import_csv(&admin, &copy, &exported, 6).await.unwrap();

    assert_eq!(added, 2);
    assert_eq!(exported, "question\nTea or coffee?\n\"Cats, dogs or neither?\"\nBest view?\n");
    assert_eq!(pack_texts(&admin, &copy).await, pack_texts(&admin, &pack).await);
}

async fn another_workspaces_pack_is_not_found(db: TestDb) {
    let ours = Team::new(&db.db, "Ours").await;
    let theirs = Team::new(&db.db, "Theirs").await;
    let their_pack = packs::create(&viewer(&theirs), &PackName::parse("Private").unwrap(), "", 1).await.unwrap();
    let their_question = packs::add_question(&viewer(&theirs), &their_pack, &text("Secret?"), 2).await.unwrap();
    let admin = viewer(&ours);

    assert_eq!(packs::export_csv(&admin, &their_pack).await, Err(AppError::NotFound));
    assert_eq!(packs::set_enabled(&admin, &their_pack, false, 3).await, Err(AppError::NotFound));
    assert_eq!(
        packs::edit_question(&admin, &their_pack, &their_question, &text("Mine?"), 4).await,
        Err(AppError::NotFound)
    );
    assert_eq!(packs::delete(&admin, &their_pack).await, Err(AppError::NotFound));
    assert!(packs::list(&admin).await.unwrap().iter().all(|p| p.id != their_pack));
    let wrong_question = QuestionId::parse("0193a3f0-7c1e-7b2a-9f00-1234567890ab").unwrap();
    let own = packs::create(&admin, &PackName::parse("Own").unwrap(), "", 5).await.unwrap();
    assert_eq!(packs::set_question_disabled(&admin, &own, &wrong_question, true, 6).await, Err(AppError::NotFound));
}

on_both_backends!(the_server_functions_create_and_export_a_pack_over_http);

async fn the_server_functions_create_and_export_a_pack_over_http(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let admin = team.admin("Ada Admin").await;
    let app_admin = app.signed_in(&team.workspace_id, &admin).await;
    let member = team.member("Mo Member", "Engineer").await;
    let not_admin = app.signed_in(&team.workspace_id, &member).await;

    let (as_member, _) =
        not_admin.call_server_fn("packs/create", &[("name", "By a member"), ("description", "")]).await;
    let (status, created) =
        app_admin.call_server_fn("packs/create", &[("name", "Over HTTP"), ("description", "")]).await;
    let pack_id: String = serde_json::from_str(&created).unwrap();
    let (added, _) =
        app_admin.call_server_fn("packs/questions/add", &[("pack_id", &pack_id), ("text", "Sunrise or sunset?")]).await;
    let (_, exported) = app_admin.call_server_fn("packs/export", &[("pack_id", &pack_id)]).await;
    let (empty_name, _) = app_admin.call_server_fn("packs/create", &[("name", "  "), ("description", "")]).await;

    assert_eq!(as_member, 403, "a member who is no admin manages no packs");
    assert_eq!((status, added, empty_name), (200, 200, 422));
    assert_eq!(serde_json::from_str::<String>(&exported).unwrap(), "question\nSunrise or sunset?\n");
    app.shut_down().await;
}
