//! Where a command finds its local store: `--data DIR` (embedded SQLite) or `--database URL`
//! (PostgreSQL), shared by every command that reads or writes a store directly (serve, admin,
//! import, export, sync).
//!
//! Only argument handling lives here; opening, migrating and setting up are the `store`
//! crate's `bootstrap` module. [`OpenedStore`] also says where the log's signing key is: a
//! file in the data directory for SQLite, a row in the database for PostgreSQL (so that
//! every replica of `entente serve` on one database signs with the same key).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use store::Store;
use store::postgres::{PgOptions, PgStore};
use tlog::Ed25519Signer;

/// Environment variable naming the data directory when `--data` is not given.
pub const DATA_ENV: &str = "ENTENTE_DATA";
/// Environment variable naming the database URL when `--database` is not given.
pub const DATABASE_ENV: &str = "ENTENTE_DATABASE_URL";
/// The data directory used when neither `--data` nor `$ENTENTE_DATA` is set.
pub const DEFAULT_DATA_DIR: &str = "./entente-data";

/// A local store: a data directory (SQLite) or a database URL (PostgreSQL).
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Data directory holding the embedded database [default: $ENTENTE_DATA, else
    /// ./entente-data]
    #[arg(
        long,
        alias = "data-dir",
        value_name = "DIR",
        global = true,
        conflicts_with = "database"
    )]
    pub data: Option<PathBuf>,
    /// Database URL (postgres://user@host/db) instead of a data directory
    /// [default: $ENTENTE_DATABASE_URL]
    #[arg(long, value_name = "URL", global = true)]
    pub database: Option<String>,
}

/// Connection-pool settings for a PostgreSQL store (ignored for a data directory).
#[derive(Debug, Clone, clap::Args)]
pub struct PoolArgs {
    /// Most connections this process keeps open to PostgreSQL; size it so that
    /// replicas × N stays below the server's max_connections
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub db_max_connections: usize,
    /// Seconds a request waits for a pooled connection before it fails
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub db_acquire_timeout: u64,
    /// Seconds opening one connection to PostgreSQL may take
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub db_connect_timeout: u64,
    /// Server-side statement_timeout of every connection, in seconds (0: the server's own
    /// setting)
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub db_statement_timeout: u64,
}

impl PoolArgs {
    /// The store's options for these flags.
    pub fn pg_options(&self) -> PgOptions {
        PgOptions {
            max_connections: self.db_max_connections,
            acquire_timeout: Duration::from_secs(self.db_acquire_timeout),
            connect_timeout: Duration::from_secs(self.db_connect_timeout),
            statement_timeout: (self.db_statement_timeout > 0)
                .then(|| Duration::from_secs(self.db_statement_timeout)),
            ..PgOptions::default()
        }
    }
}

impl Default for PoolArgs {
    fn default() -> Self {
        PoolArgs {
            db_max_connections: 16,
            db_acquire_timeout: 30,
            db_connect_timeout: 10,
            db_statement_timeout: 60,
        }
    }
}

/// An open store, with what the caller needs beside the [`Store`] trait.
pub struct OpenedStore {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The administrator's token, present exactly when this call set the installation up
    /// (only [`StoreArgs::ensure_initialized`] does).
    pub admin_token: Option<String>,
    /// Where the store is, for messages (a URL is redacted).
    pub shown: String,
    keys: KeySource,
}

/// Where the transparency log's signing key lives.
enum KeySource {
    /// `<data>/log.key` (`store::log_key`).
    DataDir(PathBuf),
    /// The database's `log_signing_key` table, shared by every replica
    /// (`PgStore::log_key`).
    Postgres(PgStore),
}

impl OpenedStore {
    /// Whether the store is a database other processes may serve too (PostgreSQL), rather
    /// than a data directory this process owns.
    pub fn is_shared_database(&self) -> bool {
        matches!(self.keys, KeySource::Postgres(_))
    }

    /// The log's signing key, made on first use and named `origin`; with `strict`, an
    /// existing key with another name is an error.
    pub async fn log_key(&self, origin: &str, strict: bool) -> Result<Ed25519Signer> {
        match &self.keys {
            KeySource::DataDir(dir) => {
                let dir = dir.clone();
                let origin = origin.to_owned();
                let key = tokio::task::spawn_blocking(move || {
                    store::log_key::load_or_create(&dir, &origin, strict)
                })
                .await
                .context("loading the log key")??;
                Ok(key)
            }
            KeySource::Postgres(pg) => pg
                .log_key(origin, strict)
                .await
                .with_context(|| format!("loading the log key from {}", self.shown)),
        }
    }

    /// On PostgreSQL, one line saying how long this process's envelope transactions held
    /// the log-append lock (the bound of scale-out, docs/deploy.md); `None` on SQLite or
    /// before any write.
    pub fn lock_report(&self) -> Option<String> {
        let KeySource::Postgres(pg) = &self.keys else {
            return None;
        };
        let s = pg.lock_stats();
        if s.transactions == 0 {
            return None;
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        Some(format!(
            "log lock: {} write transactions, {:.1} ms in them, {:.1} ms waiting for the lock, \
             {:.1} ms holding it ({:.1}% of transaction time held, {:.3} ms held per transaction)",
            s.transactions,
            ms(s.total),
            ms(s.waiting),
            ms(s.held),
            100.0 * s.held.as_secs_f64() / s.total.as_secs_f64().max(f64::MIN_POSITIVE),
            ms(s.held) / s.transactions as f64,
        ))
    }
}

/// The store a [`StoreArgs`] names, resolved against the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// An embedded SQLite store in this directory.
    DataDir(PathBuf),
    /// A PostgreSQL database.
    Database(String),
}

