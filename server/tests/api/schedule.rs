//! The schedule's server functions over HTTP, as the admin pages will call them.

use serde_json::Value;

use crate::helpers::{Team, TestDb, spawn_app};

/// A server function's status and JSON reply (`Null` when the reply is not JSON).
fn json((status, body): (u16, String)) -> (u16, Value) {
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

on_both_backends!(the_schedule_is_read_saved_and_refused_whole_over_http);

async fn the_schedule_is_read_saved_and_refused_whole_over_http(db: TestDb) {
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    let admin = team.admin("Ada Lovelace").await;
    let browser = app.signed_in(&team.workspace_id, &admin).await;
    let form = |time: &'static str| {
        [
            ("enabled", "true"),
            ("weekdays[0]", "mon"),
            ("weekdays[1]", "fri"),
            ("local_time", time),
            ("cadence", "weekly"),
            ("include_guests", "false"),
        ]
    };

    let (status, defaults) = json(browser.call_server_fn("schedule/get", &[]).await);
    assert_eq!(status, 200);
    assert_eq!(defaults["enabled"], false, "a new workspace asks nobody until its admin says so");
    assert_eq!(defaults["weekdays"], serde_json::json!(["tue", "thu"]));
    assert_eq!((defaults["local_time"].as_str(), defaults["cadence"].as_str()), (Some("10:00"), Some("twice_weekly")));

    let (refused, error) = json(browser.call_server_fn("schedule/save", &form("25:00")).await);
    assert_eq!(refused, 422);
    assert!(error.to_string().contains("not a time"), "{error}");
    let (_, after_refusal) = json(browser.call_server_fn("schedule/get", &[]).await);
    assert_eq!(after_refusal, defaults, "nothing of a refused schedule is stored");

    let (saved, _) = browser.call_server_fn("schedule/save", &form("09:30")).await;
    assert_eq!(saved, 200);
    let (_, schedule) = json(browser.call_server_fn("schedule/get", &[]).await);
    assert_eq!(schedule["enabled"], true);
    assert_eq!(schedule["weekdays"], serde_json::json!(["mon", "fri"]));
    assert_eq!((schedule["local_time"].as_str(), schedule["cadence"].as_str()), (Some("09:30"), Some("weekly")));

    let (status, rounds) = json(browser.call_server_fn("schedule/rounds", &[]).await);
    assert_eq!(status, 200);
    assert!(rounds["next_round_at"].as_i64().is_some(), "{rounds}");
    assert_eq!(rounds["last_round"], Value::Null);
    app.shut_down().await;
}
