//! Suricata EVE JSON to SCOs.
//!
//! Field names from the Suricata manual, "Eve JSON Format" (`output/eve/eve-json-format`).
//! Every record carries `timestamp`, `event_type` and, for flow-bound events, `src_ip`,
//! `src_port`, `dest_ip`, `dest_port`, `proto` and often `app_proto`: those become a
//! `network-traffic` (STIX 2.1 §6.12). Then each protocol object present in the record is
//! mapped, whatever the `event_type` (an `alert` or `fileinfo` record also carries the
//! `http` or `tls` object of its transaction):
//! * `dns` → `domain-name` for `rrname` (v1 `query`/`answer` records, v2 `answers` and
//!   `grouped`, v3 `queries`), answer `rdata` as addresses or names;
//! * `http` → `url`, host, and `http-request-ext` (method, url, `User-Agent`, `Host`);
//! * `tls` → `domain-name` for `sni`, `x509-certificate` (subject, issuerdn, serial,
//!   SHA-1 fingerprint, notbefore/notafter), `ja3.hash` as the custom SCO `x-ja3`;
//! * `fileinfo` → `file` (filename, md5/sha1/sha256, size);
//! * `smtp` / `email` → `email-addr` for `mail_from`, `rcpt_to`, `from`, `to`;
//! * `alert` → the custom SCO `x-suricata-alert` (signature, id, category, severity);
//! * `flow` → start/end and byte/packet counts on the `network-traffic`.

use serde_json::{Map, Value};

use crate::event::{Event, ObservationBuilder, Source};
use crate::reader::time;
use crate::reader::zeek::{add_email, add_http, hash_name};

fn s<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    o.get(k).and_then(Value::as_str).filter(|v| !v.is_empty())
}

fn obj<'a>(o: &'a Map<String, Value>, k: &str) -> Option<&'a Map<String, Value>> {
    o.get(k).and_then(Value::as_object)
}

