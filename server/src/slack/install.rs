//! "Add to Slack": `/slack/install` sends the installer to Slack's authorize page with a
//! `state` bound to their browser session; `/slack/oauth/callback` checks that state,
//! exchanges the code (`oauth.v2.access`) and stores the workspace with its bot token
//! sealed. A re-install updates the same workspace. Nobody is messaged and nothing is
//! posted until the installer picks a sharing channel and turns questions on.

use app::server::{
    AppState,
    secret::constant_time_eq,
    services::install::{self, InstallError},
    slack::OAuthSettings,
};
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::manifest::BOT_SCOPES;
use crate::{plain_page, sessions, sign_in::limits::WithinStartBudget};

/// The session key holding the `state` of an install in progress.
const STATE_KEY: &str = "slack_install_state";

/// Starts an install (within the address's budget of starts).
pub async fn start(_: WithinStartBudget, State(state): State<AppState>, session: Session) -> Response {
    let Some(oauth) = state.slack.as_ref().and_then(|slack| slack.oauth()) else {
        return plain_page::message(
            StatusCode::NOT_FOUND,
            "Not available",
            "This Rapport is not set up for “Add to Slack”.",
        );
    };
    let install_state = format!("{:032x}", rand::random::<u128>());
    if let Err(error) = sessions::keep_for_flow(&session, STATE_KEY, &install_state).await {
        tracing::error!(error = %error, "could not store the install state in the session");
        return plain_page::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "Please try again in a moment.",
        );
    }
    Redirect::to(&authorize_url(oauth, &state.public_url, &install_state)).into_response()
}

fn authorize_url(oauth: &OAuthSettings, public_url: &str, install_state: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("client_id", oauth.client_id.as_str()),
        ("scope", &BOT_SCOPES.join(",")),
        ("redirect_uri", &callback_url(public_url)),
        ("state", install_state),
    ])
    .unwrap_or_default();
    format!("{}?{query}", oauth.authorize_url)
}

fn callback_url(public_url: &str) -> String {
    format!("{public_url}/slack/oauth/callback")
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Finishes an install.
#[tracing::instrument(name = "GET /slack/oauth/callback", skip_all)]
pub async fn callback(State(state): State<AppState>, session: Session, Query(query): Query<CallbackQuery>) -> Response {
    if state.slack.as_ref().and_then(|slack| slack.oauth()).is_none() {
        return plain_page::message(
            StatusCode::NOT_FOUND,
            "Not available",
            "This Rapport is not set up for “Add to Slack”.",
        );
    }
    // Each state is good for one callback, whatever happens next.
    let expected: Option<String> = match session.remove(STATE_KEY).await {
        Ok(expected) => expected,
        Err(error) => {
            tracing::error!(error = %error, "could not read the install state from the session");
            return plain_page::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again in a moment.",
            );
        }
    };
    if query.error.is_some() {
        return plain_page::message(
            StatusCode::OK,
            "Installation cancelled",
            "Rapport was not added. You can start again whenever you like.",
        );
    }
    let state_matches = match (&expected, &query.state) {
        (Some(expected), Some(given)) => constant_time_eq(expected.as_bytes(), given.as_bytes()),
        _ => false,
    };
    if !state_matches {
        tracing::warn!("refused an install callback whose state does not match the browser session");
        return plain_page::message(
            StatusCode::BAD_REQUEST,
            "This install link has expired",
            "It was already used, or opened in another browser. Please start again from “Add to Slack”.",
        );
    }
    let Some(code) = query.code.as_deref().filter(|code| !code.is_empty()) else {
        return plain_page::message(
            StatusCode::BAD_REQUEST,
            "Slack sent no code",
            "Please start again from “Add to Slack”.",
        );
    };
    match install::install_with_code(&state, code, &callback_url(&state.public_url)).await {
        Ok(workspace) => plain_page::message(
            StatusCode::OK,
            &format!("Rapport is installed in {}", workspace.name),
            "Next: sign in to Rapport (type /rapport login in Slack for a sign-in link) and open Admin: \
             pick the channel where answers are shared (and invite @Rapport to it), set the schedule and \
             turn questions on. Until then nobody is messaged and nothing is posted.",
        ),
        Err(InstallError::Refused(code)) => plain_page::message(
            StatusCode::BAD_REQUEST,
            "Slack did not accept the install",
            &format!("Slack answered “{code}”. Please start again from “Add to Slack”."),
        ),
        Err(InstallError::Failed(error)) => {
            let reference = app::AppError::log_with_reference(error);
            plain_page::message(
                StatusCode::BAD_GATEWAY,
                "Something went wrong",
                &format!("Please try again in a moment. If it keeps happening, quote reference {reference}."),
            )
        }
    }
}
