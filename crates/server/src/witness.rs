//! A C2SP tlog-witness: `POST /add-checkpoint`, cosigned with C2SP `cosignature/v1`
//! (issue 6, item 5, the witness's side).
//!
//! A witness trusts a set of logs (origin → the log's Ed25519 verifier key) and remembers,
//! per origin, the last checkpoint it cosigned. A request carries `old <size>`, a consistency
//! proof and a new signed checkpoint; the checks and the status of each failure are
//! `tlog::witness` (C2SP tlog-witness: 404 unknown origin, 403 no trusted signature, 400
//! malformed or old > new, 409 with `text/x.tlog.size` when `old` is not the size it knows,
//! 422 bad proof). On success the new state is written to disk atomically (temporary file,
//! fsync, rename, fsync of the directory) *before* the cosignature is returned, as the spec
//! requires, so a witness never cosigns a checkpoint it could forget: it can then never be
//! made to cosign two inconsistent trees of one log.
//!
//! What it deliberately doesn't do: fetch checkpoints itself (logs or their clients push
//! them) or distribute cosignatures (the caller appends the returned line to the note).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sha2::{Digest, Sha256};
use tlog::witness::{AddCheckpoint, add_checkpoint_status, check_add_checkpoint};
use tlog::{Checkpoint, CosignatureSigner, Ed25519Verifier, NoteVerifier as _};

/// File name of the witness's key in its data directory.
pub const KEY_FILE: &str = "witness.key";

/// Why the witness could not start.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A key file or key is not valid.
    #[error("{0}")]
    Key(String),
}

/// A witness: its cosigning key, the logs it trusts and where it keeps its state.
pub struct Witness {
    signer: CosignatureSigner,
    logs: HashMap<String, Ed25519Verifier>,
    dir: PathBuf,
    /// Requests are handled one at a time: read state, check, persist, reply.
    lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("logs", &self.logs.keys().collect::<Vec<_>>())
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WitnessError + '_ {
    move |source| WitnessError::Io {
        path: path.to_owned(),
        source,
    }
}

impl Witness {
    /// A witness keeping its key and state in `dir` (created if needed), named `name` when
    /// its key is made, trusting the logs whose verifier keys are `log_keys` (each log's
    /// origin is its key's name).
    pub fn open(dir: &Path, name: &str, log_keys: &[String]) -> Result<Witness, WitnessError> {
        std::fs::create_dir_all(dir.join("state")).map_err(io(dir))?;
        let signer = load_or_create_key(dir, name)?;
        let mut logs = HashMap::new();
        for k in log_keys {
            let v = Ed25519Verifier::from_vkey(k)
                .map_err(|e| WitnessError::Key(format!("log key {k:?}: {e}")))?;
            logs.insert(v.name().to_owned(), v);
        }
        Ok(Witness {
            signer,
            logs,
            dir: dir.to_owned(),
            lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The witness's cosignature verifier key (C2SP vkey, type 0x04).
    pub fn vkey(&self) -> String {
        self.signer.vkey()
    }

    fn state_path(&self, origin: &str) -> PathBuf {
        let name = hex::encode(&Sha256::digest(origin.as_bytes())[..16]);
        self.dir.join("state").join(name)
    }

    /// The last checkpoint cosigned for `origin`.
    fn latest(&self, origin: &str) -> Result<Option<Checkpoint>, String> {
        let path = self.state_path(origin);
        match std::fs::read_to_string(&path) {
            Ok(text) => Checkpoint::parse(&text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Records `checkpoint` durably: temporary file, fsync, rename, fsync of the directory.
    fn persist(&self, checkpoint: &Checkpoint) -> std::io::Result<()> {
        let path = self.state_path(&checkpoint.origin);
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(checkpoint.to_string().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

/// Reads the witness key (`<name>\n<hex seed>\n`, mode 0600) or creates it from OS
/// randomness.
fn load_or_create_key(dir: &Path, name: &str) -> Result<CosignatureSigner, WitnessError> {
    let path = dir.join(KEY_FILE);
    let bad = |why: &str| WitnessError::Key(format!("{}: {why}", path.display()));
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let mut lines = text.lines();
            let (Some(name), Some(seed)) = (lines.next(), lines.next()) else {
                return Err(bad("expected a name line and a seed line"));
            };
            let seed: [u8; 32] = hex::decode(seed)
                .ok()
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| bad("the seed is not 32 bytes of hex"))?;
            CosignatureSigner::from_seed(name, &seed).map_err(|e| bad(&e.to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            rand::fill(&mut seed);
            let signer =
                CosignatureSigner::from_seed(name, &seed).map_err(|e| bad(&e.to_string()))?;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&path).map_err(io(&path))?;
            writeln!(f, "{name}\n{}", hex::encode(seed)).map_err(io(&path))?;
            f.sync_all().map_err(io(&path))?;
            Ok(signer)
        }
        Err(e) => Err(io(&path)(e)),
    }
}

/// The witness's routes: `POST /add-checkpoint`.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .with_state(witness)
}

/// Serves [`router`] on `listener` until `shutdown` resolves.
pub async fn run(
    listener: tokio::net::TcpListener,
    witness: Arc<Witness>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(witness))
        .with_graceful_shutdown(shutdown)
        .await
}

fn text(status: StatusCode, body: String) -> Response {
    (status, body).into_response()
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    let request = match AddCheckpoint::parse(&body) {
        Ok(r) => r,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let origin = match request.origin() {
        Ok(o) => o,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let Some(verifier) = w.logs.get(&origin) else {
        return text(StatusCode::NOT_FOUND, format!("unknown log {origin:?}\n"));
    };
    let _one_at_a_time = w.lock.lock().await;
    let latest = match w.latest(&origin) {
        Ok(l) => l,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    };
    let known = latest.as_ref().map(|c| (c.size, c.root));
    let checkpoint = match check_add_checkpoint(&request, &[verifier], known) {
        Ok((c, _)) => c,
        Err(e) => {
            let status = StatusCode::from_u16(add_checkpoint_status(&e))
                .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            if status == StatusCode::CONFLICT {
                // C2SP tlog-witness: the size the witness knows, for the client to retry.
                let mut r = text(status, format!("{}\n", known.map_or(0, |k| k.0)));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/x.tlog.size"),
                );
                return r;
            }
            return text(status, format!("{e}\n"));
        }
    };
    // Persisted before replying: a witness must never forget what it cosigned.
    if let Err(e) = w.persist(&checkpoint) {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("saving state: {e}\n"),
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match w.signer.cosign(&checkpoint, now) {
        Ok(sig) => text(StatusCode::OK, sig.to_line()),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}
