//! `entente serve`: the TAXII 2.1 server. Not built yet: the server issue delivers it.

use std::process::ExitCode;

/// Run the TAXII 2.1 server on an embedded SQLite store.
///
/// Example: `entente serve --listen 127.0.0.1:7350 --data-dir ./entente-data`
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7350")]
    pub listen: String,
    /// Directory holding the SQLite database and the log's signing key.
    #[arg(long, default_value = "entente-data")]
    pub data_dir: std::path::PathBuf,
}

/// Says plainly that the server is not built yet, with exit code 2.
pub fn run(_args: Args) -> ExitCode {
    eprintln!(
        "entente: the TAXII server is not built yet (it lands with the server issue); \
         `entente validate` and `entente pattern` work today"
    );
    ExitCode::from(2)
}
