//! Identifiers and deterministic SCO ids.
//!
//! `tests/data/sco-known-ids.ndjson` was produced with the OASIS `stix2` Python library
//! 3.0.2 (one object per SCO type it can build); its ids are the known answers.

use stix::{
    Severity, ValidateOptions, deterministic_sco_id, parse_document, parse_identifier,
    validate_object,
};

const KNOWN: &str = include_str!("../data/sco-known-ids.ndjson");

#[test]
fn deterministic_ids_match_stix2_library() {
    let objs = parse_document(KNOWN.as_bytes()).expect("parse");
    assert!(objs.len() >= 20);
    for obj in &objs {
        assert_eq!(
            deterministic_sco_id(obj).as_deref(),
            obj.id(),
            "{}",
            obj.raw()
        );
    }
}

#[test]
fn known_answer_objects_are_valid() {
    for obj in parse_document(KNOWN.as_bytes()).expect("parse") {
        let diags = validate_object(&obj, &ValidateOptions::default());
        assert!(diags.is_empty(), "{}: {diags:?}", obj.raw());
    }
}

#[test]
fn mismatching_sco_id_is_a_warning() {
    let obj = &parse_document(
        br#"{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}"#,
    )
    .expect("parse")[0];
    let diags = validate_object(obj, &ValidateOptions::default());
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].rule, "sco-id-not-deterministic");
    assert_eq!(diags[0].severity, Severity::Warning);
    assert_eq!(diags[0].pointer, "/id");
    let opts = ValidateOptions {
        check_deterministic_ids: false,
        ..Default::default()
    };
    assert!(validate_object(obj, &opts).is_empty());
}

#[test]
fn hash_preference_and_absent_properties() {
    // Process has no ID contributing properties (STIX 2.1 §6.13): random UUIDv4.
    let p = &parse_document(
        br#"{"type":"process","id":"process--f52a906a-0dfc-40bd-92f1-e7778ead38a9","pid":1}"#,
    )
    .expect("parse")[0];
    assert_eq!(deterministic_sco_id(p), None);
    // An SDO never has one.
    let sdo = &parse_document(
        br#"{"type":"identity","spec_version":"2.1","id":"identity--f52a906a-0dfc-40bd-92f1-e7778ead38a9","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"x"}"#,
    )
    .expect("parse")[0];
    assert_eq!(deterministic_sco_id(sdo), None);
    // Key order in the input does not matter (JCS sorts).
    let a = &parse_document(br#"{"type":"file","id":"file--x","name":"a","hashes":{"MD5":"1717b7fff97d37a1e1a0029d83492de1"}}"#)
        .expect("parse")[0];
    let b = &parse_document(br#"{"hashes":{"SHA-1":"2222222222222222222222222222222222222222","MD5":"1717b7fff97d37a1e1a0029d83492de1"},"name":"a","type":"file"}"#)
        .expect("parse")[0];
    assert_eq!(deterministic_sco_id(a), deterministic_sco_id(b));
}

#[test]
fn identifier_parsing() {
    let id = parse_identifier("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f").expect("valid");
    assert_eq!(id.type_name, "indicator");
    assert_eq!(id.uuid.get_version_num(), 4);
    for bad in [
        "indicator",
        "indicator--",
        "indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f",
        "Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f",
        "ab--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "{8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f}",
    ] {
        assert!(parse_identifier(bad).is_err(), "{bad}");
    }
}

#[test]
fn sco_without_contributing_properties_should_use_v4() {
    let v5 = &parse_document(
        br#"{"type":"process","id":"process--f52a906a-0dfc-50bd-92f1-e7778ead38a9","pid":1}"#,
    )
    .expect("parse")[0];
    let d = validate_object(v5, &ValidateOptions::default());
    assert_eq!(
        d.iter().map(|d| (d.severity, d.rule)).collect::<Vec<_>>(),
        [(Severity::Warning, "sco-id-uuidv4")]
    );
    let v4 = &parse_document(br#"{"type":"x509-certificate","id":"x509-certificate--f52a906a-0dfc-40bd-92f1-e7778ead38a9","issuer":"CN=x"}"#)
        .expect("parse")[0];
    assert!(validate_object(v4, &ValidateOptions::default()).is_empty());
}
