//! Resident memory per compiled indicator, compile time, and single-core events per second
//! at sizes too large for criterion's repeated runs (100,000 and 1,000,000 indicators).
//!
//! ```text
//! cargo run --release -p entente-matcher --example compile_rss -- 1000000 [EVENTS]
//! ```
//!
//! Indicators are generated lazily (so no input list is resident) in the equality-heavy mix
//! of `benches/workload/mod.rs`; resident size is read from `/proc/self/statm` before and
//! after compiling. The difference also counts memory the allocator kept from compiling's
//! temporaries, so it is an upper bound on what the matcher holds. Then EVENTS pre-parsed
//! events (default 1,000,000; 1 % carry an indicator's value) go through a `Stream` on this
//! one thread. A million distinct pre-parsed documents do not fit in any cache, so reading
//! them is mostly cache misses; the last line therefore also runs the same number of events
//! through `match_event` (no stream state) as passes over the first 4,000 documents, which
//! stay cached, and ("fresh") the same events through a new `Stream`, each chunk of 256
//! generated right before it is matched, as `entente hunt` matches a document right after
//! parsing it; only the matching is timed (this thread's CPU time).

use std::sync::Arc;
use std::time::Instant;

use matcher::compiled::{CompileOptions, CompiledMatcher, Event, Stream, StreamOptions};

#[path = "../benches/workload/mod.rs"]
mod workload;

/// CPU seconds (user + system) this process used so far, from `/proc/self/stat` (clock
/// ticks, assumed 100 per second as on every Linux configuration in use): on a shared machine
/// wall time also counts other processes' turns.
fn cpu() -> f64 {
    let text = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Nanoseconds this thread ran on a CPU so far (`/proc/thread-self/schedstat`, first field):
/// fine enough to time short stretches between which the events are generated.
fn thread_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Resident set size in bytes (Linux `/proc/self/statm`, second field, in pages).
fn rss() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let events: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);

    let before = rss().unwrap_or(0);
    let c0 = cpu();
    let t = Instant::now();
    let (m, report) = CompiledMatcher::compile(workload::indicators(n), &CompileOptions::default());
    let compile = t.elapsed();
    let compile_cpu = cpu() - c0;
    let after = rss().unwrap_or(0);
    let per = (after.saturating_sub(before)) as f64 / n as f64;
    println!(
        "indicators {n}: compiled {} (skipped {}, stateful {}, always {}), {} paths",
        report.compiled,
        report.skipped.len(),
        report.stateful,
        report.always,
        report.paths
    );
    println!(
        "compile {:.2} s wall, {compile_cpu:.2} s CPU ({:.0} indicators per CPU-second); resident +{:.1} MiB = {per:.0} bytes/indicator \
         (index structures ~{:.0}, kept texts and entries ~{:.0} bytes/indicator)",
        compile.as_secs_f64(),
        n as f64 / compile_cpu.max(0.01),
        (after.saturating_sub(before)) as f64 / (1 << 20) as f64,
        report.index_bytes as f64 / n as f64,
        report.entry_bytes as f64 / n as f64
    );

    let evs = workload::events(events, n, 0.01, 7);
    // The floor: reading each event into the evaluator's model, which every event needs.
    let c0 = cpu();
    let mut loaded = 0usize;
    for (doc, _) in &evs {
        loaded += matcher::Observations::from_json(doc).map_or(0, |o| o.len());
    }
    let load_cpu = (cpu() - c0).max(0.01);
    println!(
        "loading alone: {:.0} events per CPU-second ({loaded} observations)",
        events as f64 / load_cpu
    );
    let m = Arc::new(m);
    let mut stream = Stream::new(Arc::clone(&m), StreamOptions::default());
    let c1 = cpu();
    let t = Instant::now();
    let mut hits = 0usize;
    let mut bad = 0usize;
    for (doc, time) in &evs {
        match stream.push(&Event {
            document: doc,
            time: *time,
            source: (),
        }) {
            Ok(h) => hits += h.len(),
            Err(_) => bad += 1,
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu_secs = (cpu() - c1).max(0.01);
    let s = stream.stats();
    println!(
        "events {events}: {:.0} events per CPU-second on one thread ({cpu_secs:.2} s CPU, \
         {secs:.2} s wall), hits {hits}, bad {bad}",
        events as f64 / cpu_secs,
    );
    println!(
        "lookups {}, proposed {}, evaluated {}, confirmed {}, errors {}, recompiled {}, retained now {}",
        s.lookups,
        s.proposed,
        s.evaluated,
        s.confirmed,
        s.errors,
        s.recompiled,
        stream.retained()
    );

    // Fresh documents: events generated in chunks of 256 right before they are matched, as
    // `entente hunt` matches each document right after parsing it (so it is in cache); only
    // the matching is timed.
    let mut stream = Stream::new(Arc::clone(&m), StreamOptions::default());
    let mut source = workload::EventGen::new(n, 0.01, 7);
    let (mut ns, mut done, mut hits) = (0u64, 0usize, 0usize);
    while done < events {
        let chunk: Vec<_> = source.by_ref().take(256.min(events - done)).collect();
        let t0 = thread_ns();
        for (doc, time) in &chunk {
            hits += stream
                .push(&Event {
                    document: doc,
                    time: *time,
                    source: (),
                })
                .map_or(0, |h| h.len());
        }
        ns += thread_ns() - t0;
        done += chunk.len();
    }
    println!(
        "fresh: {:.0} events per CPU-second on one thread (Stream, {done} events matched right \
         after being generated, {:.2} s CPU), hits {hits}",
        done as f64 / (ns as f64 / 1e9).max(1e-9),
        ns as f64 / 1e9
    );

    let mut scratch = m.scratch();
    let warm = evs.len().min(4_000);
    let c2 = cpu();
    let mut done = 0usize;
    while done < events && warm > 0 {
        for (doc, time) in evs.iter().take(warm.min(events - done)) {
            let ev = Event {
                document: doc,
                time: *time,
                source: (),
            };
            let _ = std::hint::black_box(m.match_event(&ev, &mut scratch));
            done += 1;
        }
    }
    println!(
        "cached: {:.0} events per CPU-second on one thread (match_event, {done} events as \
         passes over {warm} documents)",
        done as f64 / (cpu() - c2).max(0.01)
    );
}
