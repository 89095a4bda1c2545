//! One module per subcommand; `run` dispatches and maps outcomes to exit codes.

pub mod admin;
pub mod export;
pub mod hunt;
pub mod import;
pub mod local;
pub mod pattern;
pub mod pattern_match;
pub mod pull;
pub mod push;
pub mod remote;
pub mod serve;
pub mod sync;
pub mod validate;
pub mod verify;
pub mod witness;

use crate::cli::Command;
use std::process::ExitCode;

/// Runs one subcommand and returns the process exit code it chose.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Serve(args) => serve::run(args),
        Command::Admin(args) => admin::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Pattern(command) => pattern::run(command),
        Command::Push(args) => push::run(args),
        Command::Pull(args) => pull::run(args),
        Command::Hunt(args) => hunt::run(args),
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Witness(args) => witness::run(args),
        Command::Sync(args) => sync::run(args),
    }
}
