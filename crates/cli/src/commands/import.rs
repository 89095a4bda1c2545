//! `entente import`: MISP feeds, IOC lists and STIX files into a collection of a local store
//! or of any TAXII 2.1 server.
//!
//! Wiring only: the `feeds` crate maps MISP events and IOC lists to STIX objects (`import
//! stix` parses with `stix::parse_document` and validates as `entente push` would be
//! validated by an entente server); this module reads the inputs, asks the collection for the
//! latest version of each id, decides created / updated / unchanged (`feeds::object::
//! next_version`), writes what is new in large batches (one transaction each on a local
//! store, envelopes through `taxii::client::Client::push` on a server) and prints the one
//! summary line `created N, updated N, unchanged N, refused N` on stdout. Each refused item
//! goes to stderr with its file and line, or its MISP attribute uuid, and the reason.
//!
//! Counts are of STIX objects: an IOC line is one indicator (a repeated value counts as
//! unchanged), a MISP attribute one or two objects, plus each event's report, identity,
//! attack patterns and marking definitions.
//!
//! Exit statuses: 0 nothing refused; 1 some item refused; 2 usage error, unreadable input or
//! a store or server that failed.
//!
//! Tests: `crates/cli/tests/import.rs` (local store: counts, re-import unchanged, updated
//! feed gives new versions, refusals on stderr); `interop/test_import.py` runs the OASIS
//! validator over what an import stored.

use std::collections::HashMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use stix::{Severity, StixObject, TlpLevel, ValidateOptions};
use store::{AddResult, NewObject, ObjectQuery, Store, VersionMatch};
use taxii::client::{Client, CollectionRef, Filter, PushOptions};

use super::local::StoreArgs;
use super::remote::{RemoteArgs, runtime};

const AFTER_HELP: &str = "\
The target is a local store (--data DIR or --database URL, as `entente serve` uses) or any
TAXII 2.1 server (--server URL with --token or --user/--password). Ids are deterministic, so
importing the same input again reports it unchanged, and an updated MISP feed stores new
versions. The run ends with one line on stdout:
  created N, updated N, unchanged N, refused N
and each refused item is listed on stderr with its line or MISP attribute uuid and why.

Exit status: 0 nothing refused, 1 some item refused, 2 usage error, unreadable input or a
failed store or server.

Examples:
  entente import misp-feed --data ./entente-data --collection \"$ID\" ../shared/data/misp-feed-circl/feed
  entente import misp-feed --server http://127.0.0.1:7350 --token \"$T\" --collection \"$ID\" \\
      https://www.circl.lu/doc/misp/feed-osint/
  entente import iocs --data ./entente-data --collection \"$ID\" --label maltrail malware/*.txt
  entente import iocs --type sha256 --label ransomware --collection \"$ID\" hashes.txt
  entente import stix --server http://127.0.0.1:7350 --token \"$T\" --collection \"$ID\" bundle.json";

/// Import MISP feeds, IOC lists or STIX files into a collection.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

/// What to import.
#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// A MISP feed (manifest.json + <uuid>.json event files), from a directory or a URL
    #[command(after_help = AFTER_HELP)]
    MispFeed(MispArgs),
    /// IOC lists: one value per line, CSV with a header, or maltrail trail files
    #[command(after_help = AFTER_HELP)]
    Iocs(IocArgs),
    /// STIX 2.1 files: one object, a JSON array, a bundle, or NDJSON
    #[command(after_help = AFTER_HELP)]
    Stix(StixArgs),
}

/// Where to write: a local store or a TAXII server, and the collection.
#[derive(Debug, clap::Args)]
pub struct Target {
    #[command(flatten)]
    pub store: StoreArgs,

    /// A TAXII 2.1 server to import into instead of a local store.
    #[arg(long, value_name = "URL", conflicts_with_all = ["data", "database"])]
    pub server: Option<String>,

