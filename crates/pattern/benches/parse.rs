//! Parse + validate throughput on simple and compound patterns.
//!
//! Target (DESIGN.md): at least 1,000,000 simple patterns per second on one core.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pattern::{StixVersion, validate};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let simple = "[ipv4-addr:value = '1.2.3.4']";
    let compound = "([file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' \
                    AND file:size > 1024] FOLLOWEDBY [network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8' \
                    AND network-traffic:dst_port IN (80, 443)]) WITHIN 300 SECONDS";
    let mut group = c.benchmark_group("validate");
    group.throughput(Throughput::Elements(1));
    group.bench_function("simple", |b| {
        b.iter(|| validate(black_box(simple), StixVersion::V21).is_ok())
    });
    group.bench_function("compound", |b| {
        b.iter(|| validate(black_box(compound), StixVersion::V21).is_ok())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
