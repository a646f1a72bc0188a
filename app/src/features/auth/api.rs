//! Server functions of signing in. Signing in and out themselves are plain form posts to
//! the server (`/login/password`, `/login/slack`, `/logout`), which set the session cookie.

use leptos::prelude::*;

use super::types::{SignInOptions, SignedInAs};
use crate::error::AppError;

/// The ways to sign in here. Public: it tells only how this Rapport is set up.
#[server(prefix = "/api", endpoint = "auth/options")]
pub async fn get_sign_in_options() -> Result<SignInOptions, AppError> {
    use crate::server::{ctx, db::admin_accounts};

    ctx::respond(
        async {
            let state = ctx::state()?;
            let password = admin_accounts::any(state.db.pool()).await?;
            Ok(SignInOptions { slack: state.sign_in_with_slack, password })
        }
        .await,
    )
}

/// Who is signed in, or `None` (a visitor of the demo is nobody yet).
#[server(prefix = "/api", endpoint = "auth/me")]
pub async fn who_is_signed_in() -> Result<Option<SignedInAs>, AppError> {
    use crate::server::ctx;

    ctx::respond(ctx::viewer().await.map(|viewer| viewer.and_then(|viewer| viewer.signed_in_as())))
}

/// Succeeds for an admin of the workspace; the gate of admin pages that load nothing else.
#[server(prefix = "/api", endpoint = "auth/admin")]
pub async fn check_admin() -> Result<(), AppError> {
    use crate::server::ctx;

    ctx::respond(ctx::admin().await.map(|_| ()))
}
