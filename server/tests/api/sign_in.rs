//! Signing in and out over HTTP: one-time links from Slack, the admin account's password,
//! Sign in with Slack through the emulator; who may see and change what afterwards.

use app::{
    features::auth::types::{Email, Password},
    server::{
        db::members,
        services::{accounts, sign_in},
    },
};

use app::server::{db::Db, viewer::SESSION_KEY};
use server::{
    sessions::{RENEW_EVERY_MS, RENEWED_AT_KEY},
    sign_in::limits::DEFAULT_BUDGET,
    startup::Application,
};

use crate::helpers::{Browser, DEMO_TEAM, Team, TestApp, TestDb, spawn_app, test_config};

on_both_backends!(
    a_link_from_slack_signs_in_once_under_a_new_session_id,
    an_expired_link_or_one_of_a_member_who_left_signs_nobody_in,
    the_admin_account_signs_in_with_its_password_within_a_budget_of_attempts,
    roles_decide_what_a_viewer_may_do_and_sign_out_ends_it,
    sign_in_with_slack_through_the_emulator_signs_in_the_member_chosen,
    browsing_anonymously_stores_no_session_and_sets_no_cookie,
    a_signed_in_session_in_use_is_saved_again_once_a_day_not_on_every_visit,
    the_eleventh_start_from_one_address_within_a_minute_waits_and_other_addresses_do_not,
);

/// The session cookie a response sets, if any.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|cookie| cookie.starts_with("rapport_session="))
        .map(|cookie| cookie.split(';').next().unwrap_or_default().to_owned())
}

