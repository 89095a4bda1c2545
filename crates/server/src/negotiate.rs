//! Content negotiation and request-level limits, applied before any handler runs.
//!
//! * [`check_accept`]: 406 unless the `Accept` header admits
//!   `application/taxii+json;version=2.1` (TAXII 2.1 §1.6.8; the rules are in
//!   [`taxii::media`]).
//! * [`timeout`]: a request that runs past [`crate::config::Limits::request_timeout`] is
//!   answered 503 with a TAXII error. A POST whose store transaction is already under way
//!   still commits (the store's writer does not depend on the request future), so a
//!   timeout can lose an acknowledgement but never an acknowledged object.
//! * [`read_envelope_body`]: 415 unless the body is TAXII 2.1, 413 above
//!   `max_content_length`, checked on `Content-Length` first so an oversized body is
//!   refused before it is read.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::error::ApiError;
use crate::state::AppState;

/// Middleware: 406 for an `Accept` header that admits no TAXII 2.1 answer.
pub async fn check_accept(request: Request, next: Next) -> Response {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        // A header that is not visible ASCII cannot name a TAXII media type; a NUL makes it
        // parse as no media type at all, so it is refused like any other unknown type.
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    if !taxii::media::accepts_taxii21(accept) {
        return ApiError::NotAcceptable.into_response();
    }
    next.run(request).await
}

/// Middleware: an error answer to a request that carried a body says `Connection: close`.
///
/// Such answers (415, 413, 401, 404, …) are often given before the body was read; hyper then
/// closes the connection, and a client that keeps connections alive (requests, taxii2-client)
/// would lose its next request on it. RFC 9112 §9.6: a server that will close the connection
/// after a response sends `Connection: close` in it.
pub async fn close_after_refused_body(request: Request, next: Next) -> Response {
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let mut response = next.run(request).await;
    if has_body && (response.status().is_client_error() || response.status().is_server_error()) {
        response.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Middleware: answers 503 when the request takes longer than the configured timeout.
pub async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.config.limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// Checks a POST's `Content-Type` and reads its body within `max_bytes`.
pub async fn read_envelope_body(
    headers: &HeaderMap,
    body: Body,
    max_bytes: usize,
) -> Result<Bytes, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !taxii::media::is_taxii21_content_type(content_type) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let too_large = || {
        ApiError::TooLarge(format!(
            "the request body exceeds max_content_length ({max_bytes} bytes)"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes as u64) {
        return Err(too_large());
    }
    // A chunked body has no Content-Length; the limit is enforced while reading.
    axum::body::to_bytes(body, max_bytes).await.map_err(|e| {
        // http-body-util reports the limit as a LengthLimitError somewhere in the chain.
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(err) = source {
            if err.is::<http_body_util::LengthLimitError>() {
                return too_large();
            }
            source = err.source();
        }
        ApiError::BadRequest(format!("could not read the request body: {e}"))
    })
}
