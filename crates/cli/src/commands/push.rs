//! `entente push`: STIX objects from files into a collection of any TAXII 2.1 server.
//!
//! Reading and rendering only: each file is read with `stix::parse_document` (one object, a
//! JSON array, a bundle, or NDJSON) and each object's exact text is handed to
//! `taxii::client::Client::push`, which splits envelopes, posts them and polls the statuses.
//! Objects are not validated here: the server validates and says why it refuses one, and a
//! server other than entente may accept what entente's rules would not.
//!
//! Exit statuses: 0 every object stored; 1 the server refused some object (or it is still
//! pending); 2 usage error, unreadable input, or a request that failed.
//!
//! Tests: the interop suite (`interop/test_push_pull.py`) pushes and pulls through a real
//! `entente serve`; the client has its own tests against a fake server.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use taxii::client::{PushOptions, PushProgress, PushReport};

use super::remote::{RemoteArgs, runtime};

const AFTER_HELP: &str = "\
Each file may hold one STIX object, a JSON array of objects, a bundle, or NDJSON; `-` reads
stdin. Objects are sent byte for byte as written (marking definitions first, the rest in
their order), in envelopes that fit the API root's max_content_length and --batch. Every status is polled until complete; the summary (and
each refused object's reason) goes to stdout.

Exit status: 0 all objects stored, 1 some object refused or still pending, 2 usage error,
unreadable input or a failed request.

Examples:
  entente push --server http://127.0.0.1:7350 --token \"$TOKEN\" \\
      --collection 5f0e6c1e-8a8e-4b8e-9d4c-0f6d2a8f1b11 indicators.json
  entente push --server https://taxii.example.org/taxii2/ --api-root feeds \\
      --user alice --password \"$PW\" --collection high-value a.json b.ndjson";

/// Push STIX objects to a TAXII 2.1 collection.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    #[command(flatten)]
    pub remote: RemoteArgs,

    /// The collection's id.
    #[arg(long, value_name = "ID")]
    pub collection: String,

    /// Files to push, or `-` for stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Most objects per envelope.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub batch: usize,

    /// Seconds to wait for the server to finish processing before reporting objects as pending.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub status_timeout: u64,
}

/// Runs `entente push`.
pub fn run(args: Args) -> ExitCode {
    match push(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("entente push: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Reads one input, whole.
fn read_input(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    }
    Ok(bytes)
}

fn push(args: &Args) -> Result<bool> {
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let mut objects = Vec::new();
    for path in &args.files {
        let bytes = read_input(path)?;
        let parsed = stix::parse_document(&bytes).map_err(|e| {
            anyhow::anyhow!("{}:{}:{}: {}", path.display(), e.line, e.column, e.message)
        })?;
        objects.extend(parsed);
    }
    // Marking definitions first (a stable sort, so everything else keeps its order): the
    // objects that carry a marking may come before its definition in a file — ATT&CK's
    // bundles define their copyright statement last — and a server recognises a statement
    // marking only once it is defined in the same envelope or stored.
    objects.sort_by_key(|o| o.type_name() != Some("marking-definition"));
    let texts: Vec<&str> = objects.iter().map(|o| o.raw()).collect();
    if texts.is_empty() {
        bail!("no STIX objects in the input");
    }

    let client = args.remote.client()?;
    let rt = runtime()?;
    let report = rt.block_on(async {
        let collection = args.remote.collection(&client, &args.collection).await?;
        let info = client
            .collection(&collection)
            .await
            .with_context(|| format!("cannot open collection {}", args.collection))?;
        if !info.can_write {
            bail!(
                "collection {} ({}) is not writable with these credentials",
                info.id,
                info.title
            );
        }
        let bar = progress_bar(texts.len() as u64);
        let options = PushOptions {
            max_objects: args.batch,
            status_timeout: Duration::from_secs(args.status_timeout),
            ..PushOptions::default()
        };
        let report = client
            .push(&collection, &texts, &options, &mut |p| match p {
                PushProgress::Sent { objects } => bar.inc(objects as u64),
                PushProgress::Split { objects } => {
                    bar.println(format!(
                        "server refused an envelope of {objects} objects as too large; splitting it"
                    ));
                }
            })
            .await
            .context("push failed")?;
        bar.finish_and_clear();
        Ok(report)
    })?;
    print_report(&report);
    Ok(report.all_succeeded())
}

/// A bar on a terminal, nothing when stderr is piped.
fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} objects sent {elapsed}") {
        bar.set_style(style);
    }
    bar
}

fn print_report(r: &PushReport) {
    println!(
        "{} objects in {} envelopes: {} succeeded, {} failed, {} pending",
        r.total, r.envelopes, r.success_count, r.failure_count, r.pending_count
    );
    for f in &r.failures {
        let version = f
            .version
            .as_deref()
            .map(|v| format!(" ({v})"))
            .unwrap_or_default();
        let why = f.message.as_deref().unwrap_or("no reason given");
        println!("failed: {}{version}: {why}", display_id(&f.id));
    }
    for p in &r.pendings {
        println!("pending: {}", display_id(&p.id));
    }
    let listed = r.failures.len() as u64;
    if listed < r.failure_count {
        println!(
            "({} more failures not listed by the server)",
            r.failure_count - listed
        );
    }
    if !r.status_ids.is_empty() && r.pending_count > 0 {
        println!("status ids: {}", r.status_ids.join(" "));
    }
}

fn display_id(id: &str) -> &str {
    if id.is_empty() {
        "(object without id)"
    } else {
        id
    }
}
