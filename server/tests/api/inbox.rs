//! The inbox: what Slack sends is recorded before it is acknowledged and processed afterwards,
//! one item at a time per workspace, across restarts and instances, with retries; a replayed
//! request is ignored. First the repository's claim rules, then the running app.

use std::{sync::Arc, time::Duration};

use app::server::{
    AppParts, AppState,
    clock::{Clock as _, ManualClock, SharedClock, SystemClock},
    db::{
        Backend, Db,
        inbox::{self, Item, ItemState, NewItem, Source},
        members::{self, Member},
        workspaces,
    },
    now_ms,
    secret::Secret,
    services,
    slack::SlackGateway,
    tasks::Tasks,
};
use axum::{Json, Router, extract::State, routing::post};
use serde_json::{Value, json};
use server::{
    demo,
    emulator::{Emulator, Fault},
    slack::verify::{SigningSecret, sign},
    startup::Application,
};

use crate::helpers::{
    DEMO_TEAM, Logs, SIGNING_SECRET, Team, TestApp, TestDb, eventually, new_trigger_id, spawn_app, test_config,
};

const MEMBER: &str = "UDEMO005";
/// What Rapport answers a DM when no question waits for the member.
const HINT: &str = "don't have a question waiting";

on_both_backends!(
    a_claim_hands_out_only_the_oldest_unfinished_item_of_each_key,
    a_claim_hands_one_worker_a_run_of_each_key_and_nobody_else_any_of_it,
    the_items_of_a_run_are_marked_processed_together_and_only_by_their_holder,
    an_item_waiting_for_a_retry_holds_back_only_the_later_items_of_its_key,
    a_key_ready_behind_a_long_backlog_of_waiting_keys_is_still_claimed,
    a_batch_records_each_id_once_and_says_which_were_new,
    the_writer_records_a_delivery_sent_twice_at_once_once,
    an_item_given_up_lets_the_next_item_of_its_key_run,
    an_expired_lease_passes_the_item_to_another_worker_and_the_first_can_no_longer_write_it,
    a_backlog_left_by_a_stopped_process_is_all_processed_after_a_restart,
    two_instances_on_one_database_run_each_event_once_and_in_order_per_workspace,
    a_replayed_slash_command_or_button_press_changes_nothing,
    a_failing_event_is_retried_with_growing_waits_then_given_up_and_holds_back_only_its_workspace,
    an_event_that_can_never_work_is_given_up_at_once_and_its_workspace_goes_on,
    a_run_records_what_it_processed_before_a_failing_event_and_gives_back_the_rest,
    a_run_keeps_the_events_it_processed_in_hand_until_it_ends,
    a_shutdown_mid_run_records_what_the_run_processed_and_gives_back_the_rest,
    a_run_that_cannot_renew_its_lease_records_what_it_processed_and_stops,
    a_slow_workspace_does_not_hold_back_another_workspaces_events,
);

// The repository: which items a claim hands out, and to whom.

/// When the repository tests' items arrive (Unix ms).
const T0: i64 = 1_790_000_000_000;
/// How long the repository tests' claims hold an item.
const LEASE: i64 = 60_000;

/// Records an event for ordering key `key`, arrived at [`T0`].
async fn record(db: &TestDb, external_id: &str, key: &str) {
    let item = NewItem { source: Source::SlackEvent, external_id, ordering_key: key, kind: "team_join", payload: "{}" };
    assert!(inbox::insert_if_new(db.db.pool(), &item, T0).await.unwrap());
}

/// What `worker` is handed at `now`, held for [`LEASE`], one item per key.
async fn claim_at(db: &TestDb, worker: &str, now: i64) -> Vec<Item> {
    inbox::claim(&db.db, worker, now, now + LEASE, 10, 1).await.unwrap()
}

fn ids(items: &[Item]) -> Vec<&str> {
    items.iter().map(|item| item.external_id.as_str()).collect()
}

/// The row id of the claimed item `external_id`.
fn id_of(items: &[Item], external_id: &str) -> i64 {
    items.iter().find(|item| item.external_id == external_id).unwrap().id
}

async fn a_claim_hands_out_only_the_oldest_unfinished_item_of_each_key(db: TestDb) {
    let pool = db.db.pool();
    for (id, key) in [("A1", "A"), ("A2", "A"), ("A3", "A"), ("B1", "B")] {
        record(&db, id, key).await;
    }

    let first = claim_at(&db, "worker", T0).await;
    let while_held = claim_at(&db, "worker", T0).await;
    assert_eq!(inbox::update_processed(pool, &[id_of(&first, "A1")], "worker", T0 + 1).await.unwrap(), 1);
    let after_a1 = claim_at(&db, "worker", T0 + 1).await;

    assert_eq!(ids(&first), ["A1", "B1"]);
    assert!(while_held.is_empty(), "A's later items wait while A1 is in hand: {:?}", ids(&while_held));
    assert_eq!(ids(&after_a1), ["A2"]);
}

