//! Guests in Slack (single- and multi-channel guests): while the workspace leaves them out,
//! Rapport asks them nothing and shows them nothing of the team's answers; once it includes
//! them, they are treated like any member.

use app::server::{
    db::{answers, members::Member, prompts},
    services::members::FOR_MEMBERS_ONLY,
};
use serde_json::json;
use server::demo;

use crate::helpers::{DEMO_TEAM, TestApp, TestDb, new_trigger_id, spawn_app};

/// The demo member these tests make a guest.
const GUEST: &str = "UDEMO005";
/// The demo member with pinned answers (`content.json`), and two of her team-visible ones.
const LENA: &str = "UDEMO001";
const LENA_ANSWERS: [&str; 2] = ["battered enamel mug", "by its bark alone"];

/// The app with the demo team in its database (the emulator's workspace), which leaves
/// guests out.
async fn demo_app(db: &TestDb) -> TestApp {
    demo::seed(&db.db, app::server::now_ms()).await.unwrap();
    spawn_app(db).await
}

/// Makes the demo member `slack_user_id` a guest, as a `user_change` from Slack would.
async fn make_guest(app: &TestApp, slack_user_id: &str) -> Member {
    let member = app.demo_member(slack_user_id).await;
    sqlx::query("UPDATE members SET is_guest = 1 WHERE id = $1").bind(&member.id).execute(app.db.pool()).await.unwrap();
    let guest = app.demo_member(slack_user_id).await;
    assert!(guest.is_guest);
    guest
}

/// Turns "ask guests too" on for the demo workspace.
async fn include_guests(app: &TestApp) {
    sqlx::query("UPDATE workspaces SET include_guests = 1 WHERE slack_team_id = $1")
        .bind(DEMO_TEAM)
        .execute(app.db.pool())
        .await
        .unwrap();
}

