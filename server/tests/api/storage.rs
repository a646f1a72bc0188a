//! The repositories and their rules, on SQLite and PostgreSQL.

use app::{features::answers::types::Visibility, server::db::prompts::PromptStatus};
use sqlx::Any;

use app::{
    AppError,
    features::people::types::{DirectoryFilter, PersonSummary},
    ids::{MemberId, QuestionId},
    server::{
        db::{Backend, Db, answers, directory, inbox, members, packs, prompts, sessions, workspaces},
        new_id,
        services::{people, questions},
        viewer::Viewer,
        zones,
    },
};

use crate::helpers::{Team, TestDb, unsaved_member};

fn viewer(team: &Team) -> Viewer {
    Viewer::workspace_admin(team.db.clone(), team.workspace_id.clone())
}

fn names(people: &[PersonSummary]) -> Vec<&str> {
    people.iter().map(|p| p.name.as_str()).collect()
}

/// The first page of the team's directory, unfiltered.
async fn directory(team: &Team) -> Vec<PersonSummary> {
    people::directory(&viewer(team), &DirectoryFilter::default(), 1).await.unwrap().people
}

on_both_backends!(
    the_directory_counts_only_team_answers_and_shows_the_latest,
    bots_and_departed_members_are_not_in_the_directory,
    a_profile_lists_team_answers_newest_first_and_never_only_me,
    question_pages_leave_out_only_me_answers_and_departed_members,
    one_workspace_never_sees_another_workspaces_data,
    a_slack_event_id_is_recorded_once,
    a_member_is_unique_per_workspace_and_slack_user,
    an_answer_with_an_unknown_visibility_is_refused,
    migrating_again_changes_nothing,
    expired_sessions_and_old_event_ids_are_cleaned_up,
    the_directory_is_in_the_same_order_on_both_databases,
    the_directory_comes_in_pages_by_name,
    the_directory_filter_finds_every_word_in_the_name_or_title,
    members_stored_before_the_directory_keys_get_them_at_start,
    the_directory_version_moves_when_who_is_listed_or_where_changes,
    the_directory_shows_people_joining_renamed_and_leaving_at_once,
    a_second_server_on_the_same_database_shows_the_firsts_directory_changes,
    a_billing_period_counts_each_member_who_answered_in_it_once,
    the_stored_answer_counts_follow_each_answer_as_it_changes,
    answers_stored_before_the_counts_were_kept_are_counted,
    an_answer_stored_while_a_coworker_is_deactivated_is_counted_once_without_a_deadlock,
    rows_stored_many_at_a_time_are_stored_as_given,
);

async fn the_directory_is_in_the_same_order_on_both_databases(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    for name in ["zoë Ng", "Émile Roy", "bob Lee", "Ana Sá"] {
        team.member(name, "").await;
    }

    let directory = directory(&team).await;

    // Lower-cased, then by code point: the same rule whatever the database's collation.
    assert_eq!(names(&directory), ["Ana Sá", "bob Lee", "zoë Ng", "Émile Roy"]);
}

async fn expired_sessions_and_old_event_ids_are_cleaned_up(db: TestDb) {
    let pool = db.db.pool();
    let session = |id: &str, expires_at: i64| sessions::SessionRow { id: id.into(), data: "{}".into(), expires_at };
    sessions::upsert(pool, &session("old", 1_000)).await.unwrap();
    sessions::upsert(pool, &session("live", 9_000)).await.unwrap();
    let event = |id: &'static str| inbox::NewItem {
        source: inbox::Source::SlackEvent,
        external_id: id,
        ordering_key: id,
        kind: "team_join",
        payload: "{}",
    };
    for id in ["EvOld", "EvNew", "EvPending"] {
        inbox::insert_if_new(pool, &event(id), 1).await.unwrap();
    }
    let claimed = inbox::claim(&db.db, "worker", 1, 60_000, 10, 1).await.unwrap();
    for (id, at) in [("EvOld", 1_000), ("EvNew", 9_000)] {
        let item = claimed.iter().find(|item| item.external_id == id).unwrap();
        assert_eq!(inbox::update_processed(pool, &[item.id], "worker", at).await.unwrap(), 1);
    }

    let sessions_gone = sessions::delete_expired(pool, 5_000).await.unwrap();
    let events_gone = inbox::delete_finished_before(pool, 5_000).await.unwrap();

    assert_eq!((sessions_gone, events_gone), (1, 1));
    assert!(sessions::find_valid(pool, "live", 5_000).await.unwrap().is_some());
    assert!(sessions::find_valid(pool, "old", 500).await.unwrap().is_none(), "deleted, not just expired");
    let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM inbox").fetch_one(pool).await.unwrap();
    assert_eq!(left, 2, "the unprocessed event stays");
}

async fn the_directory_counts_only_team_answers_and_shows_the_latest(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let grace = team.member("Grace Hopper", "Admiral").await;
    let q1 = team.question("Favourite breakfast?").await;
    let q2 = team.question("Best trip?").await;
    team.answer(&ada, &q1, "Porridge", "team").await;
    team.answer(&ada, &q2, "Lisbon by train", "team").await;
    team.answer(&ada, &q1, "A secret I keep", "only_me").await;

    let directory = directory(&team).await;

    assert_eq!(names(&directory), ["Ada Lovelace", "Grace Hopper"]);
    let ada_card = &directory[0];
    assert_eq!(ada_card.answer_count, 2, "the only-me answer is not counted");
    let latest = ada_card.latest.as_ref().unwrap();
    assert_eq!((latest.question.as_str(), latest.text.as_str()), ("Best trip?", "Lisbon by train"));
    assert_eq!(directory[1].answer_count, 0);
    assert_eq!(directory[1].latest, None);
    let _ = grace;
}