async fn a_claim_hands_one_worker_a_run_of_each_key_and_nobody_else_any_of_it(db: TestDb) {
    let pool = db.db.pool();
    for (id, key) in [("A1", "A"), ("A2", "A"), ("A3", "A"), ("B1", "B")] {
        record(&db, id, key).await;
    }

    let runs = inbox::claim(&db.db, "first", T0, T0 + LEASE, 10, 2).await.unwrap();
    let second_meanwhile = inbox::claim(&db.db, "second", T0, T0 + LEASE, 10, 2).await.unwrap();
    assert_eq!(inbox::update_processed(pool, &[id_of(&runs, "A1")], "first", T0 + 1).await.unwrap(), 1);
    let after_a1 = inbox::claim(&db.db, "second", T0 + 1, T0 + LEASE, 10, 2).await.unwrap();
    assert_eq!(inbox::update_processed(pool, &[id_of(&runs, "A2")], "first", T0 + 2).await.unwrap(), 1);
    let after_the_run = inbox::claim(&db.db, "second", T0 + 2, T0 + LEASE, 10, 2).await.unwrap();

    assert_eq!(ids(&runs), ["A1", "A2", "B1"], "two of A, in order, and B's one");
    assert!(second_meanwhile.is_empty(), "{:?}", ids(&second_meanwhile));
    assert!(after_a1.is_empty(), "A2 is still the first worker's: {:?}", ids(&after_a1));
    assert_eq!(ids(&after_the_run), ["A3"]);
}

/// A worker records a run's processed items in one statement: only those its claim still
/// holds, each once, and the key's next items are free again after it.
async fn the_items_of_a_run_are_marked_processed_together_and_only_by_their_holder(db: TestDb) {
    let pool = db.db.pool();
    for (id, key) in [("A1", "A"), ("A2", "A"), ("A3", "A"), ("B1", "B")] {
        record(&db, id, key).await;
    }
    let runs = inbox::claim(&db.db, "first", T0, T0 + LEASE, 10, 2).await.unwrap();
    let run = [id_of(&runs, "A1"), id_of(&runs, "A2"), id_of(&runs, "B1")];

    let by_another = inbox::update_processed(pool, &run, "second", T0 + 1).await.unwrap();
    let by_the_holder = inbox::update_processed(pool, &run, "first", T0 + 1).await.unwrap();
    let again = inbox::update_processed(pool, &run, "first", T0 + 2).await.unwrap();
    let next = claim_at(&db, "second", T0 + 2).await;

    assert_eq!((by_another, by_the_holder, again), (0, 3, 0));
    assert_eq!(ids(&next), ["A3"]);
    for id in ["A1", "A2", "B1"] {
        let marked = inbox::find_state(pool, Source::SlackEvent, id).await.unwrap().unwrap();
        assert_eq!((marked.processed_at, marked.payload.as_str()), (Some(T0 + 1), ""), "{id}");
    }
}

/// The writer records many deliveries in one statement: one already recorded, or in the
/// batch twice, is kept once and reported as not new.
async fn a_batch_records_each_id_once_and_says_which_were_new(db: TestDb) {
    record(&db, "E1", "A").await;
    let item = |external_id| NewItem {
        source: Source::SlackEvent,
        external_id,
        ordering_key: "A",
        kind: "message",
        payload: "{}",
    };
    let batch = [(item("E1"), T0), (item("E2"), T0), (item("E3"), T0), (item("E2"), T0)];

    let new = inbox::insert_many_if_new(db.db.pool(), &batch).await.unwrap();

    let mut new: Vec<&str> = new.iter().map(|(_, id)| id.as_str()).collect();
    new.sort_unstable();
    assert_eq!(new, ["E2", "E3"]);
    let stored: Vec<(String,)> =
        sqlx::query_as("SELECT external_id FROM inbox ORDER BY id").fetch_all(db.db.pool()).await.unwrap();
    assert_eq!(stored.iter().map(|(id,)| id.as_str()).collect::<Vec<_>>(), ["E1", "E2", "E3"]);
}

/// Through the writer, as requests record: the same delivery twice at once is stored once,
/// and only one of the two hears it was new.
async fn the_writer_records_a_delivery_sent_twice_at_once_once(db: TestDb) {
    let writer = app::server::inbox_writer::InboxWriter::start(db.db.clone(), app::server::tasks::Tasks::default());
    let item =
        NewItem { source: Source::SlackEvent, external_id: "E1", ordering_key: "A", kind: "message", payload: "{}" };

    let (first, second) = tokio::join!(writer.record(&item, T0), writer.record(&item, T0));

    let mut new = [first.unwrap(), second.unwrap()];
    new.sort_unstable();
    assert_eq!(new, [false, true]);
    assert_eq!(inbox::count_unfinished(db.db.pool()).await.unwrap(), 1);
}

/// A claim looks for keys among the oldest open items first; when every key there waits (a
/// workspace whose Slack is down, with hundreds of events behind its first), a key further
/// back still runs.
async fn a_key_ready_behind_a_long_backlog_of_waiting_keys_is_still_claimed(db: TestDb) {
    let pool = db.db.pool();
    for n in 0..300 {
        record(&db, &format!("A{n}"), "A").await;
    }
    record(&db, "B1", "B").await;
    let first = inbox::claim(&db.db, "worker", T0, T0 + LEASE, 1, 1).await.unwrap();
    assert_eq!(ids(&first), ["A0"]);
    assert!(inbox::update_retry(pool, id_of(&first, "A0"), "worker", T0 + 30_000, "Slack was down").await.unwrap());

    let while_a_waits = inbox::claim(&db.db, "worker", T0 + 1, T0 + LEASE, 1, 1).await.unwrap();

    assert_eq!(ids(&while_a_waits), ["B1"], "B's only item lies behind 300 of A's");
}

