//! Single-pattern evaluation over the public matcher vectors.
//!
//! Each vector's pattern is parsed and compiled once, outside the timed loop (the OASIS
//! matcher's `Pattern` is likewise compiled once). Two loops over all vectors:
//!
//! * `load_and_evaluate`: `Observations::from_json` on the already-parsed JSON value, then
//!   `CompiledPattern::evaluate` — the same work as the reference's `Pattern.match(list)`,
//!   which takes decoded JSON and prepares its own observation model on every call;
//! * `evaluate`: evaluation alone, observations prepared beforehand.
//!
//! Criterion reports time per iteration and elements/s; one element is one evaluation, so
//! ns/eval = time per iteration ÷ vector count. Run with
//! `cargo bench -p entente-matcher --bench eval`; `scripts/bench-pattern-eval.sh` also times
//! the OASIS matcher on the same vectors and prints the ratio.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use matcher::{CompiledPattern, Observations};
use pattern::ast::StixVersion;

fn vectors() -> Vec<(CompiledPattern, serde_json::Value)> {
    // $ENTENTE_PATTERN_VECTORS names the vector folder, else $ENTENTE_SHARED/data/…, else
    // the shared/ folder beside the repository.
    let dir = std::env::var_os("ENTENTE_PATTERN_VECTORS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("ENTENTE_SHARED").map(|s| PathBuf::from(s).join("data/stix-patterns"))
        })
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/stix-patterns")
        });
    let path = dir.join("matcher_vectors.json");
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
        let ok = Observations::from_json(&v["observed_data"]).is_ok_and(|o| c.evaluate(&o).is_ok());
        if ok {
            out.push((c, v["observed_data"].clone()));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let vs = vectors();
    eprintln!("eval bench: {} vectors per iteration", vs.len());
    // Per-vector cost, for a median that the few combinatorial vectors cannot skew.
    let mut each: Vec<f64> = vs
        .iter()
        .map(|(p, json)| {
            const RUNS: u32 = 200;
            let start = std::time::Instant::now();
            for _ in 0..RUNS {
                let o = Observations::from_json(black_box(json));
                black_box(o.and_then(|o| p.evaluate(&o)).is_ok());
            }
            start.elapsed().as_nanos() as f64 / f64::from(RUNS)
        })
        .collect();
    each.sort_by(f64::total_cmp);
    if let Some(median) = each.get(each.len() / 2) {
        eprintln!("eval bench: median load+evaluate {median:.0} ns");
    }
    let prepared: Vec<Observations<'_>> = vs
        .iter()
        .filter_map(|(_, json)| Observations::from_json(json).ok())
        .collect();
    let mut g = c.benchmark_group("eval");
    g.throughput(Throughput::Elements(vs.len() as u64));
    g.bench_function("load_and_evaluate", |b| {
        b.iter(|| {
            let mut matched = 0usize;
            for (p, json) in &vs {
                let o = Observations::from_json(black_box(json));
                if o.and_then(|o| p.evaluate(&o)).is_ok_and(|m| m.is_some()) {
                    matched += 1;
                }
            }
            matched
        })
    });
    g.bench_function("evaluate", |b| {
        b.iter(|| {
            let mut matched = 0usize;
            for ((p, _), o) in vs.iter().zip(&prepared) {
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
