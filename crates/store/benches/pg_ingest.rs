//! Ingest on PostgreSQL beside SQLite, in the same run: envelopes of 500 indicators, each
//! one `add_objects` call (one transaction), through one store and through two stores
//! (two pools, as two replicas) writing one collection at once; then the share of an
//! envelope's time spent holding the log's advisory lock, which bounds how far replicas
//! scale out (with a share `s`, writers can at best keep the lock busy `1/s` times over).
//!
//! Run: `cargo bench -p entente-store --bench pg_ingest` (PostgreSQL from
//! `ENTENTE_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`; a fresh
//! database is made and dropped). Without a reachable PostgreSQL it prints why and measures
//! nothing.
//!
//! Measured 2026-11-26 on the 2-core dev machine while other builds ran on it (so absolute
//! figures are ~10× below an idle machine; the ratios are what a same-run comparison
//! gives), PostgreSQL 15 on the same machine:
//!
//! | what                                        | per envelope of 500 | objects/s | vs SQLite |
//! |---------------------------------------------|---------------------|-----------|-----------|
//! | SQLite (`synchronous=FULL`)                 | 210 ms              | 2,380     | 1.00×     |
//! | PostgreSQL, one store                       | 134 ms              | 3,730     | 1.57×     |
//! | PostgreSQL, two stores writing at once      | 290 ms per pair     | 3,450     | 1.45×     |
//!
//! A later run (load average 21; after the UI's search columns and indexes were added and
//! the lock's round trips pipelined) gave SQLite 232 ms, PostgreSQL 194 ms (1.20×), two
//! stores 373 ms per pair (1.04× one store), the lock held 96.7% of the envelope, of which
//! COMMIT 15 ms: on a machine this loaded the run-to-run noise is ±20%.
//!
//! Two replicas ingest 0.93× what one does: no collapse, and no gain, because an envelope
//! holds the log lock for 96% of its store time (109 of 114 ms: everything after reading
//! the collection and hashing the objects, including COMMIT, runs under it). The store's
//! write path therefore scales like one writer whatever the number of replicas; replicas
//! add capacity for reads and for the server work before `add_objects` (TLS, parsing,
//! validation), which runs outside the lock.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::postgres::{LockStats, PgOptions, PgStore};
use store::sqlite::SqliteStore;
use store::{NewApiRoot, NewCollection, NewObject, Store, Timestamp, TlpLevel};

const ENVELOPE: u64 = 500;

/// One envelope of distinct indicators, numbered from `first`.
fn envelope(first: u64) -> Vec<NewObject> {
    let modified = Timestamp::parse("2024-05-01T12:00:00.000Z").expect("constant timestamp");
    (first..first + ENVELOPE)
        .map(|n| {
            let id = format!("indicator--5f6e0c2a-0000-4000-8000-{n:012}");
            let raw = format!(
                r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2024-05-01T12:00:00.000Z","modified":"2024-05-01T12:00:00.000Z","name":"bench indicator {n}","pattern":"[ipv4-addr:value = '198.51.{}.{}']","pattern_type":"stix","valid_from":"2024-05-01T12:00:00Z"}}"#,
                (n / 256) % 256,
                n % 256
            );
            NewObject {
                id,
                type_name: "indicator".into(),
                spec_version: "2.1".into(),
                version: Some(modified),
                raw_json: raw,
                tlp: TlpLevel::Green,
                revoked: false,
            }
        })
        .collect()
}