async fn an_item_waiting_for_a_retry_holds_back_only_the_later_items_of_its_key(db: TestDb) {
    let pool = db.db.pool();
    for (id, key) in [("A1", "A"), ("A2", "A"), ("B1", "B"), ("B2", "B")] {
        record(&db, id, key).await;
    }
    let first = claim_at(&db, "worker", T0).await;
    let retry_at = T0 + 30_000;

    assert!(inbox::update_retry(pool, id_of(&first, "A1"), "worker", retry_at, "Slack was down").await.unwrap());
    assert_eq!(inbox::update_processed(pool, &[id_of(&first, "B1")], "worker", T0).await.unwrap(), 1);
    let meanwhile = claim_at(&db, "worker", T0 + 1).await;
    let when_due = claim_at(&db, "worker", retry_at).await;

    assert_eq!(ids(&meanwhile), ["B2"], "A2 stays behind A1; B goes on");
    assert_eq!(ids(&when_due), ["A1"], "A1 again (A2 still behind it; B2 is in hand)");
    assert_eq!(when_due[0].attempts, 1);
}

async fn an_item_given_up_lets_the_next_item_of_its_key_run(db: TestDb) {
    let pool = db.db.pool();
    record(&db, "A1", "A").await;
    record(&db, "A2", "A").await;
    let first = claim_at(&db, "worker", T0).await;

    assert!(inbox::update_gave_up(pool, id_of(&first, "A1"), "worker", "no such workspace", T0).await.unwrap());
    let next = claim_at(&db, "worker", T0).await;

    assert_eq!(ids(&next), ["A2"]);
    let given_up = inbox::find_state(pool, Source::SlackEvent, "A1").await.unwrap().unwrap();
    assert_eq!((given_up.attempts, given_up.gave_up_at, given_up.processed_at), (1, Some(T0), None));
    assert_eq!(given_up.last_error.as_deref(), Some("no such workspace"));
    assert_eq!(inbox::count_unfinished(pool).await.unwrap(), 1, "a given-up item is finished");
}

async fn an_expired_lease_passes_the_item_to_another_worker_and_the_first_can_no_longer_write_it(db: TestDb) {
    let pool = db.db.pool();
    record(&db, "A1", "A").await;
    record(&db, "B1", "B").await;
    let held = claim_at(&db, "first", T0).await;
    assert_eq!(ids(&held), ["A1", "B1"]);
    let a1 = id_of(&held, "A1");
    assert_eq!(inbox::update_processed(pool, &[id_of(&held, "B1")], "first", T0).await.unwrap(), 1);
    record(&db, "B2", "B").await;

    let during_lease = claim_at(&db, "second", T0 + 1).await;
    let as_lease_ends = claim_at(&db, "second", T0 + LEASE).await;
    let after_lease = claim_at(&db, "second", T0 + LEASE + 1).await;

    assert_eq!(ids(&during_lease), ["B2"], "only the key nobody holds");
    assert!(as_lease_ends.is_empty(), "still held at the last moment of the lease");
    assert_eq!(ids(&after_lease), ["A1"]);
    assert_eq!(after_lease[0].claimed_by, "second");
    // The first worker wakes from a long pause: whatever it records now changes nothing.
    let late = T0 + LEASE + 2;
    assert_eq!(inbox::update_processed(pool, &[a1], "first", late).await.unwrap(), 0);
    assert!(!inbox::update_retry(pool, a1, "first", late + 5_000, "late").await.unwrap());
    assert!(!inbox::update_gave_up(pool, a1, "first", "late", late).await.unwrap());
    let untouched = inbox::find_state(pool, Source::SlackEvent, "A1").await.unwrap().unwrap();
    assert_eq!((untouched.attempts, untouched.processed_at, untouched.gave_up_at), (0, None, None));
    assert_eq!(untouched.last_error, None);
    assert_eq!(inbox::update_processed(pool, &[a1], "second", late).await.unwrap(), 1, "the new holder can");
}

// The running app: instances that start, stop and share one database.

/// Whether an instance runs the inbox worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Worker {
    On,
    Off,
}

/// Starts one running process of a deploy on `db` and `clock` as `spawn_app` does, on its own
/// port with the Slack emulator, planning no rounds of its own, with or without the inbox
/// worker. `shut_down` stops it as a deploy does.
async fn start(db: &TestDb, clock: SharedClock, worker: Worker) -> TestApp {
    let config = test_config(db);
    let mut application = Application::build_with_clock(config, clock).await.unwrap().without_background_dispatch();
    if worker == Worker::Off {
        application = application.without_inbox_worker();
    }
    TestApp::from_application(application)
}

/// Another installed workspace beside the demo team; returns its Slack team id.
async fn another_workspace(db: &TestDb, name: &str) -> String {
    let team = Team::new(&db.db, name).await;
    workspaces::find(db.db.pool(), &team.workspace_id).await.unwrap().unwrap().slack_team_id
}

/// The member with Slack id `user_id` in the workspace of Slack team `team_id`, if any.
async fn member(db: &Db, team_id: &str, user_id: &str) -> Option<Member> {
    let workspace = workspaces::find_by_slack_team_id(db.pool(), team_id).await.unwrap().unwrap();
    members::find_by_slack_user_id(db.pool(), &workspace.id, user_id).await.unwrap()
}

