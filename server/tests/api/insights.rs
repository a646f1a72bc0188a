//! `/admin/insights` on SQLite and PostgreSQL, against hand-counted prompts and answers: the
//! weekly participation, each question's and each pack's numbers, the answer-time heatmap in
//! members' local time (across the end of summer time), the periods' edges, the page's charts
//! and tables, the CSV downloads, and the refusal of any other period.

use app::{
    features::{
        answers::types::Visibility,
        insights::types::{Insights, Mark, Period, QuestionColumn, QuestionSort, QuestionStats, WeekStats},
    },
    server::{
        clock::ManualClock,
        db::{
            answers,
            prompts::{self, PromptStatus},
        },
        new_id,
        services::insights,
        viewer::Viewer,
    },
};

use crate::helpers::{Browser, Team, TestApp, TestDb, spawn_app_at};

on_both_backends!(
    participation_counts_each_weeks_sent_questions_by_what_became_of_them,
    each_question_has_its_counts_rates_and_median_wait_and_the_best_and_worst_are_marked,
    each_pack_has_its_answer_rate,
    an_answer_at_half_past_nine_in_berlin_is_in_hour_9_before_and_after_summer_time_ends,
    a_period_of_4_12_or_52_weeks_holds_exactly_its_weeks,
    another_workspaces_prompts_and_answers_are_never_counted,
    the_page_shows_each_chart_with_its_title_and_a_table_of_the_same_numbers,
    each_chart_downloads_as_csv_with_a_header_row_and_the_tables_numbers,
    a_period_other_than_4_12_or_52_weeks_is_refused,
    the_counts_follow_each_prompt_and_answer_as_it_changes,
    a_median_whose_middle_answers_are_hours_apart_is_still_their_mean,
);

/// The tests' "now": Wednesday 25 November 2026, in the week of Monday the 23rd.
const NOW: &str = "2026-11-25T12:00:00Z";
const MINUTE_MS: i64 = 60 * 1000;

fn at(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
}

fn admin_of(team: &Team) -> Viewer {
    Viewer::workspace_admin(team.db.clone(), team.workspace_id.clone())
}

fn period(weeks: &str) -> Period {
    Period::parse(Some(weeks)).unwrap()
}

/// The insights of `team` over `weeks` at [`NOW`], questions in the default order.
async fn insights_of(team: &Team, weeks: &str) -> Insights {
    insights::overview(&admin_of(team), period(weeks), QuestionSort::DEFAULT, at(NOW)).await.unwrap()
}

/// Records a prompt of `question` to `member`, sent at `sent_at` and now `status`; returns its id.
async fn sent(team: &Team, member: &str, question: &str, sent_at: &str, status: PromptStatus) -> String {
    prompt(team, member, question, at(sent_at), Some(at(sent_at)), status).await
}

/// Records a prompt due at `due_at` that never reached Slack (waiting, or failed).
async fn not_sent(team: &Team, member: &str, question: &str, due_at: &str, status: PromptStatus) -> String {
    prompt(team, member, question, at(due_at), None, status).await
}

async fn prompt(
    team: &Team,
    member: &str,
    question: &str,
    due_at: i64,
    sent_at: Option<i64>,
    status: PromptStatus,
) -> String {
    let row = prompts::Prompt {
        id: new_id(),
        workspace_id: team.workspace_id.clone(),
        member_id: member.to_owned(),
        question_id: question.to_owned(),
        due_at,
        sent_at,
        slack_message_ts: sent_at.map(|_| "1790000000.000100".to_owned()),
        status,
        created_at: due_at,
        updated_at: due_at,
        round_date: None,
        attempts: 0,
        next_attempt_at: due_at,
        claimed_by: None,
        claimed_until: None,
        send_started_at: sent_at,
        failure_reason: None,
    };
    prompts::insert(team.db.pool(), &row).await.unwrap();
    row.id
}

/// Records a prompt sent at `sent_at` and answered `after_minutes` later; returns its id.
async fn answered(team: &Team, member: &str, question: &str, sent_at: &str, after_minutes: i64) -> String {
    let prompt = sent(team, member, question, sent_at, PromptStatus::Answered).await;
    let created_at = at(sent_at) + after_minutes * MINUTE_MS;
    let answer = answers::Answer {
        id: new_id(),
        workspace_id: team.workspace_id.clone(),
        prompt_id: prompt.clone(),
        text: "An answer".to_owned(),
        visibility: Visibility::Team,
        created_at,
        updated_at: created_at,
    };
    answers::insert(&mut team.db.pool().acquire().await.unwrap(), &answer).await.unwrap();
    prompt
}

