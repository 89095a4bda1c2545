//! The transparency-log entry of one object version, as DESIGN.md "The transparency log"
//! defines it, and where the store gets it from.
//!
//! An entry is the RFC 8785 (JCS) canonical JSON of
//! `{"op": "add"|"delete", "object": <hex SHA-256 of "<collection id>\n<STIX id>\n<version>">,
//! "date_added": <timestamp>, "sha256": <hex SHA-256 of the stored JSON bytes>}`, and its leaf
//! hash is the RFC 9162 §2.1.1 leaf hash `SHA-256(0x00 ‖ entry)`. The bytes are defined once,
//! in `tlog::entry` (the log's crate, which readers and verifiers use too); this module only
//! adapts it to what the store has at hand: the content digest is computed once per object
//! for the `sha256` column and reused here.
//!
//! The store writes one entry per stored or deleted version in the same transaction as the
//! write. `version` is the version text as posted (what a holder of the object sees), and
//! `date_added` the TAXII text of the version's date_added; a `delete` entry repeats the
//! deleted version's date_added, so both entries of one version commit to the same object.

use crate::types::LogOp;

/// Hex SHA-256 of `"<collection id>\n<STIX id>\n<version>"`: the entry's `object` field.
pub fn object_commitment(collection_id: &str, stix_id: &str, version: &str) -> String {
    tlog::entry::object_commitment(collection_id, stix_id, version)
}

/// Hex SHA-256 of an object's stored JSON bytes: the entry's `sha256` field.
pub fn content_hash(raw_json: &str) -> String {
    tlog::entry::content_hash(raw_json.as_bytes())
}

fn tlog_op(op: LogOp) -> tlog::LogOp {
    match op {
        LogOp::Add => tlog::LogOp::Add,
        LogOp::Delete => tlog::LogOp::Delete,
    }
}

/// The canonical entry bytes, given the hex content digest already computed.
pub fn entry_bytes(
    op: LogOp,
    collection_id: &str,
    stix_id: &str,
    version: &str,
    date_added: &str,
    content_sha256: &str,
) -> Vec<u8> {
    tlog::entry::entry_from_fields(
        tlog_op(op),
        &object_commitment(collection_id, stix_id, version),
        date_added,
        content_sha256,
    )
}

/// RFC 9162 §2.1.1 leaf hash: `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    tlog::leaf_hash(entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

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
    fn equals_jcs_and_the_logs_own_definition() {
        for (op, date_added) in [
            (LogOp::Add, "2026-01-01T00:00:00.000001Z"),
            (LogOp::Delete, "2020-02-29T23:59:59Z"),
        ] {
            let raw = r#"{"type":"x"}"#;
            let got = entry_bytes(op, "c", "indicator--x", "v", date_added, &content_hash(raw));
            let value = serde_json::json!({
                "op": if op == LogOp::Add { "add" } else { "delete" },
                "object": object_commitment("c", "indicator--x", "v"),
                "date_added": date_added,
                "sha256": content_hash(raw),
            });
            assert_eq!(got, serde_json_canonicalizer::to_vec(&value).unwrap());
            assert_eq!(
                got,
                tlog::entry_bytes(
                    tlog_op(op),
                    "c",
                    "indicator--x",
                    "v",
                    date_added,
                    raw.as_bytes()
                )
            );
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
