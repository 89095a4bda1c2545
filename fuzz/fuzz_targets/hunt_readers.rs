//! Fuzz target: arbitrary bytes as the lines of an input, through every hunt reader.
//!
//! The first byte picks a prefix that steers the input toward one format (a Zeek TSV header,
//! a Zeek JSON or EVE record shape, a STIX bundle, or nothing); the rest is the input, read
//! by every reader (`auto`, `zeek`, `eve`, `stix`, and `ndjson` with a mapping). Invariants
//! beyond "never panics": every event's observation loads in the matcher (the document the
//! readers build is always valid observed-data), every bad line has a line number within
//! the input, and reading never stops early except through an input error.

#![no_main]

use std::sync::Arc;

use hunt::reader::mapped::Mapping;
use hunt::{Format, Reader};
use libfuzzer_sys::fuzz_target;

const PREFIXES: &[&[u8]] = &[
    b"",
    b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n#types\ttime\taddr\tport\taddr\tport\tstring\tvector[string]\n",
    b"{\"_path\":\"http\",\"ts\":1.5,\"uid\":\"C\",\"id.orig_h\":\"10.0.0.1\",\"host\":\"a.example\",\"uri\":\"/\",\"method\":\"GET\"}\n",
    b"{\"timestamp\":\"2021-06-06T15:59:46.457984+0200\",\"event_type\":\"dns\",\"src_ip\":\"::1\",\"dns\":{\"rrname\":\"x.example\"}}\n",
    b"{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[]}\n",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut input = PREFIXES[pick as usize % PREFIXES.len()].to_vec();
    input.extend_from_slice(rest);
    let lines = input.split(|b| *b == b'\n').count() as u64;
    let mapping = Arc::new(
        Mapping::parse(r#"{"time":"ts","fields":{"a":"ipv4-addr:value","b.c":"domain-name:value","h":"file:hashes.'SHA-256'","u":"url:value"}}"#)
            .expect("the fixed mapping parses"),
    );
    for (format, mapping) in [
        (Format::Auto, None),
        (Format::Zeek, None),
        (Format::Eve, None),
        (Format::Stix, None),
        (Format::Ndjson, Some(mapping.clone())),
        (Format::Auto, Some(mapping)),
    ] {
        let buf = hunt::input::from_reader(Box::new(std::io::Cursor::new(input.clone())))
            .expect("reading from memory");
        let mut reader = Reader::new("fuzz.log", buf, format, mapping);
        loop {
            match reader.next_item() {
                Ok(Some(Ok(event))) => {
                    assert!(event.source.line >= 1 && event.source.line <= lines);
                    if let Err(e) = event.observations() {
                        panic!("reader built unusable observed-data: {e}\n{}", event.observation);
                    }
                }
                Ok(Some(Err(bad))) => {
                    assert!(bad.source.line >= 1 && bad.source.line <= lines);
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
});
