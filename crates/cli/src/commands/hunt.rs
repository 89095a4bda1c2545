//! `entente hunt`: match telemetry against shared indicators.
//!
//! Wiring only: the indicators are read here (a file, or a TAXII 2.1 collection through the
//! `taxii` client) and loaded by `hunt::indicators`; each input is opened as a
//! `hunt::Reader`; every event goes through a `hunt::hunt::Hunter`, which writes alert lines
//! and gathers sightings. This module adds the progress spinner (on a terminal only) and the
//! summary on stderr.
//!
//! The engine is `hunt::engine::Compiled`, the compiled multi-indicator matcher of
//! `matcher::compiled` fed as a stream (its cost per event does not grow with the number of
//! indicators; multi-event patterns match across events).
//!
//! Exit statuses: 0 the hunt ran (whether or not anything matched); 2 usage error, or an
//! input, indicator source or output that could not be read or written.
//!
//! Tests: `crates/cli/tests/it/hunt.rs`.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hunt::engine::Compiled;
use hunt::hunt::Hunter;
use hunt::indicators::LoadReport;
use hunt::reader::mapped::Mapping;
use hunt::warninglist::Warninglists;
use hunt::{Format, Reader};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const AFTER_HELP: &str = "\
Inputs are Zeek logs (JSON, also the @stream/id_orig_h variant, or TSV with #fields),
Suricata EVE JSON, STIX observed-data NDJSON (one bundle per line), or any NDJSON with a
--mapping file; gzip is detected by content. --format auto tells them apart by their first
line. A malformed line is reported with FILE:LINE and counted; the run goes on.

Alerts are NDJSON, one line per (event, indicator) match:
  {\"indicator\":\"indicator--…\",\"name\":…,\"source\":{\"file\":…,\"line\":N},\"time\":…,
   \"matched\":[{\"path\":\"domain-name:value\",\"value\":\"evil.example\"}]}
--sightings writes a STIX 2.1 bundle: the hunter's identity and one sighting per matched
indicator, ready to push back to the producers' collection.

A mapping file (JSON) names the time field and the object path of each field:
  {\"time\": \"ts\", \"fields\": {\"src\": \"ipv4-addr:value\", \"qname\": \"domain-name:value\"}}

Examples:
  entente hunt --indicators intel.json zeek/dns.log.gz zeek/http.log suricata/eve.json
  entente hunt --indicators intel.json --warninglists misp-warninglists/lists \\
      --alerts alerts.ndjson --sightings sightings.json --identity \"ACME SOC\" logs/*.log
  entente hunt --indicators https://taxii.example/api1/collections/ID/ --token \"$TOKEN\" eve.json
  entente hunt --indicators intel.json --format ndjson --mapping proxy.json proxy.ndjson";

/// Hunt telemetry for indicators.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Indicators: a STIX file (bundle, JSON array or NDJSON; gzip allowed) or a TAXII 2.1
    /// collection URL (…/collections/ID/).
    #[arg(long, value_name = "SOURCE")]
    pub indicators: String,

    /// Input format.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    pub format: FormatArg,

    /// Mapping file for generic NDJSON input.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,

    /// Write alerts here instead of stdout.
    #[arg(long, value_name = "OUT")]
    pub alerts: Option<PathBuf>,

    /// Write a STIX bundle of sightings here.
    #[arg(long, value_name = "OUT")]
    pub sightings: Option<PathBuf>,

    /// Name of the identity the sightings are made by and where they were sighted.
    #[arg(long, value_name = "NAME", default_value = "entente hunter")]
    pub identity: String,

    /// Directory of MISP warninglists: indicators whose values are on one are suppressed.
    #[arg(long, value_name = "DIR")]
    pub warninglists: Option<PathBuf>,

    /// API token for a TAXII indicator source (default: $ENTENTE_TOKEN).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,

    /// Telemetry files.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Tell by content.
    Auto,
    /// Zeek JSON or TSV.
    Zeek,
    /// Suricata EVE JSON.
    Eve,
    /// STIX observed-data NDJSON.
    Stix,
    /// Generic NDJSON with --mapping.
    Ndjson,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Auto => Format::Auto,
            FormatArg::Zeek => Format::Zeek,
            FormatArg::Eve => Format::Eve,
            FormatArg::Stix => Format::Stix,
            FormatArg::Ndjson => Format::Ndjson,
        }
    }
}

