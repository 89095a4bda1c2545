//! Fuzz target: arbitrary bytes through the `feeds` crate's IOC list reader (plain and CSV)
//! and MISP event mapper.
//!
//! The first byte picks the layout (plain, CSV, auto with a `.csv` or `.txt` name) and
//! whether the rest goes to the MISP mapper, wrapped in an event skeleton so the mapper gets
//! past the envelope. Invariants beyond "never panics": every data line is accounted for
//! (accepted + duplicates + refused = non-blank, non-comment lines, except a CSV header),
//! refusals carry line numbers within the input, and every emitted object is JSON whose id
//! is what the mapper reports.

#![no_main]

use feeds::ioc::{Format, ListImporter, Options};
use feeds::misp::FeedMapper;
use feeds::Origin;
use libfuzzer_sys::fuzz_target;

fn check_objects(objects: &[feeds::Object]) {
    for o in objects {
        let v: serde_json::Value = serde_json::from_str(&o.json).expect("emitted JSON parses");
        assert_eq!(v["id"].as_str(), Some(o.id.as_str()));
        assert_eq!(v["type"].as_str(), Some(o.type_name));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    if pick & 0x80 != 0 {
        let mut event = br#"{"Event":{"uuid":"3f1c6a2e-5b7d-4e8a-9c0f-1a2b3c4d5e6f","date":"2024-03-01","Orgc":{"name":"x"},"Attribute":["#.to_vec();
        event.extend_from_slice(rest);
        event.extend_from_slice(b"]}}");
        for bytes in [rest, &event[..]] {
            if let Ok(m) = FeedMapper::new().map_event(bytes) {
                check_objects(&m.objects);
            }
        }
        return;
    }
    let (format, name) = match pick % 4 {
        0 => (Format::Plain, "list.txt"),
        1 => (Format::Csv, "list.csv"),
        2 => (Format::Auto, "list.csv"),
        _ => (Format::Auto, "list.txt"),
    };
    let options = Options {
        format,
        ..Options::default()
    };
    let m = ListImporter::new().import(rest, name, &options);
    check_objects(&m.objects);
    let text = String::from_utf8_lossy(rest);
    let total = text.lines().count() as u64;
    for r in &m.refused {
        if let Origin::Line(n) = r.origin {
            assert!(n >= 1 && n <= total.max(1), "line {n} of {total}");
        }
    }
    let data_lines = text
        .lines()
        .map(|l| l.trim().trim_start_matches('\u{feff}'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count() as u64;
    let accounted = m.accepted + m.duplicates + m.refused.len() as u64;
    // A CSV header line is a data line to the count above but no item.
    assert!(
        accounted == data_lines || accounted + 1 == data_lines,
        "{accounted} accounted for, {data_lines} data lines"
    );
});
