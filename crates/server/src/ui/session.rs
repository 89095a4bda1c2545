//! Sign-in, sign-out and the session cookie of the UI.
//!
//! A user signs in with their user name and an API token, checked by
//! `Store::authenticate_basic` exactly as the API's Basic scheme checks them. The server
//! then makes a session: a random 256-bit id, sent once in the cookie
//! `entente_session` (`HttpOnly; SameSite=Strict; Path=/ui`, plus `Secure` when the request
//! came over TLS, i.e. `X-Forwarded-Proto: https` from the proxy in front), and kept in
//! memory under the SHA-256 of that id, so the map itself holds nothing a cookie can be
//! forged from. A session ends on sign-out, after [`IDLE_TIMEOUT`] without a request,
//! and [`MAX_AGE`] after sign-in at the latest; a restart ends them all.
//!
//! The sign-in form itself is protected against login CSRF with a double-submit token: the
//! form page sets a random `entente_signin` cookie and the same value in a hidden field;
//! [`crate::ui::csrf`] compares the two.
//!
//! What it is not: an account store. Revoking a token does not end the sessions opened
//! with it before; [`Sessions::end_user`] ends a user's sessions when an administrator
//! asks for it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use store::Principal;

use crate::ui::layout;
use crate::ui::{UiError, UiState};

/// Name of the session cookie.
pub const COOKIE: &str = "entente_session";
/// Name of the sign-in form's double-submit cookie.
pub const SIGNIN_COOKIE: &str = "entente_signin";
/// A session without a request for this long is over.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// A session is over this long after sign-in, however busy.
pub const MAX_AGE: Duration = Duration::from_secs(12 * 60 * 60);
/// Most live sessions kept; beyond it, sign-in is refused until some expire. Bounds the
/// memory an attacker with one valid token can make the server hold.
pub const MAX_SESSIONS: usize = 10_000;

/// A signed-in session, as handlers see it. Taking it as an extractor is what puts a page
/// behind sign-in: without a live session the request is redirected to `/ui/signin`.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who is signed in; pass it to the store's access checks.
    pub principal: Principal,
    /// The session's CSRF token: put it in every form ([`layout::csrf_field`]).
    pub csrf: String,
}

/// One live session in the map.
#[derive(Debug)]
struct Entry {
    principal: Principal,
    csrf: String,
    created: Instant,
    last_seen: Instant,
}

/// The live sessions, keyed by the SHA-256 of their cookie value.
///
/// A std `Mutex`: every critical section is a hash-map lookup or insert with no `.await`
/// inside, far shorter than a context switch, so an async lock would only add cost.
#[derive(Debug)]
pub struct Sessions {
    map: Mutex<HashMap<[u8; 32], Entry>>,
    idle: Duration,
    max_age: Duration,
}

/// 32 random bytes as 64 lowercase hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

fn key_of(cookie_value: &str) -> [u8; 32] {
    Sha256::digest(cookie_value.as_bytes()).into()
}

impl Sessions {
    /// An empty map whose sessions end after `idle` without use or `max_age` in all.
    pub fn new(idle: Duration, max_age: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            idle,
            max_age,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        // A panic while holding the lock cannot leave the map half-updated (every update
        // is one insert or remove), so a poisoned lock is still a consistent map.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn live(&self, e: &Entry, now: Instant) -> bool {
        now.duration_since(e.last_seen) < self.idle && now.duration_since(e.created) < self.max_age
    }

    /// Opens a session for `principal`; returns the cookie value, or `None` when
    /// [`MAX_SESSIONS`] are live.
    pub fn create(&self, principal: Principal) -> Option<String> {
        let id = random_token();
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, e| self.live(e, now));
            if map.len() >= MAX_SESSIONS {
                return None;
            }
        }
        map.insert(
            key_of(&id),
            Entry {
                principal,
                csrf: random_token(),
                created: now,
                last_seen: now,
            },
        );
        Some(id)
    }

    /// The live session of a cookie value, marking it used; an expired one is removed.
    pub fn get(&self, cookie_value: &str) -> Option<Session> {
        let key = key_of(cookie_value);
        let now = Instant::now();
        let mut map = self.lock();
        let entry = map.get_mut(&key)?;
        if !self.live(entry, now) {
            map.remove(&key);
            return None;
        }
        entry.last_seen = now;
        Some(Session {
            principal: entry.principal.clone(),
            csrf: entry.csrf.clone(),
        })
    }

    /// Ends the session of a cookie value.
    pub fn remove(&self, cookie_value: &str) {
        self.lock().remove(&key_of(cookie_value));
    }

    /// Ends every session of a user (e.g. after an administrator revoked their tokens).
    pub fn end_user(&self, user_id: store::UserId) {
        self.lock().retain(|_, e| e.principal.user_id != user_id);
    }

    /// Number of sessions held (live or not yet pruned).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The value of cookie `name` in the request's `Cookie` headers (RFC 6265 §5.4).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the request reached the proxy in front of us over TLS.
