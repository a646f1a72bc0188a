//! Sign in with Slack (OpenID Connect): `/login/slack` sends the visitor to Slack's authorize
//! page with a `state` and a `nonce` kept in their session; `/login/slack/callback` checks the
//! state, exchanges the code at `openid.connect.token`, verifies the ID token
//! ([`super::id_token`]) and signs in the member it names. In the demo the emulator plays
//! Slack, signing its ID tokens with its own published key, so the same code runs.

use app::server::{
    AppState,
    secret::{Secret, constant_time_eq},
    services::{
        members,
        sign_in::{self, SlackSignIn},
    },
};
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::{
    SignInSettings,
    id_token::{self, Expected, SlackKeys},
    limits::WithinStartBudget,
    safe_next, start_session,
};
use crate::{plain_page, sessions};

/// Slack's authorize page for Sign in with Slack.
pub const SLACK_AUTHORIZE_URL: &str = "https://slack.com/openid/connect/authorize";
/// The session key holding the sign-in in progress.
const FLOW_KEY: &str = "slack_sign_in";

/// Where and as which app Sign in with Slack runs.
#[derive(Clone, Debug)]
pub struct SlackSignInSettings {
    pub client_id: String,
    pub client_secret: Secret,
    /// Slack's authorize page, or the emulator's.
    pub authorize_url: String,
    /// `openid.connect.token` of Slack's Web API, or the emulator's.
    pub token_url: String,
    /// Slack's published signing keys, or the emulator's.
    pub keys: SlackKeys,
    pub http: reqwest::Client,
}

