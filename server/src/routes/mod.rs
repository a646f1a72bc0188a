//! The HTTP surface: health checks, the Leptos pages and server functions, static files.

mod health;

use app::server::AppState;
use axum::{Router, extract::FromRef, routing::get};
use leptos::{config::LeptosOptions, prelude::provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;

use crate::{
    emulator::Emulator,
    slack::{self, SlackState},
};

/// The state of the axum router: what Leptos needs plus the app's own state.
#[derive(Clone, Debug)]
pub struct ServerState {
    pub leptos: LeptosOptions,
    pub app: AppState,
    /// `None` when Slack is neither configured nor emulated.
    pub slack: Option<SlackState>,
    /// Where Slack and browsers reach this server (no trailing slash).
    pub public_url: String,
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(state: &ServerState) -> Self {
        state.leptos.clone()
    }
}

/// Builds the router of the whole application; the emulator's Web API is mounted when given.
pub fn router(state: ServerState, emulator: Option<&Emulator>) -> Router {
    let routes = generate_route_list(app::App);
    let app_state = state.app.clone();
    let leptos_options = state.leptos.clone();
    let emulator_api = emulator.map(Emulator::router).unwrap_or_default();
    Router::new()
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .merge(slack::router())
        // Registers the pages and every `#[server]` function, each with `AppState` in context.
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(app_state.clone()),
            move || app::shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<ServerState, _>(app::shell))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &http::Request<_>| {
            // The path only: query strings can carry what people typed.
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
        .merge(emulator_api)
}
