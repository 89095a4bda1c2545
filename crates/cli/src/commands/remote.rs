//! What `entente push` and `entente pull` share: how to reach a TAXII 2.1 server and as whom.
//!
//! Only argument handling lives here; discovery, paging, envelopes and retries are the
//! `taxii` crate's client.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use taxii::client::{Auth, Client, ClientOptions, CollectionRef};

/// Environment variable read for the bearer token when neither `--token` nor `--user` is
/// given, so that the token need not appear in the process list.
pub const TOKEN_ENV: &str = "ENTENTE_TOKEN";

/// Where the TAXII server is and how to authenticate.
#[derive(Debug, clap::Args)]
pub struct RemoteArgs {
    /// The TAXII server: its base URL (http://host:7350) or its discovery URL (…/taxii2/).
    #[arg(long, value_name = "URL")]
    pub server: String,

    /// API token, sent as `Authorization: Bearer` (default: $ENTENTE_TOKEN).
    #[arg(long, value_name = "TOKEN", conflicts_with = "user")]
    pub token: Option<String>,

    /// User name for HTTP Basic authentication (with --password).
    #[arg(long, value_name = "NAME", requires = "password")]
    pub user: Option<String>,

    /// Password for HTTP Basic authentication (on entente: an API token of that user).
    #[arg(long, value_name = "PASSWORD", requires = "user")]
    pub password: Option<String>,

    /// API root: a name (served at /NAME/) or a URL [default: the server's default root].
    #[arg(long, value_name = "ROOT")]
    pub api_root: Option<String>,

    /// Seconds allowed for each HTTP request.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub timeout: u64,
}

impl RemoteArgs {
    /// The credentials the user chose.
    fn auth(&self) -> Auth {
        match (&self.token, &self.user, &self.password) {
            (Some(t), _, _) => Auth::Bearer(t.clone()),
            (None, Some(u), Some(p)) => Auth::Basic {
                user: u.clone(),
                password: p.clone(),
            },
            _ => match std::env::var(TOKEN_ENV) {
                Ok(t) if !t.is_empty() => Auth::Bearer(t),
                _ => Auth::None,
            },
        }
    }

    /// A client for this server.
    pub fn client(&self) -> Result<Client> {
        if self.timeout == 0 {
            bail!("--timeout must be at least 1 second");
        }
        Client::with_options(ClientOptions {
            auth: self.auth(),
            timeout: Duration::from_secs(self.timeout),
            ..ClientOptions::default()
        })
        .context("cannot create the TAXII client")
    }

    /// The collection `id` on the chosen API root (resolved through discovery if needed).
    pub async fn collection(&self, client: &Client, id: &str) -> Result<CollectionRef> {
        let root = client
            .resolve_api_root(&self.server, self.api_root.as_deref())
            .await
            .context("cannot find the API root")?;
        Ok(CollectionRef::new(root, id))
    }
}

/// A single-threaded runtime: one client talks to one server, one request at a time.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
