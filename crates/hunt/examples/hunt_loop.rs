//! The event loop of `entente hunt` alone, timed in CPU time: the indicators are loaded and
//! compiled once, then the input is hunted `PASSES` times (a reader, the quiet filter and a
//! [`hunt::hunt::Hunter`] per pass, alerts serialised into a sink), and each pass prints its
//! events per CPU-second of this thread. Startup no longer has to be subtracted from a whole
//! run, which on a loaded machine is the noisier figure (`scripts/bench-hunt.sh` does that).
//!
//! ```text
//! cargo run --release -p entente-hunt --example hunt_loop -- INDICATORS INPUT [PASSES]
//! ```
//!
//! Thread CPU time is read from `/proc/thread-self/schedstat` (Linux); elsewhere only wall
//! time is printed. The allocator is the `entente` binary's (mimalloc, see
//! `crates/cli/src/main.rs`), so that the 1 % of lines parsed whole cost what they cost there.

use std::time::Instant;

use anyhow::{Context, Result};
use hunt::engine::Compiled;
use hunt::hunt::Hunter;
use hunt::reader::{Format, Reader};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Nanoseconds this thread has run, when the kernel says.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, indicators, input, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: hunt_loop INDICATORS INPUT [PASSES]");
    };
    let passes: u32 = match rest.first() {
        Some(p) => p.parse().context("PASSES")?,
        None => 1,
    };
    let bytes = std::fs::read(indicators).with_context(|| format!("reading {indicators}"))?;
    let cpu0 = thread_cpu_ns();
    let (mut engine, _) = Compiled::load(&bytes, indicators, None)?;
    drop(bytes);
    if let (Some(a), Some(b)) = (cpu0, thread_cpu_ns()) {
        eprintln!("load: {:.2} s CPU", (b - a) as f64 / 1e9);
    }
    for pass in 1..=passes {
        let mut hunter = Hunter::new(&mut engine);
        let mut reader = Reader::open(input.as_ref(), Format::Stix, None)?;
        reader.set_quiet_filter(hunter.quiet_filter());
        let mut sink = std::io::sink();
        let (wall, cpu) = (Instant::now(), thread_cpu_ns());
        while let Some(item) = reader.next_item()? {
            match item {
                Ok(event) => {
                    hunter.event(&event, &mut sink)?;
                }
                Err(bad) => hunter.bad_line(&bad),
            }
        }
        let wall = wall.elapsed().as_secs_f64();
        let stats = hunter.stats();
        let per_cpu = match (cpu, thread_cpu_ns()) {
            (Some(a), Some(b)) => {
                let s = (b - a) as f64 / 1e9;
                format!(
                    "{s:.3} s CPU, {:.0} events per CPU-second",
                    stats.events as f64 / s
                )
            }
            _ => "CPU time unknown".into(),
        };
        println!(
            "pass {pass}: {} events, {} bad lines, {} alerts; {wall:.3} s wall, {per_cpu}",
            stats.events, stats.bad_lines, stats.alerts
        );
    }
    Ok(())
}
