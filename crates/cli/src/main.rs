//! The `entente` binary: parses arguments, sets up logging, and hands off to one command.
//!
//! Business logic lives in the library crates; each command module only wires them together.

mod cli;
mod commands;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of the C library's allocator. Both hot paths allocate small, short-lived
/// buffers by the million (JSON values and strings of each object stored, SQLite's row and
/// page buffers): glibc's malloc, free and chunk consolidation were ~11 % of the server's
/// CPU under TAXII ingest (`perf`, 2026-11-27), and mimalloc's thread-local free lists cost
/// a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_tracing(args.verbose);
    commands::run(args.command)
}
