//! The transparency log on SQLite: leaves, stored node hashes, lookups and checkpoints.
//!
//! **Tables** (migration 2 in `schema.rs`): `log_leaves` holds each entry and its leaf hash
//! (since migration 1) and, for `add` entries written before migration 5, the 32-byte object
//! commitment they record (`add_object`, no longer indexed, read only by [`link_objects`]);
//! since migration 5 each `objects` row carries the index
//! of its own `add` entry (`log_idx`), so [`lookup`] is a probe of the objects' id index
//! and a primary-key read (a second index on the random commitments cost more on ingest than
//! the rest of the log: benches/log_overhead.rs). `log_nodes` holds the hash
//! of every *complete* subtree `(level, idx)` at levels 4, 8, 12, … ([`NODE_STRIDE`], since
//! migration 11; before it every level) — one row per ~15 leaves; a leaf's own hash (level 0)
//! is read from `log_leaves`, where it is stored anyway, and a node of a level in between is
//! hashed from the at most 8 stored hashes below it when read. They are written by
//! [`LogAppender`] in the same transaction as the leaf, as `tlog::tree` prescribes. With
//! them a tree head, an inclusion or a consistency proof (RFC 9162 §2.1.3, §2.1.4) and a
//! C2SP tlog-tiles hash tile are O(log n) range reads by primary key, never a rehash of the
//! leaves.
//! `log_checkpoints` keeps the signed checkpoints the server published, so a restarted
//! server knows what it already committed to.
//!
//! **Appending.** An appender loads the tree's right edge ([`tlog::Frontier`]) once per
//! write transaction (at most 64 nodes, each from at most 8 hashes) and then appends with
//! no reads. The size is
//! read inside the caller's `BEGIN IMMEDIATE` transaction, so another process writing the
//! same file (e.g. `entente admin`) can never interleave leaves: indexes stay dense and the
//! node hashes always describe exactly the committed leaves.
//!
//! What it deliberately doesn't do: sign. Checkpoints arrive signed from the server, which
//! holds the key (see [`crate::log_key`]).

use super::{backend, ts_from_us};
use crate::log_entry;
use crate::types::LogOp;
use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use tlog::{Frontier, Hash, HashStore, NodeId};

/// A [`HashStore`] over the `log_nodes` table of one connection (inside whatever
/// transaction the connection is in, so all reads of one proof see one snapshot).
pub(crate) struct ConnNodes<'a>(pub(crate) &'a Connection);

/// Node hashes are stored for every `NODE_STRIDE`-th level only (4, 8, 12, …; level 0,
/// the leaf hashes, is in `log_leaves`). A node between two stored levels is computed from
/// the at most 2^3 = 8 stored hashes below it: an append writes one node row per 15 leaves
/// instead of one per leaf (each was an INSERT on the writer's path, ~1 per object, and
/// 43 MB per million objects), and a proof of ~20 nodes reads ~60 hashes instead of 20,
/// microseconds either way. C2SP hash tiles read levels 0, 8, 16, …, all stored.
pub(crate) const NODE_STRIDE: u8 = 4;

/// Whether nodes of `level` are rows of `log_nodes` (level 0 lives in `log_leaves`).
pub(crate) fn stored_level(level: u8) -> bool {
    level > 0 && level.is_multiple_of(NODE_STRIDE)
}

impl HashStore for ConnNodes<'_> {
    fn node(&self, id: NodeId) -> tlog::Result<Hash> {
        let missing = || tlog::Error::MissingNode {
            level: id.level,
            index: id.index,
        };
        // The node covers `count` nodes of the nearest stored level at or below it.
        let above = id.level % NODE_STRIDE;
        let base = id.level - above;
        let count: u64 = 1 << above;
        let Some((first, end)) = id.index.checked_mul(count).and_then(|f| {
            Some((
                i64::try_from(f).ok()?,
                i64::try_from(f.checked_add(count)?).ok()?,
            ))
        }) else {
            return Err(missing());
        };
        // A leaf's hash is kept once, with its entry; files written before that also have
        // it in `log_nodes`, where it is no longer read (as the levels between strides).
        let rows: rusqlite::Result<Vec<Vec<u8>>> = if base == 0 {
            self.0
                .prepare_cached(
                    "SELECT leaf_hash FROM log_leaves WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
                )
                .and_then(|mut s| s.query_map(params![first, end], |r| r.get(0))?.collect())
        } else {
            self.0
                .prepare_cached(
                    "SELECT hash FROM log_nodes WHERE level = ?1 AND idx >= ?2 AND idx < ?3 ORDER BY idx",
                )
                .and_then(|mut s| {
                    s.query_map(params![base, first, end], |r| r.get(0))?
                        .collect()
                })
        };
        let rows = rows.map_err(|_| missing())?;
        // Primary keys in a range of `count`: all there or some missing.
        if rows.len() as u64 != count {
            return Err(missing());
        }
        let mut level: Vec<Hash> = rows
            .into_iter()
            .map(|h| h.try_into().map_err(|_| missing()))
            .collect::<tlog::Result<_>>()?;
        while level.len() > 1 {
            level = level
                .chunks_exact(2)
                .map(|pair| tlog::node_hash(&pair[0], &pair[1]))
                .collect();
        }
        level.pop().ok_or_else(missing)
    }
}

