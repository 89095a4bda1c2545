//! The state every handler shares: the store and the configuration.
//!
//! [`AppState`] is cloned into every request (axum's `State`), so both fields are `Arc`s:
//! cloning is two reference-count increments. Neither needs a lock: the store does its
//! own concurrency control (one SQLite writer, a pool of readers), and the configuration is
//! immutable once the server runs.

use std::sync::Arc;

use store::Store;

use crate::config::Config;

/// Shared, cheaply clonable server state.
#[derive(Clone)]
pub struct AppState {
    /// Persistence; an `Arc<dyn Store>` so the SQLite and PostgreSQL backends plug in alike.
    pub store: Arc<dyn Store>,
    /// Limits and discovery texts; read-only while serving.
    pub config: Arc<Config>,
}

impl AppState {
    /// State over a store with a configuration.
    pub fn new(store: Arc<dyn Store>, config: Config) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
        }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
