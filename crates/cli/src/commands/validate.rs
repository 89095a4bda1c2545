//! `entente validate`: STIX 2.1 documents checked against the spec's rules.

use std::process::ExitCode;

/// Validate STIX 2.1 documents.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files to read, or `-` for stdin.
    pub paths: Vec<std::path::PathBuf>,
}

/// Placeholder until the stix crate's validator is wired in.
pub fn run(_args: Args) -> ExitCode {
    eprintln!("entente validate: being built");
    ExitCode::from(2)
}
