//! The dashboard pages, rendered by the running app, on SQLite and PostgreSQL.

use std::time::Duration;

use server::startup::Application;

use crate::helpers::{Team, TestDb, spawn_app, test_config};

on_both_backends!(
    the_directory_lists_people_with_counts_and_their_latest_answer,
    a_profile_shows_team_answers_with_questions_and_never_only_me,
    the_question_pages_show_counts_and_everyones_team_answers,
    an_unknown_person_or_question_is_a_404_page,
    a_server_function_answers_with_json,
    a_database_failure_shows_a_reference_and_not_the_cause,
    without_sign_in_no_team_data_is_shown_and_pages_go_to_sign_in,
    the_directory_pages_and_filters_as_plain_html,
);

/// How many apps start beside the page being rendered: starting one used to switch data
/// loading off for the whole process for a few milliseconds, and a page caught in that
/// window waited forever; this many starts caught it in every run tried.
const STARTS_BESIDE: usize = 40;

/// Pages keep rendering while other apps start in the same process (as the tests do).
#[tokio::test]
async fn pages_render_while_other_apps_start_beside_them() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let question = team.question("Favourite breakfast?").await;
    team.answer(&ada, &question, "Porridge", "team").await;
    let browser = app.signed_in(&team.workspace_id, &ada).await;
    let configs: Vec<_> = (0..STARTS_BESIDE).map(|_| test_config(&db)).collect();

    let starting = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            for config in configs {
                Application::build(config).await.unwrap();
            }
        });
    });
    let mut rendered = 0;
    while !starting.is_finished() {
        let page = tokio::time::timeout(Duration::from_secs(10), browser.page(&format!("/people/{ada}"))).await;
        let (status, html) = page.expect("a page rendered while another app started within 10 s");
        assert_eq!(status, 200);
        assert!(html.contains("Porridge"), "the page's data loaded");
        rendered += 1;
    }
    starting.join().unwrap();
    assert!(rendered > 0, "pages were rendered while the apps started");
}

