//! The DESIGN.md log entry: JCS bytes checked against serde_json_canonicalizer.

use sha2::{Digest, Sha256};
use tlog::entry::{content_hash, entry_bytes, entry_from_fields, object_commitment};
use tlog::{LogOp, leaf_hash};

fn canonical(op: &str, object: &str, date_added: &str, sha256: &str) -> Vec<u8> {
    let v = serde_json::json!({
        "op": op, "object": object, "date_added": date_added, "sha256": sha256,
    });
    serde_json_canonicalizer::to_vec(&v).unwrap()
}

#[test]
fn entry_known_answer() {
    let coll = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
    let id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    let version = "2016-04-06T20:03:48.000Z";
    let date_added = "2026-11-26T13:00:00.123456Z";
    let json = br#"{"type":"indicator"}"#;
    let e = entry_bytes(LogOp::Add, coll, id, version, date_added, json);

    let object = hex::encode(Sha256::digest(format!("{coll}\n{id}\n{version}")));
    let sha = hex::encode(Sha256::digest(json));
    assert_eq!(object_commitment(coll, id, version), object);
    assert_eq!(content_hash(json), sha);
    let want = format!(
        r#"{{"date_added":"{date_added}","object":"{object}","op":"add","sha256":"{sha}"}}"#
    );
    assert_eq!(String::from_utf8(e.clone()).unwrap(), want);
    assert_eq!(e, canonical("add", &object, date_added, &sha));
    let d = entry_bytes(LogOp::Delete, coll, id, version, date_added, json);
    assert_eq!(d, canonical("delete", &object, date_added, &sha));
    assert_ne!(leaf_hash(&e), leaf_hash(&d));
}

#[test]
fn jcs_string_escaping_matches_the_canonicalizer() {
    for s in [
        "plain",
        "quote \" backslash \\ slash /",
        "\u{0}\u{1}\u{7}\u{8}\t\n\u{b}\u{c}\r\u{1f} \u{7f}",
        "é €  \u{2028} \u{1F600}",
        "é\"€\u{1}x\u{1F600}\\",
        "\"",
        "",
    ] {
        assert_eq!(
            entry_from_fields(LogOp::Add, "o", s, "h"),
            canonical("add", "o", s, "h"),
            "{s:?}"
        );
    }
}
