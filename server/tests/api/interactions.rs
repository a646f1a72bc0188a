//! Buttons and the answer modal, driven as Slack drives them, against the emulator.

use app::{features::answers::types::Visibility, server::db::prompts::PromptStatus};

use app::server::{
    clock::{Clock as _, ManualClock},
    db::{answers, members::Member, prompts},
    services::sharing,
};
use serde_json::{Value, json};
use server::{demo, emulator::PostedMessage};

use crate::helpers::{DEMO_TEAM, TestApp, TestDb, eventually, spawn_app, spawn_app_at};

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

on_both_backends!(
    undo_on_the_thank_you_takes_a_dm_answer_back_and_opens_its_question_again,
    undo_after_its_window_changes_nothing_and_points_to_the_dashboard,
    only_the_member_who_answered_can_undo_it,
);

const MINUTE_MS: i64 = 60_000;
const UNDO_MS: i64 = sharing::UNDO_MINUTES * MINUTE_MS;

/// The demo app on a clock the test moves, with `MEMBER` holding a freshly sent question.
async fn app_with_a_question_at(db: &TestDb) -> (TestApp, ManualClock, Member, String) {
    let clock = ManualClock::new(app::server::now_ms());
    demo::seed(&db.db, clock.now_ms()).await.unwrap();
    let app = spawn_app_at(db, &clock).await;
    let member = app.demo_member(MEMBER).await;
    app.clear_open_question(&member).await;
    app.command(DEMO_TEAM, MEMBER, "ask").await;
    // On a manual clock the test delivers the question; no round is planned for anyone else.
    app.dispatcher.clone().without_rounds().run_once().await.unwrap();
    let open = prompts::find_open_for_member(app.db.pool(), &member.id).await.unwrap().expect("a question is open");
    assert_eq!(open.status, PromptStatus::Sent);
    (app, clock, member, open.id)
}

/// `MEMBER` replies `text` in their DM with the bot, as Slack delivers it, and it is handled.
async fn reply_in_dm(app: &TestApp, event_id: &str, ts: &str, text: &str) {
    let event = json!({ "type": "message", "channel": format!("D{MEMBER}"), "channel_type": "im", "user": MEMBER,
                        "text": text, "ts": ts, "event_ts": ts });
    assert_eq!(app.deliver_event(DEMO_TEAM, event_id, event).await, 200);
    app.drain_inbox().await;
}

/// The newest thank-you in `MEMBER`'s DM.
fn thank_you(app: &TestApp) -> PostedMessage {
    let dm = format!("D{MEMBER}");
    let mut messages = app.emulator.messages().into_iter().rev();
    messages.find(|m| m.channel == dm && m.text.starts_with("Thanks!")).expect("the member is thanked")
}

/// The message `ts`, as it looks now.
fn message_at(app: &TestApp, ts: &str) -> PostedMessage {
    app.emulator.messages().into_iter().find(|m| m.ts == ts).expect("the message is still there")
}

/// The "Undo" button on a thank-you: its action id and value.
fn undo_button(thanks: &PostedMessage) -> (String, String) {
    let blocks = thanks.blocks.as_array().cloned().unwrap_or_default();
    let undo = blocks
        .iter()
        .filter(|block| block["type"] == "actions")
        .flat_map(|block| block["elements"].as_array().cloned().unwrap_or_default())
        .find(|element| element["type"] == "button" && element["text"]["text"] == "Undo")
        .unwrap_or_else(|| panic!("the thank-you offers Undo: {thanks:?}"));
    (undo["action_id"].as_str().unwrap().to_owned(), undo["value"].as_str().unwrap().to_owned())
}

/// `user` presses "Undo" on `thanks`, as Slack sends it (naming the message it is on).
async fn press_undo(app: &TestApp, user: &str, thanks: &PostedMessage) -> u16 {
    let (action_id, value) = undo_button(thanks);
    let payload = json!({
        "type": "block_actions", "team": { "id": DEMO_TEAM }, "user": { "id": user }, "api_app_id": "AEMULATOR1",
        "trigger_id": crate::helpers::new_trigger_id(),
        "container": { "type": "message", "message_ts": thanks.ts, "channel_id": thanks.channel },
        "channel": { "id": thanks.channel },
        "actions": [{ "type": "button", "action_id": action_id, "value": value, "action_ts": "1" }],
    });
    interact(app, payload).await.0
}

/// The answer to `prompt_id`, if any: its id and text.
async fn answer_to(app: &TestApp, prompt_id: &str) -> Option<(String, String)> {
    sqlx::query_as("SELECT id, text FROM answers WHERE prompt_id = $1")
        .bind(prompt_id)
        .fetch_optional(app.db.pool())
        .await
        .unwrap()
}

async fn status_of(app: &TestApp, prompt_id: &str) -> String {
    let query = sqlx::query_as("SELECT status FROM prompts WHERE id = $1").bind(prompt_id);
    let (status,): (String,) = query.fetch_one(app.db.pool()).await.unwrap();
    status
}

