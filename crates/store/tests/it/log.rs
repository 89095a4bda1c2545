//! The transparency log in the store (issue 6, item 2): leaves appended with the writes
//! they record, in the same transaction; tree heads and proofs from the stored node hashes
//! that verify with `tlog` (RFC 9162 §2.1.3, §2.1.4) and agree with an independent
//! in-memory tree; lookups and checkpoints.
//!
//! The tests are backend-agnostic functions on an `Arc<dyn Store>`; the `sqlite` module at
//! the end runs them on SQLite and adds what only the file shows (backfill on open).

use crate::contract::{S, indicator, indicator_id, indicator_json};
use store::*;
use tlog::{MemoryStore, leaf_hash, verify_consistency, verify_inclusion};

const T1: &str = "2021-01-01T00:00:00.000Z";
const T2: &str = "2021-06-01T00:00:00.000Z";

/// An org with a collection granted read/write to it.
async fn collection(store: &S, flags: CollectionFlags) -> Collection {
    if store.org("acme").await.unwrap().is_none() {
        store.create_org("acme").await.unwrap();
        store
            .create_api_root(&NewApiRoot {
                name: "r".into(),
                title: "R".into(),
                description: None,
            })
            .await
            .unwrap();
    }
    let c = store
        .create_collection(&NewCollection {
            api_root: "r".into(),
            title: "c".into(),
            flags,
            ..Default::default()
        })
        .await
        .unwrap();
    store
        .grant_org(&c.id, "acme", Grant::READ_WRITE)
        .await
        .unwrap();
    c
}

/// Every leaf's inclusion at every size, and consistency between every pair of sizes,
/// checked against the store's own tree heads and against a tree rebuilt from the entries.
async fn check_all_proofs(store: &S) {
    let (size, head) = store.log_head().await.unwrap();
    let leaves = store.log_leaves(0, size).await.unwrap();
    assert_eq!(leaves.len() as u64, size);
    let mut replica = MemoryStore::new();
    let mut roots = Vec::new();
    for leaf in &leaves {
        assert_eq!(leaf.leaf_hash, leaf_hash(&leaf.entry));
        replica.push(&leaf.entry);
        roots.push(replica.root());
    }
    assert_eq!(
        head,
        replica.root(),
        "stored head equals the rebuilt tree's"
    );
    for s in 1..=size {
        let root = store.log_root(s).await.unwrap();
        assert_eq!(root, roots[s as usize - 1], "root at size {s}");
        for leaf in &leaves[..s as usize] {
            let proof = store.log_inclusion_proof(leaf.index, s).await.unwrap();
            verify_inclusion(&leaf.leaf_hash, leaf.index, s, &proof, &root)
                .unwrap_or_else(|e| panic!("inclusion of {} in {s}: {e}", leaf.index));
        }
        for old in 1..s {
            let proof = store.log_consistency_proof(old, s).await.unwrap();
            verify_consistency(old, s, &roots[old as usize - 1], &root, &proof)
                .unwrap_or_else(|e| panic!("consistency {old} → {s}: {e}"));
        }
    }
}

/// Leaves follow adds and deletions; proofs from stored hashes verify at every size.
pub async fn proofs_from_stored_hashes_verify(store: S) {
    let c = collection(&store, CollectionFlags::default()).await;
    assert_eq!(store.log_head().await.unwrap(), (0, tlog::empty_root()));
    for batch in [0..5u64, 5..6, 6..13] {
        let objects = batch.map(|n| indicator(n, T1, TlpLevel::Clear)).collect();
        store.add_objects(&c.id, objects).await.unwrap();
    }
    assert_eq!(store.log_size().await.unwrap(), 13);
    let deleted = store
        .delete_object(&c.id, &indicator_id(3), &ObjectQuery::default())
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(store.log_size().await.unwrap(), 14, "a deletion is a leaf");
    check_all_proofs(&store).await;
    // Tile-shaped reads: the level-0 nodes are the leaf hashes.
    let ids: Vec<_> = (0..14).map(|i| tlog::NodeId::new(0, i)).collect();
    let leaves = store.log_leaves(0, 14).await.unwrap();
    let hashes = store.log_nodes(ids).await.unwrap();
    assert!(hashes.iter().zip(&leaves).all(|(h, l)| *h == l.leaf_hash));
}

