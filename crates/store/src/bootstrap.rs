//! First start of an installation: the data directory, the database and the initial
//! accounts, as `entente serve` needs them (issue "entente serve", item 4).
//!
//! [`ensure_initialized`] is idempotent: the first call creates the data directory
//! (mode 0700: it holds the database and, later, the log's signing key), the SQLite file,
//! the organization and administrator user `admin`, the API root `default` and the
//! collection `shared` (readable and writable by `admin`), and returns the administrator's
//! token once; later calls only open the store. The set-up is one transaction, so an
//! interrupted first start is simply redone.
//!
//! [`open_database`] and [`ensure_initialized_database`] do the same on PostgreSQL (no data
//! directory: the database holds everything, including the log's signing key). Replicas
//! starting together are safe: migrations run under a session advisory lock and the set-up
//! under a transaction advisory lock, so exactly one replica sets up and gets the token.

use crate::postgres::{PgOptions, PgStore};
use crate::sqlite::SqliteStore;
use crate::{Result, Store, StoreError};
use std::path::Path;
use std::sync::Arc;

/// Names used by the first-start set-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapSpec {
    /// The administrators' organization (`admin`).
    pub admin_org: String,
    /// The administrator user (`admin`).
    pub admin_user: String,
    /// The API root created first (`default`).
    pub api_root: String,
    /// Its title.
    pub api_root_title: String,
    /// The collection created first (`shared`).
    pub collection_title: String,
    /// Its description.
    pub collection_description: String,
}

impl Default for BootstrapSpec {
    fn default() -> Self {
        BootstrapSpec {
            admin_org: "admin".into(),
            admin_user: "admin".into(),
            api_root: "default".into(),
            api_root_title: "entente default API root".into(),
            collection_title: "shared".into(),
            collection_description: "Shared with the admin organization".into(),
        }
    }
}

/// What [`ensure_initialized`] found or did.
pub struct BootstrapOutcome {
    /// The open store.
    pub store: Arc<dyn Store>,
    /// Where the database is, for messages: the SQLite file's path, or the PostgreSQL URL
    /// with any password replaced by `***`.
    pub db_path: String,
    /// Whether this call set the installation up.
    pub first_start: bool,
    /// The administrator's token secret, present exactly on the first start; print it once.
    pub admin_token: Option<String>,
}

impl std::fmt::Debug for BootstrapOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token through Debug.
        f.debug_struct("BootstrapOutcome")
            .field("db_path", &self.db_path)
            .field("first_start", &self.first_start)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<secret>"),
            )
            .finish_non_exhaustive()
    }
}

/// Creates the data directory with mode 0700 when it does not exist (parents too).
pub fn create_data_dir(data_dir: &Path) -> Result<()> {
    if data_dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(data_dir).map_err(|e| {
        StoreError::Backend(format!(
            "cannot create data directory {}: {e}",
            data_dir.display()
        ))
    })
}

/// Opens the store in `data_dir` (creating the directory and database if needed) without
/// setting anything up: what `entente admin` uses.
pub fn open_data_dir(data_dir: &Path) -> Result<SqliteStore> {
    create_data_dir(data_dir)?;
    SqliteStore::open_in_dir(data_dir)
}

/// Opens the store in `data_dir` and, on the first start, sets the installation up with
/// the default names ([`BootstrapSpec::default`]).
pub async fn ensure_initialized(data_dir: &Path) -> Result<BootstrapOutcome> {
    ensure_initialized_with(data_dir, &BootstrapSpec::default()).await
}

/// [`ensure_initialized`] with chosen names.
pub async fn ensure_initialized_with(
    data_dir: &Path,
    spec: &BootstrapSpec,
) -> Result<BootstrapOutcome> {
    let dir = data_dir.to_path_buf();
    // Opening creates files and migrates: blocking work, kept off the async workers.
    let store = tokio::task::spawn_blocking(move || open_data_dir(&dir))
        .await
        .map_err(|e| StoreError::Backend(format!("opening the store failed: {e}")))??;
    let admin_token = store.bootstrap(spec).await?;
    Ok(BootstrapOutcome {
        db_path: store.path().display().to_string(),
        first_start: admin_token.is_some(),
        admin_token,
        store: Arc::new(store),
    })
}

/// Opens the PostgreSQL store at `url` (applying missing migrations) without setting
/// anything up: what `entente admin --database` uses.
pub async fn open_database(url: &str, options: &PgOptions) -> Result<PgStore> {
    PgStore::open(url, options).await
}

/// Opens the PostgreSQL store at `url` and, on the first start, sets the installation up
/// with the default names ([`BootstrapSpec::default`]); idempotent and race-free across
/// replicas.
pub async fn ensure_initialized_database(
    url: &str,
    options: &PgOptions,
) -> Result<BootstrapOutcome> {
    ensure_initialized_database_with(url, options, &BootstrapSpec::default()).await
}

/// [`ensure_initialized_database`] with chosen names.
pub async fn ensure_initialized_database_with(
    url: &str,
    options: &PgOptions,
    spec: &BootstrapSpec,
) -> Result<BootstrapOutcome> {
    let store = open_database(url, options).await?;
    let admin_token = store.bootstrap(spec).await?;
    Ok(BootstrapOutcome {
        db_path: redact_url(url),
        first_start: admin_token.is_some(),
        admin_token,
        store: Arc::new(store),
    })
}

/// A database URL with any password replaced by `***`, fit for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact_url("postgres://alice:s3cret@db:5432/entente"),
            "postgres://alice:***@db:5432/entente"
        );
        assert_eq!(redact_url("postgres://alice@db/x"), "postgres://alice@db/x");
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
