//! Building and running the application: the same steps for the binary and for tests.
//! Start-up builds the one [`AppState`], with this application's own metrics registry;
//! [`Application::run_until`] starts every background task through its tracker and, at
//! shutdown, stops accepting (on the main port and the metrics port, if any), lets requests
//! finish, lets the workers finish the item in hand (for at most [`SHUTDOWN_GRACE`]) and
//! closes the pool.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use app::server::{
    AppParts, AppState,
    clock::{ScaledClock, SharedClock, SystemClock},
    db::Db,
    inbox_writer::InboxWriter,
    metrics::Metrics,
    secret::Secret,
    services::install,
    slack::{OAuthSettings, SlackGateway, tokens::TokenCipher},
    state::Wake,
    stripe::{StripeGateway, StripeSettings},
    tasks::Tasks,
};
use tokio::net::TcpListener;

use crate::{
    config::{BillingConfig, Config, EmulatorPlace, SessionKey, SlackConfig},
    demo,
    dispatch::Dispatcher,
    emulator::{self, Emulator, stripe::StripeEmulator},
    inbox, jobs, metrics, routes,
    serve::{self, ConnectionLimits},
    sessions::{self, DbSessionStore},
    sign_in::{self, SignInSettings, id_token::SlackKeys, limits::AttemptLimiter, slack::SlackSignInSettings},
    slack::verify::SigningSecret,
    state::{ServerParts, ServerState},
};

/// Where Slack asks an installer to approve the app.
const SLACK_AUTHORIZE_URL: &str = "https://slack.com/oauth/v2/authorize";
/// How long shutdown waits for background work to finish the item in hand.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How many connections the metrics listener serves at once: a scraper or two.
const METRICS_CONNECTIONS: usize = 8;

/// A bound, ready-to-serve Rapport.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    /// `/metrics` on a listener of its own (`RAPPORT_METRICS_ADDR`), when configured.
    metrics_listener: Option<(TcpListener, axum::Router)>,
    state: AppState,
    emulator: Option<Emulator>,
    stripe_emulator: Option<StripeEmulator>,
    dispatcher: Option<Dispatcher>,
    background_dispatch: bool,
    background_inbox: bool,
    uninstall_grace_days: i64,
    connections: ConnectionLimits,
}

