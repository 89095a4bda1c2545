//! [`UiError`]: how a UI request fails, rendered as a small HTML page (never a TAXII error
//! message, never a stack of internals).
//!
//! Like the API, the UI never confirms what a caller may not see: a collection or object
//! outside the caller's access is the same "not found" page as one that does not exist.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::error::ApiError;
use crate::ui::layout;

/// Why a UI request failed.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// The thing does not exist or the caller may not see it (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Signed in, may see it, may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// A form or query parameter that makes no sense (400).
    #[error("{0}")]
    BadRequest(String),
    /// A form posted without the session's CSRF token, or from another site (403).
    #[error("the form is stale or came from another site; reload the page and try again")]
    Csrf,
    /// A request body over the configured limit (413).
    #[error("the request is too large")]
    TooLarge,
    /// A failure on the server's side; the cause is logged, not shown (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<store::StoreError> for UiError {
    fn from(e: store::StoreError) -> UiError {
        match e {
            store::StoreError::NotFound { kind, .. } => UiError::NotFound(kind),
            store::StoreError::Invalid(m) => UiError::BadRequest(m),
            other => UiError::Internal(other.to_string()),
        }
    }
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> UiError {
        match e {
            // A signed-in UI user is never anonymous, so 401 cannot arise; treat it as
            // hidden like the API does for principals.
            ApiError::Unauthorized => UiError::NotFound("page"),
            ApiError::NotFound(what) => UiError::NotFound(what),
            ApiError::Forbidden(m) => UiError::Forbidden(m),
            ApiError::BadRequest(m) | ApiError::Unprocessable(m) => UiError::BadRequest(m),
            ApiError::TooLarge(_) => UiError::TooLarge,
            other => UiError::Internal(other.to_string()),
        }
    }
}

impl UiError {
    /// The HTTP status and the page's heading.
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            UiError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
            UiError::Forbidden(_) => (StatusCode::FORBIDDEN, "Not allowed"),
            UiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "Bad request"),
            UiError::Csrf => (StatusCode::FORBIDDEN, "Form refused"),
            UiError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "Too large"),
            UiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Server error"),
        }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, title) = self.parts();
        let message = match &self {
            UiError::Internal(cause) => {
                tracing::error!(%cause, "UI request failed");
                "Something went wrong on the server; it has been logged.".to_owned()
            }
            other => other.to_string(),
        };
        let body = html! {
            h1 { (title) }
            p.error { (message) }
            p { a href="/ui/collections" { "Back to the collections" } }
        };
        (status, layout::html(layout::bare_page(title, body))).into_response()
    }
}
