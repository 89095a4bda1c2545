//! The web UI's full-text index, kept in a database file of its own and filled by a thread
//! of its own, beside the store's writer instead of on its path.
//!
//! **Why a second file.** SQLite lets one connection write a file at a time. With the index
//! in the store's file, every object write also tokenised its text and wrote the FTS5
//! segments in the same transaction, on the one writer thread: ~3.4 of ~14 s of writer CPU
//! for an import of 1,000,000 indicators (`perf`; the import is bound by that thread while
//! the second core idles). In `<stem>-search.sqlite3` ([`search_path`]) the index has its own
//! write lock, so an [`Indexer`] thread fills it while the writer goes on.
//!
//! **Derived, so eventually consistent.** The file holds nothing that the store does not:
//! each object's name, description and pattern, keyed by the object's rowid, and how far it
//! got (`search_state`: the highest rowid indexed, the last deletion applied, and the
//! store's `search_epoch`). Those marks change in the same transaction as the rows they
//! describe, so a crash at any point leaves an index that is right up to its mark, and the
//! next round goes on from there; a lost or foreign file (another epoch) is rebuilt from the
//! objects. Deleted objects leave a row in the store's `search_gone` (a trigger, in the
//! deleting transaction), which the indexer applies in order. SQLite gives a new row the
//! largest rowid + 1, so a deleted row's rowid comes back only when no row above it is
//! left: applying deletions lowers the rowid mark to the largest row left, and such a row
//! is then indexed as new.
//!
//! **Searches see their writes.** A search first waits, up to [`SEARCH_WAIT`], for the
//! indexer to reach the store's newest row and last deletion ([`Indexer::wait_for`]); in a
//! quiet store that is no wait at all.
//!
//! **Out of the writer's way.** Rounds start when commits pause or pile up (`pace.rs`), and
//! the thread runs at a lower priority than the rest of the process (`run_in_background`):
//! its work can wait, the writer's cannot. Several processes (the server, `entente import`)
//! may index the same file: each round is a `BEGIN IMMEDIATE` transaction that starts from
//! the marks in the file.

use super::fields::Fields;
use super::pace::{self, Pending};
use super::{backend, connect};
use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Rows indexed per transaction: one FTS5 segment each (the table's `hashsize` holds them).
const ROWS_PER_ROUND: i64 = 50_000;
/// Longest a search waits for the index to catch up before it answers from what is indexed.
pub(super) const SEARCH_WAIT: Duration = Duration::from_secs(5);
/// In-memory size of pending FTS5 terms before a segment is written (FTS5's default is
/// 1 MiB): an import round of 50,000 indicators then writes one segment instead of ~10
/// that FTS5 would merge again and again.
const HASH_SIZE: i64 = 64 << 20;

/// The index's file beside the store's file `main`: `<stem>-search.sqlite3`.
pub(crate) fn search_path(main: &Path) -> PathBuf {
    let stem = main
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "entente".into());
    main.with_file_name(format!("{stem}-search.sqlite3"))
}

/// Opens (creating if needed) the index's file with its schema.
pub(super) fn open_index(path: &Path) -> Result<Connection> {
    let conn = connect(path)?;
    // Derived data: a commit lost to a power cut is indexed again from the store.
    conn.execute_batch("PRAGMA synchronous = NORMAL")
        .map_err(backend)?;
    super::switch_to_wal(&conn, path)?;
    let tx = conn.unchecked_transaction().map_err(backend)?;
    let exists: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'search_state')",
            [],
            |r| r.get(0),
        )
        .map_err(backend)?;
    if !exists {
        tx.execute_batch(&format!(
            "CREATE VIRTUAL TABLE objects_fts USING fts5(
                 name, description, pattern, content='', contentless_delete=1, tokenize='unicode61'
             );
             INSERT INTO objects_fts (objects_fts, rank) VALUES ('hashsize', {HASH_SIZE});
             CREATE TABLE search_state (
                 key   TEXT PRIMARY KEY,
                 value ANY
             ) WITHOUT ROWID;"
        ))
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)?;
    Ok(conn)
}

/// Attaches the index's file to a store connection as schema `search`, for queries.
pub(super) fn attach(conn: &Connection, index: &Path) -> Result<()> {
    conn.execute(
        "ATTACH DATABASE ?1 AS search",
        [index.to_string_lossy().as_ref()],
    )
    .map_err(backend)?;
    Ok(())
}

/// How far the index got, as stored in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Marks {
    /// The store's `search_epoch` the index was built for.
    epoch: Option<String>,
    /// Every object row with a rowid up to this one is indexed.
    upto: i64,
    /// Every `search_gone` row up to this rowid is applied.
    gone_upto: i64,
}

