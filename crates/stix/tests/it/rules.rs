//! One failing object per rule family, asserting the exact rule code and pointer.

use stix::{
    Diagnostic, Severity, ValidateOptions, parse_document, validate_document, validate_object,
};

const IND: &str = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}"#;

/// Validates `base` with the top-level properties of `patch` merged in (a `null` value
/// removes the property) and returns the diagnostics.
fn diags_of(base: &str, patch: &str) -> Vec<Diagnostic> {
    let mut obj: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(base).expect("base");
    let patch: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(patch).expect("patch");
    for (k, v) in patch {
        if v.is_null() {
            obj.remove(&k);
        } else {
            obj.insert(k, v);
        }
    }
    let text = serde_json::to_string(&obj).expect("serialise");
    let objs = parse_document(text.as_bytes()).expect("parse");
    validate_object(&objs[0], &ValidateOptions::default())
}

/// Asserts that exactly the given `(severity, rule, pointer)` findings are reported.
#[track_caller]
fn check(base: &str, patch: &str, expected: &[(Severity, &str, &str)]) {
    let diags = diags_of(base, patch);
    let got: Vec<(Severity, &str, &str)> = diags
        .iter()
        .map(|d| (d.severity, d.rule, d.pointer.as_str()))
        .collect();
    assert_eq!(got, expected, "{diags:#?}");
}

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;

#[test]
fn valid_indicator_is_clean() {
    check(IND, "{}", &[]);
}

#[test]
fn display_format() {
    let d = &diags_of(IND, r#"{"valid_until":"2015-01-01T00:00:00Z"}"#)[0];
    assert_eq!(
        d.to_string(),
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: /valid_until: must be later than valid_from [valid-until-after-valid-from]"
    );
}

#[test]
fn timestamp_orderings() {
    check(
        IND,
        r#"{"valid_until":"2016-01-01T00:00:00Z"}"#,
        &[(E, "valid-until-after-valid-from", "/valid_until")],
    );
    check(
        IND,
        r#"{"modified":"2016-04-06T20:03:47.999Z"}"#,
        &[(E, "modified-after-created", "/modified")],
    );
}

#[test]
fn open_vocabulary_is_a_warning() {
    check(
        IND,
        r#"{"indicator_types":["nasty"]}"#,
        &[(W, "vocab-open-value", "/indicator_types/0")],
    );
}

#[test]
fn duplicate_versions_in_a_document() {
    let changed = IND.replace("198.51.100.1", "198.51.100.2");
    let doc = format!("{IND}\n{IND}\n{changed}");
    let objs = parse_document(doc.as_bytes()).expect("parse");
    let got: Vec<(Severity, &str)> = validate_document(&objs, &ValidateOptions::default())
        .iter()
        .map(|d| (d.severity, d.rule))
        .collect();
    assert_eq!(
        got,
        [(W, "duplicate-object"), (E, "duplicate-object-version")]
    );
}
