//! Property tests: every proof from random trees verifies and matches the naive RFC 9162
//! reference; every tampered proof, root, index or size fails.

use std::sync::OnceLock;

use proptest::prelude::*;
use tlog::{
    Frontier, Hash, MemoryStore, consistency_proof, inclusion_proof, leaf_hash, root,
    verify_consistency, verify_inclusion,
};

use crate::reference;

/// Leaves in the shared log; every tree size up to this is tested against it.
const N: u64 = 2100;

struct Log {
    store: MemoryStore,
    leaves: Vec<Hash>,
    roots: Vec<Hash>,
}

/// A log of `N` leaves with the root of every prefix, built once.
fn log() -> &'static Log {
    static LOG: OnceLock<Log> = OnceLock::new();
    LOG.get_or_init(|| {
        let mut store = MemoryStore::new();
        let mut leaves = Vec::new();
        let mut roots = vec![store.root()];
        for i in 0..N {
            let h = leaf_hash(format!("leaf {i}").as_bytes());
            leaves.push(h);
            store.push_leaf_hash(h);
            roots.push(store.root());
        }
        Log {
            store,
            leaves,
            roots,
        }
    })
}

#[test]
fn roots_match_the_reference_for_small_sizes() {
    let log = log();
    for size in 0..=300usize {
        assert_eq!(
            log.roots[size],
            reference::mth(&log.leaves[..size]),
            "size {size}"
        );
        assert_eq!(root(&log.store, size as u64).unwrap(), log.roots[size]);
    }
}

#[test]
fn exhaustive_small_trees() {
    // Every (index, size) and (old, new) up to 40 leaves: generated, compared with the
    // reference, verified, and each proof hash flipped once.
    let log = log();
    for size in 1..=40u64 {
        let r = log.roots[size as usize];
        for index in 0..size {
            let p = inclusion_proof(&log.store, index, size).unwrap();
            assert_eq!(
                p,
                reference::path(index as usize, &log.leaves[..size as usize])
            );
            let leaf = log.leaves[index as usize];
            verify_inclusion(&leaf, index, size, &p, &r).unwrap();
            for i in 0..p.len() {
                let mut bad = p.clone();
                bad[i][0] ^= 1;
                assert!(verify_inclusion(&leaf, index, size, &bad, &r).is_err());
            }
        }
        for old in 1..=size {
            let p = consistency_proof(&log.store, old, size).unwrap();
            assert_eq!(
                p,
                reference::proof(old as usize, &log.leaves[..size as usize])
            );
            let or = log.roots[old as usize];
            verify_consistency(old, size, &or, &r, &p).unwrap();
            for i in 0..p.len() {
                let mut bad = p.clone();
                bad[i][31] ^= 0x80;
                assert!(verify_consistency(old, size, &or, &r, &bad).is_err());
            }
        }
    }
}

fn index_and_size() -> impl Strategy<Value = (u64, u64)> {
    (1..=N).prop_flat_map(|size| (0..size, Just(size)))
}

