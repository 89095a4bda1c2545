//! The compiled multi-indicator matcher: compile time, and events per second through a
//! [`Stream`] (what `entente hunt` runs), at 10,000 and 100,000 indicators of the
//! equality-heavy mix of `shared/bench/pattern_bench_gen.py` (see `workload/mod.rs`), over
//! pre-parsed events of which 1 % carry an indicator's value (`stream_events`: 20,000 documents
//! parsed up front, mostly out of cache; `stream_fresh`: each chunk of 256 generated right
//! before it is matched, as `entente hunt` matches what it just parsed).
//!
//! One element is one event (or, for `compile`, one indicator). Run with
//! `cargo bench -p entente-matcher --bench compiled`. The 1,000,000-indicator case and the
//! resident size per indicator are measured by `examples/compile_rss.rs`, which is too heavy
//! for criterion's repeated runs.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use matcher::compiled::{CompileOptions, CompiledMatcher, Event, Stream, StreamOptions};

mod workload;

const EVENTS: usize = 20_000;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("compiled");
    g.sample_size(10);
    for n in [10_000u64, 100_000] {
        g.throughput(Throughput::Elements(n));
        g.bench_function(BenchmarkId::new("compile", n), |b| {
            b.iter(|| {
                black_box(CompiledMatcher::compile(
                    workload::indicators(n),
                    &CompileOptions::default(),
                ))
            })
        });
        let (m, _) = CompiledMatcher::compile(workload::indicators(n), &CompileOptions::default());
        let m = Arc::new(m);
        let events = workload::events(EVENTS, n, 0.01, 7);
        g.throughput(Throughput::Elements(EVENTS as u64));
        g.bench_function(BenchmarkId::new("stream_events", n), |b| {
            let mut stream = Stream::new(Arc::clone(&m), StreamOptions::default());
            b.iter(|| {
                let mut hits = 0usize;
                for (doc, time) in &events {
                    let ev = Event {
                        document: doc,
                        time: *time,
                        source: (),
                    };
                    hits += stream.push(&ev).map_or(0, |h| h.len());
                }
                black_box(hits)
            })
        });
        // Fresh documents: each chunk of 256 generated right before it is matched (as
        // `entente hunt` matches a document right after parsing it); only matching is timed.
        g.bench_function(BenchmarkId::new("stream_fresh", n), |b| {
            let mut stream = Stream::new(Arc::clone(&m), StreamOptions::default());
            let mut source = workload::EventGen::new(n, 0.01, 7);
            b.iter_custom(|iters| {
                let mut spent = std::time::Duration::ZERO;
                for _ in 0..iters {
                    let mut left = EVENTS;
                    while left > 0 {
                        let chunk: Vec<_> = source.by_ref().take(left.min(256)).collect();
                        left -= chunk.len();
                        let t = std::time::Instant::now();
                        let mut hits = 0usize;
                        for (doc, time) in &chunk {
                            let ev = Event {
                                document: doc,
                                time: *time,
                                source: (),
                            };
                            hits += stream.push(&ev).map_or(0, |h| h.len());
                        }
                        spent += t.elapsed();
                        black_box(hits);
                    }
                }
                spent
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
