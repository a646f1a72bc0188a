//! Buttons and the answer modal, driven as Slack drives them, against the emulator.

use app::{features::answers::types::Visibility, server::db::prompts::PromptStatus};

use app::server::db::{answers, members::Member, prompts};
use serde_json::{Value, json};
use server::{demo, emulator::PostedMessage};

use crate::helpers::{DEMO_TEAM, TestApp, TestDb, eventually, spawn_app};

const MEMBER: &str = "UDEMO007";
const SHARING_CHANNEL: &str = demo::DEMO_SHARING_CHANNEL_ID;

/// The demo app, with `MEMBER` holding a freshly sent question.
async fn app_with_a_question(db: &TestDb) -> (TestApp, Member, String) {
    demo::seed(&db.db, app::server::now_ms()).await.unwrap();
    let app = spawn_app(db).await;
    let (member, prompt_id) = app.demo_member_with_open_question(MEMBER).await;
    (app, member, prompt_id)
}

async fn interact(app: &TestApp, payload: Value) -> (u16, String) {
    let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
    let response = app.slack_post_at("/slack/interactions", &body, "application/x-www-form-urlencoded", 0).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The message in the member's DM that asked `prompt_id`, as it looks now.
fn question_message(app: &TestApp, prompt_id: &str) -> PostedMessage {
    let messages = app.emulator.messages();
    messages
        .into_iter()
        .find(|m| m.metadata["event_payload"]["prompt_id"] == prompt_id)
        .expect("the question was posted")
}

/// Whether a message still offers buttons.
fn has_buttons(message: &PostedMessage) -> bool {
    message.blocks.as_array().is_some_and(|blocks| blocks.iter().any(|block| block["type"] == "actions"))
}

fn button(action_id: &str, prompt_id: &str) -> Value {
    json!({
        "type": "block_actions", "team": { "id": DEMO_TEAM }, "user": { "id": MEMBER }, "api_app_id": "AEMULATOR1",
        "trigger_id": crate::helpers::new_trigger_id(), "container": { "type": "message" },
        "actions": [{ "type": "button", "action_id": action_id, "value": prompt_id, "action_ts": "1" }],
    })
}

fn submission(prompt_id: &str, text: &str, visibility: &str) -> Value {
    json!({
        "type": "view_submission", "team": { "id": DEMO_TEAM }, "user": { "id": MEMBER },
        "view": {
            "id": "V1", "type": "modal", "callback_id": "answer", "private_metadata": prompt_id,
            "state": { "values": {
                "answer": { "text": { "type": "plain_text_input", "value": text } },
                "visibility": { "choice": { "type": "radio_buttons", "selected_option": { "value": visibility } } },
            } },
        },
    })
}

on_both_backends!(
    the_answer_button_opens_a_modal_whose_submission_is_shared,
    an_only_me_answer_never_reaches_the_channel_or_the_pages,
    a_bad_modal_submission_names_the_field_and_stores_nothing,
    skip_and_another_question_close_the_open_question,
);

async fn the_answer_button_opens_a_modal_whose_submission_is_shared(db: TestDb) {
    let (app, member, prompt_id) = app_with_a_question(&db).await;

    let (status, _) = interact(&app, button("answer", &prompt_id)).await;
    assert_eq!(status, 200);
    let modal = app.emulator.modals().pop().expect("a modal was opened");
    assert_eq!(modal["private_metadata"], prompt_id.as_str());
    assert_eq!(modal["callback_id"], "answer");

    let (status, body) = interact(&app, submission(&prompt_id, "Sourdough, with too much butter", "team")).await;
    assert_eq!((status, body.as_str()), (200, ""), "an empty 200 closes the modal");

    eventually("the answer is posted to the sharing channel", || async {
        app.emulator
            .messages()
            .iter()
            .any(|m| m.channel == SHARING_CHANNEL && m.text.contains("Sourdough, with too much butter"))
    })
    .await;
    let (_, profile) = app.page(&format!("/people/{}", member.id)).await;
    assert!(profile.contains("Sourdough, with too much butter"));
    eventually("the question message shows it was answered", || async {
        !has_buttons(&question_message(&app, &prompt_id))
    })
    .await;
    let closed = question_message(&app, &prompt_id).blocks.to_string();
    assert!(closed.contains("You answered") && closed.contains(&format!("/people/{}", member.id)), "{closed}");
}

async fn an_only_me_answer_never_reaches_the_channel_or_the_pages(db: TestDb) {
    let (app, member, prompt_id) = app_with_a_question(&db).await;
    let count = |visibility: Visibility| {
        let (pool, workspace) = (app.db.pool().clone(), member.workspace_id.clone());
        async move { answers::count_for_workspace(&pool, &workspace, visibility).await.unwrap() }
    };
    let (only_me_before, team_before) = (count(Visibility::OnlyMe).await, count(Visibility::Team).await);

    let (status, _) = interact(&app, submission(&prompt_id, "My secret: I hum while I type", "only_me")).await;
    assert_eq!(status, 200);

    eventually("the member is told it is private", || async {
        app.emulator.messages().iter().any(|m| m.text.contains("visible only to you"))
    })
    .await;
    assert_eq!((count(Visibility::OnlyMe).await, count(Visibility::Team).await), (only_me_before + 1, team_before));
    assert!(app.emulator.messages().iter().all(|m| !m.text.contains("I hum while I type")), "never posted");
    assert!(app.emulator.messages().iter().all(|m| m.channel != SHARING_CHANNEL));
    let (_, profile) = app.page(&format!("/people/{}", member.id)).await;
    assert!(!profile.contains("I hum while I type"));
}

async fn a_bad_modal_submission_names_the_field_and_stores_nothing(db: TestDb) {
    let (app, member, prompt_id) = app_with_a_question(&db).await;

    for text in ["   ".to_owned(), "x".repeat(3_001)] {
        let (status, body) = interact(&app, submission(&prompt_id, &text, "team")).await;
        assert_eq!(status, 200);
        let reply: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(reply["response_action"], "errors");
        assert!(reply["errors"]["answer"].as_str().is_some_and(|m| !m.is_empty()), "{reply}");
    }

    let open = prompts::find_open_for_member(app.db.pool(), &member.id).await.unwrap();
    assert_eq!(open.map(|p| p.id), Some(prompt_id), "the question is still open");
}

async fn skip_and_another_question_close_the_open_question(db: TestDb) {
    let (app, member, first) = app_with_a_question(&db).await;

    interact(&app, button("another_question", &first)).await;
    eventually("a different question is sent", || async {
        let open = prompts::find_open_for_member(app.db.pool(), &member.id).await.unwrap();
        open.is_some_and(|p| p.id != first && p.status == PromptStatus::Sent)
    })
    .await;
    let second = prompts::find_open_for_member(app.db.pool(), &member.id).await.unwrap().unwrap().id;
    assert!(has_buttons(&question_message(&app, &second)), "an open question offers its buttons");
    interact(&app, button("skip", &second)).await;

    assert!(prompts::find_open_for_member(app.db.pool(), &member.id).await.unwrap().is_none());
    let skipped = question_message(&app, &second);
    assert!(!has_buttons(&skipped) && skipped.blocks.to_string().contains("Skipped."), "{:?}", skipped.blocks);
    let statuses: Vec<(String,)> =
        sqlx::query_as("SELECT status FROM prompts WHERE id IN ($1, $2) ORDER BY created_at")
            .bind(&first)
            .bind(&second)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(statuses, [("skipped".to_owned(),), ("skipped".to_owned(),)]);
}

#[tokio::test]
async fn the_manifest_is_served_as_json_and_yaml_from_the_public_url() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;

    let json: Value = serde_json::from_str(&app.get("/slack/manifest").await.text().await.unwrap()).unwrap();
    let yaml = app.get("/slack/manifest?format=yaml").await.text().await.unwrap();

    let events_url = format!("{}/slack/events", app.address);
    assert_eq!(json["settings"]["event_subscriptions"]["request_url"], events_url.as_str());
    let scopes = json["oauth_config"]["scopes"]["bot"].as_array().unwrap();
    for scope in ["chat:write", "im:write", "im:history", "users:read", "commands", "channels:read"] {
        assert!(scopes.iter().any(|s| s == scope), "{scope}");
    }
    assert!(yaml.contains(&format!("request_url: \"{events_url}\"")), "{yaml}");
    assert!(yaml.contains("- \"message.im\""), "{yaml}");
}