fn old_and_new() -> impl Strategy<Value = (u64, u64)> {
    (1..=N).prop_flat_map(|new| (1..=new, Just(new)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn inclusion_proofs_verify_and_tampering_fails(
        (index, size) in index_and_size(),
        pick in any::<prop::sample::Index>(),
        bit in 0u8..8,
        other in any::<u64>(),
    ) {
        let log = log();
        let leaf = log.leaves[index as usize];
        let r = log.roots[size as usize];
        let p = inclusion_proof(&log.store, index, size).unwrap();
        prop_assert_eq!(&p, &reference::path(index as usize, &log.leaves[..size as usize]));
        prop_assert!(verify_inclusion(&leaf, index, size, &p, &r).is_ok());

        // A flipped bit in any proof hash.
        if !p.is_empty() {
            let mut bad = p.clone();
            let i = pick.index(bad.len());
            bad[i][(other % 32) as usize] ^= 1 << bit;
            prop_assert!(verify_inclusion(&leaf, index, size, &bad, &r).is_err());
            // A hash removed, or one added.
            prop_assert!(verify_inclusion(&leaf, index, size, &p[1..], &r).is_err());
        }
        let mut longer = p.clone();
        longer.push(r);
        prop_assert!(verify_inclusion(&leaf, index, size, &longer, &r).is_err());

        // A flipped bit in the root or the leaf.
        let mut bad_root = r;
        bad_root[(other % 32) as usize] ^= 1 << bit;
        prop_assert!(verify_inclusion(&leaf, index, size, &p, &bad_root).is_err());
        let mut bad_leaf = leaf;
        bad_leaf[(other % 32) as usize] ^= 1 << bit;
        prop_assert!(verify_inclusion(&bad_leaf, index, size, &p, &r).is_err());

        // Another index of the same tree.
        let index2 = other % size;
        if index2 != index {
            prop_assert!(verify_inclusion(&leaf, index2, size, &p, &r).is_err());
        }
        // Another size: the proof can only pass with that tree's real root if it is
        // that tree's real proof for this leaf.
        let size2 = 1 + other % N;
        if size2 != size && index < size2 {
            let r2 = log.roots[size2 as usize];
            if verify_inclusion(&leaf, index, size2, &p, &r2).is_ok() {
                prop_assert_eq!(&p, &inclusion_proof(&log.store, index, size2).unwrap());
            }
        }
    }

    #[test]
    fn consistency_proofs_verify_and_tampering_fails(
        (old, new) in old_and_new(),
        pick in any::<prop::sample::Index>(),
        bit in 0u8..8,
        other in any::<u64>(),
    ) {
        let log = log();
        let (or, nr) = (log.roots[old as usize], log.roots[new as usize]);
        let p = consistency_proof(&log.store, old, new).unwrap();
        prop_assert_eq!(&p, &reference::proof(old as usize, &log.leaves[..new as usize]));
        prop_assert!(verify_consistency(old, new, &or, &nr, &p).is_ok());

        if !p.is_empty() {
            let mut bad = p.clone();
            let i = pick.index(bad.len());
            bad[i][(other % 32) as usize] ^= 1 << bit;
            prop_assert!(verify_consistency(old, new, &or, &nr, &bad).is_err());
            prop_assert!(verify_consistency(old, new, &or, &nr, &p[..p.len() - 1]).is_err());
        }
        let mut longer = p.clone();
        longer.push(nr);
        prop_assert!(verify_consistency(old, new, &or, &nr, &longer).is_err());

        let mut bad_old = or;
        bad_old[(other % 32) as usize] ^= 1 << bit;
        prop_assert!(verify_consistency(old, new, &bad_old, &nr, &p).is_err());
        let mut bad_new = nr;
        bad_new[(other % 32) as usize] ^= 1 << bit;
        prop_assert!(verify_consistency(old, new, &or, &bad_new, &p).is_err());

        // Other sizes with their real roots: accepted only with their real proof.
        let old2 = 1 + other % new;
        if old2 != old {
            let or2 = log.roots[old2 as usize];
            if verify_consistency(old2, new, &or2, &nr, &p).is_ok() {
                prop_assert_eq!(&p, &consistency_proof(&log.store, old2, new).unwrap());
            }
            // The old root claimed for the wrong size fails.
            prop_assert!(verify_consistency(old2, new, &or, &nr, &p).is_err() || or == or2);
        }
        let new2 = old + other % (N - old + 1);
        if new2 != new {
            let nr2 = log.roots[new2 as usize];
            if verify_consistency(old, new2, &or, &nr2, &p).is_ok() {
                prop_assert_eq!(&p, &consistency_proof(&log.store, old, new2).unwrap());
            }
        }
    }

    #[test]
    fn frontier_and_append_agree_with_the_store(
        size in 0..=N,
    ) {
        let log = log();
        let mut f = Frontier::from_store(&log.store, size).unwrap();
        prop_assert_eq!(f.root(), log.roots[size as usize]);
        if size < N {
            let leaf = log.leaves[size as usize];
            let nodes = f.append(leaf).unwrap();
            prop_assert_eq!(f.root(), log.roots[size as usize + 1]);
            prop_assert_eq!(&nodes, &tlog::append(&log.store, size, leaf).unwrap());
            for (id, h) in nodes {
                prop_assert_eq!(tlog::HashStore::node(&log.store, id).unwrap(), h);
            }
        }
    }
}
