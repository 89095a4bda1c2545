//! The export pipeline on one STIX file without the CLI around it: parse, select, write
//! Zeek Intel and Suricata datasets to memory, with the time of each step. For profiling
//! and for `scripts/bench-export.sh`'s breakdown; the figures of record come from the real
//! `entente export` in that script.
//!
//! ```sh
//! cargo run --release -p entente-sensors --example export_file -- indicators.ndjson
//! ```

use std::time::Instant;

use sensors::select::{LinkStyle, select};
use sensors::suricata::{Datasets, Set};
use sensors::zeek;

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: export_file FILE"))?;
    let t = Instant::now();
    let bytes = std::fs::read(&path)?;
    let read = t.elapsed();
    let t = Instant::now();
    let objects = sensors::parse_records(&bytes).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    let parsed = t.elapsed();
    let t = Instant::now();
    let mut selected = select(&objects, jiff::Timestamp::now());
    let s = selected.selection(&LinkStyle::StixId);
    let selected = t.elapsed();
    let t = Instant::now();
    let mut zeek_out = Vec::with_capacity(bytes.len() / 3);
    zeek::write(&s.exported, &mut zeek_out)?;
    let zeek_time = t.elapsed();
    let t = Instant::now();
    let d = Datasets::build(s.exported.iter().flat_map(|e| &e.values));
    let mut suricata_bytes = d.rules(1_980_000).len();
    for set in Set::ALL {
        suricata_bytes += d.lines(set).map(|l| l.len() + 1).sum::<usize>();
    }
    let suricata_time = t.elapsed();
    println!(
        "{} objects, {} exported indicators, {} values\n\
         read {read:.2?}, parse {parsed:.2?}, select {selected:.2?}, \
         zeek {zeek_time:.2?} ({} bytes), suricata {suricata_time:.2?} ({suricata_bytes} bytes)",
        objects.len(),
        s.counts.exported,
        s.counts.values,
        zeek_out.len()
    );
    Ok(())
}
