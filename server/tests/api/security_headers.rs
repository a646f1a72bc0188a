//! Security headers: every response says `nosniff` and `Referrer-Policy: same-origin`; a
//! page's Content-Security-Policy runs scripts of this origin and only the inline ones that
//! carry the nonce it names; other answers get a policy that lets nothing load.

use std::collections::HashSet;

use server::security_headers::{SERVER_PAGE_POLICY, STRICT_POLICY, sha256_source};

use app::server::db::questions;

use crate::helpers::{Team, TestDb, spawn_app, spawn_app_with_billing};

/// What a page's policy holds besides its scripts: its style sheet only, no plugins, no other
/// base URL, forms to this origin (and Stripe's pages), and no framing by other sites.
const PAGE_DIRECTIVES: [&str; 5] =
    ["style-src 'self';", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'"];

#[tokio::test]
async fn every_page_names_the_nonce_that_each_of_its_inline_scripts_carries() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let signed_in = app.signed_in(&team.workspace_id, &ada).await;
    let anonymous = app.browser();

    let pages = [
        // Streamed out of order: the resolved data comes in scripts after the shell.
        ("/", anonymous.get("/").await),
        ("/login", anonymous.get("/login").await),
        // Rendered once its data is loaded.
        ("/people", signed_in.get("/people").await),
        // The fallback's page, not one of the routes.
        ("/no/such/page", signed_in.get("/no/such/page").await),
    ];

    let mut nonces = HashSet::new();
    for (path, response) in pages {
        assert_common_headers(&response, path);
        let policy = policy_of(&response);
        let html = response.text().await.unwrap();
        let nonce = nonce_in(&policy);
        let script_src = format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval';");
        assert!(policy.contains(&script_src), "{path}: {policy}");
        for directive in PAGE_DIRECTIVES {
            assert!(policy.contains(directive), "{path}: {directive} in {policy}");
        }
        let scripts = script_tags(&html);
        assert!(!scripts.is_empty(), "{path} has the hydration script: {html}");
        for script in scripts {
            assert!(script.contains(&format!(" nonce=\"{nonce}\"")), "{path}: {script} carries the nonce {nonce}");
        }
        assert!(nonces.insert(nonce), "{path} has a nonce of its own");
    }
}

/// Every page of the dashboard, as the demo's admin sees it: a billing browser test once got
/// `/admin/billing` without its nonce policy, so no page is left to chance.
#[tokio::test]
async fn every_route_of_the_dashboard_sends_its_nonce_policy_to_a_signed_in_admin() {
    let db = TestDb::sqlite().await;
    let app = spawn_app_with_billing(&db).await;
    app.demo_seeded().await;
    let admin = app.signed_in_to_demo("UDEMO001").await;
    let coworker = app.demo_member("UDEMO004").await;
    let question = questions::list_with_answer_counts(app.db.pool(), &coworker.workspace_id).await.unwrap().remove(0);

    let paths = [
        "/".to_owned(),
        "/login".to_owned(),
        "/me".to_owned(),
        "/admin".to_owned(),
        "/admin/sharing".to_owned(),
        "/admin/schedule".to_owned(),
        "/admin/members".to_owned(),
        "/admin/packs".to_owned(),
        "/admin/data".to_owned(),
        "/admin/billing".to_owned(),
        "/admin/billing?checkout=success".to_owned(),
        "/admin/insights?weeks=52".to_owned(),
        "/people".to_owned(),
        format!("/people/{}", coworker.id),
        "/questions".to_owned(),
        format!("/questions/{}", question.id),
        "/search?q=coffee".to_owned(),
    ];

    for path in &paths {
        let response = admin.get(path).await;
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_common_headers(&response, path);
        let policy = policy_of(&response);
        let nonce = nonce_in(&policy);
        let html = response.text().await.unwrap();
        for script in script_tags(&html) {
            assert!(script.contains(&format!(" nonce=\"{nonce}\"")), "{path}: {script} carries the nonce {nonce}");
        }
    }
}