async fn count_prompts(app: &TestApp, member: &Member) -> i64 {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM prompts WHERE member_id = $1")
        .bind(&member.id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    count
}

/// The texts of every message the bot posted in `user`'s DM so far.
fn dm_texts(app: &TestApp, user: &str) -> Vec<String> {
    app.emulator.messages().into_iter().filter(|m| m.channel == format!("D{user}")).map(|m| m.text).collect()
}

fn dm(user: &str, text: &str) -> serde_json::Value {
    json!({ "type": "message", "channel": format!("D{user}"), "channel_type": "im", "user": user,
            "text": text, "ts": "1790000000.000300", "event_ts": "1790000000.000300" })
}

/// Presses App Home's "Answer a question now" as `user`.
async fn press_ask_now(app: &TestApp, user: &str) {
    let press = json!({
        "type": "block_actions", "team": { "id": DEMO_TEAM }, "user": { "id": user }, "trigger_id": new_trigger_id(),
        "actions": [{ "type": "button", "action_id": "ask_now", "action_ts": "1" }],
    });
    let body = serde_urlencoded::to_string([("payload", press.to_string())]).unwrap();
    let response = app.slack_post_at("/slack/interactions", &body, "application/x-www-form-urlencoded", 0).await;
    assert_eq!(response.status().as_u16(), 200);
}

/// Gives `slack_user_id` an open question that Lena answered for the team, so "what others
/// said" has something to show.
async fn open_question_lena_answered(app: &TestApp, slack_user_id: &str) -> Member {
    let (member, prompt_id) = app.demo_member_with_open_question(slack_user_id).await;
    let (question_id,): (String,) = sqlx::query_as(
        "SELECT p.question_id FROM answers a
         JOIN prompts p ON p.id = a.prompt_id
         JOIN members m ON m.id = p.member_id
         WHERE m.slack_user_id = $1 AND a.visibility = 'team'
         ORDER BY a.created_at LIMIT 1",
    )
    .bind(LENA)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    sqlx::query("UPDATE prompts SET question_id = $1 WHERE id = $2")
        .bind(&question_id)
        .bind(&prompt_id)
        .execute(app.db.pool())
        .await
        .unwrap();
    member
}

/// The names of the coworkers whose team-visible answers to the question of `member`'s
/// open prompt "what others said" would show.
async fn coworkers_who_answered(app: &TestApp, member: &Member) -> Vec<String> {
    let open = prompts::find_open_for_member(app.db.pool(), &member.id).await.unwrap().unwrap();
    answers::list_team_visible_for_question(app.db.pool(), &member.workspace_id, &open.question_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|answer| answer.member_id != member.id)
        .map(|answer| answer.member_name)
        .collect()
}

on_both_backends!(
    a_left_out_guest_who_asks_for_a_question_is_told_politely_and_nothing_is_stored,
    a_left_out_guest_sees_none_of_a_members_answers_in_a_profile,
    a_left_out_guest_who_answers_is_not_shown_what_others_said,
    a_left_out_guest_is_not_signed_in_to_the_dashboard,
);

async fn a_left_out_guest_is_not_signed_in_to_the_dashboard(db: TestDb) {
    let app = demo_app(&db).await;
    let guest = make_guest(&app, GUEST).await;

    // A link handed out before they became a guest, or a session from then: either way the
    // dashboard does not know them while guests are left out.
    let browser = app.signed_in(&guest.workspace_id, &guest.id).await;
    let (status, _) = browser.page("/me").await;
    assert_eq!(status, 302, "sent to sign in, not shown the team's answers");
    let (status, page) = browser.page(&format!("/people/{}", app.demo_member(LENA).await.id)).await;
    assert!(
        LENA_ANSWERS.iter().all(|answer| !page.contains(answer)),
        "a profile shows nothing of Lena's answers ({status})"
    );

    include_guests(&app).await;
    let (status, _) = browser.page("/me").await;
    assert_eq!(status, 200, "once guests are included, the same session works");
}

async fn a_left_out_guest_who_asks_for_a_question_is_told_politely_and_nothing_is_stored(db: TestDb) {
    let app = demo_app(&db).await;
    let guest = make_guest(&app, GUEST).await;
    app.clear_open_question(&guest).await;
    let prompts_before = count_prompts(&app, &guest).await;

    let by_command = app.command(DEMO_TEAM, GUEST, "ask").await;
    press_ask_now(&app, GUEST).await;

    assert_eq!(by_command, FOR_MEMBERS_ONLY);
    let told = dm_texts(&app, GUEST);
    assert!(told.iter().any(|t| t == FOR_MEMBERS_ONLY), "App Home's button: {told:?}");
    assert_eq!(count_prompts(&app, &guest).await, prompts_before, "no question is stored for a left-out guest");

    include_guests(&app).await;
    let included = app.command(DEMO_TEAM, GUEST, "ask").await;

    assert!(included.contains("On its way"), "an included guest is asked like a member: {included}");
    assert_eq!(count_prompts(&app, &guest).await, prompts_before + 1);
}

async fn a_left_out_guest_sees_none_of_a_members_answers_in_a_profile(db: TestDb) {
    let app = demo_app(&db).await;
    make_guest(&app, GUEST).await;
    let command = format!("profile <@{LENA}|lena>");

    let left_out = app.command(DEMO_TEAM, GUEST, &command).await;
    include_guests(&app).await;
    let included = app.command(DEMO_TEAM, GUEST, &command).await;

    assert_eq!(left_out, FOR_MEMBERS_ONLY);
    for answer in LENA_ANSWERS {
        assert!(!left_out.contains(answer), "{left_out}");
        assert!(included.contains(answer), "an included guest sees profiles like a member: {included}");
    }
}

async fn a_left_out_guest_who_answers_is_not_shown_what_others_said(db: TestDb) {
    let app = demo_app(&db).await;
    // Asked while still a member; Slack made them a guest before they answered.
    let member = open_question_lena_answered(&app, GUEST).await;
    let coworkers = coworkers_who_answered(&app, &member).await;
    assert!(!coworkers.is_empty(), "coworkers answered the question, so there is something to withhold");
    make_guest(&app, GUEST).await;

    app.deliver_event(DEMO_TEAM, "EvGuestAnswer1", dm(GUEST, "A long walk without my phone")).await;

    app.drain_inbox().await;
    let told = dm_texts(&app, GUEST);
    assert!(told.iter().any(|t| t.starts_with("Thanks!")), "the answer is taken: {told:?}");
    assert!(!told.iter().any(|t| t.contains("others said")), "{told:?}");
    for name in &coworkers {
        assert!(!told.iter().any(|t| t.contains(name.as_str())), "{name}'s answer reached the guest: {told:?}");
    }

    include_guests(&app).await;
    let included = open_question_lena_answered(&app, GUEST).await;
    assert!(!coworkers_who_answered(&app, &included).await.is_empty(), "there is something to show");
    app.deliver_event(DEMO_TEAM, "EvGuestAnswer2", dm(GUEST, "Baking bread on Sundays")).await;

    app.drain_inbox().await;
    let told = dm_texts(&app, GUEST);
    assert!(
        told.iter().any(|t| t.starts_with("Here is what others said")),
        "an included guest sees what others said like a member: {told:?}"
    );
}
