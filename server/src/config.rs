//! Configuration from the environment (12-factor). Start-up refuses an invalid value and
//! names the variable.

use std::{net::SocketAddr, str::FromStr};

use base64::Engine as _;

use app::server::{db::Backend, secret::Secret, slack::tokens::TokenCipher, stripe::StripeSettings};
use leptos::config::{Env, LeptosOptions};

use crate::{sign_in::limits::Budget, slack::verify::SigningSecret};

/// The default database: a SQLite file under `./data`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/rapport.db";

/// Everything the process reads from its environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: DatabaseUrl,
    /// Where to listen and where the built site (wasm, CSS, public files) is.
    pub leptos: LeptosOptions,
    pub log_format: LogFormat,
    pub demo_data: DemoData,
    pub slack: SlackConfig,
    pub billing: BillingConfig,
    /// The URL people and Slack reach Rapport at (no trailing slash); by default the
    /// listening address.
    pub public_url: Option<String>,
    /// Signs session cookies; random per process when unset (sessions end at a restart).
    pub session_key: Option<SessionKey>,
    /// How many times faster than the wall clock the product's time runs (schedules, rounds,
    /// retries); 1 except in demos with the Slack emulator.
    pub time_scale: f64,
    /// Days an uninstalled workspace's data is kept before it is deleted (a re-install within
    /// them keeps everything).
    pub uninstall_grace_days: i64,
    /// Lets the emulator start on a database holding teams besides the demo's. No variable
    /// sets it: only the integration tests, which make teams of their own, turn it on.
    pub emulator_serves_any_team: bool,
    /// The starts (sign-in, install) and password attempts one address may make. No variable
    /// sets it: only the integration tests, which sign many browsers in from one address,
    /// change it.
    pub sign_in_budget: Budget,
    /// How long a client may take to send a request's headers and how many connections are
    /// served at once. No variable sets them: only the integration tests shorten them.
    pub connections: crate::serve::ConnectionLimits,
    /// Where `/metrics` is served, if anywhere (off by default).
    pub metrics: MetricsConfig,
}

/// Where Prometheus scrapes `/metrics`. With neither set, `/metrics` is a 404 like any
/// unknown page.
#[derive(Clone, Debug, Default)]
pub struct MetricsConfig {
    /// `RAPPORT_METRICS_TOKEN`: `/metrics` on the main port, to `Authorization: Bearer <token>`.
    pub token: Option<Secret>,
    /// `RAPPORT_METRICS_ADDR`: `/metrics` on a listener of its own, with no token (bind it to
    /// an address only the scraper reaches, such as 127.0.0.1:9464).
    pub addr: Option<SocketAddr>,
}

/// The shortest `RAPPORT_METRICS_TOKEN` accepted.
pub const MIN_METRICS_TOKEN_CHARS: usize = 16;

/// How Rapport reaches Slack.
#[derive(Clone, Debug)]
pub enum SlackConfig {
    /// Self-hosted for one workspace: a bot token and signing secret from the environment,
    /// and the app's client id and secret when members may also Sign in with Slack.
    SelfHosted { bot_token: Secret, signing_secret: SigningSecret, api_url: String, sign_in: Option<SignInCredentials> },
    /// Hosted for many workspaces: each installs through "Add to Slack" (OAuth).
    Hosted { signing_secret: SigningSecret, api_url: String, oauth: OAuthConfig },
    /// No Slack: the built-in emulator stands in for Slack's Web API and signs what it sends
    /// with `signing_secret` (random per start when none is given). `rate_limits` are calls a
    /// minute per Web API method.
    Emulator { signing_secret: Option<SigningSecret>, rate_limits: Vec<(String, u32)>, place: EmulatorPlace },
    /// No Slack and no emulator: the Slack endpoints answer 503.
    Off,
}

/// Where the Slack emulator runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmulatorPlace {
    /// Mounted on this server under `/emulator` (the demo).
    Here,
    /// In a process of its own (`rapport emulator`) at this URL (no trailing slash), so this
    /// server's memory and CPU are Rapport's alone (the soak test measures them).
    At(String),
}

/// Whether and how workspaces are billed.
#[derive(Clone, Debug)]
pub enum BillingConfig {
    /// No Stripe (self-hosted): billing is off and nothing is limited.
    Off,
    /// Stripe, or a server speaking its API at `settings.api_url`; the webhook's signing
    /// secret checks what it sends.
    Stripe { settings: StripeSettings, webhook_secret: Secret },
    /// The demo (no Slack and no Stripe configured): the built-in Stripe emulator stands in,
    /// so a visitor can go through an upgrade.
    Emulator,
}

/// The Slack app's client id and secret, for Sign in with Slack.
#[derive(Clone, Debug)]
pub struct SignInCredentials {
    pub client_id: String,
    pub client_secret: Secret,
}

