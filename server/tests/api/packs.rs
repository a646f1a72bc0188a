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

use serde_json::json;

use crate::helpers::{Browser, Team, TestApp, TestDb, spawn_app};

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

on_both_backends!(
    a_two_megabyte_file_is_refused_at_once_and_the_pack_is_unchanged,
    a_hundred_thousand_short_lines_are_refused_at_the_row_limit,
    slack_events_are_recorded_while_a_big_import_is_refused,
    repeats_within_a_file_are_reported_and_nothing_is_imported,
);

/// A Slack team no workspace here belongs to: its events are recorded, then ignored.
const SLACK_TEAM: &str = "TIMPORT01";

/// A running app, an admin signed in to it, and their pack "Imported" holding one question.
async fn admin_with_a_pack(db: &TestDb) -> (TestApp, Browser, Viewer, PackId) {
    let app = spawn_app(db).await;
    let team = Team::new(&app.db, "Acme").await;
    let admin = viewer(&team);
    let pack = packs::create(&admin, &PackName::parse("Imported").unwrap(), "", 1).await.unwrap();
    packs::add_question(&admin, &pack, &text("Tea or coffee?"), 2).await.unwrap();
    let browser = app.signed_in(&team.workspace_id, &team.admin("Ada Admin").await).await;
    (app, browser, admin, pack)
}

/// Imports `csv` into `pack` through the server function, as the admin page does.
async fn import_over_http(browser: &Browser, pack: &PackId, csv: &str) -> (u16, String) {
    browser.call_server_fn("packs/import", &[("pack_id", pack.as_str()), ("csv", csv)]).await
}

/// The message of the CSV refusal a server function answered with.
fn refusal(body: &str) -> String {
    match serde_json::from_str::<AppError>(body) {
        Ok(AppError::Invalid { field, message }) if field == "csv" => message,
        other => panic!("expected the CSV to be refused, got {other:?}"),
    }
}

/// 100,000 distinct questions of 20 characters, one a line: a file of 2.1 MB (over 2 MiB).
fn two_megabyte_csv() -> String {
    (0..100_000).map(|n| format!("Question no. {n:06}?\n")).collect()
}

async fn count_slack_events(app: &TestApp) -> i64 {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM inbox WHERE source = 'slack_event'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    count
}

async fn a_two_megabyte_file_is_refused_at_once_and_the_pack_is_unchanged(db: TestDb) {
    let (app, browser, admin, pack) = admin_with_a_pack(&db).await;
    let csv = two_megabyte_csv();
    assert!(csv.len() > 2 * 1024 * 1024 && csv.lines().count() == 100_000);

    let (status, body) = import_over_http(&browser, &pack, &csv).await;

    assert_eq!(status, 413, "the request is refused before its server function reads it");
    assert_eq!(refusal(&body), "The file is too big; an import takes at most 500 KB.");
    assert_eq!(pack_texts(&admin, &pack).await, [("Tea or coffee?".to_owned(), false)], "nothing was imported");
    // The service itself, reached past the HTTP layer, refuses it by its size before reading it.
    let direct = packs::import_csv(&admin, &pack, &csv, 3).await;
    let Err(AppError::Invalid { message, .. }) = direct else { panic!("the file is refused: {direct:?}") };
    assert_eq!(message, "The file is 2.1 MB; an import takes at most 500 KB.");
    assert_eq!(pack_texts(&admin, &pack).await.len(), 1, "nothing was half-imported");
    app.shut_down().await;
}

async fn a_hundred_thousand_short_lines_are_refused_at_the_row_limit(db: TestDb) {
    let (app, browser, admin, pack) = admin_with_a_pack(&db).await;
    // 300 KB: within the size limit, far past the row limit.
    let csv = "Q?\n".repeat(100_000);

    let (status, body) = import_over_http(&browser, &pack, &csv).await;

    assert_eq!(status, 422);
    assert_eq!(refusal(&body), "The file has more than 500 questions; an import takes at most 500.");
    assert_eq!(pack_texts(&admin, &pack).await.len(), 1, "nothing was imported");
    app.shut_down().await;
}

async fn slack_events_are_recorded_while_a_big_import_is_refused(db: TestDb) {
    let (app, browser, admin, pack) = admin_with_a_pack(&db).await;
    let (too_big, too_long) = (two_megabyte_csv(), "Q?\n".repeat(100_000));
    let deliveries = async {
        let mut statuses = Vec::new();
        for n in 0..5 {
            let event = json!({ "type": "reaction_added", "user": "UIMPORT01", "reaction": "tada" });
            statuses.push(app.deliver_event(SLACK_TEAM, &format!("EvDuringImport{n}"), event).await);
        }
        statuses
    };

    let ((big, _), (long, _), statuses) = tokio::join!(
        import_over_http(&browser, &pack, &too_big),
        import_over_http(&browser, &pack, &too_long),
        deliveries
    );

    assert_eq!((big, long), (413, 422), "both imports are refused");
    assert_eq!(statuses, [200; 5], "every event is acknowledged");
    assert_eq!(count_slack_events(&app).await, 5, "every event is recorded");
    assert_eq!(pack_texts(&admin, &pack).await.len(), 1, "nothing was imported");
    app.shut_down().await;
}

async fn repeats_within_a_file_are_reported_and_nothing_is_imported(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    let admin = viewer(&team);
    let pack = packs::create(&admin, &PackName::parse("Imported").unwrap(), "", 1).await.unwrap();
    let csv = "question\nBest view?\nFirst job?\n  best VIEW?  \nFirst job?\n";

    let refused = packs::import_csv(&admin, &pack, csv, 2).await;

    let Err(AppError::Invalid { message, .. }) = refused else { panic!("the file is refused: {refused:?}") };
    assert_eq!(message, "line 4: same question as line 2; line 5: same question as line 3");
    assert!(pack_texts(&admin, &pack).await.is_empty(), "nothing was imported");
}
