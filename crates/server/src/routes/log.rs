//! `/log/`: the transparency log, readable without a token (DESIGN.md "The transparency
//! log"; issue 6, item 3).
//!
//! * The C2SP tlog-tiles read API: `checkpoint` (a C2SP signed note over a
//!   tlog-checkpoint body, origin = the log's key name), `tile/<L>/<N>[.p/<W>]` (256 × 32-byte
//!   hashes of tree level 8·L, RFC 9162 nodes) and `tile/entries/<N>[.p/<W>]` (entry
//!   bundles of DESIGN.md's entries). Tiles are served for the tree of the latest
//!   checkpoint, and partial tiles of the earlier ones (the same bytes, a prefix of what
//!   is there now); a tile's bytes never change, so tiles are cacheable forever, the
//!   checkpoint only briefly.
//! * JSON proofs for clients that do not walk tiles: `proof/inclusion?index=N&size=S`,
//!   `proof/consistency?old=M&size=S` (RFC 9162 §2.1.3, §2.1.4; base64 hashes), for sizes up
//!   to the latest checkpoint's.
//! * `lookup?collection=C&id=ID&version=V`: the index and entry of an object version, for a
//!   caller who may read that version (the answer confirms that it exists, so it follows
//!   the TAXII routes' rule: what a caller may not see is a 404).
//!
//! Checkpoints are signed by [`LogSigner`] at most once per interval (1 s by default) and
//! only when the tree has grown, so heavy ingest does not sign per object; each one signed
//! is recorded with [`store::Store::save_checkpoint`]. Ed25519 signatures are
//! deterministic, so signing the same tree head again yields the same note. Configured
//! witnesses ([`LogSigner::with_witnesses`]) are asked, all at once and off the request
//! path, to cosign each new checkpoint with a C2SP tlog-witness `add-checkpoint` request;
//! the checkpoint is published with their `cosignature/v1` lines once they answered, readers
//! get the previous one meanwhile, and a witness that is down costs only its cosignature.
//!
//! What it deliberately doesn't do: TAXII content negotiation (C2SP clients send no TAXII
//! `Accept`; [`router`] is merged outside that layer) or any write.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tlog::tiles::{TileKind, encode_entry_bundle, parse_tile_path};
use tlog::{Checkpoint, Ed25519Signer, NoteSigner as _};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// `Cache-Control` of tiles: their content at a path never changes (C2SP tlog-tiles).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of the checkpoint: it moves on as the log grows.
const SHORT: &str = "public, max-age=1";

/// Default shortest time between two signed checkpoints.
pub const DEFAULT_SIGN_INTERVAL: Duration = Duration::from_secs(1);

/// The log's signing key, its witnesses and the latest checkpoint it signed.
pub struct LogSigner {
    signer: Ed25519Signer,
    interval: Duration,
    latest: Arc<tokio::sync::Mutex<Option<Published>>>,
    witnesses: Arc<[WitnessClient]>,
    /// Set while a background task signs and collects cosignatures for a new checkpoint.
    refreshing: Arc<AtomicBool>,
    http: reqwest::Client,
}

/// A C2SP tlog-witness this log asks to cosign each new checkpoint.
struct WitnessClient {
    /// Its `add-checkpoint` URL.
    url: String,
    /// The size it last cosigned, as far as this server knows (it says so in a 409).
    /// Requests to one witness are serialised by this lock, so the size only moves forward.
    known: tokio::sync::Mutex<u64>,
}

/// How long one witness may take to answer.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(5);

/// A signed checkpoint the server serves.
#[derive(Clone, Debug)]
pub struct Published {
    /// Its tree size.
    pub size: u64,
    /// The signed note.
    pub note: Arc<str>,
    /// When it was last found current.
    checked: Instant,
}

impl LogSigner {
    /// A signer that signs a new checkpoint at most once per `interval`. The origin is the
    /// key's name (C2SP tlog-checkpoint: the key name SHOULD equal the origin).
    pub fn new(signer: Ed25519Signer, interval: Duration) -> LogSigner {
        LogSigner {
            signer,
            interval,
            latest: Arc::new(tokio::sync::Mutex::new(None)),
            witnesses: Arc::new([]),
            refreshing: Arc::new(AtomicBool::new(false)),
            http: reqwest::Client::new(),
        }
    }

