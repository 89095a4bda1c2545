//! `entente sync`: copy collections of any TAXII 2.1 server into a local collection (a data
//! directory or database) or into a collection of another TAXII server, incrementally
//! (issue 8, item 3).
//!
//! One pass pages through each `--from-collection` with `added_after` set to where the last
//! run stopped and `match[version]=all` (TAXII 2.1 §3.4.1, §3.4.2), writes each page at the
//! target, and only then records the stream's new position in the state file (written
//! atomically): the page's `X-TAXII-Date-Added-Last`, or for sources other than entente,
//! whose objects may share a `date_added`, the newest value nothing at or before which can
//! still come (`taxii::sync::Resume`). A crash therefore fetches again at most what came
//! after that position and never skips; objects the target already holds (same id and
//! version) count as unchanged, so every version arrives exactly once. Requests are
//! retried by the `taxii` client (429, 5xx, connection errors; exponential backoff with
//! jitter, `Retry-After` honoured).
//!
//! When the source is an entente server (it serves `/log/checkpoint`), its transparency log
//! is checked as `entente verify` does, with `verify`'s own functions: the checkpoint's
//! signature (with `--from-log-key`, or the origin and key id trusted on first use and kept
//! in the state file), its consistency with the last checkpoint seen, and the inclusion of
//! every pulled version's recomputed entry. A page that fails is not written, and the sync
//! stops with exit status 1.
//!
//! `--watch SECONDS` repeats the pass until Ctrl-C or SIGTERM, which stop it between pages.
//!
//! Exit status: 0 done (refused objects are listed but do not fail a sync), 1 the source's
//! log failed a check, 2 usage error or a failed request.
//!
//! Tests: `crates/cli/tests/sync.rs` (between two real `entente serve`s); the interop suite
//! (`interop/test_sync.py`) syncs from the OASIS reference server, medallion.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::value::RawValue;
use taxii::client::{Auth, Client, ClientOptions, CollectionRef, Filter, PushOptions};
use taxii::sync::{LogState, Resume, StreamKey, SyncState};

use super::local::{StoreArgs, StoreLocation};
use super::verify::{Log, Trust};

const AFTER_HELP: &str = "\
Each run continues where the last one stopped: the position (added_after) of every source
collection and target is kept in the state file, written only after a page's objects are
stored at the target. Objects already at the target (same id and version) count as
unchanged. When the source is an entente server, its transparency log is checked as
`entente verify` does; without --from-log-key the log's key id is trusted on first use.

Output: one line `fetched N, created N, unchanged N, refused N` per pass.
Exit status: 0 done, 1 the source's log failed a check, 2 usage error or failed request.

Examples:
  entente sync --from https://taxii.partner.example/taxii2/ --from-user me \\
      --from-password \"$PW\" --from-collection 91a7b528-80eb-42ed-a74d-c6fbd5a26116 \\
      --data ./entente-data --collection \"$ID\"
  entente sync --from http://peer:7350 --from-token \"$PEER_TOKEN\" --from-log-key \"$PEER_VKEY\" \\
      --from-collection A --from-collection B --server http://127.0.0.1:7350 --token \"$T\" \\
      --collection \"$ID\" --watch 60";

