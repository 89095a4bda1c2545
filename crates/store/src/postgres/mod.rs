//! The PostgreSQL backend: several stateless `entente serve` replicas on one database with
//! the same guarantees as the embedded SQLite store (issue #7).
//!
//! **Driver and pool.** tokio-postgres (pure Rust, no libpq) behind a deadpool-postgres
//! pool ([`PgOptions`]: size, connect/acquire timeouts, statement timeout, schema). A
//! connection whose socket closed is dropped when the pool would hand it out; one idle
//! for more than two seconds is first asked an empty query (`verify_idle`). Every
//! statement is prepared once per connection (`prepare_cached`) and its SQL shape depends
//! only on which filters a request uses, so the cache stays small.
//!
//! **Migrations.** [`PgStore::open`] applies missing migrations (`schema.rs`) on a
//! dedicated connection holding a *session* advisory lock with a fixed key (derived from
//! the schema name, so installations in different schemas of one database do not wait on
//! each other). Replicas starting together queue on that lock; the first migrates, the
//! others find the schema current. The connection is closed afterwards, which releases the
//! lock even if migrating failed half-way (the migration itself is one transaction).
//!
//! **Writers in several processes.** One envelope (or one deletion) is one transaction. It
//! takes the *transaction-scoped* advisory lock of the log (`pg_advisory_xact_lock`) before
//! it reads anything it decides on: the collection's date_added high-water mark, the
//! database clock, the log size and its right edge. Under the lock it assigns date_added
//! (`max(now, last + 1µs)`, with the *database's* clock so that replicas with skewed clocks
//! agree), appends the log leaves with consecutive indexes and stores the complete-subtree
//! node hashes (`tlog::Frontier`), all in bulk (`INSERT ... SELECT FROM unnest(...)`, one
//! statement per table, not one per object). The lock is held until COMMIT, and a commit
//! becomes visible before its locks are released, so transactions become visible in
//! date_added and log-index order: a reader paging by date_added can never see a later
//! row without every earlier one, and the log is one linear, dense sequence. The price is
//! that envelope writes are serialised across all replicas; the store measures the time
//! spent holding the lock ([`PgStore::lock_stats`], and a `debug` trace per envelope) so
//! the ceiling of scale-out can be computed.
//!
//! **Durability.** An object is reported added only after COMMIT returned; with the
//! server's default `synchronous_commit = on` that means it is in the WAL on disk. A
//! connection killed mid-envelope rolls the whole transaction back: nothing half-written.
//!
//! **The log's signing key** is shared by the replicas through the database (table
//! `log_signing_key`, see [`PgStore::log_key`]): Ed25519 signatures are deterministic, so
//! replicas signing the same tree size produce the same checkpoint, and any replica can
//! serve and sign. A designated signer would keep the key off the database, but would make
//! one replica special (its loss stops checkpoints) and need a channel between replicas;
//! the cost of the shared key is that a database backup carries the key, so backups must
//! be protected like the key itself (docs/deploy.md).
//!
//! **No N+1.** Every read is a bounded number of statements, whatever its size: a page is
//! two (the collection, the page), the joined page of `GET …/objects/`
//! ([`Store::query_objects_joined`]) one (the collection is resolved inside it; a second
//! only when the page is empty, to tell a missing collection apart), `collections_for` one.
//! [`PgStore::statements_executed`] counts them for the tests.
//!
//! **What a page costs.** A paged GET of 1,000 objects moves ~620 KB from PostgreSQL to
//! the replica, which PostgreSQL 15 sends 8 KB per system call; the replica's cost is mostly
//! receiving them (reads, task wake-ups) and whatever it does per row. The joined page
//! therefore reads only date_added and the body and appends each body to one buffer as
//! its row arrives (no row vector, no string per object), and a connection handed out
//! again within two seconds is not pinged first (`verify_idle`): each request takes the
//! pool's connection two or three times. Figures in scripts/bench-taxii-pg.sh.

mod accounts;
mod latest;
mod log;
mod objects;
mod schema;
mod search;
mod stats;

