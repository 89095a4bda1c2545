//! Document shapes, positions and parse errors.

use stix::{ParseError, StixView, Timestamp, parse_document};

const IND: &str = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","x_custom":{"a":[1,2.5,null]}}"#;

#[test]
fn single_object() {
    let objs = parse_document(IND.as_bytes()).expect("parse");
    assert_eq!(objs.len(), 1);
    let o = &objs[0];
    assert_eq!(o.raw(), IND);
    assert_eq!(o.type_name(), Some("indicator"));
    assert_eq!(o.location().line, 1);
    assert_eq!(o.location().index, 0);
    assert_eq!(
        o.created().map(|t| t.to_string()).as_deref(),
        Some("2016-04-06T20:03:48.000Z")
    );
    let keys: Vec<&str> = o.json().keys().map(String::as_str).collect();
    assert_eq!(keys.last(), Some(&"x_custom"), "order kept");
    match o.view() {
        StixView::Indicator(i) => {
            assert_eq!(i.pattern_type(), Some("stix"));
            assert_eq!(
                i.valid_from(),
                Timestamp::parse("2016-01-01T00:00:00Z").ok()
            );
            assert_eq!(i.indicator_types().count(), 0);
        }
        other => panic!("wrong view {other:?}"),
    }
}

#[test]
fn array_bundle_and_ndjson() {
    let array = format!("[\n  {IND},\n  {IND}\n]");
    let objs = parse_document(array.as_bytes()).expect("array");
    assert_eq!(objs.len(), 2);
    assert_eq!(objs[1].location().line, 3);
    assert_eq!(objs[1].location().index, 1);
    assert_eq!(objs[1].raw(), IND);

    let bundle = format!(
        "{{\"type\":\"bundle\",\"id\":\"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\",\n\"objects\":[{IND},\n{IND}]}}"
    );
    let objs = parse_document(bundle.as_bytes()).expect("bundle");
    assert_eq!(objs.len(), 2);
    assert_eq!(objs[1].location().line, 3);

    let ndjson = format!("{IND}\n{bundle}\n\n{IND}\n");
    let objs = parse_document(ndjson.as_bytes()).expect("ndjson");
    assert_eq!(objs.len(), 4);
    assert_eq!(
        objs.iter().map(|o| o.location().line).collect::<Vec<_>>(),
        [1, 3, 4, 6]
    );
    assert_eq!(
        objs.iter().map(|o| o.location().index).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    for o in &objs {
        assert_eq!(o.raw(), IND);
        assert_eq!(
            &ndjson[o.location().offset..o.location().offset + IND.len()],
            IND
        );
    }

    let empty_bundle = br#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}"#;
    assert!(
        parse_document(empty_bundle)
            .expect("empty bundle")
            .is_empty()
    );
}

#[test]
fn object_mentioning_bundle_is_not_a_bundle() {
    let doc = br#"{"type":"note","spec_version":"2.1","id":"note--5d0092c5-5f74-4287-9642-33f4c354e56d","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","content":"bundle","abstract":"\"bundle\"","object_refs":["identity--5d0092c5-5f74-4287-9642-33f4c354e56d"]}"#;
    let objs = parse_document(doc).expect("parse");
    assert_eq!(objs.len(), 1);
    assert_eq!(objs[0].type_name(), Some("note"));
}

fn err(input: &[u8]) -> ParseError {
    parse_document(input).expect_err("must fail")
}

#[test]
fn errors_have_positions() {
    let e = err(b"");
    assert_eq!((e.line, e.column), (1, 1));
    assert_eq!(e.to_string(), "line 1, column 1: empty document");

    let e = err(b"{\"type\": \"indicator\",\n  \"id\": }");
    assert_eq!(e.line, 2);

    let e = err(b"[1]");
    assert!(e.message.contains("expected a STIX object"), "{e}");

    let e = err(b"\"just a string\"");
    assert!(e.message.contains("expected a STIX object"), "{e}");

    let e = err(b"{\"type\":\"bundle\",\"objects\":{}}");
    assert!(
        e.message.contains("invalid type") || e.message.contains("array"),
        "{e}"
    );

    let e = err(b"{\"a\":1}\n{\"b\":\xff}");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("UTF-8"));

    // An error inside the second element of a bundle on line 3 is reported on line 3.
    let doc = format!(
        "{{\"type\":\"bundle\",\"objects\":[\n{IND},\n{{\"type\": \"x\", \"n\": 1e999999}}]}}"
    );
    let e = err(doc.as_bytes());
    assert_eq!(e.line, 3, "{e}");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let depth = 100_000;
    let mut doc = String::from("{\"type\":\"x\",\"a\":");
    doc.push_str(&"[".repeat(depth));
    doc.push_str(&"]".repeat(depth));
    doc.push('}');
    let e = err(doc.as_bytes());
    assert!(e.message.contains("nesting"), "{e}");

    let ok_depth = 100;
    let mut doc = String::from("{\"type\":\"x\",\"a\":");
    doc.push_str(&"[".repeat(ok_depth));
    doc.push_str(&"]".repeat(ok_depth));
    doc.push('}');
    assert_eq!(
        parse_document(doc.as_bytes())
            .expect("100 levels are fine")
            .len(),
        1
    );
}

