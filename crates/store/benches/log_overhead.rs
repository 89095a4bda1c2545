//! What the transparency log costs on ingest (issue 6: "TAXII ingest with the log on stays
//! within 20% of ingest with it off"). The same envelopes of 500 indicators go into two
//! SQLite stores in the same run, one as every store writes (each stored version appends a
//! log leaf and its node hashes in the envelope's transaction), one opened with
//! `SqliteStore::open_unlogged_for_benchmarks`, which skips only those appends. The ratio of
//! the two is the log's overhead on the store's part of a TAXII POST.
//!
//! Run: `cargo bench -p entente-store --features bench-unlogged --bench log_overhead`.
//! It prints the criterion figures and, at the end, one line with both means and the ratio
//! measured in alternating rounds (so machine noise hits both alike).
//!
//! Measured 2026-11-26 on the idle 2-core machine, alternating rounds, per envelope of 500:
//!
//! | store                                                | log on   | log off  | on/off |
//! |------------------------------------------------------|----------|----------|--------|
//! | with the `log_leaves_by_object` lookup index (before) | 39.6 ms  | 21.4 ms  | 1.85   |
//! | leaf index in the `objects` row (migration 5), run 1  | 25.4 ms  | 23.4 ms  | 1.08   |
//! | the same, run 2                                       | 24.3 ms  | 21.2 ms  | 1.15   |
//!
//! The random 32-byte keys of the old lookup index put nearly every object's entry on
//! another B-tree page, each written to the WAL at commit; the row's own column costs
//! nothing extra. Read the alternating line, not criterion's pair: whichever of the two
//! criterion benchmarks runs first in the process is ~2x slower (checked by swapping them:
//! log off first gave 41.5 ms against log on 22.5 ms), so that pair measures the order.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use store::sqlite::SqliteStore;
use store::{NewApiRoot, NewCollection, NewObject, Store, Timestamp, TlpLevel};

const ENVELOPE: u64 = 500;

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
                tlp: TlpLevel::Clear,
                revoked: false,
            }
        })
        .collect()
}

struct Target {
    store: Arc<dyn Store>,
    collection: String,
    next: u64,
    _dir: tempfile::TempDir,
}

fn target(rt: &tokio::runtime::Runtime, logged: bool) -> Target {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(store::sqlite::DB_FILE);
    let store: Arc<dyn Store> = Arc::new(if logged {
        SqliteStore::open(&path).expect("store")
    } else {
        SqliteStore::open_unlogged_for_benchmarks(&path).expect("store")
    });
    let collection = rt.block_on(async {
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
    });
    Target {
        store,
        collection,
        next: 0,
        _dir: dir,
    }
}

fn ingest_envelopes(rt: &tokio::runtime::Runtime, t: &mut Target, n: u64) -> Duration {
    let envelopes: Vec<_> = (0..n)
        .map(|_| {
            let e = envelope(t.next);
            t.next += ENVELOPE;
            e
        })
        .collect();
    let start = Instant::now();
    rt.block_on(async {
        for e in envelopes {
            t.store.add_objects(&t.collection, e).await.expect("ingest");
        }
    });
    start.elapsed()
}

fn log_overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let mut logged = target(&rt, true);
    let mut unlogged = target(&rt, false);
    // Warm both stores first: whichever store is written first in the process is ~2x slower
    // for a while (files growing from nothing), which would otherwise land on one side.
    ingest_envelopes(&rt, &mut logged, 40);
    ingest_envelopes(&rt, &mut unlogged, 40);
    let mut group = c.benchmark_group("log_overhead");
    group.throughput(Throughput::Elements(ENVELOPE));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("envelope_500_log_on", |b| {
        b.iter_custom(|iters| ingest_envelopes(&rt, &mut logged, iters))
    });
    group.bench_function("envelope_500_log_off", |b| {
        b.iter_custom(|iters| ingest_envelopes(&rt, &mut unlogged, iters))
    });
    group.finish();
    // Alternating rounds of 5 envelopes each, so a noisy neighbour hits both alike; the
    // stores grow alike too.
    let (mut on, mut off) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..40 {
        on += ingest_envelopes(&rt, &mut logged, 5);
        off += ingest_envelopes(&rt, &mut unlogged, 5);
    }
    println!(
        "log_overhead alternating: log on {:.2} ms, log off {:.2} ms per envelope of {ENVELOPE}; on/off = {:.3}",
        on.as_secs_f64() * 1e3 / 200.0,
        off.as_secs_f64() * 1e3 / 200.0,
        on.as_secs_f64() / off.as_secs_f64()
    );
}

criterion_group!(benches, log_overhead);
criterion_main!(benches);