use crate::bootstrap::BootstrapSpec;
use crate::types::*;
use crate::{JoinedPage, Result, Store, StoreError};
use deadpool_postgres::{
    GenericClient, Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

/// Connection and pool settings of a [`PgStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// Most connections the pool keeps open (default 16). Size it so that replicas ×
    /// this stays below the server's `max_connections`.
    pub max_connections: usize,
    /// How long opening one connection may take (default 10 s).
    pub connect_timeout: Duration,
    /// How long a request waits for a free pooled connection (default 30 s).
    pub acquire_timeout: Duration,
    /// The server-side `statement_timeout` of every connection, also its
    /// `idle_in_transaction_session_timeout` (default 60 s; `None`: the
    /// server's setting).
    pub statement_timeout: Option<Duration>,
    /// The schema holding the tables (default `None`: the server's `search_path`, usually
    /// `public`). Letters, digits and `_` only; it must exist.
    pub schema: Option<String>,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 16,
            connect_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(30),
            statement_timeout: Some(Duration::from_secs(60)),
            schema: None,
        }
    }
}

/// Time spent by this store's envelope and deletion transactions, and the part of it spent
/// holding the log's advisory lock (from acquiring it to the end of COMMIT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockStats {
    /// Write transactions that appended to the log.
    pub transactions: u64,
    /// Their total time, from taking a connection to the end of COMMIT.
    pub total: Duration,
    /// Of which: waiting for the lock.
    pub waiting: Duration,
    /// Of which: holding the lock.
    pub held: Duration,
    /// Of the time holding it: COMMIT (the WAL flush that makes the envelope durable).
    pub commit: Duration,
}

/// The PostgreSQL store. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// Advisory lock keys of this installation (derived from the schema).
    keys: LockKeys,
    /// Statements executed so far (queries and commands, not prepares or BEGIN/COMMIT).
    statements: AtomicU64,
    /// Accumulated [`LockStats`], in nanoseconds.
    lock_txs: AtomicU64,
    lock_total_ns: AtomicU64,
    lock_wait_ns: AtomicU64,
    lock_held_ns: AtomicU64,
    lock_commit_ns: AtomicU64,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("max_connections", &self.inner.pool.status().max_size)
            .finish_non_exhaustive()
    }
}

/// The advisory lock keys of one installation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LockKeys {
    /// Session lock held while migrating.
    pub migrate: i64,
    /// Transaction lock serialising log appends (and date_added assignment).
    pub log: i64,
    /// Transaction lock of the first-start set-up.
    pub bootstrap: i64,
    /// Transaction lock of the replica refreshing the planner's statistics (`stats.rs`).
    pub analyze: i64,
}

impl LockKeys {
    /// Fixed keys, offset by a hash of the schema name (FNV-1a), so that two installations
    /// in one database do not serialise on each other.
    fn for_schema(schema: Option<&str>) -> LockKeys {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in schema.unwrap_or("").bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        // "entente" in ASCII in the top bytes; the low 16 bits say which lock.
        let base = (0x656e_7465_6e74_0000_u64 ^ (h << 16)) & !0xffff;
        LockKeys {
            migrate: (base | 1) as i64,
            log: (base | 2) as i64,
            bootstrap: (base | 3) as i64,
            analyze: (base | 4) as i64,
        }
    }
}

/// Maps a driver error to [`StoreError::Backend`].
pub(crate) fn backend(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Backend(format!("postgres: {}", db.message())),
        None => StoreError::Backend(format!("postgres: {e}")),
    }
}

/// Maps a unique-constraint violation to [`StoreError::AlreadyExists`], anything else to
/// [`StoreError::Backend`].
pub(crate) fn unique_or(e: tokio_postgres::Error, kind: &'static str, name: &str) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::AlreadyExists {
            kind,
            name: name.to_owned(),
        }
    } else {
        backend(e)
    }
}

/// What PostgreSQL answers to every statement after the first failure of a transaction.
const ABORTED: &str = "current transaction is aborted";

/// The outcome of two statements sent together (pipelined): when both failed, the error
/// that is the cause, not the "transaction is aborted" echo of the statement behind it.
pub(crate) fn both<A, B>(a: Result<A>, b: Result<B>) -> Result<(A, B)> {
    let echo = |e: &StoreError| matches!(e, StoreError::Backend(m) if m.contains(ABORTED));
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
        (Err(ea), Err(eb)) => Err(if echo(&ea) && !echo(&eb) { eb } else { ea }),
    }
}

