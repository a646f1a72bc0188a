//! Schedules and delivery, driven on a clock the tests set: rounds at each member's local
//! time across DST changes, no catch-up bursts, Slack's 429s and 5xx, lost answers, a
//! dispatcher killed mid-send, two dispatchers on one database, and members or workspaces
//! leaving mid-round. The app talks to the Slack emulator over HTTP throughout.

use app::server::db::prompts::PromptStatus;

use std::collections::HashMap;

use app::{
    features::schedule::types::{Cadence, LocalTime, Weekdays},
    server::{
        AppParts, AppState,
        clock::{Clock as _, ManualClock},
        db::{
            Db,
            members::{self, Member},
            prompts::{self, Prompt},
            workspaces,
        },
        secret::Secret,
        services::{
            delivery::{BATCH, LEASE_MS, SENDS_PER_MINUTE},
            rounds,
            schedule::{self, Schedule},
        },
        slack::blocks,
        viewer::Viewer,
        zones,
    },
};
use chrono::{TimeZone as _, Utc};
use serde_json::json;
use server::{
    demo,
    dispatch::Dispatcher,
    emulator::{EmulatedUser, Fault, PostedMessage},
};

use crate::helpers::{
    DEMO_TEAM, Team, TestApp, TestDb, add_member, eventually, spawn_app, spawn_app_at, unsaved_member,
};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

fn at(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
}

/// The demo team at `now`, with the app on a manual clock and delivery driven by the test.
async fn demo_at(db: &TestDb, now: &str) -> (TestApp, ManualClock, String) {
    let clock = ManualClock::new(at(now));
    demo::seed(&db.db, clock.now_ms()).await.unwrap();
    let app = spawn_app_at(db, &clock).await;
    let workspace = workspaces::find_by_slack_team_id(app.db.pool(), DEMO_TEAM).await.unwrap().unwrap();
    (app, clock, workspace.id)
}

/// Saves the schedule (on, guests out).
async fn set_schedule(db: &Db, workspace_id: &str, days: &[&str], time: &str, cadence: Cadence) {
    let names: Vec<String> = days.iter().map(|d| (*d).to_owned()).collect();
    let schedule =
        Schedule { weekdays: Weekdays::parse(&names).unwrap(), local_time: LocalTime::parse(time).unwrap(), cadence };
    let viewer = Viewer::workspace_admin(db.clone(), workspace_id);
    schedule::save(&viewer, &schedule, true, false, 0).await.unwrap();
}

const EVERY_DAY: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Leaves only these demo members askable, in these time zones (the rest opt out).
async fn only_members(db: &Db, workspace_id: &str, zones: &[(&str, &str)]) {
    sqlx::query("UPDATE members SET is_opted_out = 1 WHERE workspace_id = $1")
        .bind(workspace_id)
        .execute(db.pool())
        .await
        .unwrap();
    for (user, zone) in zones {
        sqlx::query(
            "UPDATE members SET is_opted_out = 0, time_zone = $3 WHERE workspace_id = $1 AND slack_user_id = $2",
        )
        .bind(workspace_id)
        .bind(user)
        .bind(zone)
        .execute(db.pool())
        .await
        .unwrap();
    }
}

/// Runs a dispatch pass every `step_ms` from now until `until`.
async fn run_until(app: &TestApp, clock: &ManualClock, until: i64, step_ms: i64) {
    while clock.now_ms() < until {
        app.dispatcher.run_once().await.unwrap();
        clock.advance(step_ms);
    }
}

async fn scheduled_prompts(db: &Db, workspace_id: &str) -> Vec<Prompt> {
    let all = prompts::list_for_workspace(db.pool(), workspace_id).await.unwrap();
    all.into_iter().filter(|p| p.round_date.is_some()).collect()
}

async fn member(db: &Db, workspace_id: &str, slack_user_id: &str) -> Member {
    app::server::db::members::find_by_slack_user_id(db.pool(), workspace_id, slack_user_id).await.unwrap().unwrap()
}

/// How many question messages the emulator received for each prompt id.
fn questions_posted(app: &TestApp) -> HashMap<String, usize> {
    let mut posted = HashMap::new();
    for message in app.emulator.messages() {
        if message.metadata["event_type"] == blocks::QUESTION_METADATA_EVENT {
            let prompt =
                message.metadata["event_payload"][blocks::QUESTION_METADATA_PROMPT].as_str().unwrap().to_owned();
            *posted.entry(prompt).or_default() += 1;
        }
    }
    posted
}

/// `ms` as local `YYYY-MM-DD HH:MM` in the member's zone.
fn local(ms: i64, zone: &str) -> String {
    let zone = zones::member_zone(Some(zone), "UTC");
    Utc.timestamp_millis_opt(ms).unwrap().with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
}

on_both_backends!(
    each_member_is_asked_at_ten_in_their_own_time_zone_once_a_day,
    ten_oclock_stays_ten_oclock_across_dst_in_new_york_and_berlin,
    a_skipped_local_time_moves_forward_and_a_repeated_one_is_asked_once,
    downtime_never_produces_a_burst_of_catch_up_questions,
    a_429_storm_is_waited_out_and_nothing_is_lost_or_sent_twice,
    each_question_of_a_batch_is_recorded_with_its_own_message_and_dm,
    the_part_of_a_batch_slack_refuses_for_the_rate_waits_and_each_goes_once,
    slack_errors_are_retried_with_backoff_and_a_lost_answer_is_found_not_resent,
    a_dispatcher_killed_mid_send_is_reconciled_on_restart,
    a_batch_marks_as_being_sent_only_the_prompts_it_still_holds,
    two_dispatchers_on_one_database_send_each_question_once,
    a_member_who_leaves_mid_round_is_skipped_and_one_slack_refuses_is_stopped,
    an_uninstalled_workspace_gets_nothing_more_mid_round,
    a_rate_limited_workspace_does_not_hold_up_another,
    a_new_member_gets_the_first_week_pack_and_one_meet_post,
    operators_see_the_next_round_and_the_last_rounds_counts,
    only_active_humans_who_want_questions_in_asking_workspaces_are_asked,
    a_refused_token_stops_the_workspace_until_it_is_installed_again,
    a_large_round_is_paced_to_the_workspaces_rate,
    a_fleet_s_round_begins_in_every_workspace_before_any_workspace_s_rest_is_planned,
    a_slow_workspace_does_not_hold_up_another,
    a_member_slack_could_not_reach_is_asked_again_after_writing_to_rapport,
    a_self_hosted_bot_token_sends_only_to_its_own_workspace,
    questions_wait_until_slack_confirms_whose_the_self_hosted_bot_token_is,
    a_workspace_with_nothing_due_is_not_planned_again_until_its_next_slot,
    every_change_that_may_make_someone_due_has_the_workspace_planned_again,
    a_change_made_while_a_workspace_is_planned_is_not_overwritten,
    many_changes_in_one_transaction_clear_the_plan_once,
    a_schedule_changed_after_the_workspace_was_put_off_is_asked_at_its_new_time,
);

async fn each_member_is_asked_at_ten_in_their_own_time_zone_once_a_day(db: TestDb) {
    // Workdays at 10:00. Sunday noon UTC to Tuesday noon UTC covers Monday everywhere, from
    // Auckland (a day ahead) to Mexico City.
    let (app, clock, workspace) = demo_at(&db, "2026-11-29T12:00:00Z").await;
    set_schedule(&app.db, &workspace, &["mon", "tue", "wed", "thu", "fri"], "10:00", Cadence::Daily).await;
    run_until(&app, &clock, at("2026-12-01T12:00:00Z"), 15 * MINUTE_MS).await;

    let prompts = scheduled_prompts(&app.db, &workspace).await;
    let askable: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, time_zone FROM members WHERE workspace_id = $1 AND is_bot = 0 AND time_zone IS NOT NULL",
    )
    .bind(&workspace)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(askable.len(), 30);
    let posted = questions_posted(&app);
    for (member_id, zone) in &askable {
        let mine: Vec<&Prompt> = prompts.iter().filter(|p| &p.member_id == member_id).collect();
        let monday = mine.iter().filter(|p| p.round_date.as_deref() == Some("2026-11-30")).count();
        assert_eq!(monday, 1, "one Monday question for a member in {zone}");
        for prompt in mine {
            let due = local(prompt.due_at, zone);
            assert!(due.ends_with(" 10:00"), "due at 10:00 local in {zone}, not {due}");
            assert_eq!(&due[..10], prompt.round_date.as_deref().unwrap());
            let sent_after = prompt.sent_at.unwrap() - prompt.due_at;
            assert!((0..15 * MINUTE_MS).contains(&sent_after), "sent {sent_after} ms after its slot");
            assert_eq!(posted.get(&prompt.id), Some(&1), "each question reaches Slack exactly once");
        }
    }
}

