//! `entente pattern`: check STIX patterns and match them against observed-data.

use std::process::ExitCode;

/// Pattern subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check that a pattern is valid
    Check {
        /// The pattern text.
        pattern: String,
    },
}

/// Placeholder until the pattern crate is wired in.
pub fn run(_command: Command) -> ExitCode {
    eprintln!("entente pattern: being built");
    ExitCode::from(2)
}
