//! The public conformance vectors (`shared/data/stix-patterns/`) through the library.
//!
//! Every vector of `matcher_vectors.json` must give its expected match / no match, and every
//! vector of `matcher_error_vectors.json` must give an error (from the parser or the
//! evaluator). Where the reference matcher's answer contradicts STIX 2.1, the test asserts
//! the specification's answer instead; those vectors are listed in [`SPEC_OVERRIDES`] and in
//! `crates/pattern/DEVIATIONS.md` ("Evaluator (matcher)").

use std::path::PathBuf;

use matcher::{CompiledPattern, Observations};
use pattern::ast::StixVersion;
use serde_json::Value;

/// What the specification says a vector must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    /// Match (`true`) or no match (`false`).
    Match(bool),
    /// An error: the pattern is invalid.
    Error,
}

/// Vectors whose expected value the specification overrides: (pattern, STIX version, index of
/// the vector among those with that pattern and version, the spec's answer, the deciding
/// rule). Each is listed in `crates/pattern/DEVIATIONS.md`.
pub const SPEC_OVERRIDES: &[(&str, &str, usize, Spec, &str)] = &[
    (
        "[person:age < 20] REPEATS 2 TIMES REPEATS 2 TIMES",
        "2.1",
        0,
        Spec::Error,
        "§9.5.1: an Observation Expression MUST NOT have more than one Qualifier of a \
         particular type (the parser rejects it)",
    ),
    (
        "[person:name > 'aaron'] REPEATS 5 TIMES WITHIN 1 SECONDS",
        "2.1",
        0,
        Spec::Match(false),
        "§9.5.1 WITHIN: the latest timestamp MUST NOT be equal to the earliest plus the \
         window; the five observations span exactly 1 s",
    ),
    (
        "[person:name > 'aaron'] REPEATS 5 TIMES WITHIN 1 SECONDS",
        "2.0",
        0,
        Spec::Match(false),
        "§9.5.1 WITHIN, as above",
    ),
    (
        "([person:name='alice'] AND [person:name='bob']) WITHIN 2 SECONDS",
        "2.1",
        1,
        Spec::Match(false),
        "§9.5.1 WITHIN: windows [0 s, 1 s] and [3 s, 4 s] are at least 2 s apart, and \
         2 s is not within 2 SECONDS",
    ),
    (
        "([person:name='alice'] AND [person:name='bob']) WITHIN 2 SECONDS",
        "2.0",
        1,
        Spec::Match(false),
        "§9.5.1 WITHIN, as above",
    ),
];

fn data(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/stix-patterns")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("vector file is JSON")
}

fn version(v: &Value) -> StixVersion {
    match v["stix_version"].as_str() {
        Some("2.0") => StixVersion::V20,
        _ => StixVersion::V21,
    }
}

/// Runs one vector: `Ok(matched)` or `Err(message)`.
fn run(v: &Value) -> Result<bool, String> {
    let text = v["pattern"].as_str().ok_or("vector without pattern")?;
    let p = pattern::parse(text, version(v)).map_err(|e| format!("parse: {e}"))?;
    let c = CompiledPattern::new(&p).map_err(|e| e.to_string())?;
    let o = Observations::from_json(&v["observed_data"]).map_err(|e| e.to_string())?;
    c.evaluate(&o)
        .map(|b| b.is_some())
        .map_err(|e| e.to_string())
}

/// The expected answer after spec overrides.
fn expected(v: &Value, all: &[Value], i: usize) -> Spec {
    let pat = v["pattern"].as_str().unwrap_or_default();
    let ver = v["stix_version"].as_str().unwrap_or_default();
    let nth = all[..i]
        .iter()
        .filter(|w| w["pattern"] == v["pattern"] && w["stix_version"] == v["stix_version"])
        .count();
    SPEC_OVERRIDES
        .iter()
        .find(|(p, vv, n, _, _)| *p == pat && *vv == ver && *n == nth)
        .map_or_else(
            || Spec::Match(v["expected"].as_bool().unwrap_or(false)),
            |o| o.3,
        )
}

#[test]
fn matcher_vectors() {
    let all = data("matcher_vectors.json");
    let mut failures = Vec::new();
    for (i, v) in all.iter().enumerate() {
        let want = expected(v, &all, i);
        match (run(v), want) {
            (Ok(got), Spec::Match(w)) if got == w => {}
            (Err(_), Spec::Error) => {}
            (other, _) => failures.push(format!(
                "#{i} [{}] {} -> {other:?}, expected {want:?} ({})",
                v["stix_version"], v["pattern"], v["source"]
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn matcher_error_vectors() {
    let all = data("matcher_error_vectors.json");
    let mut failures = Vec::new();
    for (i, v) in all.iter().enumerate() {
        if let Ok(got) = run(v) {
            failures.push(format!(
                "#{i} [{}] {} -> Ok({got}), expected an error ({})",
                v["stix_version"], v["pattern"], v["reference_message"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
