//! `entente pattern match`: one pattern against the observed-data in a file.

use std::process::ExitCode;

/// Match a pattern against observed-data.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pattern text.
    pub pattern: String,
    /// JSON file with observed-data.
    pub file: std::path::PathBuf,
}

/// Placeholder until the matcher crate is wired in.
pub fn run(_args: Args) -> ExitCode {
    eprintln!("entente pattern match: being built");
    ExitCode::from(2)
}
