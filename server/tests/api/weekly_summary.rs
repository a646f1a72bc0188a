//! The admins' weekly summary: the week's numbers from the database, and one Slack message
//! to each admin on Monday morning in the workspace's time zone, once a week.

use app::server::{
    clock::{Clock as _, ManualClock},
    db::{weekly_summaries, workspaces},
    services::weekly_summary,
    viewer::Viewer,
};

use crate::helpers::{DEMO_TEAM, Team, TestDb, eventually, spawn_app_at};

on_both_backends!(
    a_weeks_numbers_count_members_asked_and_answered_in_it,
    each_admin_gets_the_summary_once_on_monday_morning,
);

async fn a_weeks_numbers_count_members_asked_and_answered_in_it(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let mut other = Team::new(&db.db, "Other").await;
    let (ada, bob, cy) = (team.member("Ada", "").await, team.member("Bob", "").await, team.member("Cy", "").await);
    let tea = team.question("Tea or coffee?").await;
    let city = team.question("Favourite city?").await;
    for (member, question) in [(&ada, &tea), (&bob, &tea), (&ada, &city), (&cy, &city)] {
        team.answer(member, question, "An answer", "team").await;
    }
    // Cy's answer was to a question sent before the week; Bob's prompt went unanswered.
    let sent = |member: &str, question: &str, at: i64| {
        let pool = db.db.pool().clone();
        let (member, question) = (member.to_owned(), question.to_owned());
        async move {
            sqlx::query("UPDATE prompts SET sent_at = $1 WHERE member_id = $2 AND question_id = $3")
                .bind(at)
                .bind(member)
                .bind(question)
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    let (from, until) = (1_800_000_000_000, 1_800_000_000_000 + 7 * 24 * 60 * 60 * 1000);
    sent(&ada, &tea, from).await;
    sent(&bob, &tea, until - 1).await;
    sent(&ada, &city, from + 1).await;
    sent(&cy, &city, from - 1).await;
    sqlx::query("DELETE FROM answers WHERE prompt_id IN (SELECT id FROM prompts WHERE member_id = $1)")
        .bind(&bob)
        .execute(db.db.pool())
        .await
        .unwrap();
    // Another workspace's busy week counts for nothing here.
    let olga = other.member("Olga", "").await;
    let theirs = other.question("Tea or coffee?").await;
    other.answer(&olga, &theirs, "Tea", "team").await;
    sent(&olga, &theirs, from + 2).await;

    let mut connection = db.db.pool().acquire().await.unwrap();
    let numbers = weekly_summaries::week_numbers(&mut connection, &team.workspace_id, from, until).await.unwrap();

    assert_eq!((numbers.asked, numbers.answered), (2, 1), "Ada and Bob were asked in the week; Ada answered");
    assert_eq!(numbers.top_question, Some(("Favourite city?".to_owned(), 1)), "ties go by the question's text");
}

async fn each_admin_gets_the_summary_once_on_monday_morning(db: TestDb) {
    // Sunday evening in Berlin (UTC+1).
    let clock = ManualClock::new(at("2026-11-29T20:00:00Z"));
    server::demo::seed(&db.db, clock.now_ms()).await.unwrap();
    let workspace = workspaces::find_by_slack_team_id(db.db.pool(), DEMO_TEAM).await.unwrap().unwrap();
    let admin = Viewer::workspace_admin(db.db.clone(), workspace.id.clone());
    // Turned on before the app starts: its job's first pass, at start, may send it too.
    weekly_summary::set_enabled(&admin, true, clock.now_ms()).await.unwrap();
    let app = spawn_app_at(&db, &clock).await;
    let summaries = || app.emulator.messages().into_iter().filter(|m| m.text.starts_with("Rapport's week")).count();
    let admins: usize = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM members WHERE workspace_id = $1 AND (is_admin = 1 OR is_slack_admin = 1)
         AND is_deleted = 0 AND is_bot = 0",
    )
    .bind(&workspace.id)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
    .try_into()
    .unwrap();

    // The first week's summary goes out at once, by this call or the job's first pass.
    weekly_summary::send_due(&app.state).await.unwrap();
    eventually("each admin has the first summary", || async { summaries() == admins }).await;
    assert_eq!(weekly_summary::send_due(&app.state).await.unwrap(), 0, "not twice in a week");

    clock.set(at("2026-11-30T07:59:00Z"));
    assert_eq!(weekly_summary::send_due(&app.state).await.unwrap(), 0, "08:59 in Berlin: not yet");
    clock.set(at("2026-11-30T08:00:00Z"));
    assert_eq!(weekly_summary::send_due(&app.state).await.unwrap(), 1, "Monday 09:00 in Berlin");
    assert_eq!(weekly_summary::send_due(&app.state).await.unwrap(), 0, "once a week");
    assert_eq!(summaries(), 2 * admins);

    weekly_summary::set_enabled(&admin, false, clock.now_ms()).await.unwrap();
    clock.set(at("2026-12-07T08:00:00Z"));
    assert_eq!(weekly_summary::send_due(&app.state).await.unwrap(), 0, "turned off");
    app.shut_down().await;
}

fn at(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
}
