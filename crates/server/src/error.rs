//! [`ApiError`]: every way a request can fail, and the one place where a failure becomes an
//! HTTP status and a TAXII error message (TAXII 2.1 §3.6.1).
//!
//! Handlers return `Result<_, ApiError>`; nothing else in the crate builds an error
//! response. The `title` is short and fixed per kind, the `description` says what exactly
//! went wrong, and `error_code` is a stable kebab-case name clients can match on.
//! Internal failures are logged with their cause and answered without it: a storage error
//! message is no business of the client's.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use taxii::ErrorMessage;

use crate::response::taxii_body;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No credentials where they are needed, or credentials that do not authenticate
    /// (401 with a `WWW-Authenticate` challenge, RFC 9110 §11.6.1).
    #[error("authentication required")]
    Unauthorized,
    /// Authenticated, may see the resource, but not do this with it (403).
    #[error("{0}")]
    Forbidden(String),
    /// The resource does not exist, or the caller may not know that it does (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The HTTP method is not defined for this resource (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The `Accept` header admits no TAXII 2.1 answer (406, TAXII 2.1 §1.6.8).
    #[error("not acceptable")]
    NotAcceptable,
    /// The request body is not TAXII 2.1 (415, TAXII 2.1 §1.6.8).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A request over a configured limit (413): body size, objects per envelope.
    #[error("{0}")]
    TooLarge(String),
    /// A malformed request: bad query parameter, body that is not JSON (400).
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed JSON that is not an acceptable envelope (422).
    #[error("{0}")]
    Unprocessable(String),
    /// The request took longer than the configured timeout (503).
    #[error("request timed out")]
    Timeout,
    /// The server cannot take the request now, e.g. it is shutting down (503).
    #[error("{0}")]
    Unavailable(String),
    /// A failure on the server's side; the cause is logged, not sent (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status, the error message's `title` and its `error_code`.
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "Authentication required",
                "unauthorized",
            ),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden", "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found", "not-found"),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "method-not-allowed",
            ),
            ApiError::NotAcceptable => (
                StatusCode::NOT_ACCEPTABLE,
                "Not acceptable",
                "not-acceptable",
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                "unsupported-media-type",
            ),
            ApiError::TooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request too large",
                "too-large",
            ),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "Bad request", "bad-request"),
            ApiError::Unprocessable(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid envelope",
                "invalid-envelope",
            ),
            ApiError::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Request timed out",
                "timeout",
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
                "unavailable",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
                "internal",
            ),
        }
    }

    /// The error message's `description`.
    fn description(&self) -> String {
        match self {
            ApiError::Unauthorized => "send an API token as 'Authorization: Bearer <token>', or \
                 HTTP Basic with your user name and a token as the password"
                .to_owned(),
            ApiError::NotAcceptable => format!(
                "this server answers only {} (send it, or no Accept header)",
                taxii::TAXII_21
            ),
            ApiError::UnsupportedMediaType => {
                format!("request bodies must be {}", taxii::TAXII_21)
            }
            ApiError::Internal(_) => "the server failed; the cause has been logged".to_owned(),
            other => other.to_string(),
        }
    }
}

impl From<taxii::Error> for ApiError {
    fn from(e: taxii::Error) -> ApiError {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> ApiError {
        match e {
            // A malformed `next` token reaches the store as an opaque string; only it can
            // tell that the position inside is nonsense.
            store::StoreError::Invalid(reason) => ApiError::BadRequest(reason),
            // Something looked up a moment ago is gone (e.g. a collection removed by an
            // administrator while a request was under way).
            store::StoreError::NotFound { kind, .. } => ApiError::NotFound(kind),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, title, code) = self.parts();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut message = ErrorMessage::new(title, status.as_u16());
        message.description = Some(self.description());
        message.error_code = Some(code.to_owned());
        let mut response = taxii_body(status, &message);
        if status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §11.6.1: a 401 must carry a challenge; both schemes work.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"entente\", Basic realm=\"entente\""),
            );
        }
        response
    }
}
