//! `POST /login/password`: the self-hosted admin account signs in with email and password,
//! within the start budget of its address and the attempt budget of its address and email.

use std::net::SocketAddr;

use app::{
    AppError,
    features::auth::types::{Email, Password},
    server::{AppState, services::sign_in},
};
use axum::{
    Extension, Form,
    extract::{ConnectInfo, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    SignInSettings, back_to_login,
    limits::{WithinStartBudget, client_address},
    safe_next, start_session,
};

#[derive(Deserialize)]
pub struct PasswordForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// Signs the admin account in, or goes back to `/login` saying why not. A wrong email and a
/// wrong password read the same, so the page tells nobody which emails have an account.
/// When more sign-ins wait for a password check than the server takes, it says to try again
/// at once rather than keeping the person waiting.
pub async fn sign_in(
    _: WithinStartBudget,
    State(app): State<AppState>,
    State(settings): State<SignInSettings>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    session: Session,
    Form(form): Form<PasswordForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let address = client_address(peer.as_ref().map(|Extension(peer)| peer));
    let email_key = form.email.trim().to_lowercase();
    if let Err(wait_secs) = settings.attempts.attempt(&address, &email_key, app::server::now_ms()) {
        tracing::warn!(wait_secs, "refused a password sign-in over the attempt budget");
        return back_to_login("too_many_attempts", &next);
    }
    let Ok(email) = Email::parse(&form.email) else {
        return back_to_login("email", &next);
    };
    // A password too short or too long to be anyone's is simply wrong.
    let Ok(password) = Password::parse(&form.password) else {
        return back_to_login("wrong_password", &next);
    };
    match sign_in::with_password(&app.db, &email, &password).await {
        Ok(Some(signed_in)) => match start_session(&session, &signed_in).await {
            Ok(()) => Redirect::to(&next).into_response(),
            Err(error) => {
                AppError::log_with_reference(anyhow::anyhow!("starting a session: {error}"));
                back_to_login("internal", &next)
            }
        },
        Ok(None) => back_to_login("wrong_password", &next),
        // Too many sign-ins wait for a password check already: this one is not checked, so it
        // does not count against the budget either.
        Err(AppError::Busy) => {
            settings.attempts.give_back(&address, &email_key);
            tracing::warn!("refused a password sign-in: the password checks' queue is full");
            back_to_login("busy", &next)
        }
        Err(error) => {
            AppError::log_with_reference(error);
            back_to_login("internal", &next)
        }
    }
}
