//! Every validator vector in `shared/data/stix-patterns/validator_vectors.json`, through the
//! library. Where entente follows the spec against the reference (DEVIATIONS.md), the
//! expected answer is the spec's and the case is listed in `SPEC_OVERRIDES`.

use pattern::{StixVersion, validate};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Vector {
    pattern: String,
    valid: bool,
    stix_version: String,
}

/// Patterns whose reference verdict contradicts the spec, with the spec's verdict and the
/// DEVIATIONS.md entry that explains it.
pub const SPEC_OVERRIDES: &[(&str, bool, &str)] = &[
    (
        "[x:created = t'2023-02-29T12:00:00Z']",
        false,
        "D1 calendar-invalid timestamp",
    ),
    (
        "[x:created = t'2024-02-30T12:00:00Z']",
        false,
        "D1 calendar-invalid timestamp",
    ),
    (
        "[x:created = t'2024-04-31T12:00:00Z']",
        false,
        "D1 calendar-invalid timestamp",
    ),
];

/// The vectors folder: `ENTENTE_PATTERN_VECTORS`, else `../shared/data/stix-patterns` beside
/// the repository.
pub fn vectors_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("ENTENTE_PATTERN_VECTORS") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/stix-patterns")
}

/// The expected verdict for a vector, after spec overrides.
pub fn expected(pattern: &str, reference: bool) -> bool {
    SPEC_OVERRIDES
        .iter()
        .find(|(p, _, _)| *p == pattern)
        .map_or(reference, |(_, v, _)| *v)
}

#[test]
fn validator_vectors() {
    let path = vectors_dir().join("validator_vectors.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let vectors: Vec<Vector> = serde_json::from_str(&text).expect("vector file parses");
    let mut failures = Vec::new();
    for v in &vectors {
        let version: StixVersion = v.stix_version.parse().expect("known version");
        let want = expected(&v.pattern, v.valid);
        let got = validate(&v.pattern, version);
        // Every accepted vector also survives the printer: print, re-parse, same tree.
        if let Ok(tree) = &got {
            let printed = tree.to_string();
            match pattern::parse(&printed, version) {
                Ok(mut back) => {
                    let mut orig = tree.clone();
                    crate::roundtrip::strip(&mut orig);
                    crate::roundtrip::strip(&mut back);
                    if back != orig {
                        failures.push(format!(
                            "{:?}: printed {printed:?} re-parses differently",
                            v.pattern
                        ));
                    }
                }
                Err(e) => failures.push(format!("{:?}: printed {printed:?} fails: {e}", v.pattern)),
            }
        }
        if got.is_ok() != want {
            failures.push(format!(
                "{} {:?}: want valid={want}, got {:?}",
                v.stix_version,
                v.pattern,
                got.err()
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