    /// The same signer asking the witnesses at these `add-checkpoint` URLs to cosign each
    /// new checkpoint (C2SP tlog-witness); their `cosignature/v1` lines are served with it.
    pub fn with_witnesses(mut self, urls: Vec<String>) -> LogSigner {
        self.witnesses = urls
            .into_iter()
            .map(|url| WitnessClient {
                url,
                known: tokio::sync::Mutex::new(0),
            })
            .collect();
        self.http = reqwest::Client::builder()
            .timeout(WITNESS_TIMEOUT)
            .build()
            .unwrap_or_default();
        self
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The C2SP verifier key of the log.
    pub fn vkey(&self) -> String {
        self.signer.vkey()
    }

    /// The checkpoint to serve: the last one published while it is younger than the
    /// interval or the tree has not grown, else a new one over the current tree head.
    ///
    /// Without witnesses the new checkpoint is signed and published at once. With witnesses
    /// it is published only once they have answered (or timed out), as C2SP tlog-witness
    /// expects of a log; that happens in a background task, and meanwhile readers keep
    /// getting the previous checkpoint, so a slow or dead witness never delays a reader.
    /// Only the very first checkpoint, when there is no previous one, is waited for.
    pub async fn current(&self, store: &Arc<dyn store::Store>) -> Result<Published, ApiError> {
        let mut latest = self.latest.lock().await;
        if let Some(p) = latest
            .as_ref()
            .filter(|p| p.checked.elapsed() < self.interval)
        {
            return Ok(p.clone());
        }
        let (size, root) = store.log_head().await?;
        if let Some(p) = latest.as_mut().filter(|p| p.size == size) {
            p.checked = Instant::now();
            return Ok(p.clone());
        }
        let note = self.sign(size, root)?;
        if self.witnesses.is_empty() {
            let published = publish(store.as_ref(), size, note).await?;
            *latest = Some(published.clone());
            return Ok(published);
        }
        if let Some(previous) = latest.clone() {
            // Serve the previous checkpoint while the witnesses are asked (at most one
            // round in flight: later growth is picked up by the next round).
            if !self.refreshing.swap(true, Ordering::AcqRel) {
                let round = self.round(store.clone(), size, note);
                let refreshing = self.refreshing.clone();
                tokio::spawn(async move {
                    if let Err(e) = round.await {
                        tracing::warn!("publishing a checkpoint failed: {e:?}");
                    }
                    refreshing.store(false, Ordering::Release);
                });
            }
            return Ok(previous);
        }
        drop(latest);
        self.round(store.clone(), size, note).await
    }

    /// Signs the checkpoint of the tree of `size` entries with head `root`.
    fn sign(&self, size: u64, root: tlog::Hash) -> Result<String, ApiError> {
        let text = Checkpoint::new(self.origin(), size, root)
            .to_text()
            .map_err(|e| ApiError::Internal(format!("checkpoint: {e}")))?;
        tlog::sign(&text, &[], &[&self.signer])
            .map_err(|e| ApiError::Internal(format!("signing the checkpoint: {e}")))
    }

    /// One publication round: asks every witness at once to cosign `note` (the checkpoint
    /// of `size`), appends the cosignatures that came back, records and publishes the note
    /// unless a larger one was published meanwhile.
    fn round(
        &self,
        store: Arc<dyn store::Store>,
        size: u64,
        mut note: String,
    ) -> impl std::future::Future<Output = Result<Published, ApiError>> + Send + 'static {
        let witnesses = self.witnesses.clone();
        let http = self.http.clone();
        let latest = self.latest.clone();
        async move {
            let asks = (0..witnesses.len()).map(|i| {
                let (witnesses, http, store, note) =
                    (witnesses.clone(), http.clone(), store.clone(), note.clone());
                tokio::spawn(async move {
                    let witness = &witnesses[i];
                    let answer = cosign(&http, store.as_ref(), witness, &note, size).await;
                    (i, answer)
                })
            });
            let asks: Vec<_> = asks.collect();
            let mut lines = vec![String::new(); witnesses.len()];
            for ask in asks {
                match ask.await {
                    Ok((i, Ok(l))) => lines[i] = l,
                    // A witness that is down or refuses costs its cosignature, not the log.
                    Ok((i, Err(e))) => {
                        tracing::warn!(witness = %witnesses[i].url, "no cosignature: {e}")
                    }
                    Err(e) => tracing::warn!("asking a witness failed: {e}"),
                }
            }
            // In configuration order, so the same answers give the same note.
            lines.iter().for_each(|l| note.push_str(l));
            let published = publish(store.as_ref(), size, note).await?;
            let mut latest = latest.lock().await;
            match latest.as_ref() {
                Some(p) if p.size >= size => Ok(p.clone()),
                _ => {
                    *latest = Some(published.clone());
                    Ok(published)
                }
            }
        }
    }
}

