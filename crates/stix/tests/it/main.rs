//! Integration tests of the `stix` crate: the real data files, one failing case per rule
//! family, identifiers, and property tests that parsing never panics.

mod data;
mod ids;
mod parse;
mod props;
mod rules;
mod tlp;

use std::path::PathBuf;

/// `/work/shared/data`, found relative to this crate.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// Reads `path`, gunzipping `*.gz`.
pub fn read_maybe_gz(path: &std::path::Path) -> Vec<u8> {
    use std::io::Read;
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out
    } else {
        bytes
    }
}
mod oracle;