impl Application {
    /// Connects to the database, applies migrations, checks hosted mode's token key, seeds the
    /// demo workspace when the configuration asks for it, and binds the listening sockets (port 0
    /// picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let db = migrated_database(&config).await?;
        let clock: SharedClock = if config.time_scale == 1.0 {
            Arc::new(SystemClock)
        } else {
            // A fast clock goes on from the latest time the database holds, not from today.
            let last_recorded = db.last_recorded_time().await.context("reading the latest recorded time")?;
            tracing::info!(time_scale = config.time_scale, "time runs faster (RAPPORT_TIME_SCALE)");
            Arc::new(ScaledClock::resuming(config.time_scale, last_recorded))
        };
        Application::build_on(config, db, clock).await
    }

    /// [`Application::build`] on a given clock (tests set the time).
    pub async fn build_with_clock(config: Config, clock: SharedClock) -> anyhow::Result<Application> {
        let db = migrated_database(&config).await?;
        Application::build_on(config, db, clock).await
    }

    async fn build_on(config: Config, db: Db, clock: SharedClock) -> anyhow::Result<Application> {
        let builtin = app::server::services::builtin_packs::install_builtin(&db, clock.now_ms())
            .await
            .context("installing the built-in question packs")?;
        tracing::info!(packs = builtin.packs, questions = builtin.questions, "built-in question packs are up to date");

        if config.is_demo() && !config.emulator_serves_any_team {
            demo::refuse_real_teams(&db).await?;
        }
        if let SlackConfig::Hosted { oauth, .. } = &config.slack {
            // A wrong RAPPORT_TOKEN_KEY stops the start, not each workspace's first message.
            app::server::services::token_keys::check(&db, &oauth.token_cipher, clock.now_ms()).await?;
        }
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
        let metrics_listener = match config.metrics.addr {
            Some(addr) => Some(
                TcpListener::bind(addr).await.with_context(|| format!("listening on {addr} (RAPPORT_METRICS_ADDR)"))?,
            ),
            None => None,
        };
        let address = listener.local_addr().context("reading the bound address")?;
        let local_url = format!("http://{}", loopback(address));
        let public_url = config.public_url.clone().unwrap_or_else(|| local_url.clone());
        // One registry per application, not per process: tests run several side by side.
        let metrics = Arc::new(Metrics::new());
        let (slack, signing_secret, emulator) = connect_slack(&config.slack, &local_url, &metrics)?;
        let (stripe, webhook_secret, stripe_emulator) = connect_stripe(&config.billing, &local_url, &clock)?;
        let sign_in = SignInSettings {
            slack: slack_sign_in(&config.slack, &local_url)?,
            attempts: Arc::new(AttemptLimiter::new(config.sign_in_budget)),
        };
        let tasks = Tasks::default();
        let state = AppState::new(AppParts {
            db: db.clone(),
            inbox_writer: InboxWriter::start(db.clone(), tasks.clone()),
            clock,
            slack,
            stripe,
            wake: Wake::default(),
            tasks,
            metrics,
            emulator_page: emulator_page(&config.slack),
            demo_team_id: if config.is_demo() { Some(demo::team_id()?) } else { None },
            sign_in_with_slack: sign_in.slack.is_some(),
            public_url,
        });
        if let Some(emulator) = &emulator {
            // The emulator page shows the app's reaction once its inbox is drained.
            let settle_state = state.clone();
            emulator.when_settled(Arc::new(move || {
                let state = settle_state.clone();
                Box::pin(async move {
                    if let Err(error) = app::server::services::inbox::drain(&state, SHUTDOWN_GRACE).await {
                        tracing::debug!(error = format!("{error:#}"), "the emulator page did not wait for the inbox");
                    }
                })
            }));
        }
        let server_state = ServerState::new(ServerParts {
            leptos: config.leptos,
            app: state.clone(),
            slack_signing_secret: signing_secret,
            stripe_webhook_secret: webhook_secret,
            sign_in,
            metrics_token: config.metrics.token.clone(),
        });
        let sessions = session_layer(&db, config.session_key.as_ref(), &state.public_url);
        let emulators = routes::Emulators { slack: emulator.as_ref(), stripe: stripe_emulator.as_ref() };
        let router = routes::router(server_state, emulators).layer(sessions);
        let dispatcher = state.slack.is_some().then(|| Dispatcher::new(state.clone()));
        let metrics_listener = metrics_listener.map(|listener| (listener, metrics::open_router(state.clone())));
        Ok(Application {
            listener,
            router,
            metrics_listener,
            state,
            emulator,
            stripe_emulator,
            dispatcher,
            background_dispatch: true,
            background_inbox: true,
            uninstall_grace_days: config.uninstall_grace_days,
            connections: config.connections,
        })
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

    /// Records what Slack sends but leaves it unprocessed in the inbox (tests of a process
    /// that stops before its backlog is done).
    #[must_use]
    pub fn without_inbox_worker(mut self) -> Application {
        self.background_inbox = false;
        self
    }

    /// The one shared state: database, clock, Slack gateway, wake-ups, background tasks.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The Slack emulator, when it stands in for Slack.
    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_ref()
    }

    /// The Stripe emulator, when it stands in for Stripe (the demo, and tests that ask for it).
    pub fn stripe_emulator(&self) -> Option<&StripeEmulator> {
        self.stripe_emulator.as_ref()
    }

    /// The port the application listens on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|addr| addr.port()).unwrap_or_default()
    }

    /// The port `/metrics` is served on by itself (`RAPPORT_METRICS_ADDR`), if it is.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_listener.as_ref().and_then(|(listener, _)| listener.local_addr().ok()).map(|addr| addr.port())
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Serves until `shutdown` completes. Then it stops accepting, lets in-flight requests
    /// finish, tells the background work to stop and waits for it (bounded), and closes the
    /// database pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let address = self.listener.local_addr().context("reading the bound address")?;
        tracing::info!(%address, "Rapport is listening on http://{address}");
        let state = self.state;
        if state.slack.as_ref().is_some_and(SlackGateway::is_self_hosted) {
            let background = state.clone();
            state.tasks.spawn(async move { install::install_from_environment_until_done(&background).await });
        }
        if self.background_inbox && (state.slack.is_some() || state.stripe.is_some()) {
            inbox::spawn(state.clone());
        }
        if state.slack.is_some() {
            jobs::spawn_digests(&state);
            jobs::spawn_weekly_summaries(&state);
        }
        if state.stripe.is_some() {
            jobs::spawn_billing(&state);
        }
        if let Some(stripe_emulator) = &self.stripe_emulator {
            jobs::spawn_stripe_emulator(&state, stripe_emulator.clone());
        }
        if let Some(dispatcher) = self.dispatcher.filter(|_| self.background_dispatch) {
            dispatcher.spawn();
        }
        jobs::spawn_clean_up(&state, self.uninstall_grace_days);
        // The metrics listener stops when the main one does: dropping `stopping` tells it.
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let metrics_served = serve_metrics(self.metrics_listener, self.connections, async move {
            let _ = stopped.await;
        });
        let main_stops = async move {
            shutdown.await;
            drop(stopping);
        };
        // Peer addresses (`ConnectInfo`) reach the budgets of sign-in starts and password attempts.
        let main_served = serve::serve(self.listener, self.router, self.connections, main_stops);
        let (main_served, metrics_served) = tokio::join!(main_served, metrics_served);
        main_served.context("serving HTTP")?;
        metrics_served?;
        tracing::info!("requests finished; stopping background work");
        let unfinished = state.tasks.shut_down(SHUTDOWN_GRACE).await;
        if unfinished > 0 {
            // Their items stay claimed in the database and are taken again once the lease ends.
            tracing::warn!(unfinished, "background tasks were still running after the grace period");
        }
        state.db.close().await;
        tracing::info!("Rapport stopped");
        Ok(())
    }
}

