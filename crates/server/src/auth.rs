//! Authentication: who is calling, from the `Authorization` header.
//!
//! Two schemes (issue 5, item 3): `Bearer <token>` (RFC 6750 §2.1) and `Basic` (RFC 7617)
//! with the user name and a token as the password. Tokens are checked by the store, which
//! keeps only their SHA-256 and looks them up by digest.
//!
//! A request without the header is anonymous ([`Caller`] holding `None`); whether that is
//! enough is each route's decision (anonymous callers may read public-read collections and
//! nothing else). A header that is present but does not authenticate is always 401, never
//! a silent downgrade to anonymous: a client with a mistyped token should learn so rather
//! than see an empty server.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine as _;
use store::Principal;

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated principal of a request, or `None` for an anonymous one.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Principal>);

impl Caller {
    /// The principal, or 401 for anonymous callers.
    pub fn require(&self) -> Result<&Principal, ApiError> {
        self.0.as_ref().ok_or(ApiError::Unauthorized)
    }

    /// Whether the request carried no credentials.
    pub fn is_anonymous(&self) -> bool {
        self.0.is_none()
    }
}

/// Credentials as sent, before they are checked.
#[derive(Debug, PartialEq, Eq)]
enum Credentials {
    Bearer(String),
    Basic { user: String, secret: String },
}

/// Reads an `Authorization` value; `None` when it is not a scheme this server takes or is
/// malformed.
fn parse_authorization(value: &str) -> Option<Credentials> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    // RFC 9110 §11.1: auth schemes are case-insensitive.
    if scheme.eq_ignore_ascii_case("bearer") {
        return (!rest.is_empty()).then(|| Credentials::Bearer(rest.to_owned()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        // RFC 7617 §2: the user-id cannot contain a colon; the password may.
        let (user, secret) = text.split_once(':')?;
        return Some(Credentials::Basic {
            user: user.to_owned(),
            secret: secret.to_owned(),
        });
    }
    None
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Caller, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(Caller(None));
        };
        let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
        let credentials = parse_authorization(value).ok_or(ApiError::Unauthorized)?;
        let state = AppState::from_ref(state);
        let principal = match credentials {
            Credentials::Bearer(token) => state.store.authenticate(&token).await?,
            Credentials::Basic { user, secret } => {
                state.store.authenticate_basic(&user, &secret).await?
            }
        };
        principal
            .map(|p| Caller(Some(p)))
            .ok_or(ApiError::Unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_schemes() {
        assert_eq!(
            parse_authorization("Bearer abc"),
            Some(Credentials::Bearer("abc".into()))
        );
        assert_eq!(
            parse_authorization("bearer   abc "),
            Some(Credentials::Bearer("abc".into()))
        );
        // "alice:to:ken"
        assert_eq!(
            parse_authorization("Basic YWxpY2U6dG86a2Vu"),
            Some(Credentials::Basic {
                user: "alice".into(),
                secret: "to:ken".into()
            })
        );
        for bad in [
            "Bearer",
            "Bearer ",
            "Basic !!!",
            "Basic YWxpY2U=",
            "Digest x",
            "",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
    }
}