async fn the_directory_pages_and_filters_as_plain_html(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let mut ids = Vec::new();
    for number in 0..50 {
        ids.push(
            team.member(&format!("Person {number:02}"), if number == 7 { "Chief Gardener" } else { "Engineer" }).await,
        );
    }
    let browser = app.signed_in(&team.workspace_id, &ids[0]).await;

    let (status, first) = browser.page("/people").await;
    assert_eq!(status, 200);
    assert_eq!(first.matches(r#"class="person-card""#).count(), 48);
    assert!(first.contains("50 people"));
    assert!(first.contains(r#"href="/people?page=2" rel="next""#), "{first}");
    assert!(!first.contains(r#"rel="prev""#));

    let (_, second) = browser.page("/people?page=2").await;
    assert_eq!(second.matches(r#"class="person-card""#).count(), 2);
    assert!(second.contains("Person 49") && !second.contains("Person 47"));
    assert!(second.contains(r#"href="/people" rel="prev""#), "{second}");

    let (_, filtered) = browser.page("/people?q=GARDENER").await;
    assert_eq!(filtered.matches(r#"class="person-card""#).count(), 1);
    assert!(filtered.contains("Person 07") && filtered.contains("1 of 50 people"));
    assert!(filtered.contains(r#"value="GARDENER""#), "the box shows the filter");

    let (_, nobody) = browser.page("/people?q=astronaut").await;
    assert!(nobody.contains("No one matches that filter."));
}

async fn the_directory_lists_people_with_counts_and_their_latest_answer(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let question = team.question("What did you have for breakfast?").await;
    team.answer(&ada, &question, "Porridge with blueberries", "team").await;
    team.answer(&ada, &question, "Nobody needs to know this", "only_me").await;
    let grace = team.member("Grace Hopper", "Admiral").await;
    let browser = app.signed_in(&team.workspace_id, &grace).await;

    let (status, html) = browser.page("/people").await;

    assert_eq!(status, 200);
    assert!(html.contains("Ada Lovelace") && html.contains("Staff Engineer"));
    assert!(html.contains("Grace Hopper"));
    assert!(html.contains("1 answer<"), "only the team answer is counted");
    assert!(html.contains("Porridge with blueberries"));
    assert!(!html.contains("Nobody needs to know this"));
    assert!(html.contains(r#"type="search""#), "the filter box is on the page");
}

async fn a_profile_shows_team_answers_with_questions_and_never_only_me(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let older = team.question("Favourite breakfast?").await;
    let newer = team.question("Best trip you took?").await;
    team.answer(&ada, &older, "Porridge", "team").await;
    team.answer(&ada, &newer, "Lisbon by night train", "team").await;
    team.answer(&ada, &newer, "A private thought about Lisbon", "only_me").await;
    let colleague = team.member("Grace Hopper", "Admiral").await;
    let browser = app.signed_in(&team.workspace_id, &colleague).await;

    let (status, html) = browser.page(&format!("/people/{ada}")).await;

    assert_eq!(status, 200);
    assert!(html.contains("Ada Lovelace"));
    let newest = html.find("Lisbon by night train").expect("newer team answer shown");
    let oldest = html.find("Porridge").expect("older team answer shown");
    assert!(newest < oldest, "answers are newest first");
    assert!(html.contains("Best trip you took?") && html.contains("Favourite breakfast?"));
    assert!(!html.contains("A private thought about Lisbon"));
}

async fn the_question_pages_show_counts_and_everyones_team_answers(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let grace = team.member("Grace Hopper", "Admiral").await;
    let question = team.question("What did you have for breakfast?").await;
    team.question("Where would you like to travel next?").await;
    team.answer(&ada, &question, "Porridge", "team").await;
    team.answer(&grace, &question, "Coffee, strong", "team").await;
    team.answer(&grace, &question, "Secret second breakfast", "only_me").await;
    let browser = app.signed_in(&team.workspace_id, &ada).await;

    let (status, list) = browser.page("/questions").await;
    assert_eq!(status, 200);
    assert!(list.contains("What did you have for breakfast?") && list.contains("2 answers"));
    assert!(list.contains("Where would you like to travel next?") && list.contains("no answers yet"));

    let (status, page) = browser.page(&format!("/questions/{question}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Porridge") && page.contains("Coffee, strong"));
    assert!(page.contains("Ada Lovelace") && page.contains("Grace Hopper"));
    assert!(!page.contains("Secret second breakfast"));
}

async fn an_unknown_person_or_question_is_a_404_page(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let browser = app.signed_in(&team.workspace_id, &ada).await;

    for path in [
        "/people/0193a3f0-7c1e-7b2a-9f00-1234567890ab",
        "/people/not%20an%20id",
        "/questions/0193a3f0-7c1e-7b2a-9f00-1234567890ab",
        "/no/such/page",
    ] {
        let (status, html) = browser.page(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(html.contains("Page not found"), "{path}: {html}");
    }
}

async fn a_server_function_answers_with_json(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let browser = app.signed_in(&team.workspace_id, &ada).await;

    let (status, body) = browser.call_server_fn("people/list", &[]).await;

    assert_eq!(status, 200);
    let directory: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(directory["people"][0]["name"], "Ada Lovelace");
    assert_eq!(directory["everyone"], 1);
    assert_eq!(directory["people"][0]["answer_count"], 0);
}

async fn a_database_failure_shows_a_reference_and_not_the_cause(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let browser = app.signed_in(&team.workspace_id, &ada).await;
    // A table the directory reads, gone.
    sqlx::query("DROP TABLE member_answer_counts").execute(app.db.pool()).await.unwrap();

    let (status, html) = browser.page("/people").await;

    assert_eq!(status, 500);
    assert!(html.contains("Something went wrong"));
    let reference =
        html.split("<code>").nth(1).and_then(|rest| rest.split("</code>").next()).expect("a reference id is shown");
    assert_eq!(reference.len(), 8, "{reference}");
    assert!(!html.to_lowercase().contains("no such table") && !html.contains("does not exist"));
}

async fn without_sign_in_no_team_data_is_shown_and_pages_go_to_sign_in(db: TestDb) {
    let app = spawn_app(&db).await;
    let ours = Team::new(&app.db, "Ours").await;
    let theirs = Team::new(&app.db, "Theirs").await;
    ours.member("Ada Lovelace", "Engineer").await;
    theirs.member("Eve Outsider", "Spy").await;

    let visit = app.browser().get("/people?sort=name").await;
    let (page, location) = (visit.status().as_u16(), visit.headers()["location"].to_str().unwrap().to_owned());
    let html = visit.text().await.unwrap();
    let (api, body) = app.browser().call_server_fn("people/list", &[]).await;

    assert_eq!(page, 302, "an anonymous page visit goes to sign-in");
    assert_eq!(location, "/login?next=/people%3Fsort%3Dname", "and comes back afterwards");
    assert_eq!(api, 401, "an anonymous API call is refused: {body}");
    assert!(!html.contains("Ada Lovelace") && !html.contains("Eve Outsider"));
    assert!(!body.contains("Ada Lovelace") && !body.contains("Eve Outsider"));
}

#[tokio::test]
async fn the_landing_page_links_to_the_directory() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;

    let (status, html) = app.page("/").await;

    assert_eq!(status, 200);
    assert!(html.contains(r#"href="/people""#));
    assert!(html.contains(r#"href="/emulator""#), "the demo offers a way into the Slack emulator: {html}");
    assert!(html.contains("<title>"), "{html}");
}
