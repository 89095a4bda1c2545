//! The log entry entente appends for each object version and each deletion (DESIGN.md,
//! "The transparency log").
//!
//! The entry is the RFC 8785 (JCS) canonical JSON of
//! `{"date_added": <timestamp text>, "object": <hex SHA-256 of "<collection id>\n<STIX id>\n<version>">,
//! "op": "add"|"delete", "sha256": <hex SHA-256 of the stored JSON bytes>}` — keys in JCS
//! order (sorted by UTF-16 code units), no whitespace. The log shows how much was shared
//! and when, never ids or content: STIX ids are random UUIDs, so the `object` commitment
//! cannot be guessed, and a holder of the object recomputes the entry to check inclusion.
//!
//! What it deliberately doesn't do: decide the version string or the timestamp text (the
//! store passes what it stored) or parse JSON. The JSON is written by hand: four string
//! members need only JCS string escaping, and the tests check the output against
//! `serde_json_canonicalizer`.

use sha2::{Digest, Sha256};

use crate::hash::{Hash, leaf_hash};

/// What happened to the object version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogOp {
    /// The version was accepted and stored.
    Add,
    /// The version was deleted (its content may be purged; the entry stays).
    Delete,
}

impl LogOp {
    /// `"add"` or `"delete"`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogOp::Add => "add",
            LogOp::Delete => "delete",
        }
    }
}

/// Lowercase hex of bytes.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// The `object` field: hex SHA-256 of `"<collection id>\n<STIX id>\n<version>"`.
pub fn object_commitment(collection_id: &str, stix_id: &str, version: &str) -> String {
    let mut h = Sha256::new();
    h.update(collection_id.as_bytes());
    h.update(b"\n");
    h.update(stix_id.as_bytes());
    h.update(b"\n");
    h.update(version.as_bytes());
    hex(&h.finalize())
}

/// The `sha256` field: hex SHA-256 of the object's stored JSON bytes.
pub fn content_hash(stored_json: &[u8]) -> String {
    hex(&Sha256::digest(stored_json))
}

/// Appends `s` as a JCS string (RFC 8785 §3.2.2.2: the ECMAScript `JSON.stringify`
/// escaping — `\"`, `\\`, the five short control escapes, `\u00xx` in lowercase for the
/// other controls, everything else literal).
fn push_jcs_string(out: &mut String, s: &str) {
    out.push('"');
    // Runs of bytes that need no escape are copied whole (a log entry's fields have none:
    // it was ~3% of the store writer's CPU char by char). Every byte that needs one is
    // ASCII, so the runs split the text at character boundaries.
    let mut rest = s;
    while let Some(at) = rest
        .bytes()
        .position(|b| b == b'"' || b == b'\\' || b < b' ')
    {
        out.push_str(&rest[..at]);
        match rest.as_bytes()[at] {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            0x09 => out.push_str("\\t"),
            0x0a => out.push_str("\\n"),
            0x0c => out.push_str("\\f"),
            0x0d => out.push_str("\\r"),
            b => out.push_str(&format!("\\u{:04x}", b)),
        }
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out.push('"');
}

/// The entry from its four field values (`object` and `sha256` already hex).
pub fn entry_from_fields(op: LogOp, object: &str, date_added: &str, sha256: &str) -> Vec<u8> {
    let mut out = String::with_capacity(200);
    // JCS member order: date_added < object < op < sha256.
    out.push_str("{\"date_added\":");
    push_jcs_string(&mut out, date_added);
    out.push_str(",\"object\":");
    push_jcs_string(&mut out, object);
    out.push_str(",\"op\":");
    push_jcs_string(&mut out, op.as_str());
    out.push_str(",\"sha256\":");
    push_jcs_string(&mut out, sha256);
    out.push('}');
    out.into_bytes()
}

/// The canonical entry bytes of one object version (DESIGN.md): `version` is the
/// `modified` text (or `created` for objects without it), `date_added` the TAXII text of
/// the version's date_added, `stored_json` the exact bytes stored.
pub fn entry_bytes(
    op: LogOp,
    collection_id: &str,
    stix_id: &str,
    version: &str,
    date_added: &str,
    stored_json: &[u8],
) -> Vec<u8> {
    entry_from_fields(
        op,
        &object_commitment(collection_id, stix_id, version),
        date_added,
        &content_hash(stored_json),
    )
}

/// The RFC 9162 leaf hash of an entry; a convenience for [`crate::leaf_hash`].
pub fn entry_leaf_hash(entry: &[u8]) -> Hash {
    leaf_hash(entry)
}
