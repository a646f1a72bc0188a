//! Test fixtures: fresh databases on both backends, a running app, and data builders.

use app::{features::answers::types::Visibility, server::db::prompts::PromptStatus};

use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::Arc;

use app::server::{
    AppState,
    clock::{ManualClock, SharedClock, SystemClock},
    db::{Backend, Db, answers, members, members::Member, packs, prompts, questions, workspaces},
    new_id,
    services::{inbox, sign_in},
};
use server::{
    config::Config,
    dispatch::Dispatcher,
    emulator::{Emulator, stripe::StripeEmulator},
    sign_in::limits::Budget,
    slack::verify::{SigningSecret, sign},
    startup::Application,
};
use sqlx::{AnyConnection, Connection as _, Executor as _};
use tokio::{
    sync::{OnceCell, oneshot},
    task::JoinHandle,
};

/// Where the PostgreSQL tests create their databases (trust auth on the machines here).
const DEFAULT_POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Test databases older than this are left over from earlier runs and are dropped.
const STALE_AFTER_SECS: u64 = 3 * 60 * 60;

/// Runs each named `async fn(TestDb)` once on SQLite and once on PostgreSQL, as two tests
/// `<name>::sqlite` and `<name>::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(crate::helpers::TestDb::sqlite().await).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = crate::helpers::TestDb::postgres().await {
                    super::$name(db).await;
                }
            }
        }
    )*};
}

