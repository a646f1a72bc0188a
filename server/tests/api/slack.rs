//! The Slack endpoints driven as Slack drives them (signed HTTP requests), with the built-in
//! emulator standing in for Slack's Web API.

use app::features::answers::types::Visibility;
use app::server::db::prompts::PromptStatus;
use app::server::db::workspaces::WorkspaceStatus;

use app::server::db::{members, prompts, workspaces};
use serde_json::json;
use server::demo;

use crate::helpers::{DEMO_TEAM, TestApp, TestDb, eventually, spawn_app};

const MEMBER: &str = "UDEMO005";

/// The app with the demo team in its database (the emulator's workspace).
async fn demo_app(db: &TestDb) -> TestApp {
    demo::seed(&db.db, app::server::now_ms()).await.unwrap();
    spawn_app(db).await
}

async fn count_events(app: &TestApp) -> i64 {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM inbox WHERE source = 'slack_event'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    count
}

async fn workspace_id(app: &TestApp) -> String {
    workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().unwrap().id
}

fn dm(user: &str, text: &str) -> serde_json::Value {
    json!({ "type": "message", "channel": format!("D{user}"), "channel_type": "im", "user": user,
            "text": text, "ts": "1790000000.000200", "event_ts": "1790000000.000200" })
}

on_both_backends!(
    requests_that_are_not_verifiably_from_slack_are_refused_and_change_nothing,
    the_same_event_delivered_three_times_is_stored_and_processed_once,
    team_join_and_user_change_keep_the_roster_current,
    asking_then_replying_in_the_dm_stores_the_answer_and_shows_it_on_the_profile,
    a_dm_without_an_open_question_gets_a_hint_and_stores_nothing,
    pause_resume_profile_and_help_answer_privately,
    after_an_uninstall_late_events_and_commands_do_nothing,
    opening_app_home_publishes_the_members_home,
    a_revoked_user_token_leaves_the_install_alone,
    users_of_another_team_are_not_added_or_changed,
);

async fn requests_that_are_not_verifiably_from_slack_are_refused_and_change_nothing(db: TestDb) {
    let app = demo_app(&db).await;
    let event = json!({ "type": "event_callback", "team_id": DEMO_TEAM, "event_id": "EvBad", "event_time": 1,
                        "event": { "type": "team_join", "user": { "id": "UNEW" } } })
    .to_string();

    // Well past the 5-minute window: a second off the edge could round either way.
    let stale = app.slack_post_at("/slack/events", &event, "application/json", 310).await;
    let future = app.slack_post_at("/slack/events", &event, "application/json", -310).await;
    let unsigned = app.client.post(format!("{}/slack/events", app.address)).body(event.clone()).send().await.unwrap();
    let forged = app
        .client
        .post(format!("{}/slack/events", app.address))
        .header("x-slack-request-timestamp", chrono::Utc::now().timestamp().to_string())
        .header("x-slack-signature", format!("v0={}", "0".repeat(64)))
        .body(event.clone())
        .send()
        .await
        .unwrap();
    let command =
        app.client.post(format!("{}/slack/commands", app.address)).body("team_id=T&user_id=U").send().await.unwrap();

    for response in [stale, future, unsigned, forged, command] {
        assert_eq!(response.status().as_u16(), 401);
        assert!(!response.text().await.unwrap().is_empty(), "a short reason is given");
    }
    assert_eq!(count_events(&app).await, 0);
}

