//! Round trip with real data: indicators built from maltrail trails in `../shared/data`
//! export to Zeek Intel and Suricata datasets, and reading those files back (with parsers
//! written here from the formats' documentation) gives the same value set.

use std::collections::BTreeSet;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sensors::select::{LinkStyle, select};
use sensors::suricata::{Datasets, Set};
use sensors::{Kind, zeek};

const FAMILIES: [&str; 4] = [
    "bianlian.txt",
    "apt_barium.txt",
    "1312.txt",
    "sinkhole_certpl.txt",
];

/// STIX pattern string literal (STIX 2.1 §9: `\'` and `\\`).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Indicators from the trail files, and the values a reader should get back by kind.
fn trails() -> (String, BTreeSet<(Kind, String)>, usize) {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/maltrail/static/malware");
    let mut objects = Vec::new();
    let mut expected = BTreeSet::new();
    let mut not_exportable = 0;
    for family in FAMILIES {
        let path = dir.join(family);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (shared data missing?)", path.display()));
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (pattern, value) = if line.contains("://") {
                (
                    format!("[url:value = {}]", lit(line)),
                    Some((Kind::Url, line.to_owned())),
                )
            } else if let Some((ip, port)) = line.split_once(':') {
                // IP:port needs two properties together: not a plain observable.
                not_exportable += 1;
                (
                    format!(
                        "[network-traffic:dst_ref.value = {} AND network-traffic:dst_port = {}]",
                        lit(ip),
                        port.parse::<u16>().unwrap_or(0)
                    ),
                    None,
                )
            } else if line.parse::<std::net::Ipv4Addr>().is_ok() {
                (
                    format!("[ipv4-addr:value = {}]", lit(line)),
                    Some((Kind::Ip, line.to_owned())),
                )
            } else if line.contains('/') {
                // A path without a host: not a value a sensor list holds.
                continue;
            } else {
                (
                    format!("[domain-name:value = {}]", lit(line)),
                    Some((Kind::Domain, line.to_lowercase())),
                )
            };
            objects.push(serde_json::json!({
                "type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--{:08x}-0000-4000-8000-{:012x}", objects.len(), n),
                "created": "2025-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z",
                "name": family.trim_end_matches(".txt"),
                "pattern": pattern, "pattern_type": "stix", "valid_from": "2025-01-01T00:00:00Z"
            }));
            if let Some(v) = value {
                expected.insert(v);
            }
        }
    }
    let doc = serde_json::json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objects});
    (doc.to_string(), expected, not_exportable)
}

/// Zeek's `\xHH` escapes undone.
fn unescape(field: &str) -> String {
    let mut out = Vec::new();
    let b = field.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1] == b'x'
            && let Ok(v) = u8::from_str_radix(&field[i + 2..i + 4], 16)
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn maltrail_values_survive_zeek_and_suricata() {
    let (doc, expected, not_exportable) = trails();
    assert!(
        expected.len() > 100,
        "too few trails read: {}",
        expected.len()
    );
    let objects = stix::parse_document(doc.as_bytes()).expect("generated bundle parses");
    let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("instant");
    let mut selected = select(&objects, now);
    let s = selected.selection(&LinkStyle::StixId);
    assert_eq!(s.counts.not_exportable as usize, not_exportable);

    // Zeek: read the TSV back by its #fields header.
    let mut out = Vec::new();
    zeek::write(&s.exported, &mut out).expect("writes to a Vec");
    let text = String::from_utf8(out).expect("utf-8");
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .and_then(|h| h.strip_prefix("#fields\t"))
        .expect("#fields header")
        .split('\t')
        .collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (ind, ty) = (col("indicator"), col("indicator_type"));
    let mut from_zeek = BTreeSet::new();
    for line in lines {
        // Zeek's input reader skips comment lines other than #fields (here: #types).
        if line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), header.len(), "{line}");
        let kind = match f[ty] {
            "Intel::ADDR" => Kind::Ip,
            "Intel::DOMAIN" => Kind::Domain,
            "Intel::URL" => Kind::Url,
            other => panic!("unexpected type {other}"),
        };
        from_zeek.insert((kind, unescape(f[ind])));
    }
    let zeek_expected: BTreeSet<(Kind, String)> = expected
        .iter()
        .map(|(k, v)| {
            let v = if *k == Kind::Url {
                v.split_once("://")
                    .map_or(v.as_str(), |(_, rest)| rest)
                    .to_owned()
            } else {
                v.clone()
            };
            (*k, v)
        })
        .collect();
    assert_eq!(from_zeek, zeek_expected);

    // Suricata: decode the domain set and the IPv4 set.
    let d = Datasets::build(s.exported.iter().flat_map(|e| &e.values));
    let domains: BTreeSet<String> = d
        .lines(Set::Domain)
        .map(|l| String::from_utf8(STANDARD.decode(l).expect("base64")).expect("utf-8"))
        .collect();
    let ips: BTreeSet<String> = d.lines(Set::Ipv4).map(str::to_owned).collect();
    let want = |k: Kind| -> BTreeSet<String> {
        expected
            .iter()
            .filter(|(kk, _)| *kk == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(domains, want(Kind::Domain));
    assert_eq!(ips, want(Kind::Ip));
    let url_hosts = d.lines(Set::UrlHost).count();
    assert!(want(Kind::Url).is_empty() || url_hosts > 0);
}
