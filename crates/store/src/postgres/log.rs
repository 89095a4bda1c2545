//! The transparency log on PostgreSQL: leaves, stored node hashes, lookups, checkpoints and
//! the shared signing key.
//!
//! The tables and their meaning are those of `sqlite/log.rs`. Appending happens in the
//! caller's transaction under the log's advisory lock: [`Appender::load`] reads the tree's
//! right edge ([`tlog::Frontier`], at most 64 nodes) in one statement, appends in memory,
//! and [`Appender::write`] stores the leaves and the completed nodes in two statements.
//!
//! `tlog`'s proof functions read nodes through the synchronous [`tlog::HashStore`]; the
//! nodes a proof needs depend only on the sizes and indexes, never on hash values, so a
//! proof is computed twice: once against a store that records the node ids asked for (and
//! answers zeros), then, after fetching exactly those nodes in one statement, against the
//! fetched map. A head or proof is therefore two statements (the size, the nodes).

use super::{Db, get};
use crate::log_entry;
use crate::types::{LogLeaf, LogOp};
use crate::{Result, StoreError};
use deadpool_postgres::GenericClient;
use std::cell::RefCell;
use std::collections::HashMap;
use tlog::{Ed25519Signer, Frontier, Hash, HashStore, NodeId};

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

/// A [`HashStore`] that records the nodes asked for and answers a zero hash.
#[derive(Default)]
struct Recorder(RefCell<Vec<NodeId>>);

impl HashStore for Recorder {
    fn node(&self, id: NodeId) -> tlog::Result<Hash> {
        self.0.borrow_mut().push(id);
        Ok([0u8; 32])
    }
}

/// Fetched node hashes.
struct Fetched(HashMap<NodeId, Hash>);

impl HashStore for Fetched {
    fn node(&self, id: NodeId) -> tlog::Result<Hash> {
        self.0.get(&id).copied().ok_or(tlog::Error::MissingNode {
            level: id.level,
            index: id.index,
        })
    }
}

/// The stored hashes of `ids`, in one statement; absent nodes are absent from the map.
async fn fetch<C: GenericClient>(db: &Db<'_, C>, ids: &[NodeId]) -> Result<Fetched> {
    let mut map = HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(Fetched(map));
    }
    let mut levels = Vec::with_capacity(ids.len());
    let mut indexes = Vec::with_capacity(ids.len());
    for id in ids {
        // An index beyond i64 cannot be stored; leaving it out makes it missing.
        if let Ok(i) = i64::try_from(id.index) {
            levels.push(i32::from(id.level));
            indexes.push(i);
        }
    }
    let rows = db
        .query(
            "SELECT n.level, n.idx, n.hash FROM unnest($1::integer[], $2::bigint[]) AS k(level, idx)
             JOIN log_nodes n ON n.level = k.level AND n.idx = k.idx",
            &[&levels, &indexes],
        )
        .await?;
    for r in &rows {
        let level: i32 = get(r, 0)?;
        let index: i64 = get(r, 1)?;
        let hash: Vec<u8> = get(r, 2)?;
        let id = NodeId::new(
            u8::try_from(level)
                .map_err(|_| StoreError::Corrupt(format!("log node level {level}")))?,
            index as u64,
        );
        let hash: Hash = hash
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("log node {id:?}: hash is not 32 bytes")))?;
        map.insert(id, hash);
    }
    Ok(Fetched(map))
}

/// Runs a tlog computation over the stored nodes: first to learn which nodes it reads,
/// then on those nodes fetched in one statement.
async fn with_nodes<C: GenericClient, T>(
    db: &Db<'_, C>,
    f: impl Fn(&dyn HashStore) -> tlog::Result<T>,
) -> Result<T> {
    let recorder = Recorder::default();
    // Errors that do not depend on hash values (ranges) surface here already.
    f(&recorder).map_err(tlog_err)?;
    let ids = recorder.0.into_inner();
    let fetched = fetch(db, &ids).await?;
    f(&fetched).map_err(tlog_err)
}

/// Appends entries at the end of the log inside the caller's write transaction (which
/// holds the log's advisory lock).
pub(super) struct Appender {
    frontier: Frontier,
    idx: Vec<i64>,
    entry: Vec<Vec<u8>>,
    leaf_hash: Vec<Vec<u8>>,
    add_object: Vec<Option<Vec<u8>>>,
    node_level: Vec<i32>,
    node_idx: Vec<i64>,
    node_hash: Vec<Vec<u8>>,
    nodes: Vec<(NodeId, Hash)>,
}

impl Appender {
    /// Loads the right edge of the committed tree of `size` leaves (one statement).
    pub(super) async fn load<C: GenericClient>(db: &Db<'_, C>, size: u64) -> Result<Appender> {
        let frontier = with_nodes(db, |s| Frontier::from_store(&s, size)).await?;
        Ok(Appender {
            frontier,
            idx: Vec::new(),
            entry: Vec::new(),
            leaf_hash: Vec::new(),
            add_object: Vec::new(),
            node_level: Vec::new(),
            node_idx: Vec::new(),
            node_hash: Vec::new(),
            nodes: Vec::with_capacity(4),
        })
    }