/// What `rapport emulator` needs besides its listener: where the app is, and the secret
/// both sign and check with.
#[derive(Debug, Clone)]
pub struct EmulatorAlone {
    /// Where the app listens (no trailing slash): deliveries go there, and installs and
    /// sign-ins may only return there.
    pub app_url: String,
    pub signing_secret: SigningSecret,
    /// Calls a minute per Web API method.
    pub rate_limits: Vec<(String, u32)>,
}

/// Runs the Slack emulator alone on `listener` until `shutdown` completes, for a Rapport
/// started with `RAPPORT_SLACK_EMULATOR` set to its URL. Its state lives as long as it does,
/// so it outlives restarts of the app.
pub async fn run_emulator(
    listener: TcpListener,
    settings: EmulatorAlone,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let address = loopback(listener.local_addr().context("reading the bound address")?);
    let own_url = format!("http://{address}");
    let emulator = Emulator::new(&settings.app_url, &own_url, settings.signing_secret)?;
    emulator.set_rate_limits(&settings.rate_limits);
    tracing::info!(%address, app.url = %settings.app_url, "the Slack emulator is listening on {own_url}/emulator");
    let router = routes::emulator_alone(&emulator, &own_url);
    serve::serve(listener, router, ConnectionLimits::default(), shutdown).await.context("serving the emulator")?;
    tracing::info!("the Slack emulator stopped");
    Ok(())
}

/// The configured database, connected and migrated.
async fn migrated_database(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    tracing::info!(database.backend = ?db.backend(), "database ready");
    Ok(db)
}

/// Serves `/metrics` on its own listener, when there is one, until `shutdown` completes.
async fn serve_metrics(
    metrics: Option<(TcpListener, axum::Router)>,
    connections: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let Some((listener, router)) = metrics else { return Ok(()) };
    let address = listener.local_addr().context("reading the metrics listener's address")?;
    tracing::info!(%address, "metrics are served on http://{address}/metrics");
    let limits = ConnectionLimits { max_connections: METRICS_CONNECTIONS, ..connections };
    serve::serve(listener, router, limits, shutdown).await.context("serving /metrics")
}