/// The Slack app's OAuth credentials and the key that seals installed bot tokens.
#[derive(Clone, Debug)]
pub struct OAuthConfig {
    pub client_id: String,
    pub client_secret: Secret,
    pub token_cipher: TokenCipher,
}

/// `DATABASE_URL`: printed without the password it may hold.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl std::ops::Deref for DatabaseUrl {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for DatabaseUrl {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // scheme://user:password@host/... -> scheme://user:[redacted]@host/...
        match self.0.split_once("://").and_then(|(scheme, rest)| Some((scheme, rest.split_once('@')?))) {
            Some((scheme, (credentials, host))) => {
                let user = credentials.split(':').next().unwrap_or_default();
                write!(f, "DatabaseUrl({scheme}://{user}:[redacted]@{host})")
            }
            None => write!(f, "DatabaseUrl({})", self.0),
        }
    }
}

/// The key that signs session cookies (64+ bytes). Never printed.
#[derive(Clone)]
pub struct SessionKey(pub Vec<u8>);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

/// Slack's Web API; tests and the emulator use another base URL (no trailing slash).
pub const SLACK_API_URL: &str = "https://slack.com/api";

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Text,
    /// One JSON object per line, for a log collector in production.
    Json,
}

/// Whether `rapport serve` seeds the demo workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoData {
    /// Seed it when the database has no workspace and no Slack is configured.
    Auto,
    /// Never seed it (use `rapport demo` to seed on purpose).
    Off,
}

/// A variable that is set to something the server cannot use.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {variable} {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `get`, which returns a variable's value if it is set.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |name: &str| get(name).filter(|value| !value.trim().is_empty());

        let database_url = DatabaseUrl(var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()));
        Backend::from_str(&database_url).map_err(|reason| invalid("DATABASE_URL", reason))?;

        let site_addr: SocketAddr = parse_or("LEPTOS_SITE_ADDR", var("LEPTOS_SITE_ADDR"), "127.0.0.1:3000")?;
        let reload_port: u32 = parse_or("LEPTOS_RELOAD_PORT", var("LEPTOS_RELOAD_PORT"), "3001")?;
        let env = match var("LEPTOS_ENV").as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("DEV" | "DEVELOPMENT") => Env::DEV,
            Some("PROD" | "PRODUCTION") => Env::PROD,
            Some(_) => return Err(invalid("LEPTOS_ENV", "must be DEV or PROD".into())),
        };
        let leptos = LeptosOptions::builder()
            .output_name(var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|| "rapport".into()))
            .site_root(var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()))
            .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|| "pkg".into()))
            .site_addr(site_addr)
            .reload_port(reload_port)
            .env(env)
            .build();

        let log_format = match var("RAPPORT_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(invalid("RAPPORT_LOG_FORMAT", "must be text or json".into())),
        };
        let demo_data = match var("RAPPORT_DEMO_DATA").as_deref() {
            None | Some("auto") => DemoData::Auto,
            Some("off") => DemoData::Off,
            Some(_) => return Err(invalid("RAPPORT_DEMO_DATA", "must be auto or off".into())),
        };

        let slack = slack_config(&var)?;
        let billing = billing_config(&var, &slack)?;

        let public_url = var("RAPPORT_PUBLIC_URL").map(|url| base_url("RAPPORT_PUBLIC_URL", url)).transpose()?;

        let session_key = match var("RAPPORT_SESSION_KEY") {
            None => None,
            Some(key) => match base64::engine::general_purpose::STANDARD.decode(key.trim()) {
                Ok(bytes) if bytes.len() >= 64 => Some(SessionKey(bytes)),
                _ => return Err(invalid("RAPPORT_SESSION_KEY", "must be base64 of at least 64 random bytes".into())),
            },
        };

        if matches!(slack, SlackConfig::Hosted { .. }) && session_key.is_none() {
            // Installs start on one request and finish on another, maybe on another instance.
            return Err(invalid("RAPPORT_SESSION_KEY", "is required with SLACK_CLIENT_ID".into()));
        }
        if var("RAPPORT_PUBLIC_DASHBOARD").is_some() {
            // It made every visitor an admin; sign-in replaced it.
            return Err(invalid(
                "RAPPORT_PUBLIC_DASHBOARD",
                "is no longer supported: members sign in with Slack, admins with Slack or `rapport admin create`"
                    .into(),
            ));
        }

        let time_scale = match var("RAPPORT_TIME_SCALE") {
            None => 1.0,
            Some(raw) => match raw.trim().parse::<f64>() {
                Ok(scale) if (1.0..=10_000.0).contains(&scale) => scale,
                _ => return Err(invalid("RAPPORT_TIME_SCALE", "must be a number from 1 to 10000".into())),
            },
        };
        if time_scale != 1.0 && !matches!(slack, SlackConfig::Emulator { .. }) {
            // Real Slack's rate limits and real people's mornings run on real time.
            return Err(invalid(
                "RAPPORT_TIME_SCALE",
                "only works with the Slack emulator (no Slack configured)".into(),
            ));
        }

        let uninstall_grace_days = match var("RAPPORT_UNINSTALL_GRACE_DAYS") {
            None => app::server::services::workspace_data::DEFAULT_GRACE_DAYS,
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(days) if (1..=3650).contains(&days) => days,
                _ => {
                    return Err(invalid(
                        "RAPPORT_UNINSTALL_GRACE_DAYS",
                        "must be a number of days from 1 to 3650".into(),
                    ));
                }
            },
        };

        let metrics = metrics_config(&var, site_addr)?;

        Ok(Config {
            database_url,
            leptos,
            log_format,
            demo_data,
            slack,
            billing,
            public_url,
            session_key,
            time_scale,
            uninstall_grace_days,
            emulator_serves_any_team: false,
            sign_in_budget: crate::sign_in::limits::DEFAULT_BUDGET,
            connections: crate::serve::ConnectionLimits::default(),
            metrics,
        })
    }

    /// Whether start-up should seed the demo workspace into an empty database.
    pub fn seeds_demo_when_empty(&self) -> bool {
        self.demo_data == DemoData::Auto && self.is_demo()
    }

    /// Whether this is the demo: no Slack configured, so the only team is the fictional one
    /// (start-up refuses a database that holds any other) and anonymous visitors may browse
    /// it read-only.
    pub fn is_demo(&self) -> bool {
        matches!(self.slack, SlackConfig::Emulator { .. } | SlackConfig::Off)
    }
}