    /// Appends the entry of one object version (DESIGN.md "The transparency log") and the
    /// node hashes it completes, in memory until [`Appender::write`].
    pub(super) fn append(
        &mut self,
        op: LogOp,
        collection_id: &str,
        stix_id: &str,
        version: &str,
        date_added_us: i64,
        content_sha256: &[u8],
    ) -> Result<()> {
        let date_added = super::ts_from_us(date_added_us)?.to_string();
        let entry = log_entry::entry_bytes(
            op,
            collection_id,
            stix_id,
            version,
            &date_added,
            &hex::encode(content_sha256),
        );
        let leaf = log_entry::leaf_hash(&entry);
        let index = i64::try_from(self.frontier.size())
            .map_err(|_| StoreError::Invalid("the log is full".into()))?;
        // Only additions are looked up: a holder of an object proves its addition.
        let add_object = (op == LogOp::Add).then(|| {
            hex::decode(log_entry::object_commitment(
                collection_id,
                stix_id,
                version,
            ))
            .unwrap_or_default()
        });
        self.nodes.clear();
        self.frontier
            .append_into(leaf, &mut self.nodes)
            .map_err(tlog_err)?;
        self.idx.push(index);
        self.entry.push(entry);
        self.leaf_hash.push(leaf.to_vec());
        self.add_object.push(add_object);
        for (id, hash) in &self.nodes {
            // Indices of nodes are at most the leaf index, so they fit.
            self.node_level.push(i32::from(id.level));
            self.node_idx.push(id.index as i64);
            self.node_hash.push(hash.to_vec());
        }
        Ok(())
    }

    /// Stores the appended leaves and nodes (two statements).
    pub(super) async fn write<C: GenericClient>(self, db: &Db<'_, C>) -> Result<()> {
        if self.idx.is_empty() {
            return Ok(());
        }
        // Pipelined: both are sent before either answer is awaited.
        let leaves: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
            [&self.idx, &self.entry, &self.leaf_hash, &self.add_object];
        let nodes: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
            [&self.node_level, &self.node_idx, &self.node_hash];
        let (a, b) = tokio::join!(
            db.execute(
                "INSERT INTO log_leaves (idx, entry, leaf_hash, add_object)
                 SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[])",
                &leaves,
            ),
            db.execute(
                "INSERT INTO log_nodes (level, idx, hash)
                 SELECT * FROM unnest($1::integer[], $2::bigint[], $3::bytea[])",
                &nodes,
            )
        );
        super::both(a, b)?;
        Ok(())
    }
}

/// Number of leaves in the committed log.
pub(super) async fn size<C: GenericClient>(db: &Db<'_, C>) -> Result<u64> {
    let r = db
        .query_one("SELECT coalesce(max(idx) + 1, 0) FROM log_leaves", &[])
        .await?;
    let n: i64 = get(&r, 0)?;
    Ok(n as u64)
}

/// Refuses sizes beyond the committed log with a clear error instead of a missing node.
async fn check_size<C: GenericClient>(db: &Db<'_, C>, size_asked: u64) -> Result<()> {
    let have = size(db).await?;
    if size_asked > have {
        return Err(StoreError::Invalid(format!(
            "tree size {size_asked} is beyond the log's {have} entries"
        )));
    }
    Ok(())
}

/// Log entries with index in `start..start + limit`.
pub(super) async fn leaves<C: GenericClient>(
    db: &Db<'_, C>,
    start: u64,
    limit: u64,
) -> Result<Vec<LogLeaf>> {
    let start = i64::try_from(start).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    db.query(
        "SELECT idx, entry, leaf_hash FROM log_leaves WHERE idx >= $1 ORDER BY idx LIMIT $2",
        &[&start, &limit],
    )
    .await?
    .iter()
    .map(|r| {
        let idx: i64 = get(r, 0)?;
        let hash: Vec<u8> = get(r, 2)?;
        let leaf_hash: [u8; 32] = hash
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("log leaf {idx}: hash is not 32 bytes")))?;
        Ok(LogLeaf {
            index: idx as u64,
            entry: get(r, 1)?,
            leaf_hash,
        })
    })
    .collect()
}

/// The current size and tree head. Nodes never change once written and are committed with
/// their leaves, so the size read first always has all its nodes.
pub(super) async fn head<C: GenericClient>(db: &Db<'_, C>) -> Result<(u64, Hash)> {
    let n = size(db).await?;
    let root = with_nodes(db, |s| tlog::root(&s, n)).await?;
    Ok((n, root))
}