/// Acme's admin, over the four weeks to [`NOW`] (counted by hand):
/// - week of 2 Nov: nothing;
/// - week of 9 Nov: "Tea or coffee" to three (answered after 30 min, skipped, expired) and
///   "Best view from a window" to the admin (answered after 10 min): 4 asked, 2 answered;
/// - week of 16 Nov: "Best view from a window" to two (answered after 60 min, still open),
///   and two never sent (one waiting, one failed): 2 asked, 1 answered;
/// - week of 23 Nov: nothing;
/// - Sunday 1 Nov, before the four weeks: one more answered "Tea or coffee".
///
/// So "Tea or coffee": 3 asked, 33.3% answered, 33.3% skipped, a median of 30 min; "Best view
/// from a window": 3 asked, 66.7%, 0.0%, a median of (10 + 60) / 2 = 35 min; "Acme pack": 6
/// asked, 3 answered, 1 skipped. Everyone is in Europe/Berlin (UTC+1 in November), so the
/// answers are at 11:30 Tuesday, 11:10 Thursday and 11:00 Monday, local time.
///
/// Elsewhere, another workspace, asks and answers in the same weeks.
async fn acme(db: &TestDb) -> (Team, String) {
    let team = Team::new(&db.db, "Acme").await;
    let admin = team.admin("Ada Admin").await;
    let bo = team.member("Bo Member", "Engineer").await;
    let cy = team.member("Cy Member", "Designer").await;
    let tea = team.question("Tea or coffee").await;
    let view = team.question("Best view from a window").await;
    answered(&team, &admin, &tea, "2026-11-10T10:00:00Z", 30).await;
    sent(&team, &bo, &tea, "2026-11-10T10:00:00Z", PromptStatus::Skipped).await;
    sent(&team, &cy, &tea, "2026-11-10T10:00:00Z", PromptStatus::Expired).await;
    answered(&team, &admin, &view, "2026-11-12T10:00:00Z", 10).await;
    answered(&team, &admin, &view, "2026-11-16T09:00:00Z", 60).await;
    sent(&team, &bo, &view, "2026-11-17T09:00:00Z", PromptStatus::Sent).await;
    not_sent(&team, &cy, &view, "2026-11-18T09:00:00Z", PromptStatus::Pending).await;
    not_sent(&team, &admin, &tea, "2026-11-18T09:00:00Z", PromptStatus::Failed).await;
    answered(&team, &admin, &tea, "2026-11-01T20:00:00Z", 5).await;

    let elsewhere = Team::new(&db.db, "Elsewhere").await;
    let eve = elsewhere.member("Eve Elsewhere", "").await;
    let theirs = elsewhere.question("Elsewhere question").await;
    answered(&elsewhere, &eve, &theirs, "2026-11-10T10:00:00Z", 30).await;
    answered(&elsewhere, &eve, &theirs, "2026-11-17T10:00:00Z", 30).await;
    sent(&elsewhere, &eve, &theirs, "2026-11-18T10:00:00Z", PromptStatus::Skipped).await;
    (team, admin)
}

fn week(week_start: &str, asked: i64, answered: i64, skipped: i64, expired: i64) -> WeekStats {
    WeekStats { week_start: at(week_start), asked, answered, skipped, expired }
}

fn question<'i>(insights: &'i Insights, text: &str) -> &'i QuestionStats {
    insights.questions.iter().find(|q| q.question == text).unwrap_or_else(|| panic!("{text} is listed"))
}

async fn participation_counts_each_weeks_sent_questions_by_what_became_of_them(db: TestDb) {
    let (team, _) = acme(&db).await;

    let insights = insights_of(&team, "4").await;

    assert_eq!(
        insights.weeks,
        [
            week("2026-11-02T00:00:00Z", 0, 0, 0, 0),
            week("2026-11-09T00:00:00Z", 4, 2, 1, 1),
            week("2026-11-16T00:00:00Z", 2, 1, 0, 0),
            week("2026-11-23T00:00:00Z", 0, 0, 0, 0),
        ]
    );
    assert_eq!(insights.weeks[1].cells(), ["2026-11-09", "4", "2", "1", "1", "50.0%"]);
    assert_eq!(insights.weeks[3].cells()[5], "-", "no rate without questions");
}

