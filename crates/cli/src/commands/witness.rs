//! `entente witness`: run a C2SP tlog-witness for the logs whose keys are given.
//!
//! Wiring only: the witness (its checks, its state, its `cosignature/v1` key, following a
//! log) is `server::witness`. This opens it on the data directory, binds the listener,
//! prints the witness's verifier key and its `add-checkpoint` URL on stdout, follows the
//! logs named with `--log`, and serves until Ctrl-C or SIGTERM; with `--once` it polls each
//! `--log` once and exits with what it found.

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

With --log URL the witness also follows that log itself: every --interval seconds it
fetches the log's checkpoint and a consistency proof from the size it cosigned last, and
cosigns it through the same checks. A log that shows a history inconsistent with what
the witness cosigned (a rewrite, or a restored backup that forgot entries) is reported,
and both checkpoints are kept in DIR/evidence/. Its latest cosigned note is served at
http://ADDR/cosigned?origin=ORIGIN. With --once: poll each --log once and exit 0 when all
are consistent, 1 when one is not, 2 when one could not be read.

Examples:
  entente witness --data ./witness-data --key \"$LOG_VKEY\" --listen 0.0.0.0:7380
  entente witness --data ./witness-data --key \"$LOG_VKEY\" --log https://cti.example.org
  entente witness --data ./witness-data --key \"$LOG_VKEY\" --log https://cti.example.org --once")]
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
    /// Base URL of a log to follow (repeatable): its checkpoints are fetched and cosigned
    /// without the log having to push them
    #[arg(long = "log", value_name = "URL")]
    pub logs: Vec<String>,
    /// Seconds between two polls of each followed log
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub interval: u64,
    /// Poll each --log once, print what was found, and exit (no HTTP listener)
    #[arg(long, requires = "logs")]
    pub once: bool,
}

/// Runs the witness until Ctrl-C or SIGTERM; exit code 2 with a one-line cause when it
/// cannot start.
pub fn run(args: Args) -> ExitCode {
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .and_then(|rt| {
            if args.once {
                rt.block_on(poll_once(args))
            } else {
                rt.block_on(witness(args)).map(|()| ExitCode::SUCCESS)
            }
        });
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("entente witness: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn open(args: &Args) -> Result<server::witness::Witness> {
    let name = args.name.clone().unwrap_or_else(|| {
        store::log_key::default_origin().replacen("entente/", "entente-witness/", 1)
    });
    server::witness::Witness::open(&args.data, &name, &args.keys)
        .with_context(|| format!("opening the witness in {}", args.data.display()))
}

/// `--once`: one poll of each followed log. Exit 0 when every log is consistent with what
/// was cosigned before, 1 when one is not, 2 when one could not be read or was refused.
async fn poll_once(args: Args) -> Result<ExitCode> {
    use server::witness::{FollowError, FollowOutcome, follow_once};
    let witness = open(&args)?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .context("building the HTTP client")?;
    let mut worst = 0u8;
    for log in &args.logs {
        match follow_once(&witness, &http, log).await {
            Ok(FollowOutcome::Cosigned(size)) => println!("{log}: cosigned size {size}"),
            Ok(FollowOutcome::Unchanged(size)) => println!("{log}: unchanged at size {size}"),
            Err(e @ FollowError::Inconsistent { .. }) => {
                eprintln!("entente witness: {log}: {e}");
                worst = 1;
            }
            Err(e) => {
                eprintln!("entente witness: {log}: {e}");
                worst = worst.max(2);
            }
        }
    }
    Ok(ExitCode::from(worst))
}

async fn witness(args: Args) -> Result<()> {
    let witness = Arc::new(open(&args)?);
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    println!("witness key: {}", witness.vkey());
    println!("http://{addr}/add-checkpoint");
    for log in &args.logs {
        let every = std::time::Duration::from_secs(args.interval);
        tokio::spawn(server::witness::follow(
            witness.clone(),
            log.clone(),
            every,
            super::serve::shutdown_signal(),
        ));
    }
    server::witness::run(listener, witness, super::serve::shutdown_signal())
        .await
        .context("witness stopped")
}
