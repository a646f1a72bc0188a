//! Search (`/search`): people, questions and team-visible answers of the viewer's workspace,
//! found by their words in any form, ranked, marked, paged; never an only-me, withdrawn or
//! deactivated member's record, never another workspace's; and no text typed is an error.

use app::{
    features::{
        answers::types::Visibility,
        search::types::{SearchQuery, SearchResults, Segment, plain_text},
    },
    server::{
        db::{Backend, answers, members},
        services::search,
        viewer::Viewer,
    },
};

use crate::helpers::{Team, TestDb, spawn_app};

on_both_backends!(
    an_answer_is_found_by_another_form_of_its_words_marked_the_better_match_first,
    results_follow_the_last_word_while_it_is_typed,
    people_are_found_by_name_and_title,
    questions_are_found_as_the_question_list_shows_them,
    only_me_withdrawn_and_deactivated_members_records_never_match,
    another_workspaces_records_are_never_found,
    any_text_is_a_query_and_none_is_an_error,
    answers_come_ten_to_a_page,
    the_index_follows_edits_withdrawals_hiding_and_deactivation,
    the_search_page_groups_marks_and_links_its_results,
    the_search_page_shows_what_an_answer_says_as_text,
    without_sign_in_the_search_page_goes_to_sign_in,
    a_visitor_of_the_demo_may_search_the_demo_team,
);

/// A member's view of `team`.
fn as_member(db: &TestDb, team: &Team, member: &str) -> Viewer {
    Viewer::member(db.db.clone(), team.workspace_id.clone(), member.to_owned())
}

/// The first page of results for `typed`.
async fn find(viewer: &Viewer, typed: &str) -> SearchResults {
    search::search(viewer, &SearchQuery::parse(typed), 1).await.unwrap()
}

/// The answers found, as their snippets read (whole, for these short answers).
fn answer_texts(results: &SearchResults) -> Vec<String> {
    results.answers.iter().map(|answer| plain_text(&answer.snippet)).collect()
}

fn names(results: &SearchResults) -> Vec<String> {
    results.people.iter().map(|person| plain_text(&person.name)).collect()
}

fn question_texts(results: &SearchResults) -> Vec<String> {
    results.questions.iter().map(|question| plain_text(&question.text)).collect()
}

/// The marked words of `segments`.
fn marked(segments: &[Segment]) -> Vec<&str> {
    segments.iter().filter(|segment| segment.hit).map(|segment| segment.text.as_str()).collect()
}

fn seg(text: &str, hit: bool) -> Segment {
    Segment { text: text.to_owned(), hit }
}

async fn an_answer_is_found_by_another_form_of_its_words_marked_the_better_match_first(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let bob = team.member("Bob Ross", "Designer").await;
    let weekends = team.question("What do you do on weekends?").await;
    team.answer(&ada, &weekends, "I paint watercolours on weekends", "team").await;
    team.answer(&bob, &weekends, "Paint, paint, paint: I paint every single day", "team").await;
    team.answer(&bob, &weekends, "Gardening and long walks", "team").await;

    let found = find(&as_member(&db, &team, &bob), "painting").await;

    assert_eq!(
        answer_texts(&found),
        ["Paint, paint, paint: I paint every single day", "I paint watercolours on weekends"],
        "both forms of the word match; the answer saying it four times ranks first"
    );
    let ada_answer = &found.answers[1];
    assert_eq!(ada_answer.snippet, [seg("I ", false), seg("paint", true), seg(" watercolours on weekends", false)]);
    assert_eq!(ada_answer.member_id.as_str(), ada);
    assert_eq!(ada_answer.member_name, "Ada Lovelace");
    assert_eq!(ada_answer.question_id.as_str(), weekends);
    assert_eq!(ada_answer.question, "What do you do on weekends?");
    assert_eq!(found.words, ["painting"]);
    assert!(!found.has_next_page);
}