/// Builds the event of one EVE record.
pub fn event(rec: &Map<String, Value>, source: &Source) -> Result<Event, String> {
    let stamp = s(rec, "timestamp").ok_or("EVE record without timestamp")?;
    let time = time::iso(stamp).ok_or_else(|| format!("invalid timestamp {stamp:?}"))?;
    let mut b = ObservationBuilder::new();
    let nt = network_traffic(rec, &mut b);
    if let Some(dns) = obj(rec, "dns") {
        self::dns(dns, &mut b);
    }
    if let Some(http) = obj(rec, "http") {
        add_http(
            &mut b,
            nt,
            s(http, "hostname"),
            s(http, "url"),
            s(http, "http_method"),
            s(http, "http_user_agent"),
            s(http, "protocol"),
        );
    }
    if let Some(tls) = obj(rec, "tls") {
        self::tls(tls, &mut b);
    }
    if let Some(f) = obj(rec, "fileinfo") {
        fileinfo(f, &mut b);
    }
    for key in ["smtp", "email"] {
        if let Some(m) = obj(rec, key) {
            for k in ["mail_from", "rcpt_to", "from", "to", "cc"] {
                match m.get(k) {
                    Some(Value::String(a)) => add_email(&mut b, a),
                    Some(Value::Array(list)) => {
                        for a in list.iter().filter_map(Value::as_str) {
                            add_email(&mut b, a);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some(a) = obj(rec, "alert") {
        let mut o = Map::new();
        for k in [
            "signature",
            "signature_id",
            "category",
            "severity",
            "gid",
            "rev",
            "action",
        ] {
            if let Some(v) = a.get(k).filter(|v| !v.is_null()) {
                o.insert(k.into(), v.clone());
            }
        }
        if !o.is_empty() {
            b.object("x-suricata-alert", o);
        }
    }
    if let (Some(flow), Some(nt)) = (obj(rec, "flow"), nt) {
        let mut add = Map::new();
        for (e, st) in [
            ("bytes_toserver", "src_byte_count"),
            ("bytes_toclient", "dst_byte_count"),
            ("pkts_toserver", "src_packets"),
            ("pkts_toclient", "dst_packets"),
        ] {
            if let Some(v) = flow.get(e).and_then(Value::as_u64) {
                add.insert(st.into(), v.into());
            }
        }
        let start = s(flow, "start").and_then(time::iso);
        let end = s(flow, "end").and_then(time::iso);
        // STIX 2.1 §6.12: `end` must not be before `start`.
        if let Some(st) = start {
            add.insert("start".into(), time::stix(st).into());
        }
        if let Some(en) = end.filter(|e| start.is_none_or(|st| st <= *e)) {
            add.insert("end".into(), time::stix(en).into());
        }
        if let Some(o) = b.get_mut(nt) {
            o.extend(add);
        }
    }
    Ok(Event {
        time,
        observation: b.finish(time, source),
        quiet: None,
        source: source.clone(),
    })
}

/// The 5-tuple as `network-traffic`.
fn network_traffic(rec: &Map<String, Value>, b: &mut ObservationBuilder) -> Option<usize> {
    let src = s(rec, "src_ip").and_then(|h| b.ip(h));
    let dst = s(rec, "dest_ip").and_then(|h| b.ip(h));
    if src.is_none() && dst.is_none() {
        return None;
    }
    let mut props = Map::new();
    if let Some(i) = src {
        props.insert("src_ref".into(), b.id(i));
    }
    if let Some(i) = dst {
        props.insert("dst_ref".into(), b.id(i));
    }
    for (e, st) in [("src_port", "src_port"), ("dest_port", "dst_port")] {
        if let Some(p) = rec.get(e).and_then(Value::as_u64).filter(|p| *p <= 65535) {
            props.insert(st.into(), p.into());
        }
    }
    let mut protocols: Vec<Value> = Vec::new();
    if let Some(p) = s(rec, "proto") {
        protocols.push(p.to_ascii_lowercase().into());
    }
    if let Some(p) = s(rec, "app_proto").filter(|p| !matches!(*p, "failed" | "unknown")) {
        protocols.push(p.to_ascii_lowercase().into());
    }
    if protocols.is_empty() {
        let v6 = s(rec, "src_ip").is_some_and(|h| h.contains(':'));
        protocols.push(if v6 { "ipv6" } else { "ipv4" }.into());
    }
    props.insert("protocols".into(), Value::Array(protocols));
    Some(b.object("network-traffic", props))
}

/// The DNS object, in each of the EVE DNS layouts.
fn dns(d: &Map<String, Value>, b: &mut ObservationBuilder) {
    let mut query = s(d, "rrname").and_then(|n| b.host(n));
    if let Some(Value::Array(queries)) = d.get("queries") {
        for q in queries.iter().filter_map(Value::as_object) {
            let i = s(q, "rrname").and_then(|n| b.host(n));
            query = query.or(i);
        }
    }
    let mut answers = Vec::new();
    // v1 answer records carry `rdata` beside `rrname`.
    if s(d, "type") == Some("answer")
        && let Some(i) = s(d, "rdata").and_then(|r| b.host(r))
    {
        answers.push(i);
    }
    if let Some(Value::Array(list)) = d.get("answers") {
        for a in list.iter().filter_map(Value::as_object) {
            if let Some(i) = s(a, "rdata").and_then(|r| b.host(r)) {
                answers.push(i);
            }
        }
    }
    if let Some(Value::Object(grouped)) = d.get("grouped") {
        for list in grouped.values().filter_map(Value::as_array) {
            for r in list.iter().filter_map(Value::as_str) {
                if let Some(i) = b.host(r) {
                    answers.push(i);
                }
            }
        }
    }
    if let Some(q) = query {
        let refs: Vec<Value> = answers
            .iter()
            .filter(|a| **a != q)
            .map(|a| b.id(*a))
            .collect();
        if !refs.is_empty()
            && let Some(o) = b.get_mut(q)
            && o.get("type").and_then(Value::as_str) == Some("domain-name")
        {
            o.insert("resolves_to_refs".into(), Value::Array(refs));
        }
    }
}

/// The TLS object.
fn tls(t: &Map<String, Value>, b: &mut ObservationBuilder) {
    if let Some(sni) = s(t, "sni") {
        b.host(sni);
    }
    let mut cert = Map::new();
    if let Some(fp) = s(t, "fingerprint") {
        // Suricata writes the SHA-1 of the certificate as colon-separated hex.
        let hex: String = fp
            .chars()
            .filter(|c| *c != ':')
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(name) = hash_name(&hex) {
            let mut hashes = Map::new();
            hashes.insert(name.into(), hex.into());
            cert.insert("hashes".into(), Value::Object(hashes));
        }
    }
    for (e, st) in [
        ("subject", "subject"),
        ("issuerdn", "issuer"),
        ("serial", "serial_number"),
    ] {
        if let Some(v) = s(t, e) {
            cert.insert(st.into(), v.into());
        }
    }
    for (e, st) in [
        ("notbefore", "validity_not_before"),
        ("notafter", "validity_not_after"),
    ] {
        if let Some(v) = s(t, e).and_then(time::iso) {
            cert.insert(st.into(), time::stix(v).into());
        }
    }
    if !cert.is_empty() {
        b.object("x509-certificate", cert);
    }
    if let Some(ja3) = obj(t, "ja3").and_then(|j| s(j, "hash")) {
        let mut o = Map::new();
        o.insert("value".into(), ja3.into());
        if let Some(js) = obj(t, "ja3s").and_then(|j| s(j, "hash")) {
            o.insert("server_value".into(), js.into());
        }
        b.object("x-ja3", o);
    }
}

/// The fileinfo object (STIX 2.1 §6.7: a file needs `hashes` or `name`).
fn fileinfo(f: &Map<String, Value>, b: &mut ObservationBuilder) {
    let mut file = Map::new();
    let mut hashes = Map::new();
    for (e, st) in [("md5", "MD5"), ("sha1", "SHA-1"), ("sha256", "SHA-256")] {
        if let Some(h) = s(f, e).filter(|h| hash_name(h) == Some(st)) {
            hashes.insert(st.into(), h.to_ascii_lowercase().into());
        }
    }
    if !hashes.is_empty() {
        file.insert("hashes".into(), Value::Object(hashes));
    }
    if let Some(n) = s(f, "filename") {
        file.insert("name".into(), n.into());
    }
    if let Some(size) = f.get("size").and_then(Value::as_u64) {
        file.insert("size".into(), size.into());
    }
    if file.contains_key("hashes") || file.contains_key("name") {
        b.object("file", file);
    }
}
