//! The HTTP surface: merges each edge's router (health checks, Slack, the emulator) with the
//! Leptos pages, server functions and static files, under one set of layers.

mod health;

use std::time::Duration;

use axum::{Router, http::StatusCode};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::{timeout::TimeoutLayer, trace::TraceLayer};

use crate::{emulator::Emulator, slack, state::ServerState};

/// How long one request may take before it is answered 503: far more than any page or
/// Slack endpoint needs (Slack itself gives up after 3 s), so only a stuck request hits it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the router of the whole application; the emulator's routes are mounted when given.
pub fn router(state: ServerState, emulator: Option<&Emulator>) -> Router {
    let routes = generate_route_list(app::App);
    let app_state = state.app.clone();
    let leptos_options = state.leptos.clone();
    let emulator_routes = emulator.map(Emulator::router).unwrap_or_default();
    Router::new()
        .merge(health::router())
        .merge(slack::router())
        // Registers the pages and every `#[server]` function, each with `AppState` in context.
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(app_state.clone()),
            move || app::shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<ServerState, _>(app::shell))
        .with_state(state)
        .merge(emulator_routes)
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &http::Request<_>| {
            // The path only: query strings can carry what people typed.
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        }))
}
