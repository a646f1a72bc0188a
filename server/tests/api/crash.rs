//! What survives a crash: the `rapport` binary is killed (SIGKILL, no shutdown at all) while
//! Slack events pour in, and every event it acknowledged must be in the inbox afterwards.
//! Events are written in groups (`app::server::inbox_writer`); each is acknowledged only after its
//! group has committed, so a crash can lose an unanswered event (Slack delivers it again)
//! but never an answered one.

use std::{
    collections::HashSet,
    io::{BufRead as _, BufReader},
    process::{Child, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use server::slack::verify::{SigningSecret, sign};

use crate::helpers::{SIGNING_SECRET, TestDb};

/// Requests in flight at once while the server is killed.
const CONNECTIONS: usize = 32;
/// Acknowledgements to wait for before the kill, so it lands mid-load.
const ACKNOWLEDGED_BEFORE_KILL: u64 = 1_500;

on_both_backends!(every_acknowledged_event_survives_the_server_being_killed_mid_load);

async fn every_acknowledged_event_survives_the_server_being_killed_mid_load(db: TestDb) {
    let (mut child, base_url) = start_rapport(&db);
    let url = format!("{base_url}/slack/events");
    let next = Arc::new(AtomicU64::new(1));
    let acknowledged_count = Arc::new(AtomicU64::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let (url, next, count, killed) = (url.clone(), next.clone(), acknowledged_count.clone(), killed.clone());
        senders.spawn(async move {
            let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
            let mut acknowledged = Vec::new();
            while !killed.load(Ordering::SeqCst) {
                let number = next.fetch_add(1, Ordering::Relaxed);
                if deliver(&http, &url, number).await {
                    acknowledged.push(number);
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
            acknowledged
        });
    }
    // A debug build on a busy machine: a generous wait, which only a broken server uses up.
    for _ in 0..600 {
        if acknowledged_count.load(Ordering::Relaxed) >= ACKNOWLEDGED_BEFORE_KILL {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    child.kill().unwrap();
    child.wait().unwrap();
    killed.store(true, Ordering::SeqCst);
    let mut acknowledged = HashSet::new();
    while let Some(sender) = senders.join_next().await {
        acknowledged.extend(sender.unwrap());
    }

    let stored: Vec<(String,)> = sqlx::query_as("SELECT external_id FROM inbox WHERE source = 'slack_event'")
        .fetch_all(db.db.pool())
        .await
        .unwrap();
    let stored: HashSet<u64> =
        stored.iter().map(|(id,)| id.strip_prefix("EvCRASH").unwrap().parse().unwrap()).collect();
    let lost: Vec<&u64> = acknowledged.iter().filter(|number| !stored.contains(*number)).collect();
    assert!(acknowledged.len() as u64 >= ACKNOWLEDGED_BEFORE_KILL);
    assert!(lost.is_empty(), "{} of {} acknowledged events were lost: {lost:?}", lost.len(), acknowledged.len());
}

/// Starts the `rapport` binary on `db` with the emulator's signing secret, on a free port;
/// returns the process and its URL once it listens.
fn start_rapport(db: &TestDb) -> (Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .env_clear()
        .env("DATABASE_URL", &db.url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RAPPORT_DEMO_DATA", "off")
        .env("RAPPORT_EMULATOR_SIGNING_SECRET", SIGNING_SECRET)
        .env("RAPPORT_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base_url = loop {
        let line = lines.next().expect("rapport stopped before it listened").unwrap();
        if let Some((_, url)) = line.split_once("Rapport is listening on ") {
            break url.split('"').next().unwrap().to_owned();
        }
    };
    // The rest of the log is read and dropped, so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, base_url)
}

/// Sends event `number`, signed as Slack signs it; whether the server acknowledged it.
async fn deliver(http: &reqwest::Client, url: &str, number: u64) -> bool {
    let body = serde_json::json!({
        "type": "event_callback", "team_id": format!("TCRASH{:03}", number % 100),
        "event_id": format!("EvCRASH{number}"),
        "event": { "type": "message", "channel_type": "im", "channel": "DCRASH", "user": "UCRASH", "text": "hi",
                   "ts": "1.000001", "event_ts": "1.000001" },
    })
    .to_string();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = sign(&SigningSecret::new(SIGNING_SECRET), &timestamp, body.as_bytes());
    let answer = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", timestamp)
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await;
    answer.is_ok_and(|response| response.status() == reqwest::StatusCode::OK)
}
