//! Sightings: one per matched indicator, valid STIX 2.1 with no errors and no warnings.

use hunt::engine::Compiled;
use hunt::hunt::Hunter;
use hunt::{Format, Reader};
use serde_json::json;

use crate::support::data;

#[test]
fn sightings_bundle_validates() {
    let bundle = json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--6b1b6d0a-5b9a-4b8e-9f59-0c1a6a0f3d11",
         "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
         "name": "dc", "pattern": "[ipv4-addr:value = '10.0.0.4']", "pattern_type": "stix",
         "valid_from": "2020-01-01T00:00:00Z"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0f6a0c49-8c1f-4a59-a0b4-3f4d3b2a1c22",
         "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
         "name": "before it was valid", "pattern": "[domain-name:value = 'newyork.dmevals.local']",
         "pattern_type": "stix", "valid_from": "2025-01-01T00:00:00Z"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--9d1c5e77-1a2b-4c3d-8e9f-a0b1c2d3e4f5",
         "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
         "name": "yara", "pattern": "rule x { condition: true }", "pattern_type": "yara",
         "valid_from": "2020-01-01T00:00:00Z"}
    ]});
    let (indicators, report) =
        hunt::indicators::load(bundle.to_string().as_bytes(), "t", None).unwrap();
    assert_eq!((report.loaded, report.not_stix), (2, 1));
    let mut engine = Compiled::new(indicators);
    let mut hunter = Hunter::new(&mut engine);
    let mut alerts = Vec::new();
    let path = data("otrf-apt29-zeek/day1/SCRANTON_dns.log");
    for item in Reader::open(&path, Format::Auto, None).unwrap() {
        hunter.event(&item.unwrap().unwrap(), &mut alerts).unwrap();
    }
    let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let out = hunter.sightings().bundle("ACME SOC", now);
    let objects = out["objects"].as_array().unwrap();
    // The identity and one sighting: the second indicator is not valid yet at the events'
    // times (valid_from 2025), the third is not a STIX pattern.
    assert_eq!(objects.len(), 2);
    let s = &objects[1];
    assert_eq!(
        s["sighting_of_ref"],
        "indicator--6b1b6d0a-5b9a-4b8e-9f59-0c1a6a0f3d11"
    );
    assert_eq!(s["where_sighted_refs"], json!([objects[0]["id"]]));
    assert_eq!(s["created_by_ref"], objects[0]["id"]);
    let n_alerts = alerts
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count() as u64;
    assert_eq!(s["count"], n_alerts);
    assert!(n_alerts > 0);
    assert!(s["first_seen"].as_str().unwrap() <= s["last_seen"].as_str().unwrap());

    let text = serde_json::to_string_pretty(&out).unwrap();
    let parsed = stix::parse_document(text.as_bytes()).unwrap();
    let diags = stix::validate_document(&parsed, &stix::ValidateOptions::default());
    assert!(diags.is_empty(), "{diags:?}");
    // Deterministic: the same input gives the same ids.
    assert_eq!(hunter.sightings().bundle("ACME SOC", now), out);
}
