//! [`SlackRequest`]: the extractor every endpoint Slack calls starts with. It answers 503
//! when Slack is not configured, refuses with 401 what is not signed by Slack (see
//! [`verify`](super::verify)), and yields the verified raw body.

use axum::{
    body::Bytes,
    extract::rejection::BytesRejection,
    extract::{FromRef, FromRequest, Request},
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::verify::{self, Rejection, SigningSecret};
use crate::state::ServerState;

/// A request verified to come from Slack. Its `Debug` leaves the body out: it may hold
/// what people wrote.
pub struct SlackRequest {
    /// The raw body, exactly as signed.
    pub body: Bytes,
    /// The request's `X-Slack-Signature`: unique to this timestamp and body, so it also
    /// names the request when it carries no id of its own.
    pub signature: String,
}

impl std::fmt::Debug for SlackRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackRequest").field("body_bytes", &self.body.len()).finish_non_exhaustive()
    }
}

/// Why a request was not let through.
#[derive(Debug)]
pub enum SlackRequestRejection {
    NotConfigured,
    /// Too large (413) or cut short: axum's own answer.
    Unreadable(BytesRejection),
    Unverified(Rejection),
}

impl IntoResponse for SlackRequestRejection {
    fn into_response(self) -> Response {
        match self {
            SlackRequestRejection::NotConfigured => {
                (StatusCode::SERVICE_UNAVAILABLE, "Slack is not configured").into_response()
            }
            SlackRequestRejection::Unreadable(rejection) => rejection.into_response(),
            SlackRequestRejection::Unverified(rejection) => {
                (StatusCode::UNAUTHORIZED, rejection.to_string()).into_response()
            }
        }
    }
}

impl<S> FromRequest<S> for SlackRequest
where
    S: Send + Sync,
    ServerState: FromRef<S>,
{
    type Rejection = SlackRequestRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let state = ServerState::from_ref(state);
        let Some(secret) = state.slack_signing_secret.as_ref().filter(|_| state.app.slack.is_some()) else {
            return Err(SlackRequestRejection::NotConfigured);
        };
        // The two headers are kept; the rest of the request is consumed reading the body.
        let (timestamp, signature) = {
            let header =
                |name: &str| request.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
            (header("x-slack-request-timestamp"), header("x-slack-signature"))
        };
        let body = Bytes::from_request(request, &()).await.map_err(SlackRequestRejection::Unreadable)?;
        check(secret, timestamp.as_deref(), signature.as_deref(), &body).map_err(SlackRequestRejection::Unverified)?;
        // Lower-cased: hex decodes either way, and a replay must not pass as a new request.
        let signature = signature.unwrap_or_default().to_ascii_lowercase();
        Ok(SlackRequest { body, signature })
    }
}

/// Checks the signature against the wall clock (Slack's timestamps are real time, whatever
/// the product's clock says).
fn check(
    secret: &SigningSecret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<(), Rejection> {
    verify::verify(secret, timestamp, signature, body, chrono::Utc::now().timestamp()).inspect_err(|rejection| {
        tracing::warn!(reason = %rejection, "refused a request that is not verifiably from Slack");
    })
}