async fn bots_and_departed_members_are_not_in_the_directory(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    team.member("Ada Lovelace", "Engineer").await;
    team.member_row("Rapport", "Bot", |m| m.is_bot = true).await;
    let gone = team.member("Alan Turing", "Researcher").await;
    let question = team.question("Favourite breakfast?").await;
    team.answer(&gone, &question, "Toast", "team").await;

    members::update_deleted(db.db.pool(), &team.workspace_id, &gone, true, 1).await.unwrap();

    let directory = directory(&team).await;
    assert_eq!(names(&directory), ["Ada Lovelace"]);
    let profile = people::profile(&viewer(&team), &MemberId::parse(&gone).unwrap()).await;
    assert_eq!(profile, Err(AppError::NotFound));
}

async fn a_profile_lists_team_answers_newest_first_and_never_only_me(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let q1 = team.question("Favourite breakfast?").await;
    let q2 = team.question("Best trip?").await;
    team.answer(&ada, &q1, "Porridge", "team").await;
    team.answer(&ada, &q2, "My diary says otherwise", "only_me").await;
    team.answer(&ada, &q2, "Lisbon by train", "team").await;

    let profile = people::profile(&viewer(&team), &MemberId::parse(&ada).unwrap()).await.unwrap();

    assert_eq!(profile.name, "Ada Lovelace");
    assert_eq!(profile.time_zone.as_deref(), Some("Europe/Berlin"));
    let shown: Vec<(&str, &str)> = profile.answers.iter().map(|a| (a.question.as_str(), a.text.as_str())).collect();
    assert_eq!(shown, [("Best trip?", "Lisbon by train"), ("Favourite breakfast?", "Porridge")]);
}

async fn question_pages_leave_out_only_me_answers_and_departed_members(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let grace = team.member("Grace Hopper", "Admiral").await;
    let alan = team.member("Alan Turing", "Researcher").await;
    let question = team.question("Favourite breakfast?").await;
    let unanswered = team.question("Best trip?").await;
    team.answer(&ada, &question, "Porridge", "team").await;
    team.answer(&grace, &question, "Only my cat knows", "only_me").await;
    team.answer(&alan, &question, "Toast", "team").await;
    members::update_deleted(db.db.pool(), &team.workspace_id, &alan, true, 1).await.unwrap();

    let list = questions::list(&viewer(&team)).await.unwrap();
    let counts: Vec<(&str, i64)> = list.iter().map(|q| (q.text.as_str(), q.answer_count)).collect();
    assert!(counts.contains(&("Favourite breakfast?", 1)), "{counts:?}");
    assert!(counts.contains(&("Best trip?", 0)), "{counts:?}");

    let detail = questions::detail(&viewer(&team), &QuestionId::parse(&question).unwrap()).await.unwrap();
    let shown: Vec<(&str, &str)> = detail.answers.iter().map(|a| (a.name.as_str(), a.text.as_str())).collect();
    assert_eq!(shown, [("Ada Lovelace", "Porridge")]);
    let empty = questions::detail(&viewer(&team), &QuestionId::parse(&unanswered).unwrap()).await.unwrap();
    assert!(empty.answers.is_empty());
}

async fn one_workspace_never_sees_another_workspaces_data(db: TestDb) {
    let mut ours = Team::new(&db.db, "Ours").await;
    let mut theirs = Team::new(&db.db, "Theirs").await;
    let ada = ours.member("Ada Lovelace", "Engineer").await;
    let eve = theirs.member("Eve Outsider", "Spy").await;
    let our_question = ours.question("Ours?").await;
    let their_question = theirs.question("Theirs?").await;
    ours.answer(&ada, &our_question, "Our answer", "team").await;
    theirs.answer(&eve, &their_question, "Their answer", "team").await;

    let directory = directory(&ours).await;
    assert_eq!(names(&directory), ["Ada Lovelace"]);
    let eve_profile = people::profile(&viewer(&ours), &MemberId::parse(&eve).unwrap()).await;
    assert_eq!(eve_profile, Err(AppError::NotFound));
    let their_page = questions::detail(&viewer(&ours), &QuestionId::parse(&their_question).unwrap()).await;
    assert_eq!(their_page, Err(AppError::NotFound));
    let listed: Vec<String> = questions::list(&viewer(&ours)).await.unwrap().into_iter().map(|q| q.text).collect();
    assert_eq!(listed, ["Ours?"]);
}

async fn a_slack_event_id_is_recorded_once(db: TestDb) {
    let pool = db.db.pool();
    let event = |id: &'static str, payload: &'static str| inbox::NewItem {
        source: inbox::Source::SlackEvent,
        external_id: id,
        ordering_key: "slack:T1",
        kind: "team_join",
        payload,
    };

    let first = inbox::insert_if_new(pool, &event("Ev01", "{\"at\":1}"), 1).await.unwrap();
    let again = inbox::insert_if_new(pool, &event("Ev01", "{\"at\":2}"), 2).await.unwrap();
    let other = inbox::insert_if_new(pool, &event("Ev02", "{\"at\":3}"), 3).await.unwrap();

    assert_eq!((first, again, other), (true, false, true));
    assert_eq!(inbox::count_unfinished(pool).await.unwrap(), 2);
    // One team's events run one at a time: only the first is handed out.
    let claimed = inbox::claim(&db.db, "worker", 10, 60_000, 10, 1).await.unwrap();
    assert_eq!(claimed.iter().map(|e| e.payload.as_str()).collect::<Vec<_>>(), ["{\"at\":1}"]);
    assert_eq!(inbox::update_processed(pool, &[claimed[0].id], "worker", 4).await.unwrap(), 1);
    assert_eq!(inbox::update_processed(pool, &[claimed[0].id], "worker", 5).await.unwrap(), 0, "processed once");
    let state = inbox::find_state(pool, inbox::Source::SlackEvent, "Ev01").await.unwrap().unwrap();
    assert_eq!(state.payload, "", "what people wrote is not kept once processed");
    assert_eq!(inbox::count_unfinished(pool).await.unwrap(), 1);
}

