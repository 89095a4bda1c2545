//! The Merkle tree over stored complete-subtree hashes (the "stored hash" scheme).
//!
//! A node is named by its [`NodeId`] `(level, index)`: it covers leaves
//! `index·2^level .. (index+1)·2^level`. A node is *complete* once all those leaves exist,
//! and its hash never changes after that. The log persists exactly the complete nodes
//! (about two per leaf) as they become complete, through a [`HashStore`]. Every other hash
//! RFC 9162 needs — the tree head of any size, the siblings in a proof — is a combination of
//! at most ~2·log₂(n) complete nodes, so a tree head or proof costs O(log n) reads and
//! never rehashes leaves.
//!
//! What it deliberately doesn't do: storage. [`HashStore`] is the seam; [`MemoryStore`] is
//! the in-memory implementation (tests, benches, witnesses), the store crate implements it
//! over SQLite/PostgreSQL. Appending is split from persisting: [`append`] and
//! [`Frontier::append`] *return* the new node hashes for the caller to write in its own
//! transaction.

use crate::error::{Error, Result};
use crate::hash::{Hash, empty_root, node_hash};

/// The position of a node: level 0 holds leaf hashes, level `l` nodes cover `2^l` leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves.
    pub level: u8,
    /// Position within the level, from the left.
    pub index: u64,
}

impl NodeId {
    /// The node at `level`, `index`.
    pub const fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }
}

/// Read access to the hashes of complete subtrees.
///
/// Implementations return the hash stored for a node, or [`Error::MissingNode`] when there
/// is none. Proof generation asks for all the nodes it needs in one [`HashStore::nodes`]
/// call, so a database can answer with one query.
///
/// For a SQL store, a table keyed by `(level, index)` holding the 32-byte hash is enough:
/// persist every `(NodeId, Hash)` that [`append`] or [`Frontier::append_into`] returns, in
/// the transaction that writes the entry. A proof from a 10M-leaf log reads ~24 rows of
/// it, a tree head at most 64, and a tile ([`crate::tiles::tile_data`]) up to 256 rows of
/// one level (`level = 8·L`, consecutive indices).
pub trait HashStore {
    /// The hash of one complete node.
    fn node(&self, id: NodeId) -> Result<Hash>;

    /// The hashes of several complete nodes, in the order asked.
    fn nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>> {
        ids.iter().map(|&id| self.node(id)).collect()
    }
}

impl<S: HashStore + ?Sized> HashStore for &S {
    fn node(&self, id: NodeId) -> Result<Hash> {
        (**self).node(id)
    }
    fn nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>> {
        (**self).nodes(ids)
    }
}

/// The complete nodes that make up the range of leaves `start..end`, left to right.
///
/// This is the binary decomposition of the range into maximal aligned power-of-two blocks.
/// For the ranges RFC 9162 hashes (`MTH(D[start:end])` with `start` a multiple of the
/// smallest power of two ≥ `end - start`), the blocks shrink from left to right and right-
/// folding them with [`node_hash`] gives exactly `MTH(D[start:end])` (RFC 9162 §2.1.1: the
/// split point `k` is the largest power of two below the range length).
pub fn range_nodes(start: u64, end: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        // The largest block aligned at `at` that fits in the rest of the range.
        let align = if at == 0 { 64 } else { at.trailing_zeros() };
        let fit = 63 - (end - at).leading_zeros();
        let level = align.min(fit);
        out.push(NodeId::new(level as u8, at >> level));
        at += 1u64 << level;
    }
    out
}