async fn results_follow_the_last_word_while_it_is_typed(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let weekends = team.question("What do you do on weekends?").await;
    team.answer(&ada, &weekends, "I paint watercolours on weekends", "team").await;
    let viewer = as_member(&db, &team, &ada);

    for typed in ["pai", "paint", "paint wat", "paint waterc", "paint watercolour", "Paint watercolours"] {
        assert_eq!(answer_texts(&find(&viewer, typed).await), ["I paint watercolours on weekends"], "{typed:?}");
    }
    // One or two letters match answers only as whole words (they start most words).
    for typed in ["p", "pa", "paint w", "paint wa"] {
        assert!(find(&viewer, typed).await.answers.is_empty(), "{typed:?} is not yet a prefix");
    }
    for typed in ["paint x", "pain watercolours", "waterc paint"] {
        assert!(find(&viewer, typed).await.answers.is_empty(), "only the last word is a prefix: {typed:?}");
    }
    let typing = find(&viewer, "paint waterc").await;
    assert_eq!(marked(&typing.answers[0].snippet), ["paint", "watercolours"]);
}

async fn people_are_found_by_name_and_title(db: TestDb) {
    let team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    team.member("Bob Ross", "Designer").await;
    let viewer = as_member(&db, &team, &ada);

    let by_name = find(&viewer, "lovelace").await;
    assert_eq!(names(&by_name), ["Ada Lovelace"]);
    assert_eq!(by_name.people[0].id.as_str(), ada);
    assert_eq!(by_name.people[0].name, [seg("Ada ", false), seg("Lovelace", true)]);
    assert_eq!(plain_text(&by_name.people[0].title), "Staff Engineer");

    let by_title = find(&viewer, "engineering").await;
    assert_eq!(names(&by_title), ["Ada Lovelace"], "a title matches in another form of its word");
    assert_eq!(marked(&by_title.people[0].title), ["Engineer"]);
    assert_eq!(names(&find(&viewer, "ADA staff").await), ["Ada Lovelace"], "name and title together");
    assert_eq!(names(&find(&viewer, "desig").await), ["Bob Ross"]);
    assert!(find(&viewer, "staff bob").await.people.is_empty(), "every word must match");
}

async fn questions_are_found_as_the_question_list_shows_them(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let route = team.question("What is your favourite kayak route?").await;
    let switched_off = team.question("Which kayak did you own first?").await;
    let answered = team.question("Best kayak you ever paddled?").await;
    team.answer(&ada, &answered, "A red one", "team").await;
    for question in [&switched_off, &answered] {
        sqlx::query("UPDATE questions SET is_disabled = 1 WHERE id = $1")
            .bind(question)
            .execute(db.db.pool())
            .await
            .unwrap();
    }
    let viewer = as_member(&db, &team, &ada);

    let found = find(&viewer, "kayaks").await;

    let mut ids: Vec<&str> = found.questions.iter().map(|question| question.id.as_str()).collect();
    ids.sort_unstable();
    let mut expected = vec![route.as_str(), answered.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected, "a switched-off question only while it has answers, as on /questions");
    let route_hit = found.questions.iter().find(|question| question.id.as_str() == route).unwrap();
    assert_eq!(marked(&route_hit.text), ["kayak"]);
    assert_eq!(route_hit.pack, "Acme pack");
}

async fn only_me_withdrawn_and_deactivated_members_records_never_match(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let gone = team.member("Quokka Keeper", "Ranger").await;
    let question = team.question("What made you smile this week?").await;
    team.answer(&ada, &question, "A quokka at dawn", "team").await;
    team.answer(&ada, &question, "My private quokka diary", "only_me").await;
    let withdrawn = team.answer(&ada, &question, "A quokka I took back", "team").await;
    answers::delete(db.db.pool(), &withdrawn).await.unwrap();
    team.answer(&gone, &question, "Feeding the quokka colony", "team").await;
    members::update_deleted(db.db.pool(), &team.workspace_id, &gone, true, 1).await.unwrap();
    team.member_row("Quokka Bot", "Bot", |member| member.is_bot = true).await;
    let forgotten = team.member("Forgotten Quokka", "").await;
    // `members::insert` leaves `forgotten_at` out: forgetting is an update.
    sqlx::query("UPDATE members SET forgotten_at = 1 WHERE id = $1")
        .bind(&forgotten)
        .execute(db.db.pool())
        .await
        .unwrap();

    let found = find(&as_member(&db, &team, &ada), "quokka").await;

    assert_eq!(answer_texts(&found), ["A quokka at dawn"], "never only-me, withdrawn or a deactivated member's");
    assert!(found.people.is_empty(), "never a deactivated member, a bot or someone forgotten: {:?}", names(&found));
}