/// A fresh, empty database of one backend, migrated.
pub struct TestDb {
    pub url: String,
    pub db: Db,
    _sqlite_dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        TestDb::new_sqlite(true).await
    }

    async fn new_sqlite(migrated: bool) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/rapport.db", dir.path().display());
        let db = connect(&url, migrated).await;
        TestDb { url, db, _sqlite_dir: Some(dir) }
    }

    /// A new database on the test PostgreSQL server, or `None` (with a loud message) when the
    /// server is unreachable and `RAPPORT_REQUIRE_POSTGRES` is not `1`.
    pub async fn postgres() -> Option<TestDb> {
        TestDb::new_postgres(true).await
    }

    async fn new_postgres(migrated: bool) -> Option<TestDb> {
        let admin_url = postgres_admin_url();
        if !postgres_reachable(&admin_url).await {
            assert!(
                std::env::var("RAPPORT_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "RAPPORT_REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at {admin_url}"
            );
            eprintln!(
                "\n!!! SKIPPED: PostgreSQL is not reachable at {admin_url}; this Postgres test did not run.\n\
                 !!! Start PostgreSQL or set RAPPORT_TEST_POSTGRES_URL; RAPPORT_REQUIRE_POSTGRES=1 makes this a failure.\n"
            );
            return None;
        }
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name =
            format!("rapport_test_{}_{}_{}", unix_secs(), std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut admin = AnyConnection::connect(&admin_url).await.unwrap();
        admin.execute(format!("CREATE DATABASE \"{name}\"").as_str()).await.unwrap();
        admin.close().await.unwrap();
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("RAPPORT_TEST_POSTGRES_URL must end in /<database>"),
        };
        let db = connect(&url, migrated).await;
        Some(TestDb { url, db, _sqlite_dir: None })
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// Another fresh, empty database on the same backend, for a test that needs two.
    pub async fn another(&self) -> TestDb {
        match self.backend() {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await.expect("PostgreSQL was reachable for the first database"),
        }
    }

    /// Another fresh database on the same backend with no migration applied (migration tests).
    pub async fn another_unmigrated(&self) -> TestDb {
        match self.backend() {
            Backend::Sqlite => TestDb::new_sqlite(false).await,
            Backend::Postgres => {
                TestDb::new_postgres(false).await.expect("PostgreSQL was reachable for the first database")
            }
        }
    }
}

async fn connect(url: &str, migrated: bool) -> Db {
    let db = Db::connect(url).await.unwrap();
    if migrated {
        db.migrate().await.unwrap();
    }
    db
}

fn postgres_admin_url() -> String {
    std::env::var("RAPPORT_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_ADMIN_URL.to_owned())
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Checks the server once per test process, and drops test databases left by old runs.
async fn postgres_reachable(admin_url: &str) -> bool {
    static REACHABLE: OnceCell<bool> = OnceCell::const_new();
    *REACHABLE
        .get_or_init(|| async {
            sqlx::any::install_default_drivers();
            let Ok(mut admin) = AnyConnection::connect(admin_url).await else {
                return false;
            };
            drop_stale_databases(&mut admin).await;
            let _ = admin.close().await;
            true
        })
        .await
}

async fn drop_stale_databases(admin: &mut AnyConnection) {
    let names: Vec<(String,)> = sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'rapport_test_%'")
        .fetch_all(&mut *admin)
        .await
        .unwrap_or_default();
    let cutoff = unix_secs().saturating_sub(STALE_AFTER_SECS);
    for (name,) in names {
        let created: u64 = name.split('_').nth(2).and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
        if created < cutoff {
            let _ = admin.execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str()).await;
        }
    }
}

/// The signing secret the test app and the tests' signed Slack requests share.
pub const SIGNING_SECRET: &str = "test-signing-secret";

/// The demo workspace's Slack team id (`content.json`), the team the Slack emulator speaks for.
pub const DEMO_TEAM: &str = "TDEMO0001";

/// A running application on its own port, backed by `db`, with the Slack emulator.
pub struct TestApp {
    pub address: String,
    pub db: Db,
    pub client: reqwest::Client,
    pub emulator: Emulator,
    /// The Stripe emulator, in tests that turn billing on ([`spawn_app_with_billing`]).
    pub stripe: Option<StripeEmulator>,
    /// The app's one shared state (database, clock, Slack gateway, wake-ups, tasks).
    pub state: AppState,
    /// Plans and delivers questions: in the background for [`spawn_app`], step by step
    /// (`run_once`) for [`spawn_app_at`].
    pub dispatcher: Dispatcher,
    /// Asks the running app to shut down; taken by [`TestApp::shut_down`] or on drop.
    stop: Option<oneshot::Sender<()>>,
    /// The running app, which ends once it has shut down.
    running: Option<JoinHandle<anyhow::Result<()>>>,
}

/// A browser: its own cookie jar, signed in or not, following no redirect (tests look at
/// them).
pub struct Browser {
    pub address: String,
    pub client: reqwest::Client,
}

impl Browser {
    fn new(address: &str) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        Browser { address: address.to_owned(), client }
    }

    /// GETs `path` as a browser navigating does (asking for HTML).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.address)).header("accept", "text/html").send().await.unwrap()
    }

    /// GETs a page and returns its status and HTML.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Calls the server function at `/api/{endpoint}` as the pages do (a form POST) and
    /// returns the status and the body.
    pub async fn call_server_fn(&self, endpoint: &str, form: &[(&str, &str)]) -> (u16, String) {
        self.post_form(&format!("/api/{endpoint}"), form).await
    }

    /// POSTs `form` (urlencoded) to `path` and returns the status and the body.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let response = self.form_request(path, form).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// A urlencoded POST of `form` to `path`, for a test to add headers to before sending.
    pub fn form_request(&self, path: &str, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
    }

    /// Posts `form` to `path` as a browser without JavaScript submits a form on `from_page`
    /// (asking for HTML, with the page as referrer); returns the status and where it is sent.
    pub async fn submit_without_javascript(&self, path: &str, form: &[(&str, &str)], from_page: &str) -> (u16, String) {
        let response = self
            .form_request(path, form)
            .header("accept", "text/html")
            .header("referer", format!("{}{from_page}", self.address))
            .send()
            .await
            .unwrap();
        let location = response.headers().get("location").and_then(|to| to.to_str().ok()).unwrap_or_default();
        (response.status().as_u16(), location.trim_start_matches(&self.address).to_owned())
    }

    /// Opens a one-time sign-in link's page and presses its button, as a member does.
    pub async fn follow_sign_in_link(&self, token: &str) -> reqwest::Response {
        let path = format!("/login/link/{token}");
        let (shown, page) = self.page(&path).await;
        assert_eq!(shown, 200, "{page}");
        self.form_request(&path, &[]).send().await.unwrap()
    }
}

impl TestApp {
    /// A new browser with no cookies: an anonymous visitor.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// A new browser signed in as `member_id` of `workspace_id`, through a one-time link
    /// as `/rapport login` hands out.
    pub async fn signed_in(&self, workspace_id: &str, member_id: &str) -> Browser {
        let token = sign_in::create_link(&self.db, workspace_id, member_id, app::server::now_ms()).await.unwrap();
        let browser = self.browser();
        let response = browser.follow_sign_in_link(&token).await;
        assert_eq!(response.status().as_u16(), 303, "the link signs in and goes on to /me");
        browser
    }