#[tokio::test]
async fn url_verification_echoes_the_challenge() {
    let db = TestDb::sqlite().await;
    let app = spawn_app(&db).await;
    let body = json!({ "type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });

    let response = app.slack_post_at("/slack/events", &body.to_string(), "application/json", 0).await;

    assert_eq!(response.status().as_u16(), 200);
    let reply: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(reply["challenge"], body["challenge"]);
}

on_both_backends!(unknown_events_and_org_wide_payloads_are_acknowledged_not_retried);

async fn unknown_events_and_org_wide_payloads_are_acknowledged_not_retried(db: TestDb) {
    let app = demo_app(&db).await;
    let org_wide = json!({ "type": "event_callback", "enterprise_id": "E1", "is_ext_shared_channel": false,
                           "event_id": "EvOrg", "event_time": 1, "event": { "type": "team_join", "user": { "id": "UORG" } } });
    let odd = json!({ "type": "event_callback", "team_id": DEMO_TEAM, "event_id": "EvOdd", "event_time": 1,
                      "event": { "type": "reaction_added", "user": MEMBER, "reaction": "tada" } });

    for body in [org_wide, odd, json!({ "type": "app_rate_limited", "minute_rate_limited": 1 })] {
        let response = app.slack_post_at("/slack/events", &body.to_string(), "application/json", 0).await;
        assert_eq!(response.status().as_u16(), 200, "{body}");
    }
    app.drain_inbox().await;
    assert_eq!(count_events(&app).await, 2);
}

async fn the_same_event_delivered_three_times_is_stored_and_processed_once(db: TestDb) {
    let app = demo_app(&db).await;
    let event = json!({ "type": "team_join", "user": { "id": "UNEWCOMER", "name": "nia", "tz": "Africa/Lagos",
                         "profile": { "real_name": "Nia Newcomer", "title": "Designer" } } });

    for retry in 0..3 {
        let envelope = json!({ "type": "event_callback", "team_id": DEMO_TEAM, "event_id": "EvJoin1", "event_time": 1, "event": event });
        let mut request = app.client.post(format!("{}/slack/events", app.address));
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let signature = server::slack::verify::sign(
            &server::slack::verify::SigningSecret::new(crate::helpers::SIGNING_SECRET),
            &timestamp,
            envelope.to_string().as_bytes(),
        );
        if retry > 0 {
            request =
                request.header("x-slack-retry-num", retry.to_string()).header("x-slack-retry-reason", "http_timeout");
        }
        let response = request
            .header("x-slack-request-timestamp", timestamp)
            .header("x-slack-signature", signature)
            .body(envelope.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }

    let workspace = workspace_id(&app).await;
    app.drain_inbox().await;
    assert!(
        members::find_by_slack_user_id(app.db.pool(), &workspace, "UNEWCOMER").await.unwrap().is_some(),
        "the newcomer is a member"
    );
    assert_eq!(count_events(&app).await, 1);
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM members WHERE slack_user_id = 'UNEWCOMER'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);
}

async fn team_join_and_user_change_keep_the_roster_current(db: TestDb) {
    let app = demo_app(&db).await;
    let workspace = workspace_id(&app).await;
    let user = |title: &str, deleted: bool| {
        json!({ "id": "UCHANGE", "name": "kai", "tz": "Asia/Tokyo", "deleted": deleted,
                "profile": { "real_name": "Kai Changes", "title": title } })
    };

    app.deliver_event(DEMO_TEAM, "EvA", json!({ "type": "team_join", "user": user("Intern", false) })).await;
    app.deliver_event(
        DEMO_TEAM,
        "EvB",
        json!({ "type": "user_change", "user": user("Engineer", false), "event_ts": "1", "cache_ts": 1 }),
    )
    .await;
    app.drain_inbox().await;
    let member = members::find_by_slack_user_id(app.db.pool(), &workspace, "UCHANGE").await.unwrap();
    assert!(
        member.is_some_and(|m| m.title == "Engineer" && m.time_zone.as_deref() == Some("Asia/Tokyo")),
        "the title is updated"
    );
    let (_, directory) = app.page("/people").await;
    assert!(directory.contains("Kai Changes"));

    app.deliver_event(
        DEMO_TEAM,
        "EvC",
        json!({ "type": "user_change", "user": user("Engineer", true), "event_ts": "2", "cache_ts": 2 }),
    )
    .await;
    app.drain_inbox().await;
    let member = members::find_by_slack_user_id(app.db.pool(), &workspace, "UCHANGE").await.unwrap();
    assert!(member.is_some_and(|m| m.is_deleted), "the member is deactivated");
    let (_, directory) = app.page("/people").await;
    assert!(!directory.contains("Kai Changes"));
}

async fn asking_then_replying_in_the_dm_stores_the_answer_and_shows_it_on_the_profile(db: TestDb) {
    let app = demo_app(&db).await;
    let member = app.demo_member(MEMBER).await;
    // The demo may have left this member an open question; answer it away first.
    app.clear_open_question(&member).await;

    let reply = app.command(DEMO_TEAM, MEMBER, "ask").await;
    assert!(reply.contains("On its way"), "{reply}");
    eventually("the question reaches the member's DM", || async {
        app.emulator
            .messages()
            .iter()
            .any(|m| m.channel == format!("D{MEMBER}") && m.text.starts_with("Today's question"))
    })
    .await;
    // The message is in the DM before the dispatcher hears back from Slack and records it.
    eventually("the prompt is recorded as sent", || async {
        let open = prompts::find_open_for_member(app.db.pool(), &member.id).await.unwrap();
        open.is_some_and(|prompt| prompt.status == PromptStatus::Sent)
    })
    .await;
    let prompt = prompts::find_open_for_member(app.db.pool(), &member.id).await.unwrap().unwrap();
    assert!(prompt.slack_message_ts.is_some());
    let again = app.command(DEMO_TEAM, MEMBER, "ask").await;
    assert!(again.contains("already have a question"), "{again}");

    // Slack escapes &, < and > in message text; Rapport stores what the member typed.
    let status = app
        .deliver_event(DEMO_TEAM, "EvDm1", dm(MEMBER, "  Kayaking at dawn on a glassy lake &amp; tea &lt;3  "))
        .await;
    assert_eq!(status, 200);

    app.drain_inbox().await;
    assert!(
        prompts::find_open_for_member(app.db.pool(), &member.id).await.unwrap().is_none(),
        "the reply is the answer"
    );
    let (status, profile) = app.page(&format!("/people/{}", member.id)).await;
    assert_eq!(status, 200);
    assert!(profile.contains("Kayaking at dawn on a glassy lake"));
    let (stored,): (String,) =
        sqlx::query_as("SELECT a.text FROM answers a JOIN prompts p ON p.id = a.prompt_id WHERE p.id = $1")
            .bind(&prompt.id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(stored, "Kayaking at dawn on a glassy lake & tea <3");
    assert!(
        app.emulator.messages().iter().any(|m| m.channel == format!("D{MEMBER}") && m.text.starts_with("Thanks!")),
        "the bot thanks the member"
    );
    let asked = app.emulator.messages().into_iter().find(|m| m.ts == prompt.slack_message_ts.clone().unwrap()).unwrap();
    let closed = asked.blocks.to_string();
    assert!(!closed.contains("\"actions\""), "the answered question offers no buttons: {closed}");
    assert!(closed.contains("You answered") && closed.contains(&format!("/people/{}", member.id)), "{closed}");
}

async fn a_dm_without_an_open_question_gets_a_hint_and_stores_nothing(db: TestDb) {
    let app = demo_app(&db).await;
    let member = app.demo_member(MEMBER).await;
    app.clear_open_question(&member).await;
    let workspace = &member.workspace_id;
    let answers_before =
        app::server::db::answers::count_for_workspace(app.db.pool(), workspace, Visibility::Team).await.unwrap();

    app.deliver_event(DEMO_TEAM, "EvDm2", dm(MEMBER, "hello there")).await;

    app.drain_inbox().await;
    assert!(app.emulator.messages().iter().any(|m| m.text.contains("/rapport ask")), "the member gets a hint");
    let answers_after =
        app::server::db::answers::count_for_workspace(app.db.pool(), workspace, Visibility::Team).await.unwrap();
    assert_eq!(answers_after, answers_before);
}

async fn pause_resume_profile_and_help_answer_privately(db: TestDb) {
    let app = demo_app(&db).await;
    let paused_until = || async { app.demo_member(MEMBER).await.paused_until };

    let reply = app.command(DEMO_TEAM, MEMBER, "pause until 2999-01-01").await;
    assert!(reply.contains("2999-01-01"), "{reply}");
    assert!(paused_until().await.is_some());
    let reply = app.command(DEMO_TEAM, MEMBER, "pause until 2001-01-01").await;
    assert!(reply.contains("already started"), "{reply}");
    let reply = app.command(DEMO_TEAM, MEMBER, "resume").await;
    assert!(reply.contains("Welcome back"), "{reply}");
    assert_eq!(paused_until().await, None);
    let reply = app.command(DEMO_TEAM, MEMBER, "pause").await;
    assert!(reply.contains("Paused"), "{reply}");
    assert!(paused_until().await.is_some());
    app.command(DEMO_TEAM, MEMBER, "resume").await;
    // Slack keeps what was typed; `Until` reads as `until`, as the command word does.
    let reply = app.command(DEMO_TEAM, MEMBER, "pause Until 2099-01-31").await;
    assert!(reply.contains("No questions until"), "{reply}");

    let pinned = demo_pinned_member();
    let reply = app.command(DEMO_TEAM, MEMBER, &format!("profile <@{}|lena>", pinned.0)).await;
    assert!(reply.contains(&pinned.1), "{reply}");
    assert!(!reply.contains("washing powder"), "only-me answers are not shown: {reply}");
    for text in ["help", "", "dance"] {
        let reply = app.command(DEMO_TEAM, MEMBER, text).await;
        assert!(reply.contains("/rapport ask") && reply.contains("/rapport pause"), "{text}: {reply}");
    }
}

/// The demo member with pinned answers: their Slack id and name.
fn demo_pinned_member() -> (String, String) {
    ("UDEMO001".to_owned(), "Lena Hartmann".to_owned())
}

async fn after_an_uninstall_late_events_and_commands_do_nothing(db: TestDb) {
    let app = demo_app(&db).await;

    app.deliver_event(DEMO_TEAM, "EvRevoke", json!({ "type": "tokens_revoked", "tokens": { "bot": ["UDEMOBOT"] } }))
        .await;
    app.deliver_event(DEMO_TEAM, "EvUninstall", json!({ "type": "app_uninstalled" })).await;
    app.drain_inbox().await;
    let workspace = workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().unwrap();
    assert!(
        workspace.status == WorkspaceStatus::Uninstalled && workspace.uninstalled_at.is_some(),
        "the workspace is uninstalled"
    );

    app.deliver_event(DEMO_TEAM, "EvLate", dm(MEMBER, "a late reply")).await;
    let reply = app.command(DEMO_TEAM, MEMBER, "ask").await;

    assert!(reply.contains("not set up"), "{reply}");
    app.drain_inbox().await;
    assert!(app.emulator.messages().is_empty(), "nothing was sent: {:?}", app.emulator.messages());
}

async fn a_revoked_user_token_leaves_the_install_alone(db: TestDb) {
    let app = demo_app(&db).await;

    // A member who signed in with Slack removed the app's access to their account.
    let revoked = json!({ "type": "tokens_revoked", "tokens": { "oauth": [MEMBER] } });
    assert_eq!(app.deliver_event(DEMO_TEAM, "EvUserRevoke", revoked).await, 200);
    // Another app's bot is not ours either (each app hears only of its own tokens, but an
    // id that is not our bot's must not stop us).
    let other_bot = json!({ "type": "tokens_revoked", "tokens": { "bot": ["UOTHERBOT"] } });
    assert_eq!(app.deliver_event(DEMO_TEAM, "EvOtherRevoke", other_bot).await, 200);
    app.drain_inbox().await;

    let workspace = workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().unwrap();
    assert_eq!(workspace.status, WorkspaceStatus::Active);
    let reply = app.command(DEMO_TEAM, MEMBER, "ask").await;
    assert!(!reply.contains("not set up"), "{reply}");
}

async fn users_of_another_team_are_not_added_or_changed(db: TestDb) {
    let app = demo_app(&db).await;
    let workspace = workspace_id(&app).await;
    let before = members::find_by_slack_user_id(app.db.pool(), &workspace, MEMBER).await.unwrap().unwrap();

    // Slack Connect: people of a partner team show up in a shared channel's events.
    let guest = json!({ "id": "UPARTNER1", "team_id": "TPARTNER", "name": "pat",
                        "profile": { "real_name": "Pat Partner", "title": "Partner" } });
    let same_id_elsewhere = json!({ "id": MEMBER, "team_id": "TPARTNER", "name": "renamed", "deleted": true,
                                    "profile": { "real_name": "Someone Else", "title": "Elsewhere" } });
    assert_eq!(app.deliver_event(DEMO_TEAM, "EvConnect1", json!({ "type": "team_join", "user": guest })).await, 200);
    assert_eq!(
        app.deliver_event(DEMO_TEAM, "EvConnect2", json!({ "type": "user_change", "user": same_id_elsewhere })).await,
        200
    );
    app.drain_inbox().await;

    assert!(members::find_by_slack_user_id(app.db.pool(), &workspace, "UPARTNER1").await.unwrap().is_none());
    let after = members::find_by_slack_user_id(app.db.pool(), &workspace, MEMBER).await.unwrap().unwrap();
    assert_eq!((after.name, after.title, after.is_deleted), (before.name, before.title, before.is_deleted));
}

async fn opening_app_home_publishes_the_members_home(db: TestDb) {
    let app = demo_app(&db).await;
    let pinned = "UDEMO001";

    app.deliver_event(
        DEMO_TEAM,
        "EvHome",
        json!({ "type": "app_home_opened", "user": pinned, "channel": format!("D{pinned}"), "tab": "home" }),
    )
    .await;

    app.drain_inbox().await;
    let view = app.emulator.home_view(pinned).expect("the home view is published").to_string();
    assert!(view.contains("Answer a question now") && view.contains("Pause questions"), "{view}");
    assert!(view.contains("Your latest answers") && view.contains("battered enamel mug"), "{view}");
    assert!(view.contains("washing powder") && view.contains("(only you)"), "own only-me answers show, marked: {view}");

    let press = json!({
        "type": "block_actions", "team": { "id": DEMO_TEAM }, "user": { "id": pinned }, "trigger_id": "1.2.3",
        "actions": [{ "type": "button", "action_id": "pause", "action_ts": "1" }],
    });
    let body = serde_urlencoded::to_string([("payload", press.to_string())]).unwrap();
    app.slack_post_at("/slack/interactions", &body, "application/x-www-form-urlencoded", 0).await;

    let view = app.emulator.home_view(pinned).unwrap().to_string();
    assert!(view.contains("Resume questions") && view.contains("paused"), "{view}");
    assert!(app.demo_member(pinned).await.paused_until.is_some());
}

on_both_backends!(a_dm_answer_delivered_three_times_is_answered_once, two_asks_at_once_open_one_question);

async fn a_dm_answer_delivered_three_times_is_answered_once(db: TestDb) {
    let app = demo_app(&db).await;
    app.demo_member_with_open_question(MEMBER).await;

    for _ in 0..3 {
        assert_eq!(app.deliver_event(DEMO_TEAM, "EvDmTwice", dm(MEMBER, "Only once, please")).await, 200);
    }

    app.drain_inbox().await;
    assert!(app.emulator.messages().iter().any(|m| m.text.starts_with("Thanks!")), "the answer is stored");
    let texts: Vec<String> = app.emulator.messages().into_iter().map(|m| m.text).collect();
    assert_eq!(texts.iter().filter(|t| t.starts_with("Thanks!")).count(), 1, "{texts:?}");
    assert!(!texts.iter().any(|t| t.contains("don't have a question waiting")), "{texts:?}");
}

async fn two_asks_at_once_open_one_question(db: TestDb) {
    let app = demo_app(&db).await;
    let member = app.demo_member(MEMBER).await;

    let (first, second) = tokio::join!(app.command(DEMO_TEAM, MEMBER, "ask"), app.command(DEMO_TEAM, MEMBER, "ask"));

    let open: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM prompts WHERE member_id = $1 AND status IN ('pending', 'in_flight', 'sent')")
            .bind(&member.id)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(open.len(), 1, "{first} / {second}");
    assert!([&first, &second].iter().any(|reply| reply.contains("On its way")), "{first} / {second}");
}

on_both_backends!(an_answer_stored_while_slack_refuses_to_post_is_kept_and_not_retried);

async fn an_answer_stored_while_slack_refuses_to_post_is_kept_and_not_retried(db: TestDb) {
    let app = demo_app(&db).await;
    let (member, _) = app.demo_member_with_open_question(MEMBER).await;
    let before = app.emulator.messages().len();
    // Slack answers 429 to every post from now on.
    app.refuse_further_posts().await;

    app.deliver_event(DEMO_TEAM, "EvRateLimited", dm(MEMBER, "Stored even if Slack is busy")).await;

    app.drain_inbox().await;
    assert!(prompts::find_open_for_member(app.db.pool(), &member.id).await.unwrap().is_none(), "answered");
    let (_, profile) = app.page(&format!("/people/{}", member.id)).await;
    assert!(profile.contains("Stored even if Slack is busy"));
    assert_eq!(app.emulator.messages().len(), before + 1, "only the test's own post went through");
}
