//! The HTTP surface: merges each edge's router (health checks, Slack, Stripe, the emulators,
//! `/metrics` when its token is set) with the Leptos pages, server functions and static files,
//! under one set of layers, the outermost of which counts every request.

mod cross_site;
mod csv_import;
mod health;

use std::sync::{Arc, LazyLock};

use axum::{
    Router,
    http::{HeaderValue, Request, StatusCode},
};
use leptos::{config::Env, prelude::provide_context};
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower_http::{
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{
    emulator::{self, Emulator, stripe::StripeEmulator},
    metrics, security_headers,
    serve::REQUEST_TIMEOUT,
    sign_in, slack,
    state::ServerState,
    stripe::{self, webhook::WebhookState},
};

/// The app's pages, listed once per process. Listing them renders the app with resource
/// loading switched off for the whole process (a global flag in `leptos_server`): a page
/// rendering on another thread meanwhile would wait forever for its data. Listed once,
/// before the first server starts, no page can be rendering then; listed per router, a test
/// starting its app hung the pages of the tests running beside it.
static PAGES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(app::App));

/// The emulators standing in for Slack and Stripe, whose routes are mounted when given.
#[derive(Clone, Copy, Debug, Default)]
pub struct Emulators<'a> {
    pub slack: Option<&'a Emulator>,
    pub stripe: Option<&'a StripeEmulator>,
}

/// Builds the router of the whole application.
pub fn router(state: ServerState, emulators: Emulators<'_>) -> Router {
    let routes = PAGES.clone();
    let webhook = WebhookState { app: state.app.clone(), secret: state.stripe_webhook_secret.clone() };
    let app_state = state.app.clone();
    let public_url: Arc<str> = state.app.public_url.as_str().into();
    let viewer_state = state.app.clone();
    let request_metrics = state.app.metrics.clone();
    let metrics_routes =
        state.metrics_token.clone().map(|token| metrics::router(state.app.clone(), token)).unwrap_or_default();
    let leptos_options = state.leptos.clone();
    // In development `cargo leptos watch` reloads the pages through a WebSocket.
    let dev_reload = state.leptos.env == Env::DEV;
    let files_or_not_found = leptos_axum::file_and_error_handler_with_context::<ServerState, _>(
        security_headers::use_request_nonce,
        app::shell,
    );
    let emulator_routes = emulators
        .slack
        .map(|emulated| security_headers::with_page_policy(emulated.router(), &emulator::page_policy()))
        .unwrap_or_default();
    let stripe_emulator_routes = emulators
        .stripe
        .map(|emulated| security_headers::with_page_policy(emulated.router(), &emulator::stripe::page_policy()))
        .unwrap_or_default();
    Router::new()
        .merge(health::router())
        .merge(slack::router())
        .merge(sign_in::router())
        // Registers the pages and every `#[server]` function, each with `AppState` in context;
        // a page writes the request's nonce on its inline scripts, and `add_defaults` below
        // names it in the page's Content-Security-Policy.
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(app_state.clone());
                security_headers::use_request_nonce();
            },
            move || app::shell(leptos_options.clone()),
        )
        .fallback(files_or_not_found)
        .with_state(state)
        .merge(emulator_routes)
        .merge(stripe_emulator_routes)
        .merge(stripe::router(webhook))
        .merge(metrics_routes)
        .layer(axum::middleware::from_fn_with_state(viewer_state, sign_in::attach_viewer))
        .layer(axum::middleware::from_fn(csv_import::refuse_oversized_import))
        .layer(axum::middleware::from_fn_with_state(public_url, cross_site::refuse_cross_site))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let request_id = request.headers().get("x-request-id").and_then(|id| id.to_str().ok()).unwrap_or("");
            // The path only: query strings can carry what people typed.
            tracing::info_span!("request", request.id = %request_id, method = %request.method(), path = %request.uri().path())
        }))
        .layer(SetRequestIdLayer::x_request_id(NewRequestId))
        .layer(axum::middleware::from_fn_with_state(dev_reload, security_headers::add_defaults))
        // Outermost, so a request's count and time include every other layer's answer (a
        // refused cross-site post, a timeout's 503).
        .layer(axum::middleware::from_fn_with_state(request_metrics, metrics::track_requests))
}

/// Builds the router of the Slack emulator in a process of its own (`rapport emulator`),
/// answering at `own_url`: its Web API and page, behind the same cross-site refusal and
/// security headers as the application's.
pub fn emulator_alone(emulator: &Emulator, own_url: &str) -> Router {
    let origin: Arc<str> = own_url.into();
    security_headers::with_page_policy(emulator.router(), &emulator::page_policy())
        .layer(axum::middleware::from_fn_with_state(origin, cross_site::refuse_cross_site))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            tracing::info_span!("emulator request", method = %request.method(), path = %request.uri().path())
        }))
        .layer(axum::middleware::from_fn_with_state(false, security_headers::add_defaults))
}

/// Gives every request an id (UUIDv7) for its log lines and its response's `x-request-id`.
#[derive(Clone, Copy, Debug)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&app::server::new_id()).ok().map(RequestId::new)
    }
}
