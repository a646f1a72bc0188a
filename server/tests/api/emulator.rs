//! The Slack emulator's Web API, as any Slack client sees it.

use serde_json::Value;
use server::emulator::BOT_TOKEN;

use crate::helpers::{TestApp, TestDb, spawn_app};

async fn call(app: &TestApp, method: &str, token: &str, form: &[(&str, &str)]) -> (u16, Option<String>, Value) {
    let response = app
        .client
        .post(format!("{}/emulator/api/{method}", app.address))
        .bearer_auth(token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, serde_json::from_str(&response.text().await.unwrap()).unwrap())
}

#[tokio::test]
async fn a_wrong_token_is_invalid_auth_and_an_unknown_channel_is_channel_not_found() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;

    let (_, _, wrong) = call(&app, "auth.test", "xoxb-wrong", &[]).await;
    let (_, _, right) = call(&app, "auth.test", BOT_TOKEN, &[]).await;
    let (_, _, nowhere) = call(&app, "chat.postMessage", BOT_TOKEN, &[("channel", "CNOWHERE"), ("text", "hi")]).await;

    assert_eq!((wrong["ok"].clone(), wrong["error"].clone()), (Value::Bool(false), Value::from("invalid_auth")));
    assert_eq!(right["ok"], true);
    assert_eq!(right["team_id"], "TDEMO0001");
    assert_eq!(nowhere["error"], "channel_not_found");
    assert!(app.emulator.messages().is_empty());
}

#[tokio::test]
async fn users_list_pages_with_a_cursor_through_the_whole_team() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let mut seen = Vec::new();
    let mut cursor = String::new();

    loop {
        let (_, _, page) = call(&app, "users.list", BOT_TOKEN, &[("limit", "7"), ("cursor", &cursor)]).await;
        assert_eq!(page["ok"], true);
        let members = page["members"].as_array().unwrap();
        assert!(members.len() <= 7);
        seen.extend(members.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
        cursor = page["response_metadata"]["next_cursor"].as_str().unwrap().to_owned();
        if cursor.is_empty() {
            break;
        }
    }

    assert_eq!(seen.len(), app.emulator.users().len());
    seen.dedup();
    assert_eq!(seen.len(), app.emulator.users().len());
}

#[tokio::test]
async fn over_its_rate_limit_a_method_answers_429_with_retry_after() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    app.emulator.set_rate_limit("chat.postMessage", 2);
    let post = || call(&app, "chat.postMessage", BOT_TOKEN, &[("channel", "UDEMO002"), ("text", "hello")]);

    let (first, _, _) = post().await;
    let (second, _, _) = post().await;
    let (third, retry_after, body) = post().await;

    assert_eq!((first, second, third), (200, 200, 429));
    assert!(retry_after.unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(body["error"], "ratelimited");
    assert_eq!(app.emulator.messages().len(), 2);
    assert!(app.emulator.messages().iter().all(|m| m.channel == "DUDEMO002"));
}