/// Copy TAXII 2.1 collections into a local or remote collection, incrementally.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The source TAXII server: its base URL or its discovery URL (…/taxii2/)
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// A source collection's id (repeatable)
    #[arg(long = "from-collection", value_name = "ID", required = true)]
    pub from_collections: Vec<String>,
    /// The source's API root: a name or a URL [default: the server's default root]
    #[arg(long, value_name = "ROOT")]
    pub from_api_root: Option<String>,
    /// Bearer token for the source
    #[arg(long, value_name = "TOKEN", conflicts_with = "from_user")]
    pub from_token: Option<String>,
    /// User name for HTTP Basic authentication at the source (with --from-password)
    #[arg(long, value_name = "NAME", requires = "from_password")]
    pub from_user: Option<String>,
    /// Password for HTTP Basic authentication at the source
    #[arg(long, value_name = "PASSWORD", requires = "from_user")]
    pub from_password: Option<String>,
    /// The source log's verifier key (entente sources); without it, trust on first use
    #[arg(long, value_name = "VKEY")]
    pub from_log_key: Option<String>,

    /// The target collection's id
    #[arg(long, value_name = "ID")]
    pub collection: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Write to this TAXII server instead of a local store
    #[arg(long, value_name = "URL", conflicts_with_all = ["data", "database"])]
    pub server: Option<String>,
    /// Bearer token for --server [default: $ENTENTE_TOKEN]
    #[arg(long, value_name = "TOKEN", requires = "server")]
    pub token: Option<String>,
    /// API root of --server: a name or a URL [default: the server's default root]
    #[arg(long, value_name = "ROOT", requires = "server")]
    pub api_root: Option<String>,

    /// State file [default: $XDG_STATE_HOME/entente/sync.json, else ~/.local/state/entente/sync.json]
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Keep running: a new pass this many seconds after the last one ended
    #[arg(long, value_name = "SECONDS")]
    pub watch: Option<u64>,
    /// Objects asked for per page; the source may send fewer
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub limit: u32,
    /// Seconds allowed for each HTTP request
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub timeout: u64,
}

/// A failed check of the source's log (exit 1), beside `verify`'s own.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Runs `entente sync`; see the module docs for the exit status.
pub fn run(args: Args) -> ExitCode {
    let outcome = super::remote::runtime().and_then(|rt| rt.block_on(sync(args)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if super::verify::is_failure(&e) || e.downcast_ref::<Refused>().is_some() => {
            eprintln!("entente sync: refused: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("entente sync: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Objects of a pass, by fate.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    fetched: u64,
    created: u64,
    unchanged: u64,
    refused: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.fetched += o.fetched;
        self.created += o.created;
        self.unchanged += o.unchanged;
        self.refused += o.refused;
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fetched {}, created {}, unchanged {}, refused {}",
            self.fetched, self.created, self.unchanged, self.refused
        )
    }
}

async fn sync(args: Args) -> Result<()> {
    if args.timeout == 0 {
        bail!("--timeout must be at least 1 second");
    }
    if args.watch == Some(0) {
        bail!("--watch must be at least 1 second");
    }
    let state_path = match &args.state {
        Some(p) => p.clone(),
        None => default_state()?,
    };
    let source = Client::with_options(ClientOptions {
        auth: source_auth(&args),
        timeout: Duration::from_secs(args.timeout),
        ..ClientOptions::default()
    })
    .context("cannot create the TAXII client")?;
    let target = Target::open(&args).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let stopper = stop.clone();
    tokio::spawn(async move {
        super::serve::shutdown_signal().await;
        stopper.store(true, Ordering::SeqCst);
    });

    loop {
        let counts = pass(&args, &source, &target, &state_path, &stop).await;
        match (counts, args.watch) {
            (Ok(c), _) => println!("{c}"),
            // In watch mode a source that is down is tried again next time; a log that
            // failed a check is not.
            (Err(e), Some(_))
                if !super::verify::is_failure(&e) && e.downcast_ref::<Refused>().is_none() =>
            {
                eprintln!("entente sync: {e:#}; trying again in the next pass");
            }
            (Err(e), _) => return Err(e),
        }
        let Some(secs) = args.watch else {
            return Ok(());
        };
        // Sleep in small steps so that a stop request is seen within a fraction of a second.
        let until = tokio::time::Instant::now() + Duration::from_secs(secs);
        while tokio::time::Instant::now() < until && !stop.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
    }
}

/// The source's credentials.
fn source_auth(args: &Args) -> Auth {
    match (&args.from_token, &args.from_user, &args.from_password) {
        (Some(t), _, _) => Auth::Bearer(t.clone()),
        (None, Some(u), Some(p)) => Auth::Basic {
            user: u.clone(),
            password: p.clone(),
        },
        _ => Auth::None,
    }
}

/// `$XDG_STATE_HOME/entente/sync.json`, else `$HOME/.local/state/entente/sync.json`.
fn default_state() -> Result<PathBuf> {
    let dir = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("state"))
        })
        .context("neither XDG_STATE_HOME nor HOME is set; pass --state")?;
    Ok(dir.join("entente").join("sync.json"))
}