/// Waits until nothing is left to process, without running anything itself: what gets
/// processed is the workers' doing.
async fn until_inbox_is_empty(db: &Db, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = inbox::count_unfinished(db.pool()).await.unwrap();
        if left == 0 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{left} inbox items were still unprocessed after {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A Slack user object as `team_join` and `user_change` carry it.
fn slack_user(id: &str, title: &str) -> Value {
    json!({ "id": id, "name": id.to_lowercase(), "tz": "Europe/Lisbon", "deleted": false,
            "profile": { "real_name": format!("Person {id}"), "title": title } })
}

fn team_join(user_id: &str, title: &str) -> Value {
    json!({ "type": "team_join", "user": slack_user(user_id, title) })
}

fn user_change(user_id: &str, title: &str, step: usize) -> Value {
    json!({ "type": "user_change", "user": slack_user(user_id, title), "event_ts": step.to_string(), "cache_ts": step })
}

fn dm(user: &str, text: &str) -> Value {
    json!({ "type": "message", "channel": format!("D{user}"), "channel_type": "im", "user": user,
            "text": text, "ts": "1790000000.000200", "event_ts": "1790000000.000200" })
}

/// How many times the emulator's workspace was told no question waits.
fn hints(emulator: &Emulator) -> usize {
    emulator.messages().iter().filter(|message| message.text.contains(HINT)).count()
}

/// More events than one claim hands out (40 for each of four workspaces, and a claim takes
/// a run of at most `RUN` of each): the backlog takes several claims.
const BACKLOG: usize = 160;
const _: () = assert!(BACKLOG / 4 > services::inbox::RUN as usize);

async fn a_backlog_left_by_a_stopped_process_is_all_processed_after_a_restart(db: TestDb) {
    let clock = ManualClock::new(now_ms());
    demo::seed(&db.db, clock.now_ms()).await.unwrap();
    let mut teams = vec![DEMO_TEAM.to_owned()];
    for name in ["Acme", "Globex", "Initech"] {
        teams.push(another_workspace(&db, name).await);
    }
    let newcomers: Vec<(String, String)> =
        (0..BACKLOG).map(|n| (teams[n % teams.len()].clone(), format!("UNEW{n:03}"))).collect();
    let first = start(&db, Arc::new(clock.clone()), Worker::Off).await;
    for (n, (team, user)) in newcomers.iter().enumerate() {
        assert_eq!(first.deliver_event(team, &format!("EvBacklog{n:03}"), team_join(user, "Newcomer")).await, 200);
    }
    // A worker was killed mid-item: the first two workspaces' oldest events stay claimed.
    let now = clock.now_ms();
    let lease = services::inbox::LEASE_MS;
    let killed = inbox::claim(&db.db, "killed-worker", now, now + lease, 2, 1).await.unwrap();
    assert_eq!(killed.len(), 2);
    assert_eq!(inbox::count_unfinished(db.db.pool()).await.unwrap(), i64::try_from(BACKLOG).unwrap());
    for (team, user) in &newcomers {
        assert!(member(&db.db, team, user).await.is_none(), "recorded, not yet processed: {user}");
    }

    first.shut_down().await;
    clock.advance(lease + 1);
    let second = start(&db, Arc::new(clock.clone()), Worker::On).await;
    until_inbox_is_empty(&db.db, Duration::from_secs(20)).await;

    for (team, user) in &newcomers {
        assert!(member(&db.db, team, user).await.is_some(), "{user} joined {team}");
    }
    let (processed,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM inbox WHERE processed_at IS NOT NULL")
        .fetch_one(db.db.pool())
        .await
        .unwrap();
    assert_eq!(processed, i64::try_from(BACKLOG).unwrap());
    second.shut_down().await;
}

async fn two_instances_on_one_database_run_each_event_once_and_in_order_per_workspace(db: TestDb) {
    const STEPS: usize = 10;
    demo::seed(&db.db, now_ms()).await.unwrap();
    let acme = another_workspace(&db, "Acme").await;
    let one = start(&db, Arc::new(SystemClock), Worker::On).await;
    let other = start(&db, Arc::new(SystemClock), Worker::On).await;
    // So that each DM gets the hint.
    one.clear_open_question(&one.demo_member(MEMBER).await).await;
    let instances = [one, other];

    // Each instance receives every other event of each workspace.
    for step in 1..=STEPS {
        let (this, that) = (&instances[step % 2], &instances[(step + 1) % 2]);
        let title = format!("t{step}");
        let change = if step == 1 { team_join("UORDER", &title) } else { user_change("UORDER", &title, step) };
        assert_eq!(this.deliver_event(&acme, &format!("EvTitle{step:02}"), change).await, 200);
        assert_eq!(that.deliver_event(DEMO_TEAM, &format!("EvHello{step:02}"), dm(MEMBER, "hello there")).await, 200);
    }
    until_inbox_is_empty(&db.db, Duration::from_secs(20)).await;

    assert_eq!(member(&db.db, &acme, "UORDER").await.unwrap().title, format!("t{STEPS}"));
    let rows: Vec<(String, Option<i64>, i64)> = sqlx::query_as(
        "SELECT ordering_key, processed_at, attempts FROM inbox WHERE source = 'slack_event' ORDER BY id",
    )
    .fetch_all(db.db.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 2 * STEPS);
    assert!(rows.iter().all(|(_, processed_at, attempts)| processed_at.is_some() && *attempts == 0), "{rows:?}");
    for key in [format!("slack:{acme}"), format!("slack:{DEMO_TEAM}")] {
        let finished: Vec<Option<i64>> = rows.iter().filter(|row| row.0 == key).map(|row| row.1).collect();
        assert!(finished.is_sorted(), "{key} finished in arrival order: {finished:?}");
    }
    let answered: usize = instances.iter().map(|instance| hints(&instance.emulator)).sum();
    assert_eq!(answered, STEPS, "each DM was answered once, by one instance or the other");
}

/// A request signed as Slack signs it, once: sending it again is a byte-identical replay,
/// within the five minutes its signature is accepted.
struct SignedRequest {
    path: &'static str,
    body: String,
    timestamp: String,
    signature: String,
}

impl SignedRequest {
    fn new(path: &'static str, body: String) -> SignedRequest {
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let signature = sign(&SigningSecret::new(SIGNING_SECRET), &timestamp, body.as_bytes());
        SignedRequest { path, body, timestamp, signature }
    }

    /// `/rapport <text>`, typed by a member of the demo team.
    fn command(user_id: &str, text: &str) -> SignedRequest {
        let trigger_id = new_trigger_id();
        let body = serde_urlencoded::to_string([
            ("token", "unused"),
            ("team_id", DEMO_TEAM),
            ("channel_id", "CGENERAL01"),
            ("user_id", user_id),
            ("command", "/rapport"),
            ("text", text),
            ("response_url", "http://127.0.0.1:9/unused"),
            ("trigger_id", trigger_id.as_str()),
        ])
        .unwrap();
        SignedRequest::new("/slack/commands", body)
    }

    /// A member of the demo team pressing an App Home button.
    fn press(user_id: &str, action_id: &str) -> SignedRequest {
        let payload = json!({
            "type": "block_actions", "team": { "id": DEMO_TEAM }, "user": { "id": user_id }, "trigger_id": new_trigger_id(),
            "actions": [{ "type": "button", "action_id": action_id, "action_ts": "1" }],
        });
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        SignedRequest::new("/slack/interactions", body)
    }

    async fn send(&self, app: &TestApp) -> reqwest::Response {
        app.client
            .post(format!("{}{}", app.address, self.path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", &self.timestamp)
            .header("x-slack-signature", &self.signature)
            .body(self.body.clone())
            .send()
            .await
            .unwrap()
    }

    /// Sends the command and returns the text of its ephemeral reply.
    async fn reply(&self, app: &TestApp) -> String {
        let response = self.send(app).await;
        assert_eq!(response.status().as_u16(), 200);
        let reply: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        reply["text"].as_str().unwrap().to_owned()
    }
}

async fn a_replayed_slash_command_or_button_press_changes_nothing(db: TestDb) {
    demo::seed(&db.db, now_ms()).await.unwrap();
    let app = spawn_app(&db).await;
    let paused = || async { member(&app.db, DEMO_TEAM, MEMBER).await.unwrap().paused_until.is_some() };
    let pause = SignedRequest::command(MEMBER, "pause");
    let resume = SignedRequest::command(MEMBER, "resume");

    let paused_reply = pause.reply(&app).await;
    assert!(paused_reply.contains("Paused"), "{paused_reply}");
    assert!(paused().await);
    let resumed_reply = resume.reply(&app).await;
    assert!(resumed_reply.contains("Welcome back"), "{resumed_reply}");
    assert!(!paused().await);

    let replayed_pause = pause.reply(&app).await;
    assert!(replayed_pause.contains("already handled"), "{replayed_pause}");
    assert!(!paused().await, "the replayed pause did nothing");
    app.command(DEMO_TEAM, MEMBER, "pause").await;
    let replayed_resume = resume.reply(&app).await;
    assert!(replayed_resume.contains("already handled"), "{replayed_resume}");
    assert!(paused().await, "the replayed resume did nothing");

    let press = SignedRequest::press(MEMBER, "resume");
    assert_eq!(press.send(&app).await.status().as_u16(), 200);
    assert!(!paused().await);
    app.command(DEMO_TEAM, MEMBER, "pause").await;
    assert_eq!(press.send(&app).await.status().as_u16(), 200, "a replay is acknowledged");
    assert!(paused().await, "the replayed press did nothing");
}

/// The Events API envelope of `event`, as Slack sends it.
fn envelope(team_id: &str, event_id: &str, event: Value) -> Value {
    json!({ "token": "unused", "team_id": team_id, "api_app_id": "AEMULATOR1", "type": "event_callback",
            "event_id": event_id, "event_time": 1, "event": event })
}

/// Records an event as `/slack/events` does.
async fn record_event(state: &AppState, team_id: &str, event_id: &str, event: Value) {
    let kind = event["type"].as_str().unwrap().to_owned();
    let payload = envelope(team_id, event_id, event).to_string();
    assert!(services::inbox::record_slack_event(state, event_id, Some(team_id), &kind, &payload).await.unwrap());
}

/// One pass of a worker: claims what is due now and runs it; returns the event ids it ran.
async fn run_due(state: &AppState) -> Vec<String> {
    let items = services::inbox::claim(state, "test-worker", 10).await.unwrap();
    services::inbox::run_claimed(state, "test-worker", items).await
}

async fn state_of(state: &AppState, event_id: &str) -> ItemState {
    inbox::find_state(state.db.pool(), Source::SlackEvent, event_id).await.unwrap().unwrap()
}

/// Why the event fails while Slack has trouble.
const UNREADABLE: &str = "replying in the DM";

async fn a_failing_event_is_retried_with_growing_waits_then_given_up_and_holds_back_only_its_workspace(db: TestDb) {
    use services::inbox::{MAX_ATTEMPTS, retry_wait_ms};
    let clock = ManualClock::new(now_ms());
    demo::seed(&db.db, clock.now_ms()).await.unwrap();
    let acme = another_workspace(&db, "Acme").await;
    let instance = start(&db, Arc::new(clock.clone()), Worker::Off).await;
    let state = &instance.state;
    // The member's DM gets a hint, which Slack fails to take (HTTP 500) every time it is tried.
    instance.clear_open_question(&instance.demo_member(MEMBER).await).await;
    instance.emulator.inject_fault("chat.postMessage", Fault::ServerError, u32::try_from(MAX_ATTEMPTS).unwrap());
    record_event(state, DEMO_TEAM, "EvBroken", dm(MEMBER, "hello?")).await;
    record_event(state, DEMO_TEAM, "EvSameTeam", team_join("USAME", "Behind the broken one")).await;
    record_event(state, &acme, "EvOtherTeam", team_join("UOTHER", "Elsewhere")).await;
    let logs = Logs::default();
    let _capturing = logs.capture();

    let mut waits = Vec::new();
    for tries in 1..MAX_ATTEMPTS {
        let ran = run_due(state).await;
        let expected: &[&str] = if tries == 1 { &["EvBroken", "EvOtherTeam"] } else { &["EvBroken"] };
        assert_eq!(ran, expected, "try {tries}");
        let failed = state_of(state, "EvBroken").await;
        assert_eq!((failed.attempts, failed.gave_up_at, failed.processed_at), (tries, None, None));
        assert!(failed.last_error.as_deref().is_some_and(|why| why.contains(UNREADABLE)), "{failed:?}");
        let wait = retry_wait_ms(tries);
        clock.advance(wait - 1);
        assert!(run_due(state).await.is_empty(), "try {tries}: nothing runs before the wait is over");
        clock.advance(1);
        waits.push(wait);
    }
    assert!(waits.windows(2).all(|pair| pair[1] > pair[0]), "{waits:?}");
    assert!(member(&db.db, &acme, "UOTHER").await.is_some(), "another workspace's event ran at once");
    assert!(member(&db.db, DEMO_TEAM, "USAME").await.is_none(), "its own workspace's next event waits behind it");

    // The last try gives up, and the workspace's next event runs right after it, in order.
    assert_eq!(run_due(state).await, ["EvBroken", "EvSameTeam"]);
    let given_up = state_of(state, "EvBroken").await;
    assert_eq!((given_up.attempts, given_up.processed_at), (MAX_ATTEMPTS, None));
    assert!(given_up.gave_up_at.is_some());
    let logged = logs.text();
    assert!(logged.contains("gave up on an inbox item") && logged.contains(UNREADABLE), "{logged}");
    assert!(member(&db.db, DEMO_TEAM, "USAME").await.is_some());
    assert_eq!(inbox::count_unfinished(db.db.pool()).await.unwrap(), 0);
}

async fn an_event_that_can_never_work_is_given_up_at_once_and_its_workspace_goes_on(db: TestDb) {
    let clock = ManualClock::new(now_ms());
    demo::seed(&db.db, clock.now_ms()).await.unwrap();
    let instance = start(&db, Arc::new(clock.clone()), Worker::Off).await;
    let state = &instance.state;
    let key = format!("slack:{DEMO_TEAM}");
    let unreadable = NewItem {
        source: Source::SlackEvent,
        external_id: "EvUnreadable",
        ordering_key: &key,
        kind: "team_join",
        payload: "not json",
    };
    assert!(inbox::insert_if_new(state.db.pool(), &unreadable, clock.now_ms()).await.unwrap());
    record_event(state, DEMO_TEAM, "EvNext", team_join("UNEXT", "Right behind it")).await;

    assert_eq!(run_due(state).await, ["EvUnreadable", "EvNext"], "no retry would help, so nothing waits");

    let given_up = state_of(state, "EvUnreadable").await;
    assert_eq!((given_up.attempts, given_up.processed_at), (1, None));
    assert!(given_up.gave_up_at.is_some());
    assert!(given_up.last_error.as_deref().is_some_and(|why| why.contains("reading a stored Slack event")));
    assert!(member(&db.db, DEMO_TEAM, "UNEXT").await.is_some());
}

/// A run records the events it processed before one that fails (they are not run again), and
/// gives back the ones after it, which run in order once the retry is due.
async fn a_run_records_what_it_processed_before_a_failing_event_and_gives_back_the_rest(db: TestDb) {
    let clock = ManualClock::new(now_ms());
    demo::seed(&db.db, clock.now_ms()).await.unwrap();
    let instance = start(&db, Arc::new(clock.clone()), Worker::Off).await;
    let state = &instance.state;
    // The member's DM gets a hint, which Slack fails to take (HTTP 500) once.
    instance.clear_open_question(&instance.demo_member(MEMBER).await).await;
    instance.emulator.inject_fault("chat.postMessage", Fault::ServerError, 1);
    record_event(state, DEMO_TEAM, "EvBefore", team_join("UBEFORE", "Ahead of the broken one")).await;
    record_event(state, DEMO_TEAM, "EvBroken", dm(MEMBER, "hello?")).await;
    record_event(state, DEMO_TEAM, "EvAfter", team_join("UAFTER", "Behind the broken one")).await;

    let first_pass = run_due(state).await;
    let before = state_of(state, "EvBefore").await;
    let broken = state_of(state, "EvBroken").await;
    let after = state_of(state, "EvAfter").await;
    clock.advance(services::inbox::retry_wait_ms(1));
    let once_due = run_due(state).await;

    assert_eq!(first_pass, ["EvBefore", "EvBroken"]);
    assert!(before.processed_at.is_some() && before.payload.is_empty(), "{before:?}");
    assert_eq!((broken.attempts, broken.processed_at), (1, None));
    assert_eq!((after.attempts, after.processed_at), (0, None));
    assert_eq!(once_due, ["EvBroken", "EvAfter"], "nothing processed runs again; the rest follows in order");
    assert!(member(&db.db, DEMO_TEAM, "UBEFORE").await.is_some());
    assert!(member(&db.db, DEMO_TEAM, "UAFTER").await.is_some());
    assert_eq!(inbox::count_unfinished(db.db.pool()).await.unwrap(), 0);
}

/// A Slack that holds every message posted to it until the test answers: an event that
/// replies in a DM stays in flight, in the middle of its run, while the test looks or acts.
#[derive(Clone)]
struct HeldSlack {
    url: String,
    /// Notified when a message is being posted.
    posting: Arc<tokio::sync::Notify>,
    /// Notified by the test to answer it.
    answer: Arc<tokio::sync::Notify>,
}

impl HeldSlack {
    async fn start() -> HeldSlack {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let slack = HeldSlack {
            url: format!("http://{}/api", listener.local_addr().unwrap()),
            posting: Arc::default(),
            answer: Arc::default(),
        };
        let router =
            Router::new().route("/api/chat.postMessage", post(HeldSlack::post_message)).with_state(slack.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        slack
    }

    async fn post_message(State(slack): State<HeldSlack>) -> Json<Value> {
        slack.posting.notify_one();
        slack.answer.notified().await;
        let ts = "1790000000.000300";
        Json(json!({ "ok": true, "channel": format!("D{MEMBER}"), "ts": ts, "message": { "ts": ts, "text": HINT } }))
    }

    /// `state` with this Slack as the demo team's (a self-hosted install's), and a shutdown
    /// of its own, apart from the running app's, whose end would close the database.
    fn state_for(&self, state: &AppState) -> AppState {
        let slack = SlackGateway::new(&self.url, Some(Secret::new("xoxb-held")), None, state.metrics.clone()).unwrap();
        slack.confirm_fixed_team(DEMO_TEAM);
        AppState::new(AppParts { slack: Some(slack), tasks: Tasks::default(), ..AppParts::clone(state) })
    }

    /// Waits, 10 s at most, until a message is being posted.
    async fn until_posting(&self) {
        tokio::time::timeout(Duration::from_secs(10), self.posting.notified())
            .await
            .expect("a message is posted within 10 s");
    }

    fn answer(&self) {
        self.answer.notify_one();
    }
}

/// A run of three demo-team events claimed under "worker": a newcomer, a DM whose hint
/// `slack` holds, then another newcomer; `state` is the app's with that Slack.
struct HeldRun {
    clock: ManualClock,
    instance: TestApp,
    slack: HeldSlack,
    state: AppState,
    items: Vec<Item>,
}

async fn held_run(db: &TestDb) -> HeldRun {
    let clock = ManualClock::new(now_ms());
    demo::seed(&db.db, clock.now_ms()).await.unwrap();
    let instance = start(db, Arc::new(clock.clone()), Worker::Off).await;
    // So that the DM gets the hint.
    instance.clear_open_question(&instance.demo_member(MEMBER).await).await;
    record_event(&instance.state, DEMO_TEAM, "EvFirst", team_join("UFIRST", "First")).await;
    record_event(&instance.state, DEMO_TEAM, "EvHeld", dm(MEMBER, "hello?")).await;
    record_event(&instance.state, DEMO_TEAM, "EvLast", team_join("ULAST", "Last")).await;
    let slack = HeldSlack::start().await;
    let state = slack.state_for(&instance.state);
    let items = services::inbox::claim(&state, "worker", 10).await.unwrap();
    HeldRun { clock, instance, slack, state, items }
}

/// A run records its processed events only when it ends: until then they stay in its hands,
/// unprocessed in the inbox though their work is done, as one write for the run.
async fn a_run_keeps_the_events_it_processed_in_hand_until_it_ends(db: TestDb) {
    let HeldRun { instance: _app, slack, state, items, .. } = held_run(&db).await;

    let (_, (first_ran, mid_run)) = tokio::join!(services::inbox::run_in_order(&state, "worker", items), async {
        slack.until_posting().await;
        let first_ran = member(&db.db, DEMO_TEAM, "UFIRST").await.is_some();
        let mid_run = state_of(&state, "EvFirst").await;
        slack.answer();
        (first_ran, (mid_run.claimed_by, mid_run.processed_at))
    });
    let ItemState { claimed_by: holder, processed_at, .. } = state_of(&state, "EvFirst").await;

    assert!(first_ran, "EvFirst's newcomer joined before EvHeld's reply");
    assert_eq!(mid_run, (Some("worker".to_owned()), None));
    assert!(holder.is_none() && processed_at.is_some(), "{holder:?} {processed_at:?}");
}

/// Shutdown begins while an event is in flight: that event finishes, the run records what it
/// processed and gives back the rest, which the next claim takes at once, in order.
async fn a_shutdown_mid_run_records_what_the_run_processed_and_gives_back_the_rest(db: TestDb) {
    let HeldRun { instance, slack, state, items, .. } = held_run(&db).await;

    let (ran, ()) = tokio::join!(services::inbox::run_in_order(&state, "worker", items), async {
        slack.until_posting().await;
        state.tasks.shut_down(Duration::ZERO).await;
        slack.answer();
    });
    let first = state_of(&state, "EvFirst").await;
    let held = state_of(&state, "EvHeld").await;
    let last = state_of(&state, "EvLast").await;
    let next = run_due(&instance.state).await;

    assert_eq!(ran, ["EvFirst", "EvHeld"]);
    assert!(first.processed_at.is_some() && held.processed_at.is_some(), "{first:?} {held:?}");
    assert_eq!((last.attempts, last.processed_at), (0, None));
    assert_eq!(next, ["EvLast"], "before the lease runs out, and nothing processed runs again");
}

/// Makes the database refuse to set a lease (a claim or a renewal), as a failing database
/// would, while the items already claimed can still be recorded.
async fn refuse_leases(db: &TestDb) {
    let statements: &[&str] = match db.backend() {
        Backend::Sqlite => &["CREATE TRIGGER refuse_leases BEFORE UPDATE OF claimed_until ON inbox
             WHEN NEW.claimed_until IS NOT NULL BEGIN SELECT RAISE(ABORT, 'leases refused'); END"],
        Backend::Postgres => &[
            "CREATE FUNCTION refuse_leases() RETURNS trigger LANGUAGE plpgsql
             AS $$ BEGIN RAISE EXCEPTION 'leases refused'; END $$",
            "CREATE TRIGGER refuse_leases BEFORE UPDATE OF claimed_until ON inbox
             FOR EACH ROW WHEN (NEW.claimed_until IS NOT NULL) EXECUTE FUNCTION refuse_leases()",
        ],
    };
    for statement in statements {
        sqlx::query(statement).execute(db.db.pool()).await.unwrap();
    }
}

/// A run whose lease cannot be renewed stops before its next event: what it processed is
/// recorded (it does not run again), and the rest is left untried, held until the lease
/// runs out (after a database error the run gives nothing back).
async fn a_run_that_cannot_renew_its_lease_records_what_it_processed_and_stops(db: TestDb) {
    let HeldRun { clock, instance: _app, slack, state, items } = held_run(&db).await;
    refuse_leases(&db).await;

    let (ran, ()) = tokio::join!(services::inbox::run_in_order(&state, "worker", items), async {
        slack.until_posting().await;
        // Half the lease passes while Slack answers: the run renews it before its next event.
        clock.advance(services::inbox::LEASE_MS / 2 + 1);
        slack.answer();
    });
    let first = state_of(&state, "EvFirst").await;
    let held = state_of(&state, "EvHeld").await;
    let last = state_of(&state, "EvLast").await;

    assert_eq!(ran, ["EvFirst", "EvHeld"]);
    assert!(first.processed_at.is_some() && held.processed_at.is_some(), "{first:?} {held:?}");
    assert_eq!((last.attempts, last.processed_at), (0, None));
    assert_eq!(last.claimed_by.as_deref(), Some("worker"), "left held until the lease runs out");
}

async fn a_slow_workspace_does_not_hold_back_another_workspaces_events(db: TestDb) {
    demo::seed(&db.db, now_ms()).await.unwrap();
    let acme = another_workspace(&db, "Acme").await;
    let app = spawn_app(&db).await;
    // So that the DM gets the hint.
    app.clear_open_question(&app.demo_member(MEMBER).await).await;
    // Slack takes its time with everything said in this member's DM.
    app.emulator.slow_down_channel(&format!("D{MEMBER}"), Duration::from_secs(3));

    app.deliver_event(DEMO_TEAM, "EvSlow", dm(MEMBER, "hello there")).await;
    app.deliver_event(&acme, "EvQuick", team_join("UQUICK", "Quick")).await;

    eventually("the other workspace's newcomer is a member", || async {
        member(&app.db, &acme, "UQUICK").await.is_some()
    })
    .await;
    let slow = inbox::find_state(app.db.pool(), Source::SlackEvent, "EvSlow").await.unwrap().unwrap();
    assert_eq!(slow.processed_at, None, "the slow workspace's DM is still waiting for Slack");
    app.drain_inbox().await;
    assert_eq!(hints(&app.emulator), 1);
}
