//! Throughput of parsing and validating the MITRE ATT&CK Mobile bundle (STIX 2.1,
//! 2,148 objects, 4.0 MB), reported in bytes per second.
//!
//! The bundle is decompressed once in setup; each iteration parses the whole document
//! and validates every object, as the server does for an ingested envelope.
//!
//! Two clocks: wall time (criterion's default), and the benchmark thread's own CPU time
//! read from `/proc/thread-self/schedstat`. The second one is what to compare across runs
//! on a shared machine: wall time there mostly measures how many other processes ran.
//!
//! Measured 2026-11-26 (`cargo bench -p entente-stix`, 2 shared cores, load average ~12,
//! three runs): parse+validate 19-24 ms of CPU per run = 160-200 MiB per CPU second;
//! wall clock 59-62 MiB/s, i.e. mostly waiting for the CPU.

use std::io::Read;
use std::path::PathBuf;

use criterion::measurement::{Measurement, ValueFormatter};
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

fn parse_and_validate(input: &[u8], opts: &ValidateOptions<'_>) -> usize {
    let objs = parse_document(std::hint::black_box(input)).unwrap_or_default();
    validate_document(&objs, opts).len() + objs.len()
}

fn wall(c: &mut Criterion) {
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
        b.iter(|| parse_and_validate(&input, &opts))
    });
    group.finish();
}

fn cpu(c: &mut Criterion<ThreadCpuTime>) {
    let input = bundle();
    let opts = ValidateOptions::default();
    let mut group = c.benchmark_group("attack-mobile-cpu-time");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("parse+validate", |b| {
        b.iter(|| parse_and_validate(&input, &opts))
    });
    group.finish();
}

/// CPU time of the calling thread in nanoseconds (first field of
/// `/proc/thread-self/schedstat`), or 0 where that file does not exist.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|f| f.parse().ok()))
        .unwrap_or(0)
}

/// Criterion measurement of the benchmark thread's CPU time.
struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NanosFormatter
    }
}

/// Formats nanoseconds of CPU time, and bytes per CPU second.
struct NanosFormatter;

impl ValueFormatter for NanosFormatter {
    fn scale_values(&self, _typical: f64, values: &mut [f64]) -> &'static str {
        values.iter_mut().for_each(|v| *v /= 1e6);
        "ms (cpu)"
    }
    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let bytes = match *t {
            Throughput::Bytes(b)
            | Throughput::BytesDecimal(b)
            | Throughput::ElementsAndBytes { bytes: b, .. } => b as f64,
            Throughput::Bits(b) => b as f64 / 8.0,
            Throughput::Elements(e) => e as f64,
        };
        values
            .iter_mut()
            .for_each(|v| *v = bytes * 1e9 / v.max(1.0) / (1024.0 * 1024.0));
        "MiB/s (cpu)"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

criterion_group!(wall_clock, wall);
criterion_group! {
    name = cpu_clock;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = cpu
}
criterion_main!(wall_clock, cpu_clock);
