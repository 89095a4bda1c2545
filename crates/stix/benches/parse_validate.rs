//! Throughput of parsing and validating the MITRE ATT&CK Mobile bundle (STIX 2.1,
//! ~2,100 objects), reported in bytes per second.
//!
//! The bundle is decompressed once in setup; each iteration parses the whole document
//! and validates every object, as the server does for an ingested envelope.

use std::io::Read;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stix::{ValidateOptions, parse_document, validate_document};

fn bundle() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/attack-stix21/mobile-attack-17.1.json.gz");
    let gz = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    out
}

fn bench(c: &mut Criterion) {
    let input = bundle();
    let opts = ValidateOptions::default();
    let mut group = c.benchmark_group("attack-mobile");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| parse_document(std::hint::black_box(&input)).map(|o| o.len()))
    });
    let objs = parse_document(&input).unwrap_or_default();
    group.bench_function("validate", |b| {
        b.iter(|| validate_document(std::hint::black_box(&objs), &opts).len())
    });
    group.bench_function("parse+validate", |b| {
        b.iter(|| {
            let objs = parse_document(std::hint::black_box(&input)).unwrap_or_default();
            validate_document(&objs, &opts).len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
