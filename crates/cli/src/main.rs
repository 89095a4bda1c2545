//! The `entente` binary: parses arguments, sets up logging, and hands off to one command.
//!
//! Business logic lives in the library crates; each command module only wires them together.

mod cli;
mod commands;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_tracing(args.verbose);
    commands::run(args.command)
}
