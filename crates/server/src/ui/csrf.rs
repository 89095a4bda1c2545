//! CSRF protection of every UI form (issue 9, item 2).
//!
//! [`require_csrf`] runs before every UI handler. Safe methods pass. Any other request
//! must carry the expected token, compared in constant time:
//!
//! - for the sign-in form, the value of the `entente_signin` cookie the form page set
//!   (double submit: another site can make a browser send the cookie but cannot read it to
//!   copy it into the form, and `SameSite=Strict` keeps it from being sent at all);
//! - for everything else, the signed-in session's token ([`Session::csrf`]).
//!
//! The token travels in the form's `csrf` field (`application/x-www-form-urlencoded`,
//! the body is read here up to the configured body limit and handed on unchanged), or in
//! the query string `?csrf=` for `multipart/form-data` uploads, whose bodies are not
//! parsed here. As a second, independent check, a request whose `Origin` names another
//! host or whose `Sec-Fetch-Site` says `cross-site`/`same-site` is refused.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::ui::session::{self, SignInRedirect};
use crate::ui::{UiError, UiState};

/// The form field (and query parameter) carrying the token.
pub const FIELD: &str = "csrf";

/// Whether `given` equals `expected`, in time independent of where they differ.
pub fn tokens_match(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// Whether the browser says the request came from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // RFC 6454 §7: `Origin: null` comes from privacy-sensitive contexts; not ours.
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    origin_host != Some(host)
}

/// The value of `name` in a query string or urlencoded body.
fn field(encoded: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(encoded)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Refuses state-changing UI requests without the right CSRF token (see the module doc).
pub async fn require_csrf(State(state): State<UiState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    if cross_site(request.headers()) {
        tracing::warn!(uri = %request.uri(), "cross-site UI request refused");
        return UiError::Csrf.into_response();
    }
    let path = request.uri().path();
    let expected = if path == "/signin" || path == "/ui/signin" {
        session::cookie(request.headers(), session::SIGNIN_COOKIE)
            .unwrap_or("")
            .to_owned()
    } else {
        match session::cookie(request.headers(), session::COOKIE)
            .and_then(|v| state.sessions.get(v))
        {
            Some(s) => s.csrf,
            None => return SignInRedirect(String::new()).into_response(),
        }
    };
    if let Some(given) = request
        .uri()
        .query()
        .and_then(|q| field(q.as_bytes(), FIELD))
    {
        return if tokens_match(&given, &expected) {
            next.run(request).await
        } else {
            UiError::Csrf.into_response()
        };
    }
    let urlencoded = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !urlencoded {
        return UiError::Csrf.into_response();
    }
    let (parts, body) = request.into_parts();
    let limit = state.app.config.limits.max_body_bytes;
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return UiError::TooLarge.into_response(),
    };
    match field(&bytes, FIELD) {
        Some(given) if tokens_match(&given, &expected) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => UiError::Csrf.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn tokens_compare_exactly() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abd", "abc"));
        assert!(!tokens_match("ab", "abc"));
        assert!(!tokens_match("", ""), "an empty expectation never matches");
    }

    #[test]
    fn cross_site_requests_are_recognised() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:7350"));
        assert!(
            !cross_site(&h),
            "no Origin: a same-site form in an old browser"
        );
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:7350"),
        );
        assert!(!cross_site(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(cross_site(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(cross_site(&h));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(cross_site(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(!cross_site(&h));
    }

    #[test]
    fn fields_are_read_from_urlencoded_text() {
        assert_eq!(field(b"a=1&csrf=x%2By", FIELD).as_deref(), Some("x+y"));
        assert_eq!(field(b"a=1", FIELD), None);
    }
}