/// A stored microsecond count as a timestamp.
pub(crate) fn ts_from_us(us: i64) -> Result<stix::Timestamp> {
    crate::keys::micros_to_timestamp(us)
}

/// One column of a row, with a decoding failure as [`StoreError::Corrupt`].
pub(crate) fn get<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, i: usize) -> Result<T> {
    row.try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
}

/// The parameter list of one statement.
pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// A connection (pooled client or transaction) with the store's statement counter: every
/// query goes through here, prepared once per connection.
pub(crate) struct Db<'a, C: GenericClient> {
    client: &'a C,
    counter: &'a AtomicU64,
}

impl<'a, C: GenericClient> Db<'a, C> {
    pub(crate) fn new(client: &'a C, counter: &'a AtomicU64) -> Self {
        Db { client, counter }
    }

    async fn statement(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        self.counter.fetch_add(1, Ordering::Relaxed);
        self.client.prepare_cached(sql).await.map_err(backend)
    }

    /// All rows of a query.
    pub(crate) async fn query(&self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        let st = self.statement(sql).await?;
        self.client.query(&st, params).await.map_err(backend)
    }

    /// The rows of a query as they arrive, for a caller that consumes each row at once.
    pub(crate) async fn query_raw(
        &self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<tokio_postgres::RowStream> {
        let st = self.statement(sql).await?;
        self.client
            .query_raw(&st, params.iter().copied())
            .await
            .map_err(backend)
    }

    /// At most one row.
    pub(crate) async fn query_opt(&self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        let st = self.statement(sql).await?;
        self.client.query_opt(&st, params).await.map_err(backend)
    }

    /// Exactly one row.
    pub(crate) async fn query_one(&self, sql: &str, params: &Params<'_>) -> Result<Row> {
        let st = self.statement(sql).await?;
        self.client.query_one(&st, params).await.map_err(backend)
    }

    /// A command; the number of rows it touched.
    pub(crate) async fn execute(&self, sql: &str, params: &Params<'_>) -> Result<u64> {
        let st = self.statement(sql).await?;
        self.client.execute(&st, params).await.map_err(backend)
    }

    /// A command whose unique violation means `kind` `name` already exists.
    pub(crate) async fn execute_unique(
        &self,
        sql: &str,
        params: &Params<'_>,
        kind: &'static str,
        name: &str,
    ) -> Result<u64> {
        let st = self.statement(sql).await?;
        self.client
            .execute(&st, params)
            .await
            .map_err(|e| unique_or(e, kind, name))
    }

    /// A query whose unique violation means `kind` `name` already exists.
    pub(crate) async fn query_one_unique(
        &self,
        sql: &str,
        params: &Params<'_>,
        kind: &'static str,
        name: &str,
    ) -> Result<Row> {
        let st = self.statement(sql).await?;
        self.client
            .query_one(&st, params)
            .await
            .map_err(|e| unique_or(e, kind, name))
    }
}

/// A pooled connection unused for longer than this is checked with a round trip before it
/// is handed out.
const VERIFY_IDLE_AFTER: Duration = Duration::from_secs(2);

/// The pool's check of a connection it is about to hand out again. One that sat idle for
/// [`VERIFY_IDLE_AFTER`] may have died without its socket saying so (a network path that
/// dropped it, a proxy's idle timeout), so it is asked an empty query first, within
/// `timeout`; failing, it is discarded and the pool takes or opens another. A connection
/// handed out again within the interval skips the round trip: it was just used, and a
/// paged GET otherwise paid three of them (authentication, access and the page each take a
/// connection), each a wake-up of the replica and of a PostgreSQL backend.
async fn verify_idle(
    client: &mut deadpool_postgres::ClientWrapper,
    metrics: &deadpool_postgres::Metrics,
    timeout: Duration,
) -> std::result::Result<(), HookError> {
    if metrics.last_used() < VERIFY_IDLE_AFTER {
        return Ok(());
    }
    match tokio::time::timeout(timeout, client.simple_query("")).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(HookError::Backend(e)),
        Err(_) => Err(HookError::message("idle connection did not answer")),
    }
}

/// Refuses schema names that could not be written into `search_path` unquoted.
fn check_schema(schema: &str) -> Result<()> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "schema name {schema:?} must be lowercase letters, digits and '_', not starting with a digit"
        )))
    }
}