/// Records a signed checkpoint and wraps it for serving.
async fn publish(store: &dyn store::Store, size: u64, note: String) -> Result<Published, ApiError> {
    store.save_checkpoint(size, &note).await?;
    Ok(Published {
        size,
        note: note.into(),
        checked: Instant::now(),
    })
}

/// Asks `witness` to cosign `note` (a checkpoint of `size`): C2SP tlog-witness
/// `add-checkpoint` with a consistency proof from the size it last cosigned; after a 409
/// naming another size, once more from that size. Returns its signature lines.
async fn cosign(
    http: &reqwest::Client,
    store: &dyn store::Store,
    witness: &WitnessClient,
    note: &str,
    size: u64,
) -> Result<String, String> {
    // One request at a time per witness, so what it knows only moves forward.
    let mut known = witness.known.lock().await;
    for _ in 0..2 {
        let old = *known;
        if old > size {
            return Err(format!("the witness has seen size {old}, beyond {size}"));
        }
        let proof = store
            .log_consistency_proof(old, size)
            .await
            .map_err(|e| e.to_string())?;
        let body = tlog::witness::AddCheckpoint {
            old,
            proof,
            checkpoint: note.as_bytes().to_vec(),
        }
        .to_bytes();
        let r = http
            .post(&witness.url)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let text = r.text().await.map_err(|e| e.to_string())?;
        match status {
            200 => {
                *known = size;
                return Ok(text);
            }
            409 => {
                *known = text
                    .trim()
                    .parse()
                    .map_err(|_| format!("409 without a size: {text:?}"))?;
            }
            _ => return Err(format!("HTTP {status}: {}", text.trim())),
        }
    }
    Err("the witness's size kept changing".into())
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("LogSigner")
            .field("origin", &self.origin())
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// The `/log/` routes, with request logging and the request timeout but without the TAXII
/// `Accept` check.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/tile/{*path}", get(tile))
        .route("/log/proof/inclusion", get(inclusion))
        .route("/log/proof/consistency", get(consistency))
        .route("/log/lookup", get(lookup))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::negotiate::timeout,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// The signer, or 404 when this server runs without a log key.
fn signer(state: &AppState) -> Result<&LogSigner, ApiError> {
    state.log.as_deref().ok_or(ApiError::NotFound("log"))
}

/// The latest published checkpoint.
async fn published(state: &AppState) -> Result<Published, ApiError> {
    signer(state)?.current(&state.store).await
}

/// A response with a body, a content type and a cache policy.
fn bytes(
    body: impl Into<axum::body::Body>,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    let mut r = Response::new(body.into());
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

/// `GET /log/checkpoint`.
async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let p = published(&state).await?;
    Ok(bytes(
        p.note.to_string(),
        "text/plain; charset=utf-8",
        SHORT,
    ))
}

/// `GET /log/tile/...`: hash tiles and entry bundles of the latest checkpoint's tree.
async fn tile(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let (kind, tile) =
        parse_tile_path(&format!("tile/{path}")).map_err(|_| ApiError::NotFound("tile"))?;
    let p = published(&state).await?;
    // Within, not exactly in, the latest tree: a partial tile of an earlier checkpoint is
    // still the same bytes, and a reader that fetched that checkpoint just before the next
    // one was signed asks for it (it got a 404 here before).
    tile.check_within(p.size)
        .map_err(|_| ApiError::NotFound("tile"))?;
    let body = match kind {
        TileKind::Hashes => {
            let ids = tile.node_ids().map_err(|_| ApiError::NotFound("tile"))?;
            let hashes = state.store.log_nodes(ids).await?;
            hashes.concat()
        }
        TileKind::Entries => {
            let (start, end) = tile.entry_range();
            let leaves = state.store.log_leaves(start, end - start).await?;
            if leaves.len() as u64 != end - start {
                return Err(ApiError::Internal(format!(
                    "log entries {start}..{end} are not all stored"
                )));
            }
            encode_entry_bundle(leaves.iter().map(|l| l.entry.as_slice()))
                .map_err(|e| ApiError::Internal(format!("entry bundle: {e}")))?
        }
    };
    Ok(bytes(body, "application/octet-stream", IMMUTABLE))
}

/// Query parameters with a TAXII 400 instead of axum's plain-text rejection.
fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

/// Refuses sizes beyond the latest checkpoint: only signed tree heads are proven against.
fn within(size: u64, p: &Published) -> Result<(), ApiError> {
    if size > p.size {
        return Err(ApiError::BadRequest(format!(
            "size {size} is beyond the latest checkpoint's {}",
            p.size
        )));
    }
    Ok(())
}

fn base64_hashes(hashes: &[tlog::Hash]) -> Vec<String> {
    hashes.iter().map(tlog::checkpoint::format_hash).collect()
}

/// `?index=N&size=S`.
#[derive(Debug, Deserialize)]
pub struct InclusionParams {
    /// Leaf index.
    pub index: u64,
    /// Tree size.
    pub size: u64,
}

/// `GET /log/proof/inclusion?index=N&size=S` → `{"index", "size", "proof": [base64]}`.
async fn inclusion(
    State(state): State<AppState>,
    q: Result<Query<InclusionParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    within(q.size, &published(&state).await?)?;
    let proof = state.store.log_inclusion_proof(q.index, q.size).await?;
    Ok(axum::Json(serde_json::json!({
        "index": q.index,
        "size": q.size,
        "proof": base64_hashes(&proof),
    }))
    .into_response())
}

/// `?old=M&size=S`.
#[derive(Debug, Deserialize)]
pub struct ConsistencyParams {
    /// The older tree size.
    pub old: u64,
    /// The newer tree size.
    pub size: u64,
}

/// `GET /log/proof/consistency?old=M&size=S` → `{"old", "size", "proof": [base64]}`.
async fn consistency(
    State(state): State<AppState>,
    q: Result<Query<ConsistencyParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    within(q.size, &published(&state).await?)?;
    let proof = state.store.log_consistency_proof(q.old, q.size).await?;
    Ok(axum::Json(serde_json::json!({
        "old": q.old,
        "size": q.size,
        "proof": base64_hashes(&proof),
    }))
    .into_response())
}

/// `?collection=C&id=ID&version=V`.
#[derive(Debug, Deserialize)]
pub struct LookupParams {
    /// Collection id.
    pub collection: String,
    /// STIX id.
    pub id: String,
    /// The version text (`modified`, else `created`, else the date_added of an
    /// unversioned object), as in the entry's commitment.
    pub version: String,
}

/// `GET /log/lookup?collection=C&id=ID&version=V` → `{"index", "entry"}`.
async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<LookupParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    signer(&state)?;
    let not_found = || ApiError::NotFound("log entry");
    let Some((_, access)) = state.store.access(caller.0.as_ref(), &q.collection).await? else {
        return Err(not_found());
    };
    if !access.read {
        return Err(not_found());
    }
    // The version must be one the caller may read (TLP ceiling), or the answer would
    // confirm an object hidden from them.
    let version = stix::Timestamp::parse(&q.version).map_err(|_| not_found())?;
    let visible = state
        .store
        .get_object(
            &q.collection,
            &q.id,
            &store::ObjectQuery {
                versions: vec![store::VersionMatch::At(version)],
                limit: 1,
                max_tlp: access.max_tlp,
                ..Default::default()
            },
        )
        .await?;
    if visible.items.is_empty() {
        return Err(not_found());
    }
    let (index, entry) = state
        .store
        .log_lookup(&q.collection, &q.id, &q.version)
        .await?
        .ok_or_else(not_found)?;
    let entry = String::from_utf8(entry)
        .map_err(|_| ApiError::Internal(format!("log entry {index} is not UTF-8")))?;
    Ok(axum::Json(serde_json::json!({ "index": index, "entry": entry })).into_response())
}