async fn each_question_has_its_counts_rates_and_median_wait_and_the_best_and_worst_are_marked(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada", "").await;
    let bo = team.member("Bo", "").await;
    let odd = team.question("Three answers").await;
    let even = team.question("Four answers").await;
    let none = team.question("No answers").await;
    let rare = team.question("Asked once").await;
    // Three answers after 10, 40 and 20 minutes, and a skip: the median is the middle, 20.
    for (sent_at, wait) in [("2026-11-09T09:00:00Z", 10), ("2026-11-10T09:00:00Z", 40), ("2026-11-11T09:00:00Z", 20)] {
        answered(&team, &ada, &odd, sent_at, wait).await;
    }
    sent(&team, &bo, &odd, "2026-11-09T09:00:00Z", PromptStatus::Skipped).await;
    // Four answers after 5, 90, 15 and 45 minutes: the median is between 15 and 45, 30.
    for (sent_at, wait) in [
        ("2026-11-16T09:00:00Z", 5),
        ("2026-11-17T09:00:00Z", 90),
        ("2026-11-18T09:00:00Z", 15),
        ("2026-11-19T09:00:00Z", 45),
    ] {
        answered(&team, &bo, &even, sent_at, wait).await;
    }
    sent(&team, &ada, &none, "2026-11-16T09:00:00Z", PromptStatus::Skipped).await;
    sent(&team, &bo, &none, "2026-11-16T09:00:00Z", PromptStatus::Skipped).await;
    sent(&team, &ada, &none, "2026-11-17T09:00:00Z", PromptStatus::Expired).await;
    answered(&team, &ada, &rare, "2026-11-20T09:00:00Z", 2).await;

    let insights = insights_of(&team, "4").await;

    let three = question(&insights, "Three answers");
    assert_eq!((three.asked, three.answered, three.skipped), (4, 3, 1));
    assert_eq!(three.median_answer_ms, Some(20 * MINUTE_MS), "an odd count's middle answer");
    assert_eq!(three.cells()[1..6], ["Acme pack", "4", "75.0%", "25.0%", "20 min"]);
    let four = question(&insights, "Four answers");
    assert_eq!(four.median_answer_ms, Some(30 * MINUTE_MS), "an even count's middle two, averaged");
    assert_eq!(four.cells()[2..6], ["4", "100.0%", "0.0%", "30 min"]);
    let nothing = question(&insights, "No answers");
    assert_eq!(nothing.median_answer_ms, None);
    assert_eq!(nothing.cells()[2..6], ["3", "0.0%", "66.7%", "-"]);
    // Ranked among the three asked at least three times: the better half best, the rest worst.
    assert_eq!((four.mark, three.mark, nothing.mark), (Some(Mark::Best), Some(Mark::Best), Some(Mark::Worst)));
    assert_eq!(question(&insights, "Asked once").mark, None, "asked too rarely to rank");
    let order: Vec<&str> = insights.questions.iter().map(|q| q.question.as_str()).collect();
    assert_eq!(order, ["Asked once", "Four answers", "Three answers", "No answers"], "best answered first");

    let by_wait = QuestionSort { column: QuestionColumn::Median, descending: false };
    let sorted = insights::overview(&admin_of(&team), period("4"), by_wait, at(NOW)).await.unwrap();
    let order: Vec<&str> = sorted.questions.iter().map(|q| q.question.as_str()).collect();
    assert_eq!(order, ["Asked once", "Three answers", "Four answers", "No answers"], "quickest first, none last");
}

async fn each_pack_has_its_answer_rate(db: TestDb) {
    let (team, admin) = acme(&db).await;
    let (_, deep) = team.pack_with_question("Deep questions", "What would you change").await;
    answered(&team, &admin, &deep, "2026-11-19T09:00:00Z", 15).await;
    sent(&team, &admin, &deep, "2026-11-20T09:00:00Z", PromptStatus::Skipped).await;

    let insights = insights_of(&team, "4").await;

    let packs: Vec<[String; 6]> = insights.packs.iter().map(|pack| pack.cells()).collect();
    assert_eq!(
        packs,
        [
            ["Acme pack", "6", "3", "1", "50.0%", "16.7%"].map(str::to_owned),
            ["Deep questions", "2", "1", "1", "50.0%", "50.0%"].map(str::to_owned),
        ]
    );
}

