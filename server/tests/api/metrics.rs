//! `/metrics`: a 404 unless configured; on the main port only to the bearer token, or on an
//! address of its own without one; route templates (never ids), Slack calls by outcome, the
//! inbox, prompts and the pool in the text Prometheus scrapes; each application counts apart.

use std::collections::HashMap;

use app::server::{
    clock::ManualClock,
    db::{
        inbox::{self, NewItem, Source},
        prompts::{self, Prompt, PromptStatus},
    },
    new_id, now_ms,
    secret::Secret,
    services,
    slack::client::SlackCallError,
};
use server::{config::MetricsConfig, startup::Application};

use crate::helpers::{Team, TestApp, TestDb, spawn_app, spawn_app_at, spawn_app_with_billing, test_config};

on_both_backends!(
    without_configuration_metrics_are_a_404,
    with_a_token_metrics_need_it_and_show_routes_slack_calls_the_inbox_prompts_and_the_pool,
    two_applications_in_one_process_count_apart,
    on_their_own_address_metrics_need_no_token_and_are_not_on_the_main_port,
    a_prompt_that_fails_is_counted_by_its_reason,
    a_refused_stripe_webhook_is_counted_without_reading_its_type,
);

/// The token the tests' scraper sends.
const TOKEN: &str = "metrics-token-0123456789";

/// An app serving `/metrics` as `metrics` says, with no inbox worker (what lands in the
/// inbox stays there); returns it and the port of the metrics listener, if any.
async fn spawn_with_metrics(db: &TestDb, metrics: MetricsConfig) -> (TestApp, Option<u16>) {
    let mut config = test_config(db);
    config.metrics = metrics;
    let application = Application::build(config).await.unwrap().without_scheduled_rounds().without_inbox_worker();
    let metrics_port = application.metrics_port();
    (TestApp::from_application(application), metrics_port)
}

fn with_token() -> MetricsConfig {
    MetricsConfig { token: Some(Secret::new(TOKEN)), addr: None }
}

/// GETs `url`, with `token` as bearer if given; returns the status and the body.
async fn scrape(app: &TestApp, url: &str, token: Option<&str>) -> (u16, String) {
    let mut request = app.client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The main port's `/metrics`, scraped with the right token; fails unless it answers 200.
async fn scrape_main(app: &TestApp) -> HashMap<String, f64> {
    let (status, text) = scrape(app, &format!("{}/metrics", app.address), Some(TOKEN)).await;
    assert_eq!(status, 200, "{text}");
    samples(&text)
}

/// The samples of a scrape as Prometheus reads them (`name{labels}` to value). A line that
/// is neither a comment nor a well-formed sample fails the test.
fn samples(text: &str) -> HashMap<String, f64> {
    assert!(text.ends_with("# EOF\n"), "a complete exposition ends with # EOF: {text}");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line:?}"));
            let name_end = series.find('{').unwrap_or(series.len());
            let name = &series[..name_end];
            let valid_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
            assert!(valid_name, "not a metric name: {line:?}");
            assert!(name_end == series.len() || series.ends_with('}'), "unclosed labels: {line:?}");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a value: {line:?}"));
            (series.to_owned(), value)
        })
        .collect()
}

/// The value of `series`, which must be there.
fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    *samples.get(series).unwrap_or_else(|| {
        let mut known: Vec<_> = samples.keys().collect();
        known.sort();
        panic!("{series} is not in the scrape: {known:#?}")
    })
}

async fn without_configuration_metrics_are_a_404(db: TestDb) {
    let app = spawn_app(&db).await;

    let (anonymous, _) = scrape(&app, &format!("{}/metrics", app.address), None).await;
    let (with_a_token, _) = scrape(&app, &format!("{}/metrics", app.address), Some(TOKEN)).await;

    assert_eq!(anonymous, 404);
    assert_eq!(with_a_token, 404, "no token is right when none is configured");
}