fn load_state(path: &Path) -> Result<SyncState> {
    match std::fs::read(path) {
        Ok(bytes) => SyncState::from_slice(&bytes).with_context(|| format!("{}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SyncState::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Writes the state atomically: a temporary file beside it, synced, renamed over it.
fn save_state(path: &Path, state: &SyncState) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&state.to_vec())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().with_context(|| format!("writing {}", path.display()))
}

/// The source server's base URL, without `/taxii2/`: where an entente server serves `/log/`.
fn base_url(server: &str) -> String {
    let s = server.trim_end_matches('/');
    s.strip_suffix("/taxii2").unwrap_or(s).to_owned()
}

/// One pass over every source collection.
async fn pass(
    args: &Args,
    source: &Client,
    target: &Target,
    state_path: &Path,
    stop: &AtomicBool,
) -> Result<Counts> {
    let mut state = load_state(state_path)?;
    let api_root = source
        .resolve_api_root(&args.from, args.from_api_root.as_deref())
        .await
        .context("cannot find the source's API root")?;
    let mut log = open_source_log(args, &state).await?;
    let bar = spinner();
    let mut total = Counts::default();
    for collection in &args.from_collections {
        let key = StreamKey {
            source: args.from.clone(),
            api_root: api_root.to_string(),
            collection: collection.clone(),
            target: target.describe(),
        };
        let c = CollectionRef::new(api_root.clone(), collection.as_str());
        let filter = Filter {
            added_after: state.cursor(&key).map(str::to_owned),
            limit: Some(args.limit.max(1)),
            versions: vec!["all".to_owned()],
            ..Filter::default()
        };
        let mut pager = source.objects(&c, filter);
        // entente's date_added values are strictly increasing (an entente source is one
        // with a log); other servers may give several objects the same one.
        let mut resume = Resume::new(log.is_some());
        while let Some(page) = pager
            .next_page()
            .await
            .with_context(|| format!("cannot read source collection {collection}"))?
        {
            let mut counts = Counts {
                fetched: page.items.len() as u64,
                ..Counts::default()
            };
            if let Some(log) = log.as_mut() {
                check_page(args, source, log, &c, &page.items).await?;
            }
            counts += target.write(&page.items).await?;
            // The page is committed at the target: only now may the position move.
            let position = resume.committed(
                page.date_added_first.as_deref(),
                page.date_added_last.as_deref(),
                page.items.len(),
                page.more,
            );
            state.advance(&key, position.as_deref());
            if let Some(log) = &log {
                state.set_log(log_state(args, log));
            }
            save_state(state_path, &state)?;
            tracing::info!(%collection, %counts, "page synced");
            total += counts;
            bar.set_message(format!("{total}"));
            if stop.load(Ordering::SeqCst) {
                bar.finish_and_clear();
                return Ok(total);
            }
        }
    }
    bar.finish_and_clear();
    if let Some(log) = &log {
        // Also a pass that fetched nothing keeps the newest checkpoint it checked.
        state.set_log(log_state(args, log));
        save_state(state_path, &state)?;
    }
    Ok(total)
}

/// What the state keeps of a source log.
fn log_state(args: &Args, log: &Log) -> LogState {
    let (vkey, pinned_key_id) = match log.trust() {
        Trust::Key(_) => (args.from_log_key.clone(), None),
        Trust::Pinned { key_id, .. } => (None, Some(format!("{key_id:08x}"))),
    };
    LogState {
        base: base_url(&args.from),
        origin: log.checkpoint().origin.clone(),
        vkey,
        pinned_key_id,
        checkpoint: String::from_utf8_lossy(log.note()).into_owned(),
    }
}

/// The source's transparency log, when it has one (an entente server): its checkpoint
/// checked with the key given, kept, or trusted on first use, and consistent with the one
/// kept in the state.
async fn open_source_log(args: &Args, state: &SyncState) -> Result<Option<Log>> {
    let base = base_url(&args.from);
    let kept = state.log(&base);
    let url = format!("{base}/log/checkpoint");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout))
        .build()
        .context("cannot create the HTTP client")?;
    let first = match http.get(&url).send().await {
        Ok(r) if r.status().is_success() => Some(
            r.bytes()
                .await
                .with_context(|| format!("reading {url}"))?
                .to_vec(),
        ),
        Ok(r) => {
            tracing::info!(%url, status = %r.status(), "no transparency log");
            None
        }
        Err(e) => {
            tracing::info!(%url, error = %e, "no transparency log");
            None
        }
    };
    // A server answering anything but a signed note there (a catch-all page) has no log,
    // unless one was asked for or seen before.
    let first = first.filter(|note| {
        args.from_log_key.is_some() || kept.is_some() || tlog::Note::parse(note).is_ok()
    });
    let Some(first) = first else {
        if args.from_log_key.is_some() || kept.is_some() {
            return Err(Refused(format!(
                "{url} serves no transparency log, but {}",
                if args.from_log_key.is_some() {
                    "--from-log-key asks to verify one"
                } else {
                    "one was verified on an earlier sync"
                }
            ))
            .into());
        }
        return Ok(None);
    };
    let trust = match (&args.from_log_key, kept) {
        (Some(k), _) => Trust::Key(
            tlog::Ed25519Verifier::from_vkey(k.trim())
                .map_err(|e| anyhow::anyhow!("--from-log-key is not a verifier key: {e}"))?,
        ),
        (None, Some(LogState { vkey: Some(k), .. })) => Trust::Key(
            tlog::Ed25519Verifier::from_vkey(k.trim())
                .map_err(|e| anyhow::anyhow!("the sync state's log key is not valid: {e}"))?,
        ),
        (
            None,
            Some(LogState {
                origin,
                pinned_key_id: Some(id),
                ..
            }),
        ) => Trust::Pinned {
            origin: origin.clone(),
            key_id: u32::from_str_radix(id, 16)
                .map_err(|_| anyhow::anyhow!("the sync state's pinned key id {id:?} is not hex"))?,
        },
        (None, _) => {
            let trust = Trust::first_use(&first)?;
            eprintln!(
                "entente sync: {base} has a transparency log; trusting {} (pass --from-log-key to check its signatures)",
                trust.describe()
            );
            trust
        }
    };
    let seen = kept.map(|k| k.checkpoint.as_bytes());
    let log = Log::open(&base, args.timeout, trust, seen).await?;
    tracing::info!(origin = %log.checkpoint().origin, size = log.checkpoint().size, "source log checked");
    Ok(Some(log))
}

