//! MISP events: the whole CIRCL feed accounted for and valid, golden files, re-mapping.

use feeds::misp::{FeedMapper, manifest_events};
use feeds::{Mapped, Origin};
use serde_json::Value;

use crate::{assert_valid, check_golden, read, shared};

/// Attributes in an event file, counted independently of the mapper.
fn attribute_count(bytes: &[u8]) -> usize {
    let v: Value = serde_json::from_slice(bytes).expect("event JSON");
    let e = &v["Event"];
    let n = |x: &Value| x.as_array().map_or(0, Vec::len);
    n(&e["Attribute"])
        + e["Object"]
            .as_array()
            .map_or(0, |objs| objs.iter().map(|o| n(&o["Attribute"])).sum())
}

fn circl() -> Vec<(String, Vec<u8>)> {
    let dir = shared().join("misp-feed-circl/feed");
    let manifest = read(&dir.join("manifest.json"));
    manifest_events(&manifest)
        .expect("manifest lists events")
        .into_iter()
        .map(|u| {
            let bytes = read(&dir.join(format!("{u}.json")));
            (u, bytes)
        })
        .collect()
}

#[test]
fn whole_circl_feed_every_attribute_accounted_for_and_valid() {
    let events = circl();
    assert_eq!(events.len(), 2);
    let mut mapper = FeedMapper::new();
    let mut all = Vec::new();
    let mut attributes = 0;
    let mut accounted = 0;
    for (uuid, bytes) in &events {
        let m = mapper.map_event(bytes).expect("CIRCL events parse");
        attributes += attribute_count(bytes);
        accounted += m.accepted as usize + m.refused.len();
        for r in &m.refused {
            assert!(
                matches!(r.origin, Origin::Attribute(_)),
                "{uuid}: unexpected refusal {r}"
            );
        }
        all.extend(m.objects);
    }
    assert_eq!(attributes, 152, "PROVENANCE.md: 152 attributes");
    assert_eq!(accounted, attributes);
    assert_valid(&all);
    // One report per event, one identity (CIRCL), the TLP:CLEAR marking (tlp:white).
    let count = |t: &str| all.iter().filter(|o| o.type_name == t).count();
    assert_eq!(count("report"), 2);
    assert_eq!(count("identity"), 1);
    assert_eq!(count("marking-definition"), 1);
    // Every to_ids attribute but links is an indicator: 152 - 25 links.
    assert_eq!(count("indicator"), 127);
}

#[test]
fn circl_reports_list_their_objects_and_carry_tlp_clear() {
    let events = circl();
    let mut mapper = FeedMapper::new();
    let (_, bytes) = events
        .iter()
        .find(|(u, _)| u.starts_with("5721c2e4"))
        .expect("event 5721c2e4");
    let m = mapper.map_event(bytes).expect("parse");
    let report: Value = serde_json::from_str(
        &m.objects
            .iter()
            .find(|o| o.type_name == "report")
            .expect("report")
            .json,
    )
    .unwrap();
    let refs = report["object_refs"].as_array().unwrap();
    // 127 indicators and the identity.
    assert_eq!(refs.len(), 128);
    assert_eq!(
        report["object_marking_refs"][0],
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
    );
    // 25 links as external references, after the MISP event's own.
    assert_eq!(report["external_references"].as_array().unwrap().len(), 26);
    assert_eq!(report["modified"], "2016-04-28T08:18:18.000Z");
    assert_eq!(report["created"], "2016-04-28T00:00:00.000Z");
    assert!(
        report["created_by_ref"]
            .as_str()
            .unwrap()
            .starts_with("identity--")
    );
}

#[test]
fn golden_circl_header_only_event() {
    let events = circl();
    let (_, bytes) = events
        .iter()
        .find(|(u, _)| u.starts_with("57e27c3d"))
        .expect("event 57e27c3d");
    let m = FeedMapper::new().map_event(bytes).expect("parse");
    assert_valid(&m.objects);
    check_golden("circl-57e27c3d.json", &m.objects);
}