/// The posts in the sharing channel that quote `text`.
fn posts_quoting(app: &TestApp, text: &str) -> Vec<PostedMessage> {
    let messages = app.emulator.messages().into_iter();
    messages.filter(|m| m.channel == SHARING_CHANNEL && m.text.contains(text)).collect()
}

async fn undo_on_the_thank_you_takes_a_dm_answer_back_and_opens_its_question_again(db: TestDb) {
    let (app, clock, member, prompt_id) = app_with_a_question_at(&db).await;
    reply_in_dm(&app, "EvUndo1", "1790000000.000301", "brb, grabbing a coffee").await;
    let (answer_id, _) = answer_to(&app, &prompt_id).await.expect("the reply is the answer");
    let shared = posts_quoting(&app, "brb, grabbing a coffee");
    assert_eq!(shared.len(), 1, "the demo shares answers at once");
    let thanks = thank_you(&app);
    assert_eq!(undo_button(&thanks).1, answer_id);
    let minutes = format!("undo it for {} minutes", sharing::UNDO_MINUTES);
    assert!(thanks.blocks.to_string().contains(&minutes), "the thank-you says for how long: {:?}", thanks.blocks);

    clock.advance(UNDO_MS - MINUTE_MS);
    let status = press_undo(&app, MEMBER, &thanks).await;

    assert_eq!(status, 200);
    assert_eq!(answer_to(&app, &prompt_id).await, None, "the answer is gone");
    let open = prompts::find_open_for_member(app.db.pool(), &member.id).await.unwrap();
    assert_eq!(open.map(|p| (p.id, p.status)), Some((prompt_id.clone(), PromptStatus::Sent)), "open again");
    assert_eq!(message_at(&app, &shared[0].ts).text, sharing::WITHDRAWN_POST, "the post no longer shows it");
    let undone = message_at(&app, &thanks.ts);
    assert!(undone.text.starts_with("Undone") && !has_buttons(&undone), "{undone:?}");
    assert!(has_buttons(&question_message(&app, &prompt_id)), "the question offers its buttons again");

    // A second press changes nothing; a new reply answers the question, and the old button
    // cannot take that one back.
    assert_eq!(press_undo(&app, MEMBER, &thanks).await, 200);
    assert_eq!(status_of(&app, &prompt_id).await, "sent");
    reply_in_dm(&app, "EvUndo2", "1790000000.000302", "Hiking in the hills at dawn").await;
    assert_eq!(press_undo(&app, MEMBER, &thanks).await, 200);
    let answer = answer_to(&app, &prompt_id).await.map(|(_, text)| text);
    assert_eq!(answer.as_deref(), Some("Hiking in the hills at dawn"));
    assert_eq!(status_of(&app, &prompt_id).await, "answered");
    assert_eq!(posts_quoting(&app, "Hiking in the hills at dawn").len(), 1);
}

async fn undo_after_its_window_changes_nothing_and_points_to_the_dashboard(db: TestDb) {
    let (app, clock, _member, prompt_id) = app_with_a_question_at(&db).await;
    reply_in_dm(&app, "EvLate1", "1790000000.000303", "Cycling along the canal").await;
    let thanks = thank_you(&app);
    let answer = answer_to(&app, &prompt_id).await;

    clock.advance(UNDO_MS + MINUTE_MS);
    let status = press_undo(&app, MEMBER, &thanks).await;

    assert_eq!(status, 200);
    assert!(answer.is_some());
    assert_eq!(answer_to(&app, &prompt_id).await, answer, "the answer stays");
    assert_eq!(status_of(&app, &prompt_id).await, "answered");
    assert_eq!(posts_quoting(&app, "Cycling along the canal").len(), 1, "the post still shows it");
    assert_eq!(message_at(&app, &thanks.ts), thanks, "the thank-you is as it was");
    let dm = app.emulator.messages().into_iter().rev().find(|m| m.channel == format!("D{MEMBER}")).unwrap();
    assert!(dm.text.contains(&format!("{} minutes", sharing::UNDO_MINUTES)) && dm.text.contains("/me|"), "{dm:?}");
}

async fn only_the_member_who_answered_can_undo_it(db: TestDb) {
    let (app, _clock, _member, prompt_id) = app_with_a_question_at(&db).await;
    reply_in_dm(&app, "EvOther1", "1790000000.000304", "Baking bread on Saturdays").await;
    let thanks = thank_you(&app);
    let answer = answer_to(&app, &prompt_id).await;

    let status = press_undo(&app, "UDEMO005", &thanks).await;

    assert_eq!(status, 200);
    assert!(answer.is_some());
    assert_eq!(answer_to(&app, &prompt_id).await, answer, "the answer stays");
    assert_eq!(status_of(&app, &prompt_id).await, "answered");
    assert_eq!(posts_quoting(&app, "Baking bread on Saturdays").len(), 1, "the post still shows it");
    assert_eq!(message_at(&app, &thanks.ts), thanks, "the thank-you is as it was");
    // The button itself works: its member can still take the answer back.
    assert_eq!(press_undo(&app, MEMBER, &thanks).await, 200);
    assert_eq!(answer_to(&app, &prompt_id).await, None);
}
