//! `entente serve`: the TAXII 2.1 server, on the embedded SQLite store or on PostgreSQL.
//!
//! Wiring only: open (and on the first start, set up) the store through
//! `commands::local` (`store::bootstrap` underneath), bind the listener, and hand both to
//! `server::run` with a shutdown future that resolves on Ctrl-C or SIGTERM. In-flight
//! requests finish before the process exits, so a POST being stored is committed and
//! answered.
//!
//! On PostgreSQL several `entente serve` processes may share one database (replicas behind
//! a load balancer): the store serialises log appends, set-up is done once, and the log's
//! signing key is kept in the database, so every replica signs checkpoints of the one log
//! with the same key (docs/deploy.md).
//!
//! Output: on the first start, `admin token: <TOKEN>` on a line of its own (the only time
//! the token is shown); on every start, `log key: <VKEY>` (the transparency log's C2SP
//! verifier key) and the discovery URL. All on stdout; logs go to stderr through `tracing`.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::local::{PoolArgs, StoreArgs};

/// Run the TAXII 2.1 server on an embedded SQLite store or on PostgreSQL.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
On the first start the store is set up with an API root `default`, a collection `shared`
and an administrator, and the administrator's token is printed once:
  admin token: <TOKEN>
Use it as `Authorization: Bearer <TOKEN>`, or as the password of user `admin` in HTTP Basic.

With --database (or $ENTENTE_DATABASE_URL) the store is PostgreSQL, and several replicas
may serve one database behind a load balancer; the log's signing key is kept in the
database, so they all sign with it (see docs/deploy.md).

Examples:
  entente serve
  entente serve --data /var/lib/entente --listen 0.0.0.0:7350
  entente serve --ingest sync          # answer each POST only after its commit
  entente serve --database postgres://entente@db.internal/entente --db-max-connections 32
  ENTENTE_DATABASE_URL=postgres://entente@db/entente entente serve --listen 0.0.0.0:7351")]
pub struct Args {
    /// Address to listen on (host:port)
    #[arg(long, default_value = "127.0.0.1:7350", value_name = "ADDR")]
    pub listen: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub pool: PoolArgs,
    /// Origin naming the transparency log, fixed when its key is made on the first start
    /// [default: entente/<host name>]
    #[arg(long, value_name = "NAME")]
    pub log_origin: Option<String>,
    /// A C2SP tlog-witness `add-checkpoint` URL asked to cosign each new checkpoint
    /// (repeatable)
    #[arg(long = "witness", value_name = "URL")]
    pub witnesses: Vec<String>,
    /// When a POST is answered: `queued` answers `pending` as soon as the envelope is read,
    /// then one task validates it and one writer stores it (clients poll the status, which
    /// lists refused objects with the reason; faster for a client that posts envelope after
    /// envelope); `sync` validates and stores before answering with a complete status. [default: queued on a data directory, sync on PostgreSQL, where another
    /// replica could not show a pending status]
    #[arg(long, value_enum, value_name = "MODE")]
    pub ingest: Option<IngestMode>,
}

/// When a POSTed envelope is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IngestMode {
    /// Answer `pending` once the envelope is read; validate and store it behind the answer.
    Queued,
    /// Answer after the envelope's commit, with the complete status.
    Sync,
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
    let opened = args.store.ensure_initialized(&args.pool).await?;
    let strict = args.log_origin.is_some();
    let origin = args
        .log_origin
        .unwrap_or_else(store::log_key::default_origin);
    let log_key = opened.log_key(&origin, strict).await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr: SocketAddr = listener.local_addr().context("reading the bound address")?;
    let mut banner = String::new();
    if let Some(token) = &opened.admin_token {
        banner.push_str(&format!("admin token: {token}\n"));
    }
    banner.push_str(&format!(
        "log key: {}\nhttp://{addr}/taxii2/\nweb UI: http://{addr}/ui/\n",
        log_key.vkey()
    ));
    // One write, and a closed stdout is not fatal: whoever started the server may stop
    // reading once it found the line it wanted, and that must not stop the server
    // (println! would panic on the broken pipe).
    {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout
            .write_all(banner.as_bytes())
            .and_then(|()| stdout.flush())
        {
            tracing::warn!("cannot write the start-up lines to stdout: {e}");
        }
    }
    let ingest = args.ingest.unwrap_or(if opened.is_shared_database() {
        IngestMode::Sync
    } else {
        IngestMode::Queued
    });
    tracing::info!(store = %opened.shown, %addr, ?ingest, "serving TAXII 2.1");
    let mut state = server::AppState::new(opened.store.clone(), server::Config::default())
        .with_log(
            server::routes::log::LogSigner::new(
                log_key,
                server::routes::log::DEFAULT_SIGN_INTERVAL,
            )
            .with_witnesses(args.witnesses),
        );
    if ingest == IngestMode::Queued {
        state = state.with_ingest_queue();
    }
    server::run(listener, state, shutdown_signal())
        .await
        .context("server stopped")?;
    if let Some(line) = opened.lock_report() {
        tracing::info!("{line}");
    }
    tracing::info!("shut down cleanly");
    Ok(())
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