#[tokio::test]
async fn an_oversized_slack_request_is_refused_before_it_is_read() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let huge = format!("payload={}", "a".repeat(128 * 1024));

    let response = app.slack_post_at("/slack/interactions", &huge, "application/x-www-form-urlencoded", 0).await;

    assert_eq!(response.status().as_u16(), 413);
}

on_both_backends!(in_digest_mode_answers_wait_for_one_daily_post);

async fn in_digest_mode_answers_wait_for_one_daily_post(db: TestDb) {
    let (app, member, prompt_id) = app_with_a_question(&db).await;
    sqlx::query("UPDATE workspaces SET share_mode = 'digest', last_digest_at = $1 WHERE id = $2")
        .bind(app::server::now_ms() - 1_000)
        .bind(&member.workspace_id)
        .execute(app.db.pool())
        .await
        .unwrap();

    interact(&app, submission(&prompt_id, "Pancakes on Sundays, always", "team")).await;
    eventually("the member is thanked", || async {
        app.emulator.messages().iter().any(|m| m.text.starts_with("Thanks!"))
    })
    .await;
    assert!(app.emulator.messages().iter().all(|m| m.channel != SHARING_CHANNEL), "nothing posted before the digest");

    let day = app::server::services::sharing::DIGEST_EVERY_MS;
    let digests = |now: i64| app::server::services::sharing::post_due_digests(&app.state, now);
    let too_early = digests(app::server::now_ms() + day / 2).await.unwrap();
    // Slack refuses the first attempt (rate limited): the answers must wait, not be lost.
    app.refuse_further_posts().await;
    let refused = digests(app::server::now_ms() + day).await.unwrap();
    app.emulator.set_rate_limit("chat.postMessage", 0);
    let due = digests(app::server::now_ms() + day + 1_000).await.unwrap();
    let again = digests(app::server::now_ms() + day + 60_000).await.unwrap();

    assert_eq!((too_early, refused, due, again), (0, 0, 1, 0));
    let digests: Vec<_> = app.emulator.messages().into_iter().filter(|m| m.channel == SHARING_CHANNEL).collect();
    assert_eq!(digests.len(), 1);
    assert!(digests[0].text.contains("Pancakes on Sundays, always") && digests[0].text.contains(&member.name));
}
