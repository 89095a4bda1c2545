//! The embedded backend: one SQLite file in WAL mode (`<data>/entente.sqlite3`), and the
//! web UI's full-text index, derived from it, in a second one (`fulltext.rs`).
//!
//! **Connections and threads.** rusqlite's `Connection` is `Send` but not `Sync`, and every
//! call blocks. So the store keeps one *writer* connection behind a `std::sync::Mutex` and a
//! small pool of *reader* connections, and runs each operation on tokio's blocking pool with
//! `spawn_blocking`: the async workers never wait on disk, and no lock is held across an
//! `.await` (the mutexes are only taken inside the blocking closure, which is why a std
//! mutex, not tokio's, is right). One writer is what SQLite allows anyway; serialising
//! writers in-process avoids `SQLITE_BUSY` retries between our own tasks. Readers run in
//! parallel on WAL snapshots and never block the writer. A dedicated writer thread with a
//! channel would also work; `spawn_blocking` with a mutex needs no shutdown protocol and
//! lets the admin CLI use the same code.
//!
//! **Several processes.** `entente admin` opens the same file while the server runs. Every
//! write is a `BEGIN IMMEDIATE` transaction (the SQLite write lock is taken first, so the
//! date_added high-water mark read inside it is current), and `busy_timeout` makes the other
//! process wait for the lock instead of failing.
//!
//! **Durability.** `journal_mode=WAL` with `synchronous=FULL`: each commit fsyncs the WAL
//! before `COMMIT` returns, so an acknowledged object survives a process kill *and* a power
//! loss or OS crash. (`synchronous=NORMAL` would survive a process kill too, since the WAL
//! pages are in the OS cache, but can lose the last commits on power loss.) The cost is one
//! fsync per envelope, not per object, because an envelope is one transaction; the ingest
//! benchmark (`benches/ingest.rs`) measures it.
//!
//! **Checkpoints.** Copying committed WAL frames back into the database file (and fsyncing
//! it) is not the writer's job here: SQLite's automatic checkpoint runs inside the commit
//! that crosses its threshold, on the writer's thread and under the writer's mutex, so
//! every few envelopes one of them also paid for copying the others' pages (~10% of an
//! import's CPU, `perf`). A [`Checkpointer`] thread with a connection of its own runs a
//! PASSIVE checkpoint after commits instead, on another core, while the writer goes on,
//! when commits pause or pile up (`pace.rs`): a checkpoint after every commit copied the
//! pages that every commit rewrites (index interiors, the last pages of the log) once per
//! commit and fsynced the file as often (the thread was ~10 % of the server's CPU under
//! TAXII ingest, ~5.5 % with 250 ms rounds, and it competed with the client and the request
//! tasks for a small machine's cores during a burst).
//! The writer keeps SQLite's automatic checkpoint with a far higher threshold
//! ([`WRITER_AUTOCHECKPOINT_PAGES`]) as a bound: a WAL the background thread did not
//! manage to empty (commits arriving faster than a checkpoint completes) is finished by
//! the writer then, which mostly has only the last frames left to copy, and the next write
//! starts the WAL over. Durability is unchanged: a commit is durable once its frames are
//! fsynced in the WAL, whoever later copies them.

mod accounts;
mod export;
mod fields;
mod fulltext;
mod latest;
mod log;
mod newer;
mod objects;
mod pace;
pub mod schema;
pub mod search;

use crate::bootstrap::BootstrapSpec;
use crate::types::*;
use crate::{Result, Store, StoreError};
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Least time from a commit to the checkpoint that copies it: commits close together (an
/// import's batches) share one checkpoint of the pages they all rewrite.
const CHECKPOINT_FOLD: Duration = Duration::from_millis(250);

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "entente.sqlite3";

/// How much lower than the rest of the process the background threads run (nice levels):
/// the checkpoint and full-text threads do work that can wait, and on a machine with few
/// cores they took turns on the writer's core (an import's writer waited ~0.9 s of ~11 s
/// for a CPU while they ran, from /proc's schedstat).
const BACKGROUND_NICE: i32 = 5;

/// Lowers the calling thread's scheduling priority by [`BACKGROUND_NICE`] (Linux: the
/// nice value is a per-thread attribute). Best effort: a failure only costs speed.
pub(super) fn run_in_background() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        let lowered = getpriority_process(me)
            .and_then(|now| setpriority_process(me, (now + BACKGROUND_NICE).min(19)));
        if let Err(e) = lowered {
            tracing::debug!(error = %e, "cannot lower a background thread's priority");
        }
    }
}