/// The log checks of `entente verify --collection` for one page: the manifest records of
/// the page's objects give each version's `date_added`, then `Log::check_entries`.
async fn check_page(
    args: &Args,
    source: &Client,
    log: &mut Log,
    c: &CollectionRef,
    objects: &[Box<RawValue>],
) -> Result<()> {
    if objects.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for o in objects {
        let id = object_id(o.get())
            .with_context(|| format!("the source sent an object without an id: {}", o.get()))?;
        if seen.insert(id.clone()) {
            ids.push(id);
        }
    }
    let mut added: HashMap<(String, String), String> = HashMap::new();
    let mut versions_of: HashMap<String, Vec<String>> = HashMap::new();
    // A few ids per request keep the query string short for any server.
    for chunk in ids.chunks(ID_CHUNK) {
        let filter = Filter {
            ids: chunk.to_vec(),
            versions: vec!["all".to_owned()],
            ..Filter::default()
        };
        let records = source
            .manifest(c, filter)
            .collect_all()
            .await
            .context("reading the source's manifest")?;
        for m in records {
            versions_of
                .entry(m.id.clone())
                .or_default()
                .push(m.version.clone());
            added.insert((m.id, m.version), m.date_added);
        }
    }
    let token = args.from_token.as_deref().or(args.from_password.as_deref());
    log.check_entries(token, &c.id, objects, &added, &versions_of)
        .await?;
    Ok(())
}