async fn another_workspaces_records_are_never_found(db: TestDb) {
    let mut ours = Team::new(&db.db, "Ours").await;
    let mut theirs = Team::new(&db.db, "Theirs").await;
    let ada = ours.member("Zeppelin Ada", "Zeppelin pilot").await;
    let eve = theirs.member("Zeppelin Eve", "Zeppelin pilot").await;
    let our_question = ours.question("Ever flown in a zeppelin?").await;
    let their_question = theirs.question("Ever flown in a zeppelin?").await;
    ours.answer(&ada, &our_question, "Zeppelin over the lake", "team").await;
    theirs.answer(&eve, &their_question, "Zeppelin over the sea", "team").await;

    let found = find(&as_member(&db, &ours, &ada), "zeppelin").await;

    assert_eq!(names(&found), ["Zeppelin Ada"]);
    let questions: Vec<&str> = found.questions.iter().map(|question| question.id.as_str()).collect();
    assert_eq!(questions, [our_question.as_str()]);
    assert_eq!(answer_texts(&found), ["Zeppelin over the lake"]);
    let theirs_found = find(&as_member(&db, &theirs, &eve), "zeppelin").await;
    assert_eq!(answer_texts(&theirs_found), ["Zeppelin over the sea"]);
}

/// Text that is query syntax to FTS5 or to PostgreSQL's `to_tsquery`, or just too much.
fn nasty_queries() -> Vec<String> {
    let mut queries: Vec<String> = [
        "\"",
        "*",
        "-",
        "NEAR",
        "NEAR(paint watercolours)",
        "a OR b",
        "paint AND NOT x",
        "\"unbalanced",
        "paint\"",
        "'",
        "paint & !watercolours | (x",
        "paint:*",
        "col:paint",
        "^paint",
        "{paint}",
        "\\",
        "",
        "   ",
        "\t\n",
        "%",
        "_",
        "'; DROP TABLE answers; --",
    ]
    .iter()
    .map(|query| (*query).to_owned())
    .collect();
    queries.push("a".repeat(2_000));
    queries.push("a ".repeat(2_000));
    queries.push("é".repeat(3_000));
    queries
}

async fn any_text_is_a_query_and_none_is_an_error(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let question = team.question("What do you do on weekends?").await;
    team.answer(&ada, &question, "I paint watercolours on weekends", "team").await;
    let viewer = as_member(&db, &team, &ada);
    let browser = app.signed_in(&team.workspace_id, &ada).await;

    for typed in nasty_queries() {
        let shown: String = typed.chars().take(20).collect();
        let found = search::search(&viewer, &SearchQuery::parse(&typed), 1).await;
        assert!(found.is_ok(), "the service answers {shown:?}: {found:?}");

        let path = format!("/search?{}", serde_urlencoded::to_string([("q", typed.as_str())]).unwrap());
        let (status, page) = browser.page(&path).await;
        assert_eq!(status, 200, "the page answers {shown:?}: {page}");
        assert!(!page.contains("Something went wrong"), "{shown:?}: {page}");

        let (status, body) = browser.call_server_fn("search", &[("q", typed.as_str()), ("page", "1")]).await;
        assert_eq!(status, 200, "the server function answers {shown:?}: {body}");
    }

    for nothing in ["", "   ", "*", "\"", "-"] {
        let found = find(&viewer, nothing).await;
        assert!(found.words.is_empty() && found.is_empty(), "{nothing:?} searches for nothing");
    }
    let (_, empty) = browser.page("/search?q=").await;
    assert!(empty.contains("Type a name"), "the empty page invites a search: {empty}");
    let (_, nothing) = browser.page("/search?q=xylophone").await;
    assert!(nothing.contains("Nothing matches"), "a search that finds nothing says so: {nothing}");
    app.shut_down().await;
}