fn read_marks(index: &Connection) -> Result<Marks> {
    let get = |key: &str| -> Result<Option<rusqlite::types::Value>> {
        index
            .query_row(
                "SELECT value FROM search_state WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)
    };
    let int = |v: Option<rusqlite::types::Value>| match v {
        Some(rusqlite::types::Value::Integer(i)) => i,
        _ => 0,
    };
    Ok(Marks {
        epoch: match get("epoch")? {
            Some(rusqlite::types::Value::Text(t)) => Some(t),
            _ => None,
        },
        upto: int(get("upto")?),
        gone_upto: int(get("gone_upto")?),
    })
}

fn write_marks(index: &Connection, marks: &Marks) -> Result<()> {
    let mut put = index
        .prepare_cached("INSERT OR REPLACE INTO search_state (key, value) VALUES (?1, ?2)")
        .map_err(backend)?;
    put.execute(params!["epoch", marks.epoch])
        .map_err(backend)?;
    put.execute(params!["upto", marks.upto]).map_err(backend)?;
    put.execute(params!["gone_upto", marks.gone_upto])
        .map_err(backend)?;
    Ok(())
}

/// How far the index is, or must be: rows up to `rows` indexed, deletions up to `gone`
/// (a `search_gone` rowid) applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Progress {
    pub(super) rows: i64,
    pub(super) gone: i64,
}

