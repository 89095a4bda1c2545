//! `entente admin`: accounts, API roots, collections and grants, straight on the store
//! (a data directory or a PostgreSQL database, `commands::local::StoreArgs`).
//!
//! The commands open the same store as `entente serve` and work while it runs: SQLite is
//! in WAL mode and every write takes its write lock up front and waits for it
//! (`busy_timeout`); on PostgreSQL each command is an ordinary client of the database, like
//! one more replica. The server's readers and writers are never disturbed. Output meant
//! for scripts (a token, a collection id, `--json` lists) goes alone to stdout; messages for
//! people go to stderr.

use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use std::io::Write;
use std::process::ExitCode;
use store::{Grant, NewApiRoot, NewCollection, Store};

use super::local::{OpenedStore, PoolArgs, StoreArgs};

/// Administer an entente installation: organizations, users, tokens, API roots,
/// collections and grants.
#[derive(Debug, ClapArgs)]
#[command(after_help = "\
Examples:
  entente admin org create acme
  entente admin user create alice --org acme
  entente admin token create alice
  ID=$(entente admin collection create default 'Phishing' )
  entente admin grant \"$ID\" acme read-write
  entente admin --database postgres://entente@db/entente user list

Works while `entente serve` runs on the same data directory or database.")]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArgs,

    #[command(subcommand)]
    pub command: AdminCommand,
}

/// The administration subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Organizations: the unit collections grant access to
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users: members of one organization, holders of API tokens
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens (256-bit secrets shown once, stored only as hashes)
    #[command(subcommand)]
    Token(TokenCommand),
    /// TAXII API roots, served at /NAME/
    #[command(subcommand)]
    Root(RootCommand),
    /// TAXII collections
    #[command(subcommand)]
    Collection(CollectionCommand),
    /// Grant an organization read and/or write on a collection
    #[command(after_help = "\
Examples:
  entente admin grant 9f1c6f0e-6c1b-4c8e-9d51-2f4c1c7d1e2a acme read-write
  entente admin grant 9f1c6f0e-6c1b-4c8e-9d51-2f4c1c7d1e2a acme none     # revoke

Organization grants do not apply to restricted collections: use grant-user there.")]
    Grant {
        /// Collection id (a UUID, as printed by `collection create`)
        collection_id: String,
        /// Organization name
        org: String,
        /// What to allow
        permission: Permission,
    },
    /// The transparency log
    #[command(subcommand)]
    Log(LogCommand),
    /// Grant one user read and/or write on a restricted (TLP:RED) collection
    #[command(after_help = "\
Example:
  entente admin grant-user 9f1c6f0e-6c1b-4c8e-9d51-2f4c1c7d1e2a alice read")]
    GrantUser {
        /// Collection id
        collection_id: String,
        /// User name
        user: String,
        /// What to allow
        permission: Permission,
    },
}

/// A permission on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Permission {
    /// Read only
    Read,
    /// Write only
    Write,
    /// Read and write
    ReadWrite,
    /// Remove the grant
    None,
}

impl Permission {
    fn grant(self) -> Grant {
        match self {
            Permission::Read => Grant::READ,
            Permission::Write => Grant::WRITE,
            Permission::ReadWrite => Grant::READ_WRITE,
            Permission::None => Grant::NONE,
        }
    }
}

/// `entente admin log ...`
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Print the log's verifier key (creating the signing key on first use)
    #[command(after_help = "\
Prints the C2SP verifier key `<origin>+<key id>+<public key>` that `entente verify --key`
and witnesses take. The signing key is made once, named after the origin: in DIR/log.key
(mode 0600) for a data directory, in the database for --database (shared by every replica);
`entente serve` prints the same line.

Example:
  entente admin log key")]
    Key {
        /// Origin naming this log, for a key that does not exist yet [default: entente/<host name>]
        #[arg(long, value_name = "NAME")]
        origin: Option<String>,
    },
}