async fn an_answer_at_half_past_nine_in_berlin_is_in_hour_9_before_and_after_summer_time_ends(db: TestDb) {
    // Summer time ends in Berlin on Sunday 25 October 2026: 09:30 is 07:30 UTC on the Friday
    // before and 08:30 UTC on the Monday after.
    let team = Team::new(&db.db, "Acme").await;
    let ana = team.member_row("Ana Berlin", "", |m| m.time_zone = Some("Europe/Berlin".to_owned())).await;
    let uma = team.member_row("Uma Zoneless", "", |m| m.time_zone = None).await;
    let tea = team.question("Tea or coffee").await;
    answered(&team, &ana, &tea, "2026-10-23T07:00:00Z", 30).await;
    answered(&team, &ana, &tea, "2026-10-26T08:00:00Z", 30).await;
    // No zone from Slack: the workspace's (UTC).
    answered(&team, &uma, &tea, "2026-10-27T14:00:00Z", 10).await;
    let elsewhere = Team::new(&db.db, "Elsewhere").await;
    let eve = elsewhere.member("Eve Elsewhere", "").await;
    let theirs = elsewhere.question("Elsewhere question").await;
    answered(&elsewhere, &eve, &theirs, "2026-10-23T07:00:00Z", 30).await;

    let insights = insights::overview(&admin_of(&team), period("4"), QuestionSort::DEFAULT, at("2026-10-28T12:00:00Z"))
        .await
        .unwrap();

    let counts = insights.heatmap.counts;
    assert_eq!(counts[4][9], 1, "Friday 09:30 in summer time");
    assert_eq!(counts[0][9], 1, "Monday 09:30 in winter time");
    assert_eq!(counts[1][14], 1, "Tuesday 14:10 UTC, the workspace's zone");
    assert_eq!(insights.heatmap.total(), 3, "nothing else, nothing of Elsewhere");
    assert_eq!(insights.heatmap.rows()[4][10], "1", "the table's Friday 09:00 column");
}

async fn a_period_of_4_12_or_52_weeks_holds_exactly_its_weeks(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada", "").await;
    let tea = team.question("Tea or coffee").await;
    // The first instant of each period, and the last one before it.
    for sent_at in [
        "2026-11-02T00:00:00Z",
        "2026-11-01T23:59:59.999Z",
        "2026-09-07T00:00:00Z",
        "2026-09-06T23:59:59.999Z",
        "2025-12-01T00:00:00Z",
        "2025-11-30T23:59:59.999Z",
    ] {
        answered(&team, &ada, &tea, sent_at, 1).await;
    }

    for (weeks, first_monday, asked) in
        [("4", "2026-11-02T00:00:00Z", 1), ("12", "2026-09-07T00:00:00Z", 3), ("52", "2025-12-01T00:00:00Z", 5)]
    {
        let insights = insights_of(&team, weeks).await;

        let total: i64 = insights.weeks.iter().map(|week| week.asked).sum();
        assert_eq!(total, asked, "{weeks} weeks");
        assert_eq!(insights.weeks.len().to_string(), weeks);
        assert_eq!(insights.starts_at, at(first_monday), "{weeks} weeks");
        assert_eq!(insights.weeks[0].week_start, at(first_monday));
        assert_eq!(insights.ends_at, at("2026-11-30T00:00:00Z"), "to the end of this week");
        assert_eq!(question(&insights, "Tea or coffee").asked, asked);
        assert_eq!(insights.packs[0].asked, asked);
    }
}

async fn another_workspaces_prompts_and_answers_are_never_counted(db: TestDb) {
    acme(&db).await;
    let quiet = Team::new(&db.db, "Quiet").await;
    quiet.admin("Quinn Admin").await;

    let insights = insights_of(&quiet, "52").await;

    assert!(insights.weeks.iter().all(|week| week.asked == 0), "{:?}", insights.weeks);
    assert!(insights.questions.is_empty());
    assert!(insights.packs.is_empty());
    assert_eq!(insights.heatmap.total(), 0);
}