    /// A new browser signed in as the demo member `slack_user_id`.
    pub async fn signed_in_to_demo(&self, slack_user_id: &str) -> Browser {
        let member = self.demo_member(slack_user_id).await;
        self.signed_in(&member.workspace_id, &member.id).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.address)).send().await.unwrap()
    }

    /// GETs a page anonymously and returns its status and HTML.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }
}

/// Starts the app on `127.0.0.1:0` against `test_db` (no demo data), on the wall clock,
/// delivering questions in the background.
pub async fn spawn_app(test_db: &TestDb) -> TestApp {
    start(test_db, Arc::new(SystemClock), true, false).await
}

/// [`spawn_app`] with billing on, against the Stripe emulator.
pub async fn spawn_app_with_billing(test_db: &TestDb) -> TestApp {
    start(test_db, Arc::new(SystemClock), true, true).await
}

/// [`spawn_app_at`] with billing on, against the Stripe emulator (on the same clock).
pub async fn spawn_app_with_billing_at(test_db: &TestDb, clock: &ManualClock) -> TestApp {
    start(test_db, Arc::new(clock.clone()), false, true).await
}

/// Starts the app on `clock`; questions are planned and delivered only when the test calls
/// `app.dispatcher.run_once()`, so time moves only when the test moves it.
pub async fn spawn_app_at(test_db: &TestDb, clock: &ManualClock) -> TestApp {
    start(test_db, Arc::new(clock.clone()), false, false).await
}

/// The configuration of a Rapport self-hosted on `db` (`SLACK_BOT_TOKEN`) whose "Slack" is
/// the emulator of the app `slack`.
pub fn self_hosted_config(db: &TestDb, slack: &TestApp) -> Config {
    let api_url = format!("{}/emulator/api", slack.address);
    Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(db.url.clone()),
        "LEPTOS_SITE_ADDR" => Some("127.0.0.1:0".to_owned()),
        "SLACK_BOT_TOKEN" => Some(server::emulator::BOT_TOKEN.to_owned()),
        "SLACK_SIGNING_SECRET" => Some("self-hosted-secret".to_owned()),
        "SLACK_API_URL" => Some(api_url.clone()),
        _ => None,
    })
    .unwrap()
}

/// The configuration of a test app on `test_db`: a free port, no demo data, the emulator
/// standing in for Slack with the tests' signing secret.
pub fn test_config(test_db: &TestDb) -> Config {
    let url = test_db.url.clone();
    Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "LEPTOS_SITE_ADDR" => Some("127.0.0.1:0".to_owned()),
        "RAPPORT_DEMO_DATA" => Some("off".to_owned()),
        "RAPPORT_EMULATOR_SIGNING_SECRET" => Some(SIGNING_SECRET.to_owned()),
        _ => None,
    })
    .map(|mut config| {
        // Tests run the emulator for teams of their own making, not only the demo's.
        config.emulator_serves_any_team = true;
        // Billing is off unless a test turns the Stripe emulator on (`billing.rs`): the
        // other tests' clocks run far past any trial.
        config.billing = server::config::BillingConfig::Off;
        // Tests sign many browsers in from one address within a minute: starts are limited
        // only where a test keeps the default budget (`sign_in.rs`).
        config.sign_in_budget = Budget {
            starts_per_minute: 100_000,
            start_burst: 100_000,
            all_starts_per_minute: 100_000,
            ..config.sign_in_budget
        };
        config
    })
    .unwrap()
}

async fn start(test_db: &TestDb, clock: SharedClock, background_dispatch: bool, billing: bool) -> TestApp {
    let mut config = test_config(test_db);
    if billing {
        config.billing = server::config::BillingConfig::Emulator;
    }
    if std::env::var_os("RAPPORT_TEST_LOG").is_some() {
        server::telemetry::init(server::config::LogFormat::Text);
    }
    let app = Application::build_with_clock(config, clock).await.unwrap();
    TestApp::from_application(if background_dispatch {
        // On the wall clock, a scheduled round would start whenever a demo member's 10:00
        // happened to be near: only what the test asks for is delivered.
        app.without_scheduled_rounds()
    } else {
        app.without_background_dispatch()
    })
}

/// How long a test waits for the app to shut down.
const SHUT_DOWN_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