/// How long a connection waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reader connections kept open between reads; more are opened on demand under load.
const MAX_IDLE_READERS: usize = 4;

/// The SQLite store. Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Path of the database file, for opening more readers.
    path: PathBuf,
    /// The one connection that writes. Locked only inside blocking closures; holding it is
    /// what serialises this process's writers (date_added assignment, log appends).
    writer: Mutex<Connection>,
    /// Idle reader connections. Locked only to pop or push one, never during a query.
    readers: Mutex<Vec<Connection>>,
    /// Whether writes append their log entries: always, except in a store opened with
    /// `open_unlogged_for_benchmarks` (feature `bench-unlogged`) to measure the log's cost.
    logged: bool,
    /// The full-text index's file (`fulltext.rs`), attached to every reader as `search`.
    index_path: PathBuf,
    /// Asks the checkpoint thread for rounds. Dropped first of the three below: that ends
    /// the thread with a last checkpoint, which then runs while the indexer catches up.
    checkpoint_requests: CheckpointRequests,
    /// Fills the full-text index after commits, off the writer's thread. Dropped before the
    /// checkpointer, so that its connection to the store is closed by then.
    indexer: fulltext::Indexer,
    /// Copies committed WAL frames into the database file off the writer's thread; held
    /// to be joined when the store is dropped.
    _checkpointer: Checkpointer,
}

/// What the checkpoint thread and the writers share: the commits since its last round.
#[derive(Default)]
struct CheckpointState {
    pending: pace::Pending,
    /// The store is being dropped: a last checkpoint if one is pending, then the end.
    stop: bool,
}

type CheckpointShared = Arc<(Mutex<CheckpointState>, std::sync::Condvar)>;

/// Requests for the checkpoint thread. Requests made while one is pending or running fold
/// into the next checkpoint, which copies every frame committed by then; when it runs is
/// paced (`pace.rs`). Dropping it ends the thread (with a last checkpoint if one was asked
/// for).
struct CheckpointRequests(CheckpointShared);

fn lock_checkpoint(shared: &CheckpointShared) -> std::sync::MutexGuard<'_, CheckpointState> {
    shared.0.lock().unwrap_or_else(|e| e.into_inner())
}

impl CheckpointRequests {
    /// Asks for a checkpoint after a commit of about `rows` rows; returns at once.
    fn request(&self, rows: u64) {
        lock_checkpoint(&self.0)
            .pending
            .add(rows, std::time::Instant::now());
        self.0.1.notify_all();
    }
}

impl Drop for CheckpointRequests {
    fn drop(&mut self) {
        lock_checkpoint(&self.0).stop = true;
        self.0.1.notify_all();
    }
}

/// A thread that checkpoints the WAL when commits ask it to (see the module doc).
struct Checkpointer {
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread with its own connection to `path`.
    fn start(path: &Path) -> Result<(CheckpointRequests, Checkpointer)> {
        let conn = connect(path)?;
        let shared: CheckpointShared = Arc::default();
        let theirs = shared.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                run_in_background();
                // Commits arriving before a round is due fold into it, so a page that many
                // commits rewrite (index interiors, the log's last pages) is copied once per
                // round instead of once per commit.
                while wait_for_checkpoint(&theirs) {
                    // PASSIVE: copies what no reader still needs and never waits for the
                    // writer or a reader; what it leaves, the next round copies.
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(error = %e, "background WAL checkpoint failed");
                    }
                }
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the checkpoint thread: {e}")))?;
        Ok((
            CheckpointRequests(shared),
            Checkpointer {
                thread: Some(thread),
            },
        ))
    }
}

