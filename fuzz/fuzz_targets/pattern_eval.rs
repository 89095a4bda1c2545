//! Fuzz target: a pattern and observed-data through the evaluator.
//!
//! Input layout: the first byte picks the STIX version (even: 2.1, odd: 2.0); the rest is
//! UTF-8 text split at the first NUL into the pattern and the observed-data JSON. When the
//! data part is not usable observed-data, a fixed sample (both shapes, refs, lists, binary
//! and timestamp properties, `number_observed` > 1) is used so that every parsable pattern
//! is still evaluated.
//!
//! Invariants: never panics, never hangs, never grows without bound — the evaluator's own
//! limits (here lowered to 20,000 search steps and 64 observations per binding) must turn
//! every combinatorial case into a quick answer or a clean error.

#![no_main]

use libfuzzer_sys::fuzz_target;
use matcher::{CompiledPattern, EvalOptions, Observations};
use pattern::StixVersion;

const SAMPLE: &str = r#"[
 {"type": "observed-data", "id": "observed-data--1", "first_observed": "2024-01-01T00:00:00Z",
  "last_observed": "2024-01-01T00:00:05Z", "number_observed": 3,
  "objects": {"0": {"type": "file", "name": "a.exe", "size": 1024, "hashes": {"MD5": "00"},
                    "magic_number_hex": "ffd8", "parent_directory_ref": "1",
                    "x_list": [1, 2.5, "s", null, {"k": true}]},
              "1": {"type": "directory", "path": "C:\\Windows", "contains_refs": ["0", "1", "9"]}}},
 {"type": "bundle", "id": "bundle--1", "objects": [
  {"type": "observed-data", "id": "observed-data--2", "first_observed": "2024-01-01T00:00:03Z",
   "last_observed": "2024-01-01T00:01:00Z", "number_observed": 2,
   "object_refs": ["ipv4-addr--1", "network-traffic--1", "artifact--1", "identity--1"]},
  {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "198.51.100.7"},
  {"type": "network-traffic", "id": "network-traffic--1", "dst_ref": "ipv4-addr--1",
   "dst_port": 443, "protocols": ["tcp", "tls"], "start": "2024-01-01T00:00:04.5Z"},
  {"type": "artifact", "id": "artifact--1", "payload_bin": "aGVsbG8="},
  {"type": "identity", "id": "identity--1", "name": "x"}]}
]"#;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let version = if first % 2 == 0 {
        StixVersion::V21
    } else {
        StixVersion::V20
    };
    let (pattern_text, json) = text.split_once('\0').unwrap_or((text, ""));
    let Ok(parsed) = pattern::parse(pattern_text, version) else {
        return;
    };
    let Ok(compiled) = CompiledPattern::new(&parsed) else {
        return;
    };
    let doc: Option<serde_json::Value> = serde_json::from_str(json).ok();
    let sample: serde_json::Value =
        serde_json::from_str(SAMPLE).expect("the built-in sample is JSON");
    let observations = doc
        .as_ref()
        .and_then(|d| Observations::from_json(d).ok())
        .or_else(|| Observations::from_json(&sample).ok())
        .expect("the built-in sample is valid observed-data");
    let options = EvalOptions {
        max_steps: 20_000,
        max_binding_size: 64,
    };
    if let Ok(Some(binding)) = compiled.evaluate_with(&observations, &options) {
        for e in &binding.entries {
            assert!(e.observation < observations.len());
            assert!(e.expression.end <= pattern_text.len());
        }
        let _ = binding.describe(pattern_text, &observations);
    }
});
