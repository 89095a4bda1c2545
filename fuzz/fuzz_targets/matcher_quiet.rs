//! Fuzz target: arbitrary bytes through `CompiledMatcher::quiet_bytes` (what `entente hunt`
//! calls on a line before it knows the line is UTF-8) and, when they are UTF-8, through
//! `quiet_text`: the scan that lets hunt skip parsing a STIX line.
//!
//! The first byte picks a prefix that steers the input toward a generated bundle line; the
//! rest is appended, invalid UTF-8 included. Invariants beyond "never panics": the scan
//! vouches only for UTF-8; both entry points agree on UTF-8 text; and whenever the scan
//! vouches for a text, the full path agrees — serde_json parses it, the evaluator's model
//! loads it with the same earliest `first_observed`, and `match_event` finds no hit.

#![no_main]

use libfuzzer_sys::fuzz_target;
use matcher::compiled::{CompileOptions, CompiledMatcher, Event, Indicator};

const PREFIXES: &[&str] = &[
    "",
    r#"{"type":"bundle","id":"bundle--1","objects":[{"type":"observed-data","id":"observed-data--1","first_observed":"2024-03-01T00:00:00.298Z","last_observed":"2024-03-01T00:00:00.298Z","number_observed":1,"object_refs":["ipv4-addr--1","network-traffic--1"]},{"type":"ipv4-addr","id":"ipv4-addr--1","value":"10.0.0."#,
    r#"{"type":"observed-data","id":"observed-data--1","first_observed":"2024-03-01T00:00:00Z","last_observed":"2024-03-01T00:00:00Z","number_observed":1,"object_refs":[]"#,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = PREFIXES[pick as usize % PREFIXES.len()].as_bytes().to_vec();
    bytes.extend_from_slice(rest);
    let (m, _) = CompiledMatcher::compile(
        [
            Indicator::new("indicator--1", "[ipv4-addr:value = '10.0.0.9']"),
            Indicator::new(
                "indicator--2",
                "[network-traffic:dst_ref.value = '10.0.0.7']",
            ),
            Indicator::new("indicator--3", "[network-traffic:dst_port = 4444]"),
            Indicator::new("indicator--4", "[file:hashes.'SHA-256' = 'aa']"),
            Indicator::new("indicator--5", "[domain-name:value LIKE '%.evil']"),
            Indicator::new("indicator--6", "[ipv4-addr:value ISSUBSET '10.0.1.0/24']"),
        ],
        &CompileOptions::default(),
    );
    let mut scratch = m.scratch();
    let from_bytes = m.quiet_bytes(&bytes, &mut scratch);
    let Ok(text) = std::str::from_utf8(&bytes) else {
        assert!(
            from_bytes.is_none(),
            "the scan vouched for bytes that are not UTF-8"
        );
        return;
    };
    let from_text = m.quiet_text(text, &mut scratch);
    assert_eq!(
        from_bytes.as_ref().map(|q| q.earliest()),
        from_text.as_ref().map(|q| q.earliest()),
        "quiet_bytes and quiet_text disagree: {text}"
    );
    let Some(quiet) = from_text else {
        return;
    };
    let doc: serde_json::Value = serde_json::from_str(text).expect("vouched text parses");
    let obs = matcher::Observations::from_json(&doc).expect("vouched document loads");
    let earliest = obs.iter().map(|o| o.first_observed).min();
    assert_eq!(earliest, Some(quiet.earliest()));
    let hits = m
        .match_event(
            &Event {
                document: &doc,
                time: quiet.earliest(),
                source: (),
            },
            &mut scratch,
        )
        .expect("vouched document matches");
    assert!(hits.is_empty(), "vouched text has hits: {text}");
});
