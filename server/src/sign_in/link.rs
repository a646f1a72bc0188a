//! `/login/link/{token}`: a one-time link from Slack (`/rapport login`, App Home). Opening it
//! shows a button; only pressing it (a same-site POST) uses the link up. So a link preview
//! or a scanner that fetches the URL cannot burn it, and a link someone else sends you
//! cannot sign you in as them without you pressing "Sign in" on a page that names them.

use app::server::{AppState, services::sign_in};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::Session;

use super::{limits::WithinStartBudget, start_session};
use crate::plain_page;

/// `GET`: the page with the button.
pub async fn confirm(Path(token): Path<String>) -> Response {
    if !looks_like_a_token(&token) {
        return expired();
    }
    plain_page::with_body(
        StatusCode::OK,
        "Sign in to Rapport",
        &format!(
            "<p>You asked Slack for a sign-in link. Press the button to open your Rapport dashboard.</p>\
             <form method=post action=\"/login/link/{token}\"><button class=button type=submit>Sign in</button></form>\
             <p class=privacy>The link works once, for a few minutes. If you did not ask for it, close this page.</p>",
        ),
    )
}

/// `POST`: uses the link up and signs its member in (within the address's budget of starts).
pub async fn sign_in(
    _: WithinStartBudget,
    State(app): State<AppState>,
    session: Session,
    Path(token): Path<String>,
) -> Response {
    if !looks_like_a_token(&token) {
        return expired();
    }
    match sign_in::redeem_link(&app.db, &token, app.now_ms()).await {
        Ok(Some(signed_in)) => match start_session(&session, &signed_in).await {
            Ok(()) => Redirect::to("/me").into_response(),
            Err(error) => plain_page::internal_error(anyhow::anyhow!("starting a session: {error}")),
        },
        Ok(None) => expired(),
        Err(error) => plain_page::internal_error(error),
    }
}

/// Tokens are 64 hex digits; anything else is not worth a database lookup.
fn looks_like_a_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|byte| byte.is_ascii_hexdigit())
}

fn expired() -> Response {
    plain_page::message(
        StatusCode::GONE,
        "This sign-in link has expired",
        "Each link works once, for ten minutes. Type /rapport login in Slack for a new one.",
    )
}
