//! `/healthz` (the process answers) and `/readyz` (it can serve: database and migrations).

use axum::{extract::State, http::StatusCode};

use super::ServerState;

/// The process is alive.
pub async fn alive() -> &'static str {
    "ok"
}

/// The database is reachable and every migration is applied; 503 with the reason otherwise.
pub async fn ready(State(state): State<ServerState>) -> (StatusCode, String) {
    match state.app.db.readiness().await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {reason}"))
        }
    }
}