/// Maps a tlog error met while reading stored hashes: a missing node means the tables
/// disagree (or the request asked beyond the tree), anything else is bad input.
fn tlog_err(e: tlog::Error) -> StoreError {
    match e {
        tlog::Error::MissingNode { level, index } => {
            StoreError::Corrupt(format!("log node ({level}, {index}) is not stored"))
        }
        other => StoreError::Invalid(other.to_string()),
    }
}

/// Appends entries at the end of the log inside the caller's write transaction.
pub(crate) struct LogAppender<'c> {
    frontier: Frontier,
    /// Reused buffer for the nodes one append completes.
    nodes: Vec<(NodeId, Hash)>,
    /// The two inserts, prepared once per call rather than looked up in the statement
    /// cache at every append (a hash of the SQL text each time).
    insert_leaf: rusqlite::CachedStatement<'c>,
    insert_node: rusqlite::CachedStatement<'c>,
}

impl<'c> LogAppender<'c> {
    /// Loads the right edge of the committed tree. The caller holds the write transaction.
    pub(crate) fn new(conn: &'c Connection) -> Result<LogAppender<'c>> {
        let size = size(conn)?;
        let frontier = Frontier::from_store(&ConnNodes(conn), size).map_err(tlog_err)?;
        Ok(LogAppender {
            frontier,
            nodes: Vec::with_capacity(4),
            insert_leaf: conn
                .prepare_cached(
                    "INSERT INTO log_leaves (idx, entry, leaf_hash) VALUES (?1, ?2, ?3)",
                )
                .map_err(backend)?,
            insert_node: conn
                .prepare_cached("INSERT INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")
                .map_err(backend)?,
        })
    }

    /// The index the next appended entry gets.
    pub(crate) fn next_index(&self) -> u64 {
        self.frontier.size()
    }

    /// Appends the entry of one object version (DESIGN.md "The transparency log") and the
    /// node hashes it completes.
    #[allow(
        clippy::too_many_arguments,
        reason = "the entry's fields, named at the call"
    )]
    pub(crate) fn append(
        &mut self,
        op: LogOp,
        collection_id: &str,
        stix_id: &str,
        version: &str,
        date_added_us: i64,
        content_sha256: &[u8],
    ) -> Result<()> {
        let date_added = ts_from_us(date_added_us)?.to_string();
        let entry = log_entry::entry_bytes(
            op,
            collection_id,
            stix_id,
            version,
            &date_added,
            &hex_lower(content_sha256),
        );
        let leaf = log_entry::leaf_hash(&entry);
        let index = i64::try_from(self.frontier.size())
            .map_err(|_| StoreError::Invalid("the log is full".into()))?;
        // `add_object` is left empty: since migration 5 the object's row holds its leaf
        // index, and the commitment column is read only to link rows from before that.
        self.insert_leaf
            .execute(params![index, entry, &leaf[..]])
            .map_err(backend)?;
        self.nodes.clear();
        self.frontier
            .append_into(leaf, &mut self.nodes)
            .map_err(tlog_err)?;
        // Level 0 is the leaf hash just stored with the entry; the levels between strides
        // are computed when read (see `ConnNodes`).
        for (id, hash) in self.nodes.iter().filter(|(id, _)| stored_level(id.level)) {
            // Indices of nodes above level 0 are smaller than the leaf index, so they fit.
            self.insert_node
                .execute(params![id.level, id.index as i64, &hash[..]])
                .map_err(backend)?;
        }
        Ok(())
    }
}