impl TestApp {
    /// Runs a built application (Slack emulated) until [`TestApp::shut_down`] or until the
    /// `TestApp` is dropped.
    pub fn from_application(app: Application) -> TestApp {
        let address = format!("http://127.0.0.1:{}", app.port());
        let db = app.db().clone();
        let emulator = app.emulator().expect("no Slack configured, so the emulator is on").clone();
        let stripe = app.stripe_emulator().cloned();
        let state = app.state().clone();
        let dispatcher = app.dispatcher().expect("the emulator stands in for Slack").clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        // A bounded wait, so a request that never gets an answer fails its test with a reason
        // instead of holding the whole run until CI's limit.
        let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap();
        TestApp { address, db, client, emulator, stripe, state, dispatcher, stop: Some(stop), running: Some(running) }
    }

    /// Shuts the app down as a deploy does (SIGTERM) and waits until it has stopped cleanly:
    /// requests finished, background work finished, the database pool closed.
    pub async fn shut_down(mut self) {
        let still_running = self.stop.take().is_some_and(|stop| stop.send(()).is_ok());
        let running = self.running.take().expect("a TestApp holds its running app until it is shut down");
        tokio::time::timeout(SHUT_DOWN_WITHIN, running).await.expect("the app stops within 30 s").unwrap().unwrap();
        assert!(still_running, "the app stopped before it was asked to");
    }
}

