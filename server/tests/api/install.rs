//! "Add to Slack" through the emulator's authorize page and `oauth.v2.access`.

use app::server::db::workspaces::WorkspaceStatus;

use app::server::db::{members, workspaces};

use server::emulator::{BOT_TOKEN, Fault};

use crate::helpers::{DEMO_TEAM, Logs, TestApp, TestDb, eventually, spawn_app};

/// A browser: keeps cookies, and lets the test follow each redirect itself.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").expect("a redirect").to_str().unwrap().to_owned()
}

/// Clicks "Add to Slack", approves on the (emulated) Slack page, and returns the callback URL.
async fn approve(app: &TestApp, browser: &reqwest::Client) -> String {
    let start = browser.get(format!("{}/slack/install", app.address)).send().await.unwrap();
    assert!(start.status().is_redirection());
    let authorize = location(&start);
    assert!(authorize.contains("scope=chat%3Awrite%2Cim%3Awrite"), "{authorize}");
    let approved = browser.get(authorize).send().await.unwrap();
    location(&approved)
}

async fn finish(browser: &reqwest::Client, callback: &str) -> (u16, String) {
    let response = browser.get(callback).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

on_both_backends!(
    an_install_stores_the_workspace_with_its_token_sealed_and_imports_members,
    a_callback_with_a_wrong_missing_or_reused_state_is_refused,
    a_reinstall_after_an_uninstall_updates_the_same_workspace,
);

async fn an_install_stores_the_workspace_with_its_token_sealed_and_imports_members(db: TestDb) {
    let app = spawn_app(&db).await;
    let browser = browser();

    let callback = approve(&app, &browser).await;
    let (status, page) = finish(&browser, &callback).await;

    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Rapport is installed in Northwind Trails"));
    let workspace = workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().unwrap();
    let sealed = workspace.bot_token_ciphertext.clone().expect("the token is stored");
    assert!(!sealed.windows(4).any(|w| w == b"xoxb"), "the token is not stored in clear");
    assert!(!workspace.questions_enabled, "nobody is asked before the installer says so");
    assert_eq!(workspace.sharing_channel_id, None);
    eventually("the members are imported", || async {
        members::list_for_workspace(app.db.pool(), &workspace.id).await.unwrap().len() == app.emulator.users().len()
    })
    .await;
    assert!(app.emulator.messages().is_empty(), "nothing is posted on install");
    let reply = app.command(DEMO_TEAM, "UDEMO003", "ask").await;
    assert!(reply.contains("not turned on"), "{reply}");
    assert!(app.emulator.messages().is_empty(), "nobody is messaged before questions are on");
}

async fn a_callback_with_a_wrong_missing_or_reused_state_is_refused(db: TestDb) {
    let app = spawn_app(&db).await;
    let browser = browser();

    // Another browser holding a genuine callback URL is refused; the installer's still works.
    let callback = approve(&app, &browser).await;
    let (other_browser, _) = finish(&self::browser(), &callback).await;
    let without_state = callback.split("&state=").next().unwrap().to_owned();
    let (missing, _) = finish(&browser, &without_state).await;
    assert_eq!((other_browser, missing), (400, 400));
    assert!(workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().is_none());

    let callback = approve(&app, &browser).await;
    let (forged, _) = finish(&browser, &callback.replace("state=", "state=forged")).await;
    assert_eq!(forged, 400);
    assert!(workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().is_none());

    let callback = approve(&app, &browser).await;
    let (first, _) = finish(&browser, &callback).await;
    let (replayed, page) = finish(&browser, &callback).await;
    assert_eq!((first, replayed), (200, 400));
    assert!(page.contains("expired"), "{page}");
}

async fn a_reinstall_after_an_uninstall_updates_the_same_workspace(db: TestDb) {
    let app = spawn_app(&db).await;
    let browser = browser();
    let callback = approve(&app, &browser).await;
    finish(&browser, &callback).await;

    app.deliver_event(DEMO_TEAM, "EvGone", serde_json::json!({ "type": "app_uninstalled" })).await;
    app.drain_inbox().await;
    let workspace = workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().unwrap();
    assert!(
        workspace.status == WorkspaceStatus::Uninstalled && workspace.bot_token_ciphertext.is_none(),
        "the workspace is uninstalled and its token dropped"
    );
    let callback = approve(&app, &browser).await;
    let (status, _) = finish(&browser, &callback).await;

    assert_eq!(status, 200);
    let all = workspaces::list(app.db.pool(), 10).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].status, WorkspaceStatus::Active);
    assert!(all[0].bot_token_ciphertext.is_some() && all[0].uninstalled_at.is_none());
}