/// The app at [`NOW`] with [`acme`], and Acme's admin signed in.
async fn acme_app(db: &TestDb) -> (TestApp, Browser) {
    let clock = ManualClock::new(at(NOW));
    let app = spawn_app_at(db, &clock).await;
    let (team, admin) = acme(db).await;
    let browser = app.signed_in(&team.workspace_id, &admin).await;
    (app, browser)
}

/// The texts of the cells of the table row whose first cell reads `first`.
fn row_cells(html: &str, first: &str) -> Vec<String> {
    html.split("<tr")
        .skip(1)
        .map(|row| row.split("</tr>").next().unwrap_or_default())
        .map(|row| {
            row.split("<t")
                .skip(1)
                .filter(|cell| cell.starts_with('d') || cell.starts_with('h'))
                .map(|cell| text_of(cell.split_once('>').map_or("", |(_, content)| content)))
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first().map(String::as_str) == Some(first))
        .unwrap_or_else(|| panic!("a row starting with {first:?} in {html}"))
}

/// `html` without its tags and comments.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.trim().to_owned()
}

async fn the_page_shows_each_chart_with_its_title_and_a_table_of_the_same_numbers(db: TestDb) {
    let (app, admin) = acme_app(&db).await;

    let (status, html) = admin.page("/admin/insights?weeks=4").await;
    let (by_wait, sorted) = admin.page("/admin/insights?weeks=4&sort=-median").await;
    let (default, twelve) = admin.page("/admin/insights").await;

    assert_eq!(status, 200, "{html}");
    for (id, title) in [
        ("participation", "Questions asked and answered per week"),
        ("answer-times", "Answers by weekday and hour, in local time"),
        ("packs", "Answer rate per pack"),
    ] {
        assert!(html.contains(&format!("id=\"{id}-title\"")), "{id}'s chart has a <title>: {html}");
        assert!(html.contains(&format!("aria-labelledby=\"{id}-title {id}-desc\"")), "{id}: {html}");
        assert!(html.contains(title), "{title}");
    }
    assert_eq!(row_cells(&html, "2026-11-09"), ["2026-11-09", "4", "2", "1", "1", "50.0%"]);
    assert_eq!(row_cells(&html, "2026-11-16"), ["2026-11-16", "2", "1", "0", "0", "50.0%"]);
    assert_eq!(
        row_cells(&html, "Best view from a window"),
        ["Best view from a window", "Acme pack", "3", "66.7%", "0.0%", "35 min", "Top 3"]
    );
    assert_eq!(
        row_cells(&html, "Tea or coffee"),
        ["Tea or coffee", "Acme pack", "3", "33.3%", "33.3%", "30 min", "Bottom 3"]
    );
    assert_eq!(row_cells(&html, "Acme pack"), ["Acme pack", "6", "3", "1", "50.0%", "16.7%"]);
    let tuesday = row_cells(&html, "Tue");
    assert_eq!((tuesday.len(), tuesday[12].as_str()), (25, "1"), "one answer at 11:00 local on Tuesday");
    assert!(html.contains("/api/insights/csv?chart=participation"), "a CSV link: {html}");
    assert!(!html.contains("Elsewhere"), "nothing of another workspace");

    assert_eq!(by_wait, 200);
    let slowest = sorted.find("Best view from a window").unwrap();
    let quicker = sorted.find("Tea or coffee").unwrap();
    assert!(slowest < quicker, "sorted by the median, slowest first");
    assert_eq!(default, 200);
    assert_eq!(row_cells(&twelve, "2026-09-07")[1], "0", "12 weeks by default, from 7 September");
    app.shut_down().await;
}

