//! Building and running the application: the same steps for the binary and for tests.

use std::sync::Arc;

use anyhow::Context as _;
use app::server::{
    AppState,
    clock::{ScaledClock, SharedClock, SystemClock},
    db::Db,
};
use tokio::net::TcpListener;

use crate::{
    config::{Config, SlackConfig},
    demo,
    dispatch::Dispatcher,
    emulator::{self, Emulator},
    routes,
    sessions::DbSessionStore,
    slack::{
        OAuthSettings, SlackState, client::SlackConnection, events, install, sharing, tokens::TokenCipher,
        verify::SigningSecret,
    },
};

/// Where Slack asks an installer to approve the app.
const SLACK_AUTHORIZE_URL: &str = "https://slack.com/oauth/v2/authorize";

/// A bound, ready-to-serve Rapport.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    db: Db,
    slack: Option<SlackState>,
    emulator: Option<Emulator>,
    dispatcher: Option<Dispatcher>,
    background_dispatch: bool,
}

impl Application {
    /// Connects to the database, applies migrations, seeds the demo workspace when the
    /// configuration asks for it, and binds the listening socket (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let clock: SharedClock = if config.time_scale == 1.0 {
            Arc::new(SystemClock)
        } else {
            tracing::info!(time_scale = config.time_scale, "time runs faster (RAPPORT_TIME_SCALE)");
            Arc::new(ScaledClock::new(config.time_scale))
        };
        Application::build_with_clock(config, clock).await
    }

    /// [`Application::build`] on a given clock (tests set the time).
    pub async fn build_with_clock(config: Config, clock: SharedClock) -> anyhow::Result<Application> {
        let db = Db::connect(&config.database_url).await?;
        db.migrate().await?;
        tracing::info!(database.backend = ?db.backend(), "database ready");
        let builtin = app::server::services::builtin_packs::install_builtin(&db, clock.now_ms())
            .await
            .map_err(|error| anyhow::anyhow!("installing the built-in question packs: {error}"))?;
        tracing::info!(packs = builtin.packs, questions = builtin.questions, "built-in question packs are up to date");

        if config.seeds_demo_when_empty()
            && let Some(seeded) = demo::seed_if_empty(&db, clock.now_ms()).await?
        {
            tracing::info!(
                members = seeded.members,
                answers = seeded.answers,
                "no Slack configured: seeded the demo workspace"
            );
        }

        let listener = TcpListener::bind(config.leptos.site_addr)
            .await
            .with_context(|| format!("listening on {} (LEPTOS_SITE_ADDR)", config.leptos.site_addr))?;
        let address = listener.local_addr().context("reading the bound address")?;
        let local_url = format!("http://{}", loopback(address));
        let public_url = config.public_url.clone().unwrap_or_else(|| local_url.clone());
        let (slack, emulator) = connect_slack(&config.slack, &db, &clock, &local_url)?;
        let state = routes::ServerState {
            leptos: config.leptos,
            app: AppState { db: db.clone(), dashboard_open: config.public_dashboard, clock: clock.clone() },
            slack: slack.clone(),
            public_url,
        };
        let sessions = session_layer(&db, &config.session_key, &state.public_url);
        let router = routes::router(state, emulator.as_ref()).layer(sessions);
        let dispatcher = slack.clone().map(Dispatcher::new);
        Ok(Application { listener, router, db, slack, emulator, dispatcher, background_dispatch: true })
    }

    /// The dispatcher that plans rounds and delivers questions, when Slack is configured or
    /// emulated.
    pub fn dispatcher(&self) -> Option<&Dispatcher> {
        self.dispatcher.as_ref()
    }

    /// Delivers questions asked on demand but plans no scheduled rounds (tests of on-demand
    /// flows on the wall clock, whose outcome must not depend on the time of day).
    #[must_use]
    pub fn without_scheduled_rounds(mut self) -> Application {
        self.dispatcher = self.dispatcher.map(Dispatcher::without_rounds);
        self
    }

    /// Leaves delivery to whoever calls [`Dispatcher::run_once`] (tests that drive it step by
    /// step) instead of a background loop.
    #[must_use]
    pub fn without_background_dispatch(mut self) -> Application {
        self.background_dispatch = false;
        self
    }

    /// The Slack endpoints' state, when Slack is configured or emulated.
    pub fn slack(&self) -> Option<&SlackState> {
        self.slack.as_ref()
    }

    /// The Slack emulator, when it stands in for Slack.
    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_ref()
    }

    /// The port the application listens on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|addr| addr.port()).unwrap_or_default()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish and closes the
    /// database pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let address = self.listener.local_addr().context("reading the bound address")?;
        tracing::info!(%address, "Rapport is listening on http://{address}");
        if let Some(slack) = self.slack.clone() {
            spawn_slack_work(slack);
        }
        if let Some(dispatcher) = self.dispatcher.clone().filter(|_| self.background_dispatch) {
            dispatcher.spawn();
        }
        spawn_housekeeping(self.db.clone());
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await.context("serving HTTP")?;
        self.db.close().await;
        tracing::info!("Rapport stopped");
        Ok(())
    }
}