pub fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value for `name` scoped to the UI; `None` as the value deletes it.
pub fn set_cookie(name: &str, value: Option<&str>, secure: bool) -> HeaderValue {
    let mut c = match value {
        Some(v) => format!("{name}={v}; Path=/ui; HttpOnly; SameSite=Strict"),
        None => format!("{name}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0"),
    };
    if secure {
        c.push_str("; Secure");
    }
    // Names are constants and values hex digits: always a valid header value.
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Where a request without a session is sent: the sign-in page, coming back afterwards.
#[derive(Debug)]
pub struct SignInRedirect(pub String);

impl IntoResponse for SignInRedirect {
    fn into_response(self) -> Response {
        let next: String = form_urlencoded::byte_serialize(self.0.as_bytes()).collect();
        Redirect::to(&format!("/ui/signin?next={next}")).into_response()
    }
}

impl FromRequestParts<UiState> for Session {
    type Rejection = SignInRedirect;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &UiState,
    ) -> Result<Session, SignInRedirect> {
        if let Some(s) = cookie(&parts.headers, COOKIE).and_then(|v| state.sessions.get(v)) {
            return Ok(s);
        }
        // Only GETs come back to where they were; a POST's form is gone anyway.
        let back = if parts.method == axum::http::Method::GET {
            // Inside the `/ui` nest the URI lost its prefix; the original has it.
            let uri = parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map(|o| &o.0)
                .unwrap_or(&parts.uri);
            uri.path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Err(SignInRedirect(back))
    }
}

/// Where to go after signing in: a path inside the UI, never another site (an open
/// redirect would let a link signed by us lead elsewhere).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with("/ui/")
                && !n.starts_with("/ui//")
                && !n.contains('\\')
                && !n.starts_with("/ui/signin") =>
        {
            n
        }
        _ => "/ui/collections",
    }
}

/// The sign-in and sign-out routes.
pub(crate) fn routes() -> Router<UiState> {
    Router::new()
        .route("/signin", get(signin_form).post(signin))
        .route("/signout", post(signout))
}

#[derive(Debug, Deserialize)]
struct NextParam {
    next: Option<String>,
}

/// The sign-in form: a fresh double-submit token in a cookie and a hidden field.
async fn signin_form(headers: HeaderMap, Query(q): Query<NextParam>) -> Response {
    signin_page(&headers, q.next.as_deref(), None, StatusCode::OK)
}

fn signin_page(
    headers: &HeaderMap,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let token = random_token();
    let next = safe_next(next);
    let body = html! {
        div.signin {
            h1 { "Sign in to entente" }
            @if let Some(e) = error {
                p.error role="alert" { (e) }
            }
            form method="post" action="/ui/signin" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                label for="user" { "User name" }
                input #user type="text" name="user" autocomplete="username" required autofocus;
                label for="token" { "API token" }
                input #token type="password" name="token" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
            p.hint { "Use an API token from " code { "entente admin token create USER" } "." }
        }
    };
    let mut response = (status, layout::html(layout::bare_page("Sign in", body))).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SIGNIN_COOKIE, Some(&token), over_tls(headers)),
    );
    response
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
struct SignInForm {
    user: String,
    token: String,
    next: Option<String>,
}

/// Checks the credentials (the CSRF middleware has checked the double-submit token) and
/// opens a session.
async fn signin(
    State(state): State<UiState>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, UiError> {
    let principal = state
        .app
        .store
        .authenticate_basic(form.user.trim(), form.token.trim())
        .await?;
    let Some(principal) = principal else {
        tracing::info!(user = %form.user, "UI sign-in refused");
        return Ok(signin_page(
            &headers,
            form.next.as_deref(),
            Some("Unknown user name or token."),
            StatusCode::UNAUTHORIZED,
        ));
    };
    let Some(id) = state.sessions.create(principal) else {
        return Err(UiError::Internal("session table full".into()));
    };
    let secure = over_tls(&headers);
    let mut response = Redirect::to(safe_next(form.next.as_deref())).into_response();
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(COOKIE, Some(&id), secure));
    h.append(header::SET_COOKIE, set_cookie(SIGNIN_COOKIE, None, secure));
    Ok(response)
}

/// Ends the session (the CSRF middleware has checked the form's token).
async fn signout(State(state): State<UiState>, headers: HeaderMap) -> Response {
    if let Some(v) = cookie(&headers, COOKIE) {
        state.sessions.remove(v);
    }
    let mut response = Redirect::to("/ui/signin").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(COOKIE, None, over_tls(&headers)),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Principal {
        Principal {
            user_id: 7,
            user_name: "alice".into(),
            org_id: 1,
            org_name: "acme".into(),
            admin: false,
        }
    }

    #[test]
    fn sessions_expire_when_idle_and_end_on_remove() {
        let s = Sessions::new(Duration::from_millis(30), MAX_AGE);
        let id = s.create(principal()).expect("room");
        assert_eq!(s.get(&id).map(|x| x.principal.user_id), Some(7));
        assert!(s.get("not-a-session").is_none());
        std::thread::sleep(Duration::from_millis(60));
        assert!(s.get(&id).is_none(), "idle session still live");
        let id = s.create(principal()).expect("room");
        s.remove(&id);
        assert!(s.get(&id).is_none());
        let id = s.create(principal()).expect("room");
        s.end_user(7);
        assert!(s.get(&id).is_none());
    }

    #[test]
    fn next_stays_inside_the_ui() {
        assert_eq!(safe_next(Some("/ui/c/x?q=1")), "/ui/c/x?q=1");
        for bad in [
            "https://evil.example/",
            "//evil.example/ui/",
            "/ui//evil.example",
            "/ui/\\evil",
            "/taxii2/",
            "/ui/signin?next=x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/ui/collections", "{bad}");
        }
        assert_eq!(safe_next(None), "/ui/collections");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; entente_session=abc"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&h, COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
        let v = set_cookie(COOKIE, Some("abc"), true);
        let v = v.to_str().expect("ascii");
        for part in ["HttpOnly", "SameSite=Strict", "Path=/ui", "Secure"] {
            assert!(v.contains(part), "{v} lacks {part}");
        }
    }
}
