//! The oracle: maltrail IPs and domains as equality indicators over real Zeek and Suricata
//! logs. The alerts must equal, line for line, what a plain set look-up of the same values in
//! the same fields finds. The look-up below reads the logs itself (serde_json, a minimal TSV
//! split) and shares no code with the readers.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::BufRead;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use hunt::engine::{Compiled, EachIndicator, Engine};
use hunt::hunt::Hunter;
use hunt::{Format, Reader};
use serde_json::{Value, json};

use crate::support::data;

/// The logs hunted: every Zeek log with addresses or names of the OTRF and slips sets, and
/// the Suricata EVE file.
fn logs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [
        "otrf-apt29-zeek/day1",
        "slips-ctu/zeek/test9-mixed-zeek-dir",
        "slips-ctu/zeek/test10-mixed-zeek-dir",
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(data(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                ["conn", "dns", "http", "ssl", "files", "notice", "x509"]
                    .iter()
                    .any(|l| n.contains(&format!("{l}.log")))
            })
            .collect();
        files.sort();
        out.extend(files);
    }
    out.push(data("slips-ctu/suricata/test6-malicious.suricata.json.gz"));
    out
}

/// maltrail's IPv4 addresses and domain names (URLs, IP:port and paths are left out: they
/// are not values of a single SCO property).
fn maltrail() -> (HashSet<String>, HashSet<String>) {
    let mut ips = HashSet::new();
    let mut domains = HashSet::new();
    let mut files = Vec::new();
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(p).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.to_string_lossy().contains(".txt") {
                out.push(p);
            }
        }
    }
    walk(&data("maltrail/static"), &mut files);
    for f in files {
        let r = hunt::input::open(&f).unwrap();
        for line in r.lines() {
            let Ok(line) = line else { continue };
            let v = line
                .split('#')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if v.is_empty() {
                continue;
            }
            if v.parse::<Ipv4Addr>().is_ok() {
                ips.insert(v);
            } else if v.contains('.')
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
            {
                domains.insert(v);
            }
        }
    }
    (ips, domains)
}

/// Values of one record, by the fields the look-up knows: Zeek (both name styles) and EVE.
fn record_values(rec: &serde_json::Map<String, Value>, out: &mut Vec<String>) {
    let mut push = |v: &Value| {
        if let Some(s) = v.as_str() {
            let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
            // An HTTP host may carry a port.
            let s = match s.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => {
                    h.to_owned()
                }
                _ => s,
            };
            out.push(s);
        }
    };
    let mut each = |v: Option<&Value>| match v {
        Some(Value::Array(items)) => items.iter().for_each(&mut push),
        Some(v) => push(v),
        None => {}
    };
    for k in [
        "id.orig_h",
        "id_orig_h",
        "id.resp_h",
        "id_resp_h",
        "query",
        "answers",
        "host",
        "server_name",
        "tx_hosts",
        "rx_hosts",
        "src",
        "dst",
        "san.dns",
        "san_dns",
        "src_ip",
        "dest_ip",
    ] {
        each(rec.get(k));
    }
    let sub = |o: &str, k: &str| rec.get(o).and_then(|x| x.get(k));
    each(sub("dns", "rrname"));
    if sub("dns", "type").and_then(Value::as_str) == Some("answer") {
        each(sub("dns", "rdata"));
    }
    if let Some(Value::Array(a)) = sub("dns", "answers") {
        for x in a {
            each(x.get("rdata"));
        }
    }
    if let Some(Value::Object(g)) = sub("dns", "grouped") {
        for v in g.values() {
            each(Some(v));
        }
    }
    each(sub("http", "hostname"));
    each(sub("tls", "sni"));
}

/// For every record line of a log, its values: `(line number, values)`.
type Records = Vec<(u64, Vec<String>)>;

/// Reads a log's records the look-up's way.
fn lookup_values(path: &Path) -> Records {
    let r = hunt::input::open(path).unwrap();
    let mut fields: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (i, line) in r.lines().enumerate() {
        let line = line.unwrap();
        let n = i as u64 + 1;
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("#fields\t") {
            fields = rest.split('\t').map(str::to_owned).collect();
            continue;
        }
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        let rec: serde_json::Map<String, Value> = if t.starts_with('{') {
            match serde_json::from_str(t) {
                Ok(r) => r,
                Err(_) => continue,
            }
        } else {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() != fields.len() {
                continue;
            }
            fields
                .iter()
                .zip(cols)
                .filter(|(_, v)| *v != "-" && *v != "(empty)")
                .map(|(k, v)| {
                    (
                        k.clone(),
                        Value::Array(v.split(',').map(|s| json!(s)).collect()),
                    )
                })
                .collect()
        };
        let mut values = Vec::new();
        record_values(&rec, &mut values);
        out.push((n, values));
    }
    out
}

/// Hunts every log with `engine`; the alert lines and the event count.
fn hunt_with(engine: &mut dyn Engine, logs: &[PathBuf]) -> (Vec<u8>, u64) {
    let mut hunter = Hunter::new(engine);
    let mut alerts = Vec::new();
    for p in logs {
        let r = Reader::open(p, Format::Auto, None).unwrap();
        for item in r {
            match item.unwrap() {
                Ok(e) => {
                    hunter.event(&e, &mut alerts).unwrap();
                }
                Err(b) => hunter.bad_line(&b),
            }
        }
    }
    (alerts, hunter.stats().events)
}

