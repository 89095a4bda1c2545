//! `entente pattern`: check STIX patterns and match them against observed-data.
//!
//! `check` is wiring only: it calls [`pattern::validate`] and renders the result, either as
//! the pattern line with carets under each error (text) or as the library's serde form
//! (JSON, the same shape the server returns). Exit status: 0 valid, 1 invalid, 2 usage.

use std::process::ExitCode;

use pattern::{PatternError, StixVersion};

/// Pattern subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check that a pattern is valid
    #[command(after_help = "\
Examples:
  entente pattern check \"[ipv4-addr:value = '198.51.100.1']\"
  entente pattern check --stix-version 2.0 --format json \"[file:size > 1024] WITHIN 5 SECONDS\"

Exit status: 0 valid, 1 invalid (errors with carets on stderr, or JSON on stdout), 2 usage error.")]
    Check {
        /// The STIX version whose pattern grammar applies.
        #[arg(long, value_name = "VERSION", default_value = "2.1", value_parser = parse_version)]
        stix_version: StixVersion,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The pattern text.
        pattern: String,
    },
    /// Match a pattern against observed-data
    Match(super::pattern_match::Args),
}

/// How `check` prints its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `valid`, or each error under a caret line.
    Text,
    /// `{"valid": true}` or `{"valid": false, "errors": [{code, message, span, line, column}]}`.
    Json,
}

fn parse_version(s: &str) -> Result<StixVersion, String> {
    s.parse()
}

/// Runs one pattern subcommand.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Check {
            stix_version,
            format,
            pattern,
        } => check(&pattern, stix_version, format),
        Command::Match(args) => super::pattern_match::run(args),
    }
}

fn check(text: &str, version: StixVersion, format: Format) -> ExitCode {
    let result = pattern::validate(text, version);
    match format {
        Format::Text => match &result {
            Ok(_) => println!("valid"),
            Err(errors) => {
                for error in errors {
                    eprintln!("{}", error.render(text));
                }
            }
        },
        Format::Json => {
            let errors: &[PatternError] = result.as_ref().err().map_or(&[], Vec::as_slice);
            let report = serde_json::json!({
                "valid": result.is_ok(),
                "stix_version": version.as_str(),
                "errors": errors,
            });
            println!("{report}");
        }
    }
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
