//! RFC 9162 §2.1.1 hashing: the leaf hash, the interior-node hash and the hash of the
//! empty tree, all with SHA-256.
//!
//! The 0x00 / 0x01 prefixes are the domain separation that stops a leaf from being passed
//! off as an interior node (second-preimage resistance). This module does not know about
//! trees or storage; [`crate::tree`] builds on it.

use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf hash, an interior-node hash or a tree head.
pub type Hash = [u8; 32];

/// Size in bytes of a [`Hash`](type@Hash).
pub const HASH_SIZE: usize = 32;

/// The root of the empty tree: `SHA-256()` of the empty string (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The leaf hash of an entry: `SHA-256(0x00 || entry)` (RFC 9162 §2.1.1).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}