/// The tree head of the first `size` leaves (RFC 9162 §2.1.1).
pub(super) async fn root_at<C: GenericClient>(db: &Db<'_, C>, size_asked: u64) -> Result<Hash> {
    check_size(db, size_asked).await?;
    with_nodes(db, |s| tlog::root(&s, size_asked)).await
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1).
pub(super) async fn inclusion_proof<C: GenericClient>(
    db: &Db<'_, C>,
    index: u64,
    size_asked: u64,
) -> Result<Vec<Hash>> {
    check_size(db, size_asked).await?;
    with_nodes(db, |s| tlog::inclusion_proof(&s, index, size_asked)).await
}

/// The consistency proof from `old` to `size` leaves (RFC 9162 §2.1.4.1).
pub(super) async fn consistency_proof<C: GenericClient>(
    db: &Db<'_, C>,
    old: u64,
    size_asked: u64,
) -> Result<Vec<Hash>> {
    check_size(db, size_asked).await?;
    with_nodes(db, |s| tlog::consistency_proof(&s, old, size_asked)).await
}

/// Stored hashes of complete nodes, in the order asked (C2SP tlog-tiles hash tiles).
pub(super) async fn nodes_in_order<C: GenericClient>(
    db: &Db<'_, C>,
    ids: &[NodeId],
) -> Result<Vec<Hash>> {
    let fetched = fetch(db, ids).await?;
    fetched.nodes(ids).map_err(tlog_err)
}

/// The newest `add` entry recording `(collection, id, version)`: its index and bytes.
pub(super) async fn lookup<C: GenericClient>(
    db: &Db<'_, C>,
    collection_id: &str,
    stix_id: &str,
    version: &str,
) -> Result<Option<(u64, Vec<u8>)>> {
    let commitment = hex::decode(log_entry::object_commitment(
        collection_id,
        stix_id,
        version,
    ))
    .map_err(|e| StoreError::Invalid(e.to_string()))?;
    // The newest one: a version deleted and posted again has a new entry.
    db.query_opt(
        "SELECT idx, entry FROM log_leaves WHERE add_object = $1 ORDER BY idx DESC LIMIT 1",
        &[&commitment],
    )
    .await?
    .map(|r| Ok((get::<i64>(&r, 0)? as u64, get(&r, 1)?)))
    .transpose()
}

/// Records a signed checkpoint of `size` leaves; keeps the first one stored per size.
pub(super) async fn save_checkpoint<C: GenericClient>(
    db: &Db<'_, C>,
    size_signed: u64,
    note: &str,
) -> Result<()> {
    check_size(db, size_signed).await?;
    db.execute(
        "INSERT INTO log_checkpoints (size, note, created_us) VALUES ($1, $2, $3)
         ON CONFLICT (size) DO NOTHING",
        &[&(size_signed as i64), &note, &crate::keys::now_micros()],
    )
    .await?;
    Ok(())
}

/// The signed checkpoint of the largest size stored, with that size.
pub(super) async fn latest_checkpoint<C: GenericClient>(
    db: &Db<'_, C>,
) -> Result<Option<(u64, String)>> {
    db.query_opt(
        "SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1",
        &[],
    )
    .await?
    .map(|r| Ok((get::<i64>(&r, 0)? as u64, get(&r, 1)?)))
    .transpose()
}

/// Reads the shared signing key, creating it named `origin` when there is none. The insert
/// does nothing when another replica stored a key first, and the key is read back, so all
/// replicas end up with the same one. `strict` refuses a stored key named otherwise.
pub(super) async fn load_or_create_key<C: GenericClient>(
    db: &Db<'_, C>,
    origin: &str,
    strict: bool,
) -> Result<Ed25519Signer> {
    const READ: &str = "SELECT skey FROM log_signing_key WHERE id = 1";
    let stored = match db.query_opt(READ, &[]).await? {
        Some(r) => get::<String>(&r, 0)?,
        None => {
            if !tlog::note::is_valid_key_name(origin) {
                return Err(StoreError::Invalid(format!(
                    "log origin {origin:?} cannot name a key (no spaces or '+' allowed)"
                )));
            }
            let mut seed = [0u8; 32];
            rand::fill(&mut seed);
            let signer = Ed25519Signer::from_seed(origin, &seed)
                .map_err(|e| StoreError::Invalid(format!("log signing key: {e}")))?;
            db.execute(
                "INSERT INTO log_signing_key (id, skey, created_us) VALUES (1, $1, $2)
                 ON CONFLICT (id) DO NOTHING",
                &[&signer.skey(), &crate::keys::now_micros()],
            )
            .await?;
            get::<String>(&db.query_one(READ, &[]).await?, 0)?
        }
    };
    let signer = Ed25519Signer::from_skey(stored.trim_end()).map_err(|e| {
        StoreError::Corrupt(format!("the stored log signing key is not valid: {e}"))
    })?;
    let found = tlog::NoteSigner::name(&signer);
    if strict && found != origin {
        return Err(StoreError::Invalid(format!(
            "the log signing key in the database is named {found:?}, not {origin:?}; the origin is fixed when the key is made"
        )));
    }
    Ok(signer)
}