/// The Stripe gateway, the secret its webhooks are signed with, and the Stripe emulator, for
/// the configured billing; in the demo the gateway talks to the emulator mounted on this
/// very server, which signs with its own secret.
fn connect_stripe(
    config: &BillingConfig,
    local_url: &str,
    clock: &SharedClock,
) -> anyhow::Result<(Option<StripeGateway>, Option<Secret>, Option<StripeEmulator>)> {
    use crate::emulator::stripe as emulated;
    match config {
        BillingConfig::Off => Ok((None, None, None)),
        BillingConfig::Stripe { settings, webhook_secret } => {
            tracing::info!(stripe.price_id = %settings.price_id, "billing with Stripe");
            Ok((Some(StripeGateway::new(settings)?), Some(webhook_secret.clone()), None))
        }
        BillingConfig::Emulator => {
            tracing::info!("no Stripe configured: the Stripe emulator stands in at /stripe-emulator");
            let settings = StripeSettings {
                secret_key: Secret::new(emulated::SECRET_KEY),
                price_id: emulated::PRICE_ID.to_owned(),
                api_url: Some(format!("{local_url}/stripe-emulator/")),
            };
            let webhook_secret = Secret::new(emulated::WEBHOOK_SECRET);
            let emulator = StripeEmulator::new(local_url, emulated::SECRET_KEY, webhook_secret.clone(), clock.clone())?;
            Ok((Some(StripeGateway::new(&settings)?), Some(webhook_secret), Some(emulator)))
        }
    }
}

