//! The entente HTTP server: TAXII 2.1 (OASIS Standard, 10 June 2021) over axum, with
//! authentication, authorization, TLP 2.0 enforcement and limits.
//!
//! **What it is.** [`router`] builds the axum app over an [`AppState`] (a store and a
//! configuration); [`run`] serves it on an already-bound listener until a shutdown future
//! resolves, mini-redis style, so tests bind `127.0.0.1:0` and run the real server
//! in-process. Requests flow: tracing → timeout → `Accept` negotiation → routing →
//! authentication ([`auth`]) → authorization ([`access`]) → the resource's handler
//! ([`routes`], one module per TAXII resource) → the store. Errors of every layer become
//! TAXII error messages in one place, [`error::ApiError`]'s `IntoResponse`.
//!
//! **What it is not.** It holds no SQL (the `store` crate does) and no STIX or TAXII
//! format rules of its own (the `stix`, `pattern` and `taxii` crates do).
//!
//! **Invariants.**
//! - **A collection a caller may not see is a 404**, indistinguishable from one that does
//!   not exist; anonymous callers get 401 instead wherever logging in could change that.
//! - **A POST answers only after its transaction committed**: every `success` in a status
//!   resource is durable.
//! - **Reads filter by TLP in the store query**, so `more`/`next` never count what the
//!   reader may not see.
//! - **Every response is `application/taxii+json;version=2.1`**, errors included.
//!
//! Tests: unit tests beside the code; the integration suite in `tests/it/` drives the real
//! server over HTTP with a temporary SQLite store.

pub mod access;
pub mod auth;
pub mod config;
pub mod error;
pub mod ingest;
pub mod negotiate;
pub mod queue;
pub mod response;
pub mod routes;
pub mod state;
pub mod ui;
pub mod witness;

use std::future::Future;

use axum::Router;
use axum::middleware;
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use config::{Config, Limits};
pub use error::ApiError;
pub use state::AppState;

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Accepting or serving connections failed.
    #[error("serving HTTP: {0}")]
    Io(#[from] std::io::Error),
}

/// The TAXII 2.1 routes (TAXII 2.1 §4, §5) with negotiation, timeout and request logging,
/// and the transparency log's `/log/` routes ([`routes::log`]).
pub fn router(state: AppState) -> Router {
    use routes::*;
    Router::new()
        .route("/taxii2/", get(discovery::get))
        .route("/{api_root}/", get(api_root::get))
        .route("/{api_root}/collections/", get(collections::list))
        .route("/{api_root}/collections/{id}/", get(collections::get_one))
        .route(
            "/{api_root}/collections/{id}/objects/",
            get(objects::get).post(objects::post),
        )
        .route(
            "/{api_root}/collections/{id}/objects/{object_id}/",
            get(object::get).delete(object::delete),
        )
        .route(
            "/{api_root}/collections/{id}/objects/{object_id}/versions/",
            get(versions::get),
        )
        .route("/{api_root}/collections/{id}/manifest/", get(manifest::get))
        .route("/{api_root}/status/{status_id}/", get(status::get))
        .fallback(|| async { ApiError::NotFound("resource") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn(negotiate::check_accept))
        .layer(middleware::from_fn(negotiate::close_after_refused_body))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            negotiate::timeout,
        ))
        // One span per request (method, URI) and one line per response (status, latency)
        // at INFO, so `entente -v serve` is a structured access log.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state.clone())
        // The transparency log's routes (C2SP tlog-tiles and JSON proofs) sit outside the
        // TAXII `Accept` check: C2SP clients do not speak TAXII media types.
        .merge(routes::log::router(state.clone()))
        // The web UI (`/ui/`): HTML for browsers, outside the TAXII `Accept` check too.
        .merge(ui::router(state))
}

/// Serves [`router`] on `listener` until `shutdown` resolves, then stops accepting and
/// waits for the requests in flight, so a POST being stored finishes and is answered, and
/// for the ingest queue (if any) to store every envelope it accepted.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let queue = state.ingest.clone();
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(queue) = queue {
        queue.drain().await;
    }
    served?;
    Ok(())
}

/// The current time as a TAXII timestamp with microsecond precision.
pub(crate) fn now() -> stix::Timestamp {
    stix::Timestamp::from_instant(jiff::Timestamp::now(), 6)
}