fn slack_config(var: &impl Fn(&str) -> Option<String>) -> Result<SlackConfig, ConfigError> {
    let signing_secret = var("SLACK_SIGNING_SECRET").map(SigningSecret::new);
    let emulator = match var("RAPPORT_SLACK_EMULATOR") {
        None => Some(EmulatorPlace::Here),
        Some(value) if value == "auto" => Some(EmulatorPlace::Here),
        Some(value) if value == "off" => None,
        Some(url) if url.starts_with("http") => Some(EmulatorPlace::At(base_url("RAPPORT_SLACK_EMULATOR", url)?)),
        Some(_) => {
            return Err(invalid(
                "RAPPORT_SLACK_EMULATOR",
                "must be auto, off, or the http(s) URL of a `rapport emulator` process".into(),
            ));
        }
    };
    let api_url = base_url("SLACK_API_URL", var("SLACK_API_URL").unwrap_or_else(|| SLACK_API_URL.to_owned()))?;
    if let Some(bot_token) = var("SLACK_BOT_TOKEN") {
        return self_hosted(var, Secret::new(bot_token), signing_secret, api_url);
    }
    if let Some(client_id) = var("SLACK_CLIENT_ID") {
        let client_secret = var("SLACK_CLIENT_SECRET")
            .ok_or_else(|| invalid("SLACK_CLIENT_SECRET", "is required with SLACK_CLIENT_ID".into()))?;
        let signing_secret =
            signing_secret.ok_or_else(|| invalid("SLACK_SIGNING_SECRET", "is required with SLACK_CLIENT_ID".into()))?;
        let key = var("RAPPORT_TOKEN_KEY")
            .ok_or_else(|| invalid("RAPPORT_TOKEN_KEY", "is required with SLACK_CLIENT_ID".into()))?;
        let mut token_cipher = TokenCipher::from_base64(&key).map_err(|reason| invalid("RAPPORT_TOKEN_KEY", reason))?;
        if let Some(previous) = var("RAPPORT_TOKEN_KEY_PREVIOUS") {
            // A rotation under way: tokens sealed with the previous key still open.
            let previous =
                TokenCipher::from_base64(&previous).map_err(|reason| invalid("RAPPORT_TOKEN_KEY_PREVIOUS", reason))?;
            token_cipher = token_cipher.with_previous(previous);
        }
        let oauth = OAuthConfig { client_id, client_secret: Secret::new(client_secret), token_cipher };
        return Ok(SlackConfig::Hosted { signing_secret, api_url, oauth });
    }
    for hosted_only in ["SLACK_CLIENT_SECRET", "RAPPORT_TOKEN_KEY", "RAPPORT_TOKEN_KEY_PREVIOUS"] {
        if var(hosted_only).is_some() {
            return Err(invalid(hosted_only, "is set, but SLACK_CLIENT_ID is not (hosted mode needs both)".into()));
        }
    }
    // Fails closed: a Slack variable with no bot token or client id is a half-done setup, and
    // starting the emulator on it would be a demo on a real team's database.
    for partial in ["SLACK_SIGNING_SECRET", "SLACK_API_URL"] {
        if var(partial).is_some() {
            return Err(invalid(
                partial,
                "is set, but Slack is not: set SLACK_BOT_TOKEN (self-hosted) or SLACK_CLIENT_ID (hosted) too, \
                 or unset it to use the Slack emulator"
                    .into(),
            ));
        }
    }
    let Some(place) = emulator else {
        return Ok(SlackConfig::Off);
    };
    let signing_secret = var("RAPPORT_EMULATOR_SIGNING_SECRET").map(SigningSecret::new);
    let rate_limits = rate_limits(var("RAPPORT_EMULATOR_RATE_LIMITS").as_deref())?;
    if let EmulatorPlace::At(_) = place {
        // The other process signs what it sends: only a secret both were given can match.
        if signing_secret.is_none() {
            return Err(invalid(
                "RAPPORT_EMULATOR_SIGNING_SECRET",
                "is required when RAPPORT_SLACK_EMULATOR names an emulator elsewhere (give both the same)".into(),
            ));
        }
        if !rate_limits.is_empty() {
            return Err(invalid(
                "RAPPORT_EMULATOR_RATE_LIMITS",
                "applies where the emulator runs: give it to the `rapport emulator` process".into(),
            ));
        }
    }
    Ok(SlackConfig::Emulator { signing_secret, rate_limits, place })
}