async fn a_member_is_unique_per_workspace_and_slack_user(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    team.member_row("Ada Lovelace", "Engineer", |m| m.slack_user_id = "U1".into()).await;
    let mut duplicate = members::list_for_workspace(db.db.pool(), &team.workspace_id).await.unwrap().remove(0);
    duplicate.id = app::server::new_id();
    duplicate.name = "Someone Else".into();

    let result = members::insert(db.db.pool(), &duplicate).await;

    assert!(result.is_err(), "a second member with the same Slack user id was stored");
    let stored = members::list_for_workspace(db.db.pool(), &team.workspace_id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "Ada Lovelace");
}

async fn an_answer_with_an_unknown_visibility_is_refused(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let question = team.question("Favourite breakfast?").await;
    let prompt = prompts::Prompt {
        id: new_id(),
        workspace_id: team.workspace_id.clone(),
        member_id: ada,
        question_id: question,
        due_at: 1,
        sent_at: Some(2),
        slack_message_ts: None,
        status: PromptStatus::Sent,
        created_at: 1,
        updated_at: 2,
        round_date: None,
        attempts: 0,
        next_attempt_at: 1,
        claimed_by: None,
        claimed_until: None,
        send_started_at: Some(1),
        failure_reason: None,
    };
    prompts::insert(db.db.pool(), &prompt).await.unwrap();
    let answer = answers::Answer {
        id: new_id(),
        workspace_id: team.workspace_id.clone(),
        prompt_id: prompt.id.clone(),
        text: "Porridge".into(),
        visibility: Visibility::Team,
        created_at: 3,
        updated_at: 3,
    };

    // The type allows no other value; the database refuses one written around it, too.
    let refused = sqlx::query(
        "INSERT INTO answers (id, workspace_id, prompt_id, text, visibility, created_at, updated_at)
         VALUES ($1, $2, $3, 'Porridge', 'everyone', 3, 3)",
    )
    .bind(new_id())
    .bind(&team.workspace_id)
    .bind(&prompt.id)
    .execute(db.db.pool())
    .await;
    let accepted = answers::insert(&mut db.db.pool().acquire().await.unwrap(), &answer).await;

    assert!(refused.is_err(), "visibility 'everyone' was stored");
    assert!(accepted.is_ok(), "{accepted:?}");
    assert_eq!(answers::count_for_workspace(db.db.pool(), &team.workspace_id, Visibility::Team).await.unwrap(), 1);
}