#[tokio::test]
async fn a_server_function_and_a_health_check_get_the_policy_that_lets_nothing_load() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let browser = app.signed_in(&team.workspace_id, &ada).await;

    let server_function = browser.form_request("/api/people/list", &[]).send().await.unwrap();
    let health = app.get("/healthz").await;
    let unsigned_slack_request = app.client.post(format!("{}/slack/commands", app.address)).send().await.unwrap();

    assert_eq!(server_function.status().as_u16(), 200);
    let responses = [
        ("a server function", server_function),
        ("a health check", health),
        ("a Slack endpoint", unsigned_slack_request),
    ];
    for (what, response) in responses {
        assert_common_headers(&response, what);
        assert_eq!(policy_of(&response), STRICT_POLICY, "{what}");
    }
}

#[tokio::test]
async fn a_page_the_server_makes_runs_no_script() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;

    let response = app.browser().get(&format!("/login/link/{}", "0".repeat(64))).await;

    assert_eq!(response.status().as_u16(), 200);
    assert_common_headers(&response, "the sign-in link's page");
    assert_eq!(policy_of(&response), SERVER_PAGE_POLICY);
    let html = response.text().await.unwrap();
    assert!(html.contains("<form") && !html.contains("<script"), "{html}");
}

#[tokio::test]
async fn the_emulators_pages_allow_their_inline_style_sheet_and_handlers_by_hash_only() {
    let db = TestDb::sqlite().await;
    let app = spawn_app_with_billing(&db).await;

    for path in ["/emulator?as=UDEMO004", "/stripe-emulator"] {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_common_headers(&response, path);
        let policy = policy_of(&response);
        let html = response.text().await.unwrap();

        assert!(!html.contains("<script"), "{path}");
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        let styles = inline_styles(&html);
        assert!(!styles.is_empty(), "{path} has its style sheet");
        for code in styles.into_iter().chain(inline_handlers(&html)) {
            assert!(policy.contains(&format!("'{}'", sha256_source(code))), "{path}: {code:?} is allowed by {policy}");
        }
    }
}

/// The headers every response carries.
fn assert_common_headers(response: &reqwest::Response, what: &str) {
    assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(response.headers()["referrer-policy"], "same-origin", "{what}");
}

fn policy_of(response: &reqwest::Response) -> String {
    let policy = response.headers().get("content-security-policy");
    policy.map(|policy| policy.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// The nonce a page's policy allows inline scripts with.
fn nonce_in(policy: &str) -> String {
    let (_, after) = policy.split_once("'nonce-").unwrap_or_else(|| panic!("no nonce in {policy}"));
    let (nonce, _) = after.split_once('\'').unwrap();
    assert!(nonce.len() >= 16, "a nonce of 128 bits or more: {nonce}");
    nonce.to_owned()
}

/// The start tags of the page's `<script>` elements.
fn script_tags(html: &str) -> Vec<&str> {
    html.match_indices("<script").map(|(at, _)| &html[at..=at + html[at..].find('>').unwrap()]).collect()
}

/// The text of the page's `<style>` elements.
fn inline_styles(html: &str) -> Vec<&str> {
    html.split("<style")
        .skip(1)
        .map(|rest| {
            let body = &rest[rest.find('>').unwrap() + 1..];
            &body[..body.find("</style>").unwrap()]
        })
        .collect()
}

/// The values of the page's event handler attributes (`onchange=…`).
fn inline_handlers(html: &str) -> Vec<&str> {
    let mut handlers = Vec::new();
    for (at, _) in html.match_indices(" on") {
        let attribute = &html[at + " on".len()..];
        let event = attribute.bytes().take_while(u8::is_ascii_lowercase).count();
        let Some(value) = attribute[event..].strip_prefix('=').filter(|_| event > 0) else { continue };
        handlers.push(match value.strip_prefix('"') {
            Some(quoted) => &quoted[..quoted.find('"').unwrap()],
            None => &value[..value.find([' ', '>']).unwrap()],
        });
    }
    handlers
}