async fn each_chart_downloads_as_csv_with_a_header_row_and_the_tables_numbers(db: TestDb) {
    let (app, admin) = acme_app(&db).await;
    let (_, html) = admin.page("/admin/insights?weeks=4").await;
    let csv = |chart: &'static str| {
        let url = format!("{}/api/insights/csv", admin.address);
        let request = admin.client.get(url).query(&[("chart", chart), ("weeks", "4")]);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
            let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
            (status, kind, disposition, response.text().await.unwrap())
        }
    };

    let (status, kind, disposition, participation) = csv("participation").await;
    let (_, _, _, questions) = csv("questions").await;
    let (_, _, _, heatmap) = csv("heatmap").await;
    let (_, _, packs_disposition, packs) = csv("packs").await;

    assert_eq!(status, 200, "{participation}");
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert_eq!(disposition, "attachment; filename=\"insights-participation.csv\"");
    assert_eq!(packs_disposition, "attachment; filename=\"insights-packs.csv\"");
    let lines = |csv: &str| csv.lines().map(str::to_owned).collect::<Vec<_>>();
    let participation = lines(&participation);
    assert_eq!(participation[0], "Week (Monday),Asked,Answered,Skipped,Expired,Answer rate");
    assert_eq!(participation.len(), 5, "a header and four weeks");
    assert_eq!(participation[2], row_cells(&html, "2026-11-09").join(","));
    assert_eq!(participation[2], "2026-11-09,4,2,1,1,50.0%");
    let questions = lines(&questions);
    assert_eq!(questions[0], "Question,Pack,Asked,Answer rate,Skip rate,Median time to answer,Rank");
    assert!(questions.contains(&row_cells(&html, "Best view from a window").join(",")), "{questions:?}");
    assert!(questions.contains(&"Tea or coffee,Acme pack,3,33.3%,33.3%,30 min,Bottom 3".to_owned()));
    let heatmap = lines(&heatmap);
    assert!(heatmap[0].starts_with("Weekday,00:00,01:00,"), "{}", heatmap[0]);
    assert_eq!(heatmap[2], row_cells(&html, "Tue").join(","));
    let packs = lines(&packs);
    assert_eq!(packs, ["Pack,Asked,Answered,Skipped,Answer rate,Skip rate", "Acme pack,6,3,1,50.0%,16.7%"]);
    for body in [&participation, &questions, &heatmap, &packs] {
        assert!(!body.concat().contains("Elsewhere"), "{body:?}");
    }

    // A browser following the page's link asks for HTML and names the page: still the file.
    let followed = admin
        .client
        .get(format!("{}/api/insights/csv?chart=packs&weeks=4", admin.address))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .header("referer", format!("{}/admin/insights?weeks=4", admin.address))
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status().as_u16(), 200);
    assert!(followed.text().await.unwrap().starts_with("Pack,Asked"));
    app.shut_down().await;
}

async fn a_period_other_than_4_12_or_52_weeks_is_refused(db: TestDb) {
    let (app, admin) = acme_app(&db).await;

    let (page, html) = admin.page("/admin/insights?weeks=5").await;
    let (called, error) = admin.call_server_fn("insights/get", &[("weeks", "5")]).await;
    let download = admin
        .client
        .get(format!("{}/api/insights/csv", admin.address))
        .query(&[("chart", "participation"), ("weeks", "5")])
        .send()
        .await
        .unwrap();
    let (bad_sort, sort_error) = admin.call_server_fn("insights/get", &[("weeks", "4"), ("sort", "colour")]).await;
    let (valid, _) = admin.call_server_fn("insights/get", &[("weeks", "4")]).await;

    assert_eq!(page, 422, "{html}");
    assert!(html.contains("weeks") && html.contains("4, 12 or 52"), "the page says why: {html}");
    assert_eq!(called, 422, "{error}");
    assert!(error.contains("weeks"), "{error}");
    assert_eq!(download.status().as_u16(), 422);
    assert_eq!(bad_sort, 422, "{sort_error}");
    assert!(sort_error.contains("sort"), "{sort_error}");
    assert_eq!(valid, 200, "a valid period is shown");
    let pie = admin
        .client
        .get(format!("{}/api/insights/csv", admin.address))
        .query(&[("chart", "pie"), ("weeks", "4")])
        .send()
        .await
        .unwrap();
    assert_eq!(pie.status().as_u16(), 422);
    app.shut_down().await;
}