/// How long a processed Slack event id is kept: Slack retries within minutes, so a week is ample.
const KEEP_PROCESSED_EVENTS_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Hourly clean-up: expired sessions and old Slack event ids.
fn spawn_housekeeping(db: Db) {
    tokio::spawn(async move {
        let sessions = DbSessionStore::new(db.clone());
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60 * 60));
        loop {
            every.tick().await;
            let now = app::server::now_ms();
            if let Err(error) = sessions.delete_expired().await {
                tracing::warn!(error = format!("{error:#}"), "could not delete expired sessions");
            }
            if let Err(error) =
                app::server::db::slack_events::delete_processed_before(db.pool(), now - KEEP_PROCESSED_EVENTS_MS).await
            {
                tracing::warn!(error = %error, "could not delete old Slack event ids");
            }
        }
    });
}

/// Slack work that runs beside the requests: a self-hosted workspace's first sync, the
/// events left from before a restart, and the daily digests.
fn spawn_slack_work(slack: SlackState) {
    if slack.fixed_token.is_some() && slack.oauth.is_none() {
        let slack = slack.clone();
        tokio::spawn(async move {
            match install::install_from_environment(&slack).await {
                Ok(workspace) => tracing::info!(workspace.id = %workspace.id, "self-hosted Slack workspace is ready"),
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "could not reach Slack with SLACK_BOT_TOKEN")
                }
            }
        });
    }
    let backlog = slack.clone();
    tokio::spawn(async move {
        match events::process_backlog(&backlog).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "processed Slack events left from before the restart"),
            Err(error) => tracing::error!(error = %error, "could not read the Slack event backlog"),
        }
    });
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(5 * 60));
        loop {
            every.tick().await;
            if let Err(error) = sharing::post_due_digests(&slack, slack.clock.now_ms()).await {
                tracing::warn!(error = format!("{error:#}"), "could not post the daily digests");
            }
        }
    });
}

/// The Slack client and endpoint state for the configured mode; in emulator mode the client
/// talks to the emulator mounted on this very server.
fn connect_slack(
    config: &SlackConfig,
    db: &Db,
    clock: &SharedClock,
    local_url: &str,
) -> anyhow::Result<(Option<SlackState>, Option<Emulator>)> {
    let state = |signing_secret: &SigningSecret, api_url: &str, fixed_token: Option<&str>, oauth| {
        let (events, queue) = events::EventQueue::new();
        let slack = SlackState {
            signing_secret: signing_secret.clone(),
            connection: SlackConnection::new(api_url)?,
            db: db.clone(),
            fixed_token: fixed_token.map(str::to_owned),
            oauth,
            events,
            clock: clock.clone(),
            dispatch_wake: Arc::default(),
        };
        tokio::spawn(events::run_worker(slack.clone(), queue));
        anyhow::Ok(slack)
    };
    Ok(match config {
        SlackConfig::Off => (None, None),
        SlackConfig::SelfHosted { bot_token, signing_secret, api_url } => {
            (Some(state(signing_secret, api_url, Some(bot_token), None)?), None)
        }
        SlackConfig::Hosted { signing_secret, api_url, oauth } => {
            let oauth = OAuthSettings {
                client_id: oauth.client_id.clone(),
                client_secret: oauth.client_secret.0.clone(),
                authorize_url: SLACK_AUTHORIZE_URL.to_owned(),
                cipher: oauth.token_cipher.clone(),
            };
            (Some(state(signing_secret, api_url, None, Some(oauth))?), None)
        }
        SlackConfig::Emulator { signing_secret, rate_limits } => {
            tracing::info!("no Slack configured: the Slack emulator stands in at /emulator");
            // Installs through the emulator's own authorize page work too, with its app's
            // credentials; the tokens they store are sealed with a key of this process only.
            let oauth = OAuthSettings {
                client_id: emulator::CLIENT_ID.to_owned(),
                client_secret: emulator::CLIENT_SECRET.to_owned(),
                authorize_url: format!("{local_url}/emulator/oauth/authorize"),
                cipher: TokenCipher::random(),
            };
            let api_url = format!("{local_url}/emulator/api");
            let slack = state(signing_secret, &api_url, Some(emulator::BOT_TOKEN), Some(oauth))?;
            let emulator = Emulator::new(local_url, signing_secret.clone())?;
            for (method, calls_a_minute) in rate_limits {
                emulator.set_rate_limit(method, *calls_a_minute);
            }
            (Some(slack), Some(emulator))
        }
    })
}

/// Session cookies: signed, `HttpOnly`, `SameSite=Lax`, `Secure` when served over https.
fn session_layer(
    db: &Db,
    key: &Option<Vec<u8>>,
    public_url: &str,
) -> tower_sessions::SessionManagerLayer<DbSessionStore, tower_sessions::service::SignedCookie> {
    let key = key.as_deref().map_or_else(tower_sessions::cookie::Key::generate, tower_sessions::cookie::Key::from);
    tower_sessions::SessionManagerLayer::new(DbSessionStore::new(db.clone()))
        .with_name("rapport_session")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(public_url.starts_with("https://"))
        .with_expiry(tower_sessions::Expiry::OnInactivity(time::Duration::days(14)))
        .with_signed(key)
}

/// The address to reach a listener bound to `address` from this machine.
fn loopback(address: std::net::SocketAddr) -> std::net::SocketAddr {
    if address.ip().is_unspecified() { std::net::SocketAddr::from(([127, 0, 0, 1], address.port())) } else { address }
}

/// Completes on Ctrl-C or SIGTERM (what a deploy sends before replacing the process).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