/// Waits until a checkpoint is due and takes its requests; `false` when the thread should
/// end (the store is being dropped and nothing is pending).
fn wait_for_checkpoint(shared: &CheckpointShared) -> bool {
    let mut state = pace::wait_until_due(lock_checkpoint(shared), &shared.1, |s, now| {
        if s.stop {
            Some(Duration::ZERO)
        } else {
            s.pending.due_in(now, CHECKPOINT_FOLD)
        }
    });
    let go = !state.stop || !state.pending.is_empty();
    state.pending.take();
    go
}

impl Drop for Checkpointer {
    /// Waits for the thread (ended by dropping its [`CheckpointRequests`] first), so its
    /// connection closes before the store is gone. It is dropped after the writer (field
    /// order of `Inner`), so as before the last connection to close checkpoints the rest
    /// and removes the WAL.
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// Maps a SQLite error to [`StoreError::Backend`].
pub(crate) fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Maps a unique-constraint violation to [`StoreError::AlreadyExists`], anything else to
/// [`StoreError::Backend`].
pub(crate) fn unique_or(e: rusqlite::Error, kind: &'static str, name: &str) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::AlreadyExists {
            kind,
            name: name.to_owned(),
        },
        _ => backend(e),
    }
}

/// A stored microsecond count as a timestamp.
pub(crate) fn ts_from_us(us: i64) -> Result<stix::Timestamp> {
    crate::keys::micros_to_timestamp(us)
}

/// The writer's page cache, in KiB (SQLite's default is 2,000). Big enough for a bulk
/// import's transaction of 50,000 objects (`entente import`: ~75 MB of rows, log and
/// full-text pages plus the version-index leaves they touch) to stay in memory until its
/// commit: with 64 MiB SQLite spilled dirty pages to the WAL mid-transaction and wrote
/// them again at the commit (`pagerStress`, ~4% of an import in `perf`).
const WRITER_CACHE_KIB: u32 = 256 * 1024;
/// How much of the database file a connection maps into memory; SQLite caps it at its
/// compile-time maximum (2 GB). A million objects make a file of ~1.1 GB, whose pages past
/// a 1 GiB map were read with a syscall and a copy each.
const MMAP_BYTES: u64 = 1 << 34;
/// The page size of a new database file (SQLite's default is 4 KiB). An import of
/// 1,000,000 IOC lines took 9.80 / 10.00 s instead of 10.73 / 10.84 s (alternated, quiet):
/// half the WAL frames and B-tree pages per object. TAXII ingest was unchanged: 20,000
/// objects 42,409 / 42,639 vs 41,303 / 45,888 obj/s, 1,000,000 objects 38,485 vs 37,315
/// obj/s with page p99 4.80 vs 4.77 ms. (16 KiB was slower for TAXII: the version index's
/// random leaves, rewritten by every envelope, four times larger.)
const NEW_FILE_PAGE_SIZE: u32 = 8192;

/// WAL size, in pages, at which the writer checkpoints after a commit itself (SQLite's
/// default is 1,000). Above an import transaction's size (~20,000 pages), or the writer
/// would copy every one of them itself. The background thread copies a transaction while
/// the next one is built, but SQLite starts the WAL over only at a transaction that
/// begins with every frame copied, which back-to-back transactions never do; so under a
/// steady stream of writes the WAL grows to this size, and then the writer's own
/// checkpoint (copying only the last transaction) lets the next one start it over.
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 65_536;
/// What a WAL file is cut back to when the WAL starts over (SQLite's default keeps it at
/// the largest size it ever reached). Above what [`WRITER_AUTOCHECKPOINT_PAGES`] lets it
/// grow to (~270 MB with 4 KiB pages, ~540 MB with 8 KiB), so a busy WAL is rewritten in
/// place: cut back to 64 MiB, it grew again into new blocks, which the file system zeroes
/// before SQLite's frames (24 bytes plus a page, never block-aligned) fill them (~5% of an import's CPU in `perf`; system
/// time of an import of 1,000,000 lines 4.3-5.8 -> 3.7-4.7 s in two alternated runs).
/// The last connection to close removes the file.
const WAL_SIZE_LIMIT_BYTES: u64 = 576 << 20;

