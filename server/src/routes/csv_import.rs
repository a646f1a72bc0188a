//! Refuses a CSV import whose request is too big to carry a file the import takes, with the
//! import's own message, before its server function reads it: there, axum's body limit
//! would refuse it as a bare internal error. Requests within the limit go on to the service,
//! which checks the file's own size and rows.

use app::{
    features::packs::{api::ImportQuestionsCsv, types::MAX_IMPORT_BYTES},
    server::services::packs,
};
use axum::{
    Json,
    body::Body,
    extract::Request,
    http::{StatusCode, header::CONTENT_LENGTH},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The largest import request passed on: the largest file the import takes with every byte
/// URL-encoded (three characters at most), and room for the pack id. A bigger request
/// carries a bigger file.
const MAX_REQUEST_BYTES: usize = 3 * MAX_IMPORT_BYTES + 4 * 1024;

// Server functions read at most axum's default body limit: every request passed on fits it.
const _: () = assert!(MAX_REQUEST_BYTES <= 2 * 1024 * 1024, "an import request must fit axum's default body limit");

/// How much of a refused request is still read (and dropped), so that a client still sending
/// it reads the answer rather than a reset connection. A bigger request is not read at all.
const MAX_DRAINED_BYTES: usize = 4 * 1024 * 1024;

/// Passes every request on, except an import request bigger than any acceptable file makes.
pub async fn refuse_oversized_import(request: Request, next: Next) -> Response {
    if request.uri().path() != <ImportQuestionsCsv as leptos::server_fn::ServerFn>::PATH {
        return next.run(request).await;
    }
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<usize>().ok());
    match declared {
        Some(length) if length <= MAX_REQUEST_BYTES => next.run(request).await,
        Some(length) => {
            tracing::info!(request.bytes = length, "refused a CSV import too big to read");
            let _ = axum::body::to_bytes(request.into_body(), MAX_DRAINED_BYTES).await;
            too_big()
        }
        // No length given (a chunked body): read here, within the same limit.
        None => {
            let (parts, body) = request.into_parts();
            match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
                Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
                Err(_) => too_big(),
            }
        }
    }
}

/// The import's refusal as its server function answers one: the error as JSON.
fn too_big() -> Response {
    (StatusCode::PAYLOAD_TOO_LARGE, Json(packs::oversized_import())).into_response()
}
