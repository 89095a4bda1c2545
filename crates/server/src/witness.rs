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
//! Logs push checkpoints to it, or it follows a log itself ([`follow`], `entente witness
//! --log URL`): it polls the log's `/log/checkpoint`, fetches a consistency proof from the
//! size it cosigned last (`/log/proof/consistency`), and puts the pair through the very same
//! checks as a pushed request. A followed log that shows a tree inconsistent with what the
//! witness cosigned before — a rewritten history, or a restored backup that forgot entries —
//! is recorded as evidence (both checkpoints, in `evidence/`) and reported. The latest
//! cosigned note of each log is served at `GET /cosigned?origin=ORIGIN`, so readers can
//! collect cosignatures from a following witness too.

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
    /// The latest note cosigned per origin since start, with the cosignature appended.
    cosigned: std::sync::Mutex<HashMap<String, String>>,
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
            cosigned: std::sync::Mutex::new(HashMap::new()),
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

/// The witness's routes: `POST /add-checkpoint`, `GET /cosigned?origin=ORIGIN`.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/cosigned", axum::routing::get(cosigned))
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
    match w.add(&request).await {
        Ok(line) => text(StatusCode::OK, line),
        Err(Refusal::Conflict(known)) => {
            // C2SP tlog-witness: the size the witness knows, for the client to retry.
            let mut r = text(StatusCode::CONFLICT, format!("{known}\n"));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/x.tlog.size"),
            );
            r
        }
        Err(Refusal::Other(status, why)) => text(
            StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            format!("{why}\n"),
        ),
    }
}

/// Why [`Witness::add`] did not cosign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The request's `old` is not the size the witness last cosigned, which is this (409).
    Conflict(u64),
    /// Any other refusal: the HTTP status C2SP tlog-witness assigns, and why.
    Other(u16, String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Conflict(known) => write!(f, "the witness last cosigned size {known}"),
            Refusal::Other(status, why) => write!(f, "{why} (HTTP {status})"),
        }
    }
}

impl Witness {
    /// Checks an `add-checkpoint` request against the log's key and the last checkpoint
    /// cosigned for its origin, records the new checkpoint durably, and returns the
    /// `cosignature/v1` line. Requests are handled one at a time.
    pub async fn add(&self, request: &AddCheckpoint) -> Result<String, Refusal> {
        let origin = request
            .origin()
            .map_err(|e| Refusal::Other(400, e.to_string()))?;
        let Some(verifier) = self.logs.get(&origin) else {
            return Err(Refusal::Other(404, format!("unknown log {origin:?}")));
        };
        let _one_at_a_time = self.lock.lock().await;
        let latest = self.latest(&origin).map_err(|e| Refusal::Other(500, e))?;
        let known = latest.as_ref().map(|c| (c.size, c.root));
        let checkpoint = match check_add_checkpoint(request, &[verifier], known) {
            Ok((c, _)) => c,
            Err(e) => {
                let status = add_checkpoint_status(&e);
                if status == 409 {
                    return Err(Refusal::Conflict(known.map_or(0, |k| k.0)));
                }
                return Err(Refusal::Other(status, e.to_string()));
            }
        };
        // Persisted before replying: a witness must never forget what it cosigned.
        self.persist(&checkpoint)
            .map_err(|e| Refusal::Other(500, format!("saving state: {e}")))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let line = self
            .signer
            .cosign(&checkpoint, now)
            .map_err(|e| Refusal::Other(500, e.to_string()))?
            .to_line();
        let mut note = String::from_utf8_lossy(&request.checkpoint).into_owned();
        note.push_str(&line);
        if let Ok(mut cosigned) = self.cosigned.lock() {
            cosigned.insert(origin, note);
        }
        Ok(line)
    }

    /// The size of the last checkpoint cosigned for `origin` (0 when none).
    pub fn known_size(&self, origin: &str) -> Result<u64, String> {
        Ok(self.latest(origin)?.map_or(0, |c| c.size))
    }

    /// Writes evidence of a log showing a history inconsistent with what this witness
    /// cosigned: the last cosigned checkpoint and the offending note, side by side.
    fn record_evidence(
        &self,
        origin: &str,
        offending: &str,
        why: &str,
    ) -> std::io::Result<PathBuf> {
        let dir = self.dir.join("evidence");
        std::fs::create_dir_all(&dir)?;
        let cosigned = self
            .latest(origin)
            .ok()
            .flatten()
            .map(|c| c.to_string())
            .unwrap_or_default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = dir.join(format!(
            "{}-{now}.txt",
            hex::encode(&Sha256::digest(origin.as_bytes())[..8])
        ));
        let body = format!(
            "origin: {origin}\nwhy: {why}\n\n-- last checkpoint cosigned by this witness --\n{cosigned}\n-- checkpoint the log served --\n{offending}"
        );
        std::fs::write(&path, body)?;
        Ok(path)
    }
}

/// `GET /cosigned?origin=ORIGIN`: the latest note this witness cosigned for the log, with
/// the log's signature and this witness's cosignature.
async fn cosigned(
    State(w): State<Arc<Witness>>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let Some(origin) = q.get("origin") else {
        return text(StatusCode::BAD_REQUEST, "origin is required\n".into());
    };
    let note = w.cosigned.lock().ok().and_then(|m| m.get(origin).cloned());
    match note {
        Some(note) => text(StatusCode::OK, note),
        None => text(
            StatusCode::NOT_FOUND,
            format!("nothing cosigned for {origin:?} since this witness started\n"),
        ),
    }
}

