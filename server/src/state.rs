//! `ServerState`, the state of the axum router: the app's one [`AppState`], what Leptos
//! needs, and the secrets that prove a request comes from Slack or Stripe.

use std::sync::Arc;

use app::server::AppState;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use app::server::secret::Secret;

use crate::{sign_in::SignInSettings, slack::verify::SigningSecret};

/// What every route can reach: [`ServerParts`] behind one pointer, since axum clones the
/// state for every request it routes (as [`AppState`] is).
#[derive(Clone, Debug)]
pub struct ServerState(Arc<ServerParts>);

/// What [`ServerState`] holds.
#[derive(Debug)]
pub struct ServerParts {
    pub leptos: LeptosOptions,
    pub app: AppState,
    /// Checks requests from Slack; `None` when Slack is neither configured nor emulated.
    pub slack_signing_secret: Option<SigningSecret>,
    /// Checks Stripe's webhooks; `None` when billing is off.
    pub stripe_webhook_secret: Option<Secret>,
    /// Sign in with Slack, and the budgets of sign-in starts and password attempts.
    pub sign_in: SignInSettings,
    /// The bearer token `/metrics` on this port asks for; `None`: no `/metrics` here (a 404).
    pub metrics_token: Option<Secret>,
}

impl ServerState {
    /// The state that shares `parts` with every clone of it.
    pub fn new(parts: ServerParts) -> ServerState {
        ServerState(Arc::new(parts))
    }
}

impl std::ops::Deref for ServerState {
    type Target = ServerParts;

    fn deref(&self) -> &ServerParts {
        &self.0
    }
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(state: &ServerState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<ServerState> for AppState {
    fn from_ref(state: &ServerState) -> Self {
        state.app.clone()
    }
}

impl FromRef<ServerState> for SignInSettings {
    fn from_ref(state: &ServerState) -> Self {
        state.sign_in.clone()
    }
}