/// A sign-in between leaving for Slack and coming back.
#[derive(Debug, Serialize, Deserialize)]
struct Flow {
    state: String,
    nonce: String,
    next: String,
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// `GET /login/slack`: off to Slack's authorize page (within the address's budget of starts).
pub async fn start(
    _: WithinStartBudget,
    State(app): State<AppState>,
    State(sign_in_settings): State<SignInSettings>,
    session: Session,
    Query(query): Query<StartQuery>,
) -> Response {
    let Some(settings) = &sign_in_settings.slack else {
        return plain_page::message(
            StatusCode::NOT_FOUND,
            "Sign in with Slack is not set up here",
            "Type /rapport login in Slack and Rapport sends you a sign-in link.",
        );
    };
    let flow = Flow { state: random_hex(), nonce: random_hex(), next: safe_next(query.next.as_deref()) };
    if let Err(error) = sessions::keep_for_flow(&session, FLOW_KEY, &flow).await {
        return plain_page::internal_error(anyhow::anyhow!("storing the sign-in state: {error}"));
    }
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("scope", "openid profile email"),
        ("client_id", settings.client_id.as_str()),
        ("state", &flow.state),
        ("nonce", &flow.nonce),
        ("redirect_uri", &callback_url(&app.public_url)),
    ])
    .unwrap_or_default();
    Redirect::to(&format!("{}?{query}", settings.authorize_url)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /login/slack/callback`: back from Slack; signs the member in or says why not.
#[tracing::instrument(name = "GET /login/slack/callback", skip_all)]
pub async fn callback(
    State(app): State<AppState>,
    State(sign_in_settings): State<SignInSettings>,
    session: Session,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(settings) = &sign_in_settings.slack else {
        return refused(StatusCode::NOT_FOUND, "Sign in with Slack is not set up here.");
    };
    // Each flow is good for one callback, whatever happens next: a replayed callback (and
    // so a replayed nonce) finds none.
    let flow: Option<Flow> = match session.remove(FLOW_KEY).await {
        Ok(flow) => flow,
        Err(error) => return plain_page::internal_error(anyhow::anyhow!("reading the sign-in state: {error}")),
    };
    if query.error.is_some() {
        return plain_page::message(StatusCode::OK, "Sign-in cancelled", "You can sign in again whenever you like.");
    }
    let Some(flow) = flow.filter(|flow| {
        query.state.as_deref().is_some_and(|given| constant_time_eq(given.as_bytes(), flow.state.as_bytes()))
    }) else {
        tracing::warn!("refused a Sign in with Slack callback whose state does not match the browser session");
        return refused(
            StatusCode::BAD_REQUEST,
            "This sign-in was already used, or started in another browser. Please sign in again.",
        );
    };
    let Some(code) = query.code.as_deref().filter(|code| !code.is_empty()) else {
        return refused(StatusCode::BAD_REQUEST, "Slack sent no code. Please sign in again.");
    };
    let id_token = match exchange_code(settings, code, &callback_url(&app.public_url)).await {
        Ok(token) => token,
        Err(Exchange::Refused(reason)) => {
            return refused(StatusCode::BAD_REQUEST, &format!("Slack did not accept the sign-in (“{reason}”)."));
        }
        Err(Exchange::Failed(error)) => return plain_page::internal_error(error),
    };
    // The token's expiry is real-world time, whatever pace the product's clock keeps.
    let expected =
        Expected { client_id: &settings.client_id, nonce: &flow.nonce, now_secs: app::server::now_ms() / 1000 };
    let identity = match id_token::verify(&id_token, &settings.keys, &expected).await {
        Ok(identity) => identity,
        Err(error) => {
            tracing::warn!(reason = %error, "refused an ID token");
            return refused(StatusCode::BAD_REQUEST, &format!("We could not confirm who you are: {error}."));
        }
    };
    let signed_in = match sign_in::with_slack(&app.db, &identity.team_id, &identity.user_id).await {
        Ok(SlackSignIn::SignedIn(signed_in)) => signed_in,
        Ok(SlackSignIn::NotInstalled) => {
            return refused(
                StatusCode::FORBIDDEN,
                "Rapport is not installed in your Slack workspace. Ask an admin of your workspace to add it to Slack.",
            );
        }
        Ok(SlackSignIn::UnknownMember) => {
            return refused(
                StatusCode::FORBIDDEN,
                "Rapport has not met you in your workspace yet. Open Rapport in Slack (or type /rapport help), \
                 then sign in again.",
            );
        }
        Ok(SlackSignIn::Deactivated) => {
            return refused(StatusCode::FORBIDDEN, "Your account in this Slack workspace is deactivated.");
        }
        Ok(SlackSignIn::GuestLeftOut) => {
            return refused(StatusCode::FORBIDDEN, members::FOR_MEMBERS_ONLY);
        }
        Err(error) => return plain_page::internal_error(error),
    };
    match start_session(&session, &signed_in).await {
        Ok(()) => Redirect::to(&flow.next).into_response(),
        Err(error) => plain_page::internal_error(anyhow::anyhow!("starting a session: {error}")),
    }
}

fn callback_url(public_url: &str) -> String {
    format!("{public_url}/login/slack/callback")
}

enum Exchange {
    /// Slack answered with an error code (an expired code, a wrong secret).
    Refused(String),
    Failed(anyhow::Error),
}

/// `openid.connect.token`: the code for the ID token.
async fn exchange_code(settings: &SlackSignInSettings, code: &str, redirect_uri: &str) -> Result<String, Exchange> {
    #[derive(Deserialize)]
    struct TokenResponse {
        ok: bool,
        id_token: Option<String>,
        error: Option<String>,
    }
    let form = [
        ("client_id", settings.client_id.as_str()),
        ("client_secret", settings.client_secret.expose()),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    let response = settings
        .http
        .post(&settings.token_url)
        .form(&form)
        .send()
        .await
        .map_err(|error| Exchange::Failed(anyhow::anyhow!("calling openid.connect.token: {error}")))?;
    // Only Slack's own fields are read; the body (which holds tokens) is never logged.
    let body = response
        .bytes()
        .await
        .map_err(|error| Exchange::Failed(anyhow::anyhow!("reading openid.connect.token's answer: {error}")))?;
    // Only the kind of trouble and where: serde's message quotes a value of the wrong type.
    let answer: TokenResponse = serde_json::from_slice(&body).map_err(|error| {
        Exchange::Failed(anyhow::anyhow!(
            "openid.connect.token's answer could not be read ({:?} error at line {}, column {})",
            error.classify(),
            error.line(),
            error.column()
        ))
    })?;
    match (answer.ok, answer.id_token) {
        (true, Some(id_token)) => Ok(id_token),
        (true, None) => Err(Exchange::Refused("no_id_token".into())),
        (false, _) => Err(Exchange::Refused(answer.error.unwrap_or_else(|| "unknown_error".into()))),
    }
}

fn random_hex() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// A sign-in that cannot go on, with the reason and a way to start again.
fn refused(status: StatusCode, reason: &str) -> Response {
    plain_page::with_body(
        status,
        "You are not signed in",
        &format!("<p>{}</p><p><a class=button href=/login>Back to sign-in</a></p>", plain_page::escape(reason)),
    )
}