/// The driver configuration of `url` with `options` applied.
fn pg_config(url: &str, options: &PgOptions) -> Result<tokio_postgres::Config> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| StoreError::Invalid(format!("database URL: {e}")))?;
    config.connect_timeout(options.connect_timeout);
    if config.get_application_name().is_none() {
        config.application_name("entente");
    }
    let mut session = config.get_options().unwrap_or("").to_owned();
    // JIT compilation pays off for long analytical queries, not for pages: the planner's
    // cost of a page of a 1,000,000-version collection is above `jit_above_cost`, and
    // compiling took 800 ms of a 1 s page whose index scan took 15 ms (measured).
    session.push_str(" -c jit=off");
    // Likewise parallel workers: starting them cost 40-90 ms of pages that read 1,001 rows
    // along an index in 3-10 ms (measured under load).
    session.push_str(" -c max_parallel_workers_per_gather=0");
    if let Some(t) = options.statement_timeout {
        // A replica that hangs (or loses its network) inside an envelope would hold the log
        // lock, and stop every writer, until the server notices; ending transactions idle
        // that long releases it. A killed replica's connection closes, which releases it.
        let ms = t.as_millis().max(1);
        session.push_str(&format!(
            " -c statement_timeout={ms} -c idle_in_transaction_session_timeout={ms}"
        ));
    }
    if let Some(schema) = &options.schema {
        check_schema(schema)?;
        session.push_str(&format!(" -c search_path={schema}"));
    }
    let session = session.trim();
    if !session.is_empty() {
        config.options(session);
    }
    Ok(config)
}

