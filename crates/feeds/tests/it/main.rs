//! Integration tests of the `feeds` crate on real data from `../shared/data` (the CIRCL MISP
//! feed, maltrail trail lists) and on golden files of mapped events.

mod ioc;
mod misp;

use std::path::{Path, PathBuf};

use stix::{Severity, StixObject, ValidateOptions};

/// `../shared/data` beside the repository.
pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// Reads `X` or `X.gz`.
pub fn read(path: &Path) -> Vec<u8> {
    let gz = if path.extension().is_some_and(|e| e == "gz") {
        path.to_path_buf()
    } else if let Ok(bytes) = std::fs::read(path) {
        return bytes;
    } else {
        PathBuf::from(format!("{}.gz", path.display()))
    };
    let raw = std::fs::read(&gz).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut out)
        .unwrap_or_else(|e| panic!("{}: {e}", gz.display()));
    out
}

fn pattern_checker(text: &str, version: &str) -> Result<(), String> {
    let version = version.parse().unwrap_or(pattern::StixVersion::V21);
    pattern::validate(text, version)
        .map(drop)
        .map_err(|e| format!("{e:?}"))
}

/// Asserts that the objects form a valid STIX 2.1 document (no error-level diagnostic,
/// patterns checked) and returns the warnings, but for `id-not-uuidv4`: import ids are
/// UUIDv5 on purpose (re-imports must find them), which STIX 2.1 §2.9 allows as a SHOULD.
pub fn assert_valid(objects: &[feeds::Object]) -> Vec<String> {
    let parsed: Vec<StixObject> = objects
        .iter()
        .map(|o| {
            let p = StixObject::from_json_str(&o.json)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", o.json));
            assert_eq!(p.id(), Some(o.id.as_str()));
            assert_eq!(p.type_name(), Some(o.type_name));
            assert_eq!(p.version(), o.version, "{}", o.json);
            p
        })
        .collect();
    let checker = pattern_checker;
    let options = ValidateOptions {
        pattern_checker: Some(&checker),
        ..ValidateOptions::default()
    };
    let diagnostics = stix::validate_document(&parsed, &options);
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "invalid STIX emitted:\n{}",
        errors.join("\n")
    );
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning && d.rule != "id-not-uuidv4")
        .map(|d| d.to_string())
        .collect()
}

/// Compares the objects, as a pretty JSON array, with `tests/golden/NAME`; `UPDATE_EXPECT=1`
/// rewrites the file.
pub fn check_golden(name: &str, objects: &[feeds::Object]) {
    let values: Vec<serde_json::Value> = objects
        .iter()
        .map(|o| serde_json::from_str(&o.json).expect("emitted JSON parses"))
        .collect();
    let mut actual = serde_json::to_string_pretty(&values).expect("serialise");
    actual.push('\n');
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_EXPECT=1)", path.display()));
    assert!(
        expected == actual,
        "{} differs from the mapping (UPDATE_EXPECT=1 to accept):\n{actual}",
        path.display()
    );
}