/// Right-fold node hashes: `H(h0, H(h1, ... H(h_{n-2}, h_{n-1})))`.
fn fold_right(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

/// `MTH(D[start:end])` from stored complete nodes (see [`range_nodes`] for which ranges
/// this is defined on). The empty range hashes to [`empty_root`].
pub fn range_hash(store: &(impl HashStore + ?Sized), start: u64, end: u64) -> Result<Hash> {
    let ids = range_nodes(start, end);
    let hashes = store.nodes(&ids)?;
    Ok(fold_right(&hashes).unwrap_or_else(empty_root))
}

/// The tree head (root hash) of the tree of the first `size` leaves (RFC 9162 §2.1.1),
/// from at most 64 stored complete-subtree hashes.
pub fn root(store: &(impl HashStore + ?Sized), size: u64) -> Result<Hash> {
    range_hash(store, 0, size)
}

/// The node hashes that become complete when the leaf with hash `leaf` is appended to a
/// tree of `size` leaves: the leaf itself at `(0, size)`, then each parent it completes.
///
/// Reads the left siblings it needs (at most one per level) from `store`, which must hold
/// every complete node of the tree of `size` leaves. The caller persists the returned
/// entries; for many appends in one transaction use [`Frontier`], which needs no reads.
pub fn append(
    store: &(impl HashStore + ?Sized),
    size: u64,
    leaf: Hash,
) -> Result<Vec<(NodeId, Hash)>> {
    if size == u64::MAX {
        return Err(Error::SizeOutOfRange {
            size,
            limit: u64::MAX - 1,
        });
    }
    let mut out = vec![(NodeId::new(0, size), leaf)];
    let mut id = NodeId::new(0, size);
    let mut hash = leaf;
    // A node completes its parent exactly when it is a right child (odd index).
    while id.index & 1 == 1 {
        let left = store.node(NodeId::new(id.level, id.index - 1))?;
        hash = node_hash(&left, &hash);
        id = NodeId::new(id.level + 1, id.index >> 1);
        out.push((id, hash));
    }
    Ok(out)
}

/// The right edge of a tree: the hashes of its maximal complete subtrees, one per set bit
/// of the size (a "compact range" over `0..size`).
///
/// It is all that appending needs — a new leaf only ever combines with these — so a writer
/// loads it once with [`Frontier::from_store`] and then appends any number of leaves with
/// no reads, and knows the tree head at every size for free. Measured at 2.1 M appends/s
/// on a loaded core (`benches/tlog.rs`), 40× the DESIGN.md target, so the store's cost is
/// its inserts, not the hashing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Hashes of the complete subtrees, largest (leftmost) first.
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads the frontier of the tree of `size` leaves from `store`: at most 64 reads.
    pub fn from_store(store: &(impl HashStore + ?Sized), size: u64) -> Result<Self> {
        let ids = range_nodes(0, size);
        let hashes = store.nodes(&ids)?;
        if hashes.len() != ids.len() {
            // A store that answers a batch with the wrong count must not yield a frontier
            // whose hashes disagree with its size.
            let id = ids.get(hashes.len()).or(ids.last()).copied();
            let (level, index) = id.map_or((0, 0), |id| (id.level, id.index));
            return Err(Error::MissingNode { level, index });
        }
        Ok(Self { size, hashes })
    }

    /// Number of leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree head at the current size (RFC 9162 §2.1.1).
    pub fn root(&self) -> Hash {
        fold_right(&self.hashes).unwrap_or_else(empty_root)
    }

    /// Appends one leaf hash and pushes onto `out` every node it completes (the leaf at
    /// level 0 first), for the caller to persist. Fails only when the tree already has
    /// 2^64 - 1 leaves.
    pub fn append_into(&mut self, leaf: Hash, out: &mut Vec<(NodeId, Hash)>) -> Result<()> {
        if self.size == u64::MAX {
            return Err(Error::SizeOutOfRange {
                size: self.size,
                limit: u64::MAX - 1,
            });
        }
        let mut id = NodeId::new(0, self.size);
        let mut hash = leaf;
        out.push((id, hash));
        while id.index & 1 == 1 {
            // The left sibling of a right child is the smallest complete subtree on the
            // frontier, so it is always the last hash.
            let Some(left) = self.hashes.pop() else {
                // Unreachable while `size` and `hashes` agree (one hash per set bit of
                // `size`); stop completing rather than panic if they ever do not.
                break;
            };
            hash = node_hash(&left, &hash);
            id = NodeId::new(id.level + 1, id.index >> 1);
            out.push((id, hash));
        }
        self.hashes.push(hash);
        self.size += 1;
        Ok(())
    }

    /// Appends one leaf hash and returns the nodes it completes (see
    /// [`Frontier::append_into`]).
    pub fn append(&mut self, leaf: Hash) -> Result<Vec<(NodeId, Hash)>> {
        let mut out = Vec::with_capacity(2);
        self.append_into(leaf, &mut out)?;
        Ok(out)
    }
}

/// An in-memory [`HashStore`]: one vector of hashes per level.
///
/// About 64 bytes per leaf (two hashes). Used by tests, benches and by anyone who keeps a
/// small log in memory; the server's log lives in the store crate.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    levels: Vec<Vec<Hash>>,
    frontier: Frontier,
}

impl MemoryStore {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty log with room for `leaves` leaves without reallocating.
    pub fn with_capacity(leaves: u64) -> Self {
        let mut levels = Vec::new();
        let mut n = leaves;
        while n > 0 {
            levels.push(Vec::with_capacity(usize::try_from(n).unwrap_or(0)));
            n >>= 1;
        }
        Self {
            levels,
            frontier: Frontier::new(),
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The current tree head.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// Appends a leaf by its leaf hash; returns its index.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.frontier.size();
        let mut out = Vec::with_capacity(2);
        // An in-memory log cannot hold 2^64 - 1 leaves, so the frontier never refuses.
        if self.frontier.append_into(leaf, &mut out).is_err() {
            return index;
        }
        for (id, hash) in out {
            let level = usize::from(id.level);
            if self.levels.len() <= level {
                self.levels.resize_with(level + 1, Vec::new);
            }
            // Nodes complete in index order within each level, so pushing keeps
            // `levels[l][i]` the node (l, i).
            self.levels[level].push(hash);
        }
        index
    }

    /// Appends an entry (hashing it with [`crate::leaf_hash`]); returns its index.
    pub fn push(&mut self, entry: &[u8]) -> u64 {
        self.push_leaf_hash(crate::hash::leaf_hash(entry))
    }
}

impl HashStore for MemoryStore {
    fn node(&self, id: NodeId) -> Result<Hash> {
        usize::try_from(id.index)
            .ok()
            .and_then(|i| self.levels.get(usize::from(id.level))?.get(i))
            .copied()
            .ok_or(Error::MissingNode {
                level: id.level,
                index: id.index,
            })
    }
}