/// Who the header greets, from the server function the header calls.
async fn who(browser: &Browser) -> serde_json::Value {
    let (status, body) = browser.call_server_fn("auth/me", &[]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn a_link_from_slack_signs_in_once_under_a_new_session_id(db: TestDb) {
    let app = spawn_app(&db).await;
    app.demo_seeded().await;
    let browser = app.browser();
    // A session from before sign-in (here: a Sign in with Slack that was never finished).
    let started = browser.get("/login/slack").await;
    let before = session_cookie(&started).expect("the sign-in start stores its state in a session");

    let reply = app.command(DEMO_TEAM, "UDEMO002", "login").await;
    let link = reply.split('<').nth(1).and_then(|rest| rest.split('|').next()).expect("the reply holds a link");
    let token = link.rsplit('/').next().unwrap();
    let signed_in = browser.follow_sign_in_link(token).await;
    let after = session_cookie(&signed_in).expect("signing in sets the cookie again");
    let again = app.browser().follow_sign_in_link(token).await;

    assert!(link.starts_with(&format!("{}/login/link/", app.address)), "{reply}");
    assert_eq!(signed_in.status().as_u16(), 303);
    assert_eq!(signed_in.headers()["location"], "/me");
    assert_ne!(before, after, "the session id is rotated at sign-in");
    let member = app.demo_member("UDEMO002").await;
    assert_eq!(who(&browser).await["name"], member.name);
    assert_eq!(again.status().as_u16(), 410, "a link works once");
    assert_eq!(who(&app.browser()).await, serde_json::Value::Null, "nobody else is signed in");
}

async fn an_expired_link_or_one_of_a_member_who_left_signs_nobody_in(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let grace = team.member("Grace Hopper", "Admiral").await;
    let long_ago = app::server::now_ms() - sign_in::LINK_VALID_MS - 1;
    let expired = sign_in::create_link(&app.db, &team.workspace_id, &ada, long_ago).await.unwrap();
    let fresh = sign_in::create_link(&app.db, &team.workspace_id, &grace, app::server::now_ms()).await.unwrap();
    members::update_deleted(app.db.pool(), &team.workspace_id, &grace, true, 1).await.unwrap();

    let browser = app.browser();
    let late = browser.follow_sign_in_link(&expired).await;
    let left = browser.follow_sign_in_link(&fresh).await;
    let made_up = browser.get(&format!("/login/link/{}", "ab".repeat(32))).await;
    let (garbage, _) = browser.post_form("/login/link/not-a-token", &[]).await;

    assert_eq!((late.status().as_u16(), left.status().as_u16()), (410, 410));
    assert_eq!(made_up.status().as_u16(), 200, "the page only offers the button");
    assert_eq!(garbage, 410);
    assert!(late.text().await.unwrap().contains("/rapport login"), "the page says how to get a new link");
    assert_eq!(who(&browser).await, serde_json::Value::Null);
}

async fn the_admin_account_signs_in_with_its_password_within_a_budget_of_attempts(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let email = Email::parse("admin@acme.example").unwrap();
    accounts::create_admin(&app.db, &email, &Password::parse("correct horse battery").unwrap(), 1).await.unwrap();
    let browser = app.browser();
    let attempt = |password: &'static str| {
        let browser = &browser;
        async move {
            let form = [("email", "Admin@Acme.example"), ("password", password), ("next", "/admin")];
            let response = browser.form_request("/login/password", &form).send().await.unwrap();
            (response.status().as_u16(), response.headers()["location"].to_str().unwrap().to_owned())
        }
    };

    let (_, login_page) = browser.page("/login").await;
    let wrong = attempt("not the password at all").await;
    let (status, location) = attempt("correct horse battery").await;
    let (packs, _) = browser.call_server_fn("packs/list", &[]).await;

    assert!(login_page.contains(r#"action="/login/password""#), "the form is offered: {login_page}");
    assert_eq!(wrong, (303, "/login?error=wrong_password&next=%2Fadmin".to_owned()));
    assert_eq!((status, location.as_str()), (303, "/admin"));
    assert_eq!(packs, 200, "the admin account manages the one workspace ({})", team.workspace_id);
    assert_eq!(who(&browser).await["admin"], true);

    let guesser = app.browser();
    let mut refused = None;
    for _ in 0..12 {
        let form = [("email", "admin@acme.example"), ("password", "a wrong guess, again")];
        let response = guesser.form_request("/login/password", &form).send().await.unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        if location.contains("too_many_attempts") {
            refused = Some(location);
            break;
        }
    }
    let form = [("email", "admin@acme.example"), ("password", "correct horse battery")];
    let right_too_late = guesser.form_request("/login/password", &form).send().await.unwrap();
    assert!(refused.is_some(), "guessing stops within the budget");
    assert!(right_too_late.headers()["location"].to_str().unwrap().contains("too_many_attempts"));
    assert_eq!(who(&guesser).await, serde_json::Value::Null);
}

async fn roles_decide_what_a_viewer_may_do_and_sign_out_ends_it(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let member = app.signed_in(&team.workspace_id, &team.member("Mo Member", "Engineer").await).await;
    let admin = app.signed_in(&team.workspace_id, &team.admin("Ada Admin").await).await;
    let promoted_id = team.member_row("Pat Promoted", "Lead", |m| m.is_admin = true).await;
    let promoted = app.signed_in(&team.workspace_id, &promoted_id).await;

    let (member_reads, _) = member.call_server_fn("people/list", &[]).await;
    let (member_manages, _) = member.call_server_fn("schedule/get", &[]).await;
    let (admin_manages, _) = admin.call_server_fn("schedule/get", &[]).await;
    let (promoted_manages, _) = promoted.call_server_fn("schedule/get", &[]).await;
    let (anonymous, _) = app.browser().call_server_fn("people/list", &[]).await;

    assert_eq!((member_reads, member_manages), (200, 403));
    assert_eq!((admin_manages, promoted_manages), (200, 200), "Slack admins and promoted members are admins");
    assert_eq!(anonymous, 401);
    assert_eq!(who(&member).await["admin"], false);

    let signed_out = member.form_request("/logout", &[]).send().await.unwrap();
    assert_eq!(signed_out.status().as_u16(), 303);
    let (after, _) = member.call_server_fn("people/list", &[]).await;
    assert_eq!(after, 401, "signing out ends the session");
}

async fn sign_in_with_slack_through_the_emulator_signs_in_the_member_chosen(db: TestDb) {
    let app = spawn_app(&db).await;
    app.demo_seeded().await;
    let browser = app.browser();

    let start = browser.get("/login/slack?next=/people").await;
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    let (chooser_status, chooser) = browser.page(authorize.trim_start_matches(&app.address)).await;
    let approved = browser.get(&format!("{}&as=UDEMO003", authorize.trim_start_matches(&app.address))).await;
    let callback = approved.headers()["location"].to_str().unwrap().to_owned();
    let signed_in = browser.get(callback.trim_start_matches(&app.address)).await;
    let replayed = browser.get(callback.trim_start_matches(&app.address)).await;

    assert!(authorize.contains("nonce=") && authorize.contains("state="), "{authorize}");
    assert_eq!(chooser_status, 200);
    assert!(chooser.contains("UDEMO003"), "the demo visitor picks a member: {chooser}");
    assert_eq!(signed_in.status().as_u16(), 303);
    assert_eq!(signed_in.headers()["location"], "/people");
    assert_eq!(who(&browser).await["name"], app.demo_member("UDEMO003").await.name);
    assert_eq!(replayed.status().as_u16(), 400, "a callback (and its nonce) works once");
}

#[tokio::test]
async fn sign_in_with_slack_refuses_a_member_of_a_workspace_that_is_not_installed() {
    let db = TestDb::sqlite().await;
    // The emulator speaks for the demo team, which this database does not hold.
    let app = spawn_app(&db).await;
    let browser = app.browser();

    let start = browser.get("/login/slack").await;
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    let approved = browser.get(&format!("{}&as=UDEMO003", authorize.trim_start_matches(&app.address))).await;
    let callback = approved.headers()["location"].to_str().unwrap().to_owned();
    let (status, page) = browser.page(callback.trim_start_matches(&app.address)).await;

    assert_eq!(status, 403);
    assert!(page.contains("not installed in your Slack workspace"), "{page}");
    assert_eq!(who(&browser).await, serde_json::Value::Null);
}

#[tokio::test]
async fn a_demo_visitor_browses_the_demo_team_but_changes_nothing() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    app.demo_seeded().await;
    let visitor = app.browser();

    let (people, _) = visitor.page("/people").await;
    let (create, _) = visitor.call_server_fn("packs/create", &[("name", "Planted"), ("description", "")]).await;
    let (schedule, _) = visitor.call_server_fn("schedule/get", &[]).await;
    let admin = app.signed_in_to_demo("UDEMO001").await;
    let (admin_schedule, _) = admin.call_server_fn("schedule/get", &[]).await;

    assert_eq!(people, 200, "the fictional team is public in the demo");
    assert_eq!((create, schedule), (401, 401), "but nothing is managed without signing in");
    assert_eq!(admin_schedule, 200, "the demo's Slack admin manages it once signed in");
}

#[tokio::test]
async fn a_defective_id_token_is_refused_with_a_page_saying_why() {
    use server::emulator::openid::BadIdToken;
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    app.demo_seeded().await;
    let cases = [
        (BadIdToken::WrongSignature, "signature does not match"),
        (BadIdToken::OtherAudience, "issued to another app"),
        (BadIdToken::Expired, "has expired"),
        (BadIdToken::OtherNonce, "nonce does not match"),
        (BadIdToken::AlgNone, "uses the none algorithm"),
        (BadIdToken::UnknownKeyId, "names no signing key"),
    ];
    for (defect, reason) in cases {
        let browser = app.browser();
        let start = browser.get("/login/slack").await;
        let authorize = start.headers()["location"].to_str().unwrap().to_owned();
        let approved = browser.get(&format!("{}&as=UDEMO003", authorize.trim_start_matches(&app.address))).await;
        let callback = approved.headers()["location"].to_str().unwrap().to_owned();
        app.emulator.spoil_next_id_token(defect);

        let (status, page) = browser.page(callback.trim_start_matches(&app.address)).await;

        assert_eq!(status, 400, "{defect:?}: {page}");
        assert!(page.contains("We could not confirm who you are") && page.contains(reason), "{defect:?}: {page}");
        assert_eq!(who(&browser).await, serde_json::Value::Null, "{defect:?} signs nobody in");
    }
}

/// How many sessions are stored.
async fn stored_sessions(db: &Db) -> i64 {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions").fetch_one(db.pool()).await.unwrap();
    count
}

async fn browsing_anonymously_stores_no_session_and_sets_no_cookie(db: TestDb) {
    let app = spawn_app(&db).await;
    app.demo_seeded().await;
    let visitor = app.browser();
    let link_page = format!("/login/link/{}", "ab".repeat(32));
    let pages = ["/", "/people", "/questions", "/login", "/login?next=/admin", "/admin", "/me", link_page.as_str()];

    let mut cookies = Vec::new();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        for page in pages {
            let response = visitor.get(page).await;
            statuses.push(response.status().as_u16());
            cookies.extend(session_cookie(&response));
        }
        for endpoint in ["/api/auth/me", "/api/people/list"] {
            let response = visitor.form_request(endpoint, &[]).send().await.unwrap();
            statuses.push(response.status().as_u16());
            cookies.extend(session_cookie(&response));
        }
    }
    let after_browsing = stored_sessions(&app.db).await;
    // Only a start keeps something in the session: the sign-in's state, for the callback.
    let started = visitor.get("/login/slack").await;

    assert!(statuses.iter().all(|status| *status < 400), "the pages answered: {statuses:?}");
    assert_eq!(after_browsing, 0, "browsing stores no session");
    assert!(cookies.is_empty(), "browsing sets no session cookie: {cookies:?}");
    assert!(session_cookie(&started).is_some(), "a start sets the cookie");
    assert_eq!(stored_sessions(&app.db).await, 1, "and stores its session");
}

/// The one stored session's data and expiry (Unix ms).
async fn the_session(db: &Db) -> (serde_json::Value, i64) {
    let (data, expires_at): (String, i64) =
        sqlx::query_as("SELECT data, expires_at FROM sessions").fetch_one(db.pool()).await.unwrap();
    (serde_json::from_str(&data).unwrap(), expires_at)
}

async fn a_signed_in_session_in_use_is_saved_again_once_a_day_not_on_every_visit(db: TestDb) {
    let app = spawn_app(&db).await;
    app.demo_seeded().await;
    let member = app.demo_member("UDEMO002").await;
    let token = sign_in::create_link(&app.db, &member.workspace_id, &member.id, app::server::now_ms()).await.unwrap();
    let browser = app.browser();
    let signed_in = browser.follow_sign_in_link(&token).await;
    let cookie = session_cookie(&signed_in).expect("signing in sets the cookie");
    let at_sign_in = the_session(&app.db).await;

    let mut same_day = Vec::new();
    for page in ["/people", "/questions", "/me"] {
        same_day.push(session_cookie(&browser.get(page).await));
    }
    let after_same_day = the_session(&app.db).await;
    // As if the sign-in was two days ago: the renewal is older than a day, 12 days are left.
    let two_days = 2 * RENEW_EVERY_MS;
    let (mut data, expires_at) = at_sign_in.clone();
    let renewed_at = data[RENEWED_AT_KEY].as_i64().expect("sign-in notes when the session was saved");
    data[RENEWED_AT_KEY] = (renewed_at - two_days).into();
    sqlx::query("UPDATE sessions SET data = $1, expires_at = $2")
        .bind(data.to_string())
        .bind(expires_at - two_days)
        .execute(app.db.pool())
        .await
        .unwrap();
    let next_visit = browser.get("/people").await;
    let renewed = the_session(&app.db).await;

    assert_eq!(same_day, vec![None, None, None], "visits within a day send no cookie");
    assert_eq!(after_same_day, at_sign_in, "and write nothing");
    assert_eq!(next_visit.status().as_u16(), 200);
    assert_eq!(session_cookie(&next_visit), Some(cookie), "a day later the same session's cookie is sent again");
    assert!(renewed.1 >= expires_at, "its 14 days start again: {} < {expires_at}", renewed.1);
    assert!(renewed.0[RENEWED_AT_KEY].as_i64() >= Some(renewed_at));
    assert_eq!(renewed.0[SESSION_KEY], at_sign_in.0[SESSION_KEY], "and it is still the same sign-in");
    assert_eq!(who(&browser).await["name"], member.name);
}

/// An app that limits starts as production does ([`DEFAULT_BUDGET`]), on `db`.
async fn app_with_the_default_budget(db: &TestDb) -> TestApp {
    let mut config = test_config(db);
    config.sign_in_budget = DEFAULT_BUDGET;
    TestApp::from_application(Application::build(config).await.unwrap())
}

/// A browser of `app` whose requests come from `address` (another machine, as the app sees
/// it: any 127.x.y.z reaches the loopback interface).
fn browser_at(app: &TestApp, address: [u8; 4]) -> Browser {
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(address))
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    Browser { address: app.address.clone(), client }
}