fn mixed() -> Mapped {
    let bytes = read(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/misp-event-mixed.json"),
    );
    FeedMapper::new().map_event(&bytes).expect("parse")
}

#[test]
fn golden_mixed_event_composites_objects_galaxies_tlp() {
    let m = mixed();
    let warnings = assert_valid(&m.objects);
    assert!(warnings.is_empty(), "{warnings:#?}");
    check_golden("misp-event-mixed.json", &m.objects);
}

#[test]
fn mixed_event_accounting_and_refusals() {
    let m = mixed();
    // 12 attributes + 4 + 3 in objects.
    assert_eq!(m.accepted as usize + m.refused.len(), 19);
    let refused: Vec<String> = m.refused.iter().map(|r| r.to_string()).collect();
    assert_eq!(refused.len(), 3, "{refused:#?}");
    assert!(refused[0].starts_with(
        "attribute a0000001-0000-4000-8000-000000000008: unsupported MISP attribute type \"btc\""
    ));
    assert!(refused[1].starts_with(
        "attribute a0000001-0000-4000-8000-000000000009: \"999.1.2.3\" is not an IP address"
    ));
    assert!(refused[2].contains("c0000001-0000-4000-8000-000000000004"));
    let count = |t: &str| m.objects.iter().filter(|o| o.type_name == t).count();
    // ATT&CK: T1566 (event tag), T1566.001 (galaxy), T1071 (attribute tag).
    assert_eq!(count("attack-pattern"), 3);
    assert_eq!(count("relationship"), 1);
    // TLP:AMBER for the event, TLP:RED for the attribute that narrowed it.
    assert_eq!(count("marking-definition"), 2);
    let red = m
        .objects
        .iter()
        .find(|o| o.json.contains("c2.example.net|") || o.json.contains("resolves_to_refs"))
        .expect("the domain|ip indicator");
    assert_eq!(red.tlp, stix::TlpLevel::Red);
    // to_ids false: observed-data, never an indicator.
    assert_eq!(count("observed-data"), 3);
    assert!(
        !m.objects
            .iter()
            .any(|o| o.type_name == "indicator" && o.json.contains("203.0.113.5"))
    );
}

#[test]
fn remapping_gives_the_same_ids_and_a_later_timestamp_a_new_version() {
    let bytes = read(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/misp-event-mixed.json"),
    );
    let a = FeedMapper::new().map_event(&bytes).unwrap();
    let b = FeedMapper::new().map_event(&bytes).unwrap();
    assert_eq!(a, b);
    let text = String::from_utf8(bytes).unwrap().replace(
        r#""value": "198.51.100.10|8443", "timestamp": "1709300100""#,
        r#""value": "198.51.100.10|8444", "timestamp": "1709400100""#,
    );
    let c = FeedMapper::new().map_event(text.as_bytes()).unwrap();
    let changed: Vec<_> = a
        .objects
        .iter()
        .zip(&c.objects)
        .filter(|(x, y)| x != y)
        .collect();
    assert_eq!(changed.len(), 1);
    let (old, new) = changed[0];
    assert_eq!(old.id, new.id);
    assert!(new.version > old.version);
}

#[test]
fn bad_events_are_errors_not_panics() {
    let mut m = FeedMapper::new();
    assert!(m.map_event(b"not json").is_err());
    assert!(m.map_event(b"[]").is_err());
    assert!(m.map_event(br#"{"Event": {"info": "x"}}"#).is_err());
    let r = m
        .map_event(br#"{"Event": {"uuid": "3f1c6a2e-5b7d-4e8a-9c0f-1a2b3c4d5e60", "date": "2024-01-01", "Attribute": [7, {"type": "ip-dst"}]}}"#)
        .unwrap();
    assert_eq!(r.accepted, 0);
    // Two bad attributes and an event with nothing to report.
    assert_eq!(r.refused.len(), 3);
}