/// Puts the file of `conn` (at `path`) in WAL mode, or says why it is not.
fn switch_to_wal(conn: &Connection, path: &Path) -> Result<()> {
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(backend)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Backend(format!(
            "could not switch {} to WAL mode (got {mode})",
            path.display()
        )));
    }
    Ok(())
}

/// Opens a connection with the settings every connection needs.
fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(backend)?;
    // Reads through pread cost a syscall and a copy per page; mapped, a page of a large
    // collection or an export costs neither. An upper bound: only what is read is mapped in.
    conn.execute_batch(&format!(
        "PRAGMA mmap_size = {MMAP_BYTES}; PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES};"
    ))
    .map_err(backend)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, switches it to WAL and
    /// applies missing migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let mut writer = connect(&path)?;
        // Takes effect only in a file that holds nothing yet; an existing file keeps the
        // page size it was made with.
        writer
            .execute_batch(&format!("PRAGMA page_size = {NEW_FILE_PAGE_SIZE}"))
            .map_err(backend)?;
        // A collection's random UUIDs dirty a different leaf of the version index for every
        // object written; SQLite's default 2 MB cache re-reads them from the file once the
        // index outgrows it. The cache grows only as pages are used.
        writer
            .execute_batch(&format!(
                "PRAGMA cache_size = -{WRITER_CACHE_KIB}; PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES};"
            ))
            .map_err(backend)?;
        switch_to_wal(&writer, &path)?;
        schema::migrate(&mut writer).map_err(|e| StoreError::Backend(e.to_string()))?;
        {
            // Node hashes for leaves written before migration 2 (a no-op afterwards).
            let tx = writer
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            log::backfill(&tx)?;
            log::link_objects(&tx)?;
            tx.commit().map_err(backend)?;
        }
        let index_path = fulltext::search_path(&path);
        let indexer = fulltext::Indexer::start(&path, &index_path)?;
        let (checkpoint_requests, checkpointer) = Checkpointer::start(&path)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                logged: true,
                index_path,
                checkpoint_requests,
                indexer,
                _checkpointer: checkpointer,
            }),
        })
    }

    /// A store whose writes append no log entries, for one purpose only: measuring what
    /// the transparency log costs on ingest (issue 6: ingest with the log within 20% of
    /// ingest without it; `benches/log_overhead.rs`). Its log has holes that the next
    /// ordinary open refills from the objects, so it must never serve anybody; the feature
    /// that compiles it is off in every build but that bench's.
    #[cfg(feature = "bench-unlogged")]
    pub fn open_unlogged_for_benchmarks(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let store = SqliteStore::open(path)?;
        let inner = Arc::into_inner(store.inner)
            .ok_or_else(|| StoreError::Backend("the store is shared already".into()))?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                logged: false,
                ..inner
            }),
        })
    }

    /// Opens `<data_dir>/entente.sqlite3` (the directory must exist).
    pub fn open_in_dir(data_dir: impl AsRef<Path>) -> Result<SqliteStore> {
        SqliteStore::open(data_dir.as_ref().join(DB_FILE))
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Sets up a fresh installation in one transaction, unless that was done before: the
    /// organization `admin`, its administrator user `admin`, the API root `default`, the
    /// collection `shared` readable and writable by `admin`, and a token for `admin`.
    /// Returns the token's secret when it set things up, `None` otherwise. Organizations,
    /// users and roots that already exist by those names (created with `entente admin`
    /// before the first start) are reused.
    pub async fn bootstrap(&self, spec: &BootstrapSpec) -> Result<Option<String>> {
        let spec = spec.clone();
        self.write(move |c| {
            let done: Option<String> = c
                .query_row(
                    "SELECT value FROM meta WHERE key = 'bootstrapped'",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if done.is_some() {
                return Ok(None);
            }
            if accounts::org(c, &spec.admin_org)?.is_none() {
                accounts::create_org(c, &spec.admin_org)?;
            }
            if accounts::user(c, &spec.admin_user)?.is_none() {
                accounts::create_user(c, &spec.admin_user, &spec.admin_org, true)?;
            }
            if accounts::api_root(c, &spec.api_root)?.is_none() {
                accounts::create_api_root(
                    c,
                    &NewApiRoot {
                        name: spec.api_root.clone(),
                        title: spec.api_root_title.clone(),
                        description: None,
                    },
                )?;
            }
            let shared = accounts::create_collection(
                c,
                &NewCollection {
                    api_root: spec.api_root.clone(),
                    title: spec.collection_title.clone(),
                    description: Some(spec.collection_description.clone()),
                    ..NewCollection::default()
                },
            )?;
            accounts::grant_org(c, &shared.id, &spec.admin_org, Grant::READ_WRITE)?;
            let token = accounts::create_token(c, &spec.admin_user)?;
            c.execute(
                "INSERT INTO meta (key, value) VALUES ('bootstrapped', ?1)",
                [crate::keys::now_micros().to_string()],
            )
            .map_err(backend)?;
            Ok(Some(token.secret))
        })
        .await
    }

    /// Runs `f` in a write transaction on the blocking pool and commits it; the result is
    /// returned only after the commit succeeded.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.write_rows(1, f).await
    }

    /// [`SqliteStore::write`] of about `rows` rows, which tells the background threads how
    /// much piled up (`pace.rs`).
    async fn write_rows<T, F>(&self, rows: u64, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // A poisoned lock means a panic mid-call; the transaction it held rolled back on
            // unwind, so the connection is still usable.
            let mut conn = inner.writer.lock().unwrap_or_else(|e| e.into_inner());
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let out = f(&tx)?;
            tx.commit().map_err(backend)?;
            drop(conn);
            inner.checkpoint_requests.request(rows);
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
    }

    /// [`SqliteStore::write`] for a write that adds or removes about `rows` objects: the
    /// full-text indexer (`fulltext.rs`) is told once it is over, committed or not.
    async fn write_objects<T, F>(&self, rows: usize, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let rows = rows as u64;
        let out = self.write_rows(rows, f).await;
        self.inner.indexer.request(rows);
        out
    }

    /// Runs `f` on a reader connection on the blocking pool.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop();
            let conn = match pooled {
                Some(c) => c,
                None => {
                    let c = connect(&inner.path)?;
                    fulltext::attach(&c, &inner.index_path)?;
                    c.execute_batch("PRAGMA query_only = ON").map_err(backend)?;
                    c
                }
            };
            // A read of several statements sees one snapshot.
            conn.execute_batch("BEGIN").map_err(backend)?;
            let out = f(&conn);
            let end = conn.execute_batch("COMMIT").map_err(backend);
            let mut idle = inner.readers.lock().unwrap_or_else(|e| e.into_inner());
            if end.is_ok() && idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            let out = out?;
            end?;
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn create_org(&self, name: &str) -> Result<Organization> {
        let name = name.to_owned();
        self.write(move |c| accounts::create_org(c, &name)).await
    }

    async fn org(&self, name: &str) -> Result<Option<Organization>> {
        let name = name.to_owned();
        self.read(move |c| accounts::org(c, &name)).await
    }

    async fn list_orgs(&self) -> Result<Vec<Organization>> {
        self.read(accounts::list_orgs).await
    }

    async fn create_user(&self, name: &str, org: &str, admin: bool) -> Result<User> {
        let (name, org) = (name.to_owned(), org.to_owned());
        self.write(move |c| accounts::create_user(c, &name, &org, admin))
            .await
    }

    async fn user(&self, name: &str) -> Result<Option<User>> {
        let name = name.to_owned();
        self.read(move |c| accounts::user(c, &name)).await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.read(accounts::list_users).await
    }

    async fn create_token(&self, user: &str) -> Result<NewToken> {
        let user = user.to_owned();
        self.write(move |c| accounts::create_token(c, &user)).await
    }

    async fn authenticate(&self, secret: &str) -> Result<Option<Principal>> {
        let secret = secret.to_owned();
        self.read(move |c| accounts::authenticate(c, &secret, None))
            .await
    }

    async fn authenticate_basic(&self, user: &str, secret: &str) -> Result<Option<Principal>> {
        let (user, secret) = (user.to_owned(), secret.to_owned());
        self.read(move |c| accounts::authenticate(c, &secret, Some(&user)))
            .await
    }

    async fn revoke_token(&self, id: TokenId) -> Result<()> {
        self.write(move |c| accounts::revoke_token(c, id)).await
    }

    async fn list_tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>> {
        let user = user.map(str::to_owned);
        self.read(move |c| accounts::list_tokens(c, user.as_deref()))
            .await
    }

    async fn create_api_root(&self, root: &NewApiRoot) -> Result<ApiRoot> {
        let root = root.clone();
        self.write(move |c| accounts::create_api_root(c, &root))
            .await
    }

    async fn api_root(&self, name: &str) -> Result<Option<ApiRoot>> {
        let name = name.to_owned();
        self.read(move |c| accounts::api_root(c, &name)).await
    }

    async fn list_api_roots(&self) -> Result<Vec<ApiRoot>> {
        self.read(accounts::list_api_roots).await
    }

    async fn create_collection(&self, collection: &NewCollection) -> Result<Collection> {
        let new = collection.clone();
        self.write(move |c| accounts::create_collection(c, &new))
            .await
    }

    async fn collection(&self, id: &str) -> Result<Option<Collection>> {
        let id = id.to_owned();
        self.read(move |c| Ok(accounts::collection_row(c, &id)?.map(|r| r.collection)))
            .await
    }

    async fn list_collections(&self, api_root: Option<&str>) -> Result<Vec<Collection>> {
        let root = api_root.map(str::to_owned);
        self.read(move |c| {
            Ok(accounts::list_collections(c, root.as_deref())?
                .into_iter()
                .map(|r| r.collection)
                .collect())
        })
        .await
    }

    async fn grant_org(&self, collection_id: &str, org: &str, grant: Grant) -> Result<()> {
        let (id, org) = (collection_id.to_owned(), org.to_owned());
        self.write(move |c| accounts::grant_org(c, &id, &org, grant))
            .await
    }

    async fn grant_user(&self, collection_id: &str, user: &str, grant: Grant) -> Result<()> {
        let (id, user) = (collection_id.to_owned(), user.to_owned());
        self.write(move |c| accounts::grant_user(c, &id, &user, grant))
            .await
    }

    async fn grants(&self, collection_id: &str) -> Result<Vec<GrantEntry>> {
        let id = collection_id.to_owned();
        self.read(move |c| accounts::grants(c, &id)).await
    }

    async fn access(
        &self,
        principal: Option<&Principal>,
        collection_id: &str,
    ) -> Result<Option<(Collection, Access)>> {
        let (p, id) = (principal.cloned(), collection_id.to_owned());
        self.read(move |c| {
            let Some(row) = accounts::collection_row(c, &id)? else {
                return Ok(None);
            };
            let access = accounts::access_to(c, p.as_ref(), &row)?;
            Ok(Some((row.collection, access)))
        })
        .await
    }

    async fn collections_for(
        &self,
        principal: Option<&Principal>,
        api_root: &str,
    ) -> Result<Vec<(Collection, Access)>> {
        let (p, root) = (principal.cloned(), api_root.to_owned());
        self.read(move |c| {
            let mut out = Vec::new();
            for row in accounts::list_collections(c, Some(&root))? {
                let access = accounts::access_to(c, p.as_ref(), &row)?;
                if access.any() {
                    out.push((row.collection, access));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn add_objects(
        &self,
        collection_id: &str,
        objects: Vec<NewObject>,
    ) -> Result<Vec<AddOutcome>> {
        // Hashed here, on the caller's thread, not under the writer's lock.
        let objects = objects.into_iter().map(Digested::of).collect();
        self.add_digested(collection_id, objects).await
    }

    async fn add_digested(
        &self,
        collection_id: &str,
        objects: Vec<Digested>,
    ) -> Result<Vec<AddOutcome>> {
        let id = collection_id.to_owned();
        let logged = self.inner.logged;
        self.write_objects(objects.len(), move |c| {
            let row = accounts::require_collection(c, &id)?;
            objects::add_digested(c, &row, objects, logged)
        })
        .await
    }

    /// One transaction for all the envelopes: one commit, one fsync of the WAL. No
    /// savepoint per envelope: the pages a savepoint might roll back are copied to a
    /// sub-journal (with FTS5's flush at every savepoint, before the index left this file in
    /// migration 12, ~12 % of the writer's CPU at 1,000,000 objects, `perf`). The objects
    /// are hashed before the writer's lock is taken. An envelope for a collection that is gone
    /// fails alone (it writes nothing); any other error fails the whole call, which
    /// [`Store::store_envelopes`] allows: the caller retries the envelopes one by one.
    async fn store_envelopes(&self, envelopes: Vec<Envelope>) -> Result<Vec<Status>> {
        let logged = self.inner.logged;
        let envelopes: Vec<(Vec<Digested>, Status)> = envelopes
            .into_iter()
            .map(|e| (e.objects.into_iter().map(Digested::of).collect(), e.status))
            .collect();
        let rows = envelopes.iter().map(|(objects, _)| objects.len()).sum();
        self.write_objects(rows, move |c| {
            let mut statuses = Vec::with_capacity(envelopes.len());
            for (posted, status) in envelopes {
                let expected = posted.len();
                let result = match accounts::require_collection(c, &status.collection_id) {
                    Ok(row) => Ok(objects::add_digested(c, &row, posted, logged)?),
                    Err(gone) => Err(gone),
                };
                let status = status.completed(result, expected);
                objects::save_status(c, &status, true)?;
                statuses.push(status);
            }
            Ok(statuses)
        })
        .await
    }

    async fn query_objects(
        &self,
        collection_id: &str,
        query: &ObjectQuery,
    ) -> Result<Page<StoredObject>> {
        let (id, q) = (collection_id.to_owned(), query.clone());
        self.read(move |c| {
            let row = accounts::require_collection(c, &id)?;
            objects::query_objects(c, &row, &q, None)
        })
        .await
    }

    async fn manifest(
        &self,
        collection_id: &str,
        query: &ObjectQuery,
    ) -> Result<Page<ManifestEntry>> {
        let (id, q) = (collection_id.to_owned(), query.clone());
        self.read(move |c| {
            let row = accounts::require_collection(c, &id)?;
            objects::manifest(c, &row, &q)
        })
        .await
    }

    async fn get_object(
        &self,
        collection_id: &str,
        object_id: &str,
        query: &ObjectQuery,
    ) -> Result<Page<StoredObject>> {
        let (id, oid, q) = (
            collection_id.to_owned(),
            object_id.to_owned(),
            query.clone(),
        );
        self.read(move |c| {
            let row = accounts::require_collection(c, &id)?;
            objects::query_objects(c, &row, &q, Some(&oid))
        })
        .await
    }

    async fn versions(
        &self,
        collection_id: &str,
        object_id: &str,
        query: &ObjectQuery,
    ) -> Result<Page<VersionEntry>> {
        let (id, oid, q) = (
            collection_id.to_owned(),
            object_id.to_owned(),
            query.clone(),
        );
        self.read(move |c| {
            let row = accounts::require_collection(c, &id)?;
            objects::versions(c, &row, &oid, &q)
        })
        .await
    }

    async fn delete_object(
        &self,
        collection_id: &str,
        object_id: &str,
        query: &ObjectQuery,
    ) -> Result<u64> {
        let (id, oid, q) = (
            collection_id.to_owned(),
            object_id.to_owned(),
            query.clone(),
        );
        self.write_objects(1, move |c| {
            let row = accounts::require_collection(c, &id)?;
            objects::delete_object(c, &row, &oid, &q)
        })
        .await
    }

    async fn search_objects(
        &self,
        collection_id: &str,
        query: &SearchQuery,
    ) -> Result<Page<StoredObject>> {
        let (id, q) = (collection_id.to_owned(), query.clone());
        let inner = self.inner.clone();
        self.read(move |c| {
            let row = accounts::require_collection(c, &id)?;
            if q.text.is_some() {
                // The rows and deletions this snapshot holds, indexed before the index is
                // read (its snapshot starts at its first read, after the wait).
                let target = fulltext::target(c)?;
                inner.indexer.wait_for(target, fulltext::SEARCH_WAIT);
            }
            search::search_objects(c, &row, &q)
        })
        .await
    }

    async fn objects_referencing(
        &self,
        collection_id: &str,
        stix_id: &str,
        max_tlp: crate::TlpLevel,
        limit: usize,
    ) -> Result<Vec<StoredObject>> {
        let (id, sid) = (collection_id.to_owned(), stix_id.to_owned());
        self.read(move |c| {
            let row = accounts::require_collection(c, &id)?;
            search::objects_referencing(c, &row, &sid, max_tlp, limit)
        })
        .await
    }

    async fn object_versions(
        &self,
        collection_id: &str,
        stix_id: &str,
        max_tlp: crate::TlpLevel,
        limit: usize,
    ) -> Result<Vec<VersionEntry>> {
        let (id, sid) = (collection_id.to_owned(), stix_id.to_owned());
        self.read(move |c| {
            let row = accounts::require_collection(c, &id)?;
            search::object_versions(c, &row, &sid, max_tlp, limit)
        })
        .await
    }

    async fn collection_stats(
        &self,
        collection_id: &str,
        max_tlp: crate::TlpLevel,
    ) -> Result<CollectionStats> {
        let id = collection_id.to_owned();
        self.read(move |c| {
            let row = accounts::require_collection(c, &id)?;
            search::collection_stats(c, &row, max_tlp)
        })
        .await
    }

    async fn latest_versions(
        &self,
        collection_id: &str,
        ids: &[String],
    ) -> Result<Vec<StoredObject>> {
        let (id, ids) = (collection_id.to_owned(), ids.to_vec());
        self.read(move |c| {
            let row = accounts::require_collection(c, &id)?;
            latest::latest_versions(c, &row, &ids)
        })
        .await
    }

    async fn create_status(&self, status: &Status) -> Result<()> {
        let s = status.clone();
        self.write(move |c| objects::save_status(c, &s, true)).await
    }

    async fn update_status(&self, status: &Status) -> Result<()> {
        let s = status.clone();
        self.write(move |c| objects::save_status(c, &s, false))
            .await
    }

    async fn status(&self, id: &str) -> Result<Option<Status>> {
        let id = id.to_owned();
        self.read(move |c| objects::status(c, &id)).await
    }

    async fn log_size(&self) -> Result<u64> {
        self.read(objects::log_size).await
    }

    async fn log_leaves(&self, start: u64, limit: u64) -> Result<Vec<LogLeaf>> {
        self.read(move |c| objects::log_leaves(c, start, limit))
            .await
    }

    async fn log_head(&self) -> Result<(u64, tlog::Hash)> {
        self.read(log::head).await
    }

    async fn log_root(&self, size: u64) -> Result<tlog::Hash> {
        self.read(move |c| log::root_at(c, size)).await
    }

    async fn log_inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<tlog::Hash>> {
        self.read(move |c| log::inclusion_proof(c, index, size))
            .await
    }

    async fn log_consistency_proof(&self, old: u64, size: u64) -> Result<Vec<tlog::Hash>> {
        self.read(move |c| log::consistency_proof(c, old, size))
            .await
    }

    async fn log_nodes(&self, ids: Vec<tlog::NodeId>) -> Result<Vec<tlog::Hash>> {
        self.read(move |c| log::nodes(c, &ids)).await
    }

    async fn log_lookup(
        &self,
        collection_id: &str,
        stix_id: &str,
        version: &str,
    ) -> Result<Option<(u64, Vec<u8>)>> {
        let (c_id, s_id, v) = (
            collection_id.to_owned(),
            stix_id.to_owned(),
            version.to_owned(),
        );
        self.read(move |c| log::lookup(c, &c_id, &s_id, &v)).await
    }

    async fn save_checkpoint(&self, size: u64, note: &str) -> Result<()> {
        let note = note.to_owned();
        self.write(move |c| log::save_checkpoint(c, size, &note))
            .await
    }

    async fn latest_checkpoint(&self) -> Result<Option<(u64, String)>> {
        self.read(log::latest_checkpoint).await
    }
}
