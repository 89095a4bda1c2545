//! The real STIX 2.1 files under `shared/data` parse losslessly and validate without
//! errors.

use std::path::{Path, PathBuf};

use serde_json::Value;
use stix::{Category, Severity, StixView, ValidateOptions, parse_document, validate_document};

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

#[test]
fn every_known_type_has_a_typed_view() {
    let tables = stix::types::ALL_TYPES;
    let count = |c: Category| tables.iter().filter(|t| t.category == c).count();
    assert_eq!(
        (
            count(Category::Sdo),
            count(Category::Sro),
            count(Category::Sco),
            count(Category::Meta)
        ),
        (19, 2, 18, 3)
    );
    let mut seen = std::collections::BTreeSet::new();
    for (path, bytes, _) in stix_files() {
        for obj in parse_document(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
            let view = obj.view();
            assert!(std::ptr::eq(view.object(), &obj));
            match (obj.spec(), view) {
                (None, StixView::Custom(_)) => {}
                (Some(spec), v) if !matches!(v, StixView::Custom(_)) => {
                    seen.insert(spec.name);
                }
                (spec, v) => panic!(
                    "{:?}: view {v:?} for table {:?}",
                    obj.id(),
                    spec.map(|s| s.name)
                ),
            }
        }
    }
    assert!(
        seen.len() >= 15,
        "only {} known types in the data",
        seen.len()
    );
}

/// `tests/data/all-types.json` holds one object of each of the 42 types STIX 2.1 defines,
/// built with the OASIS `stix2` 3.0.2 library: every one validates cleanly and has its
/// typed view.
#[test]
fn one_object_of_every_type() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/all-types.json"
    ))
    .expect("read");
    let objs = parse_document(&bytes).expect("parse");
    let diags = validate_document(&objs, &ValidateOptions::default());
    assert!(diags.is_empty(), "{diags:#?}");
    let types: std::collections::BTreeSet<&str> =
        objs.iter().filter_map(|o| o.type_name()).collect();
    assert_eq!(types.len(), stix::types::ALL_TYPES.len());
    for obj in &objs {
        assert!(obj.spec().is_some(), "{:?}", obj.type_name());
        assert!(
            !matches!(obj.view(), StixView::Custom(_)),
            "{:?}",
            obj.type_name()
        );
    }
}

#[test]
fn typed_accessors_read_real_objects() {
    let bytes = read_maybe_gz(
        &data_dir()
            .join("oasis-stix21/cti-stix2-json-schemas/examples/threat-reports/poisonivy.json"),
    );
    let objs = parse_document(&bytes).expect("parse");
    let mut malware = 0;
    for obj in &objs {
        if let StixView::Malware(m) = obj.view() {
            malware += 1;
            assert!(m.is_family().is_some());
            assert!(m.name().is_some());
        }
        if let StixView::Relationship(r) = obj.view() {
            assert!(r.source_ref().is_some() && r.target_ref().is_some());
        }
        if let Some(created) = obj.created() {
            assert!(obj.modified().is_some_and(|m| m >= created));
        }
    }
    assert!(malware > 0);
}
