//! The transparency-log entry of one object version, as DESIGN.md "The transparency log"
//! defines it.
//!
//! An entry is the RFC 8785 (JCS) canonical JSON of
//! `{"op": "add"|"delete", "object": <hex SHA-256 of "<collection id>\n<STIX id>\n<version>">,
//! "date_added": <timestamp>, "sha256": <hex SHA-256 of the stored JSON bytes>}`, and its leaf
//! hash is the RFC 9162 §2.1.1 leaf hash `SHA-256(0x00 ‖ entry)`. The store writes one per
//! stored or deleted version in the same transaction as the write, so a reader holding an
//! object can recompute its entry and check its inclusion.
//!
//! `version` is the version text as posted (what a holder of the object sees), and
//! `date_added` the TAXII text of the version's date_added; a `delete` entry repeats the
//! deleted version's date_added, so both entries of one version commit to the same object.

use crate::types::LogOp;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of `"<collection id>\n<STIX id>\n<version>"`: the entry's `object` field.
pub fn object_commitment(collection_id: &str, stix_id: &str, version: &str) -> String {
    let mut h = Sha256::new();
    h.update(collection_id.as_bytes());
    h.update(b"\n");
    h.update(stix_id.as_bytes());
    h.update(b"\n");
    h.update(version.as_bytes());
    hex::encode(h.finalize())
}

/// Hex SHA-256 of an object's stored JSON bytes: the entry's `sha256` field.
pub fn content_hash(raw_json: &str) -> String {
    hex::encode(Sha256::digest(raw_json.as_bytes()))
}

/// The canonical entry bytes.
///
/// Written directly rather than through a JCS serializer: RFC 8785 §3.2.3 sorts the four
/// keys as `date_added`, `object`, `op`, `sha256`, and every value is a string of characters
/// that JCS leaves unescaped (hex digits, a STIX timestamp, `add`/`delete`) — the unit tests
/// check that against `serde_json_canonicalizer`. This halves the per-object cost of an
/// append on the ingest path. A `date_added` that would need escaping (it never does: the
/// store formats it) goes through the general serializer instead.
pub fn entry_bytes(
    op: LogOp,
    collection_id: &str,
    stix_id: &str,
    version: &str,
    date_added: &str,
    content_sha256: &str,
) -> Vec<u8> {
    let op = match op {
        LogOp::Add => "add",
        LogOp::Delete => "delete",
    };
    let object = object_commitment(collection_id, stix_id, version);
    let plain = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    };
    if !plain(date_added) || !plain(content_sha256) {
        let value = serde_json::json!({
            "op": op,
            "object": object,
            "date_added": date_added,
            "sha256": content_sha256,
        });
        // Serialising a map of strings cannot fail.
        return serde_json_canonicalizer::to_vec(&value)
            .unwrap_or_else(|_| value.to_string().into_bytes());
    }
    let mut out = Vec::with_capacity(64 + date_added.len() + object.len() + content_sha256.len());
    out.extend_from_slice(b"{\"date_added\":\"");
    out.extend_from_slice(date_added.as_bytes());
    out.extend_from_slice(b"\",\"object\":\"");
    out.extend_from_slice(object.as_bytes());
    out.extend_from_slice(b"\",\"op\":\"");
    out.extend_from_slice(op.as_bytes());
    out.extend_from_slice(b"\",\"sha256\":\"");
    out.extend_from_slice(content_sha256.as_bytes());
    out.extend_from_slice(b"\"}");
    out
}

/// RFC 9162 §2.1.1 leaf hash: `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_is_canonical_with_sorted_keys() {
        let e = entry_bytes(
            LogOp::Add,
            "c",
            "indicator--x",
            "2020-01-01T00:00:00.000Z",
            "2026-01-01T00:00:00.000001Z",
            &content_hash("{}"),
        );
        let s = String::from_utf8(e).unwrap();
        let expected_obj = object_commitment("c", "indicator--x", "2020-01-01T00:00:00.000Z");
        assert_eq!(
            s,
            format!(
                "{{\"date_added\":\"2026-01-01T00:00:00.000001Z\",\"object\":\"{expected_obj}\",\"op\":\"add\",\"sha256\":\"{}\"}}",
                content_hash("{}")
            )
        );
    }

    #[test]
    fn direct_writing_equals_jcs() {
        for (op, date_added, sha) in [
            (LogOp::Add, "2026-01-01T00:00:00.000001Z", content_hash("x")),
            (LogOp::Delete, "2020-02-29T23:59:59Z", content_hash("")),
            // Not produced by the store; takes the general path.
            (LogOp::Add, "we\"ird\\\u{e9}", "ab".to_owned()),
        ] {
            let got = entry_bytes(op, "c", "indicator--x", "v", date_added, &sha);
            let value = serde_json::json!({
                "op": if op == LogOp::Add { "add" } else { "delete" },
                "object": object_commitment("c", "indicator--x", "v"),
                "date_added": date_added,
                "sha256": sha,
            });
            assert_eq!(got, serde_json_canonicalizer::to_vec(&value).unwrap());
        }
    }

    #[test]
    fn commitment_is_sha256_of_the_three_lines() {
        assert_eq!(
            object_commitment("a", "b", "c"),
            hex::encode(Sha256::digest(b"a\nb\nc"))
        );
    }

    #[test]
    fn leaf_hash_has_domain_prefix() {
        // RFC 9162: the leaf hash of the empty entry is SHA-256 of the single byte 0x00.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }
}