/// Nothing refused, duplicated or failed reaches the log (one transaction per envelope).
pub async fn refused_envelope_appends_nothing(store: S) {
    let public = collection(
        &store,
        CollectionFlags {
            public_read: true,
            restricted: false,
        },
    )
    .await;
    store
        .add_objects(&public.id, vec![indicator(1, T1, TlpLevel::Clear)])
        .await
        .unwrap();
    let (size, head) = store.log_head().await.unwrap();
    assert_eq!(size, 1);
    // TLP:GREEN is never stored in a public-read collection (DESIGN.md "Access").
    let out = store
        .add_objects(
            &public.id,
            vec![
                indicator(2, T1, TlpLevel::Green),
                indicator(3, T1, TlpLevel::Red),
            ],
        )
        .await
        .unwrap();
    assert!(
        out.iter()
            .all(|o| matches!(o.result, AddResult::Failed { .. }))
    );
    // A duplicate version is not logged twice.
    store
        .add_objects(&public.id, vec![indicator(1, T1, TlpLevel::Clear)])
        .await
        .unwrap();
    // An envelope for a collection that does not exist fails as a whole.
    assert!(
        store
            .add_objects(
                "no-such-collection",
                vec![indicator(4, T1, TlpLevel::Clear)]
            )
            .await
            .is_err()
    );
    assert_eq!(store.log_head().await.unwrap(), (size, head));
    check_all_proofs(&store).await;
}

/// Out-of-range requests are invalid input, never a panic or a wrong answer.
pub async fn out_of_range_is_invalid(store: S) {
    let c = collection(&store, CollectionFlags::default()).await;
    store
        .add_objects(&c.id, vec![indicator(1, T1, TlpLevel::Clear)])
        .await
        .unwrap();
    assert!(matches!(
        store.log_inclusion_proof(1, 1).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.log_inclusion_proof(0, 2).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.log_consistency_proof(2, 1).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.log_root(2).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.save_checkpoint(2, "x").await,
        Err(StoreError::Invalid(_))
    ));
}

