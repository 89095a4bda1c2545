//! `entente pattern match` through the real binary: every public matcher vector (match →
//! exit 0, no match → exit 1) and every error vector (exit 2), plus the output forms.
//!
//! Vectors come from `shared/data/stix-patterns/` or `$ENTENTE_PATTERN_VECTORS`. Where the
//! reference matcher contradicts STIX 2.1, the specification's answer is asserted; those
//! vectors are listed in `crates/matcher/tests/data/spec_overrides.json` and in
//! `crates/pattern/DEVIATIONS.md`, "Evaluator (matcher)".

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn entente() -> Command {
    Command::cargo_bin("entente").expect("the entente binary is built for integration tests")
}

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

fn overrides() -> Vec<Value> {
    read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../matcher/tests/data/spec_overrides.json"),
    )
}

/// Runs the binary on one vector and returns its exit code.
fn exit_code(dir: &tempfile::TempDir, i: usize, v: &Value) -> i32 {
    let file = dir.path().join(format!("v{i}.json"));
    std::fs::write(&file, v["observed_data"].to_string()).expect("write vector data");
    let out = entente()
        .args(["pattern", "match", "--stix-version"])
        .arg(v["stix_version"].as_str().unwrap_or("2.1"))
        .arg(v["pattern"].as_str().unwrap_or_default())
        .arg(&file)
        .output()
        .expect("run entente");
    out.status.code().unwrap_or(-1)
}

#[test]
fn every_matcher_vector() {
    let all = read(vectors_dir().join("matcher_vectors.json"));
    let overrides = overrides();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for (i, v) in all.iter().enumerate() {
        let o = overrides.iter().find(|o| {
            o["pattern"] == v["pattern"]
                && o["stix_version"] == v["stix_version"]
                && o["observed_data"] == v["observed_data"]
        });
        let want = match o.map(|o| &o["spec"]) {
            Some(Value::Bool(true)) => 0,
            Some(Value::Bool(false)) => 1,
            Some(_) => 2,
            None if v["expected"] == Value::Bool(true) => 0,
            None => 1,
        };
        let got = exit_code(&dir, i, v);
        if got != want {
            failures.push(format!(
                "#{i} [{}] {}: exit {got}, expected {want}",
                v["stix_version"], v["pattern"]
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

#[test]
fn every_matcher_error_vector() {
    let all = read(vectors_dir().join("matcher_error_vectors.json"));
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for (i, v) in all.iter().enumerate() {
        let got = exit_code(&dir, i, v);
        if got != 2 {
            failures.push(format!(
                "#{i} [{}] {}: exit {got}, expected 2 ({})",
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

const BUNDLE: &str = r#"{"type": "bundle", "id": "bundle--1", "objects": [
  {"type": "observed-data", "id": "observed-data--a", "first_observed": "2024-01-01T00:00:00Z",
   "last_observed": "2024-01-01T00:00:00Z", "number_observed": 1,
   "object_refs": ["ipv4-addr--1"]},
  {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "198.51.100.7"}]}"#;

fn bundle_file(dir: &tempfile::TempDir) -> PathBuf {
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, BUNDLE).expect("write bundle");
    file
}

#[test]
fn prints_the_binding() {
    let dir = tempfile::tempdir().expect("temp dir");
    entente()
        .args([
            "pattern",
            "match",
            "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
        ])
        .arg(bundle_file(&dir))
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("match\n"))
        .stdout(predicate::str::contains("observed-data--a"))
        .stdout(predicate::str::contains("ipv4-addr--1"));
}

#[test]
fn json_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = entente()
        .args([
            "pattern",
            "match",
            "--format",
            "json",
            "[ipv4-addr:value = '198.51.100.7']",
        ])
        .arg(bundle_file(&dir))
        .output()
        .expect("run entente");
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["match"], Value::Bool(true));
    assert_eq!(v["binding"][0]["observed_data"], "observed-data--a");
    assert_eq!(v["binding"][0]["objects"][0], "ipv4-addr--1");
}

#[test]
fn no_match_and_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    entente()
        .args(["pattern", "match", "[ipv4-addr:value = '203.0.113.1']"])
        .arg(bundle_file(&dir))
        .assert()
        .code(1)
        .stdout("no match\n");
    entente()
        .args(["pattern", "match", "[ipv4-addr:value IN ('a', 1)]"])
        .arg(bundle_file(&dir))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("^^^"));
    entente()
        .args(["pattern", "match", "[ipv4-addr:value = "])
        .arg(bundle_file(&dir))
        .assert()
        .code(2);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").expect("write");
    entente()
        .args(["pattern", "match", "[ipv4-addr:value = '1.2.3.4']"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not valid JSON"));
}