    /// API token for --server (default: $ENTENTE_TOKEN).
    #[arg(
        long,
        value_name = "TOKEN",
        requires = "server",
        conflicts_with = "user"
    )]
    pub token: Option<String>,

    /// User name for HTTP Basic authentication (with --password).
    #[arg(long, value_name = "NAME", requires_all = ["password", "server"])]
    pub user: Option<String>,

    /// Password for HTTP Basic authentication.
    #[arg(long, value_name = "PASSWORD", requires = "user")]
    pub password: Option<String>,

    /// API root of --server: a name or a URL [default: the server's default root].
    #[arg(long, value_name = "ROOT", requires = "server")]
    pub api_root: Option<String>,

    /// The collection's id.
    #[arg(long, value_name = "ID")]
    pub collection: String,

    /// Most objects per write: one transaction on a local store, one envelope on a server
    /// [default: 50000 local, 500 remote].
    #[arg(long, value_name = "N")]
    pub batch: Option<usize>,
}

/// `entente import misp-feed`.
#[derive(Debug, clap::Args)]
pub struct MispArgs {
    #[command(flatten)]
    pub target: Target,
    /// The feed: a directory or URL holding manifest.json, or one event file.
    #[arg(value_name = "DIR_OR_URL")]
    pub source: String,
}

/// `entente import iocs`.
#[derive(Debug, clap::Args)]
pub struct IocArgs {
    #[command(flatten)]
    pub target: Target,
    /// The kind of every value, or `auto` to detect each one.
    #[arg(long = "type", value_name = "TYPE", default_value = "auto",
          value_parser = ["auto", "ip", "domain", "url", "md5", "sha1", "sha256"])]
    pub ioc_type: String,
    /// A label for every indicator (repeatable).
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// The indicators' name [default: the file name without extension, e.g. a maltrail
    /// family].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Layout of the lists.
    #[arg(long, value_name = "FORMAT", default_value = "auto",
          value_parser = ["auto", "plain", "csv"])]
    pub format: String,
    /// Mark every indicator with this TLP 2.0 level (clear, green, amber, amber+strict, red).
    #[arg(long, value_name = "LEVEL")]
    pub tlp: Option<String>,
    /// The lists (`-` for stdin; `.gz` files are read transparently).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// `entente import stix`.
#[derive(Debug, clap::Args)]
pub struct StixArgs {
    #[command(flatten)]
    pub target: Target,
    /// The files (`-` for stdin; `.gz` files are read transparently).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Runs `entente import`.
pub fn run(args: Args) -> ExitCode {
    let result = match &args.what {
        What::MispFeed(a) => import_misp(a),
        What::Iocs(a) => import_iocs(a),
        What::Stix(a) => import_stix(a),
    };
    match result {
        Ok(counts) => {
            println!("{counts}");
            if counts.refused == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("entente import: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The summary of a run.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    created: u64,
    updated: u64,
    unchanged: u64,
    refused: u64,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "created {}, updated {}, unchanged {}, refused {}",
            self.created, self.updated, self.unchanged, self.refused
        )
    }
}

/// Objects to write, with the refusals and duplicates found while making them.
#[derive(Default)]
struct Batch {
    objects: Vec<NewObject>,
    refused: u64,
    duplicates: u64,
}

impl Batch {
    /// Adds mapped objects, skipping ids already in the batch (the first one wins).
    fn extend(
        &mut self,
        seen: &mut std::collections::HashSet<String>,
        objects: Vec<feeds::Object>,
    ) {
        for o in objects {
            if seen.insert(o.id.clone()) {
                self.objects.push(NewObject {
                    id: o.id,
                    type_name: o.type_name.to_owned(),
                    spec_version: "2.1".to_owned(),
                    version: o.version,
                    raw_json: o.json,
                    tlp: o.tlp,
                    revoked: false,
                });
            }
        }
    }

    /// Prints the refusals of one input on stderr.
    fn refuse(&mut self, source: &str, refused: &[feeds::Refusal]) {
        for r in refused {
            eprintln!("refused: {source}: {r}");
        }
        self.refused += refused.len() as u64;
    }
}

/// Reads a file (or stdin for `-`), un-gzipping `.gz` files.
fn read_input(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
        return Ok(bytes);
    }
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot decompress {}", path.display()))?;
        Ok(bytes)
    } else {
        Ok(raw)
    }
}

fn parse_tlp(level: &str) -> Result<TlpLevel> {
    let l = level.to_ascii_lowercase();
    let l = l.strip_prefix("tlp:").unwrap_or(&l);
    TlpLevel::ALL
        .into_iter()
        .find(|t| t.as_str() == l || (l == "white" && *t == TlpLevel::Clear))
        .with_context(|| format!("unknown TLP level {level:?}"))
}

