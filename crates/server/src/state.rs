//! The state every handler shares: the store, the configuration and the log's signer.
//!
//! [`AppState`] is cloned into every request (axum's `State`), so both fields are `Arc`s:
//! cloning is two reference-count increments. Neither needs a lock: the store does its
//! own concurrency control (one SQLite writer, a pool of readers), and the configuration is
//! immutable once the server runs.

use std::sync::Arc;

use store::Store;

use crate::config::Config;
use crate::queue::IngestQueue;
use crate::routes::log::LogSigner;

/// Shared, cheaply clonable server state.
#[derive(Clone)]
pub struct AppState {
    /// Persistence; an `Arc<dyn Store>` so the SQLite and PostgreSQL backends plug in alike.
    pub store: Arc<dyn Store>,
    /// Limits and discovery texts; read-only while serving.
    pub config: Arc<Config>,
    /// The transparency log's signer (`/log/` routes); `None` serves no log.
    pub log: Option<Arc<LogSigner>>,
    /// Queued ingest (`crate::queue`): POSTs are answered `pending` before their commit.
    /// `None` answers each POST after its envelope committed.
    pub ingest: Option<Arc<IngestQueue>>,
}

impl AppState {
    /// State over a store with a configuration.
    pub fn new(store: Arc<dyn Store>, config: Config) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            log: None,
            ingest: None,
        }
    }

    /// The same state with queued ingest: starts the writer task, so it must be called
    /// inside a tokio runtime.
    pub fn with_ingest_queue(mut self) -> AppState {
        let limits = self.config.limits.clone();
        self.ingest = Some(Arc::new(IngestQueue::start(self.store.clone(), limits)));
        self
    }

    /// The same state serving the transparency log signed by `log`.
    pub fn with_log(mut self, log: LogSigner) -> AppState {
        self.log = Some(Arc::new(log));
        self
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("log", &self.log)
            .field("ingest", &self.ingest)
            .finish_non_exhaustive()
    }
}