impl Drop for TestApp {
    /// A test that does not shut its app down still stops its server and background loops.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    /// POSTs `body` to a Slack endpoint, signed as Slack signs it, `age_secs` ago.
    pub async fn slack_post_at(&self, path: &str, body: &str, content_type: &str, age_secs: i64) -> reqwest::Response {
        let timestamp = (chrono::Utc::now().timestamp() - age_secs).to_string();
        let signature = sign(&SigningSecret::new(SIGNING_SECRET), &timestamp, body.as_bytes());
        self.client
            .post(format!("{}{path}", self.address))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", timestamp)
            .header("x-slack-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    /// Delivers an Events API callback for `team_id`, signed, and returns the HTTP status.
    pub async fn deliver_event(&self, team_id: &str, event_id: &str, event: serde_json::Value) -> u16 {
        let envelope = serde_json::json!({
            "token": "unused", "team_id": team_id, "api_app_id": "AEMULATOR1", "type": "event_callback",
            "event_id": event_id, "event_time": chrono::Utc::now().timestamp(), "event": event,
        });
        let response = self.slack_post_at("/slack/events", &envelope.to_string(), "application/json", 0).await;
        response.status().as_u16()
    }

    /// Makes the emulator answer 429 to every further `chat.postMessage` (until its limit is
    /// lifted with `set_rate_limit(.., 0)`).
    pub async fn refuse_further_posts(&self) {
        self.emulator.set_rate_limit("chat.postMessage", 1);
        self.client
            .post(format!("{}/emulator/api/chat.postMessage", self.address))
            .bearer_auth(server::emulator::BOT_TOKEN)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("channel=CGENERAL01&text=using+up+the+limit")
            .send()
            .await
            .unwrap();
    }

    /// Seeds the demo team (the team the emulator speaks for).
    pub async fn demo_seeded(&self) {
        server::demo::seed(&self.db, app::server::now_ms()).await.unwrap();
    }

    /// The demo team's member with Slack id `slack_user_id` (the demo must be seeded).
    pub async fn demo_member(&self, slack_user_id: &str) -> Member {
        let workspace =
            workspaces::find_by_slack_team_id(self.db.pool(), DEMO_TEAM).await.unwrap().expect("the demo is seeded");
        members::find_by_slack_user_id(self.db.pool(), &workspace.id, slack_user_id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{slack_user_id} is a demo member"))
    }

    /// Skips the question the demo may have left open for `member`, so they start with none.
    pub async fn clear_open_question(&self, member: &Member) {
        if let Some(open) = prompts::find_open_for_member(self.db.pool(), &member.id).await.unwrap() {
            prompts::update_status(self.db.pool(), &open.id, open.status, PromptStatus::Skipped, app::server::now_ms())
                .await
                .unwrap();
        }
    }

    /// The demo member `slack_user_id` with a question just sent to their DM through
    /// `/rapport ask` (any question the demo left open is skipped first); returns them and
    /// the question's prompt id.
    pub async fn demo_member_with_open_question(&self, slack_user_id: &str) -> (Member, String) {
        let member = self.demo_member(slack_user_id).await;
        self.clear_open_question(&member).await;
        self.command(DEMO_TEAM, slack_user_id, "ask").await;
        eventually("the question is sent", || async {
            let open = prompts::find_open_for_member(self.db.pool(), &member.id).await.unwrap();
            open.is_some_and(|p| p.status == PromptStatus::Sent)
        })
        .await;
        let prompt_id = prompts::find_open_for_member(self.db.pool(), &member.id).await.unwrap().unwrap().id;
        (member, prompt_id)
    }

    /// Runs `/rapport <text>` as `user_id` and returns the ephemeral reply's text.
    pub async fn command(&self, team_id: &str, user_id: &str, text: &str) -> String {
        let body = serde_urlencoded::to_string([
            ("token", "unused"),
            ("team_id", team_id),
            ("channel_id", "CGENERAL01"),
            ("user_id", user_id),
            ("command", "/rapport"),
            ("text", text),
            ("response_url", "http://127.0.0.1:9/unused"),
            ("trigger_id", &new_trigger_id()),
        ])
        .unwrap();
        let response = self.slack_post_at("/slack/commands", &body, "application/x-www-form-urlencoded", 0).await;
        assert_eq!(response.status().as_u16(), 200);
        let reply: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(reply["response_type"], "ephemeral");
        reply["text"].as_str().unwrap().to_owned()
    }
}

/// A trigger id as Slack gives every command and button press: new each time.
pub fn new_trigger_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{}.{}.test", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

impl TestApp {
    /// Waits until every event Slack sent so far is processed (the inbox is drained).
    pub async fn drain_inbox(&self) {
        inbox::drain(&self.state, std::time::Duration::from_secs(10)).await.unwrap();
    }

    /// POSTs `form` (urlencoded) to `path` anonymously and returns the status and the body.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        self.anonymous().post_form(path, form).await
    }

    /// A urlencoded POST of `form` to `path`, for a test to add headers to before sending.
    pub fn form_request(&self, path: &str, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
        self.anonymous().form_request(path, form)
    }

    /// The app's own client as a browser without cookies.
    fn anonymous(&self) -> Browser {
        Browser { address: self.address.clone(), client: self.client.clone() }
    }
}

/// Log lines written on this thread while captured, as an operator would read them.
#[derive(Debug, Clone, Default)]
pub struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures what this thread logs, debug level and up, until the guard is dropped. A
    /// test's runtime runs on one thread, with the app it spawned (server, jobs, handlers).
    pub fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || logs.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Waits up to 10 s for work the app does in the background after answering a request
/// (questions sent, answers shared after a modal). A Slack event's work is waited for with
/// [`TestApp::drain_inbox`] instead.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Builds a workspace's data through the repositories, one row at a time.
pub struct Team {
    pub db: Db,
    pub workspace_id: String,
    pack_id: String,
    clock: i64,
}

/// A time in the recent past, so ordering by time is predictable.
const START_MS: i64 = 1_790_000_000_000;

impl Team {
    pub async fn new(db: &Db, name: &str) -> Team {
        let workspace_id = new_id();
        // Installed as an install records it: Rapport's defaults, questions off.
        let install = workspaces::Installation {
            slack_team_id: format!("T{}", &workspace_id[24..]),
            name: name.to_owned(),
            bot_user_id: Some("UBOT".to_owned()),
            bot_token_ciphertext: None,
            installed_by_slack_user_id: None,
        };
        workspaces::upsert_installation(db.pool(), &install, &workspace_id, START_MS).await.unwrap();
        let pack_id = insert_pack(db, &workspace_id, &format!("{name} pack")).await;
        Team { db: db.clone(), workspace_id, pack_id, clock: START_MS }
    }

    /// Adds a human member; returns their id.
    /// A member who manages Rapport (a Slack admin).
    pub async fn admin(&self, name: &str) -> String {
        self.member_row(name, "Admin", |member| member.is_slack_admin = true).await
    }

    pub async fn member(&self, name: &str, title: &str) -> String {
        self.member_row(name, title, |_| {}).await
    }

    /// Adds a member after `adjust` sets flags on the row; returns their id.
    pub async fn member_row(&self, name: &str, title: &str, adjust: impl FnOnce(&mut Member)) -> String {
        add_member(&self.db, &self.workspace_id, name, title, adjust).await
    }

    /// Adds a question to the team's pack; returns its id.
    pub async fn question(&self, text: &str) -> String {
        insert_question(&self.db, &self.pack_id, text).await
    }

    /// Adds another pack of the team's own named `name` with one question; returns the
    /// pack's id and the question's.
    pub async fn pack_with_question(&self, name: &str, text: &str) -> (String, String) {
        let pack_id = insert_pack(&self.db, &self.workspace_id, name).await;
        let question_id = insert_question(&self.db, &pack_id, text).await;
        (pack_id, question_id)
    }

    /// Records that `member` answered `question` (through a prompt), one minute after the
    /// previous answer of this team.
    pub async fn answer(&mut self, member: &str, question: &str, text: &str, visibility: &str) -> String {
        self.clock += 60_000;
        let prompt = prompts::Prompt {
            id: new_id(),
            workspace_id: self.workspace_id.clone(),
            member_id: member.to_owned(),
            question_id: question.to_owned(),
            due_at: self.clock - 30_000,
            sent_at: Some(self.clock - 29_000),
            slack_message_ts: Some("1790000000.000100".to_owned()),
            status: PromptStatus::Answered,
            created_at: self.clock - 30_000,
            updated_at: self.clock,
            round_date: None,
            attempts: 0,
            next_attempt_at: self.clock - 30_000,
            claimed_by: None,
            claimed_until: None,
            send_started_at: Some(self.clock - 30_000),
            failure_reason: None,
        };
        prompts::insert(self.db.pool(), &prompt).await.unwrap();
        let id = new_id();
        let answer = answers::Answer {
            id: id.clone(),
            workspace_id: self.workspace_id.clone(),
            prompt_id: prompt.id,
            text: text.to_owned(),
            visibility: Visibility::parse(visibility).unwrap(),
            created_at: self.clock,
            updated_at: self.clock,
        };
        answers::insert(&mut self.db.pool().acquire().await.unwrap(), &answer).await.unwrap();
        id
    }
}

/// Adds a regular pack of `workspace_id`'s own named `name`; returns its id.
async fn insert_pack(db: &Db, workspace_id: &str, name: &str) -> String {
    let id = new_id();
    let pack = packs::Pack {
        id: id.clone(),
        workspace_id: Some(workspace_id.to_owned()),
        name: name.to_owned(),
        description: String::new(),
        kind: packs::PackKind::Regular,
        created_at: START_MS,
        updated_at: START_MS,
    };
    packs::insert(db.pool(), &pack).await.unwrap();
    id
}

/// Adds an enabled question to a pack; returns its id.
async fn insert_question(db: &Db, pack_id: &str, text: &str) -> String {
    let id = new_id();
    let row = questions::Question {
        id: id.clone(),
        pack_id: pack_id.to_owned(),
        text: text.to_owned(),
        position: 1,
        is_disabled: false,
        created_at: START_MS,
        updated_at: START_MS,
    };
    questions::insert(db.pool(), &row).await.unwrap();
    id
}

/// Adds a human member to any workspace after `adjust` sets flags on the row; returns their id.
pub async fn add_member(
    db: &Db,
    workspace_id: &str,
    name: &str,
    title: &str,
    adjust: impl FnOnce(&mut Member),
) -> String {
    let mut row = unsaved_member(workspace_id, name, title);
    adjust(&mut row);
    members::insert(db.pool(), &row).await.unwrap();
    row.id
}

/// A human member of `workspace_id` as [`add_member`] stores one, not yet stored.
pub fn unsaved_member(workspace_id: &str, name: &str, title: &str) -> Member {
    let id = new_id();
    Member {
        slack_user_id: format!("U{}", &id[24..]),
        id,
        workspace_id: workspace_id.to_owned(),
        name: name.to_owned(),
        title: title.to_owned(),
        avatar_url: "data:image/svg+xml,".to_owned(),
        time_zone: Some("Europe/Berlin".to_owned()),
        is_bot: false,
        is_deleted: false,
        is_guest: false,
        is_opted_out: false,
        is_admin: false,
        is_slack_admin: false,
        dm_channel_id: None,
        paused_until: None,
        created_at: START_MS,
        updated_at: START_MS,
        welcome_until: None,
        introduced_at: None,
        delivery_stopped_reason: None,
        forgotten_at: None,
        is_excluded: false,
    }
}
