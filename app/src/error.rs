//! `AppError`: the one error type that crosses the wire between server functions and pages.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// What a page or client may learn about a failure. Internal causes stay in the server log;
/// the client only sees a short reference to quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("please sign in to see your team")]
    Unauthenticated,
    #[error("you do not have access to this")]
    Forbidden,
    #[error("we could not find that")]
    NotFound,
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("something went wrong on our side (reference {0})")]
    Internal(String),
}

impl AppError {
    /// The HTTP status a response carrying this error should have.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Invalid { .. } => 422,
            AppError::Conflict(_) => 409,
            AppError::Internal(_) => 500,
        }
    }

    /// Logs `cause` once with a fresh reference id and returns that reference, for replies
    /// that are not an `AppError` (a Slack message, a plain page).
    #[cfg(feature = "ssr")]
    pub fn log_with_reference(cause: impl Into<anyhow::Error>) -> String {
        match AppError::internal(cause) {
            AppError::Internal(reference) => reference,
            other => other.to_string(),
        }
    }

    /// Logs `cause` once with a fresh reference id and returns the error the client sees.
    #[cfg(feature = "ssr")]
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let cause = cause.into();
        let reference = new_reference();
        tracing::error!(error.reference = %reference, error.cause = format!("{cause:#}"), "request failed");
        AppError::Internal(reference)
    }
}

/// Sets the HTTP status of the response being rendered or answered on the server (a page or
/// a server function); does nothing in the browser.
pub fn set_response_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR));
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

/// A short id that a user can read out to support and an operator can grep for in the log.
#[cfg(feature = "ssr")]
fn new_reference() -> String {
    // The tail of a UUIDv7 is random; its head is a timestamp and would repeat within a second.
    let id = uuid::Uuid::now_v7().simple().to_string();
    id[id.len() - 8..].to_owned()
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(cause: sqlx::Error) -> Self {
        AppError::internal(cause)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request itself was malformed: say so, it is not our fault.
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                AppError::Invalid { field: "request".into(), message }
            }
            other => internal_from_transport(other),
        }
    }
}

#[cfg(feature = "ssr")]
fn internal_from_transport(cause: ServerFnErrorErr) -> AppError {
    AppError::internal(anyhow::anyhow!("server function transport error: {cause}"))
}

#[cfg(not(feature = "ssr"))]
fn internal_from_transport(_cause: ServerFnErrorErr) -> AppError {
    // In the browser there is no server log to point to; a network failure has no reference.
    AppError::Internal("offline".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_the_status_a_browser_expects() {
        assert_eq!(AppError::NotFound.status(), 404);
        assert_eq!(AppError::Unauthenticated.status(), 401);
        assert_eq!(AppError::Internal("abc".into()).status(), 500);
        assert_eq!(AppError::Invalid { field: "q".into(), message: "too long".into() }.status(), 422);
    }

    #[test]
    fn a_malformed_request_is_reported_as_invalid_input() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::Args("bad id".into()));
        assert_eq!(error, AppError::Invalid { field: "request".into(), message: "bad id".into() });
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn an_internal_error_shows_a_reference_but_not_its_cause() {
        let error = AppError::internal(anyhow::anyhow!("password=hunter2 in connection string"));
        let shown = error.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        let AppError::Internal(reference) = error else { panic!("expected Internal") };
        assert_eq!(reference.len(), 8);
        assert!(shown.contains(&reference));
    }
}
