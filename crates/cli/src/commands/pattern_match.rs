//! `entente pattern match`: one pattern against the observed-data in a file.
//!
//! Wiring only: the `pattern` crate parses, the `matcher` crate compiles and evaluates, this
//! module reads the file, renders the verdict and picks the exit status — 0 match, 1 no
//! match, 2 for an invalid pattern, invalid input, an error the specification makes of the
//! evaluation (such as an `IN` set of mixed types) or an evaluation that hit its bound.

use std::process::ExitCode;

use matcher::{Binding, CompiledPattern, Error, Observations, Span};
use pattern::StixVersion;

/// Match a pattern against observed-data.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  entente pattern match \"[ipv4-addr:value ISSUBSET '198.51.100.0/24']\" bundle.json
  entente pattern match --stix-version 2.0 \\
      \"([file:name = 'a.exe'] FOLLOWEDBY [process:name = 'a.exe']) WITHIN 60 SECONDS\" obs.json

FILE holds what the OASIS matcher takes: a JSON array of observed-data objects (2.0 style,
with embedded \"objects\") and/or bundles (2.1 style: observed-data with \"object_refs\" plus
the SCOs they reference), or a single bundle.

Exit status: 0 match (the binding is printed), 1 no match, 2 invalid pattern, invalid input,
or an evaluation error.")]
pub struct Args {
    /// The STIX version whose pattern grammar applies.
    #[arg(long, value_name = "VERSION", default_value = "2.1", value_parser = parse_version)]
    pub stix_version: StixVersion,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The pattern text.
    pub pattern: String,
    /// JSON file with observed-data.
    pub file: std::path::PathBuf,
}

/// How the verdict is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `match` and one line per bound observation, or `no match`.
    Text,
    /// `{"match": bool, "binding": [{expression, span, observed_data, objects}]}`.
    Json,
}

fn parse_version(s: &str) -> Result<StixVersion, String> {
    s.parse()
}

/// Stack for the evaluation thread: the binding search recurses once per bound observation
/// (at most `EvalOptions::max_binding_size`), which can exceed a default main-thread stack in
/// debug builds.
const EVAL_STACK: usize = 64 << 20;

/// Runs `entente pattern match`.
pub fn run(args: Args) -> ExitCode {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: reading {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    let parsed = match pattern::parse(&args.pattern, args.stix_version) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}", e.render(&args.pattern));
            return ExitCode::from(2);
        }
    };
    let doc: serde_json::Value = match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}: not valid JSON: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    let worker = std::thread::Builder::new()
        .stack_size(EVAL_STACK)
        .spawn(move || evaluate(&args, &parsed, &doc))
        .map(|h| h.join());
    match worker {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => {
            eprintln!("error: the evaluation thread panicked");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: cannot start the evaluation thread: {e}");
            ExitCode::from(2)
        }
    }
}

/// Loads the observations, evaluates, and reports; runs on the evaluation thread.
fn evaluate(args: &Args, parsed: &pattern::Pattern, doc: &serde_json::Value) -> ExitCode {
    let observations = match Observations::from_json(doc) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    match CompiledPattern::new(parsed).and_then(|c| c.evaluate(&observations)) {
        Ok(binding) => report(args, binding.as_ref(), &observations),
        Err(e) => {
            eprintln!("{}", render_error(&args.pattern, &e));
            ExitCode::from(2)
        }
    }
}

fn report(args: &Args, binding: Option<&Binding>, observations: &Observations) -> ExitCode {
    match args.format {
        Format::Text => match binding {
            Some(b) => {
                println!("match");
                for line in b.describe(&args.pattern, observations) {
                    println!("  {line}");
                }
            }
            None => println!("no match"),
        },
        Format::Json => {
            let entries: Vec<serde_json::Value> = binding
                .map(|b| b.entries.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|e| {
                    let o = observations.get(e.observation);
                    serde_json::json!({
                        "expression": args.pattern.get(e.expression.start..e.expression.end),
                        "span": e.expression,
                        "observed_data": o.map(|o| o.name()),
                        "pointer": o.map(|o| o.pointer()),
                        "objects": e.roots,
                    })
                })
                .collect();
            let out = serde_json::json!({ "match": binding.is_some(), "binding": entries });
            println!("{out}");
        }
    }
    if binding.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// An error as one line, with the pattern and a caret line when it points into the pattern.
fn render_error(text: &str, e: &Error) -> String {
    match e {
        Error::Pattern { span, .. } => format!("{}\nerror: {e}", caret(text, *span)),
        _ => format!("error: {e}"),
    }
}

fn caret(text: &str, span: Span) -> String {
    let start = span.start.min(text.len());
    let end = span.end.clamp(start, text.len());
    let (Some(before), Some(inside)) = (text.get(..start), text.get(start..end)) else {
        return text.to_owned();
    };
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    format!(
        "{}\n{}{}",
        &text[line_start..line_end],
        " ".repeat(before[line_start..].chars().count()),
        "^".repeat(inside.chars().count().max(1))
    )
}