fn import_iocs(args: &IocArgs) -> Result<Counts> {
    let ioc_type: feeds::ioc::IocType = args.ioc_type.parse().map_err(anyhow::Error::msg)?;
    let format = match args.format.as_str() {
        "plain" => feeds::ioc::Format::Plain,
        "csv" => feeds::ioc::Format::Csv,
        _ => feeds::ioc::Format::Auto,
    };
    let tlp = args.tlp.as_deref().map(parse_tlp).transpose()?;
    let time = jiff::Timestamp::now();
    let mut importer = feeds::ioc::ListImporter::new();
    let mut batch = Batch::default();
    let mut seen = std::collections::HashSet::new();
    for path in &args.files {
        let bytes = read_input(path)?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = file_name
            .trim_end_matches(".gz")
            .rsplit_once('.')
            .map_or(file_name.as_str(), |(s, _)| s)
            .to_owned();
        let options = feeds::ioc::Options {
            ioc_type,
            format,
            name: args
                .name
                .clone()
                .or_else(|| (!stem.is_empty() && stem != "-").then_some(stem)),
            labels: args.labels.clone(),
            tlp,
            time,
        };
        let mapped = importer.import(&bytes, &file_name, &options);
        tracing::info!(
            file = %path.display(),
            accepted = mapped.accepted,
            duplicates = mapped.duplicates,
            refused = mapped.refused.len(),
            "list mapped"
        );
        batch.refuse(&path.display().to_string(), &mapped.refused);
        batch.duplicates += mapped.duplicates;
        batch.extend(&mut seen, mapped.objects);
    }
    write(&args.target, batch)
}

fn import_misp(args: &MispArgs) -> Result<Counts> {
    let mut batch = Batch::default();
    let mut seen = std::collections::HashSet::new();
    let events = read_feed(&args.source)?;
    let mut mapper = feeds::misp::FeedMapper::new();
    for (name, bytes) in events {
        match mapper.map_event(&bytes) {
            Ok(mapped) => {
                batch.refuse(&name, &mapped.refused);
                batch.duplicates += mapped.duplicates;
                batch.extend(&mut seen, mapped.objects);
            }
            Err(e) => {
                eprintln!("refused: {name}: {e}");
                batch.refused += 1;
            }
        }
    }
    write(&args.target, batch)
}

/// The event files of a feed: `(name, bytes)` for each event listed in `manifest.json`, or
/// the one file given.
fn read_feed(source: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let is_url = source.starts_with("http://") || source.starts_with("https://");
    if is_url {
        let base = if source.ends_with('/') {
            source.to_owned()
        } else {
            format!("{source}/")
        };
        let rt = runtime()?;
        return rt.block_on(async {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .context("cannot create the HTTP client")?;
            let get = |url: String| {
                let http = http.clone();
                async move {
                    let resp = http
                        .get(&url)
                        .send()
                        .await
                        .and_then(|r| r.error_for_status())
                        .with_context(|| format!("cannot fetch {url}"))?;
                    let bytes = resp
                        .bytes()
                        .await
                        .with_context(|| format!("cannot read {url}"))?;
                    anyhow::Ok(bytes.to_vec())
                }
            };
            let manifest = get(format!("{base}manifest.json")).await?;
            let uuids = feeds::misp::manifest_events(&manifest)
                .with_context(|| format!("{base}manifest.json"))?;
            let mut out = Vec::with_capacity(uuids.len());
            for uuid in uuids {
                let url = format!("{base}{uuid}.json");
                out.push((url.clone(), get(url).await?));
            }
            Ok(out)
        });
    }
    let path = Path::new(source);
    if path.is_file() {
        return Ok(vec![(source.to_owned(), read_input(path)?)]);
    }
    let manifest_path = path.join("manifest.json");
    let manifest = read_input(&manifest_path)?;
    let uuids = feeds::misp::manifest_events(&manifest)
        .with_context(|| manifest_path.display().to_string())?;
    let mut out = Vec::with_capacity(uuids.len());
    for uuid in uuids {
        let mut file = path.join(format!("{uuid}.json"));
        if !file.exists() {
            file = path.join(format!("{uuid}.json.gz"));
        }
        out.push((file.display().to_string(), read_input(&file)?));
    }
    Ok(out)
}

