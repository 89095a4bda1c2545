//! `entente verify`: check a server's transparency log as a reader who does not trust it
//! (DESIGN.md "The transparency log"; issue 6, item 4).
//!
//! 1. Fetch `/log/checkpoint` and check its C2SP signed-note signature with the verifier key
//!    given on the command line, and that its origin is the key's name; with `--witness`,
//!    check that a quorum of the given witnesses cosigned it (C2SP `cosignature/v1`).
//! 2. Compare it with the last checkpoint this user saw of that log (the state file): a
//!    smaller tree, a different root at the same size, or a failing RFC 9162 §2.1.4
//!    consistency proof is a fork or a rewrite, reported with both checkpoints. Only a
//!    checkpoint that passed is stored, atomically (temporary file, then rename).
//! 3. With `--collection`, pull every object version the token may read and check each
//!    one's inclusion: recompute its entry (DESIGN.md: collection id, STIX id, version,
//!    date_added, SHA-256 of the bytes served), find its index with `/log/lookup`, compare
//!    the logged entry with the recomputed one, and check the RFC 9162 §2.1.3 inclusion
//!    proof against the verified checkpoint. Versions verified on an earlier run that are
//!    gone now must have a `delete` entry in the log, or they were withdrawn silently.
//!
//! Exit status: 0 when everything holds, 1 with the exact cause when something does not
//! (bad signature, inconsistent history, missing or altered object), 2 for usage and I/O
//! errors (unreachable server, unreadable state file), as everywhere in the CLI.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use futures_util::stream::{self, StreamExt as _, TryStreamExt as _};
use sha2::{Digest, Sha256};
use taxii::client::Filter;
use tlog::{Checkpoint, Ed25519Verifier, NoteVerifier as _};

use super::remote::{RemoteArgs, runtime};

/// Check a server's transparency log: signature, consistency, inclusion of objects.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  entente verify --server http://127.0.0.1:7350 --key 'entente/host+1a2b3c4d+AX...'
  entente verify --server http://127.0.0.1:7350 --key \"$VKEY\" --collection ID --token T

The key is what `entente serve` and `entente admin log key` print. The last checkpoint
seen is kept per log under $XDG_CONFIG_HOME/entente/verify-state/ (or --state), so the
next run refuses a server that rewrote or forked its history.
Exit status: 0 all holds, 1 a check failed (the cause is printed), 2 usage or I/O error.")]
pub struct Args {
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// The log's verifier key (C2SP vkey: <name>+<key id>+<base64 key>)
    #[arg(long, value_name = "VKEY")]
    pub key: String,
    /// File keeping the last checkpoint seen [default: $XDG_CONFIG_HOME/entente/verify-state/<origin hash>]
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Also check that every object of this collection visible to the token is in the log
    #[arg(long, value_name = "ID")]
    pub collection: Option<String>,
    /// A witness's cosignature verifier key (repeatable); see --quorum
    #[arg(long = "witness", value_name = "VKEY")]
    pub witnesses: Vec<String>,
    /// How many of the --witness keys must have cosigned the checkpoint [default: all]
    #[arg(long, value_name = "K", requires = "witnesses")]
    pub quorum: Option<usize>,
}

