//! "Add to Slack": `/slack/install` sends the installer to Slack's authorize page with a
//! `state` bound to their browser session; `/slack/oauth/callback` checks that state,
//! exchanges the code (`oauth.v2.access`) and stores the workspace with its bot token
//! sealed. A re-install updates the same workspace. Nobody is messaged and nothing is
//! posted until the installer picks a sharing channel and turns questions on.

use app::server::{
    db::workspaces::{self, WorkspaceRow},
    new_id,
    services::members as roster,
};
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use time::OffsetDateTime;
use tower_sessions::{Expiry, Session};

use super::{OAuthSettings, SlackState, client::SlackCallError, manifest::BOT_SCOPES, profile};
use crate::routes::ServerState;

/// The session key holding the `state` of an install in progress.
const STATE_KEY: &str = "slack_install_state";

/// Starts an install.
pub async fn start(State(state): State<ServerState>, session: Session) -> Response {
    let Some(oauth) = state.slack.as_ref().and_then(|slack| slack.oauth.clone()) else {
        return page(StatusCode::NOT_FOUND, "Not available", "This Rapport is not set up for “Add to Slack”.");
    };
    let install_state = format!("{:032x}", rand::random::<u128>());
    // An install takes minutes; a visitor who never finishes leaves no long-lived session.
    session.set_expiry(Some(Expiry::AtDateTime(OffsetDateTime::now_utc() + time::Duration::minutes(30))));
    if let Err(error) = session.insert(STATE_KEY, &install_state).await {
        tracing::error!(error = %error, "could not store the install state in the session");
        return page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Please try again in a moment.");
    }
    Redirect::to(&authorize_url(&oauth, &state.public_url, &install_state)).into_response()
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
pub async fn callback(
    State(state): State<ServerState>,
    session: Session,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(slack) = state.slack.as_ref() else {
        return page(StatusCode::NOT_FOUND, "Not available", "This Rapport is not set up for “Add to Slack”.");
    };
    let Some(oauth) = slack.oauth.clone() else {
        return page(StatusCode::NOT_FOUND, "Not available", "This Rapport is not set up for “Add to Slack”.");
    };
    // Each state is good for one callback, whatever happens next.
    let expected: Option<String> = match session.remove(STATE_KEY).await {
        Ok(expected) => expected,
        Err(error) => {
            tracing::error!(error = %error, "could not read the install state from the session");
            return page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Please try again in a moment.");
        }
    };
    if query.error.is_some() {
        return page(
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
        return page(
            StatusCode::BAD_REQUEST,
            "This install link has expired",
            "It was already used, or opened in another browser. Please start again from “Add to Slack”.",
        );
    }
    let Some(code) = query.code.as_deref().filter(|code| !code.is_empty()) else {
        return page(StatusCode::BAD_REQUEST, "Slack sent no code", "Please start again from “Add to Slack”.");
    };
    match install(slack, &oauth, &state.public_url, code).await {
        Ok(workspace) => page(
            StatusCode::OK,
            &format!("Rapport is installed in {}", workspace.name),
            "Next: invite @Rapport to the channel where answers should be shared, pick that channel \
             in Rapport's admin settings, and turn questions on. Until then nobody is messaged and \
             nothing is posted. Members can already type /rapport help.",
        ),
        Err(InstallError::Refused(code)) => page(
            StatusCode::BAD_REQUEST,
            "Slack did not accept the install",
            &format!("Slack answered “{code}”. Please start again from “Add to Slack”."),
        ),
        Err(InstallError::Failed(error)) => {
            let reference = app::AppError::log_with_reference(error);
            page(
                StatusCode::BAD_GATEWAY,
                "Something went wrong",
                &format!("Please try again in a moment. If it keeps happening, quote reference {reference}."),
            )
        }
    }
}

enum InstallError {
    Refused(String),
    Failed(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for InstallError {
    fn from(error: E) -> Self {
        InstallError::Failed(error.into())
    }
}

/// Exchanges the code, stores the workspace and starts importing its members.
async fn install(
    slack: &SlackState,
    oauth: &OAuthSettings,
    public_url: &str,
    code: &str,
) -> Result<WorkspaceRow, InstallError> {
    let grant = match slack
        .connection
        .exchange_code(&oauth.client_id, &oauth.client_secret, code, &callback_url(public_url))
        .await
    {
        Ok(grant) => grant,
        Err(SlackCallError::Refused(code)) => return Err(InstallError::Refused(code)),
        Err(other) => return Err(InstallError::Failed(other.into())),
    };
    let row = installation(
        &grant.team_id,
        &grant.team_name,
        grant.bot_user_id.clone(),
        Some(oauth.cipher.encrypt(&grant.bot_token)?),
        Some(grant.installer_user_id.clone()),
        slack.clock.now_ms(),
    );
    workspaces::upsert_installation(slack.db.pool(), &row).await?;
    let workspace = workspaces::find_by_slack_team_id(slack.db.pool(), &grant.team_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the installed workspace is not stored"))?;
    tracing::info!(workspace.id = %workspace.id, "Rapport was installed in a workspace");
    let (slack, stored) = (slack.clone(), workspace.clone());
    tokio::spawn(async move {
        if let Err(error) = import_members(&slack, &stored).await {
            tracing::warn!(error = format!("{error:#}"), workspace.id = %stored.id, "could not import the members");
        }
    });
    Ok(workspace)
}

/// Self-hosted mode: records the workspace the environment's bot token belongs to (no
/// token is stored; it stays in the environment) and imports its members.
pub async fn install_from_environment(slack: &SlackState) -> anyhow::Result<WorkspaceRow> {
    let token = slack.fixed_token.as_deref().ok_or_else(|| anyhow::anyhow!("no SLACK_BOT_TOKEN"))?;
    let identity = slack.connection.with_token(token).whoami().await.map_err(|e| anyhow::anyhow!("auth.test: {e}"))?;
    let row = installation(
        &identity.team_id,
        &identity.team_name,
        Some(identity.bot_user_id.clone()),
        None,
        None,
        slack.clock.now_ms(),
    );
    workspaces::upsert_installation(slack.db.pool(), &row).await?;
    let workspace = workspaces::find_by_slack_team_id(slack.db.pool(), &identity.team_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the workspace is not stored"))?;
    import_members(slack, &workspace).await?;
    Ok(workspace)
}

/// A workspace as an install records it; a re-install keeps what Rapport's settings chose.
fn installation(
    team_id: &str,
    team_name: &str,
    bot_user_id: Option<String>,
    bot_token_ciphertext: Option<Vec<u8>>,
    installed_by_slack_user_id: Option<String>,
    now: i64,
) -> WorkspaceRow {
    WorkspaceRow {
        id: new_id(),
        slack_team_id: team_id.to_owned(),
        name: team_name.to_owned(),
        default_time_zone: "UTC".to_owned(),
        status: "active".to_owned(),
        uninstalled_at: None,
        bot_user_id,
        sharing_channel_id: None,
        share_mode: "immediate".to_owned(),
        last_digest_at: None,
        questions_enabled: 0,
        bot_token_ciphertext,
        installed_by_slack_user_id,
        created_at: now,
        updated_at: now,
        include_guests: 0,
        sending_paused_until: None,
        delivery_stopped_reason: None,
    }
}

/// Adds every member from `users.list`, page by page.
async fn import_members(slack: &SlackState, workspace: &WorkspaceRow) -> anyhow::Result<()> {
    let api = slack.api_for(workspace)?;
    let mut cursor = None;
    loop {
        let (users, next) = api.list_users(cursor).await?;
        for user in &users {
            roster::sync_from_slack(&slack.db, &workspace.id, &profile::from_slack_user(user), slack.clock.now_ms())
                .await?;
        }
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// A small page in the dashboard's style.
fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let escape = |text: &str| text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let html = format!(
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Rapport</title><link rel=stylesheet href=/pkg/rapport.css><link rel=icon href=/favicon.svg></head>\
         <body><main class=page><section class=error-page><h1>{title}</h1><p>{message}</p>\
         <p><a class=button href=/>Go to Rapport</a></p></section></main></body></html>",
        title = escape(title),
        message = escape(message),
    );
    (status, Html(html)).into_response()
}