fn import_stix(args: &StixArgs) -> Result<Counts> {
    let mut batch = Batch::default();
    let mut seen = std::collections::HashSet::new();
    let checker = pattern_checker;
    let options = ValidateOptions {
        pattern_checker: Some(&checker),
        check_deterministic_ids: false,
        ..ValidateOptions::default()
    };
    let mut files = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let bytes = read_input(path)?;
        let shown = path.display().to_string();
        let objects = stix::parse_document(&bytes)
            .map_err(|e| anyhow::anyhow!("{shown}:{}:{}: {}", e.line, e.column, e.message))?;
        files.push((shown, objects));
    }
    // The server's TLP rule, with the statement markings (copyright) the input defines
    // anywhere: ATT&CK defines its statement after the objects that carry it.
    let mut statements = server::ingest::StatementMarkings::default();
    for object in files.iter().flat_map(|(_, objects)| objects) {
        statements.record(object);
    }
    for (shown, objects) in &files {
        for object in objects {
            let line = object.location().line;
            let errors: Vec<String> = stix::validate_object(object, &options)
                .into_iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| d.to_string())
                .collect();
            let id = object.id().unwrap_or("(object without id)");
            if !errors.is_empty() {
                eprintln!("refused: {shown}:{line}: {id}: {}", errors.join("; "));
                batch.refused += 1;
                continue;
            }
            let level = server::ingest::tlp_level_with(object, &statements);
            let Some(new) = NewObject::from_stix(object, level) else {
                eprintln!("refused: {shown}:{line}: the object has no id or no type");
                batch.refused += 1;
                continue;
            };
            let key = format!(
                "{}\n{}",
                new.id,
                new.version.map(|v| v.to_string()).unwrap_or_default()
            );
            if seen.insert(key) {
                batch.objects.push(new);
            } else {
                batch.duplicates += 1;
            }
        }
    }
    // Marking definitions first (stable), as `entente push` sends them: a server recognises
    // a statement marking only once it is defined.
    batch
        .objects
        .sort_by_key(|o| o.type_name != "marking-definition");
    write(&args.target, batch)
}

/// The `pattern` crate's validator in the shape `stix::ValidateOptions` asks for.
fn pattern_checker(text: &str, pattern_version: &str) -> std::result::Result<(), String> {
    let version = pattern_version.parse().unwrap_or(pattern::StixVersion::V21);
    pattern::validate(text, version)
        .map(drop)
        .map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("{} at column {} ({})", e.message, e.column, e.code))
                .collect::<Vec<_>>()
                .join("; ")
        })
}

/// Where the objects go.
enum Sink {
    Local {
        store: Arc<dyn Store>,
        collection: String,
    },
    Remote {
        client: Client,
        collection: CollectionRef,
        status_timeout: Duration,
    },
}

/// What one object became.
enum Fate {
    Stored,
    Unchanged,
    Refused(String),
}

