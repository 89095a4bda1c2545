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
    /// Match a pattern against observed-data
    Match(super::pattern_match::Args),
}

/// Placeholder until the pattern crate is wired in.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Check { .. } => {
            eprintln!("entente pattern check: being built");
            ExitCode::from(2)
        }
        Command::Match(args) => super::pattern_match::run(args),
    }
}