async fn with_a_token_metrics_need_it_and_show_routes_slack_calls_the_inbox_prompts_and_the_pool(db: TestDb) {
    let (app, _) = spawn_with_metrics(&db, with_token()).await;
    let url = format!("{}/metrics", app.address);
    let mut team = Team::new(&app.db, "Acme").await;
    let ada = team.member("Ada Lovelace", "Staff Engineer").await;
    let question = team.question("Favourite breakfast?").await;
    team.answer(&ada, &question, "Porridge", "team").await;
    let browser = app.signed_in(&team.workspace_id, &ada).await;
    assert_eq!(browser.page(&format!("/people/{ada}")).await.0, 200);
    // The app's own Slack client against the emulator: one call answered, one refused with a 429.
    app.emulator.set_rate_limit("auth.test", 1);
    let slack = app.state.slack().unwrap().fixed_api().unwrap();
    slack.whoami().await.unwrap();
    assert!(matches!(slack.whoami().await, Err(SlackCallError::RateLimited(_))));
    // An event received 5 s ago and not yet processed.
    let event = NewItem {
        source: Source::SlackEvent,
        external_id: "Ev-metrics",
        ordering_key: "T-metrics",
        kind: "team_join",
        payload: "{}",
    };
    assert!(inbox::insert_if_new(app.db.pool(), &event, now_ms() - 5_000).await.unwrap());

    let (without, _) = scrape(&app, &url, None).await;
    let (wrong, _) = scrape(&app, &url, Some("metrics-token-0123456780")).await;
    let (status, text) = scrape(&app, &url, Some(TOKEN)).await;

    assert_eq!((without, wrong, status), (401, 401, 200), "{text}");
    let samples = samples(&text);
    assert_eq!(value(&samples, r#"rapport_http_requests_total{method="GET",route="/people/{id}",status="200"}"#), 1.0);
    assert_eq!(value(&samples, r#"rapport_http_requests_total{method="GET",route="/metrics",status="401"}"#), 2.0);
    assert!(
        value(&samples, r#"rapport_http_request_duration_seconds_count{method="GET",route="/people/{id}"}"#) >= 1.0
    );
    assert!(!text.contains(&ada), "no id reaches a label");
    assert_eq!(value(&samples, r#"rapport_slack_api_calls_total{method="auth.test",outcome="ok"}"#), 1.0);
    assert_eq!(value(&samples, r#"rapport_slack_api_calls_total{method="auth.test",outcome="ratelimited"}"#), 1.0);
    assert_eq!(value(&samples, "rapport_inbox_backlog"), 1.0);
    assert!(value(&samples, "rapport_inbox_oldest_item_age_seconds") >= 5.0);
    assert_eq!(value(&samples, r#"rapport_prompts{status="answered"}"#), 1.0);
    assert_eq!(value(&samples, r#"rapport_prompts{status="failed"}"#), 0.0);
    assert!(value(&samples, "rapport_db_pool_connections_open") >= 1.0);
    assert!(value(&samples, "rapport_db_pool_connections_in_use") >= 0.0);
    assert_eq!(value(&samples, "rapport_dispatch_lanes_held"), 0.0);
}

async fn two_applications_in_one_process_count_apart(db: TestDb) {
    let (busy, _) = spawn_with_metrics(&db, with_token()).await;
    let (quiet, _) = spawn_with_metrics(&db, with_token()).await;

    for _ in 0..3 {
        assert_eq!(busy.get("/healthz").await.status().as_u16(), 200);
    }
    assert_eq!(quiet.get("/healthz").await.status().as_u16(), 200);

    let healthz = r#"rapport_http_requests_total{method="GET",route="/healthz",status="200"}"#;
    assert_eq!(value(&scrape_main(&busy).await, healthz), 3.0);
    assert_eq!(value(&scrape_main(&quiet).await, healthz), 1.0);
}

async fn on_their_own_address_metrics_need_no_token_and_are_not_on_the_main_port(db: TestDb) {
    let addr = Some("127.0.0.1:0".parse().unwrap());
    let (app, metrics_port) = spawn_with_metrics(&db, MetricsConfig { token: None, addr }).await;
    let metrics_url = format!("http://127.0.0.1:{}/metrics", metrics_port.expect("a metrics listener is bound"));
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);

    let (status, text) = scrape(&app, &metrics_url, None).await;
    let (on_main_port, _) = scrape(&app, &format!("{}/metrics", app.address), Some(TOKEN)).await;

    assert_eq!(status, 200, "{text}");
    let samples = samples(&text);
    assert_eq!(value(&samples, r#"rapport_http_requests_total{method="GET",route="/healthz",status="200"}"#), 1.0);
    assert_eq!(value(&samples, "rapport_inbox_backlog"), 0.0);
    assert_eq!(on_main_port, 404);
}

async fn a_prompt_that_fails_is_counted_by_its_reason(db: TestDb) {
    let now = 1_790_000_000_000 + 3_600_000;
    let clock = ManualClock::new(now);
    let app = spawn_app_at(&db, &clock).await;
    let team = Team::new(&app.db, "Acme").await;
    let opted_out = team.member_row("Opted out", "", |member| member.is_opted_out = true).await;
    let question = team.question("Favourite breakfast?").await;
    let prompt = Prompt {
        id: new_id(),
        workspace_id: team.workspace_id.clone(),
        member_id: opted_out,
        question_id: question,
        due_at: now - 1_000,
        sent_at: None,
        slack_message_ts: None,
        status: PromptStatus::Pending,
        created_at: now - 1_000,
        updated_at: now - 1_000,
        round_date: None,
        attempts: 0,
        next_attempt_at: now - 1_000,
        claimed_by: None,
        claimed_until: None,
        send_started_at: None,
        failure_reason: None,
    };
    prompts::insert(app.db.pool(), &prompt).await.unwrap();

    app.dispatcher.run_once().await.unwrap();

    let samples = samples(&services::metrics::render(&app.state).await.unwrap());
    assert_eq!(value(&samples, r#"rapport_prompts_failed_total{reason="member opted out"}"#), 1.0);
    assert_eq!(value(&samples, r#"rapport_prompts{status="failed"}"#), 1.0);
    assert_eq!(value(&samples, r#"rapport_prompts{status="pending"}"#), 0.0);
}

async fn a_refused_stripe_webhook_is_counted_without_reading_its_type(db: TestDb) {
    let app = spawn_app_with_billing(&db).await;
    let forged = r#"{"id":"evt_forged","type":"made.up.type"}"#;

    let response = app.client.post(format!("{}/stripe/webhook", app.address)).body(forged).send().await.unwrap();

    assert_eq!(response.status().as_u16(), 400);
    let samples = samples(&app.state.metrics.encode().unwrap());
    assert_eq!(value(&samples, r#"rapport_stripe_webhooks_total{event_type="unknown",outcome="refused"}"#), 1.0);
    assert!(!samples.keys().any(|series| series.contains("made.up.type")));
}