/// Ids per `match[id]` request.
const ID_CHUNK: usize = 40;

#[derive(serde::Deserialize)]
struct IdVersion {
    id: String,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    created: Option<String>,
}

fn object_id(text: &str) -> Option<String> {
    serde_json::from_str::<IdVersion>(text).ok().map(|o| o.id)
}

/// Where the objects go.
enum Target {
    /// A collection of a local store.
    Local {
        store: Arc<dyn store::Store>,
        collection: String,
        flags: store::CollectionFlags,
        place: String,
    },
    /// A collection of a TAXII server.
    Remote {
        client: Client,
        collection: CollectionRef,
        server: String,
    },
}

impl Target {
    async fn open(args: &Args) -> Result<Target> {
        if let Some(server) = &args.server {
            let token = args
                .token
                .clone()
                .or_else(|| std::env::var(super::remote::TOKEN_ENV).ok())
                .filter(|t| !t.is_empty());
            let client = Client::with_options(ClientOptions {
                auth: token.map_or(Auth::None, Auth::Bearer),
                timeout: Duration::from_secs(args.timeout),
                ..ClientOptions::default()
            })
            .context("cannot create the TAXII client")?;
            let root = client
                .resolve_api_root(server, args.api_root.as_deref())
                .await
                .context("cannot find the target's API root")?;
            let collection = CollectionRef::new(root, args.collection.as_str());
            client
                .collection(&collection)
                .await
                .with_context(|| format!("cannot open target collection {}", args.collection))?;
            return Ok(Target::Remote {
                client,
                collection,
                server: server.clone(),
            });
        }
        let store = args.store.open().await?;
        let found = store
            .collection(&args.collection)
            .await
            .context("reading the target collection")?
            .with_context(|| format!("no collection {} in the local store", args.collection))?;
        let place = match args.store.location() {
            StoreLocation::DataDir(d) => {
                let d = std::fs::canonicalize(&d).unwrap_or(d);
                format!("data:{}", d.display())
            }
            StoreLocation::Database(url) => format!("database:{}", super::local::redact(&url)),
        };
        Ok(Target::Local {
            store,
            collection: found.id,
            flags: found.flags,
            place,
        })
    }

    /// The target as the state file names it.
    fn describe(&self) -> String {
        match self {
            Target::Local {
                place, collection, ..
            } => format!("{place}#{collection}"),
            Target::Remote {
                server, collection, ..
            } => format!("taxii:{server}#{}", collection.id),
        }
    }

