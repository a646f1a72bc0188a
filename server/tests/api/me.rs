//! `/me` over HTTP: a member's own answers (who sees them, edit, withdraw, reaching the
//! sharing channel's posts too: an answer's own, a "Meet X" post, a digest) and settings
//! (pause, opt out, export, forget me).

use app::server::{
    db::{
        answers, members,
        workspaces::{self, ShareMode},
    },
    services::sharing,
};
use serde_json::Value;

use crate::helpers::{Browser, DEMO_TEAM, Team, TestApp, TestDb, eventually, spawn_app};

on_both_backends!(
    a_member_edits_hides_and_withdraws_answers_and_the_shared_posts_follow,
    a_digest_post_follows_the_edits_withdrawals_and_hidings_of_its_answers,
    an_edited_answer_keeps_the_meet_post_that_quotes_it,
    only_my_own_answers_can_be_managed,
    a_member_pauses_resumes_and_opts_out,
    without_javascript_a_refused_form_comes_back_with_its_message_and_changes_nothing,
    my_data_downloads_as_json_and_forget_me_removes_me_everywhere,
);

fn json((status, body): (u16, String)) -> (u16, Value) {
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The member's answers as `/me` lists them: (id, text, visibility).
async fn my_answers(browser: &Browser) -> Vec<(String, String, String)> {
    let (status, page) = json(browser.call_server_fn("me/get", &[]).await);
    assert_eq!(status, 200, "{page}");
    page["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap().into(), a["text"].as_str().unwrap().into(), a["visibility"].to_string()))
        .collect()
}

/// The demo member `user` answers a question in their DM; waits until the answer is stored.
async fn answer_in_dm(app: &TestApp, user: &str, text: &str) {
    let member = app.demo_member(user).await;
    app.clear_open_question(&member).await;
    app.emulator.send_command(user, "ask").await.unwrap();
    let dm = format!("D{user}");
    eventually("the question arrives", || async {
        app.emulator.messages().iter().any(|m| m.channel == dm && m.blocks.to_string().contains("another_question"))
    })
    .await;
    app.emulator.send_direct_message(user, text).await.unwrap();
    app.drain_inbox().await;
    eventually("the answer is stored", || async {
        let stored = answers::list_managed(app.db.pool(), &member.workspace_id, &member.id).await.unwrap();
        stored.iter().any(|answer| answer.text == text)
    })
    .await;
}

/// The demo member `user` answers a question in their DM; waits until the answer's post is
/// in the sharing channel.
async fn answer_in_slack(app: &TestApp, user: &str, text: &str) {
    answer_in_dm(app, user, text).await;
    eventually("the answer is posted", || async { shared_post(app, text).is_some() }).await;
}

/// The id of the signed-in member's answer that says `text`.
async fn answer_id(browser: &Browser, text: &str) -> String {
    my_answers(browser).await.into_iter().find(|(_, t, _)| t == text).unwrap().0
}

/// The text of the sharing channel's post with `ts`, or of the post quoting `text`.
fn shared_post(app: &TestApp, text: &str) -> Option<String> {
    app.emulator.messages().into_iter().find(|m| m.channel == "CSHARING01" && m.text.contains(text)).map(|m| m.ts)
}

fn post_text(app: &TestApp, ts: &str) -> String {
    app.emulator.messages().into_iter().find(|m| m.channel == "CSHARING01" && m.ts == ts).unwrap().text
}

async fn a_member_edits_hides_and_withdraws_answers_and_the_shared_posts_follow(db: TestDb) {
    let app = spawn_app(&db).await;
    app.demo_seeded().await;
    let demo = workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().unwrap();
    workspaces::update_sharing(app.db.pool(), &demo.id, "CSHARING01", ShareMode::Immediate, 1).await.unwrap();
    answer_in_slack(&app, "UDEMO009", "Sourdough, fed every morning").await;
    let first_post = shared_post(&app, "Sourdough, fed every morning").unwrap();
    answer_in_slack(&app, "UDEMO009", "A night train to Vienna").await;
    let second_post = shared_post(&app, "A night train to Vienna").unwrap();
    let me = app.signed_in_to_demo("UDEMO009").await;
    let coworker = app.signed_in_to_demo("UDEMO004").await;
    let profile = format!("/people/{}", app.demo_member("UDEMO009").await.id);
    let answers = my_answers(&me).await;
    let id_of = |text: &str| answers.iter().find(|(_, t, _)| t == text).unwrap().0.clone();
    let (bread, train) = (id_of("Sourdough, fed every morning"), id_of("A night train to Vienna"));

    let (empty, error) = json(me.call_server_fn("me/answers/edit", &[("answer_id", &bread), ("text", "  ")]).await);
    let (edited, _) =
        me.call_server_fn("me/answers/edit", &[("answer_id", &bread), ("text", "Rye sourdough, fed daily")]).await;
    let (hidden, _) =
        me.call_server_fn("me/answers/visibility", &[("answer_id", &train), ("visibility", "only_me")]).await;

    assert_eq!(empty, 422);
    assert!(error.to_string().contains("answer"), "the error names the field: {error}");
    assert_eq!((edited, hidden), (200, 200));
    assert!(post_text(&app, &first_post).contains("Rye sourdough, fed daily"), "the post shows the new words");
    assert!(post_text(&app, &second_post).contains("withdrawn"), "a private answer's post is taken back");
    let (_, seen) = coworker.page(&profile).await;
    assert!(seen.contains("Rye sourdough, fed daily") && !seen.contains("night train"), "{seen}");
    assert!(my_answers(&me).await.iter().any(|(_, t, v)| t == "A night train to Vienna" && v.contains("OnlyMe")));

    let (withdrawn, _) = me.call_server_fn("me/answers/withdraw", &[("answer_id", &bread)]).await;
    assert_eq!(withdrawn, 200);
    assert!(post_text(&app, &first_post).contains("withdrawn"));
    let (_, seen) = coworker.page(&profile).await;
    assert!(!seen.contains("sourdough"), "a withdrawn answer is on no page: {seen}");
    assert!(!my_answers(&me).await.iter().any(|(id, _, _)| *id == bread), "not even mine");
}

async fn a_digest_post_follows_the_edits_withdrawals_and_hidings_of_its_answers(db: TestDb) {
    let app = spawn_app(&db).await;
    app.demo_seeded().await;
    let demo = workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().unwrap();
    let now = app::server::now_ms();
    // Only what is answered from now on goes into the digest; set first, so no digest is due
    // before the test asks for one.
    let claimed = workspaces::update_last_digest_at(app.db.pool(), &demo.id, demo.last_digest_at, Some(now));
    assert!(claimed.await.unwrap());
    workspaces::update_sharing(app.db.pool(), &demo.id, "CSHARING01", ShareMode::Digest, 1).await.unwrap();
    answer_in_dm(&app, "UDEMO009", "Sourdough, fed every morning").await;
    answer_in_dm(&app, "UDEMO004", "A night train to Vienna").await;
    let posted = sharing::post_due_digests(&app.state, now + sharing::DIGEST_EVERY_MS).await.unwrap();
    let digest = shared_post(&app, "Sourdough, fed every morning").unwrap();
    let baker_name = app.demo_member("UDEMO009").await.name;
    let (baker, traveller) = (app.signed_in_to_demo("UDEMO009").await, app.signed_in_to_demo("UDEMO004").await);
    let bread = answer_id(&baker, "Sourdough, fed every morning").await;
    let train = answer_id(&traveller, "A night train to Vienna").await;
    assert_eq!(posted, 1);
    assert!(post_text(&app, &digest).contains("A night train to Vienna"), "one digest lists both answers");

    let edit = [("answer_id", bread.as_str()), ("text", "Rye sourdough, fed daily")];
    let (edited, _) = baker.call_server_fn("me/answers/edit", &edit).await;
    let text = post_text(&app, &digest);
    assert_eq!(edited, 200);
    assert!(text.contains("Rye sourdough, fed daily") && !text.contains("fed every morning"), "{text}");
    assert!(text.contains("A night train to Vienna"), "the other answer stays: {text}");

    let (withdrawn, _) = baker.call_server_fn("me/answers/withdraw", &[("answer_id", &bread)]).await;
    let text = post_text(&app, &digest);
    assert_eq!(withdrawn, 200);
    assert!(!text.contains("sourdough") && !text.contains(&baker_name), "a withdrawn answer leaves the digest: {text}");
    assert!(text.contains("A night train to Vienna"), "the other answer stays: {text}");

    let hide = [("answer_id", train.as_str()), ("visibility", "only_me")];
    let (hidden, _) = traveller.call_server_fn("me/answers/visibility", &hide).await;
    assert_eq!(hidden, 200);
    assert_eq!(post_text(&app, &digest), sharing::WITHDRAWN_DIGEST, "a digest with no answer left says so");
    let posts = app.emulator.messages().into_iter().filter(|m| m.channel == "CSHARING01").count();
    assert_eq!(posts, 1, "the digest changed in place");
}

async fn an_edited_answer_keeps_the_meet_post_that_quotes_it(db: TestDb) {
    let app = spawn_app(&db).await;
    app.demo_seeded().await;
    let demo = workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().unwrap();
    workspaces::update_sharing(app.db.pool(), &demo.id, "CSHARING01", ShareMode::Immediate, 1).await.unwrap();
    let newcomer = app.demo_member("UDEMO009").await;
    // In their first week, so their first answer comes with a "Meet X" post.
    sqlx::query("UPDATE members SET welcome_until = $1 WHERE id = $2")
        .bind(app::server::now_ms() + sharing::DIGEST_EVERY_MS * 7)
        .bind(&newcomer.id)
        .execute(app.db.pool())
        .await
        .unwrap();
    answer_in_slack(&app, "UDEMO009", "Sourdough, fed every morning").await;
    let meet = shared_post(&app, "Sourdough, fed every morning").unwrap();
    let greeting = format!("Meet *{}*", newcomer.name);
    assert!(post_text(&app, &meet).contains(&greeting), "the answer is quoted in the Meet post");
    let me = app.signed_in_to_demo("UDEMO009").await;
    let bread = answer_id(&me, "Sourdough, fed every morning").await;

    let edit = [("answer_id", bread.as_str()), ("text", "Rye sourdough, fed daily")];
    let (edited, _) = me.call_server_fn("me/answers/edit", &edit).await;

    assert_eq!(edited, 200);
    let text = post_text(&app, &meet);
    assert!(text.contains(&greeting) && text.contains("Say hi"), "still the Meet post: {text}");
    assert!(text.contains("Rye sourdough, fed daily") && !text.contains("fed every morning"), "{text}");
    let (withdrawn, _) = me.call_server_fn("me/answers/withdraw", &[("answer_id", &bread)]).await;
    assert_eq!(withdrawn, 200);
    assert_eq!(post_text(&app, &meet), sharing::WITHDRAWN_POST);
}

async fn only_my_own_answers_can_be_managed(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let grace = team.member("Grace Hopper", "Admiral").await;
    let question = team.question("Tea or coffee?").await;
    let graces = team.answer(&grace, &question, "Coffee, strong", "team").await;
    let as_ada = app.signed_in(&team.workspace_id, &ada).await;

    let (edit, _) = as_ada.call_server_fn("me/answers/edit", &[("answer_id", &graces), ("text", "Tea")]).await;
    let (withdraw, _) = as_ada.call_server_fn("me/answers/withdraw", &[("answer_id", &graces)]).await;
    let (anonymous, _) = app.browser().call_server_fn("me/get", &[]).await;
    let (page, _) = app.browser().page("/me").await;

    assert_eq!((edit, withdraw), (404, 404), "another member's answer is not found");
    assert_eq!((anonymous, page), (401, 302));
    let as_grace = app.signed_in(&team.workspace_id, &grace).await;
    assert_eq!(my_answers(&as_grace).await[0].1, "Coffee, strong", "untouched");
}

async fn a_member_pauses_resumes_and_opts_out(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let browser = app.signed_in(&team.workspace_id, &ada).await;
    let stored = || async { members::find(app.db.pool(), &team.workspace_id, &ada).await.unwrap().unwrap() };

    let (past, error) = json(browser.call_server_fn("me/pause", &[("until", "2020-01-01")]).await);
    let (garbled, _) = browser.call_server_fn("me/pause", &[("until", "soon")]).await;
    assert_eq!((past, garbled), (422, 422));
    assert!(error.to_string().contains("until"), "{error}");
    assert_eq!(stored().await.paused_until, None, "a refused pause changes nothing");

    let (paused, _) = browser.call_server_fn("me/pause", &[("until", "2099-06-01")]).await;
    let (_, page) = json(browser.call_server_fn("me/get", &[]).await);
    assert_eq!(paused, 200);
    assert!(page["pause"]["Until"].is_i64(), "{page}");
    let (resumed, _) = browser.call_server_fn("me/resume", &[]).await;
    assert_eq!((resumed, stored().await.paused_until), (200, None));

    let (out, _) = browser.call_server_fn("me/opt_out", &[("opted_out", "true")]).await;
    assert!(out == 200 && stored().await.is_opted_out);
    let (back, _) = browser.call_server_fn("me/opt_out", &[("opted_out", "false")]).await;
    assert!(back == 200 && !stored().await.is_opted_out);
    let (_, html) = browser.page("/me").await;
    assert!(html.contains("Opt out of questions") && html.contains("Export my data"), "{html}");
}

/// A browser without JavaScript posts the form itself: a refused value sends it back to the
/// page it came from, which names the field and the problem where the form is.
async fn without_javascript_a_refused_form_comes_back_with_its_message_and_changes_nothing(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let browser = app.signed_in(&team.workspace_id, &ada).await;

    let (sent, back_to) = browser.submit_without_javascript("/api/me/pause", &[("until", "2020-01-01")], "/me").await;
    assert!(sent == 302 && back_to.starts_with("/me?"), "{sent} {back_to}");
    let (status, html) = browser.page(&back_to).await;

    assert_eq!(status, 200);
    let message = html.find(r#"class="form-error""#).map(|at| &html[at..]).unwrap_or_default();
    assert!(message.contains("until: pick a day after today"), "the page names the field and the problem: {html}");
    let stored = members::find(app.db.pool(), &team.workspace_id, &ada).await.unwrap().unwrap();
    assert_eq!(stored.paused_until, None, "a refused pause changes nothing");
}

async fn my_data_downloads_as_json_and_forget_me_removes_me_everywhere(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let grace = team.member("Grace Hopper", "Admiral").await;
    let question = team.question("Favourite view?").await;
    team.answer(&ada, &question, "The harbour at dusk", "team").await;
    team.answer(&ada, &question, "My own garden", "only_me").await;
    team.answer(&grace, &question, "Mountains", "team").await;
    let as_ada = app.signed_in(&team.workspace_id, &ada).await;
    let as_grace = app.signed_in(&team.workspace_id, &grace).await;

    let export = as_ada.get("/api/me/export").await;
    let disposition = export.headers()["content-disposition"].to_str().unwrap().to_owned();
    let data: Value = serde_json::from_str(&export.text().await.unwrap()).unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(data["name"], "Ada Lovelace");
    let texts: Vec<&str> = data["answers"].as_array().unwrap().iter().map(|a| a["text"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 2, "both of mine, private ones too: {texts:?}");
    assert!(!texts.contains(&"Mountains"), "nobody else's");

    let (unconfirmed, _) = as_ada.call_server_fn("me/forget", &[("confirmation", "yes")]).await;
    assert_eq!(unconfirmed, 422);
    assert_eq!(my_answers(&as_ada).await.len(), 2, "nothing is deleted without the typed confirmation");

    let (forgotten, _) = as_ada.call_server_fn("me/forget", &[("confirmation", "forget me")]).await;
    assert_eq!(forgotten, 200);
    let (_, directory) = as_grace.page("/people").await;
    let (profile, _) = as_grace.page(&format!("/people/{ada}")).await;
    let (_, question_page) = as_grace.page(&format!("/questions/{question}")).await;
    let row = members::find(app.db.pool(), &team.workspace_id, &ada).await.unwrap().unwrap();
    assert!(!directory.contains("Ada Lovelace"), "{directory}");
    assert_eq!(profile, 404);
    assert!(!question_page.contains("harbour") && question_page.contains("Mountains"), "{question_page}");
    assert!(row.is_opted_out && row.forgotten_at.is_some(), "never asked again unless she opts back in");
    assert!(my_answers(&as_ada).await.is_empty());
}