#[test]
fn byte_order_mark_is_ignored() {
    let mut doc = vec![0xef, 0xbb, 0xbf];
    doc.extend_from_slice(IND.as_bytes());
    assert_eq!(parse_document(&doc).expect("bom").len(), 1);
}

#[test]
fn duplicate_property_names_are_rejected() {
    // Two readers could disagree on which marking applies; I-JSON forbids this.
    let doc = b"{\"type\":\"indicator\",\n \"object_marking_refs\":[\"a\"],\n \"object_marking_refs\":[\"b\"]}";
    let e = err(doc);
    assert!(
        e.message
            .contains("duplicate property \"object_marking_refs\""),
        "{e}"
    );
    assert_eq!(e.line, 3);
    let nested = br#"{"type":"x","a":[{"k":1,"k":2}]}"#;
    assert!(err(nested).message.contains("duplicate property \"k\""));
    let bundle = br#"{"type":"bundle","objects":[{"type":"x","type":"y"}]}"#;
    assert!(err(bundle).message.contains("duplicate"));
}

#[test]
fn numbers_survive_roundtrip() {
    let doc = br#"{"type":"x-num","a":1.5e300,"b":-0.0,"c":18446744073709551615,"d":-9223372036854775808,"e":0.1}"#;
    let o = &parse_document(doc).expect("parse")[0];
    let back: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(o.json()).expect("ser")).expect("de");
    let orig: serde_json::Value = serde_json::from_slice(doc).expect("de");
    assert_eq!(back, orig);
}

#[test]
fn duplicate_bundle_members_are_rejected() {
    let doc = br#"{"type":"bundle","objects":[],"objects":[{"type":"x"}]}"#;
    assert!(err(doc).message.contains("duplicate property \"objects\""));
    let doc = br#"{"type":"note","type":"bundle","objects":[]}"#;
    assert!(err(doc).message.contains("duplicate property \"type\""));
}

#[test]
fn embedded_views() {
    let doc = br#"{"type":"attack-pattern","id":"attack-pattern--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","external_references":[{"source_name":"capec","external_id":"CAPEC-163"},7],"kill_chain_phases":[{"kill_chain_name":"k","phase_name":"p"}],"object_marking_refs":["marking-definition--a"],"granular_markings":[{"selectors":["name"],"marking_ref":"marking-definition--b"},{"selectors":["name"],"lang":"de"}]}"#;
    let o = &parse_document(doc).expect("parse")[0];
    let refs: Vec<_> = o
        .external_refs()
        .map(|r| (r.source_name(), r.external_id()))
        .collect();
    assert_eq!(refs, [(Some("capec"), Some("CAPEC-163"))]);
    let k = o.kill_chain_phases().next().expect("phase");
    assert_eq!(
        (k.kill_chain_name(), k.phase_name()),
        (Some("k"), Some("p"))
    );
    assert_eq!(
        o.all_marking_refs().collect::<Vec<_>>(),
        ["marking-definition--a", "marking-definition--b"]
    );
    assert_eq!(
        o.granular_marking_views()
            .next()
            .map(|g| g.selectors().collect::<Vec<_>>()),
        Some(vec!["name"])
    );
}
