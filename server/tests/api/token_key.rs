//! Hosted mode's token key (issue 12): a start with another `RAPPORT_TOKEN_KEY` than the one the
//! database's tokens are sealed with stops with a clear message, and `rapport rotate-token-key`
//! moves every stored token to a new key.

use app::server::{
    db::{token_key_checks, workspaces},
    secret::Secret,
    slack::tokens::TokenCipher,
};
use base64::Engine as _;
use chacha20poly1305::{
    AeadCore, KeyInit, XChaCha20Poly1305,
    aead::{Aead, OsRng},
};
use server::{config::Config, emulator::BOT_TOKEN, startup::Application};

use crate::helpers::{DEMO_TEAM, SIGNING_SECRET, Team, TestDb, spawn_app};

const OLD_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const NEW_KEY: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
const SESSION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==";
/// Where the Web API would be, for tests that never call Slack.
const NO_SLACK: &str = "http://127.0.0.1:9/api";
/// What start-up and the rotation say when neither key is the database's.
const WRONG_KEY: &str = "RAPPORT_TOKEN_KEY is not the key this database's tokens were sealed with";

/// Hosted mode on `db` with `key` (and `previous`), Slack's Web API at `api_url`.
fn hosted(db: &TestDb, api_url: &str, key: &str, previous: Option<&str>) -> Config {
    Config::from_lookup(|name| {
        let value = match name {
            "DATABASE_URL" => db.url.as_str(),
            "LEPTOS_SITE_ADDR" => "127.0.0.1:0",
            "SLACK_CLIENT_ID" => "1.2",
            "SLACK_CLIENT_SECRET" => "client-secret",
            "SLACK_SIGNING_SECRET" => SIGNING_SECRET,
            "SLACK_API_URL" => api_url,
            "RAPPORT_SESSION_KEY" => SESSION_KEY,
            "RAPPORT_TOKEN_KEY" => key,
            "RAPPORT_TOKEN_KEY_PREVIOUS" => previous?,
            _ => return None,
        };
        Some(value.to_owned())
    })
    .unwrap()
}

/// What `Application::build` says when it refuses to start.
async fn refusal(config: Config) -> String {
    match Application::build(config).await {
        Ok(_) => panic!("the application started"),
        Err(error) => format!("{error:#}"),
    }
}

/// A token sealed as Rapport sealed them before issue 12: the nonce, then the ciphertext, with
/// no version prefix and no associated data.
fn sealed_the_old_way(key: &str, token: &str) -> Vec<u8> {
    let key = base64::engine::general_purpose::STANDARD.decode(key).unwrap();
    let cipher = XChaCha20Poly1305::new_from_slice(&key).unwrap();
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    [nonce.as_slice(), &cipher.encrypt(&nonce, token.as_bytes()).unwrap()].concat()
}

on_both_backends!(
    a_start_with_another_token_key_stops_with_a_clear_message,
    a_first_start_on_tokens_sealed_with_another_key_stops_too,
    rotating_the_key_reseals_every_token_so_the_new_key_alone_serves,
);

async fn a_start_with_another_token_key_stops_with_a_clear_message(db: TestDb) {
    drop(Application::build(hosted(&db, NO_SLACK, OLD_KEY, None)).await.unwrap());

    let refused = refusal(hosted(&db, NO_SLACK, NEW_KEY, None)).await;

    assert!(refused.contains(WRONG_KEY), "{refused}");
    assert!(refused.contains("rapport rotate-token-key"), "the message says how to change keys: {refused}");
    Application::build(hosted(&db, NO_SLACK, OLD_KEY, None)).await.unwrap();
}

/// A database whose tokens were stored before start-up checked the key.
async fn a_first_start_on_tokens_sealed_with_another_key_stops_too(db: TestDb) {
    let team = Team::new(&db.db, "Installed earlier").await;
    let sealed = sealed_the_old_way(OLD_KEY, BOT_TOKEN);
    workspaces::update_bot_token_ciphertext(db.db.pool(), &team.workspace_id, &sealed).await.unwrap();

    let refused = refusal(hosted(&db, NO_SLACK, NEW_KEY, None)).await;

    assert!(refused.contains(WRONG_KEY), "{refused}");
    assert_eq!(token_key_checks::find(db.db.pool()).await.unwrap(), None, "the wrong key is not recorded");
    Application::build(hosted(&db, NO_SLACK, OLD_KEY, None)).await.unwrap();
}

async fn rotating_the_key_reseals_every_token_so_the_new_key_alone_serves(db: TestDb) {
    // Slack: another app's emulator, which takes its own bot token and no other.
    let slack_stand_in = TestDb::sqlite().await;
    let slack = spawn_app(&slack_stand_in).await;
    let api_url = format!("{}/emulator/api", slack.address);
    // Hosted Rapport ran with the old key: one token sealed before tokens were bound to their
    // workspace, one since.
    drop(Application::build(hosted(&db, &api_url, OLD_KEY, None)).await.unwrap());
    let old = TokenCipher::from_base64(OLD_KEY).unwrap();
    let older = Team::new(&db.db, "Older").await.workspace_id;
    let newer = Team::new(&db.db, "Newer").await.workspace_id;
    let sealed_older = sealed_the_old_way(OLD_KEY, BOT_TOKEN);
    let sealed_newer = old.seal(&newer, &Secret::new(BOT_TOKEN)).unwrap();
    workspaces::update_bot_token_ciphertext(db.db.pool(), &older, &sealed_older).await.unwrap();
    workspaces::update_bot_token_ciphertext(db.db.pool(), &newer, &sealed_newer).await.unwrap();

    let without_previous = server::cli::rotate_token_key(&hosted(&db, &api_url, NEW_KEY, None)).await;
    let resealed = server::cli::rotate_token_key(&hosted(&db, &api_url, NEW_KEY, Some(OLD_KEY))).await.unwrap();

    let refused = format!("{:#}", without_previous.unwrap_err());
    assert!(refused.contains(WRONG_KEY), "the new key alone cannot open the old tokens: {refused}");
    assert_eq!(resealed, 2);
    let app = Application::build(hosted(&db, &api_url, NEW_KEY, None)).await.unwrap();
    let gateway = app.state().slack.clone().unwrap();
    for workspace_id in [&older, &newer] {
        let workspace = workspaces::find(db.db.pool(), workspace_id).await.unwrap().unwrap();
        let sealed = workspace.bot_token_ciphertext.clone().unwrap();
        assert!(sealed.starts_with(b"v2:"), "sealed again in the current format");
        assert!(old.open(workspace_id, &sealed).is_err(), "the old key opens it no more");
        let identity = gateway.api_for(&workspace).unwrap().whoami().await.unwrap();
        assert_eq!(identity.team_id, DEMO_TEAM, "Slack takes the token");
    }
    let with_the_old_key = refusal(hosted(&db, &api_url, OLD_KEY, None)).await;
    assert!(with_the_old_key.contains(WRONG_KEY), "the database is the new key's now: {with_the_old_key}");
}