on_both_backends!(an_install_whose_answer_cannot_be_read_fails_without_the_token_reaching_the_log);

async fn an_install_whose_answer_cannot_be_read_fails_without_the_token_reaching_the_log(db: TestDb) {
    let app = spawn_app(&db).await;
    let browser = browser();
    let callback = approve(&app, &browser).await;
    // Slack grants the token, but its answer arrives cut short: the app cannot read it, and
    // slack-morphism's error about it carries the whole body, bot token included.
    app.emulator.inject_fault("oauth.v2.access", Fault::CutShort, 1);
    let logs = Logs::default();
    let capturing = logs.capture();

    let (status, page) = finish(&browser, &callback).await;

    drop(capturing);
    assert_eq!(status, 502, "{page}");
    let reference = page.split("quote reference ").nth(1).and_then(|rest| rest.split('.').next()).unwrap();
    let logged = logs.text();
    assert!(logged.contains(reference) && logged.contains("the answer was cut short"), "{logged}");
    assert!(!logged.contains(BOT_TOKEN) && !logged.contains("xoxb"), "no token in the log: {logged}");
    assert!(!page.contains("xoxb"), "{page}");
    assert!(workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().is_none());
}

on_both_backends!(self_hosted_mode_takes_its_workspace_from_the_bot_token_in_the_environment);

/// A self-hosted Rapport, pointed at another app's emulator as its "Slack".
async fn self_hosted_mode_takes_its_workspace_from_the_bot_token_in_the_environment(db: TestDb) {
    let slack_stand_in = TestDb::sqlite().await;
    let slack = spawn_app(&slack_stand_in).await;
    let config = crate::helpers::self_hosted_config(&db, &slack);

    let app = server::startup::Application::build(config).await.unwrap();
    assert!(app.emulator().is_none(), "a configured Slack turns the emulator off");
    let db = app.db().clone();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));

    eventually("the workspace and its members are imported", || async {
        match workspaces::find_by_slack_team_id(db.pool(), DEMO_TEAM).await.unwrap() {
            Some(workspace) => {
                members::list_for_workspace(db.pool(), &workspace.id).await.unwrap().len()
                    == slack.emulator.users().len()
            }
            None => false,
        }
    })
    .await;
    let workspace = workspaces::find_by_slack_team_id(db.pool(), DEMO_TEAM).await.unwrap().unwrap();
    assert_eq!(workspace.bot_token_ciphertext, None, "the token stays in the environment");
    assert_eq!(workspaces::list(db.pool(), 10).await.unwrap().len(), 1, "no demo data next to a real workspace");
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let people = no_redirects.get(format!("{address}/people")).send().await.unwrap();
    let api = no_redirects.post(format!("{address}/api/people/list")).send().await.unwrap();
    assert_eq!((people.status().as_u16(), api.status().as_u16()), (302, 401), "a real team's answers need sign-in");
    assert_eq!(people.headers()["location"], "/login?next=/people");
    let emulator = reqwest::get(format!("{address}/emulator")).await.unwrap();
    assert_eq!(emulator.status().as_u16(), 404, "no emulator next to a real Slack");
}
