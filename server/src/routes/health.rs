//! `/healthz` (the process answers) and `/readyz` (it can serve: database and migrations).

use app::server::{AppState, db::NotReady};
use axum::{Router, extract::State, http::StatusCode, routing::get};

use crate::state::ServerState;

/// The health routes.
pub fn router() -> Router<ServerState> {
    Router::new().route("/healthz", get(alive)).route("/readyz", get(ready))
}

/// The process is alive.
async fn alive() -> &'static str {
    "ok"
}

/// The database is reachable and every migration is applied; 503 with the reason otherwise.
async fn ready(State(state): State<AppState>) -> (StatusCode, String) {
    match state.db.readiness().await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(reason) => {
            match &reason {
                NotReady::Unreachable { detail } => tracing::warn!(%reason, %detail, "not ready"),
                _ => tracing::warn!(%reason, "not ready"),
            }
            (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}"))
        }
    }
}
