//! `entente pull`: a collection of any TAXII 2.1 server, as one STIX 2.1 bundle.
//!
//! The `taxii` client pages through the objects endpoint (`match[version]=last`, or `all`
//! with `--all-versions`); this module streams the objects, exactly as the server sent them,
//! into a bundle on stdout or in `--out`. A file is written beside its final name and renamed
//! into place only when the pull completed, so an interrupted pull never leaves a truncated
//! bundle that looks whole.
//!
//! With `--verify --key VKEY`, the pulled objects are checked against the server's
//! transparency log as `entente verify --collection` does (`verify::verify_pulled`):
//! checkpoint signature, consistency with the state file, inclusion of each object's
//! recomputed entry. A bundle file is renamed into place only when the checks hold.
//!
//! Exit statuses: 0 the bundle was written (and verified); 1 a log check failed (the cause
//! is printed); 2 usage error or a failed request.
//!
//! Tests: the interop suite (`interop/test_push_pull.py`) pushes and pulls through a real
//! `entente serve` and compares the objects byte for byte.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::value::RawValue;
use taxii::client::Filter;

use super::remote::{RemoteArgs, runtime};

const AFTER_HELP: &str = "\
Follows the server's pagination (next tokens, or X-TAXII-Date-Added-Last for servers that
give none) to the end. Objects are written exactly as the server sent them, in the order it
added them.

With --verify --key VKEY, each pulled object's inclusion in the server's transparency log
is checked as `entente verify --collection` does; with --out, the bundle is written only
when the checks hold.

Exit status: 0 bundle written, 1 a log check failed (the cause is printed), 2 usage error
or a failed request.

Examples:
  entente pull --server http://127.0.0.1:7350 --token \"$TOKEN\" \\
      --collection 5f0e6c1e-8a8e-4b8e-9d4c-0f6d2a8f1b11 --out shared.json
  entente pull --server https://taxii.example.org/taxii2/ --user alice --password \"$PW\" \\
      --collection high-value --added-after 2024-05-01T00:00:00Z --all-versions > new.json";

/// Pull a TAXII 2.1 collection into one STIX 2.1 bundle.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    #[command(flatten)]
    pub remote: RemoteArgs,

    /// The collection's id.
    #[arg(long, value_name = "ID")]
    pub collection: String,

    /// Only objects the server added after this timestamp (e.g. 2024-05-01T00:00:00Z).
    #[arg(long, value_name = "TIMESTAMP")]
    pub added_after: Option<String>,

    /// Write the bundle here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Every version of every object, not only the latest.
    #[arg(long)]
    pub all_versions: bool,

    /// Only objects of these types (repeatable).
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,

    /// Objects asked for per page; the server may send fewer.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub limit: u32,

    /// Check each pulled object's inclusion in the server's transparency log (needs --key)
    #[arg(long, requires = "key")]
    pub verify: bool,

    /// The log's verifier key, as `entente serve` prints it (with --verify)
    #[arg(long, value_name = "VKEY", requires = "verify")]
    pub key: Option<String>,

    /// File keeping the last checkpoint seen (with --verify) [default: as `entente verify`]
    #[arg(long, value_name = "FILE", requires = "verify")]
    pub state: Option<PathBuf>,
}

/// Runs `entente pull`.
pub fn run(args: Args) -> ExitCode {
    match pull(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if super::verify::is_failure(&e) => {
            eprintln!("entente pull: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("entente pull: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn pull(args: &Args) -> Result<()> {
    let client = args.remote.client()?;
    let filter = Filter {
        added_after: args.added_after.clone(),
        limit: Some(args.limit.max(1)),
        types: args.types.clone(),
        // TAXII 2.1 §3.4: `last` is the default, sent anyway for servers that differ.
        versions: vec![if args.all_versions { "all" } else { "last" }.to_owned()],
        ..Filter::default()
    };
    let rt = runtime()?;
    match &args.out {
        Some(path) => {
            let tmp = temp_path(path);
            let file = std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            let result = rt.block_on(async {
                let (count, pulled) =
                    write_bundle(args, &client, filter, BufWriter::new(file)).await?;
                check(args, &pulled).await?;
                Ok::<_, anyhow::Error>(count)
            });
            match result {
                Ok(count) => {
                    std::fs::rename(&tmp, path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("{count} objects written to {}", path.display());
                    Ok(())
                }
                Err(e) => {
                    // Best effort: the partial file is useless, and the error is the news.
                    let _ = std::fs::remove_file(&tmp);
                    Err(e)
                }
            }
        }
        None => {
            let stdout = std::io::stdout().lock();
            rt.block_on(async {
                let (_, pulled) =
                    write_bundle(args, &client, filter, BufWriter::new(stdout)).await?;
                check(args, &pulled).await
            })
        }
    }
}

/// With `--verify`, the log checks of `entente verify` for the pulled objects.
async fn check(args: &Args, pulled: &[Box<RawValue>]) -> Result<()> {
    let Some(key) = args.key.as_deref().filter(|_| args.verify) else {
        return Ok(());
    };
    let summary = super::verify::verify_pulled(
        &args.remote,
        key,
        args.state.clone(),
        &args.collection,
        pulled,
    )
    .await?;
    eprintln!("{summary}");
    Ok(())
}

/// `FILE` → `.FILE.partial` in the same directory, so the rename stays on one file system.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle.json".to_owned());
    path.with_file_name(format!(".{name}.partial"))
}

/// Streams the bundle: header, each object as received, trailer. Returns the object count
/// and, with `--verify`, the objects.
async fn write_bundle<W: Write>(
    args: &Args,
    client: &taxii::client::Client,
    filter: Filter,
    mut out: W,
) -> Result<(u64, Vec<Box<RawValue>>)> {
    let collection = args.remote.collection(client, &args.collection).await?;
    let bar = spinner();
    // STIX 2.1 §8: a bundle's id is `bundle--` and a UUID; v4 since it names nothing stable.
    write!(
        out,
        "{{\"type\":\"bundle\",\"id\":\"bundle--{}\",\"objects\":[",
        uuid::Uuid::new_v4()
    )?;
    let mut pager = client.objects(&collection, filter);
    let mut count = 0u64;
    let mut kept = Vec::new();
    while let Some(page) = pager
        .next_page()
        .await
        .with_context(|| format!("cannot read collection {}", args.collection))?
    {
        for object in &page.items {
            out.write_all(if count == 0 { b"\n" } else { b",\n" })?;
            out.write_all(object.get().as_bytes())?;
            count += 1;
        }
        if args.verify {
            kept.extend(page.items);
        }
        bar.set_message(format!("{count} objects, {} pages", pager.pages()));
    }
    out.write_all(if count == 0 { b"]}\n" } else { b"\n]}\n" })?;
    out.flush().context("cannot write the bundle")?;
    bar.finish_and_clear();
    Ok((count, kept))
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
