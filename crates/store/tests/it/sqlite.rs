//! The contract suite on SQLite, plus what only SQLite can show: secrets absent from the
//! database file, reopening, migrations and the first-start bootstrap.

use std::sync::Arc;
use store::sqlite::SqliteStore;

use crate::contract::collection;
use store::*;

/// A fresh store in its own temporary directory (removed when the guard drops).
fn make() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open_in_dir(dir.path()).expect("open store");
    (Arc::new(store), dir)
}

crate::contract_tests!(make);

/// Every byte of the database and its WAL.
fn db_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.extend(std::fs::read(path).unwrap());
        }
    }
    all
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_dir(dir.path()).unwrap();
    store.create_org("acme").await.unwrap();
    store.create_user("alice", "acme", false).await.unwrap();
    let t = store.create_token("alice").await.unwrap();
    let bytes = db_bytes(dir.path());
    assert!(
        contains(&bytes, b"alice"),
        "sanity: the file holds the user"
    );
    assert!(
        !contains(&bytes, t.secret.as_bytes()),
        "secret (hex) in the file"
    );
    let raw = hex::decode(&t.secret).unwrap();
    assert!(!contains(&bytes, &raw), "secret (bytes) in the file");
    assert!(
        contains(&bytes, &store::token::hash_secret(&t.secret)),
        "digest stored"
    );
}

#[tokio::test]
async fn reopening_keeps_everything_and_date_added_keeps_rising() {
    let dir = tempfile::tempdir().unwrap();
    let (id, last) = {
        let store = SqliteStore::open_in_dir(dir.path()).unwrap();
        store.create_org("acme").await.unwrap();
        let c = store
            .collection(&collection(&store).await)
            .await
            .unwrap()
            .unwrap();
        let out = store
            .add_objects(
                &c.id,
                vec![crate::contract::indicator(
                    1,
                    "2020-01-01T00:00:00.000Z",
                    TlpLevel::Clear,
                )],
            )
            .await
            .unwrap();
        let AddResult::Added { date_added } = out[0].result else {
            panic!()
        };
        (c.id, date_added)
    };
    let store = SqliteStore::open_in_dir(dir.path()).unwrap();
    assert!(store.org("acme").await.unwrap().is_some());
    let out = store
        .add_objects(
            &id,
            vec![crate::contract::indicator(
                2,
                "2020-01-01T00:00:00.000Z",
                TlpLevel::Clear,
            )],
        )
        .await
        .unwrap();
    let AddResult::Added { date_added } = out[0].result else {
        panic!()
    };
    assert!(date_added > last);
}

#[tokio::test]
async fn a_second_process_view_sees_commits() {
    // Two independent stores on one file stand in for `entente serve` and `entente admin`.
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open_in_dir(dir.path()).unwrap();
    let b = SqliteStore::open_in_dir(dir.path()).unwrap();
    a.create_org("acme").await.unwrap();
    assert!(b.org("acme").await.unwrap().is_some());
    b.create_user("alice", "acme", false).await.unwrap();
    let t = b.create_token("alice").await.unwrap();
    assert!(a.authenticate(&t.secret).await.unwrap().is_some());
}

/// Commits are copied into the database file by the store's checkpoint thread, not only
/// once the WAL reaches the writer's own (much larger) threshold: a copy of the database
/// file alone, without its WAL, soon holds a small envelope. And dropping the store closes
/// every connection, so the last one folds the WAL into the file and removes it.
#[tokio::test]
async fn commits_reach_the_database_file_without_waiting_for_a_large_wal() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_dir(dir.path()).unwrap();
    let c = store
        .collection(&collection(&store).await)
        .await
        .unwrap()
        .unwrap();
    let objects = (0..20)
        .map(|n| crate::contract::indicator(n, "2020-01-01T00:00:00.000Z", TlpLevel::Clear))
        .collect();
    store.add_objects(&c.id, objects).await.unwrap();
    let copy = tempfile::tempdir().unwrap();
    let file_only = copy.path().join(store::sqlite::DB_FILE);
    let mut in_file = 0;
    for _ in 0..200 {
        std::fs::copy(dir.path().join(store::sqlite::DB_FILE), &file_only).unwrap();
        in_file = rusqlite::Connection::open(&file_only)
            .and_then(|conn| conn.query_row("SELECT count(*) FROM objects", [], |r| r.get(0)))
            .unwrap_or(0);
        if in_file == 20 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(in_file, 20, "the envelope never reached the database file");
    drop(store);
    assert!(
        !dir.path().join("entente.sqlite3-wal").exists(),
        "the WAL outlived the store"
    );
}

