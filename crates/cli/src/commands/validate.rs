//! `entente validate`: STIX 2.1 documents checked against the spec's rules.
//!
//! This module is I/O and rendering only. It reads each input (a file, a `.gz` file, or stdin),
//! hands the bytes to `stix::parse_document` and `stix::validate_document`, and prints what
//! they report. The one piece of wiring it adds is the pattern checker: the `stix` crate must
//! not depend on `pattern` (layer 0 never calls layer 1, see ARCHITECTURE.md), so the CLI
//! injects the `pattern` crate's validator through `ValidateOptions::pattern_checker`.
//!
//! Exit statuses: 0 every object is valid; 1 some object broke a rule (or, with `--strict`,
//! raised a warning); 2 usage error, unreadable input, or input that is not JSON. When both
//! 1 and 2 apply, 2 wins: an input we could not read may hide any number of errors.
//!
//! Tests: `crates/cli/tests/it/validate.rs` runs the real binary; the interop suite
//! (`interop/test_validator_agreement.py`) compares its verdicts with the OASIS validator.

use std::fmt::Display;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};
use stix::{Diagnostic, Severity, ValidateOptions};

const AFTER_HELP: &str = "\
Each input may hold one STIX object, a JSON array of objects, a bundle, or NDJSON (one object
per line). Gzip-compressed input (such as MITRE ATT&CK's .json.gz releases) is detected and
decompressed. Indicators with pattern_type \"stix\" also get their pattern checked.

Problems are printed one per line as FILE:LINE: OBJECT_ID: POINTER: MESSAGE [RULE]; warnings
start with \"warning: \". A summary goes to stderr.

Exit status: 0 all objects valid, 1 some object invalid (or a warning with --strict),
2 usage error, unreadable input, or input that is not JSON.

Examples:
  entente validate bundle.json
  entente validate --strict attack/*.json.gz
  curl -s https://example.org/feed.json | entente validate --format json -";

/// Validate STIX 2.1 documents.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Files to read, or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format: one line per problem, or one JSON report on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Treat warnings (e.g. values outside an open vocabulary) as failures.
    #[arg(long)]
    pub strict: bool,
}

/// How `entente validate` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `FILE:LINE: diagnostic` lines, for people and grep.
    Text,
    /// One JSON report, for programs.
    Json,
}

/// Inputs at least this large in total get a progress bar on a terminal; below it a run is
/// over before a bar would be readable.
const PROGRESS_MIN_BYTES: u64 = 8 << 20;
/// Runs over this many files get a progress bar on a terminal whatever their size.
const PROGRESS_MIN_FILES: usize = 20;

/// Validates every input, prints the diagnostics and a summary, and chooses the exit status.
pub fn run(args: Args) -> ExitCode {
    match validate_all(&args) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("entente validate: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// What happened to one input.
enum Outcome {
    /// Parsed and validated.
    Checked {
        objects: usize,
        diagnostics: Vec<Diagnostic>,
    },
    /// Could not be read or decompressed.
    Unreadable(anyhow::Error),
    /// Read, but not a JSON document `stix::parse_document` accepts.
    NotJson(stix::ParseError),
}

/// Totals over all inputs, for the summary line and the exit status.
#[derive(Default)]
struct Totals {
    files: usize,
    objects: usize,
    errors: usize,
    warnings: usize,
    /// Inputs that could not be read or were not JSON.
    failed_inputs: usize,
}

impl Totals {
    fn exit_code(&self, strict: bool) -> u8 {
        if self.failed_inputs > 0 {
            2
        } else if self.errors > 0 || (strict && self.warnings > 0) {
            1
        } else {
            0
        }
    }
}

impl Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}, {} {}: {} {}, {} {}",
            self.files,
            plural(self.files, "file", "files"),
            self.objects,
            plural(self.objects, "object", "objects"),
            self.errors,
            plural(self.errors, "error", "errors"),
            self.warnings,
            plural(self.warnings, "warning", "warnings"),
        )?;
        if self.failed_inputs > 0 {
            write!(
                f,
                ", {} unreadable {}",
                self.failed_inputs,
                plural(self.failed_inputs, "input", "inputs")
            )?;
        }
        Ok(())
    }
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

fn validate_all(args: &Args) -> Result<u8> {
    let stdin_count = args.paths.iter().filter(|p| is_stdin(p)).count();
    anyhow::ensure!(stdin_count <= 1, "`-` (stdin) may be given only once");

    let checker = pattern_checker;
    let options = ValidateOptions {
        strict: args.strict,
        pattern_checker: Some(&checker),
        ..ValidateOptions::default()
    };

    let progress = progress_bar(&args.paths);
    let mut out = Output::new(args.format);
    let mut totals = Totals::default();

    for path in &args.paths {
        let name = display_name(path);
        progress.set_message(name.clone());
        let outcome = check_input(path, &options);
        totals.files += 1;
        match &outcome {
            Outcome::Checked {
                objects,
                diagnostics,
            } => {
                totals.objects += objects;
                for diagnostic in diagnostics {
                    match diagnostic.severity {
                        Severity::Error => totals.errors += 1,
                        Severity::Warning => totals.warnings += 1,
                    }
                }
            }
            Outcome::Unreadable(_) | Outcome::NotJson(_) => totals.failed_inputs += 1,
        }
        progress.suspend(|| {
            report_input_error(&name, &outcome);
            out.record(&name, &outcome)
        })?;
        progress.inc(1);
    }
    progress.finish_and_clear();

    out.finish(&totals, args.strict)?;
    eprintln!("{totals}");
    Ok(totals.exit_code(args.strict))
}

/// The `pattern` crate's validator, in the shape `stix::ValidateOptions` asks for: the
/// indicator's pattern and its `pattern_version`. The stix crate calls it only for
/// `pattern_type: "stix"` (STIX 2.1 §4.7 lets other languages through unchecked). For STIX
/// patterns §4.7 makes the indicator's `spec_version` the default `pattern_version`, 2.1
/// for the content we validate; an unrecognised `pattern_version` is checked as 2.1 too
/// rather than failing an otherwise valid pattern.
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

/// Reads, parses and validates one input. Errors become an `Outcome`, never a panic or an
/// early return: one bad file must not hide the report on the others.
fn check_input(path: &Path, options: &ValidateOptions<'_>) -> Outcome {
    let bytes = match read_input(path) {
        Ok(bytes) => bytes,
        Err(error) => return Outcome::Unreadable(error),
    };
    match stix::parse_document(&bytes) {
        Ok(objects) => {
            let diagnostics = stix::validate_document(&objects, options);
            Outcome::Checked {
                objects: objects.len(),
                diagnostics,
            }
        }
        Err(error) => Outcome::NotJson(error),
    }
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

/// The gzip member header's magic bytes (RFC 1952 §2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads a whole input, decompressing it when it is gzip. Detection is by content rather
/// than by the `.gz` suffix so that compressed stdin works too; a JSON document can never
/// start with byte 0x1f, so the check cannot misfire on JSON.
fn read_input(path: &Path) -> Result<Vec<u8>> {
    let mut raw = Vec::new();
    if is_stdin(path) {
        io::stdin()
            .lock()
            .read_to_end(&mut raw)
            .context("reading stdin")?;
    } else {
        raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    }
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    // MultiGzDecoder: a .gz file may hold several members (e.g. concatenated NDJSON
    // shards), and RFC 1952 §2.2 says they decompress to the concatenation.
    let mut decoded = Vec::with_capacity(raw.len().saturating_mul(8));
    flate2::read::MultiGzDecoder::new(raw.as_slice())
        .read_to_end(&mut decoded)
        .with_context(|| format!("decompressing {}", display_name(path)))?;
    Ok(decoded)
}

/// A bar over the number of inputs, drawn on stderr only when stderr is a terminal and the
/// run is long enough to need one; otherwise hidden, so pipes and logs stay clean.
fn progress_bar(paths: &[PathBuf]) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total_bytes: u64 = paths
        .iter()
        .filter(|p| !is_stdin(p))
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    if paths.len() < PROGRESS_MIN_FILES && total_bytes < PROGRESS_MIN_BYTES {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(paths.len() as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} files {wide_msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Where diagnostics go: streamed as text lines, or collected into one JSON report.
enum Output {
    Text(io::BufWriter<io::Stdout>),
    Json {
        files: Vec<Value>,
        errors: Vec<Value>,
        warnings: Vec<Value>,
    },
}

impl Output {
    fn new(format: Format) -> Self {
        match format {
            Format::Text => Output::Text(io::BufWriter::new(io::stdout())),
            Format::Json => Output::Json {
                files: Vec::new(),
                errors: Vec::new(),
                warnings: Vec::new(),
            },
        }
    }

    /// Reports one input's outcome.
    fn record(&mut self, name: &str, outcome: &Outcome) -> Result<()> {
        match self {
            // Flushed per input so lines appear while the progress bar is suspended.
            Output::Text(out) => write_text(out, name, outcome).and_then(|()| flush(out)),
            Output::Json {
                files,
                errors,
                warnings,
            } => {
                files.push(file_json(name, outcome));
                if let Outcome::Checked { diagnostics, .. } = outcome {
                    for diagnostic in diagnostics {
                        let value = diagnostic_json(name, diagnostic);
                        match diagnostic.severity {
                            Severity::Error => errors.push(value),
                            Severity::Warning => warnings.push(value),
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Flushes text output, or prints the JSON report.
    fn finish(self, totals: &Totals, strict: bool) -> Result<()> {
        match self {
            Output::Text(mut out) => flush(&mut out),
            Output::Json {
                files,
                errors,
                warnings,
            } => {
                let report = json!({
                    "valid": totals.exit_code(strict) == 0,
                    "strict": strict,
                    "summary": {
                        "files": totals.files,
                        "objects": totals.objects,
                        "errors": totals.errors,
                        "warnings": totals.warnings,
                        "unreadable": totals.failed_inputs,
                    },
                    "files": files,
                    "errors": errors,
                    "warnings": warnings,
                });
                let mut out = io::BufWriter::new(io::stdout());
                let written = serde_json::to_writer_pretty(&mut out, &report)
                    .map_err(io::Error::from)
                    .and_then(|()| writeln!(out));
                ignore_broken_pipe(written)?;
                flush(&mut out)
            }
        }
    }
}

/// Input-level failures go to stderr in both formats: they are not findings about STIX
/// objects, so a pipeline consuming stdout should not have to parse them, and a person
/// reading a JSON run still sees them.
fn report_input_error(name: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Checked { .. } => {}
        Outcome::Unreadable(error) => eprintln!("entente validate: {error:#}"),
        Outcome::NotJson(error) => eprintln!(
            "entente validate: {name}:{}:{}: not a JSON document: {}",
            error.line, error.column, error.message
        ),
    }
}

fn write_text(out: &mut impl Write, name: &str, outcome: &Outcome) -> Result<()> {
    let Outcome::Checked { diagnostics, .. } = outcome else {
        return Ok(());
    };
    let written = diagnostics.iter().try_for_each(|d| {
        let prefix = match d.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        writeln!(out, "{prefix}{name}:{}: {d}", d.location.line)
    });
    ignore_broken_pipe(written)
}

fn file_json(name: &str, outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Checked {
            objects,
            diagnostics,
        } => {
            let errors = diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            json!({
                "file": name,
                "objects": objects,
                "errors": errors,
                "warnings": diagnostics.len() - errors,
            })
        }
        Outcome::Unreadable(error) => json!({
            "file": name,
            "input_error": { "message": format!("{error:#}") },
        }),
        Outcome::NotJson(error) => json!({
            "file": name,
            "input_error": {
                "message": format!("not a JSON document: {}", error.message),
                "line": error.line,
                "column": error.column,
            },
        }),
    }
}

fn diagnostic_json(name: &str, diagnostic: &Diagnostic) -> Value {
    json!({
        "severity": match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        "object_id": diagnostic.object_id,
        "pointer": diagnostic.pointer,
        "rule": diagnostic.rule,
        "message": diagnostic.message,
        "file": name,
        "line": diagnostic.location.line,
    })
}

fn flush(out: &mut impl Write) -> Result<()> {
    ignore_broken_pipe(out.flush())
}

/// A reader that closed the pipe (`entente validate … | head`) has seen what it wanted; that
/// is not an error worth a message. Any other write failure is.
fn ignore_broken_pipe(result: io::Result<()>) -> Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}