/// Lowercase hex of `bytes`, written straight into the string's buffer (the `hex` crate's
/// `encode` collects an iterator of chars: a visible share of an append in `perf`).
fn hex_lower(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    // The buffer is exactly twice the input, the one length `encode_to_slice` refuses not.
    let _ = hex::encode_to_slice(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Number of leaves in the committed log.
pub(crate) fn size(conn: &Connection) -> Result<u64> {
    let n: i64 = conn
        .query_row(
            "SELECT coalesce(max(idx) + 1, 0) FROM log_leaves",
            [],
            |r| r.get(0),
        )
        .map_err(backend)?;
    Ok(n as u64)
}

/// Refuses sizes beyond the committed log with a clear error instead of a missing node.
fn check_size(conn: &Connection, size_asked: u64) -> Result<()> {
    let have = size(conn)?;
    if size_asked > have {
        return Err(StoreError::Invalid(format!(
            "tree size {size_asked} is beyond the log's {have} entries"
        )));
    }
    Ok(())
}

/// The current size and tree head, read in one snapshot.
pub(crate) fn head(conn: &Connection) -> Result<(u64, Hash)> {
    let n = size(conn)?;
    let root = tlog::root(&ConnNodes(conn), n).map_err(tlog_err)?;
    Ok((n, root))
}

/// The tree head of the first `size` leaves (RFC 9162 §2.1.1).
pub(crate) fn root_at(conn: &Connection, size_asked: u64) -> Result<Hash> {
    check_size(conn, size_asked)?;
    tlog::root(&ConnNodes(conn), size_asked).map_err(tlog_err)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1).
pub(crate) fn inclusion_proof(conn: &Connection, index: u64, size_asked: u64) -> Result<Vec<Hash>> {
    check_size(conn, size_asked)?;
    tlog::inclusion_proof(&ConnNodes(conn), index, size_asked).map_err(tlog_err)
}

/// The consistency proof from `old` to `size` leaves (RFC 9162 §2.1.4.1).
pub(crate) fn consistency_proof(conn: &Connection, old: u64, size_asked: u64) -> Result<Vec<Hash>> {
    check_size(conn, size_asked)?;
    tlog::consistency_proof(&ConnNodes(conn), old, size_asked).map_err(tlog_err)
}

/// Stored hashes of complete nodes, in the order asked (for C2SP tlog-tiles hash tiles).
pub(crate) fn nodes(conn: &Connection, ids: &[NodeId]) -> Result<Vec<Hash>> {
    ConnNodes(conn).nodes(ids).map_err(tlog_err)
}

/// The `add` entry of the stored version `(collection, id, version)`: its index and bytes.
pub(crate) fn lookup(
    conn: &Connection,
    collection_id: &str,
    stix_id: &str,
    version: &str,
) -> Result<Option<(u64, Vec<u8>)>> {
    // The stored version's own entry (a version deleted and posted again is a new row with
    // its new entry), handed out as stored: the reader recomputes the entry and compares,
    // so a rewritten one shows up as such.
    conn.prepare_cached(
        "SELECT l.idx, l.entry FROM objects o
         JOIN collections c ON c.seq = o.collection
         JOIN log_leaves l ON l.idx = o.log_idx
         WHERE c.id = ?1 AND o.id_hash = ?4 AND o.stix_id = ?2 AND o.version = ?3",
    )
    .map_err(backend)?
    .query_row(
        params![
            collection_id,
            stix_id,
            version,
            super::objects::id_hash(stix_id)
        ],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
    )
    .optional()
    .map_err(backend)
}

/// Fills `objects.log_idx` for rows stored before migration 5 (from the `add_object`
/// commitments of the leaves, through a temporary index), then drops that index: new rows
/// get their index when written. A no-op once every row is linked.
pub(crate) fn link_objects(conn: &Connection) -> Result<()> {
    let unlinked: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM objects WHERE log_idx IS NULL)",
            [],
            |r| r.get(0),
        )
        .map_err(backend)?;
    if unlinked {
        conn.execute_batch(
            "CREATE INDEX IF NOT EXISTS log_leaves_by_object ON log_leaves(add_object)
             WHERE add_object IS NOT NULL",
        )
        .map_err(backend)?;
        let rows: Vec<(i64, String, String, String)> = conn
            .prepare(
                "SELECT o.rowid, c.id, o.stix_id, o.version FROM objects o
                 JOIN collections c ON c.seq = o.collection WHERE o.log_idx IS NULL",
            )
            .map_err(backend)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(backend)?
            .collect::<rusqlite::Result<_>>()
            .map_err(backend)?;
        let mut find = conn
            .prepare("SELECT idx FROM log_leaves WHERE add_object = ?1 ORDER BY idx DESC LIMIT 1")
            .map_err(backend)?;
        let mut link = conn
            .prepare("UPDATE objects SET log_idx = ?2 WHERE rowid = ?1")
            .map_err(backend)?;
        for (rowid, collection, stix_id, version) in rows {
            let commitment = hex::decode(log_entry::object_commitment(
                &collection,
                &stix_id,
                &version,
            ))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let idx: Option<i64> = find
                .query_row([commitment], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            if let Some(idx) = idx {
                link.execute(params![rowid, idx]).map_err(backend)?;
            }
        }
    }
    conn.execute_batch("DROP INDEX IF EXISTS log_leaves_by_object")
        .map_err(backend)
}

/// Records a signed checkpoint of `size` leaves; keeps the first one stored per size.
pub(crate) fn save_checkpoint(conn: &Connection, size_signed: u64, note: &str) -> Result<()> {
    check_size(conn, size_signed)?;
    conn.execute(
        "INSERT INTO log_checkpoints (size, note, created_us) VALUES (?1, ?2, ?3)
         ON CONFLICT (size) DO NOTHING",
        params![size_signed as i64, note, crate::keys::now_micros()],
    )
    .map_err(backend)?;
    Ok(())
}

/// The signed checkpoint of the largest size stored, with that size.
pub(crate) fn latest_checkpoint(conn: &Connection) -> Result<Option<(u64, String)>> {
    conn.query_row(
        "SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
    )
    .optional()
    .map_err(backend)
}

/// Fills in what migration 2 added for leaves written before it: the node hashes (from the
/// stored leaf hashes, through a [`Frontier`]) and the commitments of `add` entries (from
/// the entries' own `object` field). The caller holds a write transaction; a log whose
/// nodes are complete is left as it is, so this costs one query on every later open.
/// Completeness is read from level 1: level 0 is not stored in `log_nodes` any more.
pub(crate) fn backfill(conn: &Connection) -> Result<()> {
    let leaves = size(conn)?;
    // Every 2^NODE_STRIDE leaves complete a node of the first stored level.
    let blocks: i64 = conn
        .query_row(
            "SELECT coalesce(max(idx) + 1, 0) FROM log_nodes WHERE level = ?1",
            [NODE_STRIDE],
            |r| r.get(0),
        )
        .map_err(backend)?;
    // A log too short for such a node has none to tell; refilling it costs nothing.
    let block = 1u64 << NODE_STRIDE;
    if leaves >= block && blocks as u64 >= leaves / block {
        return Ok(());
    }
    conn.execute("DELETE FROM log_nodes", []).map_err(backend)?;
    let mut frontier = Frontier::new();
    let mut out = Vec::new();
    let mut read = conn
        .prepare("SELECT idx, entry, leaf_hash FROM log_leaves ORDER BY idx")
        .map_err(backend)?;
    let rows = read
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .map_err(backend)?;
    let mut insert = conn
        .prepare("INSERT INTO log_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")
        .map_err(backend)?;
    let mut set_object = conn
        .prepare("UPDATE log_leaves SET add_object = ?2 WHERE idx = ?1")
        .map_err(backend)?;
    for row in rows {
        let (idx, entry, hash) = row.map_err(backend)?;
        if idx as u64 != frontier.size() {
            return Err(StoreError::Corrupt(format!(
                "log leaves are not dense: leaf {idx} follows {} leaves",
                frontier.size()
            )));
        }
        let leaf: Hash = hash
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("log leaf {idx}: hash is not 32 bytes")))?;
        out.clear();
        frontier.append_into(leaf, &mut out).map_err(tlog_err)?;
        for (id, h) in out.iter().filter(|(id, _)| stored_level(id.level)) {
            insert
                .execute(params![id.level, id.index as i64, &h[..]])
                .map_err(backend)?;
        }
        if let Some(object) = added_object(&entry) {
            set_object.execute(params![idx, object]).map_err(backend)?;
        }
    }
    Ok(())
}

/// The commitment an `add` entry records, decoded from its `object` field.
fn added_object(entry: &[u8]) -> Option<Vec<u8>> {
    let v: serde_json::Value = serde_json::from_slice(entry).ok()?;
    if v.get("op")?.as_str()? != "add" {
        return None;
    }
    hex::decode(v.get("object")?.as_str()?).ok()
}
