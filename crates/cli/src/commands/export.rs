//! `entente export`: the plain-observable indicators of a collection (or a file), written for
//! network sensors — Zeek Intel, Suricata datasets — or as CSV or a STIX bundle.
//!
//! Wiring only: the objects are read here (a local store, any TAXII 2.1 server through the
//! `taxii` client, or a STIX file), handed to a `sensors::Selector` and written with the
//! `sensors` writers. Outputs are written beside their final name and renamed into place,
//! so a sensor that reloads a file never reads half of one. Every export also writes a
//! state file recording the exported values; `--since STATE` compares with it and writes
//! the delta (see the help text).
//!
//! Tests: `crates/cli/tests/it/export.rs` (every source, every format, deltas);
//! `interop/test_export.py` loads the Suricata output in Suricata itself.

use std::io::{BufWriter, IsTerminal, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sensors::delta::{Delta, State, delta};
use sensors::select::{LinkStyle, Selected, Selection, Selector, Skip};
use sensors::suricata::{Datasets, Set};
use sensors::{Observable, bundle, csv, zeek};
use stix::TlpLevel;
use store::{ObjectQuery, VersionMatch};
use taxii::client::{CollectionRef, Filter};

use super::local::{StoreArgs, StoreLocation};
use super::remote::{RemoteArgs, runtime};

const AFTER_HELP: &str = "\
Only indicators whose pattern is a plain observable are exported: one equality or IN set on
a value (ipv4-addr/ipv6-addr:value, domain-name:value, url:value, email-addr:value,
file:hashes.*, file:name, x509-certificate:hashes.'SHA-1', software:name,
user-account:account_login/user_id, network-traffic:dst_ref/src_ref.value), or an OR of
them, also across observation expressions without qualifiers. The others are listed on
stderr with the reason. Of several versions the latest is used; revoked indicators and
those whose valid_until has passed are skipped and counted. The summary goes to stdout:
  exported V values of N indicators; not exportable K, invalid I, revoked R, expired E, ...

Formats:
  zeek-intel        Zeek Intel framework file (#fields indicator indicator_type meta.source
                    meta.desc meta.url); URLs without scheme; meta.source = the producer
                    (creator identity's name), meta.desc = the indicator's name, meta.url =
                    the TAXII object URL (with --server) or the STIX id.
  suricata-dataset  a directory: one list per dataset (domain.lst, url-host.lst,
                    url-path.lst, md5.lst, sha1.lst, sha256.lst, cert-sha1.lst,
                    file-name.lst base64 or hex; ipv4.lst, ipv6.lst) and entente.rules for
                    Suricata 7. Load with: suricata -S DIR/entente.rules
                    --set default-rule-path=DIR
  csv               header: type,value,indicator_id,indicator_name,producer,link,valid_until
  stix              a STIX 2.1 bundle of the exported indicators, as received

Deltas: every export writes the exported value set to a state file (--state, default
OUT.state.json). With --since STATE, the values added and removed since that export are
written too, so sensors can update without a reload:
  zeek-intel        OUT.added (an Intel file: add it to Intel::read_files or Input::add it)
                    and OUT.removed (same columns; call Intel::remove(item, T) per line)
  csv               OUT.added and OUT.removed (same header)
  suricata-dataset  DIR/added/*.lst, DIR/removed/*.lst and DIR/dataset-commands.txt, one
                    dataset-add / dataset-remove unix-socket command per line (for
                    `suricatasc -c`); address lists live in entente.rules and need a reload
The full export is written as well, so a sensor may also simply reload it.

Exit status: 0 written (whether or not some indicators were not exportable), 2 usage
error, unreadable input, or a failed store or server.

Examples:
  entente export zeek-intel --data ./entente-data --collection \"$ID\" --out intel.dat
  entente export suricata-dataset --server http://127.0.0.1:7350 --token \"$T\" \\
      --collection \"$ID\" --out /etc/suricata/entente
  entente export zeek-intel --file shared.json --out intel.dat --since intel.dat.state.json
  entente export csv --file bundle.json --out values.csv";

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The Zeek Intel framework's TSV
    ZeekIntel,
    /// Suricata dataset lists and rules (a directory)
    SuricataDataset,
    /// CSV with a fixed header
    Csv,
    /// A STIX 2.1 bundle of the exported indicators
    Stix,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::ZeekIntel => "zeek-intel",
            Format::SuricataDataset => "suricata-dataset",
            Format::Csv => "csv",
            Format::Stix => "stix",
        }
    }
}

/// Export a collection's indicators for Zeek, Suricata, as CSV or STIX.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The output format.
    #[arg(value_enum)]
    pub format: Format,

    #[command(flatten)]
    pub store: StoreArgs,

    /// A TAXII 2.1 server to read the collection from instead of a local store.
    #[arg(long, value_name = "URL", conflicts_with_all = ["data", "database", "file"])]
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

    /// The collection's id (with a local store or --server).
    #[arg(long, value_name = "ID", required_unless_present = "file")]
    pub collection: Option<String>,

    /// A STIX document (object, array, bundle or NDJSON; .gz read transparently) instead of
    /// a collection.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["data", "database", "collection"])]
    pub file: Option<PathBuf>,

    /// Where to write: a file, or a directory for suricata-dataset.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,

    /// The state file of a previous export: also write the values added and removed since.
    #[arg(long, value_name = "STATE")]
    pub since: Option<PathBuf>,

    /// Where to write this export's state [default: OUT.state.json].
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// First Suricata rule id (suricata-dataset); the rules use a few ids above it.
    #[arg(long, value_name = "SID", default_value_t = 1_980_000)]
    pub sid_base: u32,
}

/// Runs `entente export`.
pub fn run(args: Args) -> ExitCode {
    match export(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("entente export: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn export(args: &Args) -> Result<()> {
    if args.since.is_some() && args.format == Format::Stix {
        bail!("--since is not available for the stix format (it exports indicators, not values)");
    }
    let previous = match &args.since {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the state {}", path.display()))?;
            Some(
                State::from_json(&bytes, args.format.name())
                    .with_context(|| format!("{}", path.display()))?,
            )
        }
        None => None,
    };
    let now = jiff::Timestamp::now();
    // Only the STIX bundle writes the indicators' JSON; the other formats need not keep it.
    let keep_raw = args.format == Format::Stix;
    let (mut selected, links) = match &args.file {
        Some(path) => {
            let bytes = read_input(path)?;
            // The fast reader first, each record decided and dropped as it is read; a
            // document it refuses gets the stix parser's located error (or, should that
            // parser accept it, its objects).
            let mut selector = Selector::new(now, keep_raw);
            match sensors::each_record(&bytes, |r| selector.add(&r)) {
                Ok(()) => (selector.finish(), LinkStyle::StixId),
                Err(_) => {
                    let objects = stix::parse_document(&bytes)
                        .map_err(|e| anyhow::anyhow!("{}:{e}", path.display()))?;
                    let mut selector = Selector::new(now, keep_raw);
                    for o in &objects {
                        selector.add(o);
                    }
                    (selector.finish(), LinkStyle::StixId)
                }
            }
        }
        None => read_collection(args, now, keep_raw)?,
    };
    write_outputs(args, previous.as_ref(), &selected.selection(&links))
}

/// Writes the export, its state and delta, and the summary line.
fn write_outputs(args: &Args, previous: Option<&State>, selection: &Selection<'_>) -> Result<()> {
    report_skipped(selection);

    let created = jiff::Timestamp::now().to_string();
    let state = State::new(
        args.format.name(),
        created,
        selection.exported.iter().flat_map(|e| &e.values),
    );
    let change = previous.map(|old| delta(old, &state));
    let mut unsupported = 0;
    match args.format {
        Format::ZeekIntel => {
            write_file(&args.out, |w| zeek::write(&selection.exported, w))?;
            if let Some(d) = &change {
                let added = added_entries(selection, d);
                write_file(&suffixed(&args.out, ".added"), |w| zeek::write(&added, w))?;
                write_file(&suffixed(&args.out, ".removed"), |w| {
                    zeek::write_removals(&d.removed, w)
                })?;
            }
        }
        Format::Csv => {
            write_file(&args.out, |w| csv::write(&selection.exported, w))?;
            if let Some(d) = &change {
                let added = added_entries(selection, d);
                write_file(&suffixed(&args.out, ".added"), |w| csv::write(&added, w))?;
                write_file(&suffixed(&args.out, ".removed"), |w| {
                    csv::write_values(&d.removed, w)
                })?;
            }
        }
        Format::Stix => {
            let id = format!("bundle--{}", uuid::Uuid::new_v4());
            write_file(&args.out, |w| bundle::write(&selection.exported, &id, w))?;
        }
        Format::SuricataDataset => {
            let sets = Datasets::build(selection.exported.iter().flat_map(|e| &e.values));
            unsupported = sets.unsupported();
            write_suricata(&args.out, &sets, args.sid_base)?;
            if let Some(d) = &change {
                write_suricata_delta(&args.out, d)?;
            }
        }
    }
    let state_path = args
        .state
        .clone()
        .unwrap_or_else(|| suffixed(&args.out, ".state.json"));
    write_file(&state_path, |w| w.write_all(&state.to_json()))?;

    let c = &selection.counts;
    let mut summary = format!(
        "exported {} values of {} indicators; not exportable {}, invalid {}, revoked {}, \
         expired {}, superseded {}",
        c.values, c.exported, c.not_exportable, c.invalid, c.revoked, c.expired, c.superseded
    );
    if args.format == Format::SuricataDataset {
        summary.push_str(&format!(", no suricata keyword {unsupported}"));
    }
    if let Some(d) = &change {
        summary.push_str(&format!(
            "; since the previous export: added {}, removed {}",
            d.added.len(),
            d.removed.len()
        ));
    }
    println!("{summary}");
    Ok(())
}

/// The selection over the collection to export from, and how its links look.
fn read_collection(
    args: &Args,
    now: jiff::Timestamp,
    keep_raw: bool,
) -> Result<(Selected, LinkStyle)> {
    let Some(collection) = args.collection.as_deref() else {
        bail!("give --collection ID (with --data, --database or --server) or --file PATH");
    };
    let bar = spinner();
    let mut selector = Selector::new(now, keep_raw);
    let result = match (&args.server, args.store.location()) {
        (None, StoreLocation::DataDir(dir)) => {
            scan_data_dir(&dir, collection, &mut selector, &bar).map(|()| LinkStyle::StixId)
        }
        (Some(server), _) => runtime()?
            .block_on(async { read_remote(args, server, collection, &mut selector, &bar).await }),
        (None, StoreLocation::Database(_)) => {
            // Two workers: the store reads the next page while this thread takes the last.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            rt.block_on(async { read_local(args, collection, &mut selector, &bar).await })
                .map(|()| LinkStyle::StixId)
        }
    };
    bar.finish_and_clear();
    Ok((selector.finish(), result?))
}

/// A run of stored objects' JSON texts, back to back in one buffer: the reader thread
/// fills it, the selecting thread reads it and hands it back to be refilled, so a million
/// objects cost a few buffers instead of a million strings.
#[derive(Default)]
struct Batch {
    text: String,
    ends: Vec<usize>,
}

impl Batch {
    /// Bytes of JSON per batch: large enough that the channel is rarely touched, small
    /// enough that the buffers in flight stay in the cache's neighbourhood.
    const BYTES: usize = 1 << 20;

    fn texts(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let t = &self.text[start..end];
            start = end;
            t
        })
    }

    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }
}

/// Reads the indicators and identities of a collection of a data directory (latest
/// versions, every TLP level: the caller holds the data directory) into `selector`. A
/// thread of its own reads the SQLite file in one transaction (`SqliteStore::scan_latest`)
/// while this one parses and selects: the two halves of an export take about as long.
fn scan_data_dir(
    dir: &Path,
    collection: &str,
    selector: &mut Selector,
    bar: &ProgressBar,
) -> Result<()> {
    let store = store::bootstrap::open_data_dir(dir)
        .with_context(|| format!("opening the store in {}", dir.display()))?;
    let (full, filled) = mpsc::sync_channel::<Batch>(2);
    let (empty, emptied) = mpsc::channel::<Batch>();
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut batch = Batch::default();
            let scanned = store.scan_latest(collection, &["indicator", "identity"], |raw| {
                batch.text.push_str(raw);
                batch.ends.push(batch.text.len());
                if batch.text.len() >= Batch::BYTES {
                    let next = emptied.try_recv().unwrap_or_default();
                    if full.send(std::mem::replace(&mut batch, next)).is_err() {
                        // The selecting side has stopped (and says why).
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            });
            if !batch.ends.is_empty() {
                let _ = full.send(batch);
            }
            scanned
        });
        let mut read = 0usize;
        let mut selected = Ok(());
        for mut batch in filled.iter() {
            for text in batch.texts() {
                match sensors::parse_record(text) {
                    Ok(r) => selector.add(&r),
                    Err(e) => {
                        selected = Err(e).context("a stored object is not a STIX object");
                        break;
                    }
                }
            }
            if selected.is_err() {
                break;
            }
            read += batch.ends.len();
            bar.set_message(format!("{read} objects read"));
            batch.clear();
            let _ = empty.send(batch);
        }
        // Ends the reader's sends, should this side have stopped early.
        drop(filled);
        let scanned = match reader.join() {
            Ok(r) => r,
            Err(_) => bail!("the store reader thread panicked"),
        };
        selected?;
        match scanned {
            Err(store::StoreError::NotFound { .. }) => {
                bail!("no collection {collection} in the store")
            }
            r => r.with_context(|| format!("cannot read collection {collection}")),
        }
    })
}

/// Objects read from a PostgreSQL store per query: large pages, since each is one
/// statement.
const LOCAL_PAGE: usize = 10_000;

/// Indicators and identities of a collection of a PostgreSQL store (latest versions, every
/// TLP level: the caller holds the database) into `selector`.
async fn read_local(
    args: &Args,
    collection: &str,
    selector: &mut Selector,
    bar: &ProgressBar,
) -> Result<()> {
    let store = args.store.open().await?;
    if store
        .collection(collection)
        .await
        .context("cannot read the collection")?
        .is_none()
    {
        bail!("no collection {collection} in the store");
    }
    let page_query = |next: Option<String>| ObjectQuery {
        types: vec!["indicator".into(), "identity".into()],
        versions: vec![VersionMatch::Last],
        limit: LOCAL_PAGE,
        next,
        max_tlp: TlpLevel::Red,
        ..ObjectQuery::default()
    };
    let mut read = 0usize;
    let mut next = None;
    loop {
        let page = store
            .query_objects(collection, &page_query(next.take()))
            .await
            .with_context(|| format!("cannot read collection {collection}"))?;
        for o in &page.items {
            let r = sensors::parse_record(&o.raw_json)
                .context("a stored object is not a STIX object")?;
            selector.add(&r);
        }
        read += page.items.len();
        bar.set_message(format!("{read} objects read"));
        match page.next {
            Some(n) if page.more => next = Some(n),
            _ => break,
        }
    }
    Ok(())
}

/// Indicators and identities of a TAXII collection (latest versions); links are the
/// objects' TAXII URLs.
async fn read_remote(
    args: &Args,
    server: &str,
    collection: &str,
    selector: &mut Selector,
    bar: &ProgressBar,
) -> Result<LinkStyle> {
    let remote = RemoteArgs {
        server: server.to_owned(),
        token: args.token.clone(),
        user: args.user.clone(),
        password: args.password.clone(),
        api_root: args.api_root.clone(),
        timeout: 120,
    };
    let client = remote.client()?;
    let target: CollectionRef = remote.collection(&client, collection).await?;
    let filter = Filter {
        types: vec!["indicator".into(), "identity".into()],
        versions: vec!["last".into()],
        limit: Some(1000),
        ..Filter::default()
    };
    let mut pager = client.objects(&target, filter);
    let mut read = 0usize;
    while let Some(page) = pager
        .next_page()
        .await
        .with_context(|| format!("cannot read collection {collection}"))?
    {
        for raw in &page.items {
            let r = sensors::parse_record(raw.get())
                .context("the server sent an object that is not a STIX object")?;
            selector.add(&r);
        }
        read += page.items.len();
        bar.set_message(format!("{read} objects, {} pages", pager.pages()));
    }
    let collection_url = format!("{}collections/{}/", target.api_root, target.id);
    Ok(LinkStyle::Taxii { collection_url })
}

/// A file's bytes, gunzipped when it ends in `.gz`; `-` is stdin.
fn read_input(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
        return Ok(bytes);
    }
    if path.extension().is_some_and(|e| e == "gz") {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        flate2::read::MultiGzDecoder::new(file)
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(bytes);
    }
    // One allocation of the file's size: growing a buffer by doubling copied and faulted
    // in about twice the bytes of a 400 MB export input.
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Lists on stderr every indicator that could not be exported for its pattern (revoked and
/// expired ones are only counted).
fn report_skipped(selection: &Selection) {
    let stderr = std::io::stderr();
    let mut err = BufWriter::new(stderr.lock());
    for s in &selection.skipped {
        if matches!(s.reason, Skip::Revoked | Skip::Expired(_)) {
            continue;
        }
        // Nothing useful to do if stderr is gone.
        let _ = writeln!(err, "{}: {}", s.id, s.reason);
    }
    let _ = err.flush();
}

/// The exported indicators narrowed to the values a delta added.
fn added_entries<'a>(selection: &Selection<'a>, d: &Delta) -> Vec<sensors::Exported<'a>> {
    let added: std::collections::HashSet<&Observable> = d.added.iter().collect();
    let mut seen = std::collections::HashSet::new();
    selection
        .exported
        .iter()
        .filter_map(|e| {
            let values: Vec<Observable> = e
                .values
                .iter()
                .filter(|v| added.contains(v) && seen.insert(*v))
                .cloned()
                .collect();
            (!values.is_empty()).then(|| sensors::Exported {
                values,
                ..e.clone()
            })
        })
        .collect()
}

/// `PATH` + `suffix` (on the file name).
fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// Writes a file through `.NAME.partial` beside it, renamed into place when complete.
fn write_file(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = suffixed(
        &path.with_file_name(format!(
            ".{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        )),
        ".partial",
    );
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let written = body(&mut w).and_then(|()| w.flush());
    if let Err(e) = written {
        // Best effort: the partial file is useless, and the error is the news.
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn write_lines<'a>(path: &Path, lines: impl Iterator<Item = &'a str>) -> Result<()> {
    write_file(path, |w| {
        for l in lines {
            w.write_all(l.as_bytes())?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

fn write_suricata(dir: &Path, sets: &Datasets, sid_base: u32) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for set in Set::ALL {
        write_lines(&dir.join(set.file_name()), sets.lines(set))?;
    }
    let rules = sets.rules(sid_base);
    write_file(&dir.join("entente.rules"), |w| {
        w.write_all(rules.as_bytes())
    })
}

fn write_suricata_delta(dir: &Path, d: &Delta) -> Result<()> {
    let added = Datasets::build(&d.added);
    let removed = Datasets::build(&d.removed);
    for (sub, sets) in [("added", &added), ("removed", &removed)] {
        let sub = dir.join(sub);
        std::fs::create_dir_all(&sub)
            .with_context(|| format!("cannot create {}", sub.display()))?;
        for set in Set::ALL {
            write_lines(&sub.join(set.file_name()), sets.lines(set))?;
        }
    }
    let commands = added.commands("dataset-add") + &removed.commands("dataset-remove");
    write_file(&dir.join("dataset-commands.txt"), |w| {
        w.write_all(commands.as_bytes())
    })
}

/// A spinner with a count on a terminal, nothing when stderr is piped.
fn spinner() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
