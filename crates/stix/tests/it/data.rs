//! The real STIX 2.1 files under `shared/data` parse losslessly and validate without
//! errors.

use std::path::{Path, PathBuf};

use serde_json::Value;
use stix::{Severity, ValidateOptions, parse_document, validate_document};

use crate::{data_dir, read_maybe_gz};

const STIX_DIRS: [&str; 4] = [
    "oasis-stix21",
    "attack-stix21",
    "attack-flow-stix21",
    "stix21-tlp2-markings",
];

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            let name = p.to_string_lossy();
            if name.ends_with(".json") || name.ends_with(".json.gz") {
                out.push(p);
            }
        }
    }
}

/// Every JSON file in the STIX folders that holds STIX content (JSON schemas and
/// collection indexes are skipped: they have no top-level `type`).
fn stix_files() -> Vec<(PathBuf, Vec<u8>, Value)> {
    let mut paths = Vec::new();
    for d in STIX_DIRS {
        walk(&data_dir().join(d), &mut paths);
    }
    paths.sort();
    let mut files = Vec::new();
    for p in paths {
        let bytes = read_maybe_gz(&p);
        let value: Value =
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let is_stix = match &value {
            Value::Object(m) => {
                m.get("type").is_some_and(Value::is_string) && !m.contains_key("$schema")
            }
            Value::Array(items) => items.iter().all(|i| i.get("type").is_some()),
            _ => false,
        };
        if is_stix {
            files.push((p, bytes, value));
        }
    }
    files
}

fn objects_of(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(m) if m.get("type").and_then(Value::as_str) == Some("bundle") => m
            .get("objects")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        other => vec![other],
    }
}

#[test]
fn there_are_enough_files() {
    let files = stix_files();
    assert!(files.len() >= 25, "only {} STIX files found", files.len());
    let total: usize = files.iter().map(|(_, _, v)| objects_of(v).len()).sum();
    assert!(total > 4000, "only {total} objects");
}

#[test]
fn roundtrip_is_lossless() {
    for (path, bytes, value) in stix_files() {
        let objs = parse_document(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let expected = objects_of(&value);
        assert_eq!(objs.len(), expected.len(), "{}", path.display());
        for (obj, want) in objs.iter().zip(expected) {
            let got = serde_json::to_value(obj.json()).expect("serialise");
            assert_eq!(&got, want, "{}: {:?}", path.display(), obj.id());
            // Same key order too: the serialised text matches serde_json's own.
            assert_eq!(
                serde_json::to_string(obj).expect("serialise"),
                serde_json::to_string(want).expect("serialise"),
            );
            let raw: Value = serde_json::from_str(obj.raw()).expect("raw is JSON");
            assert_eq!(&raw, want);
            assert_eq!(
                obj.raw().as_bytes(),
                &bytes[obj.location().offset..obj.location().offset + obj.raw().len()]
            );
        }
    }
}

#[test]
fn real_files_validate_without_errors() {
    let mut failures = Vec::new();
    let mut warnings: std::collections::BTreeMap<&'static str, usize> = Default::default();
    for (path, bytes, _) in stix_files() {
        let objs = parse_document(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for d in validate_document(&objs, &ValidateOptions::default()) {
            match d.severity {
                Severity::Error => failures.push(format!("{}: {d}", path.display())),
                Severity::Warning => *warnings.entry(d.rule).or_default() += 1,
            }
        }
    }
    eprintln!("warnings by rule: {warnings:?}");
    assert!(
        failures.is_empty(),
        "{} errors:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