async fn ten_oclock_stays_ten_oclock_across_dst_in_new_york_and_berlin(db: TestDb) {
    // New York springs forward on 8 March 2026, Berlin on 29 March; Kolkata has a half-hour
    // offset; Auckland's days start while it is still yesterday in UTC.
    // Starts just before Auckland's 10:00 (21:00 UTC the day before).
    let (app, clock, workspace) = demo_at(&db, "2026-03-04T20:00:00Z").await;
    set_schedule(&app.db, &workspace, &EVERY_DAY, "10:00", Cadence::Daily).await;
    let zones = [
        ("UDEMO001", "America/New_York"),
        ("UDEMO002", "Europe/Berlin"),
        ("UDEMO003", "Asia/Kolkata"),
        ("UDEMO004", "Pacific/Auckland"),
    ];
    only_members(&app.db, &workspace, &zones).await;
    run_until(&app, &clock, at("2026-03-31T12:00:00Z"), 30 * MINUTE_MS).await;

    let prompts = scheduled_prompts(&app.db, &workspace).await;
    for (user, zone) in zones {
        let member = member(&app.db, &workspace, user).await;
        let mine: Vec<&Prompt> = prompts.iter().filter(|p| p.member_id == member.id).collect();
        let days: Vec<&str> = mine.iter().map(|p| p.round_date.as_deref().unwrap()).collect();
        let mut unique = days.clone();
        unique.dedup();
        assert_eq!(unique.len(), days.len(), "one question a day in {zone}");
        assert!(days.len() >= 25, "asked every day in {zone}: {days:?}");
        for prompt in &mine {
            assert!(local(prompt.due_at, zone).ends_with(" 10:00"), "10:00 in {zone}");
            assert!(local(prompt.sent_at.unwrap(), zone).contains(" 10:"), "sent in the 10 o'clock hour in {zone}");
        }
    }
    // Only the latest question is open; the unanswered ones closed when the next came.
    let open = prompts.iter().filter(|p| p.status == PromptStatus::Sent).count();
    assert_eq!(open, 4);
    assert!(prompts.iter().filter(|p| p.status == PromptStatus::Expired).count() >= 90);
}