impl Sink {
    /// The latest stored JSON of each of `ids` that the collection holds.
    async fn latest(&self, ids: &[String]) -> Result<HashMap<String, String>> {
        let mut out = HashMap::new();
        match self {
            // Read up front by `local_versions` and `local_contents`.
            Sink::Local { .. } => {}
            Sink::Remote {
                client, collection, ..
            } => {
                // Ids travel in the URL: keep each request well under common URL limits.
                for chunk in ids.chunks(40) {
                    let filter = Filter {
                        ids: chunk.to_vec(),
                        versions: vec!["last".into()],
                        ..Filter::default()
                    };
                    let objects = client
                        .objects(collection, filter)
                        .collect_all()
                        .await
                        .context("cannot read the collection")?;
                    for raw in objects {
                        if let Ok(serde_json::Value::Object(m)) =
                            serde_json::from_str::<serde_json::Value>(raw.get())
                            && let Some(id) = m.get("id").and_then(|v| v.as_str())
                        {
                            out.insert(id.to_owned(), raw.get().to_owned());
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Writes objects; one fate per object, in order.
    async fn write(&self, objects: Vec<NewObject>) -> Result<Vec<(String, Fate)>> {
        match self {
            Sink::Local { store, collection } => {
                let outcomes = store
                    .add_objects(collection, objects)
                    .await
                    .context("cannot write to the collection")?;
                Ok(outcomes
                    .into_iter()
                    .map(|o| {
                        let fate = match o.result {
                            AddResult::Added { .. } => Fate::Stored,
                            AddResult::Duplicate { .. } => Fate::Unchanged,
                            AddResult::Failed { reason } => Fate::Refused(reason),
                        };
                        (o.id, fate)
                    })
                    .collect())
            }
            Sink::Remote {
                client,
                collection,
                status_timeout,
            } => {
                let texts: Vec<&str> = objects.iter().map(|o| o.raw_json.as_str()).collect();
                let options = PushOptions {
                    max_objects: texts.len().max(1),
                    status_timeout: *status_timeout,
                    ..PushOptions::default()
                };
                let report = client
                    .push(collection, &texts, &options, &mut |_| {})
                    .await
                    .context("push failed")?;
                let mut failed: HashMap<&str, String> = HashMap::new();
                for f in &report.failures {
                    failed.insert(
                        f.id.as_str(),
                        f.message
                            .clone()
                            .unwrap_or_else(|| "no reason given".into()),
                    );
                }
                for p in &report.pendings {
                    failed.insert(p.id.as_str(), "still pending on the server".into());
                }
                let unlisted = report.failure_count + report.pending_count
                    > (report.failures.len() + report.pendings.len()) as u64;
                Ok(objects
                    .iter()
                    .map(|o| {
                        let fate = match failed.get(o.id.as_str()) {
                            Some(why) => Fate::Refused(why.clone()),
                            None if unlisted && report.success_count < report.total => {
                                Fate::Refused("refused by the server (reason not listed)".into())
                            }
                            None => Fate::Stored,
                        };
                        (o.id.clone(), fate)
                    })
                    .collect())
            }
        }
    }
}

/// Every id of a local collection with its latest version text, from the manifest paged by
/// date_added (one index range scan; a query filtered by ids would scan the collection once
/// per query).
async fn local_versions(
    store: &Arc<dyn Store>,
    collection: &str,
) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut next = None;
    loop {
        let query = ObjectQuery {
            versions: vec![VersionMatch::Last],
            limit: 10_000,
            next: next.take(),
            max_tlp: TlpLevel::Red,
            ..ObjectQuery::default()
        };
        let page = store
            .manifest(collection, &query)
            .await
            .context("cannot read the collection's manifest")?;
        for e in page.items {
            out.insert(e.id, e.version);
        }
        match page.next {
            Some(n) if page.more => next = Some(n),
            _ => return Ok(out),
        }
    }
}

/// The latest stored JSON of the `wanted` ids: by id for a few, else by paging the whole
/// collection once.
async fn local_contents(
    store: &Arc<dyn Store>,
    collection: &str,
    wanted: &std::collections::HashSet<String>,
) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    let mut next = None;
    let few = wanted.len() <= 2_000;
    let ids: Vec<String> = if few {
        wanted.iter().cloned().collect()
    } else {
        Vec::new()
    };
    let mut chunks = ids.chunks(500);
    loop {
        let chunk = if few {
            match chunks.next() {
                Some(c) => c.to_vec(),
                None => return Ok(out),
            }
        } else {
            Vec::new()
        };
        let query = ObjectQuery {
            limit: if few { chunk.len() + 1 } else { 10_000 },
            ids: chunk,
            versions: vec![VersionMatch::Last],
            next: next.take(),
            max_tlp: TlpLevel::Red,
            ..ObjectQuery::default()
        };
        let page = store
            .query_objects(collection, &query)
            .await
            .context("cannot read the collection")?;
        for o in page.items {
            if wanted.contains(&o.id) {
                out.insert(o.id, o.raw_json);
            }
        }
        if !few {
            match page.next {
                Some(n) if page.more => next = Some(n),
                _ => return Ok(out),
            }
        }
    }
}

/// Compares with the collection, writes what is new, and counts.
fn write(target: &Target, batch: Batch) -> Result<Counts> {
    let mut counts = Counts {
        refused: batch.refused,
        unchanged: batch.duplicates,
        ..Counts::default()
    };
    let rt = if target.server.is_some() {
        runtime()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?
    };
    rt.block_on(async {
        let (sink, default_batch) = match &target.server {
            Some(server) => {
                let remote = RemoteArgs {
                    server: server.clone(),
                    token: target.token.clone(),
                    user: target.user.clone(),
                    password: target.password.clone(),
                    api_root: target.api_root.clone(),
                    timeout: 120,
                };
                let client = remote.client()?;
                let collection = remote.collection(&client, &target.collection).await?;
                let info = client
                    .collection(&collection)
                    .await
                    .with_context(|| format!("cannot open collection {}", target.collection))?;
                if !info.can_write {
                    bail!(
                        "collection {} is not writable with these credentials",
                        info.id
                    );
                }
                let sink = Sink::Remote {
                    client,
                    collection,
                    status_timeout: Duration::from_secs(300),
                };
                (sink, 500)
            }
            None => {
                let store = target.store.open().await?;
                if store.collection(&target.collection).await?.is_none() {
                    bail!("no collection {} in the store", target.collection);
                }
                let sink = Sink::Local {
                    store,
                    collection: target.collection.clone(),
                };
                // One transaction (one fsync) per 50,000 objects: see scripts/bench-import.sh.
                (sink, 50_000)
            }
        };
        let size = target.batch.unwrap_or(default_batch);
        if size == 0 {
            bail!("--batch must be at least 1");
        }
        // A local store is read once up front: which ids exist at which version, and the
        // stored JSON of those whose version differs from the one imported.
        let local = match &sink {
            Sink::Local { store, collection } => {
                let known = local_versions(store, collection).await?;
                let wanted: std::collections::HashSet<String> = batch
                    .objects
                    .iter()
                    .filter(|o| {
                        known.get(&o.id).is_some_and(|v| {
                            o.version.map(|t| t.to_string()).as_deref() != Some(v.as_str())
                        })
                    })
                    .map(|o| o.id.clone())
                    .collect();
                let contents = local_contents(store, collection, &wanted).await?;
                Some((known, contents))
            }
            Sink::Remote { .. } => None,
        };
        let bar = progress_bar(batch.objects.len() as u64);
        let mut objects = batch.objects.into_iter().peekable();
        while objects.peek().is_some() {
            let chunk: Vec<NewObject> = objects.by_ref().take(size).collect();
            let ids: Vec<String> = chunk.iter().map(|o| o.id.clone()).collect();
            let fetched;
            let existing = match &local {
                Some((_, contents)) => contents,
                None => {
                    fetched = sink.latest(&ids).await?;
                    &fetched
                }
            };
            let mut to_write = Vec::with_capacity(chunk.len());
            let mut is_update = HashMap::new();
            for mut o in chunk {
                if let Some((known, _)) = &local
                    && let Some(v) = known.get(&o.id)
                    && o.version.map(|t| t.to_string()).as_deref() == Some(v.as_str())
                {
                    // The same (id, version) is stored: TAXII 2.1 §5.4 keeps one copy.
                    counts.unchanged += 1;
                    continue;
                }
                match existing.get(&o.id) {
                    None => to_write.push(o),
                    Some(old) => match feeds::object::next_version(&o.raw_json, old) {
                        None => counts.unchanged += 1,
                        Some(json) => {
                            if json != o.raw_json {
                                if let Ok(parsed) = StixObject::from_json_str(&json) {
                                    o.version = parsed.version();
                                }
                                o.raw_json = json;
                            }
                            is_update.insert(o.id.clone(), ());
                            to_write.push(o);
                        }
                    },
                }
            }
            let n = ids.len() as u64;
            if !to_write.is_empty() {
                for (id, fate) in sink.write(to_write).await? {
                    match fate {
                        Fate::Stored if is_update.contains_key(&id) => counts.updated += 1,
                        Fate::Stored => counts.created += 1,
                        Fate::Unchanged => counts.unchanged += 1,
                        Fate::Refused(why) => {
                            bar.suspend(|| eprintln!("refused: {id}: {why}"));
                            counts.refused += 1;
                        }
                    }
                }
            }
            bar.inc(n);
        }
        bar.finish_and_clear();
        Ok(())
    })?;
    Ok(counts)
}

/// A bar on a terminal, nothing when stderr is piped.
fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} objects {elapsed}") {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlp_levels_parse_with_or_without_prefix() {
        assert_eq!(parse_tlp("amber+strict").ok(), Some(TlpLevel::AmberStrict));
        assert_eq!(parse_tlp("TLP:GREEN").ok(), Some(TlpLevel::Green));
        assert_eq!(parse_tlp("white").ok(), Some(TlpLevel::Clear));
        assert!(parse_tlp("purple").is_err());
    }
}
