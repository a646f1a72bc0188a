//! `AppError`: the one error type that crosses the wire between server functions and pages.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// What a page or client may learn about a failure. Internal causes stay in the server log;
/// the client only sees a short reference to quote.
///
/// An internal error is logged once, where it is handled (a server function's response, a
/// Slack reply, a background job), not where it is made: it carries its cause until then,
/// as its [`source`](std::error::Error::source), so a job that adds context logs the whole
/// chain in one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    Unauthenticated,
    Forbidden,
    NotFound,
    Invalid {
        field: String,
        message: String,
    },
    Conflict(String),
    /// Too much is under way to take this on now (a bounded queue is full): try again soon.
    Busy,
    Internal {
        reference: String,
        /// Never sent to the client.
        #[serde(skip)]
        cause: Cause,
    },
}

/// The cause of an internal error, kept on the server only.
#[derive(Clone, Default)]
pub struct Cause(#[cfg(feature = "ssr")] Option<std::sync::Arc<anyhow::Error>>);

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The cause may hold what a user typed or a connection string: only the log shows it.
        f.write_str("Cause(..)")
    }
}

/// Causes never make two errors different: the reference does.
impl PartialEq for Cause {
    fn eq(&self, _other: &Cause) -> bool {
        true
    }
}

impl Eq for Cause {}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Unauthenticated => f.write_str("please sign in to see your team"),
            AppError::Forbidden => f.write_str("you do not have access to this"),
            AppError::NotFound => f.write_str("we could not find that"),
            AppError::Invalid { field, message } => write!(f, "{field}: {message}"),
            AppError::Conflict(message) => f.write_str(message),
            AppError::Busy => f.write_str("Rapport is busy right now; please try again in a few seconds"),
            AppError::Internal { reference, .. } => {
                write!(f, "something went wrong on our side (reference {reference})")
            }
        }
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            #[cfg(feature = "ssr")]
            AppError::Internal { cause: Cause(Some(cause)), .. } => {
                let cause: &(dyn std::error::Error + Send + Sync + 'static) = cause.as_ref().as_ref();
                Some(cause)
            }
            _ => None,
        }
    }
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
            AppError::Busy => 503,
            AppError::Internal { .. } => 500,
        }
    }

    /// An internal error known only by its reference (in the browser, where no cause is kept).
    pub fn with_reference(reference: impl Into<String>) -> Self {
        AppError::Internal { reference: reference.into(), cause: Cause::default() }
    }

    /// Logs `cause` once with a fresh reference id and returns that reference, for replies
    /// that are not an `AppError` (a Slack message, a plain page): the place it is handled.
    #[cfg(feature = "ssr")]
    pub fn log_with_reference(cause: impl Into<anyhow::Error>) -> String {
        let cause = cause.into();
        // An `AppError` inside keeps the reference it was given.
        let reference = match cause.downcast_ref::<AppError>() {
            Some(AppError::Internal { reference, .. }) => reference.clone(),
            _ => new_reference(),
        };
        tracing::error!(error.reference = %reference, error.cause = format!("{cause:#}"), "request failed");
        reference
    }

    /// The error the client sees for `cause`, with a fresh reference. Not logged here: the
    /// place that handles it logs it once ([`AppError::log_if_internal`]).
    #[cfg(feature = "ssr")]
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        AppError::Internal { reference: new_reference(), cause: Cause(Some(std::sync::Arc::new(cause.into()))) }
    }

    /// Logs an internal error's cause under its reference; the one log line for a failed
    /// server function.
    #[cfg(feature = "ssr")]
    pub fn log_if_internal(&self) {
        if let AppError::Internal { reference, cause } = self {
            let cause = cause.0.as_ref().map_or_else(|| "unknown".to_owned(), |cause| format!("{cause:#}"));
            tracing::error!(error.reference = %reference, error.cause = %cause, "request failed");
        }
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
/// A database failure is internal; it is logged where it is handled, not here.
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
    // Made and handled by the framework in one place: logged here.
    let error = AppError::internal(anyhow::anyhow!("server function transport error: {cause}"));
    error.log_if_internal();
    error
}

#[cfg(not(feature = "ssr"))]
fn internal_from_transport(_cause: ServerFnErrorErr) -> AppError {
    // In the browser there is no server log to point to; a network failure has no reference.
    AppError::with_reference("offline")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_maps_to_the_status_a_browser_expects() {
        assert_eq!(AppError::NotFound.status(), 404);
        assert_eq!(AppError::Unauthenticated.status(), 401);
        assert_eq!(AppError::with_reference("abc").status(), 500);
        assert_eq!(AppError::Invalid { field: "q".into(), message: "too long".into() }.status(), 422);
        assert_eq!(AppError::Busy.status(), 503);
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
        assert!(!format!("{error:?}").contains("hunter2"), "Debug output hides the cause too");
        let json = serde_json::to_string(&error).unwrap_or_default();
        assert!(!json.contains("hunter2"), "{json}");
        let AppError::Internal { reference, .. } = &error else { panic!("expected Internal") };
        assert_eq!(reference.len(), 8);
        assert!(shown.contains(reference.as_str()));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_job_that_adds_context_keeps_the_cause_for_its_one_log_line() {
        let error = AppError::internal(anyhow::anyhow!("connection reset"));
        let AppError::Internal { reference, .. } = &error else { panic!("expected Internal") };
        let in_job = anyhow::Error::new(error.clone()).context("posting the daily digests");
        let logged = format!("{in_job:#}");
        assert!(logged.starts_with("posting the daily digests: something went wrong"), "{logged}");
        assert!(logged.contains("connection reset") && logged.contains(reference.as_str()), "{logged}");
        assert_eq!(AppError::log_with_reference(in_job), *reference, "the reference stays the same");
    }
}