/// A failed check: the reader has proof the server misbehaved (exit 1).
#[derive(Debug)]
struct Failure(String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

fn fail<T>(msg: impl Into<String>) -> Result<T> {
    Err(Failure(msg.into()).into())
}

/// Runs the checks; see the module docs for the exit status.
pub fn run(args: Args) -> ExitCode {
    let outcome = runtime().and_then(|rt| rt.block_on(verify(args)));
    match outcome {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) if e.downcast_ref::<Failure>().is_some() => {
            eprintln!("entente verify: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("entente verify: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The server's base URL: `--server` without a trailing `/taxii2/` or `/`.
fn base_url(server: &str) -> String {
    let s = server.trim_end_matches('/');
    s.strip_suffix("/taxii2").unwrap_or(s).to_owned()
}

/// The default state file of a log: one file per origin, named by the origin's hash (an
/// origin may hold `/`).
fn default_state(origin: &str) -> Result<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })
        .context("neither XDG_CONFIG_HOME nor HOME is set; pass --state")?;
    let name = hex::encode(&Sha256::digest(origin.as_bytes())[..16]);
    Ok(config.join("entente").join("verify-state").join(name))
}

/// GET `url` (with the token, if any) and return the body of a 200.
async fn get(http: &reqwest::Client, url: &str, token: Option<&str>) -> Result<(u16, Vec<u8>)> {
    let mut req = http.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.with_context(|| format!("GET {url}"))?;
    let status = r.status().as_u16();
    let body = r.bytes().await.with_context(|| format!("reading {url}"))?;
    Ok((status, body.to_vec()))
}

/// GET a JSON document that must be a 200.
async fn get_json(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
) -> Result<serde_json::Value> {
    let (status, body) = get(http, url, token).await?;
    if status != 200 {
        bail!(
            "GET {url}: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    serde_json::from_slice(&body).with_context(|| format!("GET {url}: not JSON"))
}

/// The `proof` array of a proof answer.
fn proof_hashes(v: &serde_json::Value) -> Result<Vec<tlog::Hash>> {
    v["proof"]
        .as_array()
        .context("proof answer without a proof array")?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(tlog::checkpoint::parse_hash)
                .context("proof hash is not base64 of 32 bytes")
        })
        .collect()
}

async fn verify(args: Args) -> Result<String> {
    let mut session = open_log(
        &args.remote,
        &args.key,
        args.state.clone(),
        args.witnesses.clone(),
        args.quorum,
    )
    .await?;
    // 3. Inclusion of every object the token may read (this may move to a newer
    // checkpoint, itself checked for consistency, when objects are newer than it).
    let mut checked = 0usize;
    if let Some(collection) = &args.collection {
        let held = session.state.with_extension("objects");
        checked = check_collection(&mut session.log, &args.remote, collection, &held).await?;
    }
    let mut summary = session.finish()?;
    if args.collection.is_some() {
        summary.push_str(&format!("; {checked} object versions included"));
    }
    Ok(summary)
}

/// Whether an error of [`verify_pulled`] is a failed check (exit 1) rather than a usage
/// or I/O error (exit 2).
pub(crate) fn is_failure(e: &anyhow::Error) -> bool {
    e.downcast_ref::<Failure>().is_some()
}

/// `entente pull --verify`: the checks of `entente verify --collection`, for the objects
/// just pulled: the checkpoint's signature, its consistency with the state file, and the
/// inclusion of each object's recomputed entry. Silent withdrawals are not looked for (a
/// pull may be partial), so the list of held versions is left alone.
pub(crate) async fn verify_pulled(
    remote: &RemoteArgs,
    key: &str,
    state: Option<PathBuf>,
    collection: &str,
    objects: &[Box<serde_json::value::RawValue>],
) -> Result<String> {
    let mut session = open_log(remote, key, state, Vec::new(), None).await?;
    let client = remote.client()?;
    let c = remote.collection(&client, collection).await?;
    check_objects(&mut session.log, remote, &client, &c, objects).await?;
    let mut summary = session.finish()?;
    summary.push_str(&format!("; {} object versions included", objects.len()));
    Ok(summary)
}

/// A log after steps 1 and 2: its checkpoint verified and consistent with the state file.
struct Session {
    log: Log,
    seen: Option<Checkpoint>,
    state: PathBuf,
    /// The size of the checkpoint in the state file.
    saved: u64,
}

impl Session {
    /// Saves the newest checkpoint verified, if newer than the saved one; the summary.
    fn finish(&self) -> Result<String> {
        let current = &self.log.checkpoint;
        if self.saved < current.size {
            save_state(&self.state, &self.log.note)?;
        }
        let mut summary = format!(
            "ok: {} at size {} (root {})",
            current.origin,
            current.size,
            tlog::checkpoint::format_hash(&current.root)
        );
        if let Some(old) = &self.seen {
            summary.push_str(&format!(", consistent with size {} seen before", old.size));
        }
        Ok(summary)
    }
}

/// Steps 1 and 2: fetches the checkpoint, checks its signature (and cosignatures), and
/// its consistency with the last one seen.
async fn open_log(
    remote: &RemoteArgs,
    key: &str,
    state: Option<PathBuf>,
    witnesses: Vec<String>,
    quorum: Option<usize>,
) -> Result<Session> {
    let verifier = Ed25519Verifier::from_vkey(key.trim())
        .map_err(|e| anyhow::anyhow!("--key is not a verifier key: {e}"))?;
    let trust = Trust::Key(verifier);
    let base = base_url(&remote.server);
    let http = http_client(remote.timeout)?;

    // 1. The checkpoint and its signature (C2SP signed-note, tlog-checkpoint), and the
    // witnesses' cosignatures (C2SP tlog-cosignature) when asked for.
    let (current, note) = fetch_checkpoint(&http, &base, &trust).await?;
    if let (Trust::Key(verifier), false) = (&trust, witnesses.is_empty()) {
        check_quorum(&note, verifier, &witnesses, quorum)?;
    }

    // 2. Consistency with the last checkpoint seen (RFC 9162 §2.1.4).
    let state = match state {
        Some(p) => p,
        None => default_state(&current.origin)?,
    };
    let seen = match std::fs::read(&state) {
        Ok(bytes) => Some(trust.open(&bytes).map_err(|e| {
            anyhow::anyhow!(
                "state file {} does not hold a checkpoint of this log: the checkpoint {e}",
                state.display()
            )
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", state.display())),
    };
    if let Some(old) = &seen {
        check_consistent(&http, &base, old, &current).await?;
    }
    // Remembered before the objects are checked: a later rollback must be caught even if
    // an object check fails now.
    let mut saved = seen.as_ref().map_or(0, |old| old.size);
    if seen.is_none() || saved < current.size {
        save_state(&state, &note)?;
        saved = current.size;
    }
    Ok(Session {
        log: Log {
            http,
            base,
            trust,
            checkpoint: current,
            note,
            witnesses,
            quorum,
        },
        seen,
        state,
        saved,
    })
}

/// The HTTP client of the log's routes: plain GETs with a whole-request timeout.
fn http_client(timeout_secs: u64) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(timeout_secs.max(1)))
        .build()
        .context("cannot create the HTTP client")
}

/// Fetches `/log/checkpoint` and checks its signature and origin (with a key), or its
/// origin and key id (pinned on first use).
async fn fetch_checkpoint(
    http: &reqwest::Client,
    base: &str,
    trust: &Trust,
) -> Result<(Checkpoint, Vec<u8>)> {
    let url = format!("{base}/log/checkpoint");
    let (status, note) = get(http, &url, None).await?;
    if status != 200 {
        bail!("GET {url}: HTTP {status}");
    }
    let checkpoint = trust
        .open(&note)
        .map_err(|e| Failure(format!("bad signature: the checkpoint from {url} {e}")))?;
    Ok((checkpoint, note))
}

/// Whose signature a checkpoint must carry.
pub(crate) enum Trust {
    /// The log's verifier key: every checkpoint's signature is checked with it.
    Key(Ed25519Verifier),
    /// Trust on first use, for a reader without the key: signatures cannot be checked, but
    /// every checkpoint must name this origin and carry a signature line of this key id, the
    /// ones seen first, and extend the checkpoints seen before (consistency proofs need no
    /// key).
    Pinned {
        /// The log's origin (its key's name).
        origin: String,
        /// The C2SP signed-note key id of the log's key.
        key_id: u32,
    },
}

impl Trust {
    /// The pin of a checkpoint note seen for the first time: its origin and the key id of
    /// the signature line named after it.
    pub(crate) fn first_use(note: &[u8]) -> Result<Trust> {
        let parsed = tlog::Note::parse(note).map_err(|e| {
            Failure(format!(
                "bad signature: the checkpoint is not a signed note: {e}"
            ))
        })?;
        let checkpoint = Checkpoint::parse(&parsed.text)
            .map_err(|e| Failure(format!("bad signature: not a checkpoint: {e}")))?;
        let Some(sig) = parsed
            .signatures
            .iter()
            .find(|s| s.name == checkpoint.origin)
        else {
            return fail(format!(
                "bad signature: the checkpoint of {:?} has no signature of its origin",
                checkpoint.origin
            ));
        };
        Ok(Trust::Pinned {
            origin: checkpoint.origin,
            key_id: sig.key_id,
        })
    }

    /// The checkpoint in `note` if it passes; otherwise why not (after "the checkpoint ").
    fn open(&self, note: &[u8]) -> std::result::Result<Checkpoint, String> {
        match self {
            Trust::Key(verifier) => {
                let checkpoint = tlog::open_checkpoint(note, &[verifier])
                    .map(|(c, _)| c)
                    .map_err(|e| format!("does not verify with the key: {e}"))?;
                if checkpoint.origin != verifier.name() {
                    return Err(format!(
                        "names origin {:?}, not the key's name {:?}",
                        checkpoint.origin,
                        verifier.name()
                    ));
                }
                Ok(checkpoint)
            }
            Trust::Pinned { origin, key_id } => {
                let parsed =
                    tlog::Note::parse(note).map_err(|e| format!("is not a signed note: {e}"))?;
                let checkpoint =
                    Checkpoint::parse(&parsed.text).map_err(|e| format!("is not one: {e}"))?;
                if checkpoint.origin != *origin {
                    return Err(format!(
                        "names origin {:?}, not {origin:?} trusted on first use",
                        checkpoint.origin
                    ));
                }
                if !parsed
                    .signatures
                    .iter()
                    .any(|s| s.name == *origin && s.key_id == *key_id)
                {
                    return Err(format!(
                        "is not signed by key id {key_id:08x} trusted on first use (the log's key changed)"
                    ));
                }
                Ok(checkpoint)
            }
        }
    }

    /// How a summary names it.
    pub(crate) fn describe(&self) -> String {
        match self {
            Trust::Key(v) => format!("key {}", v.name()),
            Trust::Pinned { origin, key_id } => {
                format!("{origin} key id {key_id:08x} trusted on first use")
            }
        }
    }
}

/// Fails unless at least `quorum` (default: all) of the witness keys validly cosigned the
/// note. A witness cosigns only checkpoints consistent with every one it cosigned before,
/// so a quorum of independent witnesses makes a split view detectable.
fn check_quorum(
    note: &[u8],
    log: &Ed25519Verifier,
    witnesses: &[String],
    quorum: Option<usize>,
) -> Result<()> {
    let keys = witnesses
        .iter()
        .map(|k| {
            tlog::CosignatureVerifier::from_vkey(k.trim())
                .map_err(|e| anyhow::anyhow!("--witness {k:?} is not a cosignature key: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let need = quorum.unwrap_or(keys.len());
    if need > keys.len() {
        bail!(
            "--quorum {need} is more than the {} witness keys given",
            keys.len()
        );
    }
    let mut verifiers: Vec<&dyn tlog::NoteVerifier> = vec![log];
    verifiers.extend(keys.iter().map(|k| k as &dyn tlog::NoteVerifier));
    let opened = match tlog::open(note, &verifiers) {
        Ok(o) => o,
        Err(e) => return fail(format!("bad signature: {e}")),
    };
    let cosigned = opened
        .verified
        .iter()
        .filter(|s| {
            keys.iter()
                .any(|k| k.name() == s.name && k.key_id() == s.key_id)
        })
        .count();
    if cosigned < need {
        return fail(format!(
            "witness quorum not met: {cosigned} of the {} witnesses cosigned the checkpoint, {need} required",
            keys.len()
        ));
    }
    Ok(())
}

/// The log being checked and the newest checkpoint verified so far.
pub(crate) struct Log {
    http: reqwest::Client,
    base: String,
    trust: Trust,
    checkpoint: Checkpoint,
    note: Vec<u8>,
    /// Witness keys and quorum every checkpoint moved to must meet, as the first did.
    witnesses: Vec<String>,
    quorum: Option<usize>,
}

/// How many times to wait for a checkpoint covering an object before calling it missing:
/// a server signs at most once a second, so objects can be a little newer than it.
const CHECKPOINT_WAITS: u32 = 5;

impl Log {
    /// Moves to a newer checkpoint covering `index`, checked for consistency with the
    /// current one; fails when none appears after a few seconds.
    async fn cover(&mut self, index: u64) -> Result<bool> {
        for _ in 0..CHECKPOINT_WAITS {
            if index < self.checkpoint.size {
                return Ok(true);
            }
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
            let (next, note) = fetch_checkpoint(&self.http, &self.base, &self.trust).await?;
            if let (Trust::Key(verifier), false) = (&self.trust, self.witnesses.is_empty()) {
                check_quorum(&note, verifier, &self.witnesses, self.quorum)?;
            }
            check_consistent(&self.http, &self.base, &self.checkpoint, &next).await?;
            (self.checkpoint, self.note) = (next, note);
        }
        Ok(index < self.checkpoint.size)
    }
}

/// Fails unless `new` extends `old` (same root at equal sizes; a verifying consistency
/// proof otherwise). A smaller tree than one already seen is a rollback.
async fn check_consistent(
    http: &reqwest::Client,
    base: &str,
    old: &Checkpoint,
    new: &Checkpoint,
) -> Result<()> {
    let both = || format!("\nseen before:\n{old}server now:\n{new}");
    if new.size < old.size {
        return fail(format!(
            "inconsistent history: the log shrank from {} to {} entries{}",
            old.size,
            new.size,
            both()
        ));
    }
    if new.size == old.size || old.size == 0 {
        if new.size == old.size && new.root != old.root {
            return fail(format!(
                "inconsistent history: two different trees of size {}{}",
                new.size,
                both()
            ));
        }
        return Ok(());
    }
    let url = format!(
        "{base}/log/proof/consistency?old={}&size={}",
        old.size, new.size
    );
    let proof = proof_hashes(&get_json(http, &url, None).await?)?;
    if let Err(e) = tlog::verify_consistency(old.size, new.size, &old.root, &new.root, &proof) {
        return fail(format!(
            "inconsistent history: the checkpoint does not extend the one seen before ({e}){}",
            both()
        ));
    }
    Ok(())
}

/// Writes the state file atomically: a temporary file in the same directory, synced,
/// then renamed over the old one.
fn save_state(path: &std::path::Path, note: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(note)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().with_context(|| format!("writing {}", path.display()))
}

/// Checks every readable version of `collection`; returns how many.
async fn check_collection(
    log: &mut Log,
    remote: &RemoteArgs,
    collection: &str,
    held_path: &std::path::Path,
) -> Result<usize> {
    let client = remote.client()?;
    let c = remote.collection(&client, collection).await?;
    let all = Filter {
        versions: vec!["all".into()],
        ..Filter::default()
    };
    let objects = client
        .objects(&c, all)
        .collect_all()
        .await
        .context("reading the collection's objects")?;
    let held_now = check_objects(log, remote, &client, &c, &objects).await?;
    check_withdrawals(log, &c.id, held_path, held_now).await?;
    Ok(objects.len())
}

/// Checks the inclusion of each of `objects` (as served by collection `c`): its entry,
/// recomputed with the manifest's `date_added`, must be the one the log recorded, and its
/// inclusion proof must verify against a checkpoint. Returns the versions checked.
async fn check_objects(
    log: &mut Log,
    remote: &RemoteArgs,
    client: &taxii::client::Client,
    c: &taxii::client::CollectionRef,
    objects: &[Box<serde_json::value::RawValue>],
) -> Result<Vec<Held>> {
    let all = Filter {
        versions: vec!["all".into()],
        ..Filter::default()
    };
    let manifest = client
        .manifest(c, all)
        .collect_all()
        .await
        .context("reading the collection's manifest")?;
    let mut added: HashMap<(String, String), String> = HashMap::new();
    let mut versions_of: HashMap<String, Vec<String>> = HashMap::new();
    for m in manifest {
        versions_of
            .entry(m.id.clone())
            .or_default()
            .push(m.version.clone());
        added.insert((m.id, m.version), m.date_added);
    }
    let token = match remote
        .token
        .clone()
        .or_else(|| std::env::var(super::remote::TOKEN_ENV).ok())
    {
        Some(t) if !t.is_empty() => Some(t),
        _ => None,
    };
    log.check_entries(token.as_deref(), &c.id, objects, &added, &versions_of)
        .await
}

impl Log {
    /// Steps 1 and 2 for `entente sync`: the log at `base` (a server URL without
    /// `/taxii2/`), its checkpoint checked with `trust`, and consistent with `seen` (a note
    /// the caller kept after checking it), if any.
    pub(crate) async fn open(
        base: &str,
        timeout_secs: u64,
        trust: Trust,
        seen: Option<&[u8]>,
    ) -> Result<Log> {
        let http = http_client(timeout_secs)?;
        let base = base_url(base);
        let (current, note) = fetch_checkpoint(&http, &base, &trust).await?;
        if let Some(seen) = seen {
            // The caller's own record of a checkpoint checked when it was kept, so its
            // signature is not asked for again: a key given now may replace one trusted on
            // first use, and the history must still extend what was seen.
            let old = tlog::Note::parse(seen)
                .ok()
                .and_then(|n| Checkpoint::parse(&n.text).ok())
                .context("the checkpoint kept in the sync state is not a checkpoint")?;
            if old.origin != current.origin {
                return fail(format!(
                    "inconsistent history: the log's origin is {:?}, not {:?} as before",
                    current.origin, old.origin
                ));
            }
            check_consistent(&http, &base, &old, &current).await?;
        }
        Ok(Log {
            http,
            base,
            trust,
            checkpoint: current,
            note,
            witnesses: Vec::new(),
            quorum: None,
        })
    }

    /// The signed note of the newest checkpoint checked, to keep for the next run.
    pub(crate) fn note(&self) -> &[u8] {
        &self.note
    }

    /// How the checkpoints were checked, for a summary.
    pub(crate) fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The newest checkpoint checked.
    pub(crate) fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Step 3 for `objects` of collection `collection_id`: each one's entry, recomputed
    /// with the `date_added` the manifest gave (`added`, by id and version; `versions_of`
    /// for objects with no version of their own), must be the one the log recorded, and
    /// its inclusion proof must verify against a checkpoint. Returns the versions checked.
    ///
    /// The look-ups and the proofs are independent requests, so up to
    /// `CONCURRENT_REQUESTS` of each are in flight at once (in order, so the first failing
    /// object is the one reported); one at a time, a page of 1,000 objects cost 2,000
    /// round trips end to end.
    pub(crate) async fn check_entries(
        &mut self,
        token: Option<&str>,
        collection_id: &str,
        objects: &[Box<serde_json::value::RawValue>],
        added: &HashMap<(String, String), String>,
        versions_of: &HashMap<String, Vec<String>>,
    ) -> Result<Vec<Held>> {
        let recomputed = objects
            .iter()
            .map(|raw| recompute_entry(collection_id, raw.get(), added, versions_of))
            .collect::<Result<Vec<_>>>()?;

        let (http, base) = (self.http.clone(), self.base.clone());
        let logged: Vec<(u64, String)> = stream::iter(recomputed.iter())
            .map(|r| look_up(&http, &base, token, collection_id, r))
            .buffered(CONCURRENT_REQUESTS)
            .try_collect()
            .await?;

        // One checkpoint for the whole page: wait (as `cover` does) until it holds the
        // newest entry; every other entry then lies inside it too.
        if let Some(newest) = logged.iter().map(|(index, _)| *index).max()
            && !self.cover(newest).await?
        {
            let size = self.checkpoint.size;
            let outside = recomputed
                .iter()
                .zip(&logged)
                .find(|(_, (i, _))| *i >= size);
            let (what, index) = match outside {
                Some((r, (index, _))) => (format!("{} version {}", r.id, r.version), *index),
                None => ("an object".to_owned(), newest),
            };
            return fail(format!(
                "missing object: {what} (index {index}) is not in the checkpoint of size {size}"
            ));
        }
        let checkpoint = &self.checkpoint;
        stream::iter(recomputed.iter().zip(&logged))
            .map(|(r, (index, _))| prove_inclusion(&http, &base, checkpoint, r, *index))
            .buffered(CONCURRENT_REQUESTS)
            .try_collect::<Vec<()>>()
            .await?;

        Ok(recomputed
            .into_iter()
            .zip(logged)
            .map(|(r, (index, entry))| Held {
                collection: collection_id.to_owned(),
                id: r.id,
                version: r.version,
                index,
                entry,
            })
            .collect())
    }
}

/// How many look-ups or proofs `Log::check_entries` keeps in flight: enough to hide the
/// round trip, few enough not to flood a server.
const CONCURRENT_REQUESTS: usize = 16;

/// One object's log entry as the reader recomputes it from what it received.
struct Recomputed {
    id: String,
    version: String,
    entry: Vec<u8>,
}

fn recompute_entry(
    collection_id: &str,
    text: &str,
    added: &HashMap<(String, String), String>,
    versions_of: &HashMap<String, Vec<String>>,
) -> Result<Recomputed> {
    let v: serde_json::Value = serde_json::from_str(text).context("an object is not JSON")?;
    let id = v["id"]
        .as_str()
        .context("an object without an id")?
        .to_owned();
    // The version the log commits to: `modified`, else `created`, else (objects with
    // neither) the one version the manifest lists.
    let version = match v["modified"].as_str().or(v["created"].as_str()) {
        Some(t) => t.to_owned(),
        None => match versions_of.get(&id).map(Vec::as_slice) {
            Some([only]) => only.clone(),
            _ => {
                return fail(format!(
                    "missing object: {id} has no single version in the manifest"
                ));
            }
        },
    };
    let Some(date_added) = added.get(&(id.clone(), version.clone())) else {
        return fail(format!(
            "missing object: {id} version {version} is not in the manifest"
        ));
    };
    let entry = tlog::entry_bytes(
        tlog::LogOp::Add,
        collection_id,
        &id,
        &version,
        date_added,
        text.as_bytes(),
    );
    Ok(Recomputed { id, version, entry })
}

/// The index and entry the log recorded for `r`'s version; fails unless the entry is the
/// recomputed one.
async fn look_up(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    collection_id: &str,
    r: &Recomputed,
) -> Result<(u64, String)> {
    let (id, version) = (&r.id, &r.version);
    let mut url = reqwest::Url::parse(&format!("{base}/log/lookup")).context("server URL")?;
    url.query_pairs_mut()
        .append_pair("collection", collection_id)
        .append_pair("id", id)
        .append_pair("version", version);
    let (status, body) = get(http, url.as_str(), token).await?;
    if status == 404 {
        return fail(format!(
            "missing object: {id} version {version} has no entry in the log"
        ));
    }
    if status != 200 {
        bail!("GET {url}: HTTP {status}");
    }
    let found: serde_json::Value =
        serde_json::from_slice(&body).context("lookup answer is not JSON")?;
    let index = found["index"]
        .as_u64()
        .context("lookup answer without an index")?;
    let logged = found["entry"]
        .as_str()
        .context("lookup answer without an entry")?;
    if logged.as_bytes() != r.entry.as_slice() {
        return fail(format!(
            "altered object: {id} version {version} differs from what the log recorded at index {index}\n  logged:     {logged}\n  recomputed: {}",
            String::from_utf8_lossy(&r.entry)
        ));
    }
    Ok((index, logged.to_owned()))
}

/// Fails unless the inclusion proof of `r`'s entry at `index` verifies against `checkpoint`.
async fn prove_inclusion(
    http: &reqwest::Client,
    base: &str,
    checkpoint: &Checkpoint,
    r: &Recomputed,
    index: u64,
) -> Result<()> {
    let url = format!(
        "{base}/log/proof/inclusion?index={index}&size={}",
        checkpoint.size
    );
    let proof = proof_hashes(&get_json(http, &url, None).await?)?;
    if let Err(e) = tlog::verify_inclusion(
        &tlog::leaf_hash(&r.entry),
        index,
        checkpoint.size,
        &proof,
        &checkpoint.root,
    ) {
        return fail(format!(
            "altered log: the entry of {} version {} at index {index} is not in the signed tree ({e})",
            r.id, r.version
        ));
    }
    Ok(())
}

/// An object version this reader verified once, remembered to catch a silent withdrawal.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Held {
    collection: String,
    id: String,
    version: String,
    index: u64,
    entry: String,
}

/// Fails when a version verified on an earlier run is gone without a `delete` entry in the
/// log (DESIGN.md: a deletion is logged like an addition). The delete entry of a version
/// repeats its add entry's fields with `"op": "delete"`; it is searched in the entry
/// bundles after the add entry (C2SP tlog-tiles) and its inclusion proven. The list of held
/// versions (`held_path`, JSON lines) is updated only when everything holds.
async fn check_withdrawals(
    log: &mut Log,
    collection: &str,
    held_path: &std::path::Path,
    held_now: Vec<Held>,
) -> Result<()> {
    let before: Vec<Held> = match std::fs::read_to_string(held_path) {
        Ok(text) => text
            .lines()
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .with_context(|| format!("{} is not a list of held objects", held_path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", held_path.display())),
    };
    let now: std::collections::HashSet<(&str, &str)> = held_now
        .iter()
        .map(|h| (h.id.as_str(), h.version.as_str()))
        .collect();
    for gone in before.iter().filter(|h| {
        h.collection == collection && !now.contains(&(h.id.as_str(), h.version.as_str()))
    }) {
        let fields: serde_json::Value =
            serde_json::from_str(&gone.entry).context("a held entry is not JSON")?;
        let field = |k: &str| fields[k].as_str().unwrap_or_default().to_owned();
        let delete = tlog::entry::entry_from_fields(
            tlog::LogOp::Delete,
            &field("object"),
            &field("date_added"),
            &field("sha256"),
        );
        // The deletion may be newer than the checkpoint (signed at most once a second):
        // search what it covers, then any newer checkpoint for a few seconds.
        let mut from = gone.index + 1;
        let found = loop {
            if let Some(i) = find_entry(log, &delete, from).await? {
                break Some(i);
            }
            let size = log.checkpoint.size;
            from = from.max(size);
            if !log.cover(size).await? {
                break None;
            }
        };
        match found {
            Some(index) => {
                let url = format!(
                    "{}/log/proof/inclusion?index={index}&size={}",
                    log.base, log.checkpoint.size
                );
                let proof = proof_hashes(&get_json(&log.http, &url, None).await?)?;
                if tlog::verify_inclusion(
                    &tlog::leaf_hash(&delete),
                    index,
                    log.checkpoint.size,
                    &proof,
                    &log.checkpoint.root,
                )
                .is_err()
                {
                    return fail(format!(
                        "altered log: the deletion of {} version {} at index {index} is not in the signed tree",
                        gone.id, gone.version
                    ));
                }
            }
            None => {
                return fail(format!(
                    "withdrawn object: {} version {} (logged at index {}) is gone without a delete entry in the log",
                    gone.id, gone.version, gone.index
                ));
            }
        }
    }
    let mut out = String::new();
    for h in before
        .iter()
        .filter(|h| h.collection != collection)
        .chain(&held_now)
    {
        out.push_str(&serde_json::to_string(h).context("encoding held objects")?);
        out.push('\n');
    }
    save_state(held_path, out.as_bytes())
}

/// The index of `entry` at or after `from` in the checkpointed log, read from the C2SP
/// tlog-tiles entry bundles.
async fn find_entry(log: &Log, entry: &[u8], from: u64) -> Result<Option<u64>> {
    let size = log.checkpoint.size;
    let mut tile_index = from / 256;
    while tile_index * 256 < size {
        let width = (size - tile_index * 256).min(256) as u16;
        let tile = tlog::tiles::Tile {
            level: 0,
            index: tile_index,
            width,
        };
        let url = format!("{}/log/{}", log.base, tile.entries_path());
        let (status, body) = get(&log.http, &url, None).await?;
        if status != 200 {
            bail!("GET {url}: HTTP {status}");
        }
        let entries = tlog::tiles::decode_entry_bundle(&body)
            .map_err(|e| anyhow::anyhow!("GET {url}: {e}"))?;
        for (i, e) in entries.iter().enumerate() {
            let index = tile_index * 256 + i as u64;
            if index >= from && *e == entry {
                return Ok(Some(index));
            }
        }
        tile_index += 1;
    }
    Ok(None)
}