impl StoreArgs {
    /// Where the store is: `--database`, `--data`, `$ENTENTE_DATABASE_URL`, `$ENTENTE_DATA`,
    /// else `./entente-data`. A flag beats any environment variable.
    pub fn location(&self) -> StoreLocation {
        if let Some(url) = &self.database {
            return StoreLocation::Database(url.clone());
        }
        if let Some(dir) = &self.data {
            return StoreLocation::DataDir(dir.clone());
        }
        if let Some(url) = env_nonempty(DATABASE_ENV) {
            return StoreLocation::Database(url);
        }
        StoreLocation::DataDir(
            env_nonempty(DATA_ENV)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        )
    }

    /// Opens the store (creating and migrating it if needed) without setting anything up.
    #[allow(
        dead_code,
        reason = "the entry point of import/export, which land beside serve and admin"
    )]
    pub async fn open(&self) -> Result<Arc<dyn Store>> {
        Ok(self.open_local(&PoolArgs::default()).await?.store)
    }

    /// Opens the store (creating and migrating it if needed) without setting anything up,
    /// keeping what is needed to find the log's key: what `entente admin` uses.
    pub async fn open_local(&self, pool: &PoolArgs) -> Result<OpenedStore> {
        match self.location() {
            StoreLocation::DataDir(dir) => {
                let shown = dir.display().to_string();
                let opened = dir.clone();
                let store =
                    tokio::task::spawn_blocking(move || store::bootstrap::open_data_dir(&opened))
                        .await
                        .context("opening the store")?
                        .with_context(|| format!("opening the store in {shown}"))?;
                Ok(OpenedStore {
                    store: Arc::new(store),
                    admin_token: None,
                    shown,
                    keys: KeySource::DataDir(dir),
                })
            }
            StoreLocation::Database(url) => {
                let pg = open_database(&url, pool).await?;
                Ok(OpenedStore {
                    store: Arc::new(pg.clone()),
                    admin_token: None,
                    shown: redact(&url),
                    keys: KeySource::Postgres(pg),
                })
            }
        }
    }

    /// Opens the store and, on the first start, sets the installation up (API root
    /// `default`, collection `shared`, the administrator and its token): what
    /// `entente serve` uses. Idempotent; replicas starting together set it up once.
    pub async fn ensure_initialized(&self, pool: &PoolArgs) -> Result<OpenedStore> {
        match self.location() {
            StoreLocation::DataDir(dir) => {
                let shown = dir.display().to_string();
                let outcome = store::bootstrap::ensure_initialized(&dir)
                    .await
                    .with_context(|| format!("opening data directory {shown}"))?;
                Ok(OpenedStore {
                    store: outcome.store,
                    admin_token: outcome.admin_token,
                    shown,
                    keys: KeySource::DataDir(dir),
                })
            }
            StoreLocation::Database(url) => {
                let shown = redact(&url);
                let pg = open_database(&url, pool).await?;
                // Replicas starting together queue on the store's set-up lock: exactly one
                // of them sets up and gets the token.
                let admin_token = pg
                    .bootstrap(&store::bootstrap::BootstrapSpec::default())
                    .await
                    .with_context(|| format!("setting up the database {shown}"))?;
                Ok(OpenedStore {
                    store: Arc::new(pg.clone()),
                    admin_token,
                    shown,
                    keys: KeySource::Postgres(pg),
                })
            }
        }
    }
}

/// Connects to PostgreSQL (applying missing migrations under the store's migration lock).
async fn open_database(url: &str, pool: &PoolArgs) -> Result<PgStore> {
    store::bootstrap::open_database(url, &pool.pg_options())
        .await
        .with_context(|| format!("opening the database {}", redact(url)))
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A database URL with any password replaced by `***`, fit for error messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_password_only() {
        assert_eq!(
            redact("postgres://alice:s3cret@db.example:5432/entente"),
            "postgres://alice:***@db.example:5432/entente"
        );
        assert_eq!(
            redact("postgres://alice@db/entente"),
            "postgres://alice@db/entente"
        );
        assert_eq!(redact("not a url"), "not a url");
    }

    #[test]
    fn pool_flags_become_the_stores_options() {
        let o = PoolArgs {
            db_max_connections: 3,
            db_acquire_timeout: 7,
            db_connect_timeout: 2,
            db_statement_timeout: 0,
        }
        .pg_options();
        assert_eq!(o.max_connections, 3);
        assert_eq!(o.acquire_timeout, Duration::from_secs(7));
        assert_eq!(o.connect_timeout, Duration::from_secs(2));
        assert_eq!(
            o.statement_timeout, None,
            "0 leaves the server's own setting"
        );
        let o = PoolArgs::default().pg_options();
        assert_eq!(o.statement_timeout, Some(Duration::from_secs(60)));
    }

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        pool: PoolArgs,
    }

    #[test]
    fn data_and_database_exclude_each_other() {
        use clap::Parser as _;
        let both = Cli::try_parse_from(["x", "--data", "/d", "--database", "postgres://h/db"]);
        assert!(
            both.is_err(),
            "a store is a directory or a database, not both"
        );
        let cli = Cli::try_parse_from(["x", "--database", "postgres://h/db"]).unwrap();
        assert_eq!(
            cli.store.location(),
            StoreLocation::Database("postgres://h/db".into())
        );
        assert_eq!(cli.pool.db_max_connections, 16);
    }

    #[test]
    fn a_flag_beats_the_environment() {
        let args = StoreArgs {
            data: Some(PathBuf::from("/tmp/x")),
            database: None,
        };
        assert_eq!(args.location(), StoreLocation::DataDir("/tmp/x".into()));
        let args = StoreArgs {
            data: None,
            database: Some("postgres://h/db".into()),
        };
        assert_eq!(
            args.location(),
            StoreLocation::Database("postgres://h/db".into())
        );
    }
}
