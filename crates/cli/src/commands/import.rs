//! `entente import`: MISP feeds, IOC lists and STIX files into a collection of a local store
//! or of any TAXII 2.1 server.
//!
//! Wiring only: the `feeds` crate maps MISP events and IOC lists to STIX objects (`import
//! stix` parses with `stix::parse_document` and validates as `entente push` would be
//! validated by an entente server); this module reads the inputs, asks the collection for the
//! latest version of each id, decides created / updated / unchanged (for MISP and IOC
//! objects, which the import versions itself, `feeds::object::next_version`; STIX objects keep
//! their producer's versions and are stored verbatim, see [`Versioning`]), writes what is new in large batches (one transaction each on a local
//! store, envelopes through `taxii::client::Client::push` on a server) and prints the one
//! summary line `created N, updated N, unchanged N, refused N` on stdout. Each refused item
//! goes to stderr with its file and line, or its MISP attribute uuid, and the reason.
//!
//! **Pipeline.** Every input is read first (an unreadable file stores nothing). Then one
//! thread maps (an IOC list line by line, `feeds::ioc::ListImporter::import_each`) and hands
//! batches over a channel of two; the other compares each batch with the collection — the
//! latest version of its ids in one `Store::latest_versions` call, none at all when the
//! collection was empty at the start — and writes it while the next batch is mapped and
//! compared. Batches are written one at a time, in input order. Ids are distinct within a
//! run (the mappers dedupe), except several versions of one id in `import stix`, which are
//! each compared with the collection as it was before the run, as before batching.
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
//! validator over what an import stored. Speed: `scripts/bench-import.sh`.

use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use stix::{Severity, StixObject, TlpLevel, ValidateOptions};
use store::{AddResult, Digested, NewObject, ObjectQuery, Store, VersionMatch};
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

/// What the mapping side counted: items refused, and items repeated within the run.
#[derive(Debug, Default, Clone, Copy)]
struct Mapped {
    refused: u64,
    duplicates: u64,
}

impl Mapped {
    /// Prints the refusals of one input on stderr.
    fn refuse(&mut self, source: &str, refused: &[feeds::Refusal]) {
        for r in refused {
            eprintln!("refused: {source}: {r}");
        }
        self.refused += refused.len() as u64;
    }
}

/// The mapping side of the pipeline: collects objects into chunks of the batch size and
/// hands each full one to the writer, so a long list is stored while the rest is still
/// being mapped (two cores: one maps, one commits).
struct Emit {
    tx: tokio::sync::mpsc::Sender<Vec<NewObject>>,
    chunk: Vec<NewObject>,
    size: usize,
    /// The writer hung up (it failed): the rest is not worth mapping.
    closed: bool,
}

