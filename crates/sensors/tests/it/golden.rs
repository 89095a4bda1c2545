//! Every format's output for the fixed input `tests/golden/input.json`.

use sensors::select::{LinkStyle, select};
use sensors::suricata::{Datasets, Set};
use sensors::{bundle, csv, zeek};

use crate::{check, fixture};

fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("outputs are UTF-8")
}

#[test]
fn selection_counts_and_reasons() {
    let (objects, now) = fixture();
    let mut selected = select(&objects, now);
    let s = selected.selection(&LinkStyle::StixId);
    let mut report = format!("{:?}\n", s.counts);
    for skipped in &s.skipped {
        report.push_str(&format!("{}: {}\n", skipped.id, skipped.reason));
    }
    check("skipped.txt", &report);
    assert_eq!(s.counts.indicators, 19);
    assert_eq!(s.counts.superseded, 1);
    assert_eq!(s.counts.revoked, 1);
    assert_eq!(s.counts.expired, 1);
    assert_eq!(s.counts.not_exportable, 4);
    assert_eq!(s.counts.invalid, 1);
    assert_eq!(s.counts.exported, 12);
    // The later version of a rotated indicator wins, though it came first.
    assert!(s.exported.iter().any(|e| e.name == "Rotated C2 (v2)"));
    assert!(!s.exported.iter().any(|e| e.name == "Rotated C2 (v1)"));
}

#[test]
fn zeek_intel() {
    let (objects, now) = fixture();
    let mut selected = select(&objects, now);
    let s = selected.selection(&LinkStyle::Taxii {
        collection_url: "https://taxii.example/api1/collections/c1/".into(),
    });
    let mut out = Vec::new();
    zeek::write(&s.exported, &mut out).expect("writes to a Vec");
    check("zeek.intel", &utf8(out));
}

#[test]
fn csv_rows() {
    let (objects, now) = fixture();
    let mut selected = select(&objects, now);
    let s = selected.selection(&LinkStyle::StixId);
    let mut out = Vec::new();
    csv::write(&s.exported, &mut out).expect("writes to a Vec");
    check("values.csv", &utf8(out));
}

#[test]
fn stix_bundle() {
    let (objects, now) = fixture();
    let mut selected = select(&objects, now);
    let s = selected.selection(&LinkStyle::StixId);
    let mut out = Vec::new();
    bundle::write(
        &s.exported,
        "bundle--6f1b8a38-1f55-4c6e-9f3e-2a1d6c0b7e11",
        &mut out,
    )
    .expect("writes to a Vec");
    let text = utf8(out);
    check("bundle.json", &text);
    // What we write is a STIX document our own parser reads back, every indicator whole.
    let back = stix::parse_document(text.as_bytes()).expect("the bundle parses");
    assert_eq!(back.len(), s.exported.len());
    for (o, e) in back.iter().zip(&s.exported) {
        assert_eq!(o.id(), Some(e.id));
    }
}

#[test]
fn suricata_datasets_and_rules() {
    let (objects, now) = fixture();
    let mut selected = select(&objects, now);
    let s = selected.selection(&LinkStyle::StixId);
    let d = Datasets::build(s.exported.iter().flat_map(|e| &e.values));
    for set in Set::ALL {
        let mut text = String::new();
        for line in d.lines(set) {
            text.push_str(line);
            text.push('\n');
        }
        check(&format!("suricata/{}", set.file_name()), &text);
    }
    check("suricata/entente.rules", &d.rules(1_980_000));
    // email x2, software, user name: no Suricata 7 keyword.
    assert_eq!(d.unsupported(), 4);
}

#[test]
fn the_fast_reader_selects_exactly_as_the_stix_parser() {
    let (objects, now) = fixture();
    let bytes = std::fs::read(crate::golden_path("input.json")).expect("golden input");
    let records = sensors::parse_records(&bytes).expect("golden input reads");
    assert_eq!(records.len(), objects.len());
    let mut selected_a = select(&objects, now);
    let a = selected_a.selection(&LinkStyle::StixId);
    let mut selected_b = select(&records, now);
    let b = selected_b.selection(&LinkStyle::StixId);
    assert_eq!(a.exported, b.exported);
    assert_eq!(a.skipped, b.skipped);
    assert_eq!(a.counts, b.counts);
}

#[test]
fn streamed_records_select_exactly_as_parsed_objects() {
    let (objects, now) = fixture();
    let bytes = std::fs::read(crate::golden_path("input.json")).expect("golden input");
    let links = LinkStyle::Taxii {
        collection_url: "https://taxii.example/api1/collections/c1/".into(),
    };
    let mut selected_a = select(&objects, now);
    let a = selected_a.selection(&links);
    for keep_raw in [true, false] {
        // Each record is dropped right after it is added, as an export drops its batches.
        let mut selector = sensors::Selector::new(now, keep_raw);
        sensors::each_record(&bytes, |r| selector.add(&r)).expect("golden input reads");
        let mut selected = selector.finish();
        let b = selected.selection(&links);
        assert_eq!(a.skipped, b.skipped);
        assert_eq!(a.counts, b.counts);
        assert_eq!(a.exported.len(), b.exported.len());
        for (x, y) in a.exported.iter().zip(&b.exported) {
            let raw = if keep_raw { x.raw } else { "" };
            assert_eq!(&sensors::Exported { raw, ..x.clone() }, y);
        }
    }
    // The golden input has a superseded version and identities after their indicators.
    assert_eq!(a.counts.superseded, 1);
}

#[test]
fn the_streaming_selector_takes_a_later_version_in_place_and_ignores_an_earlier_one() {
    let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("fixed instant");
    let ind = |id: u32, modified: &str, pattern: &str| {
        format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{id:012}","created":"2020-01-01T00:00:00.000Z","modified":"{modified}","name":"v{modified}","pattern":"{pattern}","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}}"#
        )
    };
    let doc = [
        ind(
            1,
            "2020-01-02T00:00:00.000Z",
            "[ipv4-addr:value = '10.0.0.1']",
        ),
        ind(
            2,
            "2020-01-01T00:00:00.000Z",
            "[ipv4-addr:value = '10.0.0.2']",
        ),
        // Newer: replaces id 1 (now not exportable), keeping its place.
        ind(
            1,
            "2020-01-03T00:00:00.000Z",
            "[ipv4-addr:value = '10.0.0.1'] AND [ipv4-addr:value = '10.0.0.3']",
        ),
        // Older than what is held for id 2: ignored.
        ind(
            2,
            "2019-12-31T00:00:00.000Z",
            "[ipv4-addr:value = '10.9.9.9']",
        ),
        ind(
            3,
            "2020-01-01T00:00:00.000Z",
            "[ipv4-addr:value = '10.0.0.4']",
        ),
    ]
    .join("\n");
    let records = sensors::parse_records(doc.as_bytes()).expect("reads");
    let mut selected_a = select(&records, now);
    let a = selected_a.selection(&LinkStyle::StixId);
    let mut selector = sensors::Selector::new(now, true);
    for r in &records {
        selector.add(r);
    }
    let mut selected = selector.finish();
    let b = selected.selection(&LinkStyle::StixId);
    assert_eq!(a.exported, b.exported);
    assert_eq!(a.skipped, b.skipped);
    assert_eq!(a.counts, b.counts);
    let values: Vec<&str> = b
        .exported
        .iter()
        .flat_map(|e| e.values.iter().map(|v| v.value.as_str()))
        .collect();
    assert_eq!(values, ["10.0.0.2", "10.0.0.4"]);
    assert_eq!(b.skipped.len(), 1);
    assert_eq!(b.counts.superseded, 2);
}