/// Runs the hunt and chooses the exit status.
pub fn run(args: Args) -> ExitCode {
    match hunt_all(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("entente hunt: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Per-input counts for the summary.
struct InputSummary {
    name: String,
    events: u64,
    bad_lines: u64,
}

fn hunt_all(args: &Args) -> Result<()> {
    if args.format == FormatArg::Ndjson && args.mapping.is_none() {
        bail!("--format ndjson needs --mapping FILE");
    }
    let mapping = match &args.mapping {
        Some(p) => Some(Arc::new(Mapping::load(p)?)),
        None => None,
    };
    let warninglists = match &args.warninglists {
        Some(dir) => {
            let t = Instant::now();
            let w = Warninglists::load_dir(dir)?;
            tracing::info!(
                "{} warninglists, {} entries loaded in {:.2?}",
                w.list_count(),
                w.entry_count(),
                t.elapsed()
            );
            Some(w)
        }
        None => None,
    };
    let source_bytes = read_indicator_source(args)?;
    let compile_started = Instant::now();
    let (mut engine, report) =
        Compiled::load(&source_bytes, &args.indicators, warninglists.as_ref())?;
    drop(source_bytes);
    tracing::info!(
        "indicators loaded and compiled in {:.2?}",
        compile_started.elapsed()
    );
    for why in engine.skipped.iter().take(20) {
        tracing::warn!("indicator not compiled: {why}");
    }
    let not_compiled = engine.skipped.len() as u64;
    let mut hunter = Hunter::new(&mut engine);

    let mut alerts_out: Box<dyn Write> = match &args.alerts {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    };
    let bar = spinner();
    let started = Instant::now();
    let mut inputs = Vec::new();
    for path in &args.inputs {
        let mut reader = Reader::open(path, args.format.into(), mapping.clone())?;
        // STIX lines that no indicator can match are recognised on their text and never
        // parsed into JSON (most lines of a hunt).
        reader.set_quiet_filter(hunter.quiet_filter());
        loop {
            let item = reader.next_item()?;
            let Some(item) = item else { break };
            match item {
                Ok(event) => {
                    hunter.event(&event, &mut alerts_out)?;
                }
                Err(bad) => hunter.bad_line(&bad),
            }
            let n = hunter.stats().events;
            if n % 4096 == 0 {
                bar.set_message(format!(
                    "{n} events, {} alerts  {}",
                    hunter.stats().alerts,
                    path.display()
                ));
            }
        }
        let stats = reader.stats();
        inputs.push(InputSummary {
            name: path.display().to_string(),
            events: stats.events,
            bad_lines: stats.bad_lines,
        });
    }
    alerts_out.flush().context("cannot write the alerts")?;
    drop(alerts_out);
    bar.finish_and_clear();
    let elapsed = started.elapsed();

    if let Some(p) = &args.sightings {
        let bundle = hunter
            .sightings()
            .bundle(&args.identity, jiff::Timestamp::now());
        write_json(p, &bundle)?;
    }
    let hunted = hunter.indicator_count();
    summary(
        args,
        &report,
        not_compiled,
        hunted,
        &hunter,
        &inputs,
        elapsed,
    );
    Ok(())
}

/// The indicator source's bytes: a file, or every indicator of a TAXII collection as NDJSON.
fn read_indicator_source(args: &Args) -> Result<Vec<u8>> {
    let src = &args.indicators;
    if src.starts_with("http://") || src.starts_with("https://") {
        return fetch_taxii(src, args.token.clone());
    }
    Ok(hunt::input::read_all(Path::new(src))?)
}

/// Pulls the indicators of `…/collections/ID/` (latest versions) as NDJSON.
fn fetch_taxii(url: &str, token: Option<String>) -> Result<Vec<u8>> {
    use taxii::client::{Auth, Client, Filter};
    let trimmed = url.trim_end_matches('/');
    let Some((root, id)) = trimmed
        .rsplit_once("/collections/")
        .filter(|(_, id)| !id.is_empty() && !id.contains('/'))
    else {
        bail!("{url}: a TAXII indicator source must be a collection URL (…/collections/ID/)");
    };
    let root = format!("{root}/");
    let token = token.or_else(|| std::env::var(super::remote::TOKEN_ENV).ok());
    let auth = match token {
        Some(t) if !t.is_empty() => Auth::Bearer(t),
        _ => Auth::None,
    };
    let client = Client::new(auth).context("cannot create the TAXII client")?;
    let rt = super::remote::runtime()?;
    rt.block_on(async {
        let api_root = client
            .resolve_api_root(&root, Some(&root))
            .await
            .with_context(|| format!("{root}: not an API root URL"))?;
        let collection = taxii::client::CollectionRef::new(api_root, id);
        let filter = Filter {
            types: vec!["indicator".to_owned()],
            versions: vec!["last".to_owned()],
            ..Filter::default()
        };
        let mut pager = client.objects(&collection, filter);
        let mut out = Vec::new();
        while let Some(page) = pager
            .next_page()
            .await
            .with_context(|| format!("cannot read collection {url}"))?
        {
            for object in &page.items {
                out.extend_from_slice(object.get().as_bytes());
                out.push(b'\n');
            }
        }
        Ok(out)
    })
}

/// Writes `value` as pretty JSON to `path`.
fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut w, value)?;
    w.write_all(b"\n")?;
    w.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The summary on stderr.
fn summary(
    args: &Args,
    report: &LoadReport,
    not_compiled: u64,
    hunted: usize,
    hunter: &Hunter<'_>,
    inputs: &[InputSummary],
    elapsed: Duration,
) {
    let s = hunter.stats();
    let mut err = io::stderr().lock();
    let mut skipped = Vec::new();
    for (n, what) in [
        (report.not_stix, "not pattern_type stix"),
        (report.revoked, "revoked"),
        (report.superseded, "older versions"),
        (report.invalid, "invalid patterns"),
        (report.suppressed, "on a warninglist"),
        (not_compiled, "refused by the compiled matcher"),
    ] {
        if n > 0 {
            skipped.push(format!("{n} {what}"));
        }
    }
    let _ = writeln!(
        err,
        "indicators: {hunted} hunted from {}{}",
        args.indicators,
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" (skipped: {})", skipped.join(", "))
        }
    );
    if !report.suppressed_by.is_empty() {
        let mut by: Vec<_> = report.suppressed_by.iter().collect();
        by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = by.iter().take(5).map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(err, "suppressed by: {}", top.join(", "));
    }
    for i in inputs {
        let _ = writeln!(
            err,
            "{}: {} events, {} bad lines",
            i.name, i.events, i.bad_lines
        );
    }
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.events as f64 / secs
    } else {
        0.0
    };
    let _ = writeln!(
        err,
        "{} events, {} bad lines, {} alerts, {} indicators hit, {:.0} events/s ({:.2?})",
        s.events,
        s.bad_lines,
        s.alerts,
        hunter.sightings().len(),
        rate,
        elapsed
    );
    if s.eval_failures > 0 || s.unloadable_events > 0 {
        let _ = writeln!(
            err,
            "{} evaluations without an answer, {} events not usable as observed-data",
            s.eval_failures, s.unloadable_events
        );
    }
}

/// A spinner with counts on a terminal; hidden when stderr is not one.
fn spinner() -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
