//! `entente serve`: the TAXII 2.1 server on the embedded SQLite store.
//!
//! Wiring only: open (and on the first start, set up) the data directory through
//! `store::bootstrap`, bind the listener, and hand both to `server::run` with a shutdown
//! future that resolves on Ctrl-C or SIGTERM. In-flight requests finish before the process
//! exits, so a POST being stored is committed and answered.
//!
//! Output: on the first start, `admin token: <TOKEN>` on a line of its own (the only time
//! the token is shown); on every start, `log key: <VKEY>` (the transparency log's C2SP
//! verifier key, from `store::log_key`) and the discovery URL. All on stdout; logs go to
//! stderr through `tracing`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

/// Run the TAXII 2.1 server on an embedded SQLite store.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
On the first start the data directory is created with an API root `default`, a collection
`shared` and an administrator, and the administrator's token is printed once:
  admin token: <TOKEN>
Use it as `Authorization: Bearer <TOKEN>`, or as the password of user `admin` in HTTP Basic.

Examples:
  entente serve
  entente serve --data /var/lib/entente --listen 0.0.0.0:7350")]
pub struct Args {
    /// Address to listen on (host:port)
    #[arg(long, default_value = "127.0.0.1:7350", value_name = "ADDR")]
    pub listen: String,
    /// Data directory holding the database [default: $ENTENTE_DATA, else ./entente-data]
    #[arg(long, alias = "data-dir", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Origin naming the transparency log, fixed when its key is made on the first start
    /// [default: entente/<host name>]
    #[arg(long, value_name = "NAME")]
    pub log_origin: Option<String>,
    /// A C2SP tlog-witness `add-checkpoint` URL asked to cosign each new checkpoint
    /// (repeatable)
    #[arg(long = "witness", value_name = "URL")]
    pub witnesses: Vec<String>,
}

/// Runs the server until Ctrl-C or SIGTERM; exit code 1 with a one-line cause on failure.
pub fn run(args: Args) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("entente serve: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("entente serve: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn serve(args: Args) -> Result<()> {
    let data_dir = data_dir(args.data);
    let outcome = store::bootstrap::ensure_initialized(&data_dir)
        .await
        .with_context(|| format!("opening data directory {}", data_dir.display()))?;
    let strict = args.log_origin.is_some();
    let origin = args
        .log_origin
        .unwrap_or_else(store::log_key::default_origin);
    let log_key = store::log_key::load_or_create(&data_dir, &origin, strict)?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr: SocketAddr = listener.local_addr().context("reading the bound address")?;
    if let Some(token) = &outcome.admin_token {
        println!("admin token: {token}");
    }
    println!("log key: {}", log_key.vkey());
    println!("http://{addr}/taxii2/");
    tracing::info!(data = %data_dir.display(), %addr, "serving TAXII 2.1");
    let state = server::AppState::new(outcome.store, server::Config::default()).with_log(
        server::routes::log::LogSigner::new(log_key, server::routes::log::DEFAULT_SIGN_INTERVAL)
            .with_witnesses(args.witnesses),
    );
    server::run(listener, state, shutdown_signal())
        .await
        .context("server stopped")?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// The data directory: `--data`, else `$ENTENTE_DATA`, else `./entente-data` (the same
/// rule as `entente admin`, so both find the same database).
fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| {
        std::env::var_os("ENTENTE_DATA")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .unwrap_or_else(|| PathBuf::from("./entente-data"))
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM, the signal service managers send.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No handler could be installed: never resolve rather than stop at once.
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
