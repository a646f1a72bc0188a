//! `/metrics` for Prometheus, and the middleware that counts every request. The registry is
//! the application's own (`app::server::metrics::Metrics`, in `AppState`), so applications in
//! one process (the tests) count apart.
//!
//! Served on the main port only when `RAPPORT_METRICS_TOKEN` is set, to `Authorization:
//! Bearer <token>` (401 otherwise); on a listener of its own at `RAPPORT_METRICS_ADDR` with no
//! token. Otherwise `/metrics` is not routed at all, so it is the same 404 as any unknown page.

use std::{sync::Arc, time::Instant};

use app::server::{
    AppState,
    metrics::{CONTENT_TYPE, Metrics},
    secret::{Secret, constant_time_eq},
    services,
};
use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::timeout::TimeoutLayer;

/// The route label of a request no route matched (static files, unknown pages): its path
/// is not used, or every path anyone asks for would become a series of its own.
pub const UNMATCHED: &str = "unmatched";

/// Counts and times every request by method, route template (`/people/{id}`, never the id)
/// and status. Time runs until the response starts, not until a streamed body ends.
pub async fn track_requests(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or(UNMATCHED, MatchedPath::as_str).to_owned();
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.observe_request(method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

/// A request's method as a label: the standard ones, and `other` for whatever else a client
/// makes up (each would otherwise be a series of its own).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `/metrics` on the main port, for a scraper that sends `Authorization: Bearer <token>`.
pub fn router(app: AppState, token: Secret) -> Router {
    Router::new().route("/metrics", get(scrape_with_token)).with_state(Guarded { app, token })
}

/// `/metrics` on a listener of its own (`RAPPORT_METRICS_ADDR`): no token, so that address
/// must be one only the scraper reaches.
pub fn open_router(app: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(app)
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, crate::serve::REQUEST_TIMEOUT))
}

/// The app and the token its `/metrics` asks for.
#[derive(Clone, Debug)]
struct Guarded {
    app: AppState,
    token: Secret,
}

/// The metrics, to a request with the right bearer token; 401 to any other.
async fn scrape_with_token(State(guarded): State<Guarded>, headers: HeaderMap) -> Response {
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    // Compared in constant time, so the answer's timing tells nothing of the token.
    let allowed =
        offered.is_some_and(|offered| constant_time_eq(offered.as_bytes(), guarded.token.expose().as_bytes()));
    if !allowed {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a valid bearer token is required")
            .into_response();
    }
    scrape(State(guarded.app)).await
}

/// Every metric, with the gauges read from the database now; 503 when the database does not
/// answer (Prometheus then records the scrape as failed).
async fn scrape(State(app): State<AppState>) -> Response {
    match services::metrics::render(&app).await {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(error) => {
            tracing::warn!(error = format!("{error:#}"), "could not gather the metrics");
            (StatusCode::SERVICE_UNAVAILABLE, "the metrics could not be gathered").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_up_method_is_labelled_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
