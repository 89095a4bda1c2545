//! `entente pattern check` through the real binary: every public validator vector, exit
//! statuses, the caret rendering and the JSON form.

use assert_cmd::Command;
use predicates::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;

fn entente() -> Command {
    Command::cargo_bin("entente").expect("the entente binary is built for integration tests")
}

#[derive(Deserialize)]
struct Vector {
    pattern: String,
    valid: bool,
    stix_version: String,
}

/// Vectors where the reference validator contradicts the spec; entente gives the spec's
/// answer. Kept in step with `crates/pattern/DEVIATIONS.md`.
const SPEC_OVERRIDES: &[(&str, bool, &str)] = &[
    ("[x:created = t'2023-02-29T12:00:00Z']", false, "D1"),
    ("[x:created = t'2024-02-30T12:00:00Z']", false, "D1"),
    ("[x:created = t'2024-04-31T12:00:00Z']", false, "D1"),
];

fn vectors_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("ENTENTE_PATTERN_VECTORS") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/stix-patterns")
}

#[test]
fn every_validator_vector() {
    let path = vectors_dir().join("validator_vectors.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let vectors: Vec<Vector> = serde_json::from_str(&text).expect("vector file parses");
    let mut failures = Vec::new();
    for v in &vectors {
        let want = SPEC_OVERRIDES
            .iter()
            .find(|(p, _, _)| *p == v.pattern)
            .map_or(v.valid, |(_, valid, _)| *valid);
        let out = entente()
            .args(["pattern", "check", "--stix-version", &v.stix_version, "--"])
            .arg(&v.pattern)
            .output()
            .expect("run entente");
        let code = out.status.code();
        let expected_code = if want { 0 } else { 1 };
        if code != Some(expected_code) {
            failures.push(format!(
                "{} {:?}: want exit {expected_code}, got {code:?}: {}",
                v.stix_version,
                v.pattern,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn valid_prints_valid() {
    entente()
        .args(["pattern", "check", "[ipv4-addr:value = '198.51.100.1']"])
        .assert()
        .code(0)
        .stdout("valid\n");
}

#[test]
fn invalid_prints_caret_under_the_span() {
    entente()
        .args(["pattern", "check", "[file:size = 01]"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "[file:size = 01]\n             ^^\nerror[invalid_number]",
        ));
}

#[test]
fn json_form() {
    let out = entente()
        .args([
            "pattern",
            "check",
            "--format",
            "json",
            "[x:a = 1] REPEATS 0 TIMES",
        ])
        .output()
        .expect("run entente");
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["valid"], false);
    let error = &report["errors"][0];
    assert_eq!(error["code"], "invalid_qualifier_value");
    assert_eq!(error["span"]["start"], 10);
    assert_eq!(error["span"]["end"], 25);
    assert_eq!(error["line"], 1);
    assert_eq!(error["column"], 11);

    let out = entente()
        .args([
            "pattern",
            "check",
            "--format",
            "json",
            "--stix-version",
            "2.0",
        ])
        .arg("[x:a = 1] START '2024-01-01T00:00:00Z' STOP '2024-02-01T00:00:00Z'")
        .output()
        .expect("run entente");
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["valid"], true);
}

#[test]
fn usage_errors_exit_2() {
    entente()
        .args(["pattern", "check", "--stix-version", "3.0", "[x:a = 1]"])
        .assert()
        .code(2);
    entente().args(["pattern", "check"]).assert().code(2);
}
