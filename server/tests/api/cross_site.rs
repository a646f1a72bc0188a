//! Requests a browser sends from another site change nothing; our own pages, non-browser
//! clients and Slack still get through. Session cookies are locked to the host over https.

use std::sync::Arc;

use app::server::clock::SystemClock;
use server::startup::Application;

use crate::helpers::{Browser, Team, TestApp, TestDb, spawn_app, test_config};

on_both_backends!(a_cross_site_form_post_to_a_server_function_changes_nothing);

/// How many packs the workspace has (built-in and its own).
async fn pack_count(admin: &Browser) -> usize {
    let (status, body) = admin.call_server_fn("packs/list", &[]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Vec<serde_json::Value>>(&body).unwrap().len()
}

/// POSTs the form that creates a pack, with the given browser headers.
async fn create_pack_from(admin: &Browser, headers: &[(&str, &str)]) -> u16 {
    let mut request = admin.form_request("/api/packs/create", &[("name", "Planted"), ("description", "")]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn a_cross_site_form_post_to_a_server_function_changes_nothing(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    // The victim is a signed-in admin: their cookie rides along on a cross-site post.
    let admin = app.signed_in(&team.workspace_id, &team.admin("Ada Admin").await).await;
    let before = pack_count(&admin).await;

    let from_another_origin = create_pack_from(&admin, &[("origin", "https://evil.example")]).await;
    let cross_site = create_pack_from(&admin, &[("sec-fetch-site", "cross-site")]).await;
    let sibling_site = create_pack_from(&admin, &[("sec-fetch-site", "same-site")]).await;

    assert_eq!((from_another_origin, cross_site, sibling_site), (403, 403, 403));
    assert_eq!(pack_count(&admin).await, before, "nothing was created");

    let own_page = create_pack_from(&admin, &[("sec-fetch-site", "same-origin"), ("origin", &app.address)]).await;
    assert_eq!(own_page, 200, "the app's own pages still work");
    assert_eq!(pack_count(&admin).await, before + 1);
    app.shut_down().await;
}

#[tokio::test]
async fn over_https_the_session_cookie_is_secure_and_host_only() {
    let db = TestDb::sqlite().await;
    let mut config = test_config(&db);
    config.public_url = Some("https://rapport.example".to_owned());
    let application = Application::build_with_clock(config, Arc::new(SystemClock)).await.unwrap();
    let app = TestApp::from_application(application);

    // Starting an install stores its state in a new session.
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = no_redirects.get(format!("{}/slack/install", app.address)).send().await.unwrap();

    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-rapport_session="), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    app.shut_down().await;
}