#[test]
fn maltrail_equality_alerts_equal_a_set_lookup() {
    let (ips, domains) = maltrail();
    assert!(
        ips.len() > 10_000 && domains.len() > 100_000,
        "{} {}",
        ips.len(),
        domains.len()
    );
    let logs = logs();

    // The look-up's view of every log.
    let per_log: Vec<(String, Records)> = logs
        .iter()
        .map(|p| (p.to_string_lossy().into_owned(), lookup_values(p)))
        .collect();
    // The readers' values too, so that an indicator the readers would hit in a field the
    // look-up does not know is hunted (and then shows as a difference).
    let mut seen: HashSet<String> = HashSet::new();
    for (_, recs) in &per_log {
        for (_, vs) in recs {
            seen.extend(vs.iter().cloned());
        }
    }
    for p in &logs {
        let r = Reader::open(p, Format::Auto, None).unwrap();
        for item in r {
            if let Ok(Ok(e)) = item {
                for o in e.scos() {
                    if let Some(v) = o.get("value").and_then(Value::as_str) {
                        seen.insert(v.to_owned());
                    }
                }
            }
        }
    }
    // Indicators: every maltrail value seen in the logs, plus 300 that are not (first in
    // sorted order), so that misses are exercised as well as hits.
    let mut chosen: BTreeSet<(bool, String)> = BTreeSet::new();
    for v in &seen {
        if ips.contains(v) {
            chosen.insert((true, v.clone()));
        } else if domains.contains(v) {
            chosen.insert((false, v.clone()));
        }
    }
    let hits_possible = chosen.len();
    let mut extra_ips: Vec<&String> = ips.iter().filter(|v| !seen.contains(*v)).collect();
    extra_ips.sort();
    let mut extra_domains: Vec<&String> = domains.iter().filter(|v| !seen.contains(*v)).collect();
    extra_domains.sort();
    chosen.extend(extra_ips.into_iter().take(150).map(|v| (true, v.clone())));
    chosen.extend(
        extra_domains
            .into_iter()
            .take(150)
            .map(|v| (false, v.clone())),
    );

    let mut objects = Vec::new();
    let mut by_value: HashMap<String, String> = HashMap::new();
    for (i, (is_ip, v)) in chosen.iter().enumerate() {
        let id = format!("indicator--00000000-0000-4000-8000-{i:012}");
        let pattern = if *is_ip {
            format!("[ipv4-addr:value = '{v}']")
        } else {
            format!("[domain-name:value = '{v}']")
        };
        objects.push(json!({
            "type": "indicator", "spec_version": "2.1", "id": id,
            "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
            "name": v, "pattern": pattern, "pattern_type": "stix",
            "valid_from": "1970-01-01T00:00:00Z"
        }));
        by_value.insert(v.clone(), id);
    }
    let bundle = json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objects});
    let (indicators, report) =
        hunt::indicators::load(bundle.to_string().as_bytes(), "maltrail", None).unwrap();
    assert_eq!(report.loaded as usize, chosen.len());
    // The single-pattern evaluator over every indicator, and the compiled matcher.
    let mut each = EachIndicator::new(indicators.clone());
    let mut compiled = Compiled::new(indicators);
    assert!(compiled.skipped.is_empty(), "{:?}", compiled.skipped);
    let (alerts, events) = hunt_with(&mut each, &logs);
    let (compiled_alerts, _) = hunt_with(&mut compiled, &logs);
    assert!(
        alerts == compiled_alerts,
        "the compiled matcher's alerts differ from the evaluator's"
    );

    // What the hunt found: (file, line, indicator), with the matched value checked.
    let mut got: BTreeSet<(String, u64, String)> = BTreeSet::new();
    for line in alerts.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let a: Value = serde_json::from_slice(line).unwrap();
        let ind = a["indicator"].as_str().unwrap().to_owned();
        let value = a["name"].as_str().unwrap();
        assert_eq!(a["matched"][0]["value"], value, "{a}");
        let key = (
            a["source"]["file"].as_str().unwrap().to_owned(),
            a["source"]["line"].as_u64().unwrap(),
            ind,
        );
        assert!(got.insert(key.clone()), "duplicate alert {key:?}");
    }
    // What the look-up finds.
    let mut want: BTreeSet<(String, u64, String)> = BTreeSet::new();
    for (file, recs) in &per_log {
        for (line, values) in recs {
            for v in values {
                if let Some(id) = by_value.get(v) {
                    want.insert((file.clone(), *line, id.clone()));
                }
            }
        }
    }
    eprintln!(
        "oracle: {} indicators ({hits_possible} seen in the logs), {} events, {} alerts",
        chosen.len(),
        events,
        got.len()
    );
    assert!(!want.is_empty(), "the oracle found nothing to compare");
    let missing: Vec<_> = want.difference(&got).take(5).collect();
    let extra: Vec<_> = got.difference(&want).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
}
