//! Single-pattern evaluation over the public matcher vectors.
//!
//! Each vector's pattern is parsed and compiled and its observed-data loaded once, outside
//! the timed loop; the loop times `CompiledPattern::evaluate` over all of them, so the figure
//! per iteration divided by the vector count is ns per evaluation. Run with
//! `cargo bench -p entente-matcher --bench eval`; `scripts/bench-pattern-eval.sh` runs the
//! OASIS matcher on the same vectors and prints the ratio.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use matcher::{CompiledPattern, Observations};
use pattern::ast::StixVersion;

fn vectors() -> Vec<(CompiledPattern, Observations)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/stix-patterns/matcher_vectors.json");
    let text =
        std::fs::read_to_string(&path).expect("matcher_vectors.json (shared/ beside the repo)");
    let list: Vec<serde_json::Value> = serde_json::from_str(&text).expect("vector JSON");
    let mut out = Vec::new();
    for v in list {
        let version = match v["stix_version"].as_str() {
            Some("2.0") => StixVersion::V20,
            _ => StixVersion::V21,
        };
        let Ok(p) = pattern::parse(v["pattern"].as_str().unwrap_or_default(), version) else {
            continue;
        };
        let Ok(c) = CompiledPattern::new(&p) else {
            continue;
        };
        let Ok(o) = Observations::from_json(&v["observed_data"]) else {
            continue;
        };
        if c.evaluate(&o).is_ok() {
            out.push((c, o));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let vs = vectors();
    let mut g = c.benchmark_group("eval");
    g.throughput(Throughput::Elements(vs.len() as u64));
    g.bench_function("matcher_vectors", |b| {
        b.iter(|| {
            let mut matched = 0usize;
            for (p, o) in &vs {
                if black_box(p.evaluate(black_box(o))).is_ok_and(|m| m.is_some()) {
                    matched += 1;
                }
            }
            matched
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
