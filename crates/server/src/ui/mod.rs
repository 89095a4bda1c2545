//! The analysts' web UI, served under `/ui/` (issue 9): server-rendered HTML pages over the
//! same store, authentication and TLP rules as the TAXII API.
//!
//! **What it is.** [`router`] builds the `/ui/` routes over a [`UiState`] (the server's
//! [`AppState`] plus the in-memory [`session::Sessions`]). Pages are written with `maud`,
//! which escapes every interpolated value unless it is explicitly wrapped in
//! `PreEscaped`; nothing user-controlled ever is. Assets (CSS, a little JavaScript) are
//! compiled into the binary ([`assets`]); no CDN, no build step.
//!
//! **Security model.**
//! - Every page but sign-in takes a [`session::Session`]; without a valid session cookie the
//!   request is redirected (303) to `/ui/signin`.
//! - Signing in checks a user name and an API token with `Store::authenticate_basic`, the
//!   API's own Basic scheme; the session then carries that [`store::Principal`], and every
//!   page asks the store what it may see through `access::resolve` / `Store::access` and
//!   passes `Access::max_tlp` to the store's queries: **one policy for API and UI**.
//! - Every POST passes [`csrf::require_csrf`]: the form's `csrf` field (or `?csrf=` for
//!   `multipart/form-data` forms) must equal the session's token, and a cross-site
//!   `Origin` or `Sec-Fetch-Site` is refused.
//! - Every answer carries a strict Content-Security-Policy (`default-src 'self'`, no inline
//!   script or style), `X-Frame-Options: DENY`, `nosniff`, `Referrer-Policy: same-origin`,
//!   and pages are `Cache-Control: no-store` ([`security_headers`]).
//!
//! **Adding a page** (the admin, push and sightings pages are written this way): a module
//! here with a `pub(crate) fn routes() -> Router<UiState>` whose handlers take a
//! [`session::Session`] and return `Result<Markup-as-HTML, UiError>` through
//! [`layout::page`]; forms include [`layout::csrf_field`]; then one `.merge(x::routes())`
//! line in [`router`].
//!
//! Tests: `crates/server/tests/it/ui.rs` (sessions, CSRF, headers, escaping, TLP across
//! organizations); the browser suite in `interop/test_ui_*.py`.

pub mod admin;
pub mod assets;
pub mod collections;
pub mod csrf;
pub mod error;
pub mod graph;
pub mod layout;
pub mod log;
pub mod object;
pub mod objects;
pub mod push;
pub mod session;
pub mod sightings;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{Redirect, Response};
use axum::routing::get;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use error::UiError;
pub use session::{Session, Sessions};

use crate::state::AppState;

/// The state of the UI's handlers: the server's state and the sign-in sessions.
///
/// Cloned per request; both fields are `Arc`s. The sessions map has its own lock (see
/// [`Sessions`]).
#[derive(Clone, Debug)]
pub struct UiState {
    /// The server's store, configuration and log signer.
    pub app: AppState,
    /// Signed-in sessions, in memory: a restart signs everybody out.
    pub sessions: Arc<Sessions>,
}

impl FromRef<UiState> for AppState {
    fn from_ref(state: &UiState) -> AppState {
        state.app.clone()
    }
}

/// The Content-Security-Policy of every UI answer: only this origin's scripts, styles and
/// images; no inline script or style; no framing; forms post only here.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The `/ui/` routes, with their own request logging and
/// security headers. Merge it beside the TAXII routes: it sits outside their `Accept` check.
pub fn router(state: AppState) -> Router {
    let ui = UiState {
        app: state,
        sessions: Arc::new(Sessions::new(session::IDLE_TIMEOUT, session::MAX_AGE)),
    };
    let pages = Router::new()
        .route("/", get(|| async { Redirect::to("/ui/collections") }))
        .merge(session::routes())
        .merge(assets::routes())
        .merge(collections::routes())
        .merge(objects::routes())
        .merge(object::routes())
        .merge(log::routes())
        .merge(push::routes(ui.app.config.limits.max_body_bytes))
        .merge(sightings::routes())
        .merge(admin::routes())
        .fallback(|| async { UiError::NotFound("page") })
        .layer(middleware::from_fn_with_state(
            ui.clone(),
            csrf::require_csrf,
        ))
        .with_state(ui);
    Router::new()
        // The nest serves `/ui`; `/ui/` is the address printed by `entente serve`.
        .route("/ui/", get(|| async { Redirect::to("/ui/collections") }))
        .nest("/ui", pages)
        .layer(middleware::from_fn(security_headers))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
}

/// Adds the security headers to every UI answer; pages (not assets) are never cached.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