/// One connection outside the pool (migrations), its driver task spawned.
async fn connect_one(config: &tokio_postgres::Config) -> Result<tokio_postgres::Client> {
    let (client, conn) = config.connect(NoTls).await.map_err(backend)?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "postgres connection ended");
        }
    });
    Ok(client)
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`), applies missing migrations under
    /// the migration lock and returns the store with its pool.
    pub async fn open(url: &str, options: &PgOptions) -> Result<PgStore> {
        if options.max_connections == 0 {
            return Err(StoreError::Invalid(
                "max_connections must be at least 1".into(),
            ));
        }
        let config = pg_config(url, options)?;
        let keys = LockKeys::for_schema(options.schema.as_deref());
        {
            let mut client = connect_one(&config).await?;
            schema::migrate(&mut client, keys.migrate).await?;
            // Dropping the client closes the session, which releases the session lock.
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // A connection the server closed (restart, terminated backend) ends its
                // connection task and is dropped when handed out (`is_closed`); the round
                // trip that would also find a silently dead one is `verify_idle`'s.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let recheck = options.connect_timeout;
        let pool = Pool::builder(manager)
            .pre_recycle(Hook::async_fn(move |client, metrics| {
                Box::pin(verify_idle(client, metrics, recheck))
            }))
            .max_size(options.max_connections)
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Backend(format!("postgres pool: {e}")))?;
        stats::spawn(pool.weak(), keys.analyze);
        Ok(PgStore {
            inner: Arc::new(Inner {
                pool,
                keys,
                statements: AtomicU64::new(0),
                lock_txs: AtomicU64::new(0),
                lock_total_ns: AtomicU64::new(0),
                lock_wait_ns: AtomicU64::new(0),
                lock_held_ns: AtomicU64::new(0),
                lock_commit_ns: AtomicU64::new(0),
            }),
        })
    }

    /// Statements this store has executed so far (queries and commands; not prepares,
    /// BEGIN or COMMIT). Tests assert that a request costs a bounded number of them.
    pub fn statements_executed(&self) -> u64 {
        self.inner.statements.load(Ordering::Relaxed)
    }

    /// The time envelope and deletion transactions spent waiting for and holding the
    /// log's advisory lock, summed since the store was opened.
    pub fn lock_stats(&self) -> LockStats {
        let d = |a: &AtomicU64| Duration::from_nanos(a.load(Ordering::Relaxed));
        LockStats {
            transactions: self.inner.lock_txs.load(Ordering::Relaxed),
            total: d(&self.inner.lock_total_ns),
            waiting: d(&self.inner.lock_wait_ns),
            held: d(&self.inner.lock_held_ns),
            commit: d(&self.inner.lock_commit_ns),
        }
    }

    /// A pooled connection.
    async fn client(&self) -> Result<deadpool_postgres::Client> {
        self.inner
            .pool
            .get()
            .await
            .map_err(|e| StoreError::Backend(format!("postgres pool: {e}")))
    }

    /// A connection wrapped with this store's statement counter.
    fn db<'a, C: GenericClient>(&'a self, client: &'a C) -> Db<'a, C> {
        Db::new(client, &self.inner.statements)
    }

    /// Takes the log's advisory lock in `db`'s transaction; returns when it was asked for
    /// and when it was granted.
    async fn lock_log<C: GenericClient>(&self, db: &Db<'_, C>) -> Result<(Instant, Instant)> {
        let asked = Instant::now();
        db.execute("SELECT pg_advisory_xact_lock($1)", &[&self.inner.keys.log])
            .await?;
        Ok((asked, Instant::now()))
    }

    /// Takes the log's advisory lock and reads the envelope's [`objects::Head`] in one
    /// round trip: two statements in one simple-protocol message, which the server runs in
    /// order, the second (a new statement, so a new snapshot) only once the lock is granted.
    /// Returns when the lock was asked for, when both answered, and the head.
    async fn lock_log_and_read_head(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        c: &accounts::CollectionRow,
    ) -> Result<((Instant, Instant), objects::Head)> {
        let asked = Instant::now();
        // Both values are integers of ours, so writing them into the text is safe.
        let sql = format!(
            "SELECT pg_advisory_xact_lock({}); {}",
            self.inner.keys.log,
            objects::head_sql(c.seq)
        );
        self.inner.statements.fetch_add(2, Ordering::Relaxed);
        let messages = tx.simple_query(&sql).await.map_err(backend)?;
        let locked = Instant::now();
        let row = messages
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
                _ => None,
            })
            .next_back()
            .ok_or_else(|| StoreError::not_found("collection", &c.collection.id))?;
        let int = |i: usize| -> Result<i64> {
            row.try_get(i)
                .ok()
                .flatten()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| StoreError::Corrupt(format!("envelope head column {i}")))
        };
        Ok((
            (asked, locked),
            objects::Head::new(int(0)?, int(1)?, int(2)?),
        ))
    }

    /// Commits a log-appending transaction and records how long it waited for and held
    /// the lock (`start`: when the request began).
    async fn commit_locked(
        &self,
        tx: deadpool_postgres::Transaction<'_>,
        start: Instant,
        (asked, locked): (Instant, Instant),
    ) -> Result<()> {
        let committing = Instant::now();
        tx.commit().await.map_err(backend)?;
        let end = Instant::now();
        let (total, waiting, held) = (end - start, locked - asked, end - locked);
        let commit = end - committing;
        tracing::debug!(
            total_us = total.as_micros() as u64,
            lock_wait_us = waiting.as_micros() as u64,
            lock_held_us = held.as_micros() as u64,
            commit_us = commit.as_micros() as u64,
            "postgres log-append transaction"
        );
        let add = |a: &AtomicU64, d: Duration| {
            a.fetch_add(
                u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            )
        };
        self.inner.lock_txs.fetch_add(1, Ordering::Relaxed);
        add(&self.inner.lock_total_ns, total);
        add(&self.inner.lock_wait_ns, waiting);
        add(&self.inner.lock_held_ns, held);
        add(&self.inner.lock_commit_ns, commit);
        Ok(())
    }

    /// Sets up a fresh installation in one transaction, unless that was done before (see
    /// [`crate::sqlite::SqliteStore::bootstrap`]). Replicas starting together queue on a
    /// transaction advisory lock, so exactly one of them sets up and gets the token.
    pub async fn bootstrap(&self, spec: &BootstrapSpec) -> Result<Option<String>> {
        let key = self.inner.keys.bootstrap;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let db = &self.db(&tx);
        let out = {
            db.execute("SELECT pg_advisory_xact_lock($1)", &[&key])
                .await?;
            let done = db
                .query_opt("SELECT value FROM meta WHERE key = 'bootstrapped'", &[])
                .await?;
            if done.is_some() {
                return Ok(None);
            }
            if accounts::org(db, &spec.admin_org).await?.is_none() {
                accounts::create_org(db, &spec.admin_org).await?;
            }
            if accounts::user(db, &spec.admin_user).await?.is_none() {
                accounts::create_user(db, &spec.admin_user, &spec.admin_org, true).await?;
            }
            if accounts::api_root(db, &spec.api_root).await?.is_none() {
                accounts::create_api_root(
                    db,
                    &NewApiRoot {
                        name: spec.api_root.clone(),
                        title: spec.api_root_title.clone(),
                        description: None,
                    },
                )
                .await?;
            }
            let shared = accounts::create_collection(
                db,
                &NewCollection {
                    api_root: spec.api_root.clone(),
                    title: spec.collection_title.clone(),
                    description: Some(spec.collection_description.clone()),
                    ..NewCollection::default()
                },
            )
            .await?;
            accounts::grant_org(db, &shared.id, &spec.admin_org, Grant::READ_WRITE).await?;
            let token = accounts::create_token(db, &spec.admin_user).await?;
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('bootstrapped', $1)",
                &[&crate::keys::now_micros().to_string()],
            )
            .await?;
            Some(token.secret)
        };
        tx.commit().await.map_err(backend)?;
        Ok(out)
    }

    /// The log's signing key, shared by every replica through the database: made named
    /// `origin` on first use (one row; a replica racing another inserts nothing and reads
    /// the winner's key), then read back. With `strict`, an existing key with another name
    /// is [`StoreError::Invalid`], as [`crate::log_key::load_or_create`] refuses it.
    pub async fn log_key(&self, origin: &str, strict: bool) -> Result<tlog::Ed25519Signer> {
        let c = self.client().await?;
        log::load_or_create_key(&self.db(&c), origin, strict).await
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn create_org(&self, name: &str) -> Result<Organization> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::create_org(db, name).await
    }

    async fn org(&self, name: &str) -> Result<Option<Organization>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::org(db, name).await
    }

    async fn list_orgs(&self) -> Result<Vec<Organization>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::list_orgs(db).await
    }

    async fn create_user(&self, name: &str, org: &str, admin: bool) -> Result<User> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::create_user(db, name, org, admin).await
    }

    async fn user(&self, name: &str) -> Result<Option<User>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::user(db, name).await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::list_users(db).await
    }

    async fn create_token(&self, user: &str) -> Result<NewToken> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::create_token(db, user).await
    }

    async fn authenticate(&self, secret: &str) -> Result<Option<Principal>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::authenticate(db, secret, None).await
    }

    async fn authenticate_basic(&self, user: &str, secret: &str) -> Result<Option<Principal>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::authenticate(db, secret, Some(user)).await
    }

    async fn revoke_token(&self, id: TokenId) -> Result<()> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::revoke_token(db, id).await
    }

    async fn list_tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::list_tokens(db, user).await
    }

    async fn create_api_root(&self, root: &NewApiRoot) -> Result<ApiRoot> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::create_api_root(db, root).await
    }

    async fn api_root(&self, name: &str) -> Result<Option<ApiRoot>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::api_root(db, name).await
    }

    async fn list_api_roots(&self) -> Result<Vec<ApiRoot>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::list_api_roots(db).await
    }

    async fn create_collection(&self, collection: &NewCollection) -> Result<Collection> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::create_collection(db, collection).await
    }

    async fn collection(&self, id: &str) -> Result<Option<Collection>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        Ok(accounts::collection_row(db, id)
            .await?
            .map(|r| r.collection))
    }

    async fn list_collections(&self, api_root: Option<&str>) -> Result<Vec<Collection>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        Ok(accounts::list_collections(db, api_root)
            .await?
            .into_iter()
            .map(|r| r.collection)
            .collect())
    }

    async fn grant_org(&self, collection_id: &str, org: &str, grant: Grant) -> Result<()> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::grant_org(db, collection_id, org, grant).await
    }

    async fn grant_user(&self, collection_id: &str, user: &str, grant: Grant) -> Result<()> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::grant_user(db, collection_id, user, grant).await
    }

    async fn grants(&self, collection_id: &str) -> Result<Vec<GrantEntry>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::grants(db, collection_id).await
    }

    async fn access(
        &self,
        principal: Option<&Principal>,
        collection_id: &str,
    ) -> Result<Option<(Collection, Access)>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::access(db, principal, collection_id).await
    }

    async fn collections_for(
        &self,
        principal: Option<&Principal>,
        api_root: &str,
    ) -> Result<Vec<(Collection, Access)>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        accounts::collections_for(db, principal, api_root).await
    }

    async fn add_objects(
        &self,
        collection_id: &str,
        objects: Vec<NewObject>,
    ) -> Result<Vec<AddOutcome>> {
        let start = Instant::now();
        let mut client = self.client().await?;
        let row = accounts::require_collection(&self.db(&client), collection_id).await?;
        // Everything that needs no database is done before the lock is taken.
        let prepared = objects::prepare(&row, objects);
        let tx = client.transaction().await.map_err(backend)?;
        let db = &self.db(&tx);
        let (times, head) = self.lock_log_and_read_head(&tx, &row).await?;
        let out = objects::add_objects(db, &row, prepared, head).await?;
        self.commit_locked(tx, start, times).await?;
        Ok(out)
    }

    async fn query_objects(
        &self,
        collection_id: &str,
        query: &ObjectQuery,
    ) -> Result<Page<StoredObject>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        let row = accounts::require_collection(db, collection_id).await?;
        objects::query_objects(db, &row, query, None).await
    }

    async fn query_objects_joined(
        &self,
        collection_id: &str,
        query: &ObjectQuery,
    ) -> Result<Option<JoinedPage>> {
        let c = self.client().await?;
        objects::query_objects_joined(&self.db(&c), collection_id, query)
            .await
            .map(Some)
    }

    async fn manifest(
        &self,
        collection_id: &str,
        query: &ObjectQuery,
    ) -> Result<Page<ManifestEntry>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        let row = accounts::require_collection(db, collection_id).await?;
        objects::manifest(db, &row, query).await
    }

    async fn get_object(
        &self,
        collection_id: &str,
        object_id: &str,
        query: &ObjectQuery,
    ) -> Result<Page<StoredObject>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        let row = accounts::require_collection(db, collection_id).await?;
        objects::query_objects(db, &row, query, Some(object_id)).await
    }

    async fn versions(
        &self,
        collection_id: &str,
        object_id: &str,
        query: &ObjectQuery,
    ) -> Result<Page<VersionEntry>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        let row = accounts::require_collection(db, collection_id).await?;
        objects::versions(db, &row, object_id, query).await
    }

    async fn delete_object(
        &self,
        collection_id: &str,
        object_id: &str,
        query: &ObjectQuery,
    ) -> Result<u64> {
        let start = Instant::now();
        let mut client = self.client().await?;
        let row = accounts::require_collection(&self.db(&client), collection_id).await?;
        let tx = client.transaction().await.map_err(backend)?;
        let db = &self.db(&tx);
        let times = self.lock_log(db).await?;
        let out = objects::delete_object(db, &row, object_id, query).await?;
        self.commit_locked(tx, start, times).await?;
        Ok(out)
    }

    async fn search_objects(
        &self,
        collection_id: &str,
        query: &SearchQuery,
    ) -> Result<Page<StoredObject>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        let row = accounts::require_collection(db, collection_id).await?;
        search::search_objects(db, &row, query).await
    }

    async fn objects_referencing(
        &self,
        collection_id: &str,
        stix_id: &str,
        max_tlp: crate::TlpLevel,
        limit: usize,
    ) -> Result<Vec<StoredObject>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        let row = accounts::require_collection(db, collection_id).await?;
        search::objects_referencing(db, &row, stix_id, max_tlp, limit).await
    }

    async fn collection_stats(
        &self,
        collection_id: &str,
        max_tlp: crate::TlpLevel,
    ) -> Result<CollectionStats> {
        let c = self.client().await?;
        let db = &self.db(&c);
        let row = accounts::require_collection(db, collection_id).await?;
        search::collection_stats(db, &row, max_tlp).await
    }

    async fn latest_versions(
        &self,
        collection_id: &str,
        ids: &[String],
    ) -> Result<Vec<StoredObject>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        let row = accounts::require_collection(db, collection_id).await?;
        latest::latest_versions(db, &row, ids).await
    }

    async fn create_status(&self, status: &Status) -> Result<()> {
        let c = self.client().await?;
        let db = &self.db(&c);
        objects::save_status(db, status, true).await
    }

    async fn update_status(&self, status: &Status) -> Result<()> {
        let c = self.client().await?;
        let db = &self.db(&c);
        objects::save_status(db, status, false).await
    }

    async fn status(&self, id: &str) -> Result<Option<Status>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        objects::status(db, id).await
    }

    async fn log_size(&self) -> Result<u64> {
        let c = self.client().await?;
        let db = &self.db(&c);
        log::size(db).await
    }

    async fn log_leaves(&self, start: u64, limit: u64) -> Result<Vec<LogLeaf>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        log::leaves(db, start, limit).await
    }

    async fn log_head(&self) -> Result<(u64, tlog::Hash)> {
        let c = self.client().await?;
        let db = &self.db(&c);
        log::head(db).await
    }

    async fn log_root(&self, size: u64) -> Result<tlog::Hash> {
        let c = self.client().await?;
        let db = &self.db(&c);
        log::root_at(db, size).await
    }

    async fn log_inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<tlog::Hash>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        log::inclusion_proof(db, index, size).await
    }

    async fn log_consistency_proof(&self, old: u64, size: u64) -> Result<Vec<tlog::Hash>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        log::consistency_proof(db, old, size).await
    }

    async fn log_nodes(&self, ids: Vec<tlog::NodeId>) -> Result<Vec<tlog::Hash>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        log::nodes_in_order(db, &ids).await
    }

    async fn log_lookup(
        &self,
        collection_id: &str,
        stix_id: &str,
        version: &str,
    ) -> Result<Option<(u64, Vec<u8>)>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        log::lookup(db, collection_id, stix_id, version).await
    }

    async fn save_checkpoint(&self, size: u64, note: &str) -> Result<()> {
        let c = self.client().await?;
        let db = &self.db(&c);
        log::save_checkpoint(db, size, note).await
    }

    async fn latest_checkpoint(&self) -> Result<Option<(u64, String)>> {
        let c = self.client().await?;
        let db = &self.db(&c);
        log::latest_checkpoint(db).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_beats_the_aborted_echo() {
        let echo = || -> Result<()> {
            Err(StoreError::Backend(format!(
                "postgres: {ABORTED}, commands ignored until end of transaction block"
            )))
        };
        let cause = || -> Result<()> {
            Err(StoreError::Backend(
                "postgres: canceling statement due to statement timeout".into(),
            ))
        };
        for r in [both(echo(), cause()), both(cause(), echo())] {
            assert!(matches!(r, Err(StoreError::Backend(m)) if m.contains("timeout")));
        }
        assert!(both(Ok(1), Ok(2)).is_ok());
        assert!(matches!(both(Ok(()), echo()), Err(StoreError::Backend(_))));
    }

    #[test]
    fn lock_keys_are_distinct_per_lock_and_schema() {
        let a = LockKeys::for_schema(None);
        let b = LockKeys::for_schema(Some("tenant_b"));
        let all = [
            a.migrate,
            a.log,
            a.bootstrap,
            a.analyze,
            b.migrate,
            b.log,
            b.bootstrap,
            b.analyze,
        ];
        let unique: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        assert_eq!(a.log, LockKeys::for_schema(None).log, "fixed keys");
    }

    #[test]
    fn options_reach_the_session() {
        let options = PgOptions {
            schema: Some("tenant_b".into()),
            statement_timeout: Some(Duration::from_secs(5)),
            ..PgOptions::default()
        };
        let config = pg_config("postgres://u@h/db?options=-c%20work_mem%3D8MB", &options).unwrap();
        let session = config.get_options().unwrap();
        for want in [
            "work_mem=8MB",
            "statement_timeout=5000",
            "idle_in_transaction_session_timeout=5000",
            "search_path=tenant_b",
            "jit=off",
            "max_parallel_workers_per_gather=0",
        ] {
            assert!(session.contains(want), "{session}");
        }
        assert_eq!(config.get_application_name(), Some("entente"));
        for bad in ["Tenant", "a;b", "1a", ""] {
            let options = PgOptions {
                schema: Some(bad.into()),
                ..PgOptions::default()
            };
            assert!(matches!(
                pg_config("postgres://h/db", &options),
                Err(StoreError::Invalid(_))
            ));
        }
        assert!(pg_config("not a url", &PgOptions::default()).is_err());
    }
}
