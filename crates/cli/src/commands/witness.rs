//! `entente witness`: run a C2SP tlog-witness for the logs whose keys are given.
//!
//! Wiring only: the witness (its checks, its state, its `cosignature/v1` key) is
//! `server::witness`. This opens it on the data directory, binds the listener, prints the
//! witness's verifier key and its `add-checkpoint` URL on stdout, and serves until Ctrl-C
//! or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

/// Run a C2SP tlog-witness that cosigns the given logs' checkpoints.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Logs (or their clients) POST C2SP tlog-witness add-checkpoint requests to
http://ADDR/add-checkpoint; the witness checks the log's signature and the consistency
proof from the last checkpoint it cosigned, records the new one durably, and answers with
a cosignature/v1 line. Its verifier key is printed on start:
  witness key: <VKEY>

Example:
  entente witness --data ./witness-data --key \"$LOG_VKEY\" --listen 0.0.0.0:7380")]
pub struct Args {
    /// Verifier key of a log to witness (repeatable); the log's origin is the key's name
    #[arg(long = "key", value_name = "VKEY", required = true)]
    pub keys: Vec<String>,
    /// Directory holding the witness's key and state
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Address to listen on (host:port)
    #[arg(long, default_value = "127.0.0.1:7380", value_name = "ADDR")]
    pub listen: String,
    /// The witness's name, fixed when its key is made [default: entente-witness/<host name>]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// Runs the witness until Ctrl-C or SIGTERM; exit code 2 with a one-line cause when it
/// cannot start.
pub fn run(args: Args) -> ExitCode {
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|rt| rt.block_on(witness(args)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("entente witness: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn witness(args: Args) -> Result<()> {
    let name = args.name.unwrap_or_else(|| {
        store::log_key::default_origin().replacen("entente/", "entente-witness/", 1)
    });
    let witness = server::witness::Witness::open(&args.data, &name, &args.keys)
        .with_context(|| format!("opening the witness in {}", args.data.display()))?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    println!("witness key: {}", witness.vkey());
    println!("http://{addr}/add-checkpoint");
    server::witness::run(listener, Arc::new(witness), super::serve::shutdown_signal())
        .await
        .context("witness stopped")
}