async fn the_eleventh_start_from_one_address_within_a_minute_waits_and_other_addresses_do_not(db: TestDb) {
    let app = app_with_the_default_budget(&db).await;
    let browser = app.browser();
    // Too short to be anyone's: refused without hashing, so the ten are quick.
    let password = [("email", "admin@acme.example"), ("password", "short")];
    let link = format!("/login/link/{}", "ab".repeat(32));
    // Ten starts of every kind from one address, at once.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(browser.get("/login/slack").await.status().as_u16());
    }
    for _ in 0..3 {
        statuses.push(browser.get("/slack/install").await.status().as_u16());
    }
    for _ in 0..2 {
        statuses.push(browser.form_request("/login/password", &password).send().await.unwrap().status().as_u16());
    }
    statuses.push(browser.form_request(&link, &[]).send().await.unwrap().status().as_u16());
    let sessions_before = stored_sessions(&app.db).await;

    let refused = app.browser().get("/login/slack").await;
    let refused_password = browser.form_request("/login/password", &password).send().await.unwrap();
    let refused_link = browser.form_request(&link, &[]).send().await.unwrap();
    let sessions_after_refusals = stored_sessions(&app.db).await;
    let from_elsewhere = browser_at(&app, [127, 0, 0, 2]).get("/login/slack").await;
    let other_app = app_with_the_default_budget(&db).await;
    let same_address_other_app = other_app.browser().get("/slack/install").await;

    assert_eq!(statuses, [303, 303, 303, 303, 303, 303, 303, 303, 303, 410], "the first ten go through");
    assert_eq!(refused.status().as_u16(), 429);
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After: {retry_after}");
    assert_eq!(session_cookie(&refused), None);
    assert!(refused.text().await.unwrap().contains("Please wait"));
    assert_eq!((refused_password.status().as_u16(), refused_link.status().as_u16()), (429, 429));
    assert!(refused_password.headers().contains_key("retry-after"));
    assert_eq!(sessions_after_refusals, sessions_before, "a refused start stores no session");
    assert_eq!(from_elsewhere.status().as_u16(), 303, "another address is not held up");
    assert_eq!(same_address_other_app.status().as_u16(), 303, "each app keeps its own counts");
}