#[tokio::test]
async fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open_in_dir(dir.path()).unwrap());
    let conn = rusqlite_conn(dir.path());
    conn.execute("UPDATE schema_version SET version = 999", [])
        .unwrap();
    drop(conn);
    let err = SqliteStore::open_in_dir(dir.path()).unwrap_err();
    assert!(err.to_string().contains("newer"), "{err}");
}

fn rusqlite_conn(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(store::sqlite::DB_FILE)).unwrap()
}

#[tokio::test]
async fn bootstrap_runs_once() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("nested").join("data");
    let first = store::bootstrap::ensure_initialized(&data).await.unwrap();
    assert!(first.first_start);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&data).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let token = first.admin_token.clone().unwrap();
    assert!(
        !format!("{first:?}").contains(&token),
        "Debug hides the token"
    );
    let s = first.store.clone();
    let p = s.authenticate(&token).await.unwrap().unwrap();
    assert_eq!(
        (p.user_name.as_str(), p.org_name.as_str(), p.admin),
        ("admin", "admin", true)
    );
    let cols = s.collections_for(Some(&p), "default").await.unwrap();
    assert_eq!(cols.len(), 1);
    let (shared, access) = &cols[0];
    assert_eq!(shared.title, "shared");
    assert!(access.read && access.write);
    drop(first);
    let again = store::bootstrap::ensure_initialized(&data).await.unwrap();
    assert!(!again.first_start);
    assert!(again.admin_token.is_none());
    assert_eq!(again.store.list_collections(None).await.unwrap().len(), 1);
}

/// Set in the child process of [`a_killed_writer_loses_no_acknowledged_object`].
const CRASH_CHILD_ENV: &str = "ENTENTE_STORE_CRASH_CHILD_DIR";

/// The writer half of the kill test: when started by that test (the variable is set), it
/// writes envelopes forever and prints `ACK <id>` for every object reported added, after
/// `add_objects` returned. Run normally, it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child_writer() {
    let Some(dir) = std::env::var_os(CRASH_CHILD_ENV) else {
        return;
    };
    use std::io::Write;
    let store = SqliteStore::open_in_dir(&dir).unwrap();
    let c = store.list_collections(None).await.unwrap().remove(0);
    let mut n = 0u64;
    loop {
        let objs = (n..n + 50)
            .map(|i| crate::contract::indicator(i, "2020-01-01T00:00:00.000Z", TlpLevel::Clear))
            .collect();
        n += 50;
        let out = store.add_objects(&c.id, objs).await.unwrap();
        let mut stdout = std::io::stdout().lock();
        for o in out {
            if let AddResult::Added { .. } = o.result {
                writeln!(stdout, "ACK {}", o.id).unwrap();
            }
        }
        stdout.flush().unwrap();
    }
}

/// DESIGN.md: "a crash never loses an acknowledged object". A child process writes as fast
/// as it can and is killed with SIGKILL mid-stream; every object it had been told was added
/// must be in the database afterwards.
#[tokio::test]
async fn a_killed_writer_loses_no_acknowledged_object() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = SqliteStore::open_in_dir(dir.path()).unwrap();
        collection(&store).await
    };
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sqlite::crash_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_CHILD_ENV, dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (acked, child) = tokio::task::spawn_blocking(move || {
        let mut acked = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(id) = line.strip_prefix("ACK ") {
                acked.push(id.to_owned());
                if acked.len() >= 2000 {
                    // Kill while the writer is in the middle of later envelopes.
                    child.kill().unwrap();
                    break;
                }
            }
        }
        (acked, child)
    })
    .await
    .unwrap();
    let mut child = child;
    let _ = child.wait();
    assert!(
        acked.len() >= 2000,
        "the child wrote only {} objects",
        acked.len()
    );
    let store = SqliteStore::open_in_dir(dir.path()).unwrap();
    let stored: std::collections::HashSet<String> = store
        .query_objects(
            &id,
            &ObjectQuery {
                versions: vec![VersionMatch::All],
                limit: 100_000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|o| o.id)
        .collect();
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(lost.is_empty(), "{} acknowledged objects lost", lost.len());
    assert_eq!(store.log_size().await.unwrap() as usize, stored.len());
}

