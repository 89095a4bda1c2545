//! Command-line surface of `entente`: what the user typed, as clap structures.
//!
//! Each subcommand's arguments live beside its implementation in `commands/`; this module only
//! assembles them and sets up `tracing`.

use clap::{Parser, Subcommand};

/// entente — a threat-intelligence exchange for organizations that cooperate without fully
/// trusting each other: STIX 2.1 over TAXII 2.1, patterns, hunting and a transparency log.
#[derive(Debug, Parser)]
#[command(name = "entente", version, propagate_version = true)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands, one line each in `entente --help`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the TAXII 2.1 server (embedded SQLite by default)
    Serve(crate::commands::serve::Args),
    /// Administer organizations, users, tokens, API roots, collections and grants
    Admin(crate::commands::admin::Args),
    /// Validate STIX 2.1 documents (objects, arrays, bundles, NDJSON) against the spec
    Validate(crate::commands::validate::Args),
    /// Check STIX patterns and match them against observed-data
    #[command(subcommand)]
    Pattern(crate::commands::pattern::Command),
    /// Push STIX objects to a collection of a TAXII 2.1 server
    Push(crate::commands::push::Args),
    /// Pull a collection of a TAXII 2.1 server into one STIX bundle
    Pull(crate::commands::pull::Args),
    /// Hunt Zeek, Suricata EVE, STIX or NDJSON telemetry for indicators; alerts and sightings
    Hunt(crate::commands::hunt::Args),
    /// Import MISP feeds, IOC lists (plain, CSV, maltrail) or STIX files into a collection
    Import(crate::commands::import::Args),
    /// Export plain-observable indicators for Zeek Intel, Suricata datasets, CSV or STIX
    Export(crate::commands::export::Args),
    /// Check a server's transparency log: signed checkpoint, consistency, objects' inclusion
    Verify(crate::commands::verify::Args),
    /// Run a C2SP tlog-witness that cosigns transparency-log checkpoints
    Witness(crate::commands::witness::Args),
    /// Copy TAXII 2.1 collections into a local or remote collection, incrementally
    Sync(crate::commands::sync::Args),
}

/// Logs go to stderr through `tracing`; quiet (warnings only) unless asked.
pub fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