fn admin_url() -> String {
    std::env::var("ENTENTE_TEST_PG_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `url` with its database name replaced.
fn with_dbname(url: &str, db: &str) -> String {
    let (head, query) = url.split_once('?').unwrap_or((url, ""));
    let start = head.find("://").map_or(0, |i| i + 3);
    let base = head[start..]
        .find('/')
        .map_or(head, |slash| &head[..start + slash]);
    if query.is_empty() {
        format!("{base}/{db}")
    } else {
        format!("{base}/{db}?{query}")
    }
}

async fn admin(url: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let task = tokio::spawn(conn);
    client.batch_execute(sql).await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

async fn new_collection(store: &dyn Store) -> String {
    store
        .create_api_root(&NewApiRoot {
            name: "bench".into(),
            ..Default::default()
        })
        .await
        .expect("root");
    store
        .create_collection(&NewCollection {
            api_root: "bench".into(),
            title: "bench".into(),
            ..Default::default()
        })
        .await
        .expect("collection")
        .id
}

fn ingest(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let db = format!("entente_bench_{:016x}", rand::random::<u64>());
    if let Err(e) = rt.block_on(admin(&admin_url(), &format!("CREATE DATABASE {db}"))) {
        eprintln!(
            "pg_ingest: PostgreSQL is not reachable at {} ({e}); nothing measured",
            admin_url()
        );
        return;
    }
    let url = with_dbname(&admin_url(), &db);
    let options = PgOptions::default();
    let (pg_a, pg_b) = rt.block_on(async {
        let a = PgStore::open(&url, &options).await.expect("open");
        let b = PgStore::open(&url, &options).await.expect("open");
        (Arc::new(a), Arc::new(b))
    });
    let pg_collection = rt.block_on(new_collection(pg_a.as_ref()));
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open_in_dir(dir.path()).expect("store"));
    let sqlite_collection = rt.block_on(new_collection(sqlite.as_ref()));

    let mut next = 0u64;
    let mut batch = |iters: u64| -> Vec<Vec<NewObject>> {
        (0..iters)
            .map(|_| {
                let e = envelope(next);
                next += ENVELOPE;
                e
            })
            .collect()
    };
    let mut group = c.benchmark_group("pg_ingest");
    group.throughput(Throughput::Elements(ENVELOPE));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("sqlite_envelope_500", |b| {
        b.iter_custom(|iters| {
            let envelopes = batch(iters);
            let start = Instant::now();
            rt.block_on(async {
                for e in envelopes {
                    sqlite
                        .add_objects(&sqlite_collection, e)
                        .await
                        .expect("ingest");
                }
            });
            start.elapsed()
        })
    });
    let one_before = pg_a.lock_stats();
    group.bench_function("postgres_envelope_500", |b| {
        b.iter_custom(|iters| {
            let envelopes = batch(iters);
            let start = Instant::now();
            rt.block_on(async {
                for e in envelopes {
                    pg_a.add_objects(&pg_collection, e).await.expect("ingest");
                }
            });
            start.elapsed()
        })
    });
    let one_after = pg_a.lock_stats();
    // Two replicas: each iteration is one envelope through each store, at once, so the
    // figure is per pair of envelopes (1,000 objects).
    group.throughput(Throughput::Elements(2 * ENVELOPE));
    let two_before = (pg_a.lock_stats(), pg_b.lock_stats());
    group.bench_function("postgres_two_replicas_2x_envelope_500", |b| {
        b.iter_custom(|iters| {
            let envelopes = batch(2 * iters);
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            for (i, e) in envelopes.into_iter().enumerate() {
                if i % 2 == 0 { ea.push(e) } else { eb.push(e) }
            }
            let start = Instant::now();
            rt.block_on(async {
                let (a, b, c1, c2) = (
                    pg_a.clone(),
                    pg_b.clone(),
                    pg_collection.clone(),
                    pg_collection.clone(),
                );
                let ta = tokio::spawn(async move {
                    for e in ea {
                        a.add_objects(&c1, e).await.expect("ingest");
                    }
                });
                let tb = tokio::spawn(async move {
                    for e in eb {
                        b.add_objects(&c2, e).await.expect("ingest");
                    }
                });
                ta.await.expect("writer a");
                tb.await.expect("writer b");
            });
            start.elapsed()
        })
    });
    let two_after = (pg_a.lock_stats(), pg_b.lock_stats());
    group.finish();

    report("one replica", &[(one_before, one_after)]);
    report(
        "two replicas",
        &[(two_before.0, two_after.0), (two_before.1, two_after.1)],
    );

    drop((pg_a, pg_b));
    let _ = rt.block_on(admin(
        &admin_url(),
        &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    ));
}

/// Prints the lock figures between pairs of [`LockStats`] readings, summed.
fn report(label: &str, spans: &[(LockStats, LockStats)]) {
    let mut sum = LockStats::default();
    for (before, after) in spans {
        sum.transactions += after.transactions - before.transactions;
        sum.total += after.total - before.total;
        sum.waiting += after.waiting - before.waiting;
        sum.held += after.held - before.held;
        sum.commit += after.commit - before.commit;
    }
    if sum.transactions == 0 {
        return;
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3 / sum.transactions as f64;
    eprintln!(
        "pg_ingest {label}: {} envelopes, mean {:.2} ms each; holding the log lock {:.2} ms ({:.1}% of the envelope, of which COMMIT {:.2} ms); waiting for it {:.2} ms",
        sum.transactions,
        ms(sum.total),
        ms(sum.held),
        100.0 * sum.held.as_secs_f64() / sum.total.as_secs_f64().max(f64::MIN_POSITIVE),
        ms(sum.commit),
        ms(sum.waiting),
    );
}

criterion_group!(benches, ingest);
criterion_main!(benches);