    /// Stores a page; returns the created, unchanged and refused counts once committed.
    async fn write(&self, objects: &[Box<RawValue>]) -> Result<Counts> {
        let mut counts = Counts::default();
        if objects.is_empty() {
            return Ok(counts);
        }
        match self {
            Target::Local {
                store,
                collection,
                flags,
                ..
            } => {
                let limits = server::Limits::default();
                for chunk in objects.chunks(limits.max_objects_per_envelope) {
                    let body = envelope(chunk);
                    let flags = *flags;
                    let statements =
                        server::ingest::stored_statement_markings(store.as_ref(), collection)
                            .await
                            .map_err(|e| {
                                anyhow::anyhow!("reading the collection's markings: {e}")
                            })?;
                    let prepared = tokio::task::spawn_blocking(move || {
                        server::ingest::prepare_with(
                            body.as_bytes(),
                            flags,
                            &server::Limits::default(),
                            statements,
                        )
                    })
                    .await
                    .context("checking objects")?
                    .map_err(|e| anyhow::anyhow!("the page cannot be stored: {e}"))?;
                    let outcomes = store
                        .add_objects(collection, prepared.to_store)
                        .await
                        .context("storing objects")?;
                    for slot in prepared.slots {
                        match slot {
                            server::ingest::Slot::Failed(d) => {
                                counts.refused += 1;
                                eprintln!(
                                    "refused {}: {}",
                                    d.id,
                                    d.message.as_deref().unwrap_or("")
                                );
                            }
                            server::ingest::Slot::Store(i) => match outcomes.get(i) {
                                Some(o) => match &o.result {
                                    store::AddResult::Added { .. } => counts.created += 1,
                                    store::AddResult::Duplicate { .. } => counts.unchanged += 1,
                                    store::AddResult::Failed { reason } => {
                                        counts.refused += 1;
                                        eprintln!("refused {}: {reason}", o.id);
                                    }
                                },
                                None => bail!("the store reported fewer outcomes than objects"),
                            },
                        }
                    }
                }
            }
            Target::Remote {
                client, collection, ..
            } => {
                let present = remote_versions(client, collection, objects).await?;
                let mut send: Vec<&str> = Vec::new();
                for o in objects {
                    let text = o.get();
                    let known = match serde_json::from_str::<IdVersion>(text) {
                        Ok(v) => match v.modified.or(v.created) {
                            Some(version) => present.contains(&(v.id, Some(version))),
                            // No version of its own (most SCOs): the id names the content.
                            None => present.iter().any(|(id, _)| *id == v.id),
                        },
                        Err(_) => false,
                    };
                    if known {
                        counts.unchanged += 1;
                    } else {
                        send.push(text);
                    }
                }
                if !send.is_empty() {
                    let report = client
                        .push(collection, &send, &PushOptions::default(), &mut |_| {})
                        .await
                        .context("writing to the target")?;
                    for f in &report.failures {
                        eprintln!("refused {}: {}", f.id, f.message.as_deref().unwrap_or(""));
                    }
                    if report.pending_count > 0 {
                        bail!(
                            "the target still had {} objects pending; the position is kept",
                            report.pending_count
                        );
                    }
                    counts.created += report.success_count;
                    counts.refused += report.failure_count;
                }
            }
        }
        Ok(counts)
    }
}

/// The (id, version) pairs a TAXII target holds of these objects' ids.
async fn remote_versions(
    client: &Client,
    collection: &CollectionRef,
    objects: &[Box<RawValue>],
) -> Result<HashSet<(String, Option<String>)>> {
    let ids: Vec<String> = objects
        .iter()
        .filter_map(|o| object_id(o.get()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut present = HashSet::new();
    for chunk in ids.chunks(ID_CHUNK) {
        let filter = Filter {
            ids: chunk.to_vec(),
            versions: vec!["all".to_owned()],
            ..Filter::default()
        };
        let records = client
            .manifest(collection, filter)
            .collect_all()
            .await
            .context("reading the target's manifest")?;
        present.extend(records.into_iter().map(|m| (m.id, Some(m.version))));
    }
    Ok(present)
}

/// A TAXII envelope around objects' exact texts.
fn envelope(objects: &[Box<RawValue>]) -> String {
    let mut body = String::from("{\"objects\":[");
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(o.get());
    }
    body.push_str("]}");
    body
}

/// A spinner with the running counts on a terminal, nothing when stderr is piped.
fn spinner() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_drops_the_discovery_path() {
        assert_eq!(base_url("http://h:7350/taxii2/"), "http://h:7350");
        assert_eq!(base_url("http://h:7350"), "http://h:7350");
        assert_eq!(base_url("http://h:7350/"), "http://h:7350");
    }

    #[test]
    fn an_envelope_keeps_the_exact_texts() {
        let a = RawValue::from_string("{\"id\":\"x--1\", \"b\" : 1}".into()).unwrap();
        let b = RawValue::from_string("{\"id\":\"x--2\"}".into()).unwrap();
        assert_eq!(
            envelope(&[a, b]),
            "{\"objects\":[{\"id\":\"x--1\", \"b\" : 1},{\"id\":\"x--2\"}]}"
        );
    }

    #[test]
    fn counts_print_as_the_final_line() {
        let mut c = Counts {
            fetched: 3,
            created: 1,
            unchanged: 1,
            refused: 1,
        };
        c += Counts {
            fetched: 1,
            created: 1,
            ..Counts::default()
        };
        assert_eq!(
            c.to_string(),
            "fetched 4, created 2, unchanged 1, refused 1"
        );
    }
}