/// `entente admin org ...`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization
    #[command(after_help = "Example:\n  entente admin org create acme")]
    Create {
        /// Unique name
        name: String,
    },
    /// List organizations
    #[command(after_help = "Example:\n  entente admin org list --json")]
    List {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

/// `entente admin user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user in an organization
    #[command(after_help = "Example:\n  entente admin user create alice --org acme --admin")]
    Create {
        /// Unique user name (also the HTTP Basic user name)
        name: String,
        /// The user's organization
        #[arg(long)]
        org: String,
        /// Make the user a server administrator
        #[arg(long)]
        admin: bool,
    },
    /// List users
    #[command(after_help = "Example:\n  entente admin user list")]
    List {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

/// `entente admin token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; prints the secret alone on stdout, once
    #[command(after_help = "\
Example:
  TOKEN=$(entente admin token create alice)
  curl -H \"Authorization: Bearer $TOKEN\" -H 'Accept: application/taxii+json;version=2.1' \\
       http://127.0.0.1:7350/taxii2/")]
    Create {
        /// The user the token authenticates as
        user: String,
    },
    /// List tokens (ids and owners; secrets are never stored)
    #[command(after_help = "Example:\n  entente admin token list alice")]
    List {
        /// Only this user's tokens
        user: Option<String>,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id (see `token list`)
    #[command(after_help = "Example:\n  entente admin token revoke 3")]
    Revoke {
        /// Token id
        id: i64,
    },
}

/// `entente admin root ...`
#[derive(Debug, Subcommand)]
pub enum RootCommand {
    /// Create an API root, served at /NAME/
    #[command(after_help = "Example:\n  entente admin root create isac --title 'Sector ISAC'")]
    Create {
        /// URL path segment: letters, digits, '-', '_', '.', '~'
        name: String,
        /// Title [default: the name]
        #[arg(long)]
        title: Option<String>,
        /// Description
        #[arg(long)]
        description: Option<String>,
    },
    /// List API roots
    #[command(after_help = "Example:\n  entente admin root list")]
    List {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

/// `entente admin collection ...`
#[derive(Debug, Subcommand)]
pub enum CollectionCommand {
    /// Create a collection; prints its id alone on stdout
    #[command(after_help = "\
Examples:
  entente admin collection create default 'Phishing indicators'
  entente admin collection create default 'Public feed' --public-read
  entente admin collection create default 'Incident 42 (TLP:RED)' --restricted

Public-read collections hold TLP:CLEAR only; restricted collections are the only ones that
accept TLP:RED, and their readers are named with grant-user.")]
    Create {
        /// API root name
        root: String,
        /// Title
        title: String,
        /// Anyone may read its TLP:CLEAR objects, without a token
        #[arg(long, conflicts_with = "restricted")]
        public_read: bool,
        /// Readers and writers are named individually (grant-user); accepts TLP:RED
        #[arg(long)]
        restricted: bool,
        /// Description
        #[arg(long)]
        description: Option<String>,
        /// Alias (TAXII 2.1 §5.2), unique in the API root
        #[arg(long)]
        alias: Option<String>,
    },
    /// List collections with their grants
    #[command(after_help = "Example:\n  entente admin collection list default")]
    List {
        /// Only this API root's collections
        root: Option<String>,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

/// Runs an admin command. Errors are one line on stderr: exit code 1 when the store refused
/// the request (unknown name, duplicate, invalid input), 2 when the data directory or the
/// runtime could not be set up (the CLI's convention: 2 is usage or I/O).
pub fn run(args: Args) -> ExitCode {
    // A command needs one connection; a small pool keeps admin light on a shared database.
    let pool = PoolArgs {
        db_max_connections: 2,
        ..PoolArgs::default()
    };
    let setup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .and_then(|rt| {
            let opened = rt.block_on(args.store.open_local(&pool))?;
            Ok((rt, opened))
        });
    let (runtime, opened) = match setup {
        Ok(v) => v,
        Err(e) => {
            eprintln!("entente admin: {e:#}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(execute(&opened, args.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("entente admin: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Writes one line to stdout, reporting a closed pipe as an error instead of panicking.
fn out(line: impl std::fmt::Display) -> Result<()> {
    writeln!(std::io::stdout().lock(), "{line}").context("writing to stdout")
}

fn json(value: &impl serde::Serialize) -> Result<()> {
    out(serde_json::to_string_pretty(value).context("encoding JSON")?)
}

async fn execute(opened: &OpenedStore, command: AdminCommand) -> Result<()> {
    let store: &dyn Store = opened.store.as_ref();
    match command {
        AdminCommand::Log(LogCommand::Key { origin }) => {
            let strict = origin.is_some();
            let origin = origin.unwrap_or_else(store::log_key::default_origin);
            let key = opened.log_key(&origin, strict).await?;
            out(key.vkey())?;
        }
        AdminCommand::Org(OrgCommand::Create { name }) => {
            store.create_org(&name).await?;
            eprintln!("created organization {name}");
        }
        AdminCommand::Org(OrgCommand::List { json: as_json }) => {
            let orgs = store.list_orgs().await?;
            if as_json {
                json(&orgs)?;
            } else {
                for o in orgs {
                    out(o.name)?;
                }
            }
        }
        AdminCommand::User(UserCommand::Create { name, org, admin }) => {
            store.create_user(&name, &org, admin).await?;
            let role = if admin { " (administrator)" } else { "" };
            eprintln!("created user {name} in organization {org}{role}");
        }
        AdminCommand::User(UserCommand::List { json: as_json }) => {
            let users = store.list_users().await?;
            if as_json {
                json(&users)?;
            } else {
                for u in users {
                    let admin = if u.admin { "\tadmin" } else { "" };
                    out(format_args!("{}\t{}{admin}", u.name, u.org_name))?;
                }
            }
        }
        AdminCommand::Token(TokenCommand::Create { user }) => {
            let token = store.create_token(&user).await?;
            out(&token.secret)?;
            eprintln!(
                "created token {} for {user}; it is shown only this once",
                token.info.id
            );
        }
        AdminCommand::Token(TokenCommand::List {
            user,
            json: as_json,
        }) => {
            if let Some(u) = &user
                && store.user(u).await?.is_none()
            {
                bail!("user not found: {u}");
            }
            let tokens = store.list_tokens(user.as_deref()).await?;
            if as_json {
                json(&tokens)?;
            } else {
                for t in tokens {
                    let state = if t.revoked { "revoked" } else { "active" };
                    out(format_args!(
                        "{}\t{}\t{}\t{state}",
                        t.id, t.user_name, t.created
                    ))?;
                }
            }
        }
        AdminCommand::Token(TokenCommand::Revoke { id }) => {
            store.revoke_token(id).await?;
            eprintln!("revoked token {id}");
        }
        AdminCommand::Root(RootCommand::Create {
            name,
            title,
            description,
        }) => {
            store
                .create_api_root(&NewApiRoot {
                    name: name.clone(),
                    title: title.unwrap_or_default(),
                    description,
                })
                .await?;
            eprintln!("created API root {name}, served at /{name}/");
        }
        AdminCommand::Root(RootCommand::List { json: as_json }) => {
            let roots = store.list_api_roots().await?;
            if as_json {
                json(&roots)?;
            } else {
                for r in roots {
                    out(format_args!("{}\t{}", r.name, r.title))?;
                }
            }
        }
        AdminCommand::Collection(CollectionCommand::Create {
            root,
            title,
            public_read,
            restricted,
            description,
            alias,
        }) => {
            let c = store
                .create_collection(&NewCollection {
                    api_root: root,
                    title,
                    description,
                    alias,
                    flags: store::CollectionFlags {
                        public_read,
                        restricted,
                    },
                    media_types: Vec::new(),
                })
                .await?;
            out(&c.id)?;
            let hint = if restricted { "grant-user" } else { "grant" };
            eprintln!(
                "created collection {:?} in /{}/; nobody can use it until you `entente admin {hint}` access",
                c.title, c.api_root
            );
        }
        AdminCommand::Collection(CollectionCommand::List {
            root,
            json: as_json,
        }) => {
            if let Some(r) = &root
                && store.api_root(r).await?.is_none()
            {
                bail!("API root not found: {r}");
            }
            let collections = store.list_collections(root.as_deref()).await?;
            let mut listed = Vec::new();
            for c in collections {
                let grants = store.grants(&c.id).await?;
                listed.push((c, grants));
            }
            if as_json {
                let value: Vec<_> = listed
                    .iter()
                    .map(|(c, g)| serde_json::json!({ "collection": c, "grants": g }))
                    .collect();
                json(&value)?;
            } else {
                for (c, grants) in listed {
                    let mut flags = Vec::new();
                    if c.flags.public_read {
                        flags.push("public-read".to_owned());
                    }
                    if c.flags.restricted {
                        flags.push("restricted".to_owned());
                    }
                    for g in grants {
                        flags.push(describe_grant(&g));
                    }
                    out(format_args!(
                        "{}\t{}\t{}\t{}",
                        c.id,
                        c.api_root,
                        c.title,
                        flags.join(" ")
                    ))?;
                }
            }
        }
        AdminCommand::Grant {
            collection_id,
            org,
            permission,
        } => {
            let c = store
                .collection(&collection_id)
                .await?
                .with_context(|| format!("collection not found: {collection_id}"))?;
            store
                .grant_org(&collection_id, &org, permission.grant())
                .await?;
            if c.flags.restricted {
                eprintln!(
                    "warning: {:?} is restricted; organization grants do not apply there (use grant-user)",
                    c.title
                );
            }
            eprintln!("{org}: {} on {:?}", permission_word(permission), c.title);
        }
        AdminCommand::GrantUser {
            collection_id,
            user,
            permission,
        } => {
            let c = store
                .collection(&collection_id)
                .await?
                .with_context(|| format!("collection not found: {collection_id}"))?;
            store
                .grant_user(&collection_id, &user, permission.grant())
                .await?;
            if !c.flags.restricted {
                eprintln!(
                    "warning: {:?} is not restricted; user grants apply only to restricted collections (use grant)",
                    c.title
                );
            }
            eprintln!("{user}: {} on {:?}", permission_word(permission), c.title);
        }
    }
    Ok(())
}

fn permission_word(p: Permission) -> &'static str {
    match p {
        Permission::Read => "read",
        Permission::Write => "write",
        Permission::ReadWrite => "read-write",
        Permission::None => "no access",
    }
}

fn describe_grant(g: &store::GrantEntry) -> String {
    let who = match &g.grantee {
        store::Grantee::Org(o) => format!("org:{o}"),
        store::Grantee::User(u) => format!("user:{u}"),
    };
    let what = match (g.grant.read, g.grant.write) {
        (true, true) => "rw",
        (true, false) => "r",
        (false, true) => "w",
        (false, false) => "-",
    };
    format!("{who}={what}")
}