/// Two stores on one file (two processes, e.g. two servers or a server and an import)
/// writing to one collection at once still hand out strictly increasing date_added values:
/// the high-water mark is read inside each `BEGIN IMMEDIATE` transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_keep_date_added_strict() {
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open_in_dir(dir.path()).unwrap();
    let b = SqliteStore::open_in_dir(dir.path()).unwrap();
    let id = collection(&a).await;
    let mut tasks = Vec::new();
    for (k, s) in [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            for e in 0..20u64 {
                let objs = (0..10u64)
                    .map(|i| {
                        crate::contract::indicator(
                            k as u64 * 10_000 + e * 10 + i,
                            "2020-01-01T00:00:00.000Z",
                            TlpLevel::Clear,
                        )
                    })
                    .collect();
                s.add_objects(&id, objs).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let page = b
        .query_objects(
            &id,
            &ObjectQuery {
                versions: vec![VersionMatch::All],
                limit: 10_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 800);
    assert!(
        page.items
            .windows(2)
            .all(|w| w[0].date_added < w[1].date_added)
    );
    assert_eq!(a.log_size().await.unwrap(), 800);
    let leaves = a.log_leaves(0, 1000).await.unwrap();
    assert!(leaves.iter().enumerate().all(|(i, l)| l.index == i as u64));
}

/// `SqliteStore::scan_latest` (what `entente export` reads) hands over exactly the rows,
/// in exactly the order, of paged reads of the latest versions at TLP RED: versions added
/// out of order, a RED object, an object of another type, another collection's objects.
#[tokio::test]
async fn scan_latest_reads_what_paged_latest_versions_read() {
    use crate::contract::{indicator, indicator_json};
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in_dir(dir.path()).unwrap();
    store
        .create_api_root(&NewApiRoot {
            name: "r".into(),
            title: "R".into(),
            description: None,
        })
        .await
        .unwrap();
    let restricted = CollectionFlags {
        public_read: false,
        restricted: true,
    };
    let mut ids = Vec::new();
    for _ in 0..2 {
        let c = store
            .create_collection(&NewCollection {
                api_root: "r".into(),
                title: "c".into(),
                flags: restricted,
                ..Default::default()
            })
            .await
            .unwrap();
        ids.push(c.id);
    }
    let stamp = |d: u64| format!("2021-01-{:02}T00:00:00.000Z", d);
    // (object, day of its version, TLP), in the order added.
    let writes = [
        (1, 1, TlpLevel::Clear),
        (2, 5, TlpLevel::Red),
        (1, 9, TlpLevel::Green),
        (3, 2, TlpLevel::Clear),
        (1, 4, TlpLevel::Clear),
        (3, 1, TlpLevel::Amber),
        (4, 3, TlpLevel::Clear),
    ];
    for (n, day, tlp) in writes {
        store
            .add_objects(&ids[0], vec![indicator(n, &stamp(day), tlp)])
            .await
            .unwrap();
    }
    store
        .add_objects(&ids[1], vec![indicator(5, &stamp(1), TlpLevel::Clear)])
        .await
        .unwrap();
    let identity = r#"{"type":"identity","spec_version":"2.1","id":"identity--5ba0a3a1-4f5c-4b7e-9d1f-0c2b4e6a8d01","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"ACME","identity_class":"organization"}"#;
    let sighting = r#"{"type":"sighting","spec_version":"2.1","id":"sighting--5ba0a3a1-4f5c-4b7e-9d1f-0c2b4e6a8d02","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000001"}"#;
    for (raw, type_name, id) in [
        (
            identity,
            "identity",
            "identity--5ba0a3a1-4f5c-4b7e-9d1f-0c2b4e6a8d01",
        ),
        (
            sighting,
            "sighting",
            "sighting--5ba0a3a1-4f5c-4b7e-9d1f-0c2b4e6a8d02",
        ),
    ] {
        store
            .add_objects(
                &ids[0],
                vec![NewObject {
                    id: id.into(),
                    type_name: type_name.into(),
                    spec_version: "2.1".into(),
                    version: Some(Timestamp::parse("2020-01-01T00:00:00.000Z").unwrap()),
                    raw_json: raw.into(),
                    tlp: TlpLevel::Clear,
                    revoked: false,
                }],
            )
            .await
            .unwrap();
    }
    let types = ["indicator", "identity"];
    let mut paged = Vec::new();
    let mut next = None;
    loop {
        let page = store
            .query_objects(
                &ids[0],
                &ObjectQuery {
                    types: types.iter().map(|t| (*t).to_owned()).collect(),
                    versions: vec![VersionMatch::Last],
                    limit: 2,
                    next: next.take(),
                    max_tlp: TlpLevel::Red,
                    ..ObjectQuery::default()
                },
            )
            .await
            .unwrap();
        paged.extend(page.items.into_iter().map(|o| o.raw_json));
        match page.next {
            Some(n) if page.more => next = Some(n),
            _ => break,
        }
    }
    let mut scanned = Vec::new();
    store
        .scan_latest(&ids[0], &types, |raw| {
            scanned.push(raw.to_owned());
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(scanned, paged);
    assert_eq!(
        scanned,
        [
            indicator_json(2, &stamp(5)),
            indicator_json(1, &stamp(9)),
            indicator_json(3, &stamp(2)),
            indicator_json(4, &stamp(3)),
            identity.to_owned(),
        ],
        "newest versions in the order they were added, the sighting left out"
    );
    let mut first = Vec::new();
    store
        .scan_latest(&ids[0], &types, |raw| {
            first.push(raw.to_owned());
            std::ops::ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!(first.len(), 1, "a break ends the scan");
    assert!(matches!(
        store.scan_latest("no-such-collection", &types, |_| {
            std::ops::ControlFlow::Continue(())
        }),
        Err(StoreError::NotFound { .. })
    ));
}

/// An indicator named `name`, a fresh id per `n`.
fn named(n: u64, name: &str) -> NewObject {
    let id = format!("indicator--00000000-0000-4000-9000-{n:012}");
    NewObject {
        raw_json: format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2021-01-01T00:00:00.000Z","modified":"2021-01-01T00:00:00.000Z","name":"{name}","pattern":"[domain-name:value = '{name}.example']","pattern_type":"stix","valid_from":"2021-01-01T00:00:00Z"}}"#
        ),
        id,
        type_name: "indicator".into(),
        spec_version: "2.1".into(),
        version: Some(stix::Timestamp::parse("2021-01-01T00:00:00.000Z").unwrap()),
        tlp: TlpLevel::Green,
        revoked: false,
    }
}

/// The ids a full-text search for `text` finds in collection `c`.
async fn found(store: &dyn Store, c: &str, text: &str) -> Vec<String> {
    let q = SearchQuery {
        text: Some(text.into()),
        limit: 50,
        max_tlp: TlpLevel::Red,
        ..SearchQuery::default()
    };
    let page = store.search_objects(c, &q).await.unwrap();
    page.items.into_iter().map(|o| o.id).collect()
}

/// The full-text index lives in its own file, filled by the indexer thread: a search right
/// after a write finds it; a deleted object leaves the index, also when SQLite hands its
/// rowid to the next object; a lost index file, or one built for another store, is
/// rebuilt from the objects; and a store dropped after writing leaves the index complete.
#[tokio::test]
async fn full_text_index_follows_writes_deletes_and_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    let index_file = dir.path().join("entente-search.sqlite3");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_dir(dir.path()).unwrap());
    let c = collection(store.as_ref()).await;
    store
        .add_objects(&c, vec![named(1, "alpha"), named(2, "bravo")])
        .await
        .unwrap();
    assert_eq!(found(store.as_ref(), &c, "alpha").await, [named(1, "").id]);
    assert_eq!(found(store.as_ref(), &c, "bravo").await, [named(2, "").id]);
    let rowid_of = |id: &str| -> i64 {
        rusqlite_conn(dir.path())
            .query_row("SELECT rowid FROM objects WHERE stix_id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap()
    };
    let bravo_row = rowid_of(&named(2, "").id);
    let all = ObjectQuery {
        max_tlp: TlpLevel::Red,
        ..ObjectQuery::default()
    };
    let deleted = store
        .delete_object(&c, &named(2, "").id, &all)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert!(found(store.as_ref(), &c, "bravo").await.is_empty());
    // The newest row was deleted, so the next insert gets its rowid again.
    store
        .add_objects(&c, vec![named(3, "charlie")])
        .await
        .unwrap();
    assert_eq!(rowid_of(&named(3, "").id), bravo_row, "the rowid is reused");
    assert_eq!(
        found(store.as_ref(), &c, "charlie").await,
        [named(3, "").id]
    );
    assert!(found(store.as_ref(), &c, "bravo").await.is_empty());
    drop(store);

    // Dropped after writing: the file's mark is the newest row.
    let upto: i64 = rusqlite::Connection::open(&index_file)
        .unwrap()
        .query_row(
            "SELECT value FROM search_state WHERE key = 'upto'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(upto, bravo_row);

    // A lost index file is rebuilt.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", index_file.display()));
    }
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_dir(dir.path()).unwrap());
    assert_eq!(found(store.as_ref(), &c, "alpha").await, [named(1, "").id]);
    assert_eq!(
        found(store.as_ref(), &c, "charlie").await,
        [named(3, "").id]
    );
    assert!(found(store.as_ref(), &c, "bravo").await.is_empty());
    drop(store);

    // An index file built for another store is rebuilt, not read.
    let other = tempfile::tempdir().unwrap();
    {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_dir(other.path()).unwrap());
        let oc = collection(store.as_ref()).await;
        store
            .add_objects(&oc, vec![named(9, "zulu")])
            .await
            .unwrap();
        assert_eq!(found(store.as_ref(), &oc, "zulu").await.len(), 1);
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", index_file.display()));
    }
    std::fs::copy(other.path().join("entente-search.sqlite3"), &index_file).unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_dir(dir.path()).unwrap());
    assert_eq!(found(store.as_ref(), &c, "alpha").await, [named(1, "").id]);
    assert_eq!(
        found(store.as_ref(), &c, "charlie").await,
        [named(3, "").id]
    );
    let terms: i64 = rusqlite::Connection::open(&index_file)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM objects_fts WHERE objects_fts MATCH 'zulu'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(terms, 0, "the other store's entries are gone");
}

/// Without a search to hurry it, the indexer still catches up once writes pause
/// (`sqlite/pace.rs`): the index file's mark reaches the newest row while the store stays
/// open and nobody searches.
#[tokio::test]
async fn full_text_index_catches_up_when_writes_pause() {
    let dir = tempfile::tempdir().unwrap();
    let index_file = dir.path().join("entente-search.sqlite3");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_dir(dir.path()).unwrap());
    let c = collection(store.as_ref()).await;
    for n in 0..5 {
        store
            .add_objects(&c, vec![named(100 + n, "burst")])
            .await
            .unwrap();
    }
    let newest: i64 = rusqlite_conn(dir.path())
        .query_row("SELECT max(rowid) FROM objects", [], |r| r.get(0))
        .unwrap();
    let upto = || -> Option<i64> {
        let conn = rusqlite::Connection::open(&index_file).ok()?;
        conn.query_row(
            "SELECT value FROM search_state WHERE key = 'upto'",
            [],
            |r| r.get(0),
        )
        .ok()
    };
    // Generous: the rule asks for 200 ms of quiet; a loaded CI machine may take longer.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while upto() != Some(newest) && std::time::Instant::now() < until {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(upto(), Some(newest), "the index reached the newest row");
    drop(store);
}

/// A new file gets 8 KiB pages; a file made before, with 4 KiB pages, keeps them and works.
#[tokio::test]
async fn new_files_get_8_kib_pages_and_old_ones_keep_theirs() {
    let page_size = |dir: &std::path::Path| -> i64 {
        rusqlite_conn(dir)
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    };
    let (store, dir) = make();
    let c = collection(store.as_ref()).await;
    store
        .add_objects(&c, vec![named(1, "alpha")])
        .await
        .unwrap();
    drop(store);
    assert_eq!(page_size(dir.path()), 8192);

    let old = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite_conn(old.path());
        conn.execute_batch("PRAGMA page_size = 4096; CREATE TABLE t (x); DROP TABLE t;")
            .unwrap();
    }
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_dir(old.path()).unwrap());
    let c = collection(store.as_ref()).await;
    store
        .add_objects(&c, vec![named(2, "bravo")])
        .await
        .unwrap();
    assert_eq!(found(store.as_ref(), &c, "bravo").await, [named(2, "").id]);
    drop(store);
    assert_eq!(page_size(old.path()), 4096);
}