async fn answers_come_ten_to_a_page(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Kayak", "Kayak guide").await;
    let question = team.question("Your best kayak trip?").await;
    for trip in 1..=12 {
        team.answer(&ada, &question, &format!("Kayak trip number {trip}"), "team").await;
    }
    let viewer = as_member(&db, &team, &ada);
    let query = SearchQuery::parse("kayak");

    let first = search::search(&viewer, &query, 1).await.unwrap();
    let second = search::search(&viewer, &query, 2).await.unwrap();
    let past_the_end = search::search(&viewer, &query, 3).await.unwrap();

    assert_eq!((first.answers.len(), first.has_next_page), (10, true));
    assert_eq!((second.answers.len(), second.has_next_page), (2, false));
    assert!(past_the_end.answers.is_empty() && !past_the_end.has_next_page);
    let mut all: Vec<String> = answer_texts(&first).into_iter().chain(answer_texts(&second)).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 12, "every answer once across the two pages");
    assert_eq!((first.people.len(), first.questions.len()), (1, 1), "people and questions on the first page");
    assert!(second.people.is_empty() && second.questions.is_empty(), "and only there");
    assert_eq!(search::search(&viewer, &query, 0).await.unwrap(), first, "page 0 is the first page");

    let browser = app.signed_in(&team.workspace_id, &ada).await;
    let (status, page_one) = browser.page("/search?q=kayak").await;
    assert_eq!(status, 200);
    assert!(page_one.contains(r#"rel="next""#) && !page_one.contains(r#"rel="prev""#), "{page_one}");
    assert!(page_one.contains("page=2"), "Next links to page 2: {page_one}");
    let (status, page_two) = browser.page("/search?q=kayak&page=2").await;
    assert_eq!(status, 200);
    assert!(page_two.contains(r#"rel="prev""#) && !page_two.contains(r#"rel="next""#), "{page_two}");
    assert_eq!(page_two.matches(r#"class="answer search-answer""#).count(), 2, "{page_two}");
    app.shut_down().await;
}

/// On SQLite, checks that each FTS5 index holds exactly the tokens of its table's rows.
async fn assert_fts_in_step(db: &TestDb) {
    if db.backend() != Backend::Sqlite {
        return;
    }
    for index in ["answers_fts", "questions_fts", "members_fts"] {
        let check = format!("INSERT INTO {index} ({index}, rank) VALUES ('integrity-check', 1)");
        sqlx::query(&check).execute(db.db.pool()).await.unwrap_or_else(|error| panic!("{index}: {error}"));
    }
}

async fn the_index_follows_edits_withdrawals_hiding_and_deactivation(db: TestDb) {
    let mut team = Team::new(&db.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let bob = team.member("Bob Ross", "Motorbike mechanic").await;
    let question = team.question("What do you tinker with?").await;
    let answer = team.answer(&ada, &question, "I restore vintage motorbikes", "team").await;
    team.answer(&bob, &question, "Motorbike engines, mostly", "team").await;
    let viewer = as_member(&db, &team, &ada);
    let pool = db.db.pool();
    assert_eq!(answer_texts(&find(&viewer, "motorbike").await).len(), 2);

    // Edited: found by its new words only.
    answers::update_text_and_visibility(pool, &answer, "I restore vintage sailboats", Visibility::Team, 2)
        .await
        .unwrap();
    assert_fts_in_step(&db).await;
    assert_eq!(answer_texts(&find(&viewer, "motorbike").await), ["Motorbike engines, mostly"]);
    assert_eq!(answer_texts(&find(&viewer, "sailboat").await), ["I restore vintage sailboats"]);

    // Made only-me, then shared again.
    answers::update_text_and_visibility(pool, &answer, "I restore vintage sailboats", Visibility::OnlyMe, 3)
        .await
        .unwrap();
    assert!(find(&viewer, "sailboat").await.answers.is_empty(), "an answer made only-me is not found");
    answers::update_text_and_visibility(pool, &answer, "I restore vintage sailboats", Visibility::Team, 4)
        .await
        .unwrap();
    assert_eq!(answer_texts(&find(&viewer, "sailboat").await).len(), 1);

    // Withdrawn.
    answers::delete(pool, &answer).await.unwrap();
    assert_fts_in_step(&db).await;
    assert!(find(&viewer, "sailboat").await.answers.is_empty(), "a withdrawn answer is not found");

    // Deactivated in Slack: neither the person nor their answers; back again: both.
    members::update_deleted(pool, &team.workspace_id, &bob, true, 5).await.unwrap();
    let while_gone = find(&viewer, "motorbike").await;
    assert!(while_gone.people.is_empty() && while_gone.answers.is_empty(), "{while_gone:?}");
    members::update_deleted(pool, &team.workspace_id, &bob, false, 6).await.unwrap();
    let back = find(&viewer, "motorbike").await;
    assert_eq!((back.people.len(), back.answers.len()), (1, 1));

    // Renamed, retitled, a question reworded: found by the new words only.
    sqlx::query("UPDATE members SET name = 'Robert Ross', title = 'Sailmaker' WHERE id = $1")
        .bind(&bob)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE questions SET text = 'What do you mend?' WHERE id = $1")
        .bind(&question)
        .execute(pool)
        .await
        .unwrap();
    assert_fts_in_step(&db).await;
    assert!(find(&viewer, "motorbike mechanic").await.people.is_empty());
    assert_eq!(names(&find(&viewer, "robert sailmaker").await), ["Robert Ross"]);
    assert!(find(&viewer, "tinker").await.questions.is_empty());
    assert_eq!(question_texts(&find(&viewer, "mending").await), ["What do you mend?"]);
}

async fn the_search_page_groups_marks_and_links_its_results(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Watercolour painter").await;
    let question = team.question("Which watercolour brush do you like?").await;
    team.answer(&ada, &question, "I paint watercolours on weekends", "team").await;
    let browser = app.signed_in(&team.workspace_id, &ada).await;

    let (status, page) = browser.page("/search?q=watercolours").await;

    assert_eq!(status, 200, "{page}");
    for group in ["search-people", "search-questions", "search-answers"] {
        assert!(page.contains(&format!(r#"id="{group}""#)), "{group}: {page}");
    }
    assert!(page.contains("<mark>watercolours</mark>"), "the match is marked: {page}");
    assert!(page.contains("<mark>Watercolour</mark>"), "in the title and the question too: {page}");
    assert!(page.contains(&format!(r#"href="/people/{ada}""#)), "{page}");
    assert!(page.contains(&format!(r#"href="/questions/{question}""#)), "{page}");
    assert!(page.contains(r#"value="watercolours""#), "the page's box shows the query: {page}");

    let (_, people) = browser.page("/people").await;
    assert!(people.contains(r#"action="/search""#) && people.contains(r#"name="q""#), "every page has the box");
    app.shut_down().await;
}

async fn the_search_page_shows_what_an_answer_says_as_text(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let question = team.question("Any tricks?").await;
    team.answer(&ada, &question, "<script>alert('origami')</script> <b>origami</b> \u{1}cranes\u{2}", "team").await;
    let browser = app.signed_in(&team.workspace_id, &ada).await;

    let (status, page) = browser.page("/search?q=origami").await;

    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("<script>alert"), "an answer's markup is never markup: {page}");
    assert!(!page.contains("<b>origami"), "{page}");
    assert!(page.contains("&lt;script&gt;") || page.contains("&lt;script>"), "it shows as text: {page}");
    assert!(page.contains("<mark>origami</mark>"), "{page}");
    assert!(!page.contains('\u{1}') && !page.contains('\u{2}'), "marker characters never reach the page");
    app.shut_down().await;
}

async fn without_sign_in_the_search_page_goes_to_sign_in(db: TestDb) {
    let app = spawn_app(&db).await;
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let question = team.question("Any hobbies?").await;
    team.answer(&ada, &question, "I paint watercolours", "team").await;

    let visit = app.browser().get("/search?q=paint").await;
    let status = visit.status().as_u16();
    let location = visit.headers().get("location").and_then(|to| to.to_str().ok()).unwrap_or_default().to_owned();
    let html = visit.text().await.unwrap();
    let (api, body) = app.browser().call_server_fn("search", &[("q", "paint"), ("page", "1")]).await;

    assert_eq!(status, 302, "{html}");
    assert_eq!(location, "/login?next=/search%3Fq%3Dpaint", "and comes back afterwards");
    assert_eq!(api, 401, "{body}");
    assert!(!html.contains("watercolours") && !body.contains("watercolours"));
    app.shut_down().await;
}

async fn a_visitor_of_the_demo_may_search_the_demo_team(db: TestDb) {
    let app = spawn_app(&db).await;
    app.demo_seeded().await;

    let (status, page) = app.browser().page("/search?q=weekend").await;

    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<mark>"), "the demo team's records are found: {page}");
    app.shut_down().await;
}
