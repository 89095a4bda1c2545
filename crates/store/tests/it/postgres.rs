//! The contract suite on PostgreSQL, plus what only several replicas on one database can
//! show: concurrent writers through two pools, raced migrations and first starts, the
//! statement bound of a page, a connection killed mid-envelope, the shared log key.
//!
//! **Database.** The first test of a run creates a fresh database `entente_t_<random>` through
//! `postgres://postgres@127.0.0.1:5432/postgres` (override with `ENTENTE_TEST_PG_URL`, any
//! database of a role allowed to create databases); each test gets its own schema in it,
//! dropped when the test ends, and the database is dropped (`WITH (FORCE)`) when the last
//! running test ends. If PostgreSQL is unreachable the tests fail saying so, unless
//! `ENTENTE_TEST_PG=skip` is set: then the contract tests run on SQLite instead (printing
//! that they do) and the PostgreSQL-only tests return at once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::postgres::{PgOptions, PgStore};
use store::*;

use crate::contract::{collection, indicator, indicator_id};

/// Whether the operator asked to skip PostgreSQL.
fn skipping() -> bool {
    std::env::var("ENTENTE_TEST_PG").is_ok_and(|v| v == "skip")
}

/// The server's maintenance URL the test databases are made through.
fn admin_url() -> String {
    std::env::var("ENTENTE_TEST_PG_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `url` with its database name replaced.
fn with_dbname(url: &str, db: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let authority_start = head.find("://").map_or(0, |i| i + 3);
    let base = match head[authority_start..].find('/') {
        Some(slash) => &head[..authority_start + slash],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// Runs `sql` on `url` on a thread of its own (with its own runtime), so it can be called
/// from sync code inside a test's runtime. Panics with a clear message when the server is
/// unreachable.
fn admin(url: &str, sql: &str) {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is not reachable at {url}: {e}. Start it, point ENTENTE_TEST_PG_URL at one, \
                         or set ENTENTE_TEST_PG=skip to skip the PostgreSQL tests"
                    )
                });
            let task = tokio::spawn(conn);
            client
                .batch_execute(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            drop(client);
            let _ = task.await;
        })
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

/// The run's database and how many tests use it.
struct Shared {
    db: Option<String>,
    live: usize,
}

static SHARED: Mutex<Shared> = Mutex::new(Shared { db: None, live: 0 });

/// A fresh schema for one test; dropping it drops the schema, and the database with the
/// last one.
pub struct Fresh {
    /// URL of the run's database.
    pub url: String,
    /// The test's schema.
    pub schema: String,
}

impl Fresh {
    fn new() -> Fresh {
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        let db = match &shared.db {
            Some(db) => db.clone(),
            None => {
                let db = format!("entente_t_{:016x}", rand::random::<u64>());
                admin(&admin_url(), &format!("CREATE DATABASE {db}"));
                shared.db = Some(db.clone());
                db
            }
        };
        let url = with_dbname(&admin_url(), &db);
        let schema = format!("s_{:016x}", rand::random::<u64>());
        admin(&url, &format!("CREATE SCHEMA {schema}"));
        shared.live += 1;
        Fresh { url, schema }
    }

    /// Options for a store in this schema.
    pub fn options(&self) -> PgOptions {
        PgOptions {
            schema: Some(self.schema.clone()),
            max_connections: 8,
            ..PgOptions::default()
        }
    }

    /// Opens a store (a replica with its own pool) in this schema.
    pub async fn open(&self) -> PgStore {
        PgStore::open(&self.url, &self.options())
            .await
            .expect("open the PostgreSQL store")
    }

    /// A raw connection to the database with `search_path` set to this schema.
    pub async fn raw(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client
            .batch_execute(&format!("SET search_path = {}", self.schema))
            .await
            .expect("search_path");
        client
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        // Best effort: a failed clean-up must not hide the test's own result.
        let schema = self.schema.clone();
        let url = self.url.clone();
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        let _ = std::panic::catch_unwind(|| {
            admin(&url, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        });
        shared.live = shared.live.saturating_sub(1);
        if shared.live == 0
            && let Some(db) = shared.db.take()
        {
            let _ = std::panic::catch_unwind(|| {
                admin(
                    &admin_url(),
                    &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                )
            });
        }
    }
}

/// What keeps a contract test's storage alive.
pub enum Guard {
    /// A PostgreSQL schema.
    Pg(#[allow(dead_code, reason = "held for its Drop")] Fresh),
    /// The SQLite stand-in under `ENTENTE_TEST_PG=skip`.
    Skipped(#[allow(dead_code, reason = "held for its Drop")] tempfile::TempDir),
}

/// A fresh store for one contract test.
fn make() -> (Arc<dyn Store>, Guard) {
    if skipping() {
        eprintln!("ENTENTE_TEST_PG=skip: this PostgreSQL contract test runs on SQLite instead");
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store::sqlite::SqliteStore::open_in_dir(dir.path()).expect("open");
        return (Arc::new(store), Guard::Skipped(dir));
    }
    let fresh = Fresh::new();
    let store =
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(fresh.open()));
    (Arc::new(store), Guard::Pg(fresh))
}

crate::contract_tests!(make);

/// A fresh schema for a PostgreSQL-only test, or `None` under `ENTENTE_TEST_PG=skip`.
fn fresh_or_skip() -> Option<Fresh> {
    if skipping() {
        eprintln!("ENTENTE_TEST_PG=skip: PostgreSQL test skipped");
        return None;
    }
    Some(Fresh::new())
}

/// Every version in a collection, paged `page` at a time with `next` tokens.
async fn read_all(store: &dyn Store, c: &str, page: usize) -> Vec<StoredObject> {
    let mut out = Vec::new();
    let mut next = None;
    loop {
        let p = store
            .query_objects(
                c,
                &ObjectQuery {
                    versions: vec![VersionMatch::All],
                    limit: page,
                    next: next.take(),
                    max_tlp: TlpLevel::Red,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        out.extend(p.items);
        match p.next {
            Some(n) => next = Some(n),
            None => return out,
        }
    }
}

/// Checks the log: dense indexes, each leaf hash right, and the tree head equal to the
/// one recomputed from the leaves in memory; returns the size.
async fn check_log(store: &dyn Store) -> u64 {
    let (size, head) = store.log_head().await.unwrap();
    let leaves = store.log_leaves(0, size + 10).await.unwrap();
    assert_eq!(
        leaves.len() as u64,
        size,
        "one leaf per index below the size"
    );
    let mut tree = tlog::MemoryStore::new();
    for (i, leaf) in leaves.iter().enumerate() {
        assert_eq!(leaf.index, i as u64, "log indexes are consecutive");
        assert_eq!(leaf.leaf_hash, tlog::leaf_hash(&leaf.entry));
        tree.push(&leaf.entry);
    }
    assert_eq!(
        head,
        tree.root(),
        "stored tree head equals the recomputed one"
    );
    size
}

/// Two replicas (two pools) write one collection at once while a third pages through it:
/// every object is stored once, date_added strictly increases, the log stays one dense
/// linear log whose head equals the recomputed one, and the paging reader sees every
/// object it reaches exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_write_one_collection() {
    let Some(fresh) = fresh_or_skip() else {
        return;
    };
    let a = Arc::new(fresh.open().await);
    let b = Arc::new(fresh.open().await);
    let reader = fresh.open().await;
    let c = collection(a.as_ref()).await;
    const WRITERS: u64 = 3;
    const ENVELOPES: u64 = 8;
    const PER: u64 = 25;
    let mut tasks = Vec::new();
    for (r, store) in [a.clone(), b.clone()].into_iter().enumerate() {
        for w in 0..WRITERS {
            let (store, c) = (store.clone(), c.clone());
            tasks.push(tokio::spawn(async move {
                let mut acked = 0;
                for e in 0..ENVELOPES {
                    let base = ((r as u64 * WRITERS + w) * ENVELOPES + e) * PER;
                    let objs = (base..base + PER)
                        .map(|n| indicator(n, "2021-01-01T00:00:00.000Z", TlpLevel::Clear))
                        .collect();
                    let out = store.add_objects(&c, objs).await.unwrap();
                    acked += out
                        .iter()
                        .filter(|o| matches!(o.result, AddResult::Added { .. }))
                        .count();
                }
                acked
            }));
        }
    }
    // A reader paging with `next` while the replicas write: never a repeat, never a step
    // back in date_added.
    let paging = {
        let c = c.clone();
        tokio::spawn(async move {
            let mut seen = HashSet::new();
            let mut last = None;
            let mut next: Option<String> = None;
            let total = 2 * WRITERS * ENVELOPES * PER;
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while (seen.len() as u64) < total && std::time::Instant::now() < deadline {
                let p = reader
                    .query_objects(
                        &c,
                        &ObjectQuery {
                            limit: 17,
                            next: next.clone(),
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                for o in &p.items {
                    assert!(seen.insert(o.id.clone()), "the reader saw {} twice", o.id);
                    if let Some(prev) = last {
                        assert!(o.date_added > prev, "date_added went back while paging");
                    }
                    last = Some(o.date_added);
                }
                if let Some(o) = p.items.last() {
                    next = Some(store::keys::encode_next(store::keys::floor_micros(
                        &o.date_added,
                    )));
                } else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            seen.len() as u64
        })
    };
    let mut acked = 0;
    for t in tasks {
        acked += t.await.unwrap();
    }
    let total = 2 * WRITERS * ENVELOPES * PER;
    assert_eq!(acked as u64, total, "every object acknowledged as added");
    assert_eq!(
        paging.await.unwrap(),
        total,
        "the reader saw every object once"
    );

    for store in [a.as_ref() as &dyn Store, b.as_ref()] {
        let all = read_all(store, &c, 100).await;
        assert_eq!(all.len() as u64, total);
        let ids: HashSet<_> = all.iter().map(|o| o.id.clone()).collect();
        assert_eq!(ids.len() as u64, total, "each object stored once");
        assert!(
            all.windows(2).all(|w| w[0].date_added < w[1].date_added),
            "date_added strictly increasing"
        );
    }
    assert_eq!(
        check_log(a.as_ref()).await,
        total,
        "one log leaf per object"
    );
    assert_eq!(a.log_head().await.unwrap(), b.log_head().await.unwrap());
    // Both replicas saw lock traffic, and held it for part of their time only.
    for s in [&a, &b] {
        let stats = s.lock_stats();
        assert_eq!(stats.transactions, WRITERS * ENVELOPES);
        assert!(stats.held <= stats.total && stats.waiting <= stats.total);
    }
}

/// Replicas starting together: migrations and the first-start set-up race safely; exactly
/// one replica sets up and gets the administrator's token.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_and_bootstrap_once() {
    let Some(fresh) = fresh_or_skip() else {
        return;
    };
    let mut starts = Vec::new();
    for _ in 0..6 {
        let (url, options) = (fresh.url.clone(), fresh.options());
        starts.push(tokio::spawn(async move {
            store::bootstrap::ensure_initialized_database(&url, &options).await
        }));
    }
    let mut tokens = Vec::new();
    for s in starts {
        let outcome = s.await.unwrap().expect("every replica starts");
        assert_eq!(outcome.first_start, outcome.admin_token.is_some());
        assert!(!outcome.db_path.is_empty());
        tokens.extend(outcome.admin_token);
    }
    assert_eq!(
        tokens.len(),
        1,
        "exactly one replica set the installation up"
    );
    let store = fresh.open().await;
    assert!(store.authenticate(&tokens[0]).await.unwrap().is_some());
    assert_eq!(store.list_collections(None).await.unwrap().len(), 1);
    let raw = fresh.raw().await;
    let versions = raw
        .query("SELECT version FROM schema_version", &[])
        .await
        .unwrap();
    assert_eq!(versions.len(), 1, "one schema_version row");
    let v: i64 = versions[0].get(0);
    assert!(v >= 1);
    // A database from a newer entente is refused.
    raw.execute("UPDATE schema_version SET version = version + 100", &[])
        .await
        .unwrap();
    let refused = PgStore::open(&fresh.url, &fresh.options()).await;
    assert!(
        matches!(&refused, Err(StoreError::Backend(m)) if m.contains("newer")),
        "{refused:?}"
    );
}

/// One page is a bounded number of statements whatever its size (no N+1): two for a page
/// of objects, a manifest or versions (the collection, the page); one for the collections
/// of a root; an envelope's cost does not grow with its size.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_page_is_a_bounded_number_of_statements() {
    let Some(fresh) = fresh_or_skip() else {
        return;
    };
    let store = fresh.open().await;
    let c = collection(&store).await;
    // The first envelope of an empty log reads no log nodes; measure the next ones.
    store
        .add_objects(
            &c,
            vec![indicator(
                999_999,
                "2021-01-01T00:00:00.000Z",
                TlpLevel::Clear,
            )],
        )
        .await
        .unwrap();
    let before = store.statements_executed();
    store
        .add_objects(
            &c,
            (0..10)
                .map(|n| indicator(n, "2021-01-01T00:00:00.000Z", TlpLevel::Clear))
                .collect(),
        )
        .await
        .unwrap();
    let small = store.statements_executed() - before;
    for e in 0..4u64 {
        let before = store.statements_executed();
        store
            .add_objects(
                &c,
                (0..500)
                    .map(|n| {
                        indicator(
                            1000 + e * 500 + n,
                            "2021-01-01T00:00:00.000Z",
                            TlpLevel::Clear,
                        )
                    })
                    .collect(),
            )
            .await
            .unwrap();
        assert_eq!(
            store.statements_executed() - before,
            small,
            "an envelope of 500 costs what an envelope of 10 does"
        );
    }
    assert!(small <= 12, "an envelope is {small} statements");
    let q = ObjectQuery {
        limit: 1000,
        ..Default::default()
    };
    let before = store.statements_executed();
    let page = store.query_objects(&c, &q).await.unwrap();
    assert_eq!(page.items.len(), 1000);
    assert!(page.more);
    assert_eq!(store.statements_executed() - before, 2, "objects page");
    let before = store.statements_executed();
    let joined = store.query_objects_joined(&c, &q).await.unwrap().unwrap();
    assert_eq!(joined.count, 1000);
    assert_eq!(
        store.statements_executed() - before,
        1,
        "joined objects page: the collection is looked up inside the page's statement"
    );
    let before = store.statements_executed();
    let empty = store
        .query_objects_joined(
            &c,
            &ObjectQuery {
                types: vec!["malware".into()],
                ..q.clone()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(empty.count, 0);
    assert_eq!(
        store.statements_executed() - before,
        2,
        "an empty joined page also checks that the collection exists"
    );
    let before = store.statements_executed();
    let next = store
        .manifest(
            &c,
            &ObjectQuery {
                next: page.next.clone(),
                types: vec!["indicator".into()],
                ..q.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(next.items.len(), 1000);
    assert_eq!(store.statements_executed() - before, 2, "manifest page");
    let before = store.statements_executed();
    store
        .versions(&c, &indicator_id(3), &ObjectQuery::default())
        .await
        .unwrap();
    assert_eq!(store.statements_executed() - before, 2, "versions page");
    for _ in 0..9 {
        collection_in(&store, "r").await;
    }
    store.create_org("acme").await.unwrap();
    store.create_user("alice", "acme", false).await.unwrap();
    let token = store.create_token("alice").await.unwrap();
    let p = store.authenticate(&token.secret).await.unwrap().unwrap();
    let before = store.statements_executed();
    let listed = store.collections_for(Some(&p), "r").await.unwrap();
    assert_eq!(
        store.statements_executed() - before,
        1,
        "collections of a root"
    );
    assert!(listed.is_empty(), "alice has no grant");
    let before = store.statements_executed();
    let (size, _) = store.log_head().await.unwrap();
    store.log_inclusion_proof(7, size).await.unwrap();
    assert_eq!(store.statements_executed() - before, 4, "head and proof");
}

async fn collection_in(store: &dyn Store, root: &str) {
    store
        .create_collection(&NewCollection {
            api_root: root.into(),
            title: "more".into(),
            ..Default::default()
        })
        .await
        .unwrap();
}

/// A page of a collection is a range scan of the primary key in date_added order: no sort,
/// no sequential scan of the collection (what keeps a 1,000-object page flat at 10M).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_use_the_primary_key_in_order() {
    let Some(fresh) = fresh_or_skip() else {
        return;
    };
    let store = fresh.open().await;
    let c = collection(&store).await;
    for e in 0..6u64 {
        let objs = (e * 500..(e + 1) * 500)
            .map(|n| indicator(n, "2021-01-01T00:00:00.000Z", TlpLevel::Clear))
            .collect();
        store.add_objects(&c, objs).await.unwrap();
    }
    let raw = fresh.raw().await;
    // At 3,000 rows a sequential scan is the planner's cheapest choice; from about a
    // million rows on (the sizes that matter) the ordered primary-key scan, which stops
    // after `limit` rows, is. Disable the sequential and bitmap scans to see what the
    // indexes allow.
    raw.batch_execute("ANALYZE objects; SET enable_seqscan = off; SET enable_bitmapscan = off")
        .await
        .unwrap();
    let seq: i64 = raw
        .query_one("SELECT seq FROM collections WHERE id = $1", &[&c])
        .await
        .unwrap()
        .get(0);
    let plan = |sql: String| {
        let raw = &raw;
        async move {
            raw.query(&format!("EXPLAIN {sql}"), &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    let page = plan(format!(
        "SELECT o.raw FROM objects o WHERE o.collection = {seq} AND o.tlp <= 0 AND o.date_added > 0 \
         AND (o.newer_tlp IS NULL OR o.newer_tlp > 0) ORDER BY o.date_added LIMIT 1001"
    ))
    .await;
    assert!(page.contains("objects_pkey"), "{page}");
    assert!(!page.contains("Sort"), "{page}");
    let one = plan(format!(
        "SELECT o.raw FROM objects o WHERE o.collection = {seq} AND o.stix_id = 'indicator--x' ORDER BY o.date_added LIMIT 11"
    ))
    .await;
    assert!(one.contains("objects_by_version"), "{one}");
    // Migration 3: no (collection, tlp, date_added) index for the planner to sort from.
    // Only this schema's table's indexes are described: `pg_indexes` describes every index
    // of the database, and one of a schema that another test drops meanwhile failed the
    // query ("cache lookup failed").
    let tlp_indexes: Vec<String> = raw
        .query(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'objects'::regclass",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .filter(|d| d.contains("(collection, tlp"))
        .collect();
    assert!(
        tlp_indexes.is_empty(),
        "an index leads with (collection, tlp): {tlp_indexes:?}"
    );
}

/// A connection killed in the middle of an envelope loses nothing acknowledged and leaves
/// nothing half-written; the store goes on working with a fresh connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_connection_mid_envelope_leaves_nothing_half_written() {
    let Some(fresh) = fresh_or_skip() else {
        return;
    };
    let store = Arc::new(fresh.open().await);
    let c = collection(store.as_ref()).await;
    let first: Vec<_> = (0..50)
        .map(|n| indicator(n, "2021-01-01T00:00:00.000Z", TlpLevel::Clear))
        .collect();
    store.add_objects(&c, first).await.unwrap();
    let size_before = check_log(store.as_ref()).await;

    // Block the envelope after its object rows are written: hold a lock on log_leaves.
    let mut blocker = fresh.raw().await;
    let tx = blocker.transaction().await.unwrap();
    tx.batch_execute("LOCK TABLE log_leaves IN EXCLUSIVE MODE")
        .await
        .unwrap();
    let doomed = {
        let (store, c) = (store.clone(), c.clone());
        tokio::spawn(async move {
            let objs = (100..400)
                .map(|n| indicator(n, "2021-01-01T00:00:00.000Z", TlpLevel::Clear))
                .collect();
            store.add_objects(&c, objs).await
        })
    };
    // Find the envelope's backend waiting on that lock, and kill it.
    let killer = fresh.raw().await;
    let mut killed = false;
    for _ in 0..500 {
        let rows = killer
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO log_leaves%'",
                &[],
            )
            .await
            .unwrap();
        if let Some(r) = rows.first() {
            let pid: i32 = r.get(0);
            killer
                .execute("SELECT pg_terminate_backend($1)", &[&pid])
                .await
                .unwrap();
            killed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(killed, "the envelope never reached the log insert");
    let outcome = doomed.await.unwrap();
    assert!(outcome.is_err(), "a killed envelope is not acknowledged");
    tx.rollback().await.unwrap();

    let all = read_all(store.as_ref(), &c, 1000).await;
    assert_eq!(
        all.len(),
        50,
        "the acknowledged envelope is whole, the killed one absent"
    );
    assert_eq!(check_log(store.as_ref()).await, size_before);
    // The store keeps working: the pool replaces the dead connection.
    let again: Vec<_> = (100..400)
        .map(|n| indicator(n, "2021-01-01T00:00:00.000Z", TlpLevel::Clear))
        .collect();
    let out = store
        .add_objects(&c, again)
        .await
        .expect("the store recovers");
    assert!(
        out.iter()
            .all(|o| matches!(o.result, AddResult::Added { .. }))
    );
    assert_eq!(read_all(store.as_ref(), &c, 1000).await.len(), 350);
    assert_eq!(check_log(store.as_ref()).await, size_before + 300);
}

/// The log's signing key lives in the database: replicas asking at once get one key, and
/// a strict origin that differs is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_one_log_key() {
    let Some(fresh) = fresh_or_skip() else {
        return;
    };
    let a = fresh.open().await;
    let b = fresh.open().await;
    let (ka, kb) = tokio::join!(
        a.log_key("entente/test", true),
        b.log_key("entente/test", false)
    );
    let (ka, kb) = (ka.unwrap(), kb.unwrap());
    assert_eq!(ka.vkey(), kb.vkey(), "one key for every replica");
    assert!(ka.vkey().starts_with("entente/test+"));
    assert!(matches!(
        a.log_key("entente/other", true).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        a.log_key("entente/other", false).await.unwrap().vkey(),
        ka.vkey()
    );
    // Deterministic signatures: both replicas sign the same checkpoint text alike.
    let msg = b"entente/test\n1\nAAAA\n";
    assert_eq!(
        tlog::NoteSigner::sign(&ka, msg).unwrap(),
        tlog::NoteSigner::sign(&kb, msg).unwrap()
    );
}

/// `query_objects_joined` answers, page by page, exactly what `query_objects` does: the
/// same bodies in the same order, `more`, `next` and the date_added range, for readers of
/// every audience and for the filters and version selections a GET can ask for; a missing
/// collection is not found.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn joined_pages_are_the_pages_of_query_objects() {
    let Some(fresh) = fresh_or_skip() else {
        return;
    };
    let store = fresh.open().await;
    let c = collection(&store).await;
    let tlps = [
        TlpLevel::Clear,
        TlpLevel::Green,
        TlpLevel::Amber,
        TlpLevel::Red,
    ];
    // Indicators with up to three versions whose markings differ (a newer version hidden
    // from a reader must leave the older one visible), and a few malware objects; red is
    // refused outside restricted collections, so the objects are clear to amber.
    for n in 0..40u64 {
        let versions = [
            "2021-01-01T00:00:00.000Z",
            "2021-06-01T00:00:00.000Z",
            "2022-01-01T00:00:00.000Z",
        ];
        let objs: Vec<_> = versions[..(n % 3 + 1) as usize]
            .iter()
            .enumerate()
            .map(|(v, m)| indicator(n, m, tlps[(n as usize + v * 2) % 3]))
            .collect();
        store.add_objects(&c, objs).await.unwrap();
    }
    let malware: Vec<_> = (0..7)
        .map(|n| {
            let id = format!("malware--00000000-0000-4000-8000-{n:012}");
            let body = format!(
                r#"{{"type":"malware","spec_version":"2.1","id":"{id}","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z","name":"m {n}","is_family":false}}"#
            );
            object(&id, Some("2021-01-01T00:00:00.000Z"), tlps[n % 3], &body)
        })
        .collect();
    store.add_objects(&c, malware).await.unwrap();
    let middle = store
        .query_objects(
            &c,
            &ObjectQuery {
                limit: 30,
                versions: vec![VersionMatch::All],
                max_tlp: TlpLevel::Red,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .last()
        .map(|o| o.date_added)
        .unwrap();
    let shapes = [
        ObjectQuery::default(),
        ObjectQuery {
            versions: vec![VersionMatch::All],
            ..Default::default()
        },
        ObjectQuery {
            versions: vec![VersionMatch::First, VersionMatch::Last],
            ..Default::default()
        },
        ObjectQuery {
            types: vec!["malware".into()],
            ..Default::default()
        },
        ObjectQuery {
            ids: vec![indicator_id(4), indicator_id(5)],
            versions: vec![VersionMatch::All],
            ..Default::default()
        },
        ObjectQuery {
            spec_versions: vec!["2.1".into()],
            ..Default::default()
        },
        ObjectQuery {
            added_after: Some(middle),
            ..Default::default()
        },
    ];
    for max_tlp in tlps {
        for shape in &shapes {
            for limit in [1, 7, 1000] {
                let mut query = ObjectQuery {
                    limit,
                    max_tlp,
                    ..shape.clone()
                };
                let mut pages = 0;
                loop {
                    let page = store.query_objects(&c, &query).await.unwrap();
                    let joined = store
                        .query_objects_joined(&c, &query)
                        .await
                        .unwrap()
                        .expect("PostgreSQL joins its pages");
                    let bodies: Vec<&str> =
                        page.items.iter().map(|o| o.raw_json.as_str()).collect();
                    assert_eq!(
                        String::from_utf8(joined.objects.clone()).unwrap(),
                        bodies.join(","),
                        "{max_tlp:?} {query:?}"
                    );
                    assert_eq!(joined.count, page.items.len());
                    assert_eq!(joined.more, page.more);
                    assert_eq!(joined.next, page.next);
                    assert_eq!(
                        joined.date_added,
                        page.items
                            .first()
                            .zip(page.items.last())
                            .map(|(f, l)| (f.date_added, l.date_added))
                    );
                    pages += 1;
                    match page.next {
                        Some(next) => query.next = Some(next),
                        None => break,
                    }
                }
                assert!(pages >= 1);
            }
        }
    }
    // Everything visible to red, in pages of 1: every version once.
    let all = read_all(&store, &c, 1000).await;
    assert_eq!(all.len(), 14 + 13 * 2 + 13 * 3 + 7);
    assert!(matches!(
        store
            .query_objects_joined("no-such-collection", &ObjectQuery::default())
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

/// A pooled connection whose backend was terminated is not handed out again: it is
/// dropped when the pool hands it out, and the next request gets a working connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_terminated_connection_is_not_handed_out() {
    let Some(fresh) = fresh_or_skip() else {
        return;
    };
    // An application name of its own, so that only this store's connections are killed.
    let name = format!("entente_t_{:08x}", rand::random::<u32>());
    let url = format!("{}?application_name={name}", fresh.url);
    let store = PgStore::open(&url, &fresh.options()).await.unwrap();
    let c = collection(&store).await;
    store
        .add_objects(
            &c,
            vec![indicator(1, "2021-01-01T00:00:00.000Z", TlpLevel::Clear)],
        )
        .await
        .unwrap();
    // Several pooled connections at once.
    let q = ObjectQuery::default();
    let reads = (0..4).map(|_| store.query_objects_joined(&c, &q));
    for r in futures_util::future::join_all(reads).await {
        assert_eq!(r.unwrap().unwrap().count, 1);
    }
    let killer = fresh.raw().await;
    // Handed out again at once (no round trip: the closed socket is what shows), and after
    // the idle interval (the pool's empty query finds it dead).
    for pause in [Duration::from_millis(200), Duration::from_millis(2500)] {
        let killed: i64 = killer
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get(0);
        assert!(killed >= 1, "the store's connections were found");
        tokio::time::sleep(pause).await;
        for _ in 0..8 {
            let page = store
                .query_objects_joined(&c, &q)
                .await
                .expect("a terminated connection is replaced, not handed out")
                .unwrap();
            assert_eq!(page.count, 1);
        }
    }
}

/// An object with a chosen JSON body.
fn object(id: &str, modified: Option<&str>, tlp: TlpLevel, body: &str) -> NewObject {
    NewObject {
        id: id.into(),
        type_name: id.split("--").next().unwrap_or("x").into(),
        spec_version: "2.1".into(),
        version: modified.map(|m| Timestamp::parse(m).expect("test timestamp")),
        raw_json: body.into(),
        tlp,
        revoked: false,
    }
}

/// The web UI's reads answer the same on PostgreSQL as on SQLite: filters, full-text words,
/// producers, the newest visible version, keyset pages, references and counts, for
/// readers of every audience.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ui_reads_answer_as_on_sqlite() {
    let Some(fresh) = fresh_or_skip() else {
        return;
    };
    let pg: Arc<dyn Store> = Arc::new(fresh.open().await);
    let dir = tempfile::tempdir().unwrap();
    let lite: Arc<dyn Store> =
        Arc::new(store::sqlite::SqliteStore::open_in_dir(dir.path()).unwrap());
    let ind = |n: u32, m: &str, name: &str, producer: &str, ip: &str| {
        format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2021-01-01T00:00:00.000Z","modified":"{m}","name":"{name}","description":"seen by {producer}","created_by_ref":"identity--{producer}","pattern":"[ipv4-addr:value = '{ip}']","pattern_type":"stix","valid_from":"2021-01-01T00:00:00Z"}}"#
        )
    };
    let id = |n: u32| format!("indicator--00000000-0000-4000-8000-{n:012}");
    let m1 = "2021-01-01T00:00:00.000Z";
    let m2 = "2021-02-01T00:00:00.000Z";
    let mut objs = vec![
        object(
            &id(1),
            Some(m1),
            TlpLevel::Clear,
            &ind(1, m1, "APT28 C2", "alpha", "198.51.100.1"),
        ),
        object(
            &id(2),
            Some(m1),
            TlpLevel::Green,
            &ind(2, m1, "Evil domain", "beta", "203.0.113.9"),
        ),
        object(
            &id(3),
            Some(m1),
            TlpLevel::Amber,
            &ind(3, m1, "APT29 loader", "alpha", "198.51.100.77"),
        ),
        // A newer version only Amber readers see: Green readers keep seeing the first.
        object(
            &id(1),
            Some(m2),
            TlpLevel::Amber,
            &ind(1, m2, "APT28 C2 renamed", "alpha", "198.51.100.1"),
        ),
        object(
            "ipv4-addr--00000000-0000-4000-8000-000000000009",
            None,
            TlpLevel::Clear,
            r#"{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--00000000-0000-4000-8000-000000000009","value":"198.51.100.1"}"#,
        ),
    ];
    objs.push(object(
        "relationship--00000000-0000-4000-8000-000000000010",
        Some(m1),
        TlpLevel::Clear,
        &format!(
            r#"{{"type":"relationship","spec_version":"2.1","id":"relationship--00000000-0000-4000-8000-000000000010","created":"{m1}","modified":"{m1}","relationship_type":"indicates","source_ref":"{}","target_ref":"malware--1"}}"#,
            id(1)
        ),
    ));
    objs.push(object(
        "report--00000000-0000-4000-8000-000000000011",
        Some(m1),
        TlpLevel::Green,
        &format!(
            r#"{{"type":"report","spec_version":"2.1","id":"report--00000000-0000-4000-8000-000000000011","created":"{m1}","modified":"{m1}","name":"Weekly APT report","published":"{m1}","object_refs":["{}","{}","malware--1"],"created_by_ref":"identity--beta"}}"#,
            id(1),
            id(2)
        ),
    ));
    objs.push(object(
        "sighting--00000000-0000-4000-8000-000000000012",
        Some(m1),
        TlpLevel::Amber,
        &format!(
            r#"{{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-000000000012","created":"{m1}","modified":"{m1}","sighting_of_ref":"{}","where_sighted_refs":["identity--alpha"]}}"#,
            id(1)
        ),
    ));
    let mut cols = Vec::new();
    for s in [&pg, &lite] {
        let c = collection(s.as_ref()).await;
        // One object per envelope, so both stores add them in the same order.
        for o in &objs {
            let out = s.add_objects(&c, vec![o.clone()]).await.unwrap();
            assert!(matches!(out[0].result, AddResult::Added { .. }), "{out:?}");
        }
        cols.push(c);
    }
    let key = |p: &[StoredObject]| -> Vec<(String, String)> {
        // An unversioned object's version is its date_added, which differs between stores.
        p.iter()
            .map(|o| {
                let v = if o.type_name == "ipv4-addr" {
                    String::new()
                } else {
                    o.version.clone()
                };
                (o.id.clone(), v)
            })
            .collect()
    };
    let mut queries = Vec::new();
    for max_tlp in [TlpLevel::Clear, TlpLevel::Green, TlpLevel::Amber] {
        let base = SearchQuery {
            max_tlp,
            limit: 3,
            ..Default::default()
        };
        queries.push(base.clone());
        queries.push(SearchQuery {
            types: vec!["indicator".into()],
            ..base.clone()
        });
        queries.push(SearchQuery {
            tlp: vec![TlpLevel::Green, TlpLevel::Amber],
            ..base.clone()
        });
        queries.push(SearchQuery {
            producer: Some("identity--alpha".into()),
            ..base.clone()
        });
        queries.push(SearchQuery {
            producer: Some("identity--beta".into()),
            ..base.clone()
        });
        for text in [
            "apt",
            "APT28",
            "198.51",
            "198.51.100.1",
            "evil dom",
            "alpha",
            "nothing-here",
            "--",
        ] {
            queries.push(SearchQuery {
                text: Some(text.into()),
                ..base.clone()
            });
        }
    }
    let mut nonempty = 0;
    for q in &queries {
        let mut pages = Vec::new();
        for (s, c) in [(&pg, &cols[0]), (&lite, &cols[1])] {
            let mut all = Vec::new();
            let mut q = q.clone();
            loop {
                let p = s.search_objects(c, &q).await.unwrap();
                assert_eq!(p.more, p.next.is_some());
                all.extend(key(&p.items));
                match p.next {
                    Some(n) => q.next = Some(n),
                    None => break,
                }
            }
            pages.push(all);
        }
        assert_eq!(pages[0], pages[1], "search {q:?}");
        nonempty += usize::from(!pages[0].is_empty());
    }
    assert!(nonempty > queries.len() / 2, "the queries select something");
    for target in [
        id(1),
        id(2),
        "malware--1".into(),
        "identity--alpha".into(),
        "nothing--0".into(),
    ] {
        for max in [TlpLevel::Clear, TlpLevel::Green, TlpLevel::Amber] {
            let a = pg
                .objects_referencing(&cols[0], &target, max, 10)
                .await
                .unwrap();
            let b = lite
                .objects_referencing(&cols[1], &target, max, 10)
                .await
                .unwrap();
            assert_eq!(key(&a), key(&b), "references to {target} at {max:?}");
        }
        let (a, b) = (
            pg.collection_stats(&cols[0], TlpLevel::Green)
                .await
                .unwrap(),
            lite.collection_stats(&cols[1], TlpLevel::Green)
                .await
                .unwrap(),
        );
        assert_eq!(a.versions, b.versions);
        assert_eq!(a.last_added.is_some(), b.last_added.is_some());
    }
    // References go with their object.
    let before = pg
        .objects_referencing(&cols[0], &id(1), TlpLevel::Amber, 10)
        .await
        .unwrap();
    assert_eq!(before.len(), 3, "relationship, report, sighting");
    pg.delete_object(
        &cols[0],
        "relationship--00000000-0000-4000-8000-000000000010",
        &ObjectQuery {
            max_tlp: TlpLevel::Amber,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let after = pg
        .objects_referencing(&cols[0], &id(1), TlpLevel::Amber, 10)
        .await
        .unwrap();
    assert_eq!(after.len(), 2);
}

/// The pool's statement timeout reaches the server: an envelope blocked behind another
/// session's lock fails after it instead of waiting forever, and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn statement_timeout_bounds_a_blocked_envelope() {
    let Some(fresh) = fresh_or_skip() else {
        return;
    };
    let store = PgStore::open(
        &fresh.url,
        &PgOptions {
            statement_timeout: Some(Duration::from_millis(800)),
            ..fresh.options()
        },
    )
    .await
    .unwrap();
    let c = collection(&store).await;
    let mut blocker = fresh.raw().await;
    let tx = blocker.transaction().await.unwrap();
    tx.batch_execute("LOCK TABLE objects IN EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let out = store
        .add_objects(
            &c,
            vec![indicator(1, "2021-01-01T00:00:00.000Z", TlpLevel::Clear)],
        )
        .await;
    let waited = started.elapsed();
    assert!(
        matches!(&out, Err(StoreError::Backend(m)) if m.contains("timeout")),
        "{out:?}"
    );
    assert!(waited < Duration::from_secs(30), "waited {waited:?}");
    tx.rollback().await.unwrap();
    assert_eq!(read_all(&store, &c, 10).await.len(), 0);
    assert_eq!(check_log(&store).await, 0);
}
