//! The schedule's server functions over HTTP, as the admin pages will call them.

use serde_json::Value;

use crate::helpers::{Team, TestDb, spawn_app};

#[tokio::test]
async fn the_schedule_is_read_saved_and_refused_whole_over_http() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let team = Team::new(&app.db, "Acme").await;
    team.member("Ada Lovelace", "Engineer").await;
    let post = |endpoint: &str, body: &str| {
        let request = app
            .client
            .post(format!("{}/api/schedule/{endpoint}", app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, serde_json::from_str::<Value>(&response.text().await.unwrap()).unwrap_or(Value::Null))
        }
    };
    let form = |time: &str| {
        format!(
            "enabled=true&weekdays%5B0%5D=mon&weekdays%5B1%5D=fri&local_time={time}&cadence=weekly&include_guests=false"
        )
    };

    let (status, defaults) = post("get", "").await;
    assert_eq!(status, 200);
    assert_eq!(defaults["enabled"], false, "a new workspace asks nobody until its admin says so");
    assert_eq!(defaults["weekdays"], serde_json::json!(["tue", "thu"]));
    assert_eq!((defaults["local_time"].as_str(), defaults["cadence"].as_str()), (Some("10:00"), Some("twice_weekly")));

    let (refused, error) = post("save", &form("25%3A00")).await;
    assert_eq!(refused, 422);
    assert!(error.to_string().contains("not a time"), "{error}");
    assert_eq!(post("get", "").await.1, defaults, "nothing of a refused schedule is stored");

    let (saved, _) = post("save", &form("09%3A30")).await;
    assert_eq!(saved, 200);
    let (_, schedule) = post("get", "").await;
    assert_eq!(schedule["enabled"], true);
    assert_eq!(schedule["weekdays"], serde_json::json!(["mon", "fri"]));
    assert_eq!((schedule["local_time"].as_str(), schedule["cadence"].as_str()), (Some("09:30"), Some("weekly")));

    let (status, rounds) = post("rounds", "").await;
    assert_eq!(status, 200);
    assert!(rounds["next_round_at"].as_i64().is_some(), "{rounds}");
    assert_eq!(rounds["last_round"], Value::Null);
}