/// What one poll of a followed log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowOutcome {
    /// The log's checkpoint was new and consistent: cosigned at this size.
    Cosigned(u64),
    /// The log has not grown since the checkpoint cosigned last (this size).
    Unchanged(u64),
}

/// Why following a log failed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The log could not be reached or answered something unreadable; worth retrying.
    #[error("reading the log: {0}")]
    Unreachable(String),
    /// The log showed a history inconsistent with what this witness cosigned (a fork,
    /// a rewrite or a rollback); evidence was written to the given file.
    #[error(
        "the log {origin} is inconsistent with what this witness cosigned: {why} (evidence: {evidence})"
    )]
    Inconsistent {
        /// The log's origin.
        origin: String,
        /// What did not hold.
        why: String,
        /// The evidence file.
        evidence: String,
    },
    /// The log's checkpoint was refused for another reason (bad signature, unknown log).
    #[error("the log's checkpoint was refused: {0}")]
    Refused(String),
}

/// Polls the log at `log_url` (its base URL) once: fetches its checkpoint and, when it
/// grew, a consistency proof from the size cosigned last, and cosigns through the same
/// checks as `add-checkpoint`.
pub async fn follow_once(
    witness: &Witness,
    http: &reqwest::Client,
    log_url: &str,
) -> Result<FollowOutcome, FollowError> {
    let base = log_url.trim_end_matches('/');
    let unreachable = |e: reqwest::Error| FollowError::Unreachable(e.to_string());
    let r = http
        .get(format!("{base}/log/checkpoint"))
        .send()
        .await
        .map_err(unreachable)?;
    if !r.status().is_success() {
        return Err(FollowError::Unreachable(format!(
            "GET /log/checkpoint: HTTP {}",
            r.status()
        )));
    }
    let note = r.bytes().await.map_err(unreachable)?.to_vec();
    let text = String::from_utf8_lossy(&note).into_owned();
    let body = text.split("\n\n").next().unwrap_or_default();
    let served = Checkpoint::parse(&format!("{body}\n"))
        .map_err(|e| FollowError::Refused(format!("unreadable checkpoint: {e}")))?;
    let origin = served.origin.clone();
    let known = witness
        .known_size(&origin)
        .map_err(FollowError::Unreachable)?;
    let inconsistent = |why: String| {
        let evidence = witness
            .record_evidence(&origin, &text, &why)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|e| format!("not written: {e}"));
        tracing::error!(%origin, %why, %evidence, "log inconsistent with its cosigned history");
        FollowError::Inconsistent {
            origin: origin.clone(),
            why,
            evidence,
        }
    };
    if served.size < known {
        return Err(inconsistent(format!(
            "the log serves a tree of {} entries after this witness cosigned {known}",
            served.size
        )));
    }
    let proof = if served.size == known || known == 0 {
        Vec::new()
    } else {
        let r = http
            .get(format!(
                "{base}/log/proof/consistency?old={known}&size={}",
                served.size
            ))
            .send()
            .await
            .map_err(unreachable)?;
        if !r.status().is_success() {
            return Err(FollowError::Unreachable(format!(
                "GET /log/proof/consistency: HTTP {}",
                r.status()
            )));
        }
        let json: serde_json::Value = r.json().await.map_err(unreachable)?;
        decode_proof(&json).map_err(|e| FollowError::Refused(format!("consistency proof: {e}")))?
    };
    let request = AddCheckpoint {
        old: known,
        proof,
        checkpoint: note,
    };
    match witness.add(&request).await {
        Ok(_) if served.size == known => Ok(FollowOutcome::Unchanged(known)),
        Ok(_) => Ok(FollowOutcome::Cosigned(served.size)),
        // 422: the proof does not lead from what was cosigned to what is served.
        Err(Refusal::Other(422, why)) => Err(inconsistent(why)),
        Err(Refusal::Conflict(k)) => Err(FollowError::Unreachable(format!(
            "the witness's state moved to size {k} meanwhile"
        ))),
        Err(e) => Err(FollowError::Refused(e.to_string())),
    }
}

/// The hashes of a `{"proof": [base64, …]}` answer.
fn decode_proof(json: &serde_json::Value) -> Result<Vec<tlog::Hash>, String> {
    use base64::Engine as _;
    let items = json
        .get("proof")
        .and_then(|p| p.as_array())
        .ok_or("no proof array")?;
    items
        .iter()
        .map(|item| {
            let b64 = item.as_str().ok_or("a proof item is not a string")?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| e.to_string())?;
            tlog::Hash::try_from(bytes.as_slice())
                .map_err(|_| "a proof hash is not 32 bytes".to_string())
        })
        .collect()
}

/// Follows the log at `log_url` until `shutdown` resolves: [`follow_once`] every `every`.
/// Unreachable logs are retried; an inconsistent log is reported on every poll (its
/// evidence kept) and the witness keeps its state, so it never cosigns the other history.
pub async fn follow(
    witness: Arc<Witness>,
    log_url: String,
    every: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()> + Send,
) {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    tokio::pin!(shutdown);
    loop {
        match follow_once(&witness, &http, &log_url).await {
            Ok(FollowOutcome::Cosigned(size)) => tracing::info!(log = %log_url, size, "cosigned"),
            Ok(FollowOutcome::Unchanged(_)) => {}
            Err(e @ FollowError::Inconsistent { .. }) => tracing::error!(log = %log_url, "{e}"),
            Err(e) => tracing::warn!(log = %log_url, "{e}"),
        }
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
