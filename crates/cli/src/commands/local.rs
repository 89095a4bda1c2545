//! Where a command finds its local store: `--data DIR` (embedded SQLite) or `--database URL`
//! (PostgreSQL), shared by every command that reads or writes a store directly (serve, admin,
//! import, export, sync).
//!
//! Only argument handling lives here; opening, migrating and setting up are the `store`
//! crate's `bootstrap` module.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use store::Store;

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
        conflicts_with = "database"
    )]
    pub data: Option<PathBuf>,
    /// Database URL (postgres://user@host/db) instead of a data directory
    /// [default: $ENTENTE_DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
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
    pub async fn open(&self) -> Result<Arc<dyn Store>> {
        match self.location() {
            StoreLocation::DataDir(dir) => {
                let shown = dir.display().to_string();
                let store =
                    tokio::task::spawn_blocking(move || store::bootstrap::open_data_dir(&dir))
                        .await
                        .context("opening the store")?
                        .with_context(|| format!("opening the store in {shown}"))?;
                Ok(Arc::new(store))
            }
            StoreLocation::Database(url) => {
                anyhow::bail!(
                    "cannot open {}: this build has no PostgreSQL backend yet",
                    redact(&url)
                )
            }
        }
    }
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
