//! Integration tests of the `tlog` crate: known-answer tests from published vectors
//! (`tests/data/`, sources in `tests/data/SOURCES.md`), behaviour tests per format, and
//! property tests against a naive RFC 9162 reference written from the RFC's recursive
//! definitions.

mod checkpoint;
mod cosignature;
mod entry;
mod merkle_vectors;
mod notes;
mod proofs_prop;
mod reference;
mod robustness;
mod tiles;
mod witness;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tlog::Hash;

/// Path of a file under `tests/data`.
pub fn data_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// A JSON file under `tests/data`.
pub fn json(rel: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(data_path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A hex-encoded 32-byte hash.
pub fn hex32(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// Standard base64.
pub fn b64(s: &str) -> Vec<u8> {
    STANDARD.decode(s).unwrap()
}

/// A base64 hash, or `None` if it does not decode to 32 bytes.
pub fn b64_hash(s: &str) -> Option<Hash> {
    STANDARD.decode(s).ok()?.try_into().ok()
}

/// Every file under a directory of `tests/data`, recursively, sorted.
pub fn files_under(rel: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&data_path(rel), &mut out);
    out.sort();
    out
}