/// The Slack gateway, the secret its requests are signed with, and the emulator, for the
/// configured mode; in emulator mode the gateway talks to the emulator mounted on this very
/// server, or to one in a process of its own (`rapport emulator`).
fn connect_slack(
    config: &SlackConfig,
    local_url: &str,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<(Option<SlackGateway>, Option<SigningSecret>, Option<Emulator>)> {
    Ok(match config {
        SlackConfig::Off => (None, None, None),
        SlackConfig::SelfHosted { bot_token, signing_secret, api_url, .. } => {
            let gateway = SlackGateway::new(api_url, Some(bot_token.clone()), None, metrics.clone())?;
            (Some(gateway), Some(signing_secret.clone()), None)
        }
        SlackConfig::Hosted { signing_secret, api_url, oauth } => {
            let oauth = OAuthSettings {
                client_id: oauth.client_id.clone(),
                client_secret: oauth.client_secret.clone(),
                authorize_url: SLACK_AUTHORIZE_URL.to_owned(),
                cipher: oauth.token_cipher.clone(),
            };
            let gateway = SlackGateway::new(api_url, None, Some(oauth), metrics.clone())?;
            (Some(gateway), Some(signing_secret.clone()), None)
        }
        SlackConfig::Emulator { signing_secret, rate_limits, place } => {
            // Only the emulator signs, so any secret works; a random one leaks nothing.
            let signing_secret = signing_secret
                .clone()
                .unwrap_or_else(|| SigningSecret::new(format!("{:032x}", rand::random::<u128>())));
            let emulator_url = emulator_url(place, local_url);
            // Installs through the emulator's own authorize page work too, with its app's
            // credentials; the tokens they store are sealed with a key of this process only.
            let oauth = OAuthSettings {
                client_id: emulator::CLIENT_ID.to_owned(),
                client_secret: Secret::new(emulator::CLIENT_SECRET),
                authorize_url: format!("{emulator_url}/emulator/oauth/authorize"),
                cipher: TokenCipher::random(),
            };
            let api_url = format!("{emulator_url}/emulator/api");
            let gateway =
                SlackGateway::new(&api_url, Some(Secret::new(emulator::BOT_TOKEN)), Some(oauth), metrics.clone())?;
            let emulator = match place {
                EmulatorPlace::Here => {
                    tracing::info!("no Slack configured: the Slack emulator stands in at /emulator");
                    let emulator = Emulator::new(local_url, local_url, signing_secret.clone())?;
                    emulator.set_rate_limits(rate_limits);
                    Some(emulator)
                }
                EmulatorPlace::At(url) => {
                    tracing::info!(emulator.url = %url, "no Slack configured: the Slack emulator runs at {url}");
                    None
                }
            };
            (Some(gateway), Some(signing_secret), emulator)
        }
    })
}

/// Where the Slack emulator answers (no trailing slash): this server, or its own process.
fn emulator_url<'a>(place: &'a EmulatorPlace, local_url: &'a str) -> &'a str {
    match place {
        EmulatorPlace::Here => local_url,
        EmulatorPlace::At(url) => url,
    }
}

/// The emulator's page for the landing page's link: a path on this server, or a URL.
fn emulator_page(config: &SlackConfig) -> Option<String> {
    match config {
        SlackConfig::Emulator { place: EmulatorPlace::Here, .. } => Some("/emulator".to_owned()),
        SlackConfig::Emulator { place: EmulatorPlace::At(url), .. } => Some(format!("{url}/emulator")),
        _ => None,
    }
}

/// Sign in with Slack's endpoints for the configured mode: Slack's own when the app has its
/// client id and secret (hosted, or self-hosted with them), the emulator's in the demo.
fn slack_sign_in(config: &SlackConfig, local_url: &str) -> anyhow::Result<Option<SlackSignInSettings>> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .context("building the HTTP client for Sign in with Slack")?;
    Ok(match config {
        SlackConfig::Hosted { api_url, oauth, .. } => Some(SlackSignInSettings {
            client_id: oauth.client_id.clone(),
            client_secret: oauth.client_secret.clone(),
            authorize_url: sign_in::slack::SLACK_AUTHORIZE_URL.to_owned(),
            token_url: format!("{api_url}/openid.connect.token"),
            keys: SlackKeys::new(sign_in::id_token::SLACK_JWKS_URL, http.clone()),
            http,
        }),
        SlackConfig::Emulator { place, .. } => {
            let emulator_url = emulator_url(place, local_url);
            Some(SlackSignInSettings {
                client_id: emulator::CLIENT_ID.to_owned(),
                client_secret: Secret::new(emulator::CLIENT_SECRET),
                authorize_url: format!("{emulator_url}/emulator/oauth/authorize"),
                token_url: format!("{emulator_url}/emulator/api/openid.connect.token"),
                keys: SlackKeys::new(format!("{emulator_url}/emulator/openid/connect/keys"), http.clone()),
                http,
            })
        }
        SlackConfig::SelfHosted { api_url, sign_in: Some(credentials), .. } => Some(SlackSignInSettings {
            client_id: credentials.client_id.clone(),
            client_secret: credentials.client_secret.clone(),
            authorize_url: sign_in::slack::SLACK_AUTHORIZE_URL.to_owned(),
            token_url: format!("{api_url}/openid.connect.token"),
            keys: SlackKeys::new(sign_in::id_token::SLACK_JWKS_URL, http.clone()),
            http,
        }),
        SlackConfig::SelfHosted { sign_in: None, .. } | SlackConfig::Off => None,
    })
}

/// Session cookies: signed, `HttpOnly`, `SameSite=Lax`, `Secure` when served over https.
fn session_layer(
    db: &Db,
    key: Option<&SessionKey>,
    public_url: &str,
) -> tower_sessions::SessionManagerLayer<DbSessionStore, tower_sessions::service::SignedCookie> {
    let key = key.map_or_else(tower_sessions::cookie::Key::generate, |key| tower_sessions::cookie::Key::from(&key.0));
    let https = public_url.starts_with("https://");
    // `__Host-`: the browser keeps the cookie only if it is Secure, for path `/` and this
    // exact host, so no sibling subdomain can set or overwrite it.
    let name = if https { "__Host-rapport_session" } else { "rapport_session" };
    tower_sessions::SessionManagerLayer::new(DbSessionStore::new(db.clone()))
        .with_name(name)
        .with_path("/")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(https)
        .with_expiry(tower_sessions::Expiry::OnInactivity(sessions::SIGNED_IN_LIFETIME))
        .with_signed(key)
}

/// The address to reach a listener bound to `address` from this machine.
pub(crate) fn loopback(address: std::net::SocketAddr) -> std::net::SocketAddr {
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
