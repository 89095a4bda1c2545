//! Inclusion and consistency proofs: generation from a [`HashStore`] and verification
//! (RFC 9162 §2.1.3 and §2.1.4).
//!
//! Generation follows the recursive definitions `PATH(m, D[n])` (§2.1.3.1) and
//! `SUBPROOF(m, D[n], b)` (§2.1.4.1) to list the ranges of leaves whose hashes make up the
//! proof, then reads all their complete nodes in one [`HashStore::nodes`] call: at most one
//! range per proof is not a complete subtree, so a proof costs O(log n) stored hashes.
//!
//! Verification implements the §2.1.3.2 and §2.1.4.2 algorithms as written, after checking
//! that the proof has the length its index and sizes call for, so every failure has a
//! specific cause. Nothing here trusts the store: verifiers only see hashes they are given.

use crate::error::{Error, Result};
use crate::hash::{Hash, node_hash};
use crate::tree::{HashStore, range_nodes};

/// The largest power of two strictly below `n` (`n >= 2`): RFC 9162 §2.1.1's split point.
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The leaf ranges `(start, end)` whose hashes form `PATH(index, D[0:size])`, leaf side
/// first (RFC 9162 §2.1.3.1). Requires `index < size`.
fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let (mut start, mut end) = (0, size);
    let mut ranges = Vec::new();
    while end - start > 1 {
        let k = split_point(end - start);
        if index < start + k {
            // PATH(m, D[0:k]) : MTH(D[k:n])
            ranges.push((start + k, end));
            end = start + k;
        } else {
            // PATH(m - k, D[k:n]) : MTH(D[0:k])
            ranges.push((start, start + k));
            start += k;
        }
    }
    ranges.reverse();
    ranges
}

/// The leaf ranges whose hashes form `PROOF(old, D[0:new])` = `SUBPROOF(old, D[0:new],
/// true)`, innermost first (RFC 9162 §2.1.4.1). Requires `0 < old < new`.
fn consistency_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
    let (mut m, mut start, mut end, mut b) = (old, 0, new, true);
    let mut ranges = Vec::new();
    loop {
        let n = end - start;
        if m == n {
            // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}.
            if !b {
                ranges.push((start, end));
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            ranges.push((start + k, end));
            end = start + k;
        } else {
            // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            ranges.push((start, start + k));
            m -= k;
            start += k;
            b = false;
        }
    }
    ranges.reverse();
    ranges
}

/// Reads the hashes of `ranges` from `store` with one batched read.
fn hash_ranges(store: &(impl HashStore + ?Sized), ranges: &[(u64, u64)]) -> Result<Vec<Hash>> {
    let groups: Vec<Vec<_>> = ranges.iter().map(|&(s, e)| range_nodes(s, e)).collect();
    let ids: Vec<_> = groups.iter().flatten().copied().collect();
    let hashes = store.nodes(&ids)?;
    if hashes.len() != ids.len() {
        // A store that answers a batch with the wrong count is broken; name the first node
        // it did not answer rather than index out of bounds.
        let id = ids.get(hashes.len()).or(ids.last()).copied();
        let (level, index) = id.map_or((0, 0), |id| (id.level, id.index));
        return Err(Error::MissingNode { level, index });
    }
    let mut out = Vec::with_capacity(ranges.len());
    let mut rest = hashes.as_slice();
    for group in &groups {
        let (part, tail) = rest.split_at(group.len());
        rest = tail;
        // Each range is MTH(D[s:e]) with `s` aligned as §2.1.1 splits, so right-folding its
        // complete blocks reproduces the recursive definition. Ranges are never empty.
        if let Some((last, init)) = part.split_last() {
            out.push(init.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)));
        }
    }
    Ok(out)
}

/// The inclusion proof (audit path) of leaf `index` in the tree of `size` leaves
/// (RFC 9162 §2.1.3.1), leaf side first.
pub fn inclusion_proof(
    store: &(impl HashStore + ?Sized),
    index: u64,
    size: u64,
) -> Result<Vec<Hash>> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    hash_ranges(store, &inclusion_ranges(index, size))
}

/// The consistency proof between the trees of `old` and `new` leaves (RFC 9162 §2.1.4.1).
///
/// Empty when `old == new` or `old == 0` (nothing to prove).
pub fn consistency_proof(
    store: &(impl HashStore + ?Sized),
    old: u64,
    new: u64,
) -> Result<Vec<Hash>> {
    if old > new {
        return Err(Error::SizeOutOfRange {
            size: old,
            limit: new,
        });
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    hash_ranges(store, &consistency_ranges(old, new))
}

/// Checks that `leaf` is the leaf hash at `index` in the tree of `size` leaves whose root
/// is `root`, using the RFC 9162 §2.1.3.2 algorithm.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<()> {
    if &root_from_inclusion_proof(leaf, index, size, proof)? != root {
        return Err(Error::RootMismatch);
    }
    Ok(())
}

/// The root hash that an inclusion proof leads to, for callers that compare it themselves
/// (RFC 9162 §2.1.3.2 without the final comparison).
pub fn root_from_inclusion_proof(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let expected = inclusion_ranges(index, size).len();
    if proof.len() != expected {
        return Err(Error::ProofLength {
            got: proof.len(),
            expected,
        });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        // With the length checked above, `sn` cannot reach 0 before the proof ends.
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            // Skip the levels where this node is the lone rightmost child (no sibling).
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(Error::ProofLength {
            got: proof.len(),
            expected,
        });
    }
    Ok(r)
}

/// Checks that the tree of `old` leaves with root `old_root` is a prefix of the tree of
/// `new` leaves with root `new_root`, using the RFC 9162 §2.1.4.2 algorithm.
///
/// Equal sizes need an empty proof and equal roots (a difference is a fork). `old == 0`
/// is refused: every tree extends the empty tree, so such a "proof" checks nothing, and a
/// caller who starts from nothing should say so rather than verify (this matches the
/// transparency-dev test vectors).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<()> {
    if old > new {
        return Err(Error::SizeOutOfRange {
            size: old,
            limit: new,
        });
    }
    if old == 0 {
        return Err(Error::EmptyTreeConsistency);
    }
    if old == new {
        if !proof.is_empty() {
            return Err(Error::ProofLength {
                got: proof.len(),
                expected: 0,
            });
        }
        if old_root != new_root {
            return Err(Error::EqualSizeRootMismatch { size: old });
        }
        return Ok(());
    }
    let expected = consistency_ranges(old, new).len();
    if proof.len() != expected {
        return Err(Error::ProofLength {
            got: proof.len(),
            expected,
        });
    }
    // Step 1: when `old` is a power of two the old root is itself the first path node,
    // and the proof omits it.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (old - 1, new - 1);
    // Step 3: drop the levels where the old tree's last node is a right child.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (first, rest) = path.split_first().ok_or(Error::ProofLength {
        got: proof.len(),
        expected,
    })?;
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return Err(Error::ProofLength {
                got: proof.len(),
                expected,
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(Error::ProofLength {
            got: proof.len(),
            expected,
        });
    }
    if &fr != old_root {
        return Err(Error::OldRootMismatch);
    }
    if &sr != new_root {
        return Err(Error::RootMismatch);
    }
    Ok(())
}