/// Self-hosted for the bot token's workspace; with the Slack app's client id and secret,
/// Sign in with Slack works too (installs do not: there is no `RAPPORT_TOKEN_KEY` here).
fn self_hosted(
    var: &impl Fn(&str) -> Option<String>,
    bot_token: Secret,
    signing_secret: Option<SigningSecret>,
    api_url: String,
) -> Result<SlackConfig, ConfigError> {
    let signing_secret = signing_secret
        .ok_or_else(|| invalid("SLACK_SIGNING_SECRET", "is required when SLACK_BOT_TOKEN is set".into()))?;
    if let Some(key) = ["RAPPORT_TOKEN_KEY", "RAPPORT_TOKEN_KEY_PREVIOUS"].into_iter().find(|&key| var(key).is_some()) {
        return Err(invalid(
            key,
            "is for hosted mode, which stores installed tokens; with SLACK_BOT_TOKEN the token stays in the \
             environment"
                .into(),
        ));
    }
    let sign_in = match (var("SLACK_CLIENT_ID"), var("SLACK_CLIENT_SECRET")) {
        (Some(client_id), Some(client_secret)) => {
            Some(SignInCredentials { client_id, client_secret: Secret::new(client_secret) })
        }
        (None, None) => None,
        (Some(_), None) => {
            return Err(invalid(
                "SLACK_CLIENT_SECRET",
                "is required with SLACK_CLIENT_ID (for Sign in with Slack)".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(invalid(
                "SLACK_CLIENT_SECRET",
                "is set, but SLACK_CLIENT_ID is not (Sign in with Slack needs both)".into(),
            ));
        }
    };
    Ok(SlackConfig::SelfHosted { bot_token, signing_secret, api_url, sign_in })
}

/// `/metrics`: a bearer token for the main port and an address of its own, each optional.
fn metrics_config(var: &impl Fn(&str) -> Option<String>, site_addr: SocketAddr) -> Result<MetricsConfig, ConfigError> {
    let token = match var("RAPPORT_METRICS_TOKEN") {
        None => None,
        // Sent in a header as it is, so no spaces or other characters a header cannot carry.
        Some(token) if token.len() >= MIN_METRICS_TOKEN_CHARS && token.bytes().all(|byte| byte.is_ascii_graphic()) => {
            Some(Secret::new(token))
        }
        Some(_) => {
            return Err(invalid(
                "RAPPORT_METRICS_TOKEN",
                format!(
                    "must be at least {MIN_METRICS_TOKEN_CHARS} characters without spaces (random, as for a password)"
                ),
            ));
        }
    };
    let addr = match var("RAPPORT_METRICS_ADDR") {
        None => None,
        Some(raw) => match raw.trim().parse::<SocketAddr>() {
            Ok(addr) if addr.port() != 0 && addr == site_addr => {
                return Err(invalid("RAPPORT_METRICS_ADDR", "must differ from LEPTOS_SITE_ADDR".into()));
            }
            Ok(addr) => Some(addr),
            Err(_) => {
                return Err(invalid(
                    "RAPPORT_METRICS_ADDR",
                    format!("must be an address and port such as 127.0.0.1:9464 (not {raw:?})"),
                ));
            }
        },
    };
    Ok(MetricsConfig { token, addr })
}

/// Reads `method=calls,method=calls` (calls a minute).
/// The variables billing needs (`STRIPE_API_URL` is optional: it points at another server).
const STRIPE_REQUIRED: [&str; 3] = ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_PRICE_ID"];

/// Billing: Stripe when its variables are set (a partial set names the first one missing),
/// the Stripe emulator in the demo (no Slack configured either), else off.
fn billing_config(var: &impl Fn(&str) -> Option<String>, slack: &SlackConfig) -> Result<BillingConfig, ConfigError> {
    let any_set = STRIPE_REQUIRED.iter().chain(&["STRIPE_API_URL"]).any(|name| var(name).is_some());
    if !any_set {
        let demo = matches!(slack, SlackConfig::Emulator { .. });
        return Ok(if demo { BillingConfig::Emulator } else { BillingConfig::Off });
    }
    if let Some(missing) = STRIPE_REQUIRED.into_iter().find(|name| var(name).is_none()) {
        return Err(invalid(missing, "is required with the other STRIPE_ variables".into()));
    }
    let value = |name: &str| var(name).unwrap_or_default().trim().to_owned();
    let secret_key = value("STRIPE_SECRET_KEY");
    if !(secret_key.starts_with("sk_") || secret_key.starts_with("rk_")) {
        return Err(invalid("STRIPE_SECRET_KEY", "must be a Stripe secret key (sk_... or rk_...)".into()));
    }
    let webhook_secret = value("STRIPE_WEBHOOK_SECRET");
    if !webhook_secret.starts_with("whsec_") {
        return Err(invalid("STRIPE_WEBHOOK_SECRET", "must be the webhook's signing secret (whsec_...)".into()));
    }
    let price_id = value("STRIPE_PRICE_ID");
    if !price_id.starts_with("price_") {
        return Err(invalid("STRIPE_PRICE_ID", "must be a Stripe price id (price_...)".into()));
    }
    // async-stripe appends `v1/...` to the base, which must end in a slash.
    let api_url =
        var("STRIPE_API_URL").map(|url| base_url("STRIPE_API_URL", url).map(|url| format!("{url}/"))).transpose()?;
    Ok(BillingConfig::Stripe {
        settings: StripeSettings { secret_key: Secret::new(secret_key), price_id, api_url },
        webhook_secret: Secret::new(webhook_secret),
    })
}

fn rate_limits(raw: Option<&str>) -> Result<Vec<(String, u32)>, ConfigError> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    raw.split(',')
        .map(|pair| {
            let (method, calls) = pair.trim().split_once('=').unwrap_or((pair, ""));
            match calls.trim().parse::<u32>() {
                Ok(calls) if !method.trim().is_empty() => Ok((method.trim().to_owned(), calls)),
                _ => Err(invalid(
                    "RAPPORT_EMULATOR_RATE_LIMITS",
                    format!("must look like chat.postMessage=60,views.open=20 (not {pair:?})"),
                )),
            }
        })
        .collect()
}

/// A base URL other URLs are built on: http(s), and no trailing slash (it would double).
fn base_url(variable: &'static str, url: String) -> Result<String, ConfigError> {
    let http = url.starts_with("https://") || url.starts_with("http://");
    if !http || url.ends_with('/') {
        return Err(invalid(variable, "must be an http(s) URL without a trailing slash".into()));
    }
    Ok(url)
}

fn invalid(variable: &'static str, reason: String) -> ConfigError {
    ConfigError { variable, reason }
}

fn parse_or<T: FromStr>(variable: &'static str, value: Option<String>, default: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    let value = value.unwrap_or_else(|| default.to_owned());
    value.trim().parse().map_err(|error| invalid(variable, format!("is not valid ({error}): {value:?}")))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn with_nothing_set_rapport_uses_sqlite_under_data_and_seeds_the_demo() {
        let config = config(&[]).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.leptos.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(&*config.leptos.site_root, "target/site");
        assert_eq!(config.log_format, LogFormat::Text);
        assert!(config.seeds_demo_when_empty());
    }

    #[test]
    fn a_slack_token_or_demo_off_stops_the_demo_seed() {
        let self_hosted = config(&[("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_SIGNING_SECRET", "s")]).unwrap();
        assert!(!self_hosted.seeds_demo_when_empty());
        assert!(!config(&[("RAPPORT_DEMO_DATA", "off")]).unwrap().seeds_demo_when_empty());
    }

    #[test]
    fn without_slack_the_emulator_stands_in_unless_switched_off() {
        assert!(matches!(config(&[]).unwrap().slack, SlackConfig::Emulator { place: EmulatorPlace::Here, .. }));
        assert!(matches!(config(&[("RAPPORT_SLACK_EMULATOR", "off")]).unwrap().slack, SlackConfig::Off));
        let error = config(&[("RAPPORT_SLACK_EMULATOR", "yes")]).unwrap_err();
        assert_eq!(error.variable, "RAPPORT_SLACK_EMULATOR");
        let self_hosted = config(&[("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_SIGNING_SECRET", "s")]).unwrap();
        assert!(matches!(self_hosted.slack, SlackConfig::SelfHosted { ref api_url, .. } if api_url == SLACK_API_URL));
    }

    #[test]
    fn a_client_id_means_hosted_and_needs_its_secrets_and_a_token_key() {
        let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        let session_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==";
        let all = [
            ("RAPPORT_SESSION_KEY", session_key),
            ("SLACK_CLIENT_ID", "1.2"),
            ("SLACK_CLIENT_SECRET", "c"),
            ("SLACK_SIGNING_SECRET", "s"),
            ("RAPPORT_TOKEN_KEY", key),
        ];
        let hosted = config(&all).unwrap();
        assert!(matches!(hosted.slack, SlackConfig::Hosted { .. }));
        assert!(!hosted.seeds_demo_when_empty());
        assert!(!hosted.is_demo(), "a real team is never browsed anonymously");
        for (index, (missing, _)) in all.iter().enumerate().filter(|(_, (name, _))| *name != "SLACK_CLIENT_ID") {
            let without: Vec<_> = all.iter().enumerate().filter(|(i, _)| *i != index).map(|(_, v)| *v).collect();
            assert_eq!(config(&without).unwrap_err().variable, *missing);
        }
        let short_key = [&all[..4], &[("RAPPORT_TOKEN_KEY", "c2hvcnQ=")]].concat();
        assert_eq!(config(&short_key).unwrap_err().variable, "RAPPORT_TOKEN_KEY");
    }

    #[test]
    fn a_previous_token_key_opens_old_tokens_and_is_only_read_beside_a_current_one() {
        let previous = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
        let session_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==";
        let hosted = [
            ("RAPPORT_SESSION_KEY", session_key),
            ("SLACK_CLIENT_ID", "1.2"),
            ("SLACK_CLIENT_SECRET", "c"),
            ("SLACK_SIGNING_SECRET", "s"),
            ("RAPPORT_TOKEN_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
        ];
        let rotating = config(&[&hosted[..], &[("RAPPORT_TOKEN_KEY_PREVIOUS", previous)]].concat()).unwrap();
        let SlackConfig::Hosted { oauth, .. } = rotating.slack else { panic!("hosted mode") };
        let token = Secret::new("xoxb-1");
        let sealed_before = TokenCipher::from_base64(previous).unwrap().seal("W1", &token).unwrap();
        assert_eq!(oauth.token_cipher.open("W1", &sealed_before).unwrap(), token);

        let malformed = config(&[&hosted[..], &[("RAPPORT_TOKEN_KEY_PREVIOUS", "c2hvcnQ=")]].concat());
        assert_eq!(malformed.unwrap_err().variable, "RAPPORT_TOKEN_KEY_PREVIOUS");
        let alone = config(&[("RAPPORT_TOKEN_KEY_PREVIOUS", previous)]);
        assert_eq!(alone.unwrap_err().variable, "RAPPORT_TOKEN_KEY_PREVIOUS");
        let self_hosted = config(&[
            ("SLACK_BOT_TOKEN", "xoxb-1"),
            ("SLACK_SIGNING_SECRET", "s"),
            ("RAPPORT_TOKEN_KEY_PREVIOUS", previous),
        ]);
        assert_eq!(self_hosted.unwrap_err().variable, "RAPPORT_TOKEN_KEY_PREVIOUS");
    }

    #[test]
    fn emulator_rate_limits_are_read_per_method() {
        let config = config(&[("RAPPORT_EMULATOR_RATE_LIMITS", "chat.postMessage=2, views.open=20")]).unwrap();
        let SlackConfig::Emulator { rate_limits, .. } = config.slack else { panic!("emulator mode") };
        assert_eq!(rate_limits, [("chat.postMessage".to_owned(), 2), ("views.open".to_owned(), 20)]);
    }

    #[test]
    fn a_partial_slack_setup_stops_the_server_instead_of_starting_the_emulator() {
        for (variable, value) in [
            ("SLACK_SIGNING_SECRET", "s"),
            ("SLACK_API_URL", "https://slack.com/api"),
            ("SLACK_CLIENT_SECRET", "c"),
            ("RAPPORT_TOKEN_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
        ] {
            let error = config(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable, "{error}");
        }
        let self_hosted_with_a_hosted_key =
            config(&[("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_SIGNING_SECRET", "s"), ("SLACK_CLIENT_SECRET", "c")]);
        assert_eq!(self_hosted_with_a_hosted_key.unwrap_err().variable, "SLACK_CLIENT_SECRET");
    }

    #[test]
    fn the_emulator_signs_with_its_own_secret_when_one_is_given() {
        let config = config(&[("RAPPORT_EMULATOR_SIGNING_SECRET", "emulated")]).unwrap();
        let SlackConfig::Emulator { signing_secret: Some(signing_secret), .. } = config.slack else {
            panic!("emulator mode with a secret")
        };
        let signed = |secret: &SigningSecret| crate::slack::verify::sign(secret, "1", b"body");
        assert_eq!(signed(&signing_secret), signed(&SigningSecret::new("emulated")));
    }

    #[test]
    fn an_emulator_elsewhere_is_reached_at_its_url_with_the_secret_both_were_given() {
        let elsewhere = [("RAPPORT_SLACK_EMULATOR", "http://127.0.0.1:3001"), ("RAPPORT_EMULATOR_SIGNING_SECRET", "s")];
        let SlackConfig::Emulator { place, .. } = config(&elsewhere).unwrap().slack else { panic!("emulator mode") };
        assert_eq!(place, EmulatorPlace::At("http://127.0.0.1:3001".into()));
        assert!(config(&elsewhere).unwrap().is_demo(), "the demo team is still the only one");

        let without_secret = config(&elsewhere[..1]).unwrap_err();
        assert_eq!(without_secret.variable, "RAPPORT_EMULATOR_SIGNING_SECRET");
        let trailing_slash = config(&[("RAPPORT_SLACK_EMULATOR", "http://127.0.0.1:3001/"), elsewhere[1]]);
        assert_eq!(trailing_slash.unwrap_err().variable, "RAPPORT_SLACK_EMULATOR");
        let limits_here = config(&[&elsewhere[..], &[("RAPPORT_EMULATOR_RATE_LIMITS", "chat.postMessage=2")]].concat());
        assert_eq!(limits_here.unwrap_err().variable, "RAPPORT_EMULATOR_RATE_LIMITS");
    }

    #[test]
    fn self_hosted_may_add_the_client_id_and_secret_for_sign_in_with_slack() {
        let base = [("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_SIGNING_SECRET", "s")];
        let with_sign_in =
            config(&[&base[..], &[("SLACK_CLIENT_ID", "1.2"), ("SLACK_CLIENT_SECRET", "c")]].concat()).unwrap();
        let SlackConfig::SelfHosted { sign_in: Some(credentials), .. } = with_sign_in.slack else {
            panic!("self-hosted with Sign in with Slack")
        };
        assert_eq!(credentials.client_id, "1.2");
        let without_secret = config(&[&base[..], &[("SLACK_CLIENT_ID", "1.2")]].concat()).unwrap_err();
        assert_eq!(without_secret.variable, "SLACK_CLIENT_SECRET");
        let with_token_key =
            config(&[&base[..], &[("RAPPORT_TOKEN_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")]].concat());
        assert_eq!(with_token_key.unwrap_err().variable, "RAPPORT_TOKEN_KEY");
    }

    #[test]
    fn a_partial_stripe_configuration_names_what_is_missing() {
        let whole =
            [("STRIPE_SECRET_KEY", "sk_test_1"), ("STRIPE_WEBHOOK_SECRET", "whsec_1"), ("STRIPE_PRICE_ID", "price_1")];
        for (index, (missing, _)) in whole.iter().enumerate() {
            let partial: Vec<_> = whole.iter().enumerate().filter(|(i, _)| *i != index).map(|(_, v)| *v).collect();
            assert_eq!(config(&partial).unwrap_err().variable, *missing);
        }
        assert_eq!(config(&[("STRIPE_API_URL", "http://127.0.0.1:9")]).unwrap_err().variable, "STRIPE_SECRET_KEY");
        let with_url = config(&[&whole[..], &[("STRIPE_API_URL", "http://127.0.0.1:9")]].concat()).unwrap();
        let BillingConfig::Stripe { settings, .. } = with_url.billing else { panic!("billing with Stripe") };
        assert_eq!(settings.api_url.as_deref(), Some("http://127.0.0.1:9/"));
        assert_eq!(settings.price_id, "price_1");
    }

    #[test]
    fn stripe_values_of_the_wrong_kind_are_refused() {
        let whole =
            [("STRIPE_SECRET_KEY", "sk_test_1"), ("STRIPE_WEBHOOK_SECRET", "whsec_1"), ("STRIPE_PRICE_ID", "price_1")];
        let swapped = |name: &'static str, value: &'static str| {
            let vars: Vec<_> = whole.iter().map(|&(n, v)| if n == name { (n, value) } else { (n, v) }).collect();
            config(&vars).unwrap_err().variable
        };
        assert_eq!(swapped("STRIPE_SECRET_KEY", "pk_test_1"), "STRIPE_SECRET_KEY");
        assert_eq!(swapped("STRIPE_WEBHOOK_SECRET", "sk_test_1"), "STRIPE_WEBHOOK_SECRET");
        assert_eq!(swapped("STRIPE_PRICE_ID", "prod_1"), "STRIPE_PRICE_ID");
    }

    #[test]
    fn without_stripe_billing_is_off_except_in_the_demo() {
        assert!(matches!(config(&[]).unwrap().billing, BillingConfig::Emulator));
        let self_hosted = config(&[("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_SIGNING_SECRET", "s")]).unwrap();
        assert!(matches!(self_hosted.billing, BillingConfig::Off));
    }

    #[test]
    fn a_bot_token_without_a_signing_secret_is_refused() {
        let error = config(&[("SLACK_BOT_TOKEN", "xoxb-1")]).unwrap_err();
        assert_eq!(error.variable, "SLACK_SIGNING_SECRET");
    }

    #[test]
    fn a_postgres_url_is_accepted() {
        let config = config(&[("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rapport")]).unwrap();
        assert!(config.database_url.starts_with("postgres://"));
    }

    #[test]
    fn each_invalid_value_names_its_variable() {
        let cases = [
            ("DATABASE_URL", "mysql://localhost/rapport"),
            ("LEPTOS_SITE_ADDR", "localhost"),
            ("LEPTOS_RELOAD_PORT", "many"),
            ("LEPTOS_ENV", "staging"),
            ("RAPPORT_LOG_FORMAT", "xml"),
            ("RAPPORT_DEMO_DATA", "sometimes"),
            ("RAPPORT_SLACK_EMULATOR", "maybe"),
            ("SLACK_API_URL", "ftp://slack.example"),
            ("SLACK_API_URL", "http://127.0.0.1:9/api/"),
            ("RAPPORT_PUBLIC_URL", "rapport.example.com"),
            ("RAPPORT_SESSION_KEY", "c2hvcnQ="),
            ("RAPPORT_EMULATOR_RATE_LIMITS", "chat.postMessage=fast"),
            ("RAPPORT_PUBLIC_DASHBOARD", "true"),
            ("RAPPORT_UNINSTALL_GRACE_DAYS", "0"),
            ("RAPPORT_TIME_SCALE", "fast"),
            ("RAPPORT_TIME_SCALE", "0.5"),
            ("RAPPORT_METRICS_TOKEN", "too-short"),
            ("RAPPORT_METRICS_TOKEN", "sixteen chars with spaces"),
            ("RAPPORT_METRICS_ADDR", "localhost"),
            ("RAPPORT_METRICS_ADDR", "127.0.0.1:3000"),
        ];
        for (variable, value) in cases {
            let error = config(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable);
            assert!(error.to_string().contains(variable), "{error}");
        }
    }

    #[test]
    fn time_runs_faster_only_with_the_emulator() {
        assert_eq!(config(&[("RAPPORT_TIME_SCALE", "60")]).unwrap().time_scale, 60.0);
        let real_slack =
            config(&[("RAPPORT_TIME_SCALE", "60"), ("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_SIGNING_SECRET", "s")]);
        assert_eq!(real_slack.unwrap_err().variable, "RAPPORT_TIME_SCALE");
    }

    #[test]
    fn no_secret_shows_when_the_configuration_is_printed() {
        let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
        let session_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZg==";
        let hosted = config(&[
            ("RAPPORT_SESSION_KEY", session_key),
            ("SLACK_CLIENT_ID", "1.2"),
            ("SLACK_CLIENT_SECRET", "client-secret-value"),
            ("SLACK_SIGNING_SECRET", "signing-secret-value"),
            ("RAPPORT_TOKEN_KEY", key),
        ])
        .unwrap();
        let self_hosted =
            config(&[("SLACK_BOT_TOKEN", "xoxb-bot-token-value"), ("SLACK_SIGNING_SECRET", "signing-secret-value")])
                .unwrap();
        let with_password =
            config(&[("DATABASE_URL", "postgres://rapport:db-password-value@db:5432/rapport")]).unwrap();
        let printed = format!("{hosted:?} {self_hosted:?} {with_password:?}");
        assert!(printed.contains("postgres://rapport:[redacted]@db:5432/rapport"), "{printed}");
        for secret in [
            "client-secret-value",
            "signing-secret-value",
            "xoxb-bot-token-value",
            "db-password-value",
            session_key,
            key,
        ] {
            assert!(!printed.contains(secret), "{secret} was printed");
        }
    }

    #[test]
    fn metrics_are_served_only_when_a_token_or_an_address_is_set() {
        let off = config(&[]).unwrap().metrics;
        assert!(off.token.is_none() && off.addr.is_none());

        let token = "0123456789abcdef-metrics";
        let on = config(&[("RAPPORT_METRICS_TOKEN", token), ("RAPPORT_METRICS_ADDR", "127.0.0.1:9464")]).unwrap();
        assert_eq!(on.metrics.token.as_ref().map(Secret::expose), Some(token));
        assert_eq!(on.metrics.addr, Some(SocketAddr::from(([127, 0, 0, 1], 9464))));
        assert!(!format!("{on:?}").contains(token), "the token is never printed");
    }

    #[test]
    fn a_blank_variable_counts_as_unset() {
        assert_eq!(config(&[("DATABASE_URL", "  ")]).unwrap().database_url, DEFAULT_DATABASE_URL);
    }
}