/// A holder of an object finds its entry by (collection, id, version) and can recompute it.
pub async fn lookup_finds_the_newest_addition(store: S) {
    let c = collection(&store, CollectionFlags::default()).await;
    let out = store
        .add_objects(
            &c.id,
            vec![
                indicator(1, T1, TlpLevel::Clear),
                indicator(1, T2, TlpLevel::Clear),
            ],
        )
        .await
        .unwrap();
    for (i, o) in out.iter().enumerate() {
        let AddResult::Added { date_added } = &o.result else {
            panic!("added")
        };
        let (index, entry) = store
            .log_lookup(&c.id, &o.id, &o.version)
            .await
            .unwrap()
            .expect("found");
        assert_eq!(index, i as u64);
        let raw = indicator_json(1, if i == 0 { T1 } else { T2 });
        let expected = tlog::entry_bytes(
            tlog::LogOp::Add,
            &c.id,
            &o.id,
            &o.version,
            &date_added.to_string(),
            raw.as_bytes(),
        );
        assert_eq!(entry, expected);
    }
    assert_eq!(
        store.log_lookup(&c.id, &indicator_id(9), T1).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .log_lookup("other", &indicator_id(1), T1)
            .await
            .unwrap(),
        None,
        "the collection is part of the key"
    );
    // Deleted and posted again: the lookup answers the new addition, not the deletion.
    store
        .delete_object(&c.id, &indicator_id(1), &ObjectQuery::default())
        .await
        .unwrap();
    store
        .add_objects(&c.id, vec![indicator(1, T2, TlpLevel::Clear)])
        .await
        .unwrap();
    let (index, _) = store
        .log_lookup(&c.id, &indicator_id(1), T2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(index, store.log_size().await.unwrap() - 1);
}

/// Checkpoints are kept per size; the latest is the largest.
pub async fn checkpoints_are_kept(store: S) {
    assert_eq!(store.latest_checkpoint().await.unwrap(), None);
    let c = collection(&store, CollectionFlags::default()).await;
    store
        .add_objects(
            &c.id,
            vec![
                indicator(1, T1, TlpLevel::Clear),
                indicator(2, T1, TlpLevel::Clear),
            ],
        )
        .await
        .unwrap();
    store.save_checkpoint(1, "one").await.unwrap();
    store.save_checkpoint(2, "two").await.unwrap();
    store.save_checkpoint(2, "two again").await.unwrap();
    assert_eq!(
        store.latest_checkpoint().await.unwrap(),
        Some((2, "two".to_owned()))
    );
}

mod sqlite {
    use super::*;
    use std::sync::Arc;
    use store::sqlite::SqliteStore;

    fn make() -> (S, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open_in_dir(dir.path()).expect("open store");
        (Arc::new(store), dir)
    }

    macro_rules! on_sqlite {
        ($($name:ident),* $(,)?) => {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _dir) = make();
                    super::$name(store).await;
                }
            )*
        };
    }

    on_sqlite!(
        proofs_from_stored_hashes_verify,
        refused_envelope_appends_nothing,
        out_of_range_is_invalid,
        lookup_finds_the_newest_addition,
        checkpoints_are_kept,
    );

    /// Node hashes are stored for every fourth level only; the others are hashed from the
    /// stored ones when read. Over 70 leaves (levels 0 to 6, nodes of levels 4 stored,
    /// 5 and 6 computed from them, 1 to 3 from the leaves) every head and proof verifies,
    /// every node read agrees with an in-memory tree, and the table has only level-4 rows.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nodes_between_stored_levels_are_computed() {
        let (store, dir) = make();
        let c = collection(&store, CollectionFlags::default()).await;
        for batch in [0..7u64, 7..33, 33..34, 34..70] {
            let objects = batch.map(|n| indicator(n, T1, TlpLevel::Clear)).collect();
            store.add_objects(&c.id, objects).await.unwrap();
        }
        check_all_proofs(&store).await;
        let leaves = store.log_leaves(0, 70).await.unwrap();
        let mut replica = MemoryStore::new();
        for leaf in &leaves {
            replica.push(&leaf.entry);
        }
        for level in 0..=6u8 {
            let ids: Vec<_> = (0..70u64 >> level)
                .map(|i| tlog::NodeId::new(level, i))
                .collect();
            let ours = store.log_nodes(ids.clone()).await.unwrap();
            let theirs: Vec<_> = ids
                .iter()
                .map(|id| tlog::HashStore::node(&replica, *id).unwrap())
                .collect();
            assert_eq!(ours, theirs, "level {level}");
        }
        // Beyond the tree: no node to hash from.
        assert!(
            store
                .log_nodes(vec![tlog::NodeId::new(5, 3)])
                .await
                .is_err()
        );
        let conn = rusqlite::Connection::open(dir.path().join(store::sqlite::DB_FILE)).unwrap();
        let levels: Vec<(i64, i64)> = conn
            .prepare("SELECT level, count(*) FROM log_nodes GROUP BY level")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(levels, [(4, 4)]);
    }

    /// A log written before the node table existed (simulated by emptying it) gets its
    /// node hashes and lookup keys back when the store is opened.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nodes_are_backfilled_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let c;
        let head;
        {
            let store: S = Arc::new(SqliteStore::open_in_dir(dir.path()).unwrap());
            c = collection(&store, CollectionFlags::default()).await;
            let objects = (0..9).map(|n| indicator(n, T1, TlpLevel::Clear)).collect();
            store.add_objects(&c.id, objects).await.unwrap();
            head = store.log_head().await.unwrap();
        }
        let conn = rusqlite::Connection::open(dir.path().join(store::sqlite::DB_FILE)).unwrap();
        // As a database from before migration 5 looks too: rows without their leaf index.
        conn.execute_batch(
            "DELETE FROM log_nodes; UPDATE log_leaves SET add_object = NULL;
             UPDATE objects SET log_idx = NULL;",
        )
        .unwrap();
        drop(conn);
        let store: S = Arc::new(SqliteStore::open_in_dir(dir.path()).unwrap());
        assert_eq!(store.log_head().await.unwrap(), head);
        assert!(
            store
                .log_lookup(&c.id, &indicator_id(4), T1)
                .await
                .unwrap()
                .is_some()
        );
        check_all_proofs(&store).await;
        store
            .add_objects(&c.id, vec![indicator(20, T1, TlpLevel::Clear)])
            .await
            .unwrap();
        check_all_proofs(&store).await;
    }
}