async fn migrating_again_changes_nothing(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    team.member("Ada Lovelace", "Engineer").await;

    db.db.migrate().await.unwrap();

    assert!(db.db.readiness().await.is_ok());
    assert_eq!(members::list_for_workspace(db.db.pool(), &team.workspace_id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout() {
    let db = TestDb::sqlite().await;
    assert_eq!(db.backend(), Backend::Sqlite);
    let pool = db.db.pool();

    let (journal,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(pool).await.unwrap();
    let (foreign_keys,): (i64,) = sqlx::query_as("PRAGMA foreign_keys").fetch_one(pool).await.unwrap();
    let (synchronous,): (i64,) = sqlx::query_as("PRAGMA synchronous").fetch_one(pool).await.unwrap();
    let (busy_timeout,): (i64,) = sqlx::query_as("PRAGMA busy_timeout").fetch_one(pool).await.unwrap();

    // synchronous 1 is NORMAL.
    assert_eq!((journal.as_str(), foreign_keys, synchronous, busy_timeout), ("wal", 1, 1, 5000));
}

/// A connection is not checked each time it leaves the pool, only after it sat idle a while:
/// one the server dropped meanwhile (a restart) is replaced before any statement uses it.
#[tokio::test]
async fn a_postgresql_connection_dropped_while_idle_is_replaced_before_use() {
    let Some(db) = TestDb::postgres().await else { return };
    let count_one = || sqlx::query_scalar::<Any, i64>("SELECT CAST(1 AS BIGINT)").fetch_one(db.db.pool());
    assert_eq!(count_one().await.unwrap(), 1);
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url).await.unwrap();
    let dropped: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(
        !dropped.is_empty() && dropped.iter().all(|&ok| ok),
        "the pool's connections were not dropped: {dropped:?}"
    );

    tokio::time::sleep(app::server::db::POSTGRES_PING_AFTER_IDLE + std::time::Duration::from_millis(500)).await;

    assert_eq!(count_one().await.unwrap(), 1);
}

#[tokio::test]
async fn a_sqlite_file_and_its_folder_are_created_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/rapport.db");

    let db = app::server::db::Db::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    db.migrate().await.unwrap();

    assert!(path.is_file());
    assert!(db.readiness().await.is_ok());
}

on_both_backends!(events_recorded_by_the_previous_release_move_to_the_inbox);

/// The first migration of the inbox.
const INBOX_MIGRATION: i64 = 20261202000006;

async fn events_recorded_by_the_previous_release_move_to_the_inbox(db: TestDb) {
    let old = db.another_unmigrated().await;
    let backend = old.backend();
    let before_the_inbox: Vec<_> = backend.migrator().iter().filter(|m| m.version < INBOX_MIGRATION).cloned().collect();
    let previous_release = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(before_the_inbox),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    previous_release.run(old.db.pool()).await.unwrap();
    for (event_id, team, payload, processed_at) in [
        ("EvDone", Some("T1"), "", Some(5_i64)),
        ("EvWaiting", Some("T1"), r#"{"event":{"type":"team_join"}}"#, None),
        ("EvOrgWide", None, r#"{"event":{"type":"team_join"}}"#, None),
        ("EvNoPayload", Some("T2"), "", None),
    ] {
        sqlx::query(
            "INSERT INTO slack_events (event_id, slack_team_id, event_type, received_at, processed_at, payload)
             VALUES ($1, $2, 'team_join', 1, $3, $4)",
        )
        .bind(event_id)
        .bind(team)
        .bind(processed_at)
        .bind(payload)
        .execute(old.db.pool())
        .await
        .unwrap();
    }

    old.db.migrate().await.unwrap();

    let state = |id: &'static str| inbox::find_state(old.db.pool(), inbox::Source::SlackEvent, id);
    assert_eq!(state("EvDone").await.unwrap().unwrap().processed_at, Some(5), "still guards against a late retry");
    let waiting = state("EvWaiting").await.unwrap().unwrap();
    assert_eq!((waiting.processed_at, waiting.gave_up_at), (None, None), "still to be processed");
    assert_eq!(waiting.payload, r#"{"event":{"type":"team_join"}}"#);
    let no_payload = state("EvNoPayload").await.unwrap().unwrap();
    assert!(no_payload.gave_up_at.is_some() && no_payload.last_error.is_some(), "{no_payload:?}");
    assert_eq!(inbox::count_unfinished(old.db.pool()).await.unwrap(), 2, "the waiting and the org-wide one");
    let keys: Vec<(String,)> =
        sqlx::query_as("SELECT ordering_key FROM inbox WHERE external_id IN ('EvWaiting', 'EvOrgWide') ORDER BY id")
            .fetch_all(old.db.pool())
            .await
            .unwrap();
    // In the order they arrived (the same millisecond here, so by event id).
    assert_eq!(keys, [("slack:".to_owned(),), ("slack:T1".to_owned(),)]);
}

async fn a_billing_period_counts_each_member_who_answered_in_it_once(db: TestDb) {
    const DAY: i64 = 24 * 60 * 60 * 1000;
    let starts = 1_800_000_000_000;
    let ends = starts + 30 * DAY;
    let mut team = Team::new(&db.db, "Acme").await;
    let mut other = Team::new(&db.db, "Other").await;
    let question = team.question("Tea or coffee?").await;
    let answered_at = |answer: String, at: i64| {
        let pool = db.db.pool().clone();
        async move {
            sqlx::query("UPDATE answers SET created_at = $1 WHERE id = $2")
                .bind(at)
                .bind(answer)
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    let on_first_ms = team.member("Ada", "").await;
    answered_at(team.answer(&on_first_ms, &question, "Tea", "team").await, starts).await;
    let on_last_second = team.member("Bob", "").await;
    answered_at(team.answer(&on_last_second, &question, "Coffee", "team").await, ends - 1_000).await;
    let only_me = team.member("Eve", "").await;
    answered_at(team.answer(&only_me, &question, "Neither", "only_me").await, starts + DAY).await;
    let twice = team.member("Fay", "").await;
    answered_at(team.answer(&twice, &question, "Tea", "team").await, starts + DAY).await;
    answered_at(team.answer(&twice, &question, "Still tea", "team").await, starts + 2 * DAY).await;
    let around_it = team.member("Cy", "").await;
    answered_at(team.answer(&around_it, &question, "Water", "team").await, starts - 1).await;
    answered_at(team.answer(&around_it, &question, "Juice", "team").await, ends).await;
    let only_skipped = team.member("Dee", "").await;
    let skipped = team.answer(&only_skipped, &question, "-", "team").await;
    sqlx::query("UPDATE prompts SET status = 'skipped' WHERE id = (SELECT prompt_id FROM answers WHERE id = $1)")
        .bind(&skipped)
        .execute(db.db.pool())
        .await
        .unwrap();
    answers::delete(db.db.pool(), &skipped).await.unwrap();
    let elsewhere = other.member("Olga", "").await;
    let their_question = other.question("Theirs?").await;
    answered_at(other.answer(&elsewhere, &their_question, "Hers", "team").await, starts + DAY).await;

    let active = answers::count_members_who_answered(db.db.pool(), &team.workspace_id, starts, ends).await.unwrap();

    assert_eq!(active, 4, "Ada, Bob, Eve and Fay (once); not Cy, Dee or the other workspace's Olga");
}

async fn the_directory_comes_in_pages_by_name(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    for number in (0..100).rev() {
        team.member(&format!("Person {number:03}"), "Engineer").await;
    }
    let (viewer, everyone) = (viewer(&team), DirectoryFilter::default());
    let page = |number: u32| people::directory(&viewer, &everyone, number);

    let first = page(1).await.unwrap();
    assert_eq!(first.people.len(), people::PEOPLE_PER_PAGE);
    assert_eq!((first.page, first.has_next_page, first.everyone, first.matching), (1, true, 100, 100));
    assert_eq!(first.people[0].name, "Person 000");
    assert_eq!(first.people[47].name, "Person 047");
    let second = page(2).await.unwrap();
    assert_eq!(second.people[0].name, "Person 048");
    let last = page(3).await.unwrap();
    assert_eq!(names(&last.people), ["Person 096", "Person 097", "Person 098", "Person 099"]);
    assert!(!last.has_next_page);
    assert_eq!(page(0).await.unwrap(), first, "page 0 reads as the first");
    let past = page(9).await.unwrap();
    assert!(past.people.is_empty() && !past.has_next_page);
    assert_eq!(past.everyone, 100);
}

async fn the_directory_filter_finds_every_word_in_the_name_or_title(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    team.member("Ada Lovelace", "Staff Engineer").await;
    team.member("Grace Hopper", "Rear Admiral").await;
    team.member("Émile Roy", "100% Design_Lead").await;
    team.member("Zoë Ng", "Designer").await;
    let filtered = |raw: &str| {
        let filter = DirectoryFilter::parse(raw);
        let viewer = viewer(&team);
        async move { people::directory(&viewer, &filter, 1).await.unwrap() }
    };

    let found = filtered("ENGINEER ada").await;
    assert_eq!(names(&found.people), ["Ada Lovelace"]);
    assert_eq!((found.matching, found.everyone, found.filter.as_str()), (1, 4, "engineer ada"));
    assert_eq!(names(&filtered("design").await.people), ["Zoë Ng", "Émile Roy"]);
    assert_eq!(names(&filtered("émile").await.people), ["Émile Roy"], "lower-cased beyond ASCII");
    assert_eq!(names(&filtered("ZOË").await.people), ["Zoë Ng"]);
    // The pattern characters of LIKE are taken as typed.
    assert_eq!(names(&filtered("%").await.people), ["Émile Roy"]);
    assert!(filtered("ad_").await.people.is_empty(), "`_` is no wildcard: Ada and Admiral stay out");
    assert_eq!(names(&filtered("_lead").await.people), ["Émile Roy"]);
    let nobody = filtered("ada admiral").await;
    assert!(nobody.people.is_empty());
    assert_eq!((nobody.matching, nobody.everyone), (0, 4));
}

async fn members_stored_before_the_directory_keys_get_them_at_start(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    team.member("Émile Roy", "Designer").await;
    team.member("bob Lee", "").await;
    sqlx::query("UPDATE members SET sort_name = NULL, filter_text = NULL").execute(db.db.pool()).await.unwrap();
    let words = DirectoryFilter::parse("émile designer").words().to_vec();
    let before = directory::count_filtered(db.db.pool(), &team.workspace_id, &words).await.unwrap();
    assert_eq!(before, 0, "without keys the filter finds nobody");

    db.db.migrate().await.unwrap();

    assert_eq!(names(&directory(&team).await), ["bob Lee", "Émile Roy"]);
    let found = people::directory(&viewer(&team), &DirectoryFilter::parse("émile designer"), 1).await.unwrap();
    assert_eq!(names(&found.people), ["Émile Roy"]);
}

/// The workspace's `directory_version`, which the directory's kept page starts follow.
async fn directory_version(team: &Team) -> i64 {
    sqlx::query_scalar("SELECT directory_version FROM workspaces WHERE id = $1")
        .bind(&team.workspace_id)
        .fetch_one(team.db.pool())
        .await
        .unwrap()
}

/// Whether the workspace's `directory_version` moved from `seen`, which it then becomes.
async fn directory_version_moved(team: &Team, seen: &mut i64) -> bool {
    let now = directory_version(team).await;
    std::mem::replace(seen, now) != now
}

/// `member` as Slack would describe them in a `user_change`, for a sync to write again.
async fn as_slack_has_them(team: &Team, member: &str) -> members::SlackProfile {
    let row = members::find(team.db.pool(), &team.workspace_id, member).await.unwrap().unwrap();
    members::SlackProfile {
        slack_user_id: row.slack_user_id,
        name: row.name,
        title: row.title,
        avatar_url: row.avatar_url,
        time_zone: row.time_zone,
        is_bot: row.is_bot,
        is_deleted: row.is_deleted,
        is_guest: row.is_guest,
        is_slack_admin: row.is_slack_admin,
    }
}

async fn the_directory_version_moves_when_who_is_listed_or_where_changes(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let question = team.question("Favourite breakfast?").await;
    let (pool, workspace_id) = (db.db.pool(), team.workspace_id.clone());
    let mut seen = directory_version(&team).await;

    // Nothing the directory keeps: a bot joining, a new title, an answer, a DM channel.
    team.member_row("Rapport", "Bot", |m| m.is_bot = true).await;
    assert!(!directory_version_moved(&team, &mut seen).await, "a bot joined");
    let mut ada_in_slack = as_slack_has_them(&team, &ada).await;
    ada_in_slack.title = "Staff Engineer".into();
    members::upsert_from_slack(pool, &workspace_id, &ada_in_slack, &new_id(), 2).await.unwrap();
    assert!(!directory_version_moved(&team, &mut seen).await, "a new title");
    team.answer(&ada, &question, "Porridge", "team").await;
    members::update_dm_channel(pool, &ada, "D123", 3).await.unwrap();
    assert!(!directory_version_moved(&team, &mut seen).await, "an answer and a DM channel");

    // Someone joins, changes place, leaves.
    let grace = team.member("Grace Hopper", "Admiral").await;
    assert!(directory_version_moved(&team, &mut seen).await, "a person joined");
    ada_in_slack.name = "Augusta Ada King".into();
    members::upsert_from_slack(pool, &workspace_id, &ada_in_slack, &new_id(), 4).await.unwrap();
    assert!(directory_version_moved(&team, &mut seen).await, "a new name, a new place");
    members::update_deleted(pool, &workspace_id, &grace, true, 5).await.unwrap();
    assert!(directory_version_moved(&team, &mut seen).await, "deactivated");
    members::update_forgotten(pool, &ada, 6).await.unwrap();
    assert!(directory_version_moved(&team, &mut seen).await, "forgotten");
}

async fn the_directory_shows_people_joining_renamed_and_leaving_at_once(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    let mut ids = Vec::new();
    for number in 0..100 {
        ids.push(team.member(&format!("Person {number:03}"), "Engineer").await);
    }
    let (viewer, everyone) = (viewer(&team), DirectoryFilter::default());
    let page = |number: u32| people::directory(&viewer, &everyone, number);
    // Every page read once, so the directory's page starts are kept.
    for number in 1..=3 {
        page(number).await.unwrap();
    }

    let aaron = team.member("Aaron First", "").await;
    let first = page(1).await.unwrap();
    assert_eq!((first.people[0].name.as_str(), first.people[47].name.as_str()), ("Aaron First", "Person 046"));
    assert_eq!((first.everyone, first.matching, first.has_next_page), (101, 101, true));
    let last = page(3).await.unwrap();
    assert_eq!(names(&last.people), ["Person 095", "Person 096", "Person 097", "Person 098", "Person 099"]);

    let mut renamed = as_slack_has_them(&team, &ids[0]).await;
    renamed.name = "Zara Last".into();
    members::upsert_from_slack(db.db.pool(), &team.workspace_id, &renamed, &new_id(), 1).await.unwrap();
    assert_eq!(page(1).await.unwrap().people[1].name, "Person 001");
    let last = page(3).await.unwrap();
    assert_eq!(names(&last.people), ["Person 096", "Person 097", "Person 098", "Person 099", "Zara Last"]);

    members::update_deleted(db.db.pool(), &team.workspace_id, &aaron, true, 2).await.unwrap();
    let second = page(2).await.unwrap();
    assert_eq!((second.people[0].name.as_str(), second.everyone), ("Person 049", 100));
    let last = page(3).await.unwrap();
    assert_eq!(names(&last.people), ["Person 097", "Person 098", "Person 099", "Zara Last"]);
    assert!(!last.has_next_page);
}

async fn a_second_server_on_the_same_database_shows_the_firsts_directory_changes(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    for number in 0..60 {
        team.member(&format!("Person {number:03}"), "Engineer").await;
    }
    let elsewhere = Db::connect(&db.url).await.unwrap();
    let there = Viewer::workspace_admin(elsewhere.clone(), team.workspace_id.clone());
    let everyone = DirectoryFilter::default();
    assert_eq!(people::directory(&there, &everyone, 2).await.unwrap().people.len(), 12);

    // Written through this test's handle; the other keeps page starts of its own.
    team.member("Zed Last", "").await;

    let seen_there = people::directory(&there, &everyone, 2).await.unwrap();
    assert_eq!(seen_there.people.last().map(|p| p.name.as_str()), Some("Zed Last"));
    assert_eq!((seen_there.people.len(), seen_there.everyone), (13, 61));
    assert_eq!(people::directory(&viewer(&team), &everyone, 2).await.unwrap(), seen_there);
    elsewhere.close().await;
}

/// Each member's (count, latest answer's id and time) and each question's count (by
/// workspace and question, left out at zero).
type Counts = (Vec<(String, i64, Option<String>, Option<i64>)>, Vec<(String, String, i64)>);

/// [`Counts`] worked out again from the answers themselves.
async fn recounted(db: &Db) -> Counts {
    let members = sqlx::query_as::<Any, (String, i64, Option<String>, Option<i64>)>(
        "SELECT m.id,
                (SELECT COUNT(*) FROM prompts p JOIN answers a ON a.prompt_id = p.id
                 WHERE p.member_id = m.id AND a.visibility = 'team'),
                (SELECT a.id FROM prompts p JOIN answers a ON a.prompt_id = p.id
                 WHERE p.member_id = m.id AND a.visibility = 'team'
                 ORDER BY a.created_at DESC, a.id DESC LIMIT 1),
                (SELECT a.created_at FROM prompts p JOIN answers a ON a.prompt_id = p.id
                 WHERE p.member_id = m.id AND a.visibility = 'team'
                 ORDER BY a.created_at DESC, a.id DESC LIMIT 1)
         FROM members m ORDER BY m.id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let questions = sqlx::query_as::<Any, (String, String, i64)>(
        "SELECT a.workspace_id, p.question_id, COUNT(*)
         FROM answers a JOIN prompts p ON p.id = a.prompt_id JOIN members m ON m.id = p.member_id
         WHERE a.visibility = 'team' AND m.is_deleted = 0
         GROUP BY a.workspace_id, p.question_id ORDER BY a.workspace_id, p.question_id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    (members, questions)
}

/// [`Counts`] as the triggers keep them.
async fn stored(db: &Db) -> Counts {
    let members = sqlx::query_as::<Any, (String, i64, Option<String>, Option<i64>)>(
        "SELECT m.id, COALESCE(c.answer_count, 0), c.latest_answer_id, c.latest_answer_at
         FROM members m LEFT JOIN member_answer_counts c ON c.member_id = m.id ORDER BY m.id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let questions = sqlx::query_as::<Any, (String, String, i64)>(
        "SELECT workspace_id, question_id, answer_count FROM question_answer_counts
         WHERE answer_count <> 0 ORDER BY workspace_id, question_id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    (members, questions)
}

/// A directory card's count and latest answer's text, found by name.
async fn card(team: &Team, name: &str) -> (i64, Option<String>) {
    let people = directory(team).await;
    let person = people.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name} is listed"));
    (person.answer_count, person.latest.as_ref().map(|latest| latest.text.clone()))
}

/// The `/questions` count of the question reading `text`.
async fn question_count(team: &Team, text: &str) -> i64 {
    let list = questions::list(&viewer(team)).await.unwrap();
    list.iter().find(|q| q.text == text).map_or(0, |q| q.answer_count)
}

/// The directory's counts and latest answers and `/questions`' counts are kept by triggers
/// (migration 21); after each change they are what counting the answers again gives.
async fn the_stored_answer_counts_follow_each_answer_as_it_changes(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let mut elsewhere = Team::new(&db.db, "Elsewhere").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let grace = team.member("Grace Hopper", "Admiral").await;
    let breakfast = team.question("Favourite breakfast?").await;
    let trip = team.question("Best trip?").await;
    let check = async |team: &Team, name: &str, expected: (i64, Option<&str>)| {
        assert_eq!(card(team, name).await, (expected.0, expected.1.map(str::to_owned)), "{name}'s card");
        assert_eq!(stored(&team.db).await, recounted(&team.db).await, "stored counts against a recount");
    };

    team.answer(&ada, &breakfast, "Porridge", "team").await;
    let lisbon = team.answer(&ada, &trip, "Lisbon by train", "team").await;
    let secret = team.answer(&ada, &breakfast, "A secret I keep", "only_me").await;
    let other = elsewhere.member("Ada Elsewhere", "").await;
    elsewhere.answer(&other, &breakfast, "Eggs", "team").await;
    check(&team, "Ada Lovelace", (2, Some("Lisbon by train"))).await;
    let counts = (question_count(&team, "Favourite breakfast?").await, question_count(&team, "Best trip?").await);
    assert_eq!(counts, (1, 1), "Elsewhere's answer to the same question is Elsewhere's");

    let edit = async |id: &str, text: &str, visibility: Visibility| {
        answers::update_text_and_visibility(db.db.pool(), id, text, visibility, 1).await.unwrap();
    };
    edit(&lisbon, "Lisbon by train", Visibility::OnlyMe).await;
    check(&team, "Ada Lovelace", (1, Some("Porridge"))).await;
    assert_eq!(question_count(&team, "Best trip?").await, 0);

    edit(&secret, "Not a secret now", Visibility::Team).await;
    check(&team, "Ada Lovelace", (2, Some("Not a secret now"))).await;
    assert_eq!(question_count(&team, "Favourite breakfast?").await, 2);

    answers::delete(db.db.pool(), &secret).await.unwrap();
    check(&team, "Ada Lovelace", (1, Some("Porridge"))).await;
    assert_eq!(question_count(&team, "Favourite breakfast?").await, 1);

    team.answer(&grace, &trip, "Kyoto in spring", "team").await;
    members::update_deleted(db.db.pool(), &team.workspace_id, &grace, true, 1).await.unwrap();
    assert_eq!(question_count(&team, "Best trip?").await, 0, "a deactivated member's answers leave the count");
    assert_eq!(stored(&db.db).await, recounted(&db.db).await);
    members::update_deleted(db.db.pool(), &team.workspace_id, &grace, false, 2).await.unwrap();
    assert_eq!(question_count(&team, "Best trip?").await, 1, "and come back with them");
    check(&team, "Grace Hopper", (1, Some("Kyoto in spring"))).await;

    // A pack deleted takes its questions' prompts and answers with it.
    let (pack, view) = team.pack_with_question("Views", "Best view from a window?").await;
    team.answer(&ada, &view, "The harbour", "team").await;
    check(&team, "Ada Lovelace", (2, Some("The harbour"))).await;
    packs::delete_own(db.db.pool(), &team.workspace_id, &pack).await.unwrap();
    check(&team, "Ada Lovelace", (1, Some("Porridge"))).await;
}

/// The migration that keeps the counts.
const ANSWER_COUNTS_MIGRATION: i64 = 20261205000021;

async fn answers_stored_before_the_counts_were_kept_are_counted(db: TestDb) {
    let old = db.another_unmigrated().await;
    let before: Vec<_> =
        old.backend().migrator().iter().filter(|m| m.version < ANSWER_COUNTS_MIGRATION).cloned().collect();
    let previous_release =
        sqlx::migrate::Migrator { migrations: std::borrow::Cow::Owned(before), ..sqlx::migrate::Migrator::DEFAULT };
    previous_release.run(old.db.pool()).await.unwrap();
    let mut team = Team::new(&old.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let alan = team.member("Alan Turing", "Researcher").await;
    let breakfast = team.question("Favourite breakfast?").await;
    let trip = team.question("Best trip?").await;
    team.answer(&ada, &breakfast, "Porridge", "team").await;
    team.answer(&ada, &trip, "Lisbon by train", "team").await;
    team.answer(&ada, &trip, "My diary says otherwise", "only_me").await;
    team.answer(&alan, &breakfast, "Toast", "team").await;
    members::update_deleted(old.db.pool(), &team.workspace_id, &alan, true, 1).await.unwrap();

    old.db.migrate().await.unwrap();

    assert_eq!(stored(&old.db).await, recounted(&old.db).await);
    assert_eq!(card(&team, "Ada Lovelace").await, (2, Some("Lisbon by train".to_owned())));
    assert_eq!(question_count(&team, "Favourite breakfast?").await, 1, "Alan is deactivated");
    assert_eq!(question_count(&team, "Best trip?").await, 1);
}

/// Storing an answer closes its prompt first, which locks the workspace's row (migration 19),
/// while deactivating a member locks their row, then the workspace's. The counts are kept in
/// the same order, so the deactivation waits for the answer (on PostgreSQL, locking the
/// other way round was a deadlock), and the answer is counted once, whoever commits first.
async fn an_answer_stored_while_a_coworker_is_deactivated_is_counted_once_without_a_deadlock(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Engineer").await;
    let grace = team.member("Grace Hopper", "Admiral").await;
    let breakfast = team.question("Favourite breakfast?").await;
    team.answer(&grace, &breakfast, "Kedgeree", "team").await;
    // Ada's question is open again, her answer not stored yet.
    let earlier = team.answer(&ada, &breakfast, "Porridge", "team").await;
    let answer = answers::find_managed(db.db.pool(), &team.workspace_id, &ada, &earlier).await.unwrap().unwrap();
    answers::delete(db.db.pool(), &earlier).await.unwrap();
    sqlx::query("UPDATE prompts SET status = 'sent' WHERE id = $1")
        .bind(&answer.prompt_id)
        .execute(db.db.pool())
        .await
        .unwrap();

    let mut answering = db.db.pool().begin().await.unwrap();
    prompts::update_status(&mut *answering, &answer.prompt_id, PromptStatus::Sent, PromptStatus::Answered, 5)
        .await
        .unwrap();
    let deactivating = tokio::spawn({
        let (db, workspace_id) = (db.db.clone(), team.workspace_id.clone());
        async move { members::update_deleted(db.pool(), &workspace_id, &grace, true, 5).await }
    });
    // Long enough for the deactivation to be waiting on the workspace's row.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let again = answers::Answer {
        id: new_id(),
        workspace_id: team.workspace_id.clone(),
        prompt_id: answer.prompt_id.clone(),
        text: "Porridge".to_owned(),
        visibility: Visibility::Team,
        created_at: 5,
        updated_at: 5,
    };
    answers::insert(&mut answering, &again).await.unwrap();
    answering.commit().await.unwrap();
    deactivating.await.unwrap().expect("the deactivation waited for the answer and went through");

    assert_eq!(question_count(&team, "Favourite breakfast?").await, 1, "Ada's answer; Grace is deactivated");
    assert_eq!(stored(&db.db).await, recounted(&db.db).await);
}

/// The bulk inserts (a benchmark's team, the demo) store every column of every row as
/// given: each column differs from row to row and from its neighbours, and 250 rows are
/// three statements, so every seam between two statements is crossed. Each answer's local
/// hour is its own member's.
async fn rows_stored_many_at_a_time_are_stored_as_given(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    let question = team.question("Favourite breakfast?").await;
    let zones_each = [Some("Asia/Tokyo"), Some("America/New_York"), None];
    let people: Vec<members::Member> = (0..250_i64)
        .map(|n| {
            let mut row = unsaved_member(&team.workspace_id, &format!("Person {n:03}"), &format!("Title {n}"));
            row.avatar_url = format!("https://avatars.example/{n}.png");
            row.time_zone = zones_each[(n % 3) as usize].map(str::to_owned);
            row.is_bot = n % 2 == 0;
            row.is_deleted = n % 3 == 0;
            row.is_guest = n % 5 == 0;
            row.is_opted_out = n % 7 == 0;
            row.is_admin = n % 11 == 0;
            row.is_slack_admin = n % 13 == 0;
            row.dm_channel_id = Some(format!("D{n}"));
            row.paused_until = Some(1_000 + n);
            row.created_at = 2_000 + n;
            row.updated_at = 3_000 + n;
            row.welcome_until = Some(4_000 + n);
            row.introduced_at = Some(5_000 + n);
            row.delivery_stopped_reason = Some(format!("reason {n}"));
            row
        })
        .collect();
    let asked: Vec<prompts::Prompt> = people
        .iter()
        .zip(1_i64..)
        .map(|(person, n)| prompts::Prompt {
            id: new_id(),
            workspace_id: team.workspace_id.clone(),
            member_id: person.id.clone(),
            question_id: question.clone(),
            due_at: n * 3_600_000,
            sent_at: Some(n * 3_600_000 + 1),
            slack_message_ts: Some(format!("1790000000.{n:06}")),
            status: PromptStatus::Answered,
            created_at: n * 3_600_000 + 2,
            updated_at: n * 3_600_000 + 3,
            round_date: Some(format!("2026-12-{:02}", n % 28 + 1)),
            attempts: n % 3,
            next_attempt_at: n * 3_600_000 + 4,
            claimed_by: Some(format!("claim {n}")),
            claimed_until: Some(n * 3_600_000 + 5),
            send_started_at: Some(n * 3_600_000 + 6),
            failure_reason: Some(format!("failure {n}")),
        })
        .collect();
    // An hour apart, so the hours of the week differ from answer to answer.
    let said: Vec<answers::Answer> = asked
        .iter()
        .zip(1_i64..)
        .map(|(prompt, n)| answers::Answer {
            id: new_id(),
            workspace_id: team.workspace_id.clone(),
            prompt_id: prompt.id.clone(),
            text: format!("Answer {n}"),
            visibility: if n % 4 == 0 { Visibility::OnlyMe } else { Visibility::Team },
            created_at: 1_790_000_000_000 + n * 3_600_000,
            updated_at: 1_790_000_000_000 + n * 3_600_000 + 1,
        })
        .collect();

    let mut conn = db.db.pool().acquire().await.unwrap();
    members::insert_many(&mut conn, &people).await.unwrap();
    prompts::insert_many(&mut conn, &asked).await.unwrap();
    answers::insert_many(&mut conn, &said).await.unwrap();
    drop(conn);

    let by_id = |mut rows: Vec<members::Member>| {
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows
    };
    let stored = members::list_for_workspace(db.db.pool(), &team.workspace_id).await.unwrap();
    assert_eq!(by_id(stored), by_id(people.clone()));
    let keys: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, sort_name, filter_text FROM members WHERE workspace_id = $1 ORDER BY id")
            .bind(&team.workspace_id)
            .fetch_all(db.db.pool())
            .await
            .unwrap();
    let expected_keys: Vec<(String, String, String)> = by_id(people.clone())
        .into_iter()
        .map(|person| {
            let keys = (members::sort_name(&person.name), members::filter_text(&person.name, &person.title));
            (person.id, keys.0, keys.1)
        })
        .collect();
    assert_eq!(keys, expected_keys);
    let stored = prompts::list_for_workspace(db.db.pool(), &team.workspace_id).await.unwrap();
    assert_eq!(stored, asked);
    let workspace = workspaces::find(db.db.pool(), &team.workspace_id).await.unwrap().unwrap();
    type AnswerColumns = (String, String, String, String, String, i64, i64, Option<i64>);
    let stored: Vec<AnswerColumns> = sqlx::query_as(
        "SELECT id, workspace_id, prompt_id, text, visibility, created_at, updated_at, local_hour_of_week
         FROM answers WHERE workspace_id = $1 ORDER BY created_at",
    )
    .bind(&team.workspace_id)
    .fetch_all(db.db.pool())
    .await
    .unwrap();
    let expected: Vec<AnswerColumns> = said
        .iter()
        .zip(&people)
        .map(|(answer, person)| {
            let zone = zones::member_zone(person.time_zone.as_deref(), &workspace.default_time_zone);
            (
                answer.id.clone(),
                answer.workspace_id.clone(),
                answer.prompt_id.clone(),
                answer.text.clone(),
                answer.visibility.as_str().to_owned(),
                answer.created_at,
                answer.updated_at,
                Some(zones::hour_of_week(zone, answer.created_at)),
            )
        })
        .collect();
    assert_eq!(stored, expected);
}

#[tokio::test]
async fn refreshing_the_inbox_statistics_tells_postgresql_how_many_items_it_holds() {
    let Some(db) = TestDb::postgres().await else { return };
    let pool = db.db.pool();
    for id in ["Ev01", "Ev02", "Ev03"] {
        let event = inbox::NewItem {
            source: inbox::Source::SlackEvent,
            external_id: id,
            ordering_key: "slack:T1",
            kind: "message",
            payload: "{}",
        };
        inbox::insert_if_new(pool, &event, 1).await.unwrap();
    }
    // What the planner believes the table holds (-1, or 0 before PostgreSQL 14, until it is
    // first analyzed).
    let believed = async || -> f32 {
        sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = 'inbox'::regclass")
            .fetch_one(pool)
            .await
            .unwrap()
    };
    let before = believed().await;

    inbox::refresh_statistics(&db.db).await.unwrap();

    assert_ne!(before, 3.0, "the planner knew the inbox's size before the refresh");
    assert_eq!(believed().await, 3.0);
}