impl Emit {
    fn push(&mut self, o: NewObject) {
        if self.closed {
            return;
        }
        self.chunk.push(o);
        if self.chunk.len() >= self.size {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.chunk.is_empty() || self.closed {
            return;
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(self.size));
        // Blocks while the writer is two chunks behind: memory stays at a few chunks.
        if self.tx.blocking_send(chunk).is_err() {
            self.closed = true;
        }
    }
}

/// A mapped object as the store takes it.
fn new_object(o: feeds::Object) -> NewObject {
    NewObject {
        id: o.id,
        type_name: o.type_name.to_owned(),
        spec_version: "2.1".to_owned(),
        version: o.version,
        raw_json: o.json,
        tlp: o.tlp,
        revoked: false,
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
    // Every input is read before anything is written: an unreadable file stores nothing.
    let mut inputs = Vec::with_capacity(args.files.len());
    for path in &args.files {
        inputs.push((path, read_input(path)?));
    }
    run_import(
        &args.target,
        Versioning::Derived,
        HashSet::new(),
        move |emit| {
            let mut importer = feeds::ioc::ListImporter::new();
            let mut mapped = Mapped::default();
            for (path, bytes) in inputs {
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
                // The importer gives each id once in a run (a repeated value is a duplicate),
                // so the objects go to the writer as they are made.
                let list = importer.import_each(&bytes, &file_name, &options, &mut |o| {
                    emit.push(new_object(o));
                });
                tracing::info!(
                    file = %path.display(),
                    accepted = list.accepted,
                    duplicates = list.duplicates,
                    refused = list.refused.len(),
                    "list mapped"
                );
                mapped.refuse(&path.display().to_string(), &list.refused);
                mapped.duplicates += list.duplicates;
            }
            mapped
        },
    )
}

fn import_misp(args: &MispArgs) -> Result<Counts> {
    let events = read_feed(&args.source)?;
    run_import(
        &args.target,
        Versioning::Derived,
        HashSet::new(),
        move |emit| {
            let mut mapped = Mapped::default();
            // Events share identities and marking definitions: the first one made wins.
            let mut seen = HashSet::new();
            let mut mapper = feeds::misp::FeedMapper::new();
            for (name, bytes) in events {
                match mapper.map_event(&bytes) {
                    Ok(event) => {
                        mapped.refuse(&name, &event.refused);
                        mapped.duplicates += event.duplicates;
                        for o in event.objects {
                            if seen.insert(o.id.clone()) {
                                emit.push(new_object(o));
                            }
                        }
                    }
                    Err(e) => {
                        eprintln!("refused: {name}: {e}");
                        mapped.refused += 1;
                    }
                }
            }
            mapped
        },
    )
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
    let mut mapped = Mapped::default();
    let mut objects_out = Vec::new();
    let mut seen = HashSet::new();
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
                mapped.refused += 1;
                continue;
            }
            let level = server::ingest::tlp_level_with(object, &statements);
            let Some(new) = NewObject::from_stix(object, level) else {
                eprintln!("refused: {shown}:{line}: the object has no id or no type");
                mapped.refused += 1;
                continue;
            };
            let key = format!(
                "{}\n{}",
                new.id,
                new.version.map(|v| v.to_string()).unwrap_or_default()
            );
            if seen.insert(key) {
                objects_out.push(new);
            } else {
                mapped.duplicates += 1;
            }
        }
    }
    // Marking definitions first (stable), as `entente push` sends them: a server recognises
    // a statement marking only once it is defined.
    objects_out.sort_by_key(|o| o.type_name != "marking-definition");
    // Several versions of one id may come in one run; each is compared with what the
    // collection held before the run, wherever the batches split them.
    let mut ids = HashSet::new();
    let repeated: HashSet<String> = objects_out
        .iter()
        .filter(|o| !ids.insert(o.id.as_str()))
        .map(|o| o.id.clone())
        .collect();
    run_import(&args.target, Versioning::Producer, repeated, move |emit| {
        for o in objects_out {
            emit.push(o);
        }
        mapped
    })
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

/// The latest version of an id the collection holds.
#[derive(Debug, Clone)]
struct Latest {
    /// Its version text, when the store says (a local store; a server is asked for the
    /// objects only).
    version: Option<String>,
    /// Its JSON.
    raw: String,
}