/// The page reads counts that triggers keep (migration 16): a prompt counts once it is sent,
/// moves between statuses as it changes, and a withdrawn answer leaves the median and the
/// heatmap while its prompt stays answered; answers stored before the counts were kept get
/// their local hour when the server starts.
async fn the_counts_follow_each_prompt_and_answer_as_it_changes(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    let ana = team.member_row("Ana Berlin", "", |m| m.time_zone = Some("Europe/Berlin".to_owned())).await;
    let tea = team.question("Tea or coffee").await;
    let pool = team.db.pool();
    let prompt = not_sent(&team, &ana, &tea, "2026-11-16T09:00:00Z", PromptStatus::Pending).await;
    let planned = insights_of(&team, "4").await;

    // Claimed and sent as the dispatcher does it, then answered 25 minutes later.
    sqlx::query("UPDATE prompts SET status = 'in_flight', claimed_by = 'test' WHERE id = $1")
        .bind(&prompt)
        .execute(pool)
        .await
        .unwrap();
    assert!(
        prompts::update_sent(pool, &prompt, "test", "1790000000.000200", at("2026-11-16T09:00:00Z")).await.unwrap()
    );
    let sent = insights_of(&team, "4").await;
    assert!(
        prompts::update_status(pool, &prompt, PromptStatus::Sent, PromptStatus::Answered, at("2026-11-16T09:25:00Z"))
            .await
            .unwrap()
    );
    let answer_id = new_id();
    let created_at = at("2026-11-16T09:25:00Z");
    let answer = answers::Answer {
        id: answer_id.clone(),
        workspace_id: team.workspace_id.clone(),
        prompt_id: prompt.clone(),
        text: "Tea".to_owned(),
        visibility: Visibility::Team,
        created_at,
        updated_at: created_at,
    };
    answers::insert(&mut pool.acquire().await.unwrap(), &answer).await.unwrap();
    let answered = insights_of(&team, "4").await;

    // As if stored before migration 16, then filled in at start.
    sqlx::query("UPDATE answers SET local_hour_of_week = NULL").execute(pool).await.unwrap();
    let hourless = insights_of(&team, "4").await;
    let filled = answers::fill_local_hours(&team.db).await.unwrap();
    let refilled = insights_of(&team, "4").await;
    answers::delete(pool, &answer_id).await.unwrap();
    let withdrawn = insights_of(&team, "4").await;

    assert_eq!(planned.weeks[2], week("2026-11-16T00:00:00Z", 0, 0, 0, 0), "not counted before it is sent");
    assert_eq!(sent.weeks[2], week("2026-11-16T00:00:00Z", 1, 0, 0, 0));
    assert_eq!(answered.weeks[2], week("2026-11-16T00:00:00Z", 1, 1, 0, 0));
    assert_eq!(question(&answered, "Tea or coffee").median_answer_ms, Some(25 * MINUTE_MS));
    // Monday 09:25 UTC is 10:25 in Berlin (UTC+1 in November).
    assert_eq!(answered.heatmap.counts[0][10], 1);
    assert_eq!(hourless.heatmap.total(), 0, "an answer without its hour is not placed");
    assert_eq!(filled, 1);
    assert_eq!(refilled.heatmap.counts[0][10], 1);
    assert_eq!(refilled.heatmap.total(), 1);
    assert_eq!(withdrawn.weeks[2], week("2026-11-16T00:00:00Z", 1, 1, 0, 0), "the prompt stays answered");
    assert_eq!(question(&withdrawn, "Tea or coffee").median_answer_ms, None);
    assert_eq!(withdrawn.heatmap.total(), 0);
    assert_eq!(answers::fill_local_hours(&team.db).await.unwrap(), 0, "nothing left to fill in");
}

/// The median is found per hour waited, then per minute within the hours holding the middle
/// answers: here the two middle ones are in different hours (after 50 and 130 minutes), and
/// many more answers lie on either side in other weeks of the period.
async fn a_median_whose_middle_answers_are_hours_apart_is_still_their_mean(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada", "").await;
    let tea = team.question("Tea or coffee").await;
    let waits = [("2026-11-02T09:00:00Z", 3), ("2026-11-03T09:00:00Z", 7), ("2026-11-09T09:00:00Z", 50)];
    let later = [("2026-11-16T09:00:00Z", 130), ("2026-11-17T09:00:00Z", 600), ("2026-11-23T09:00:00Z", 2000)];
    for (sent_at, wait) in waits.into_iter().chain(later) {
        answered(&team, &ada, &tea, sent_at, wait).await;
    }

    let insights = insights_of(&team, "4").await;

    assert_eq!(question(&insights, "Tea or coffee").median_answer_ms, Some(90 * MINUTE_MS), "(50 + 130) / 2");
    answered(&team, &ada, &tea, "2026-11-24T09:00:00Z", 61).await;
    let odd = insights_of(&team, "4").await;
    assert_eq!(question(&odd, "Tea or coffee").median_answer_ms, Some(61 * MINUTE_MS), "the middle of seven");
}
