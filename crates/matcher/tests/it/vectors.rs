//! The conformance vectors (`shared/data/stix-patterns/`, or `$ENTENTE_PATTERN_VECTORS`)
//! through the library.
//!
//! Every vector of `matcher_vectors.json` must give its expected match / no match, and every
//! vector of `matcher_error_vectors.json` must give an error (from the parser or the
//! evaluator). Where the reference matcher's answer contradicts STIX 2.1, the test asserts
//! the specification's answer instead: those vectors are in `tests/data/spec_overrides.json`
//! (shared with the CLI test) and in `crates/pattern/DEVIATIONS.md`, "Evaluator (matcher)".

use std::path::PathBuf;

use matcher::{CompiledPattern, Observations};
use pattern::ast::StixVersion;
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    std::env::var_os("ENTENTE_PATTERN_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/stix-patterns"),
        PathBuf::from,
    )
}

fn read(path: PathBuf) -> Vec<Value> {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("vector file is JSON")
}

/// What the specification says a vector must give.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Spec {
    /// Match (`true`) or no match (`false`).
    Match(bool),
    /// An error.
    Error,
}

/// The expected answer: the vector's, unless `spec_overrides.json` names this vector.
fn expected(v: &Value, overrides: &[Value]) -> Spec {
    let o = overrides.iter().find(|o| {
        o["pattern"] == v["pattern"]
            && o["stix_version"] == v["stix_version"]
            && o["observed_data"] == v["observed_data"]
    });
    match o.map(|o| &o["spec"]) {
        Some(Value::Bool(b)) => Spec::Match(*b),
        Some(_) => Spec::Error,
        None => Spec::Match(v["expected"].as_bool().unwrap_or(false)),
    }
}

/// Runs one vector: `Ok(matched)` or `Err(message)`.
fn run(v: &Value) -> Result<bool, String> {
    let version = match v["stix_version"].as_str() {
        Some("2.0") => StixVersion::V20,
        _ => StixVersion::V21,
    };
    let text = v["pattern"].as_str().ok_or("vector without pattern")?;
    let p = pattern::parse(text, version).map_err(|e| format!("parse: {e}"))?;
    let c = CompiledPattern::new(&p).map_err(|e| e.to_string())?;
    let o = Observations::from_json(&v["observed_data"]).map_err(|e| e.to_string())?;
    c.evaluate(&o)
        .map(|b| b.is_some())
        .map_err(|e| e.to_string())
}

#[test]
fn matcher_vectors() {
    let all = read(vectors_dir().join("matcher_vectors.json"));
    let overrides =
        read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/spec_overrides.json"));
    let mut failures = Vec::new();
    for (i, v) in all.iter().enumerate() {
        let want = expected(v, &overrides);
        match (run(v), &want) {
            (Ok(got), Spec::Match(w)) if got == *w => {}
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
    let all = read(vectors_dir().join("matcher_error_vectors.json"));
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
