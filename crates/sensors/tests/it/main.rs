//! Integration tests of the `sensors` crate: one test binary, one module per concern.

mod delta;
mod golden;
mod roundtrip;

use std::path::{Path, PathBuf};

/// `crates/sensors/tests/golden/NAME`.
pub fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `actual` with the golden file `name`; with `UPDATE_GOLDEN=1` rewrites it.
pub fn check(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("golden directory");
        }
        std::fs::write(&path, actual).expect("golden file written");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        expected == actual,
        "{} differs from the output (UPDATE_GOLDEN=1 to accept):\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// The golden input's objects and the fixed instant the goldens are made at.
pub fn fixture() -> (Vec<stix::StixObject>, jiff::Timestamp) {
    let bytes = std::fs::read(golden_path("input.json")).expect("golden input");
    let objects = stix::parse_document(&bytes).expect("golden input parses");
    let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("fixed instant");
    (objects, now)
}