impl Progress {
    fn reaches(&self, target: Progress) -> bool {
        self.rows >= target.rows && self.gone >= target.gone
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Round {
    /// The index's marks after the round.
    pub(super) done: Progress,
    /// Whether rows are left for another round.
    pub(super) more: bool,
}

/// Indexes what the store holds beyond the index's marks: deletions first, then up to
/// [`ROWS_PER_ROUND`] new rows, in one transaction of `index`. `store` is a connection to
/// the store's file that is not inside a transaction; it reads one snapshot.
pub(super) fn index_round(index: &mut Connection, store: &Connection) -> Result<Round> {
    let tx = index
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    store.execute_batch("BEGIN").map_err(backend)?;
    let result = index_in(&tx, store);
    let end = store.execute_batch("COMMIT").map_err(backend);
    let round = result?;
    end?;
    tx.commit().map_err(backend)?;
    Ok(round)
}

fn index_in(index: &Connection, store: &Connection) -> Result<Round> {
    let mut marks = read_marks(index)?;
    let epoch: Option<String> = store
        .query_row(
            "SELECT value FROM meta WHERE key = 'search_epoch'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    if marks.epoch != epoch {
        // Built for another store (or never built): start over from the store's rows. The
        // deletions recorded so far concern rows the rebuild will not find.
        index
            .execute(
                "INSERT INTO objects_fts (objects_fts) VALUES ('delete-all')",
                [],
            )
            .map_err(backend)?;
        marks = Marks {
            epoch,
            upto: 0,
            gone_upto: store
                .query_row("SELECT coalesce(max(rowid), 0) FROM search_gone", [], |r| {
                    r.get(0)
                })
                .map_err(backend)?,
        };
    }
    let mut insert = index
        .prepare_cached(
            "INSERT INTO objects_fts (rowid, name, description, pattern) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(backend)?;
    let mut remove = index
        .prepare_cached("DELETE FROM objects_fts WHERE rowid = ?1")
        .map_err(backend)?;
    let mut body = store
        .prepare_cached("SELECT raw FROM objects WHERE rowid = ?1")
        .map_err(backend)?;
    let mut add = |rowid: i64, raw: &str| -> Result<()> {
        if let Some(t) = Fields::of(raw).text {
            insert
                .execute(params![rowid, t.name, t.description, t.pattern])
                .map_err(backend)?;
        }
        Ok(())
    };
    // Deletions, in the order they happened. A deleted row the index never saw needs
    // nothing; one it did leaves the index, and if its rowid was handed out again since
    // (SQLite reuses the largest), the row that has it now is indexed in its place.
    let gone: Vec<(i64, i64)> = store
        .prepare_cached("SELECT rowid, obj FROM search_gone WHERE rowid > ?1 ORDER BY rowid")
        .map_err(backend)?
        .query_map([marks.gone_upto], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(backend)?
        .collect::<rusqlite::Result<_>>()
        .map_err(backend)?;
    for (seq, obj) in gone {
        if obj <= marks.upto {
            remove.execute([obj]).map_err(backend)?;
            let raw: Option<String> = body
                .query_row([obj], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            if let Some(raw) = raw {
                add(obj, &raw)?;
            }
        }
        marks.gone_upto = seq;
    }
    // SQLite gives a new row the largest rowid + 1, so a deleted row's rowid comes back
    // only if no row above it is left. Lowering the mark to the largest rowid left makes
    // such a row new to the index; every row under the mark stays indexed.
    marks.upto = marks.upto.min(target(store)?.rows);
    let mut rows = store
        .prepare_cached("SELECT rowid, raw FROM objects WHERE rowid > ?1 ORDER BY rowid LIMIT ?2")
        .map_err(backend)?;
    let mut rows = rows
        .query(params![marks.upto, ROWS_PER_ROUND])
        .map_err(backend)?;
    let mut n = 0;
    while let Some(row) = rows.next().map_err(backend)? {
        let rowid: i64 = row.get(0).map_err(backend)?;
        let raw = row.get_ref(1).map_err(backend)?.as_str().map_err(|e| {
            StoreError::Corrupt(format!("object row {rowid}: body is not text: {e}"))
        })?;
        add(rowid, raw)?;
        marks.upto = rowid;
        n += 1;
    }
    write_marks(index, &marks)?;
    Ok(Round {
        done: Progress {
            rows: marks.upto,
            gone: marks.gone_upto,
        },
        more: n == ROWS_PER_ROUND,
    })
}

/// What the index must have done to reflect `store`'s snapshot: its newest object row and
/// its last recorded deletion.
pub(super) fn target(store: &Connection) -> Result<Progress> {
    store
        .query_row(
            "SELECT (SELECT coalesce(max(rowid), 0) FROM objects),
                    (SELECT coalesce(max(rowid), 0) FROM search_gone)",
            [],
            |r| {
                Ok(Progress {
                    rows: r.get(0)?,
                    gone: r.get(1)?,
                })
            },
        )
        .map_err(backend)
}

/// What the indexer thread and the store's callers share.
#[derive(Default)]
struct State {
    /// Commits (and searches) since the last round started: when the next one is due
    /// (`pace.rs`), so that a stream of envelopes is indexed after its burst, in batches.
    pending: Pending,
    /// This process wrote since it opened the store: dropping it indexes what it wrote.
    wrote: bool,
    /// The index's marks after the thread's last round.
    done: Progress,
    /// The last round failed (the thread tries again at the next request).
    failed: bool,
    /// The store is being dropped.
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The thread that fills the index after commits (see the module doc).
pub(super) struct Indexer {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Indexer {
    /// Starts the thread with a connection to the index at `index_path` and one to the
    /// store at `store_path`, and has it catch up with what the store holds.
    pub(super) fn start(store_path: &Path, index_path: &Path) -> Result<Indexer> {
        let mut index = open_index(index_path)?;
        let store = connect(store_path)?;
        store
            .execute_batch("PRAGMA query_only = ON")
            .map_err(backend)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        // Catch up with what the store holds at once.
        shared.lock().pending.hurry();
        let theirs = shared.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-fulltext".into())
            .spawn(move || {
                super::run_in_background();
                run(&theirs, &mut index, &store)
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the indexer thread: {e}")))?;
        Ok(Indexer {
            shared,
            thread: Some(thread),
        })
    }

    /// Tells the thread that this process committed a write of about `rows` object rows;
    /// returns at once.
    pub(super) fn request(&self, rows: u64) {
        let mut state = self.shared.lock();
        state.pending.add(rows, Instant::now());
        state.wrote = true;
        self.shared.changed.notify_all();
    }

    /// Waits until the index reaches `target` ([`target`]), at most `limit`. Returns
    /// whether it did (a failing indexer, or one that is far behind, answers `false`).
    pub(super) fn wait_for(&self, target: Progress, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        let mut state = self.shared.lock();
        if state.done.reaches(target) {
            return true;
        }
        state.pending.hurry();
        self.shared.changed.notify_all();
        loop {
            if state.done.reaches(target) {
                return true;
            }
            if state.failed || state.stop {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// The thread's loop: when a round is due (`pace.rs`), that round and the rounds after it
/// while rows are left; on stop, a last catch-up if this process wrote.
fn run(shared: &Shared, index: &mut Connection, store: &Connection) {
    loop {
        let stopping = {
            let mut state = pace::wait_until_due(shared.lock(), &shared.changed, |s, now| {
                if s.stop {
                    Some(Duration::ZERO)
                } else {
                    s.pending.due_in(now, Duration::ZERO)
                }
            });
            if state.stop && !state.wrote {
                return;
            }
            state.pending.take();
            state.stop
        };
        loop {
            match index_round(index, store) {
                Ok(round) => {
                    let mut state = shared.lock();
                    state.done = round.done;
                    state.failed = false;
                    shared.changed.notify_all();
                    if !round.more {
                        break;
                    }
                    // A store being dropped by a process that did not write stops after
                    // the round under way (`entente admin` must not wait for a rebuild).
                    if state.stop && !state.wrote {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "full-text indexing failed");
                    let mut state = shared.lock();
                    state.failed = true;
                    shared.changed.notify_all();
                    break;
                }
            }
        }
        if stopping {
            return;
        }
    }
}

impl Drop for Indexer {
    /// Ends the thread and waits for it: after indexing what this process wrote, if it
    /// wrote, so that `entente import` leaves a complete index behind.
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.stop = true;
            self.shared.changed.notify_all();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
