//! The UI's static assets, compiled into the binary with `include_str!`: one stylesheet and
//! one small script. No CDN and no build step; the file name carries a version so the
//! assets can be cached for a long time and a new binary still gets its own.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::ui::UiState;

/// The stylesheet.
pub const CSS: &str = include_str!("assets/ui.css");
/// The script: progressive enhancement only (every page works without it).
pub const JS: &str = include_str!("assets/ui.js");

/// Where pages link the stylesheet.
pub const CSS_PATH: &str = concat!("/ui/assets/ui-", env!("CARGO_PKG_VERSION"), ".css");
/// Where pages load the script.
pub const JS_PATH: &str = concat!("/ui/assets/ui-", env!("CARGO_PKG_VERSION"), ".js");

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    r
}

/// The asset routes; no session needed (the sign-in page uses them).
pub(crate) fn routes() -> Router<UiState> {
    Router::new()
        .route(
            // Paths relative to the `/ui` nest.
            CSS_PATH.trim_start_matches("/ui"),
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            JS_PATH.trim_start_matches("/ui"),
            get(|| async { asset(JS, "text/javascript; charset=utf-8") }),
        )
}
