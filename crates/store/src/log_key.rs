//! The transparency log's signing key: an Ed25519 key in the data directory, created on
//! first start (DESIGN.md "The transparency log"; C2SP signed-note).
//!
//! The key lives in `<data>/log.key` as a Go-format signer key
//! (`PRIVATE+KEY+<name>+<hex id>+<base64>`, `golang.org/x/mod/sumdb/note`), file mode 0600,
//! with the seed drawn from the OS's random source. Its name is the log's origin: C2SP
//! tlog-checkpoint says the key name SHOULD equal the origin, and the key id commits to the
//! name, so the origin is fixed when the key is made and read back from the file ever after
//! (a verifier key printed once stays valid).
//!
//! Creation is race-free between processes (`entente serve` and `entente admin log key`
//! may both be first): the key is written to a private temporary file, synced, then
//! hard-linked to its final name, which fails if another process got there first; the
//! loser reads the winner's key. A half-written key file is therefore never visible.
//!
//! What it deliberately doesn't do: sign or keep the key in the database (a backup of the
//! database must not carry the key).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use tlog::Ed25519Signer;

/// File name of the signing key inside the data directory.
pub const KEY_FILE: &str = "log.key";

/// Why the key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum LogKeyError {
    /// Reading or writing the key file failed.
    #[error("log signing key {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The key file does not hold a valid signer key.
    #[error("log signing key {path} is not a valid signer key: {source}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why.
        source: tlog::Error,
    },
    /// The origin cannot be a key name (C2SP signed-note: no spaces, no `+`).
    #[error("log origin {0:?} cannot name a key (no spaces or '+' allowed)")]
    BadOrigin(String),
    /// The key exists with another name than the origin asked for.
    #[error(
        "log signing key {path} is named {found:?}, not {wanted:?}; the origin is fixed when the key is made"
    )]
    OriginMismatch {
        /// The file.
        path: PathBuf,
        /// The name in the file.
        found: String,
        /// The name asked for.
        wanted: String,
    },
}

/// The origin a new key gets when the operator names none: `entente/<host name>` (the
/// kernel's host name, else `$HOSTNAME`, else `localhost`), reduced to characters a key
/// name may hold.
pub fn default_origin() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let host: String = host
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control() && *c != '+')
        .collect();
    format!("entente/{host}")
}

/// Path of the key file in `data_dir`.
pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// Loads the log's signing key from `data_dir`, creating it named `origin` on first use.
///
/// `origin` is only a default for a key that does not exist yet when `strict` is false;
/// with `strict`, an existing key with another name is an error (the operator asked for an
/// origin the log cannot have).
pub fn load_or_create(
    data_dir: &Path,
    origin: &str,
    strict: bool,
) -> Result<Ed25519Signer, LogKeyError> {
    let path = key_path(data_dir);
    let signer = match read(&path)? {
        Some(s) => s,
        None => create(&path, origin)?,
    };
    let found = tlog::NoteSigner::name(&signer);
    if strict && found != origin {
        return Err(LogKeyError::OriginMismatch {
            path,
            found: found.to_owned(),
            wanted: origin.to_owned(),
        });
    }
    Ok(signer)
}

/// Reads the key file, or `None` when there is none.
fn read(path: &Path) -> Result<Option<Ed25519Signer>, LogKeyError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(LogKeyError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    Ed25519Signer::from_skey(text.trim_end())
        .map(Some)
        .map_err(|source| LogKeyError::Malformed {
            path: path.to_owned(),
            source,
        })
}

/// Creates the key file with a fresh key named `origin`, or reads the one another process
/// created meanwhile.
fn create(path: &Path, origin: &str) -> Result<Ed25519Signer, LogKeyError> {
    if !tlog::note::is_valid_key_name(origin) {
        return Err(LogKeyError::BadOrigin(origin.to_owned()));
    }
    let mut seed = [0u8; 32];
    rand::fill(&mut seed);
    let signer =
        Ed25519Signer::from_seed(origin, &seed).map_err(|source| LogKeyError::Malformed {
            path: path.to_owned(),
            source,
        })?;
    let io = |source| LogKeyError::Io {
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let written = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        writeln!(f, "{}", signer.skey())?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    // The temporary name is only a staging area; a failure to remove it loses nothing.
    let _ = std::fs::remove_file(&tmp);
    match written {
        Ok(()) => {
            if let Some(dir) = path.parent() {
                // Make the new directory entry durable too.
                if let Ok(d) = std::fs::File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(signer)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path)?.ok_or_else(|| io(e)),
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create(dir.path(), "entente/test", true).unwrap();
        let b = load_or_create(dir.path(), "entente/other", false).unwrap();
        assert_eq!(a.vkey(), b.vkey(), "the key is made once");
        assert!(a.vkey().starts_with("entente/test+"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(key_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            load_or_create(dir.path(), "entente/other", true),
            Err(LogKeyError::OriginMismatch { .. })
        ));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn default_origin_is_a_key_name() {
        assert!(tlog::note::is_valid_key_name(&default_origin()));
    }

    #[test]
    fn bad_origin_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_or_create(dir.path(), "has space", true),
            Err(LogKeyError::BadOrigin(_))
        ));
    }
}
