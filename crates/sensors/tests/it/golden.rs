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
    let s = select(&objects, now, &LinkStyle::StixId);
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
    let s = select(
        &objects,
        now,
        &LinkStyle::Taxii {
            collection_url: "https://taxii.example/api1/collections/c1/".into(),
        },
    );
    let mut out = Vec::new();
    zeek::write(&s.exported, &mut out).expect("writes to a Vec");
    check("zeek.intel", &utf8(out));
}

#[test]
fn csv_rows() {
    let (objects, now) = fixture();
    let s = select(&objects, now, &LinkStyle::StixId);
    let mut out = Vec::new();
    csv::write(&s.exported, &mut out).expect("writes to a Vec");
    check("values.csv", &utf8(out));
}

#[test]
fn stix_bundle() {
    let (objects, now) = fixture();
    let s = select(&objects, now, &LinkStyle::StixId);
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
    let s = select(&objects, now, &LinkStyle::StixId);
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
    let a = select(&objects, now, &LinkStyle::StixId);
    let b = select(&records, now, &LinkStyle::StixId);
    assert_eq!(a.exported, b.exported);
    assert_eq!(a.skipped, b.skipped);
    assert_eq!(a.counts, b.counts);
}