impl Sink {
    /// The latest stored version of each of `ids` that the collection holds.
    async fn latest(&self, ids: &[String]) -> Result<HashMap<String, Latest>> {
        let mut out = HashMap::with_capacity(ids.len());
        match self {
            Sink::Local { store, collection } => {
                let found = store
                    .latest_versions(collection, ids)
                    .await
                    .context("cannot read the collection")?;
                for o in found {
                    let latest = Latest {
                        version: Some(o.version),
                        raw: o.raw_json,
                    };
                    out.insert(o.id, latest);
                }
            }
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
                            let latest = Latest {
                                version: None,
                                raw: raw.get().to_owned(),
                            };
                            out.insert(id.to_owned(), latest);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether the collection holds no object at all (a first import compares nothing).
    async fn is_empty(&self) -> Result<bool> {
        match self {
            Sink::Local { store, collection } => {
                let query = ObjectQuery {
                    versions: vec![VersionMatch::Last],
                    limit: 1,
                    max_tlp: TlpLevel::Red,
                    ..ObjectQuery::default()
                };
                let page = store
                    .manifest(collection, &query)
                    .await
                    .context("cannot read the collection's manifest")?;
                Ok(page.items.is_empty())
            }
            // A server may hide objects from this reader: always ask.
            Sink::Remote { .. } => Ok(false),
        }
    }

    /// Writes objects to a local store; one fate per object, in order.
    async fn write_local(
        store: Arc<dyn Store>,
        collection: String,
        objects: Vec<Digested>,
    ) -> Result<Vec<(String, Fate)>> {
        let outcomes = store
            .add_digested(&collection, objects)
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

    /// Pushes objects to a server; one fate per object, in order.
    async fn push_remote(
        client: &Client,
        collection: &CollectionRef,
        status_timeout: Duration,
        objects: Vec<NewObject>,
    ) -> Result<Vec<(String, Fate)>> {
        let texts: Vec<&str> = objects.iter().map(|o| o.raw_json.as_str()).collect();
        let options = PushOptions {
            max_objects: texts.len().max(1),
            status_timeout,
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

/// The batch size asked for, or the target's default.
fn batch_size(target: &Target) -> Result<usize> {
    // One transaction (one fsync) per 50,000 objects on a local store: see
    // scripts/bench-import.sh; an envelope of 500 to a server.
    let default = if target.server.is_some() { 500 } else { 50_000 };
    let size = target.batch.unwrap_or(default);
    if size == 0 {
        bail!("--batch must be at least 1");
    }
    Ok(size)
}

/// Runs an import: `produce` maps the input on its own thread and hands objects to
/// [`Emit`] in batches; this thread compares each batch with the collection and writes
/// it while the next one is mapped. `repeated` names the ids that occur more than once in
/// the input (each occurrence is compared with the collection as it was before the run).
fn run_import(
    target: &Target,
    versioning: Versioning,
    repeated: HashSet<String>,
    produce: impl FnOnce(&mut Emit) -> Mapped + Send,
) -> Result<Counts> {
    let size = batch_size(target)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // Two chunks in flight: one being written, one compared and ready.
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let mut emit = Emit {
                tx,
                chunk: Vec::with_capacity(size),
                size,
                closed: false,
            };
            let mapped = produce(&mut emit);
            emit.flush();
            mapped
        });
        // On failure `rx` is dropped on return, which stops the producer at its next send.
        let written = rt.block_on(write(target, versioning, repeated, rx));
        let mapped = producer
            .join()
            .map_err(|_| anyhow::anyhow!("the mapping thread panicked"))?;
        let written = written?;
        Ok(Counts {
            refused: mapped.refused + written.refused,
            unchanged: mapped.duplicates + written.unchanged,
            ..written
        })
    })
}

/// Who versions the imported objects, which decides what an object that differs from the
/// collection's latest version of its id becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Versioning {
    /// The import derives objects from another format (MISP, IOC lists) and owns their
    /// versions: a changed object becomes the next version (`feeds::object::next_version`),
    /// one that differs only in its timestamps is unchanged.
    Derived,
    /// The objects are STIX as their producer wrote them (`import stix`): each (id,
    /// `modified`) is a version of its own, stored verbatim — never re-stamped, which
    /// would alter what the producer said and when.
    Producer,
}

/// A batch's writes under way, with the ids of its updates.
type Pending = (
    tokio::task::JoinHandle<Result<Vec<(String, Fate)>>>,
    HashSet<String>,
);

/// Compares each batch with the collection, writes what is new, and counts.
async fn write(
    target: &Target,
    versioning: Versioning,
    repeated: HashSet<String>,
    mut rx: tokio::sync::mpsc::Receiver<Vec<NewObject>>,
) -> Result<Counts> {
    let sink = match &target.server {
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
            Sink::Remote {
                client,
                collection,
                status_timeout: Duration::from_secs(300),
            }
        }
        None => {
            let store = target.store.open().await?;
            if store.collection(&target.collection).await?.is_none() {
                bail!("no collection {} in the store", target.collection);
            }
            Sink::Local {
                store,
                collection: target.collection.clone(),
            }
        }
    };
    let mut counts = Counts::default();
    // Ids within a run are distinct but for `repeated`, so an empty collection needs no
    // look-ups at all (the first import of a list).
    let fresh = sink.is_empty().await?;
    // What the collection held before the run, for the repeated ids.
    let mut before: HashMap<String, Option<Latest>> = HashMap::new();
    let bar = progress_bar();
    let mut pending: Option<Pending> = None;
    while let Some(chunk) = rx.recv().await {
        let n = chunk.len() as u64;
        let mut stored = if fresh {
            HashMap::new()
        } else {
            let ids: Vec<String> = chunk
                .iter()
                .filter(|o| !before.contains_key(&o.id))
                .map(|o| o.id.clone())
                .collect();
            sink.latest(&ids).await?
        };
        for o in &chunk {
            if repeated.contains(&o.id) && !before.contains_key(&o.id) {
                before.insert(o.id.clone(), stored.remove(&o.id));
            }
        }
        let mut to_write = Vec::with_capacity(chunk.len());
        let mut updates = HashSet::new();
        for mut o in chunk {
            let latest = match before.get(&o.id) {
                Some(b) => b.as_ref(),
                None => stored.get(&o.id),
            };
            let Some(latest) = latest else {
                to_write.push(o);
                continue;
            };
            if latest.version.is_some() && o.version.map(|t| t.to_string()) == latest.version {
                // The same (id, version) is stored: TAXII 2.1 §5.4 keeps one copy.
                counts.unchanged += 1;
                continue;
            }
            if versioning == Versioning::Producer {
                // The producer's own version, byte for byte: stored beside the others (an
                // older one too; the store answers `unchanged` for a version it holds).
                updates.insert(o.id.clone());
                to_write.push(o);
                continue;
            }
            match feeds::object::next_version(&o.raw_json, &latest.raw) {
                None => counts.unchanged += 1,
                Some(json) => {
                    if json != o.raw_json {
                        if let Ok(parsed) = StixObject::from_json_str(&json) {
                            o.version = parsed.version();
                        }
                        o.raw_json = json;
                    }
                    updates.insert(o.id.clone());
                    to_write.push(o);
                }
            }
        }
        // A local store's hashes of each object are computed here, while the store writes
        // the batch before: its one writer thread is what an import waits for.
        let digested: Vec<Digested> = match &sink {
            Sink::Local { .. } => std::mem::take(&mut to_write)
                .into_iter()
                .map(Digested::of)
                .collect(),
            Sink::Remote { .. } => Vec::new(),
        };
        // One batch is written at a time, in input order, while the next is compared.
        if let Some(p) = pending.take() {
            tally(p, &mut counts, &bar).await?;
        }
        match &sink {
            Sink::Local { store, collection } if !digested.is_empty() => {
                let task = tokio::spawn(Sink::write_local(
                    store.clone(),
                    collection.clone(),
                    digested,
                ));
                pending = Some((task, updates));
            }
            // The TAXII client's push is not `Send`; a server's own latency dominates.
            Sink::Remote {
                client,
                collection,
                status_timeout,
            } if !to_write.is_empty() => {
                let fates =
                    Sink::push_remote(client, collection, *status_timeout, to_write).await?;
                count_fates(fates, &updates, &mut counts, &bar);
            }
            _ => {}
        }
        bar.inc(n);
    }
    if let Some(p) = pending.take() {
        tally(p, &mut counts, &bar).await?;
    }
    bar.finish_and_clear();
    Ok(counts)
}

/// Waits for a batch's writes and counts their fates.
async fn tally(pending: Pending, counts: &mut Counts, bar: &ProgressBar) -> Result<()> {
    let (task, updates) = pending;
    let fates = task
        .await
        .map_err(|e| anyhow::anyhow!("the write task failed: {e}"))??;
    count_fates(fates, &updates, counts, bar);
    Ok(())
}

/// Counts a batch's fates; refusals go to stderr.
fn count_fates(
    fates: Vec<(String, Fate)>,
    updates: &HashSet<String>,
    counts: &mut Counts,
    bar: &ProgressBar,
) {
    for (id, fate) in fates {
        match fate {
            Fate::Stored if updates.contains(&id) => counts.updated += 1,
            Fate::Stored => counts.created += 1,
            Fate::Unchanged => counts.unchanged += 1,
            Fate::Refused(why) => {
                bar.suspend(|| eprintln!("refused: {id}: {why}"));
                counts.refused += 1;
            }
        }
    }
}

/// A count of objects on a terminal, nothing when stderr is piped.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} objects {elapsed}") {
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