async fn a_skipped_local_time_moves_forward_and_a_repeated_one_is_asked_once(db: TestDb) {
    // Berlin: on 29 March 2026 02:00-03:00 does not exist; on 25 October 02:00-03:00 happens twice.
    let (app, clock, workspace) = demo_at(&db, "2026-03-28T00:00:00Z").await;
    set_schedule(&app.db, &workspace, &EVERY_DAY, "02:30", Cadence::Daily).await;
    only_members(&app.db, &workspace, &[("UDEMO002", "Europe/Berlin")]).await;
    run_until(&app, &clock, at("2026-03-30T06:00:00Z"), 10 * MINUTE_MS).await;
    clock.set(at("2026-10-24T00:00:00Z"));
    run_until(&app, &clock, at("2026-10-26T06:00:00Z"), 10 * MINUTE_MS).await;

    let dues: Vec<(String, String)> = scheduled_prompts(&app.db, &workspace)
        .await
        .iter()
        .map(|p| (p.round_date.clone().unwrap(), local(p.due_at, "Europe/Berlin")))
        .collect();
    let expected = [
        ("2026-03-28", "2026-03-28 02:30"),
        ("2026-03-29", "2026-03-29 03:00"),
        ("2026-03-30", "2026-03-30 02:30"),
        ("2026-10-24", "2026-10-24 02:30"),
        ("2026-10-25", "2026-10-25 02:30"),
        ("2026-10-26", "2026-10-26 02:30"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(d, t)| ((*d).to_owned(), (*t).to_owned())).collect();
    assert_eq!(dues, expected);
    // The 25 October question went out during the first 02:30 (summer time, +02:00).
    let october = scheduled_prompts(&app.db, &workspace).await;
    let autumn = october.iter().find(|p| p.round_date.as_deref() == Some("2026-10-25")).unwrap();
    assert_eq!(autumn.due_at, at("2026-10-25T02:30:00+02:00"));
}

async fn downtime_never_produces_a_burst_of_catch_up_questions(db: TestDb) {
    let (app, clock, workspace) = demo_at(&db, "2026-11-30T10:00:00Z").await;
    set_schedule(&app.db, &workspace, &EVERY_DAY, "10:00", Cadence::Daily).await;
    only_members(&app.db, &workspace, &[("UDEMO001", "UTC"), ("UDEMO002", "UTC")]).await;
    app.dispatcher.run_once().await.unwrap();
    assert_eq!(scheduled_prompts(&app.db, &workspace).await.len(), 2);

    // Down from Monday to Thursday 11:00: only Thursday's round, no Tuesday or Wednesday.
    clock.set(at("2026-12-03T11:00:00Z"));
    for _ in 0..5 {
        app.dispatcher.run_once().await.unwrap();
    }
    let prompts = scheduled_prompts(&app.db, &workspace).await;
    let rounds: Vec<&str> = prompts.iter().map(|p| p.round_date.as_deref().unwrap()).collect();
    assert_eq!(rounds, ["2026-11-30", "2026-11-30", "2026-12-03", "2026-12-03"]);
    let open: Vec<&Prompt> = prompts.iter().filter(|p| p.status == PromptStatus::Sent).collect();
    assert_eq!(open.len(), 2, "one open question per member");

    // Back at 23:00 on Friday: Friday's 10:00 is long gone and is not made up at night.
    clock.set(at("2026-12-04T23:00:00Z"));
    app.dispatcher.run_once().await.unwrap();
    assert_eq!(scheduled_prompts(&app.db, &workspace).await.len(), 4);
    // A paused member is not asked at Saturday's round; the other is.
    let paused = member(&app.db, &workspace, "UDEMO001").await;
    app::server::services::members::pause(&app.db, &paused, Some(at("2026-12-06T00:00:00Z")), 0).await.unwrap();
    clock.set(at("2026-12-05T10:00:00Z"));
    app.dispatcher.run_once().await.unwrap();
    let saturday: Vec<Prompt> = scheduled_prompts(&app.db, &workspace)
        .await
        .into_iter()
        .filter(|p| p.round_date.as_deref() == Some("2026-12-05"))
        .collect();
    assert_eq!(saturday.len(), 1);
    assert_ne!(saturday[0].member_id, paused.id);
}

/// Everyone in one zone, due at the same minute.
async fn one_big_round(db: &TestDb) -> (TestApp, ManualClock, String) {
    let (app, clock, workspace) = demo_at(db, "2026-11-30T10:00:00Z").await;
    set_schedule(&app.db, &workspace, &EVERY_DAY, "10:00", Cadence::Daily).await;
    sqlx::query("UPDATE members SET time_zone = 'UTC' WHERE workspace_id = $1")
        .bind(&workspace)
        .execute(app.db.pool())
        .await
        .unwrap();
    (app, clock, workspace)
}

async fn a_429_storm_is_waited_out_and_nothing_is_lost_or_sent_twice(db: TestDb) {
    let (app, clock, workspace) = one_big_round(&db).await;
    // Slack takes the first batch whole and refuses the next.
    let batch = usize::try_from(BATCH).unwrap();
    app.emulator.set_rate_limit("chat.postMessage", u32::try_from(BATCH).unwrap());

    let first = app.dispatcher.run_once().await.unwrap();
    assert_eq!(first[0].sent, batch);
    assert!(first[0].slowed_down);
    let paused = workspaces::find(app.db.pool(), &workspace).await.unwrap().unwrap().sending_paused_until.unwrap();
    assert!(paused > clock.now_ms() && paused <= clock.now_ms() + 60_000, "held for Slack's Retry-After");
    // While held, nothing is tried, however often the dispatcher runs.
    for _ in 0..3 {
        assert!(app.dispatcher.run_once().await.unwrap().is_empty());
    }
    assert_eq!(questions_posted(&app).len(), batch);

    app.emulator.set_rate_limit("chat.postMessage", 0);
    clock.set(paused + 1);
    app.dispatcher.run_once().await.unwrap();
    let prompts = scheduled_prompts(&app.db, &workspace).await;
    assert_eq!(prompts.len(), 30);
    assert!(prompts.iter().all(|p| p.status == PromptStatus::Sent && p.attempts == 0), "a 429 is not a failed try");
    let posted = questions_posted(&app);
    assert_eq!(posted.len(), 30);
    assert!(posted.values().all(|count| *count == 1));
}

async fn the_part_of_a_batch_slack_refuses_for_the_rate_waits_and_each_goes_once(db: TestDb) {
    let (app, clock, workspace) = one_big_round(&db).await;
    // Slack takes five of the first batch's twenty posts, sent side by side.
    app.emulator.set_rate_limit("chat.postMessage", 5);

    let first = app.dispatcher.run_once().await.unwrap();

    assert_eq!(first[0].sent, 5);
    assert!(first[0].slowed_down);
    assert_eq!(questions_posted(&app).len(), 5);
    let waiting: Vec<Prompt> = scheduled_prompts(&app.db, &workspace)
        .await
        .into_iter()
        .filter(|p| p.status == PromptStatus::Pending)
        .collect();
    assert_eq!(waiting.len(), 25);
    assert!(
        waiting.iter().all(|p| p.send_started_at.is_none() && p.attempts == 0),
        "a post refused for the rate was not posted: nothing to look up, and no failed try"
    );
    let paused = workspaces::find(app.db.pool(), &workspace).await.unwrap().unwrap().sending_paused_until.unwrap();
    app.emulator.set_rate_limit("chat.postMessage", 0);
    clock.set(paused + 1);
    app.dispatcher.run_once().await.unwrap();
    let posted = questions_posted(&app);
    assert_eq!(posted.len(), 30);
    assert!(posted.values().all(|count| *count == 1), "each question once: {posted:?}");
}

async fn each_question_of_a_batch_is_recorded_with_its_own_message_and_dm(db: TestDb) {
    let (app, _clock, workspace) = one_big_round(&db).await;
    sqlx::query("UPDATE members SET dm_channel_id = NULL WHERE workspace_id = $1")
        .bind(&workspace)
        .execute(app.db.pool())
        .await
        .unwrap();

    let report = app.dispatcher.run_once().await.unwrap();

    assert_eq!(report[0].sent, 30);
    let messages: HashMap<String, PostedMessage> = app
        .emulator
        .messages()
        .into_iter()
        .map(|message| (message.metadata["event_payload"][blocks::QUESTION_METADATA_PROMPT].to_string(), message))
        .collect();
    for prompt in scheduled_prompts(&app.db, &workspace).await {
        let message = &messages[&json!(prompt.id).to_string()];
        assert_eq!(prompt.status, PromptStatus::Sent);
        assert_eq!(prompt.slack_message_ts.as_deref(), Some(message.ts.as_str()), "its own message's ts");
        let member = member_of(&app.db, &workspace, &prompt).await;
        assert_eq!(member.dm_channel_id.as_deref(), Some(message.channel.as_str()), "its own DM, remembered");
    }
}

async fn slack_errors_are_retried_with_backoff_and_a_lost_answer_is_found_not_resent(db: TestDb) {
    let (app, clock, workspace) = demo_at(&db, "2026-11-30T10:00:00Z").await;
    set_schedule(&app.db, &workspace, &EVERY_DAY, "10:00", Cadence::Daily).await;
    only_members(&app.db, &workspace, &[("UDEMO001", "UTC")]).await;

    // Two 5xx in a row: retried later, each wait longer than the one before.
    app.emulator.inject_fault("chat.postMessage", Fault::ServerError, 2);
    app.dispatcher.run_once().await.unwrap();
    let prompt = scheduled_prompts(&app.db, &workspace).await.remove(0);
    assert_eq!((prompt.status.as_str(), prompt.attempts), ("pending", 1));
    // The reason kept is the status, never the body Slack answered with.
    assert_eq!(prompt.failure_reason.as_deref(), Some("HTTP 500"));
    let first_wait = prompt.next_attempt_at - clock.now_ms();
    assert!((20_000..=40_000).contains(&first_wait), "first retry after about 30 s, not {first_wait} ms");
    app.dispatcher.run_once().await.unwrap();
    assert_eq!(scheduled_prompts(&app.db, &workspace).await[0].attempts, 1, "not retried before its time");

    clock.set(prompt.next_attempt_at);
    app.dispatcher.run_once().await.unwrap();
    let prompt = scheduled_prompts(&app.db, &workspace).await.remove(0);
    assert_eq!(prompt.attempts, 2);
    assert!(prompt.next_attempt_at - clock.now_ms() > first_wait, "the second wait is longer");

    // The third try reaches Slack, but its answer is lost: the next try finds the message
    // by its metadata and records it instead of sending it again.
    app.emulator.inject_fault("chat.postMessage", Fault::LoseAnswer, 1);
    clock.set(prompt.next_attempt_at);
    app.dispatcher.run_once().await.unwrap();
    assert_eq!(questions_posted(&app).get(&prompt.id), Some(&1));
    assert_eq!(scheduled_prompts(&app.db, &workspace).await[0].status, PromptStatus::Pending);
    clock.advance(30 * MINUTE_MS);
    let report = app.dispatcher.run_once().await.unwrap();
    assert_eq!(report[0].found_posted, 1);
    let prompt = scheduled_prompts(&app.db, &workspace).await.remove(0);
    assert_eq!(prompt.status, PromptStatus::Sent);
    let message = app.emulator.messages().into_iter().find(|m| !m.metadata.is_null()).unwrap();
    assert_eq!(prompt.slack_message_ts.as_deref(), Some(message.ts.as_str()));
    assert_eq!(questions_posted(&app).get(&prompt.id), Some(&1), "sent exactly once");
}

async fn a_dispatcher_killed_mid_send_is_reconciled_on_restart(db: TestDb) {
    let (app, clock, workspace) = demo_at(&db, "2026-11-30T10:00:00Z").await;
    set_schedule(&app.db, &workspace, &EVERY_DAY, "10:00", Cadence::Daily).await;
    only_members(&app.db, &workspace, &[("UDEMO001", "UTC"), ("UDEMO002", "UTC")]).await;
    rounds::plan_due(&app.state, clock.now_ms()).await.unwrap();
    let ws = workspaces::find(app.db.pool(), &workspace).await.unwrap().unwrap();

    // A dispatcher claims both, marks both as being sent, posts the first and dies before
    // recording anything.
    let now = clock.now_ms();
    let claimed =
        prompts::claim(app.db.pool(), app.db.backend(), &workspace, "dead", now, now + LEASE_MS, 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let ids: Vec<&str> = claimed.iter().map(|prompt| prompt.id.as_str()).collect();
    let held = prompts::update_send_started_many(app.db.pool(), &ids, "dead", now, now + LEASE_MS).await.unwrap();
    assert_eq!(held.len(), 2);
    let posted_before_dying = &claimed[0];
    let target = member_of(&app.db, &workspace, posted_before_dying).await.slack_user_id;
    let api = app.state.slack().unwrap().api_for(&ws).unwrap();
    let posted =
        api.post_to(&target, blocks::question_message("Before the crash?", &posted_before_dying.id)).await.unwrap();

    // Within the lease nobody touches them.
    let restarted = Dispatcher::new(app.state.clone());
    assert!(restarted.run_once().await.unwrap().is_empty());
    // After it, the restarted dispatcher finds the first in Slack and sends only the second.
    clock.advance(LEASE_MS + 1);
    let report = restarted.run_once().await.unwrap();
    assert_eq!((report[0].found_posted, report[0].sent), (1, 1));
    let prompts_now = scheduled_prompts(&app.db, &workspace).await;
    let first = prompts_now.iter().find(|p| p.id == posted_before_dying.id).unwrap();
    assert_eq!(first.slack_message_ts.as_deref(), Some(posted.ts.as_str()));
    assert!(prompts_now.iter().all(|p| p.status == PromptStatus::Sent));
    let counts = questions_posted(&app);
    assert_eq!((counts.get(&claimed[0].id), counts.get(&claimed[1].id)), (Some(&1), Some(&1)));
    // The dead dispatcher's late writes change nothing: its claim is gone.
    assert!(prompts::update_send_started_many(app.db.pool(), &ids, "dead", now, now).await.unwrap().is_empty());
}

async fn a_batch_marks_as_being_sent_only_the_prompts_it_still_holds(db: TestDb) {
    let (app, clock, workspace) = one_big_round(&db).await;
    rounds::plan_due(&app.state, clock.now_ms()).await.unwrap();
    let now = clock.now_ms();
    let claimed =
        prompts::claim(app.db.pool(), app.db.backend(), &workspace, "mine", now, now + LEASE_MS, 10).await.unwrap();
    assert_eq!(claimed.len(), 10);
    // Another dispatcher took one of them meanwhile.
    sqlx::query("UPDATE prompts SET claimed_by = 'theirs' WHERE id = $1")
        .bind(&claimed[3].id)
        .execute(app.db.pool())
        .await
        .unwrap();

    let ids: Vec<&str> = claimed.iter().map(|prompt| prompt.id.as_str()).collect();
    let mut held = prompts::update_send_started_many(app.db.pool(), &ids, "mine", now, now + LEASE_MS).await.unwrap();

    let mut expected: Vec<String> = ids.iter().filter(|id| **id != claimed[3].id).map(|id| (*id).to_owned()).collect();
    held.sort();
    expected.sort();
    assert_eq!(held, expected);
    let theirs = scheduled_prompts(&app.db, &workspace).await.into_iter().find(|p| p.id == claimed[3].id).unwrap();
    assert_eq!(theirs.send_started_at, None, "a prompt it no longer holds is not touched");
}

async fn member_of(db: &Db, workspace_id: &str, prompt: &Prompt) -> Member {
    app::server::db::members::find(db.pool(), workspace_id, &prompt.member_id).await.unwrap().unwrap()
}

async fn two_dispatchers_on_one_database_send_each_question_once(db: TestDb) {
    let (app, _clock, workspace) = one_big_round(&db).await;
    // A second instance: its own connection pool on the same database.
    let other = AppState::new(AppParts { db: Db::connect(&db.url).await.unwrap(), ..AppParts::clone(&app.state) });
    let second = Dispatcher::new(other);
    let (a, b) = tokio::join!(app.dispatcher.run_once(), second.run_once());
    let sent: usize = a.unwrap().iter().chain(b.unwrap().iter()).map(|r| r.sent).sum();
    assert_eq!(sent, 30);
    let posted = questions_posted(&app);
    assert_eq!(posted.len(), 30);
    assert!(posted.values().all(|count| *count == 1), "no question was sent twice: {posted:?}");
    let prompts = scheduled_prompts(&app.db, &workspace).await;
    assert_eq!(prompts.len(), 30, "each member was planned once though both planned the round");
    assert!(prompts.iter().all(|p| p.status == PromptStatus::Sent));
}

async fn a_member_who_leaves_mid_round_is_skipped_and_one_slack_refuses_is_stopped(db: TestDb) {
    let (app, clock, workspace) = demo_at(&db, "2026-11-30T10:00:00Z").await;
    set_schedule(&app.db, &workspace, &EVERY_DAY, "10:00", Cadence::Daily).await;
    only_members(&app.db, &workspace, &[("UDEMO001", "UTC"), ("UDEMO002", "UTC"), ("UDEMO003", "UTC")]).await;
    rounds::plan_due(&app.state, clock.now_ms()).await.unwrap();

    // UDEMO001 is deactivated and Slack tells Rapport (user_change); UDEMO002 is deactivated
    // too, but Rapport only learns it from Slack refusing the message.
    let gone = json!({ "type": "user_change", "user": { "id": "UDEMO001", "team_id": DEMO_TEAM, "name": "ines",
                       "real_name": "Ines", "deleted": true, "profile": { "real_name": "Ines" } },
                   "event_ts": "1", "cache_ts": 1 });
    assert_eq!(app.deliver_event(DEMO_TEAM, "EvGone1", gone).await, 200);
    app.drain_inbox().await;
    assert!(member(&app.db, &workspace, "UDEMO001").await.is_deleted, "the deactivation is applied");
    app.emulator.deactivate_user("UDEMO002");

    let report = app.dispatcher.run_once().await.unwrap();
    assert_eq!(report[0].sent, 1);
    let reasons: Vec<(&String, &usize)> = report[0].failed.iter().collect();
    assert_eq!(reasons, [(&"is_archived".to_owned(), &1), (&"member deactivated".to_owned(), &1)]);
    assert_eq!(member(&app.db, &workspace, "UDEMO002").await.delivery_stopped_reason.as_deref(), Some("is_archived"));
    assert_eq!(questions_posted(&app).len(), 1);

    // The next round asks only the member still reachable.
    clock.advance(DAY_MS);
    app.dispatcher.run_once().await.unwrap();
    let next_round: Vec<Prompt> = scheduled_prompts(&app.db, &workspace)
        .await
        .into_iter()
        .filter(|p| p.round_date.as_deref() == Some("2026-12-01"))
        .collect();
    assert_eq!(next_round.len(), 1);
    assert_eq!(next_round[0].member_id, member(&app.db, &workspace, "UDEMO003").await.id);
}

async fn an_uninstalled_workspace_gets_nothing_more_mid_round(db: TestDb) {
    let (app, clock, workspace) = one_big_round(&db).await;
    rounds::plan_due(&app.state, clock.now_ms()).await.unwrap();
    assert_eq!(app.deliver_event(DEMO_TEAM, "EvBye", json!({ "type": "app_uninstalled" })).await, 200);
    app.drain_inbox().await;
    assert_eq!(
        workspaces::find(app.db.pool(), &workspace).await.unwrap().unwrap().status,
        app::server::db::workspaces::WorkspaceStatus::Uninstalled,
        "the uninstall is applied"
    );

    let report = app.dispatcher.run_once().await.unwrap();
    assert_eq!(report[0].sent, 0);
    assert_eq!(report[0].failed.get("workspace uninstalled"), Some(&30));
    assert!(questions_posted(&app).is_empty());
    clock.advance(DAY_MS);
    assert!(app.dispatcher.run_once().await.unwrap().is_empty(), "no new round for an uninstalled workspace");
    assert_eq!(scheduled_prompts(&app.db, &workspace).await.len(), 30);
}

/// A second workspace, asked every day at 10:00 UTC, whose one member is an emulator user
/// (the emulator speaks for one Slack team, so both workspaces go through it; this one's
/// messages land in UDEMO010's DM). Returns it and its member's id.
async fn second_workspace(db: &Db) -> (Team, String) {
    let other = Team::new(db, "Other").await;
    let member = other
        .member_row("Guest Star", "Visitor", |row| {
            row.slack_user_id = "UDEMO010".to_owned();
            row.time_zone = Some("UTC".to_owned());
        })
        .await;
    other.question("What is on your desk?").await;
    set_schedule(db, &other.workspace_id, &EVERY_DAY, "10:00", Cadence::Daily).await;
    (other, member)
}

async fn a_rate_limited_workspace_does_not_hold_up_another(db: TestDb) {
    let (app, clock, workspace) = one_big_round(&db).await;
    let (other, other_member) = second_workspace(&app.db).await;
    // The demo workspace is held by a 429 from a moment ago.
    workspaces::update_sending_paused_until(app.db.pool(), &workspace, clock.now_ms() + 30_000).await.unwrap();

    let report = app.dispatcher.run_once().await.unwrap();
    assert_eq!(report.len(), 1, "only the other workspace had a lane: {report:?}");
    assert_eq!((report[0].workspace_id.as_str(), report[0].sent), (other.workspace_id.as_str(), 1));
    let delivered: Vec<Prompt> = scheduled_prompts(&app.db, &other.workspace_id).await;
    assert_eq!((delivered[0].member_id.as_str(), delivered[0].status.as_str()), (other_member.as_str(), "sent"));
    assert!(scheduled_prompts(&app.db, &workspace).await.iter().all(|p| p.status == PromptStatus::Pending));
}

async fn a_new_member_gets_the_first_week_pack_and_one_meet_post(db: TestDb) {
    let (app, clock, workspace) = demo_at(&db, "2026-11-30T09:00:00Z").await;
    // Weekly on Mondays: a new member is still asked every day in their first week.
    set_schedule(&app.db, &workspace, &EVERY_DAY, "10:00", Cadence::Weekly).await;
    only_members(&app.db, &workspace, &[]).await;
    let user = app.emulator.join_user(EmulatedUser {
        id: "UNEWBIE1".into(),
        name: "Noor Haddad".into(),
        title: "Trail Designer".into(),
        time_zone: "UTC".into(),
        deleted: false,
        is_admin: false,
    });
    assert_eq!(app.deliver_event(DEMO_TEAM, "EvJoin1", json!({ "type": "team_join", "user": user })).await, 200);
    app.drain_inbox().await;
    assert!(
        app::server::db::members::find_by_slack_user_id(app.db.pool(), &workspace, "UNEWBIE1")
            .await
            .unwrap()
            .is_some_and(|m| m.welcome_until.is_some()),
        "the new member is welcomed"
    );

    // Tuesday and Wednesday 10:00: first-week questions, though the team is asked on Mondays.
    clock.set(at("2026-12-01T10:00:00Z"));
    app.dispatcher.run_once().await.unwrap();
    let newbie = member(&app.db, &workspace, "UNEWBIE1").await;
    let kind = |prompt: Prompt| {
        let db = app.db.clone();
        async move {
            let (kind,): (String,) =
                sqlx::query_as("SELECT k.kind FROM questions q JOIN packs k ON k.id = q.pack_id WHERE q.id = $1")
                    .bind(&prompt.question_id)
                    .fetch_one(db.pool())
                    .await
                    .unwrap();
            kind
        }
    };
    let tuesday = scheduled_prompts(&app.db, &workspace).await;
    assert_eq!(tuesday.len(), 1);
    assert_eq!(tuesday[0].member_id, newbie.id);
    assert_eq!(kind(tuesday[0].clone()).await, "first_week");

    // They answer in the DM: the sharing channel gets "Meet Noor" with the answer, once.
    let reply = |text: &str, ts: &str| {
        json!({ "type": "message", "channel": "DUNEWBIE1", "channel_type": "im", "user": "UNEWBIE1",
                "text": text, "ts": ts, "event_ts": ts })
    };
    assert_eq!(app.deliver_event(DEMO_TEAM, "EvAns1", reply("Maps and more maps", "1796112000.000100")).await, 200);
    let meet_posts = || {
        app.emulator
            .messages()
            .into_iter()
            .filter(|m| m.channel == "CSHARING01" && m.text.contains("Meet *Noor Haddad*"))
            .count()
    };
    app.drain_inbox().await;
    assert_eq!(meet_posts(), 1, "the Meet post is up");
    let meet = app.emulator.messages().into_iter().find(|m| m.text.contains("Meet *Noor Haddad*")).unwrap();
    assert!(meet.text.contains("Trail Designer") && meet.text.contains("Maps and more maps"), "{}", meet.text);
    let shared_separately = app
        .emulator
        .messages()
        .iter()
        .filter(|m| m.channel == "CSHARING01" && m.text.starts_with("*Noor Haddad* answered"))
        .count();
    assert_eq!(shared_separately, 0, "the Meet post carries the first answer");

    clock.set(at("2026-12-02T10:00:00Z"));
    app.dispatcher.run_once().await.unwrap();
    assert_eq!(app.deliver_event(DEMO_TEAM, "EvAns2", reply("Tea, always", "1796198400.000100")).await, 200);
    app.drain_inbox().await;
    assert!(
        app.emulator.messages().iter().any(|m| m.channel == "CSHARING01" && m.text.contains("Tea, always")),
        "the second answer is shared"
    );
    assert_eq!(meet_posts(), 1, "one Meet post per member");
    let wednesday = scheduled_prompts(&app.db, &workspace).await.remove(1);
    assert_eq!(kind(wednesday).await, "first_week");
}

async fn operators_see_the_next_round_and_the_last_rounds_counts(db: TestDb) {
    let (app, clock, workspace) = demo_at(&db, "2026-11-30T10:00:00Z").await;
    set_schedule(&app.db, &workspace, &["mon", "wed"], "10:00", Cadence::Daily).await;
    let zones = [("UDEMO001", "UTC"), ("UDEMO002", "UTC"), ("UDEMO003", "UTC"), ("UDEMO004", "UTC")];
    only_members(&app.db, &workspace, &zones).await;
    app.emulator.deactivate_user("UDEMO004");
    app.dispatcher.run_once().await.unwrap();
    // One answers, one skips, one leaves it open.
    let prompts = scheduled_prompts(&app.db, &workspace).await;
    let of = |user: &str| {
        let db = app.db.clone();
        let workspace = workspace.clone();
        let user = user.to_owned();
        let prompts = prompts.clone();
        async move {
            let member = member(&db, &workspace, &user).await;
            prompts.into_iter().find(|p| p.member_id == member.id).unwrap()
        }
    };
    prompts::update_status(app.db.pool(), &of("UDEMO001").await.id, PromptStatus::Sent, PromptStatus::Answered, 1)
        .await
        .unwrap();
    prompts::update_status(app.db.pool(), &of("UDEMO002").await.id, PromptStatus::Sent, PromptStatus::Skipped, 1)
        .await
        .unwrap();

    let overview = rounds::overview(&app.db, &workspace, clock.now_ms()).await.unwrap();
    assert_eq!(overview.next_round_at, Some(at("2026-12-02T10:00:00Z")));
    let last = overview.last_round.unwrap();
    assert_eq!(last.round_date, "2026-11-30");
    assert_eq!((last.due, last.answered, last.skipped, last.sent, last.waiting), (4, 1, 1, 1, 0));
    assert_eq!(last.failed, [("is_archived".to_owned(), 1)]);
}

async fn only_active_humans_who_want_questions_in_asking_workspaces_are_asked(db: TestDb) {
    let now = at("2026-11-30T10:00:00Z");
    let team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada", "Engineer").await;
    let back = team.member_row("Back from a pause", "", |m| m.paused_until = Some(now - 1)).await;
    let guest = team.member_row("Guest", "", |m| m.is_guest = true).await;
    team.member_row("A bot", "", |m| m.is_bot = true).await;
    team.member_row("Slackbot", "", |m| m.slack_user_id = "USLACKBOT".to_owned()).await;
    team.member_row("Deactivated", "", |m| m.is_deleted = true).await;
    team.member_row("Opted out", "", |m| m.is_opted_out = true).await;
    team.member_row("Paused", "", |m| m.paused_until = Some(now + DAY_MS)).await;
    team.member_row("Unreachable", "", |m| m.delivery_stopped_reason = Some("user_not_found".to_owned())).await;
    let askable = |include_guests: bool| {
        let db = db.db.clone();
        let workspace = team.workspace_id.clone();
        async move {
            let rows =
                app::server::db::members::list_askable(db.pool(), &workspace, include_guests, now).await.unwrap();
            let mut ids: Vec<String> = rows.into_iter().map(|row| row.member.id).collect();
            ids.sort();
            ids
        }
    };
    let mut expected = vec![ada.clone(), back.clone()];
    expected.sort();
    assert_eq!(askable(false).await, expected);
    expected.push(guest);
    expected.sort();
    assert_eq!(askable(true).await, expected, "guests are asked when the workspace includes them");

    // Workspaces: asked only when questions are on, installed, and Slack has not refused them.
    let asking =
        || async { workspaces::list_asking(db.db.pool()).await.unwrap().into_iter().map(|w| w.id).collect::<Vec<_>>() };
    assert!(asking().await.is_empty(), "a new workspace is off until its admin turns questions on");
    workspaces::update_asking(db.db.pool(), &team.workspace_id, true, false, now).await.unwrap();
    assert_eq!(asking().await, std::slice::from_ref(&team.workspace_id));
    workspaces::update_delivery_stopped(db.db.pool(), &team.workspace_id, "invalid_auth", now).await.unwrap();
    assert!(asking().await.is_empty());
    let row = workspaces::find(db.db.pool(), &team.workspace_id).await.unwrap().unwrap();
    sqlx::query("UPDATE workspaces SET delivery_stopped_reason = NULL WHERE id = $1")
        .bind(&row.id)
        .execute(db.db.pool())
        .await
        .unwrap();
    workspaces::update_uninstalled(db.db.pool(), &row.slack_team_id, now).await.unwrap();
    assert!(asking().await.is_empty(), "an uninstalled workspace is never asked");
}

async fn a_refused_token_stops_the_workspace_until_it_is_installed_again(db: TestDb) {
    let (app, clock, workspace) = one_big_round(&db).await;
    // The token was revoked on Slack's side: every call answers `invalid_auth`.
    let gateway = app.state.slack().unwrap().clone().with_fixed_token(Secret::new("xoxb-revoked"));
    let revoked = AppState::new(AppParts { slack: Some(gateway), ..AppParts::clone(&app.state) });
    let report = Dispatcher::new(revoked).run_once().await.unwrap();

    assert_eq!(report[0].sent, 0);
    // The claimed batch fails with the first refusal; the rest of the round is dropped with it.
    let batch = usize::try_from(BATCH).unwrap();
    assert_eq!(report[0].failed.get("invalid_auth"), Some(&batch), "{report:?}");
    let stopped = workspaces::find(app.db.pool(), &workspace).await.unwrap().unwrap();
    assert_eq!(stopped.delivery_stopped_reason.as_deref(), Some("invalid_auth"));
    let prompts = scheduled_prompts(&app.db, &workspace).await;
    assert!(
        prompts.iter().all(|p| p.status == PromptStatus::Failed && p.failure_reason.as_deref() == Some("invalid_auth"))
    );
    assert!(questions_posted(&app).is_empty());
    clock.advance(DAY_MS);
    assert!(app.dispatcher.run_once().await.unwrap().is_empty(), "a stopped workspace is not asked");

    // Installing again (a fresh token) lifts the stop.
    let install = workspaces::Installation {
        slack_team_id: stopped.slack_team_id.clone(),
        name: stopped.name.clone(),
        bot_user_id: stopped.bot_user_id.clone(),
        bot_token_ciphertext: None,
        installed_by_slack_user_id: None,
    };
    workspaces::upsert_installation(app.db.pool(), &install, &app::server::new_id(), clock.now_ms()).await.unwrap();
    let reinstalled = workspaces::find(app.db.pool(), &workspace).await.unwrap().unwrap();
    assert_eq!(reinstalled.delivery_stopped_reason, None);
}

async fn a_large_round_is_paced_to_the_workspaces_rate(db: TestDb) {
    let (app, clock, workspace) = one_big_round(&db).await;
    // 40 more people join the emulated workspace: 70 due at once.
    for n in 0..40 {
        let id = format!("UEXTRA{n:03}");
        app.emulator.join_user(EmulatedUser {
            id: id.clone(),
            name: format!("Extra {n}"),
            title: String::new(),
            time_zone: "UTC".into(),
            deleted: false,
            is_admin: false,
        });
        add_member(&app.db, &workspace, &format!("Extra {n}"), "", |row| {
            row.slack_user_id = id;
            row.time_zone = Some("UTC".into());
        })
        .await;
    }

    let first = app.dispatcher.run_once().await.unwrap();
    assert_eq!(first[0].sent, usize::try_from(SENDS_PER_MINUTE).unwrap(), "one minute's worth, not more");
    let waiting =
        scheduled_prompts(&app.db, &workspace).await.into_iter().filter(|p| p.status == PromptStatus::Pending).count();
    assert_eq!(waiting, 10);
    // Within the same minute nothing more goes out; once it has passed, the rest do.
    clock.advance(30_000);
    assert_eq!(app.dispatcher.run_once().await.unwrap()[0].sent, 0);
    clock.advance(31_000);
    assert_eq!(app.dispatcher.run_once().await.unwrap()[0].sent, 10);
    let posted = questions_posted(&app);
    assert_eq!(posted.len(), 70);
    assert!(posted.values().all(|count| *count == 1));
}

async fn a_fleet_s_round_begins_in_every_workspace_before_any_workspace_s_rest_is_planned(db: TestDb) {
    // The demo team's 30 and two teams of 100, all due at 10:00 UTC.
    let (app, clock, demo) = one_big_round(&db).await;
    let mut hundreds = Vec::new();
    for name in ["Second", "Third"] {
        let team = Team::new(&app.db, name).await;
        let rows: Vec<Member> = (0..100)
            .map(|number| {
                let mut row = unsaved_member(&team.workspace_id, &format!("Member {number}"), "");
                row.time_zone = Some("UTC".to_owned());
                row
            })
            .collect();
        members::insert_many(&mut app.db.pool().acquire().await.unwrap(), &rows).await.unwrap();
        team.question("What is on your desk?").await;
        set_schedule(&app.db, &team.workspace_id, &EVERY_DAY, "10:00", Cadence::Daily).await;
        hundreds.push(team.workspace_id);
    }

    let mut handed = Vec::new();
    rounds::plan_due_each(&app.state, clock.now_ms(), |one| handed.push((one.workspace_id, one.prompts)))
        .await
        .unwrap();

    // A workspace of 100 is handed over twice: the 40 whose questions set when its round can
    // end (its last 40 follow them a minute later), then the other 60. Every workspace's
    // first share comes before any workspace's rest; the demo's 30 fit in one sweep.
    let sweep = |share: usize| -> Vec<String> {
        handed
            .iter()
            .filter(|(id, planned)| hundreds.contains(id) && *planned == share)
            .map(|(id, _)| id.clone())
            .collect()
    };
    let (firsts, rests) = (sweep(40), sweep(60));
    assert_eq!((firsts.len(), rests.len(), handed.len()), (2, 2, 5), "{handed:?}");
    assert_eq!(firsts, rests, "the rest is planned in the same order");
    let last_first = handed.iter().rposition(|(id, planned)| hundreds.contains(id) && *planned == 40).unwrap();
    let first_rest = handed.iter().position(|(id, planned)| hundreds.contains(id) && *planned == 60).unwrap();
    assert!(last_first < first_rest, "{handed:?}");
    assert!(handed.iter().position(|entry| *entry == (demo.clone(), 30)).unwrap() < first_rest, "{handed:?}");

    // Everyone was planned once, and no workspace is due to be planned again this round.
    for (workspace, members) in [(&demo, 30), (&hundreds[0], 100), (&hundreds[1], 100)] {
        let planned = scheduled_prompts(&app.db, workspace).await;
        let distinct: std::collections::HashSet<&str> = planned.iter().map(|p| p.member_id.as_str()).collect();
        assert_eq!((planned.len(), distinct.len()), (members, members), "{workspace}");
    }
    assert_eq!(plannable(&app.db, clock.now_ms() + MINUTE_MS).await, Vec::<String>::new());
}

async fn a_slow_workspace_does_not_hold_up_another(db: TestDb) {
    let (app, _clock, workspace) = demo_at(&db, "2026-11-30T10:00:00Z").await;
    set_schedule(&app.db, &workspace, &EVERY_DAY, "10:00", Cadence::Daily).await;
    only_members(&app.db, &workspace, &[("UDEMO001", "UTC")]).await;
    // Slack answers the demo workspace's member only after two seconds.
    app.emulator.slow_down_channel("UDEMO001", std::time::Duration::from_secs(2));
    second_workspace(&app.db).await;

    let report = app.dispatcher.run_once().await.unwrap();
    assert_eq!(report.iter().map(|lane| lane.sent).sum::<usize>(), 2);
    // The other workspace's question went out while the slow one was still waiting on Slack.
    let channels: Vec<String> = app.emulator.messages().into_iter().map(|m| m.channel).collect();
    assert_eq!(channels, ["DUDEMO010", "DUDEMO001"]);
}

async fn a_member_slack_could_not_reach_is_asked_again_after_writing_to_rapport(db: TestDb) {
    let (app, clock, workspace) = demo_at(&db, "2026-11-30T09:00:00Z").await;
    set_schedule(&app.db, &workspace, &EVERY_DAY, "10:00", Cadence::Daily).await;
    only_members(&app.db, &workspace, &[("UDEMO003", "UTC")]).await;
    let unreachable = member(&app.db, &workspace, "UDEMO003").await;
    app::server::db::members::update_delivery_stopped(app.db.pool(), &unreachable.id, Some("channel_not_found"), 0)
        .await
        .unwrap();
    clock.set(at("2026-11-30T10:00:00Z"));
    app.dispatcher.run_once().await.unwrap();
    assert!(scheduled_prompts(&app.db, &workspace).await.is_empty(), "a stopped member is not asked");

    // They write to the bot: Slack reaches them after all.
    let hello = json!({ "type": "message", "channel": "DUDEMO003", "channel_type": "im", "user": "UDEMO003",
                        "text": "hello?", "ts": "1796032800.000100", "event_ts": "1796032800.000100" });
    assert_eq!(app.deliver_event(DEMO_TEAM, "EvHello", hello).await, 200);
    app.drain_inbox().await;
    assert!(member(&app.db, &workspace, "UDEMO003").await.delivery_stopped_reason.is_none(), "the stop is lifted");
    clock.set(at("2026-12-01T10:00:00Z"));
    let report = app.dispatcher.run_once().await.unwrap();
    assert_eq!(report[0].sent, 1);
}

/// A Rapport self-hosted on `db` at `clock` (`SLACK_BOT_TOKEN`), whose "Slack" is the
/// emulator of the app `slack`; delivery is left to the test. Not started yet.
async fn self_hosted(db: &TestDb, slack: &TestApp, clock: &ManualClock) -> server::startup::Application {
    let config = crate::helpers::self_hosted_config(db, slack);
    let app = server::startup::Application::build_with_clock(config, std::sync::Arc::new(clock.clone())).await.unwrap();
    assert!(app.emulator().is_none(), "a configured Slack turns the emulator off");
    app.without_background_dispatch()
}

/// Starts `app` (serving, and installing its workspace from the environment); returns its
/// dispatcher.
fn start_self_hosted(app: server::startup::Application) -> Dispatcher {
    let dispatcher = app.dispatcher().expect("Slack is configured").clone();
    tokio::spawn(app.run_until(std::future::pending()));
    dispatcher
}

/// The channels `slack`'s emulator received questions in, in order.
fn question_channels(slack: &TestApp) -> Vec<String> {
    let messages = slack.emulator.messages().into_iter();
    messages.filter(|m| m.metadata["event_type"] == blocks::QUESTION_METADATA_EVENT).map(|m| m.channel).collect()
}

async fn a_self_hosted_bot_token_sends_only_to_its_own_workspace(db: TestDb) {
    // Slack answers `auth.test` for the token with the demo team.
    let slack_stand_in = TestDb::sqlite().await;
    let slack = spawn_app(&slack_stand_in).await;
    let clock = ManualClock::new(at("2026-11-30T10:00:00Z"));
    let dispatcher = start_self_hosted(self_hosted(&db, &slack, &clock).await);
    eventually("the token's own workspace and its members are imported", || async {
        match workspaces::find_by_slack_team_id(db.db.pool(), DEMO_TEAM).await.unwrap() {
            Some(own) => {
                app::server::db::members::list_for_workspace(db.db.pool(), &own.id).await.unwrap().len()
                    == slack.emulator.users().len()
            }
            None => false,
        }
    })
    .await;
    let own = workspaces::find_by_slack_team_id(db.db.pool(), DEMO_TEAM).await.unwrap().unwrap().id;
    set_schedule(&db.db, &own, &EVERY_DAY, "10:00", Cadence::Daily).await;
    only_members(&db.db, &own, &[("UDEMO001", "UTC")]).await;
    // Another workspace in the same database (another team, no token of its own), whose
    // member is a user the token could reach: it is never written to with the token.
    let (other, _) = second_workspace(&db.db).await;

    let report = dispatcher.run_once().await.unwrap();

    let own_lane = report.iter().find(|lane| lane.workspace_id == own).unwrap();
    let other_lane = report.iter().find(|lane| lane.workspace_id == other.workspace_id).unwrap();
    assert_eq!(own_lane.sent, 1, "the token's own workspace is asked: {report:?}");
    assert_eq!(other_lane.sent, 0, "{report:?}");
    assert_eq!(other_lane.failed.get("SLACK_BOT_TOKEN belongs to another workspace"), Some(&1), "{report:?}");
    assert_eq!(question_channels(&slack), ["DUDEMO001"], "nothing reached the other workspace's member");
    let refused = scheduled_prompts(&db.db, &other.workspace_id).await;
    assert!(refused.iter().all(|p| p.status == PromptStatus::Failed), "{refused:?}");
}

async fn questions_wait_until_slack_confirms_whose_the_self_hosted_bot_token_is(db: TestDb) {
    let slack_stand_in = TestDb::sqlite().await;
    let slack = spawn_app(&slack_stand_in).await;
    // Slack fails the first `auth.test`; start-up asks again a few seconds later.
    slack.emulator.inject_fault("auth.test", Fault::ServerError, 1);
    let clock = ManualClock::new(at("2026-11-30T10:00:00Z"));
    let app = self_hosted(&db, &slack, &clock).await;
    // The workspace an earlier run installed, asking its one member at 10:00 UTC.
    let install = workspaces::Installation {
        slack_team_id: DEMO_TEAM.to_owned(),
        name: "Northwind Trails".to_owned(),
        bot_user_id: Some(server::emulator::BOT_USER_ID.to_owned()),
        bot_token_ciphertext: None,
        installed_by_slack_user_id: None,
    };
    let own = workspaces::upsert_installation(db.db.pool(), &install, &app::server::new_id(), clock.now_ms())
        .await
        .unwrap()
        .id;
    add_member(&db.db, &own, "Lena Hartmann", "Head of People Operations", |row| {
        row.slack_user_id = "UDEMO001".to_owned();
        row.time_zone = Some("UTC".to_owned());
    })
    .await;
    set_schedule(&db.db, &own, &EVERY_DAY, "10:00", Cadence::Daily).await;
    let dispatcher = start_self_hosted(app);

    let report = dispatcher.run_once().await.unwrap();

    assert_eq!((report[0].sent, report[0].retrying), (0, 1), "{report:?}");
    assert!(question_channels(&slack).is_empty(), "nothing is sent before Slack says whose the token is");
    let waiting = scheduled_prompts(&db.db, &own).await.remove(0);
    assert_eq!(waiting.status, PromptStatus::Pending, "the question waits; it does not fail");
    assert_eq!(waiting.attempts, 0);

    eventually("Slack answers auth.test and the members are imported", || async {
        app::server::db::members::list_for_workspace(db.db.pool(), &own).await.unwrap().len() > 1
    })
    .await;
    clock.advance(MINUTE_MS);
    dispatcher.run_once().await.unwrap();
    let sent = scheduled_prompts(&db.db, &own).await.into_iter().find(|p| p.id == waiting.id).unwrap();
    assert_eq!(sent.status, PromptStatus::Sent, "once confirmed, the token's own workspace is asked");
    assert_eq!(question_channels(&slack).iter().filter(|channel| *channel == "DUDEMO001").count(), 1);
}

/// When the workspace is next planned (`None`: at the next pass).
async fn plan_after(db: &Db, workspace_id: &str) -> Option<i64> {
    sqlx::query_scalar("SELECT plan_after FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn plannable(db: &Db, now_ms: i64) -> Vec<String> {
    workspaces::list_plannable(db.pool(), now_ms).await.unwrap()
}

#[tokio::test]
async fn a_pass_that_plans_a_large_round_refreshes_postgresqls_statistics_of_prompts_as_they_grow() {
    let Some(db) = TestDb::postgres().await else { return };
    let (app, _clock, workspace) = weekly_on_mondays(&db).await;
    // Where autovacuum runs, its own analysis of prompts during the pass would make one of
    // the pass's refreshes (which skip a table being analyzed) a no-op.
    sqlx::query("ALTER TABLE prompts SET (autovacuum_enabled = off)").execute(app.db.pool()).await.unwrap();
    let analyses = || async {
        let analyses: i64 =
            sqlx::query_scalar("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'prompts'")
                .fetch_one(app.db.pool())
                .await
                .unwrap();
        analyses
    };
    // A small round leaves the statistics to autovacuum.
    set_schedule(&app.db, &workspace, &EVERY_DAY, "12:00", Cadence::Daily).await;
    app.dispatcher.run_once().await.unwrap();
    assert_eq!(scheduled_prompts(&app.db, &workspace).await.len(), 1);
    assert_eq!(analyses().await, 0);

    // Three workspaces of a thousand due at once, planned in whatever order: their first
    // shares (40 each), then the rest one after another. A refresh once the pass has planned
    // a thousand (within the second sweep's first workspace), one at twice that many (its
    // third), none after.
    let thousand = |workspace_id: &str| {
        (0..rounds::MANY_PLANNED)
            .map(|number| {
                let mut row = unsaved_member(workspace_id, &format!("Member {number}"), "");
                row.time_zone = Some("UTC".to_owned());
                row
            })
            .collect::<Vec<_>>()
    };
    let others = [Team::new(&app.db, "Second").await, Team::new(&app.db, "Third").await];
    let mut conn = app.db.pool().acquire().await.unwrap();
    members::insert_many(&mut conn, &thousand(&workspace)).await.unwrap();
    for team in &others {
        members::insert_many(&mut conn, &thousand(&team.workspace_id)).await.unwrap();
    }
    drop(conn);
    for team in &others {
        team.question("What is on your desk?").await;
        set_schedule(&app.db, &team.workspace_id, &EVERY_DAY, "12:00", Cadence::Daily).await;
    }
    app.dispatcher.run_once().await.unwrap();

    let mut planned = vec![scheduled_prompts(&app.db, &workspace).await.len()];
    for team in &others {
        planned.push(scheduled_prompts(&app.db, &team.workspace_id).await.len());
    }
    assert_eq!(planned, [1 + rounds::MANY_PLANNED, rounds::MANY_PLANNED, rounds::MANY_PLANNED]);
    assert_eq!(analyses().await, 2, "analyzed at {} prompts and at twice as many, not after", rounds::MANY_PLANNED);
}

/// The demo team on Wednesday 2026-12-02 at noon, asking weekly on Mondays at 10:00, with
/// one member (in UTC) who has no question open.
async fn weekly_on_mondays(db: &TestDb) -> (TestApp, ManualClock, String) {
    let (app, clock, workspace) = demo_at(db, "2026-12-02T12:00:00Z").await;
    set_schedule(&app.db, &workspace, &["mon"], "10:00", Cadence::Weekly).await;
    only_members(&app.db, &workspace, &[("UDEMO001", "UTC")]).await;
    sqlx::query("UPDATE prompts SET status = 'expired' WHERE status IN ('pending', 'in_flight', 'sent')")
        .execute(app.db.pool())
        .await
        .unwrap();
    (app, clock, workspace)
}

async fn a_workspace_with_nothing_due_is_not_planned_again_until_its_next_slot(db: TestDb) {
    let (app, clock, workspace) = weekly_on_mondays(&db).await;
    assert_eq!(plan_after(&app.db, &workspace).await, None, "changed since it was last planned");
    app.dispatcher.run_once().await.unwrap();

    // Monday is days away: the plan holds for the safety net's hour (a little less).
    let revisit = clock.now_ms() + rounds::replan_within(&workspace);
    assert!(revisit > clock.now_ms() + rounds::REPLAN_AT_LEAST_EVERY_MS * 3 / 4);
    assert_eq!(plan_after(&app.db, &workspace).await, Some(revisit));
    assert!(!plannable(&app.db, clock.now_ms()).await.contains(&workspace));
    assert!(!plannable(&app.db, revisit - 1).await.contains(&workspace));
    assert!(plannable(&app.db, revisit).await.contains(&workspace));

    // A slot within the hour is the plan.
    set_schedule(&app.db, &workspace, &EVERY_DAY, "12:30", Cadence::Daily).await;
    app.dispatcher.run_once().await.unwrap();
    let half_past = at("2026-12-02T12:30:00Z");
    assert_eq!(plan_after(&app.db, &workspace).await, Some(half_past));
    assert!(scheduled_prompts(&app.db, &workspace).await.is_empty());

    // Passes until then leave it alone, and at its slot the member is asked.
    run_until(&app, &clock, half_past + 5 * MINUTE_MS, 10 * MINUTE_MS).await;
    let asked = scheduled_prompts(&app.db, &workspace).await;
    assert_eq!(asked.iter().map(|p| p.round_date.as_deref()).collect::<Vec<_>>(), [Some("2026-12-02")]);
    assert!(plan_after(&app.db, &workspace).await.is_some_and(|at| at > half_past));
}

async fn every_change_that_may_make_someone_due_has_the_workspace_planned_again(db: TestDb) {
    let (app, _clock, workspace) = weekly_on_mondays(&db).await;
    let member = member(&app.db, &workspace, "UDEMO001").await;
    let prompt = prompts::list_for_workspace(app.db.pool(), &workspace).await.unwrap();
    let prompt = prompt.into_iter().find(|p| p.member_id == member.id).expect("the demo member was asked before");
    let mut changes: Vec<(&str, String, String)> = vec![
        (
            "a member joins",
            "INSERT INTO members (id, workspace_id, slack_user_id, name, title, avatar_url, created_at, updated_at) \
          VALUES ('m-new', $1, 'UNEW', 'New', '', '', 0, 0)"
                .to_owned(),
            workspace.clone(),
        ),
        (
            "a member's time zone",
            "UPDATE members SET time_zone = 'Asia/Tokyo' WHERE id = $1".to_owned(),
            member.id.clone(),
        ),
        ("a member pauses", "UPDATE members SET paused_until = 1 WHERE id = $1".to_owned(), member.id.clone()),
        (
            "a member opts in",
            "UPDATE members SET is_opted_out = 0 WHERE workspace_id = $1".to_owned(),
            workspace.clone(),
        ),
        ("a first week", "UPDATE members SET welcome_until = 1 WHERE id = $1".to_owned(), member.id.clone()),
        (
            "the schedule",
            "UPDATE schedules SET local_minute = 540 WHERE workspace_id = $1".to_owned(),
            workspace.clone(),
        ),
        ("guests in", "UPDATE workspaces SET include_guests = 1 WHERE id = $1".to_owned(), workspace.clone()),
        (
            "the default time zone",
            "UPDATE workspaces SET default_time_zone = 'Asia/Tokyo' WHERE id = $1".to_owned(),
            workspace.clone(),
        ),
        (
            "billing",
            "INSERT INTO billing_accounts (workspace_id, created_at, updated_at) VALUES ($1, 0, 0)".to_owned(),
            workspace.clone(),
        ),
        (
            "billing again",
            "UPDATE billing_accounts SET trial_ends_at = 1 WHERE workspace_id = $1".to_owned(),
            workspace.clone(),
        ),
    ];
    sqlx::query("UPDATE prompts SET status = 'sent' WHERE id = $1")
        .bind(&prompt.id)
        .execute(app.db.pool())
        .await
        .unwrap();
    changes.push((
        "an open question closes",
        "UPDATE prompts SET status = 'answered' WHERE id = $1".to_owned(),
        prompt.id,
    ));
    sqlx::query("DELETE FROM billing_accounts WHERE workspace_id = $1")
        .bind(&workspace)
        .execute(app.db.pool())
        .await
        .unwrap();
    for (change, statement, bound) in changes {
        let changes_now: i64 = sqlx::query_scalar("SELECT plan_changes FROM workspaces WHERE id = $1")
            .bind(&workspace)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        assert!(workspaces::set_plan_after(app.db.pool(), &workspace, changes_now, i64::MAX).await.unwrap());
        assert_eq!(plan_after(&app.db, &workspace).await, Some(i64::MAX));
        sqlx::query(&statement).bind(&bound).execute(app.db.pool()).await.unwrap();
        assert_eq!(plan_after(&app.db, &workspace).await, None, "{change} did not clear the plan");
    }

    // Changes that cannot make anyone due leave the plan alone.
    assert!(
        workspaces::set_plan_after(app.db.pool(), &workspace, plan_changes(&app.db, &workspace).await, 42)
            .await
            .unwrap()
    );
    for statement in [
        "UPDATE members SET dm_channel_id = 'D1' WHERE workspace_id = $1",
        "UPDATE members SET time_zone = time_zone, is_bot = is_bot WHERE workspace_id = $1",
        "UPDATE workspaces SET include_guests = include_guests WHERE id = $1",
        "UPDATE workspaces SET sharing_channel_id = 'C1' WHERE id = $1",
        "UPDATE prompts SET attempts = attempts + 1 WHERE workspace_id = $1",
    ] {
        sqlx::query(statement).bind(&workspace).execute(app.db.pool()).await.unwrap();
        assert_eq!(plan_after(&app.db, &workspace).await, Some(42), "{statement}");
    }
}

async fn plan_changes(db: &Db, workspace_id: &str) -> i64 {
    sqlx::query_scalar("SELECT plan_changes FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn a_change_made_while_a_workspace_is_planned_is_not_overwritten(db: TestDb) {
    let (app, clock, workspace) = weekly_on_mondays(&db).await;
    let now = clock.now_ms();
    // Settings changed after the pass listed the workspace are the ones it plans with.
    sqlx::query("UPDATE workspaces SET include_guests = 1 WHERE id = $1")
        .bind(&workspace)
        .execute(app.db.pool())
        .await
        .unwrap();
    let claimed = workspaces::claim_planning(app.db.pool(), &workspace, now, now + MINUTE_MS).await.unwrap();
    let claimed = claimed.expect("due, so claimed");
    assert!(claimed.workspace.include_guests, "the claim reads the workspace as it is now");
    let seen = claimed.plan_changes;
    assert_eq!(plan_after(&app.db, &workspace).await, Some(now + MINUTE_MS), "held while planned");
    assert_eq!(
        workspaces::claim_planning(app.db.pool(), &workspace, now, now + MINUTE_MS).await.unwrap(),
        None,
        "a second planner keeps off"
    );
    // The schedule changes while the planner works from what it read.
    set_schedule(&app.db, &workspace, &EVERY_DAY, "13:00", Cadence::Daily).await;
    assert!(!workspaces::set_plan_after(app.db.pool(), &workspace, seen, at("2026-12-07T10:00:00Z")).await.unwrap());
    assert_eq!(plan_after(&app.db, &workspace).await, None);
    assert!(plannable(&app.db, now).await.contains(&workspace));
}

async fn a_schedule_changed_after_the_workspace_was_put_off_is_asked_at_its_new_time(db: TestDb) {
    let (app, clock, workspace) = weekly_on_mondays(&db).await;
    app.dispatcher.run_once().await.unwrap();
    let put_off = plan_after(&app.db, &workspace).await.unwrap();
    assert!(put_off > at("2026-12-02T12:30:00Z"), "put off for most of an hour");

    // Daily at 12:20 from now: the member is asked at 12:20, not at the next visit.
    set_schedule(&app.db, &workspace, &EVERY_DAY, "12:20", Cadence::Daily).await;
    run_until(&app, &clock, at("2026-12-02T12:25:00Z"), 5 * MINUTE_MS).await;
    let asked = scheduled_prompts(&app.db, &workspace).await;
    assert_eq!(asked.iter().map(|p| p.round_date.as_deref()).collect::<Vec<_>>(), [Some("2026-12-02")]);
    assert_eq!(asked[0].due_at, at("2026-12-02T12:20:00Z"));
}

async fn many_changes_in_one_transaction_clear_the_plan_once(db: TestDb) {
    let (app, _clock, workspace) = weekly_on_mondays(&db).await;
    let before = plan_changes(&app.db, &workspace).await;
    assert!(workspaces::set_plan_after(app.db.pool(), &workspace, before, i64::MAX).await.unwrap());

    let mut tx = app.db.begin_write().await.unwrap();
    for number in 0..50 {
        sqlx::query(
            "INSERT INTO members (id, workspace_id, slack_user_id, name, title, avatar_url, created_at, updated_at)
             VALUES ($1, $2, $3, 'New', '', '', 0, 0)",
        )
        .bind(format!("m-new-{number}"))
        .bind(&workspace)
        .bind(format!("UNEW{number}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    assert_eq!(plan_after(&app.db, &workspace).await, None);
    assert_eq!(plan_changes(&app.db, &workspace).await, before + 1, "the workspace row was written once");
}
