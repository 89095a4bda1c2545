//! MISP feed events turned into STIX 2.1.
//!
//! A MISP feed is a directory (or URL) with `manifest.json`, an object keyed by event uuid,
//! and one `<uuid>.json` per event holding `{"Event": {...}}` with its `Attribute`s,
//! `Object`s (groups of attributes), `Tag`s, `Galaxy` clusters and its creator `Orgc`.
//!
//! **Mapping** (one event at a time, [`FeedMapper::map_event`]):
//! - the event becomes a `report` (`name` = `info`, `published` = `publish_timestamp`,
//!   `object_refs` = everything made from the event), `created` = the event `date` at
//!   midnight UTC, `modified` = the event `timestamp`;
//! - `Orgc` becomes an `identity` (class `organization`) used as every object's
//!   `created_by_ref`;
//! - an attribute with `to_ids` true becomes an `indicator` whose STIX pattern tests its
//!   value (composite types such as `ip-dst|port`, `domain|ip`, `filename|sha256` become
//!   one observation with an `AND`); with `to_ids` false it becomes `observed-data` with
//!   its SCOs: MISP's `to_ids` says "do not alert on this", and an indicator would make
//!   every exporter turn it into a detection rule;
//! - `link` attributes become the report's `external_references`, `comment`/`text`/
//!   `other` attributes become `note`s on the report, `vulnerability` attributes become
//!   `vulnerability` objects;
//! - a MISP object (file, domain-ip, url, ...) becomes one indicator whose pattern ANDs its
//!   mappable attributes (one observation expression per SCO type, `IN` for repeated
//!   properties), or observed-data when none of them is `to_ids`;
//! - `tlp:*` tags become the TLP 2.0 marking definitions (`tlp:white` is CLEAR; an
//!   attribute's own tag can only narrow the event's level); ATT&CK galaxy clusters
//!   (`misp-galaxy:mitre-attack-pattern="Name - T1234"` tags, or `Galaxy` entries) become
//!   `attack-pattern`s with a `mitre-attack` external reference, listed by the report and,
//!   for attribute-level clusters, `indicates` relationships; any other tag becomes a label.
//!
//! **Ids** are UUIDv5 of the MISP uuids ([`crate::ids`]), technique ids and org uuids; the
//! MISP timestamps become `modified`, so an updated feed gives new versions of the same ids.
//! `identity` and `attack-pattern` objects carry a fixed timestamp: they only name things.
//!
//! **Accounting.** Every attribute, at event level or inside an object, is either
//! accepted ([`Mapped::accepted`]) or refused with its uuid and a reason ([`Mapped::refused`]):
//! an unsupported type, or a value that is not what its type says.

use std::collections::HashSet;

use serde_json::{Map, Value};
use stix::{StixObject, TlpLevel};

use crate::object::{Mapped, Object, Origin, Refusal, marking_object, quote, stix_time};
use crate::{FeedError, ids, ioc};

/// Largest event file accepted (MISP events with base64 samples can be large).
pub const MAX_EVENT_BYTES: usize = 256 << 20;
/// Most attributes (event level and in objects) accepted in one event.
pub const MAX_ATTRIBUTES: usize = 1_000_000;
/// Longest attribute value accepted.
pub const MAX_VALUE_LEN: usize = 65_536;

/// The timestamp of objects that only name things (identity, attack-pattern).
const FIXED_TIME: &str = "2000-01-01T00:00:00.000Z";

/// The event uuids a feed's `manifest.json` lists, in file order.
pub fn manifest_events(bytes: &[u8]) -> Result<Vec<String>, FeedError> {
    let value: Value = serde_json::from_slice(bytes)?;
    let Value::Object(map) = value else {
        return Err(FeedError::Format {
            what: "manifest",
            why: "not a JSON object keyed by event uuid".into(),
        });
    };
    let mut out = Vec::with_capacity(map.len());
    for key in map.keys() {
        if uuid::Uuid::parse_str(key).is_err() {
            return Err(FeedError::Format {
                what: "manifest",
                why: format!("key {key:?} is not an event uuid"),
            });
        }
        out.push(key.clone());
    }
    Ok(out)
}

/// One comparison of an observation: `type:path = literal`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cmp {
    ty: &'static str,
    path: Path,
    lit: Lit,
}

/// An object path of a comparison (STIX 2.1 §9.3), in the forms the mapping needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// A plain property: `value`, `name`, `dst_port`.
    Prop(&'static str),
    /// `hashes.KEY`.
    Hash(&'static str),
    /// `prop.value` through a reference to an SCO of the given type.
    Ref(&'static str, &'static str),
    /// `prop[*].value` through a list of references to SCOs of the given type.
    RefList(&'static str, &'static str),
}

impl Path {
    fn render(self) -> String {
        match self {
            Path::Prop(p) => p.to_owned(),
            Path::Hash(k) if k.bytes().all(|b| b.is_ascii_alphanumeric()) => format!("hashes.{k}"),
            Path::Hash(k) => format!("hashes.'{k}'"),
            Path::Ref(p, _) => format!("{p}.value"),
            Path::RefList(p, _) => format!("{p}[*].value"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Lit {
    Str(String),
    Int(u64),
}

impl Lit {
    fn render(&self) -> String {
        match self {
            Lit::Str(s) => quote(s),
            Lit::Int(n) => n.to_string(),
        }
    }
    fn json(&self) -> Value {
        match self {
            Lit::Str(s) => Value::String(s.clone()),
            Lit::Int(n) => Value::from(*n),
        }
    }
}

fn cmp(ty: &'static str, path: Path, value: impl Into<String>) -> Cmp {
    Cmp {
        ty,
        path,
        lit: Lit::Str(value.into()),
    }
}

/// The pattern of a list of comparisons: one observation expression per SCO type (AND
/// inside), repeated paths as `IN`, observation expressions joined by AND.
fn pattern_of(cmps: &[Cmp]) -> String {
    let mut types: Vec<&'static str> = Vec::new();
    for c in cmps {
        if !types.contains(&c.ty) {
            types.push(c.ty);
        }
    }
    let mut observations = Vec::new();
    for ty in types {
        let mut paths: Vec<Path> = Vec::new();
        for c in cmps.iter().filter(|c| c.ty == ty) {
            if !paths.contains(&c.path) {
                paths.push(c.path);
            }
        }
        let mut parts = Vec::new();
        for path in paths {
            let mut lits: Vec<String> = Vec::new();
            for c in cmps.iter().filter(|c| c.ty == ty && c.path == path) {
                let l = c.lit.render();
                if !lits.contains(&l) {
                    lits.push(l);
                }
            }
            let lhs = format!("{ty}:{}", path.render());
            if lits.len() == 1 {
                parts.push(format!("{lhs} = {}", lits[0]));
            } else {
                parts.push(format!("{lhs} IN ({})", lits.join(", ")));
            }
        }
        observations.push(format!("[{}]", parts.join(" AND ")));
    }
    observations.join(" AND ")
}

/// Adds the deterministic id (STIX 2.1 §2.9) to an SCO and serialises it.
fn finish_sco(
    mut m: Map<String, Value>,
    extra: &Map<String, Value>,
    tlp: TlpLevel,
) -> Option<Object> {
    let type_name: &'static str = match m.get("type").and_then(Value::as_str)? {
        "ipv4-addr" => "ipv4-addr",
        "ipv6-addr" => "ipv6-addr",
        "domain-name" => "domain-name",
        "url" => "url",
        "file" => "file",
        "email-addr" => "email-addr",
        "email-message" => "email-message",
        "network-traffic" => "network-traffic",
        "mutex" => "mutex",
        "autonomous-system" => "autonomous-system",
        "mac-addr" => "mac-addr",
        "windows-registry-key" => "windows-registry-key",
        "x509-certificate" => "x509-certificate",
        _ => return None,
    };
    let probe = StixObject::from_value(&Value::Object(m.clone())).ok()?;
    let id = stix::deterministic_sco_id(&probe)?;
    let mut out = Map::new();
    out.insert("type".into(), type_name.into());
    out.insert("spec_version".into(), "2.1".into());
    out.insert("id".into(), id.into());
    m.remove("type");
    m.remove("spec_version");
    out.extend(m);
    for (k, v) in extra {
        out.insert(k.clone(), v.clone());
    }
    Some(Object::from_map(type_name, &out, tlp))
}

/// The SCOs a list of comparisons describes (for observed-data), referenced SCOs first.
fn scos_of(cmps: &[Cmp], extra: &Map<String, Value>, tlp: TlpLevel) -> Vec<Object> {
    let mut out: Vec<Object> = Vec::new();
    let mut current: Vec<Map<String, Value>> = Vec::new();
    for c in cmps {
        // A new SCO for each type, and another one when a property is already set.
        let key = match c.path {
            Path::Prop(p) | Path::Ref(p, _) => p.to_owned(),
            Path::Hash(k) => format!("hashes.{k}"),
            Path::RefList(p, _) => format!("{p}[]"),
        };
        let slot = current.iter().position(|m| {
            m.get("type").and_then(Value::as_str) == Some(c.ty)
                && !m.contains_key(&key)
                && !(key.starts_with("hashes.")
                    && m.get("hashes")
                        .and_then(Value::as_object)
                        .is_some_and(|h| h.contains_key(&key[7..])))
        });
        let idx = match slot {
            Some(i) => i,
            None => {
                let mut m = Map::new();
                m.insert("type".into(), c.ty.into());
                match c.ty {
                    // Required properties (STIX 2.1 §6.12, §6.6).
                    "network-traffic" => {
                        m.insert("protocols".into(), Value::Array(vec!["tcp".into()]));
                    }
                    "email-message" => {
                        m.insert("is_multipart".into(), false.into());
                    }
                    _ => {}
                }
                current.push(m);
                current.len() - 1
            }
        };
        let m = &mut current[idx];
        match c.path {
            Path::Prop(p) => {
                m.insert(p.into(), c.lit.json());
            }
            Path::Hash(k) => {
                let h = m
                    .entry("hashes")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(h) = h {
                    h.insert(k.into(), c.lit.json());
                }
                m.insert(key, Value::Null);
            }
            Path::Ref(p, target) | Path::RefList(p, target) => {
                let mut t = Map::new();
                t.insert("type".into(), target.into());
                t.insert("value".into(), c.lit.json());
                if let Some(obj) = finish_sco(t, extra, tlp) {
                    let id = Value::String(obj.id.clone());
                    if matches!(c.path, Path::RefList(..)) {
                        m.insert(p.into(), Value::Array(vec![id]));
                        m.insert(key, Value::Null);
                    } else {
                        m.insert(p.into(), id);
                    }
                    out.push(obj);
                }
            }
        }
    }
    for mut m in current {
        m.retain(|k, v| !(v.is_null() && (k.starts_with("hashes.") || k.ends_with("[]"))));
        if let Some(obj) = finish_sco(m, extra, tlp) {
            out.push(obj);
        }
    }
    out
}

/// Hash keys of STIX's hash-algorithm-ov for MISP hash types.
fn hash_key(misp: &str) -> Option<(&'static str, Option<usize>)> {
    Some(match misp {
        "md5" => ("MD5", Some(32)),
        "sha1" => ("SHA-1", Some(40)),
        "sha256" => ("SHA-256", Some(64)),
        "sha512" => ("SHA-512", Some(128)),
        "sha3-256" => ("SHA3-256", Some(64)),
        "sha3-512" => ("SHA3-512", Some(128)),
        "ssdeep" => ("SSDEEP", None),
        "tlsh" => ("TLSH", None),
        _ => return None,
    })
}

fn hash_cmp(ty: &'static str, kind: &str, value: &str) -> Result<Cmp, String> {
    let (key, len) = hash_key(kind).ok_or_else(|| format!("unsupported hash type {kind}"))?;
    let v = value.trim();
    if let Some(len) = len {
        if v.len() != len || !ioc::is_hex(v) {
            return Err(format!("{v:?} is not a {kind} hex digest of {len} digits"));
        }
        return Ok(cmp(ty, Path::Hash(key), v.to_ascii_lowercase()));
    }
    if v.is_empty() {
        return Err(format!("empty {kind} value"));
    }
    Ok(cmp(ty, Path::Hash(key), v))
}

fn ip_cmp(ty_path: Option<(&'static str, Path)>, value: &str) -> Result<Cmp, String> {
    let v = value.trim();
    let (kind, norm) = ioc::parse_ip(v)?.ok_or_else(|| format!("{v:?} is not an IP address"))?;
    let addr_ty = if kind == ioc::Kind::Ipv4 {
        "ipv4-addr"
    } else {
        "ipv6-addr"
    };
    Ok(match ty_path {
        None => cmp(addr_ty, Path::Prop("value"), norm),
        Some((ty, Path::Ref(p, _))) => cmp(ty, Path::Ref(p, addr_ty), norm),
        Some((ty, Path::RefList(p, _))) => cmp(ty, Path::RefList(p, addr_ty), norm),
        Some((ty, path)) => cmp(ty, path, norm),
    })
}

fn domain_cmp(value: &str) -> Result<Cmp, String> {
    let v = value.trim().trim_end_matches('.').to_ascii_lowercase();
    if !ioc::is_domain(&v) {
        return Err(format!("{value:?} is not a domain name"));
    }
    Ok(cmp("domain-name", Path::Prop("value"), v))
}

fn port_cmp(src: bool, value: &str) -> Result<Cmp, String> {
    let port: u16 = value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a port number"))?;
    Ok(Cmp {
        ty: "network-traffic",
        path: Path::Prop(if src { "src_port" } else { "dst_port" }),
        lit: Lit::Int(u64::from(port)),
    })
}

fn url_cmp(value: &str) -> Result<Cmp, String> {
    match ioc::detect(value) {
        Ok(i) if i.kind == ioc::Kind::Url => Ok(cmp("url", Path::Prop("value"), i.value)),
        _ => Err(format!("{:?} is not a URL", truncate(value))),
    }
}

fn nonempty(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        Err("empty value".into())
    } else {
        Ok(v.to_owned())
    }
}

fn split2(value: &str) -> Result<(&str, &str), String> {
    value
        .split_once('|')
        .ok_or_else(|| format!("{:?} is not a composite value (a|b)", truncate(value)))
}

/// The comparisons one attribute stands for; `Err` says why it cannot be mapped.
fn attribute_cmps(ty: &str, value: &str) -> Result<Vec<Cmp>, String> {
    if value.len() > MAX_VALUE_LEN {
        return Err(format!("value longer than {MAX_VALUE_LEN} bytes"));
    }
    let one = |c: Result<Cmp, String>| c.map(|c| vec![c]);
    match ty {
        "ip-dst" | "ip-src" => one(ip_cmp(None, value)),
        "domain" | "hostname" => one(domain_cmp(value)),
        "url" => one(url_cmp(value)),
        "filename" => one(nonempty(value).map(|v| cmp("file", Path::Prop("name"), v))),
        "md5" | "sha1" | "sha256" | "sha512" | "sha3-256" | "sha3-512" | "ssdeep" | "tlsh" => {
            one(hash_cmp("file", ty, value))
        }
        "size-in-bytes" => value
            .trim()
            .parse::<u64>()
            .map(|n| {
                vec![Cmp {
                    ty: "file",
                    path: Path::Prop("size"),
                    lit: Lit::Int(n),
                }]
            })
            .map_err(|_| format!("{value:?} is not a size in bytes")),
        "email" | "email-src" | "email-dst" | "email-reply-to" => {
            let v = nonempty(value)?;
            if !v.contains('@') || v.contains(char::is_whitespace) {
                return Err(format!("{v:?} is not an email address"));
            }
            one(Ok(cmp("email-addr", Path::Prop("value"), v)))
        }
        "email-subject" => {
            one(nonempty(value).map(|v| cmp("email-message", Path::Prop("subject"), v)))
        }
        "mutex" => one(nonempty(value).map(|v| cmp("mutex", Path::Prop("name"), v))),
        "regkey" => one(nonempty(value).map(|v| cmp("windows-registry-key", Path::Prop("key"), v))),
        "mac-address" => {
            let v = value.trim().to_ascii_lowercase();
            let ok = v.len() == 17
                && v.split(':').count() == 6
                && v.split(':').all(|p| p.len() == 2 && ioc::is_hex(p));
            if !ok {
                return Err(format!("{value:?} is not a MAC address"));
            }
            one(Ok(cmp("mac-addr", Path::Prop("value"), v)))
        }
        "AS" => {
            let v = value.trim();
            let digits = v
                .strip_prefix("AS")
                .or_else(|| v.strip_prefix("as"))
                .unwrap_or(v);
            let n: u32 = digits
                .parse()
                .map_err(|_| format!("{value:?} is not an AS number"))?;
            one(Ok(Cmp {
                ty: "autonomous-system",
                path: Path::Prop("number"),
                lit: Lit::Int(u64::from(n)),
            }))
        }
        "port" => one(port_cmp(false, value)),
        "x509-fingerprint-md5" | "x509-fingerprint-sha1" | "x509-fingerprint-sha256" => {
            let kind = &ty["x509-fingerprint-".len()..];
            one(hash_cmp("x509-certificate", kind, value))
        }
        "ip-dst|port" | "ip-src|port" => {
            let src = ty.starts_with("ip-src");
            let (ip, port) = value
                .rsplit_once('|')
                .ok_or_else(|| format!("{:?} is not ip|port", truncate(value)))?;
            let r = if src { "src_ref" } else { "dst_ref" };
            Ok(vec![
                ip_cmp(Some(("network-traffic", Path::Ref(r, "ipv4-addr"))), ip)?,
                port_cmp(src, port)?,
            ])
        }
        "hostname|port" => {
            let (host, port) = split2(value)?;
            let d = domain_cmp(host)?;
            let Lit::Str(d) = d.lit else {
                return Err("bad host".into());
            };
            Ok(vec![
                cmp("network-traffic", Path::Ref("dst_ref", "domain-name"), d),
                port_cmp(false, port)?,
            ])
        }
        "domain|ip" => {
            let (domain, ip) = split2(value)?;
            Ok(vec![
                domain_cmp(domain)?,
                ip_cmp(
                    Some((
                        "domain-name",
                        Path::RefList("resolves_to_refs", "ipv4-addr"),
                    )),
                    ip,
                )?,
            ])
        }
        "malware-sample" | "filename|md5" | "filename|sha1" | "filename|sha256"
        | "filename|sha512" | "filename|ssdeep" | "filename|tlsh" | "filename|sha3-256"
        | "filename|sha3-512" => {
            let kind = if ty == "malware-sample" {
                "md5"
            } else {
                &ty["filename|".len()..]
            };
            let (name, hash) = split2(value)?;
            let name = nonempty(name).map_err(|_| "empty file name".to_owned())?;
            Ok(vec![
                cmp("file", Path::Prop("name"), name),
                hash_cmp("file", kind, hash)?,
            ])
        }
        other => Err(format!("unsupported MISP attribute type {other:?}")),
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A string field that MISP writes as a string or a number.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A MISP boolean: `true`, `1`, `"1"`, `"true"`.
fn flag(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A MISP unix timestamp (string or number).
fn unix(v: Option<&Value>) -> Option<jiff::Timestamp> {
    let secs: i64 = text(v)?.trim().parse().ok()?;
    jiff::Timestamp::from_second(secs).ok()
}

fn list(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Array(a)) => a,
        _ => &[],
    }
}

/// What tags say: a TLP level, ATT&CK techniques, labels.
#[derive(Debug, Default, Clone)]
struct Tags {
    tlp: Option<TlpLevel>,
    techniques: Vec<(String, String)>,
    labels: Vec<String>,
}

fn tlp_tag(name: &str) -> Option<TlpLevel> {
    let level = name
        .strip_prefix("tlp:")?
        .trim_matches('"')
        .to_ascii_lowercase();
    Some(match level.as_str() {
        "white" | "clear" => TlpLevel::Clear,
        "green" => TlpLevel::Green,
        "amber" => TlpLevel::Amber,
        "amber+strict" => TlpLevel::AmberStrict,
        "red" => TlpLevel::Red,
        // Unknown TLP levels (ex:chr, ...): the narrowest audience.
        _ => TlpLevel::Red,
    })
}

/// `Name - T1234` or `Name - T1234.001` → (name, technique id).
fn technique(cluster: &str) -> Option<(String, String)> {
    let (name, id) = cluster.rsplit_once(" - ")?;
    let id = id.trim();
    let digits = id.strip_prefix('T')?;
    let (main, sub) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = main.len() == 4
        && main.bytes().all(|b| b.is_ascii_digit())
        && (sub.is_empty() || (sub.len() == 3 && sub.bytes().all(|b| b.is_ascii_digit())));
    ok.then(|| (name.trim().to_owned(), id.to_owned()))
}

fn read_tags(holder: &Map<String, Value>) -> Tags {
    let mut tags = Tags::default();
    for t in list(holder.get("Tag")) {
        let Some(name) = t.get("name").and_then(Value::as_str) else {
            continue;
        };
        if let Some(level) = tlp_tag(name) {
            tags.tlp = tags.tlp.max(Some(level));
        } else if let Some(cluster) = name.strip_prefix("misp-galaxy:mitre-attack-pattern=") {
            if let Some(t) = technique(cluster.trim_matches('"')) {
                if !tags.techniques.contains(&t) {
                    tags.techniques.push(t);
                }
            } else {
                tags.labels.push(name.to_owned());
            }
        } else if !name.is_empty() && !tags.labels.iter().any(|l| l == name) {
            tags.labels.push(name.to_owned());
        }
    }
    for g in list(holder.get("Galaxy")) {
        if g.get("type").and_then(Value::as_str) != Some("mitre-attack-pattern") {
            continue;
        }
        for c in list(g.get("GalaxyCluster")) {
            if let Some(t) = c.get("value").and_then(Value::as_str).and_then(technique)
                && !tags.techniques.contains(&t)
            {
                tags.techniques.push(t);
            }
        }
    }
    tags
}

/// Maps events, remembering across a feed which shared objects (identities, attack
/// patterns, marking definitions) it already emitted.
#[derive(Debug, Default)]
pub struct FeedMapper {
    emitted: HashSet<String>,
}

/// What every object of one event shares.
struct EventCtx {
    created: String,
    created_ts: jiff::Timestamp,
    identity: Option<String>,
    tlp: Option<TlpLevel>,
    report_id: String,
}

impl EventCtx {
    /// `modified` for an item stamped `ts`: never before the event's `created`.
    fn modified(&self, ts: Option<jiff::Timestamp>) -> String {
        match ts {
            Some(t) if t > self.created_ts => stix_time(t),
            _ => self.created.clone(),
        }
    }
}

impl FeedMapper {
    /// A mapper that has emitted nothing yet.
    pub fn new() -> FeedMapper {
        FeedMapper::default()
    }

    fn once(&mut self, id: &str) -> bool {
        self.emitted.insert(id.to_owned())
    }

    /// Maps one event file (`{"Event": {...}}`, or the bare event object).
    pub fn map_event(&mut self, bytes: &[u8]) -> Result<Mapped, FeedError> {
        if bytes.len() > MAX_EVENT_BYTES {
            return Err(FeedError::TooLarge {
                size: bytes.len(),
                limit: MAX_EVENT_BYTES,
            });
        }
        let value: Value = serde_json::from_slice(bytes)?;
        let event = match value.get("Event") {
            Some(Value::Object(e)) => e,
            _ => match &value {
                Value::Object(e) if e.contains_key("Attribute") || e.contains_key("info") => e,
                _ => {
                    return Err(FeedError::Format {
                        what: "event",
                        why: "no \"Event\" object".into(),
                    });
                }
            },
        };
        self.map(event)
    }

    fn map(&mut self, event: &Map<String, Value>) -> Result<Mapped, FeedError> {
        let bad = |why: String| FeedError::Format { what: "event", why };
        let uuid = event
            .get("uuid")
            .and_then(Value::as_str)
            .filter(|u| uuid::Uuid::parse_str(u).is_ok())
            .ok_or_else(|| bad("no valid \"uuid\"".into()))?
            .to_owned();
        let attribute_count = list(event.get("Attribute")).len()
            + list(event.get("Object"))
                .iter()
                .map(|o| list(o.get("Attribute")).len())
                .sum::<usize>();
        if attribute_count > MAX_ATTRIBUTES {
            return Err(bad(format!("more than {MAX_ATTRIBUTES} attributes")));
        }
        let ts = unix(event.get("timestamp"));
        let date = event
            .get("date")
            .and_then(Value::as_str)
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
            .and_then(|d| format!("{d}T00:00:00Z").parse::<jiff::Timestamp>().ok());
        let created_ts = match (date, ts) {
            (Some(d), _) => d,
            (None, Some(t)) => t,
            (None, None) => return Err(bad("neither \"date\" nor \"timestamp\"".into())),
        };
        let tags = read_tags(event);
        let mut out = Mapped::default();
        let mut ctx = EventCtx {
            created: stix_time(created_ts),
            created_ts,
            identity: None,
            tlp: tags.tlp,
            report_id: ids::derived("report", &uuid),
        };
        let mut refs: Vec<String> = Vec::new();
        let mut links: Vec<Value> = Vec::new();

        // The creator.
        if let Some(Value::Object(org)) = event.get("Orgc").or_else(|| event.get("Org")) {
            let name = text(org.get("name")).filter(|n| !n.trim().is_empty());
            let key = text(org.get("uuid")).or_else(|| name.clone());
            if let (Some(name), Some(key)) = (name, key) {
                let id = ids::derived("identity", &key);
                if self.once(&id) {
                    let mut m = Map::new();
                    m.insert("type".into(), "identity".into());
                    m.insert("spec_version".into(), "2.1".into());
                    m.insert("id".into(), id.clone().into());
                    m.insert("created".into(), FIXED_TIME.into());
                    m.insert("modified".into(), FIXED_TIME.into());
                    m.insert("name".into(), name.into());
                    m.insert("identity_class".into(), "organization".into());
                    out.objects
                        .push(Object::from_map("identity", &m, TlpLevel::Clear));
                }
                refs.push(id.clone());
                ctx.identity = Some(id);
            }
        }
        let mut levels: Vec<TlpLevel> = Vec::new();
        let mut techniques = tags.techniques.clone();

        for a in list(event.get("Attribute")) {
            self.attribute(
                a,
                &ctx,
                &mut out,
                &mut refs,
                &mut links,
                &mut levels,
                &mut techniques,
            );
        }
        for o in list(event.get("Object")) {
            self.misp_object(o, &ctx, &mut out, &mut refs, &mut levels, &mut techniques);
        }
        for (name, tid) in &techniques {
            let id = self.attack_pattern(name, tid, &mut out);
            if !refs.contains(&id) {
                refs.push(id);
            }
        }
        if let Some(level) = ctx.tlp {
            levels.push(level);
        }
        levels.sort();
        levels.dedup();
        for level in levels {
            if self.once(level.tlp2_id()) {
                out.objects.push(marking_object(level));
            }
        }
        if refs.is_empty() {
            out.refused.push(Refusal {
                origin: Origin::Event(uuid),
                reason: "the event holds nothing to report".into(),
            });
            return Ok(out);
        }

        // The report (STIX 2.1 §4.14).
        let mut m = self.base("report", &ctx.report_id, &ctx, ctx.tlp, ts);
        let name = text(event.get("info")).filter(|i| !i.trim().is_empty());
        m.insert(
            "name".into(),
            name.unwrap_or_else(|| format!("MISP event {uuid}")).into(),
        );
        m.insert(
            "report_types".into(),
            Value::Array(vec!["threat-report".into()]),
        );
        let published = unix(event.get("publish_timestamp")).unwrap_or(created_ts);
        m.insert("published".into(), stix_time(published).into());
        m.insert(
            "object_refs".into(),
            refs.into_iter().map(Value::String).collect(),
        );
        if !tags.labels.is_empty() {
            m.insert(
                "labels".into(),
                tags.labels
                    .iter()
                    .map(|l| Value::from(l.as_str()))
                    .collect(),
            );
        }
        let mut ext = vec![misp_ref(&uuid)];
        ext.extend(links);
        m.insert("external_references".into(), Value::Array(ext));
        out.objects.push(Object::from_map(
            "report",
            &m,
            ctx.tlp.unwrap_or(TlpLevel::Clear),
        ));
        Ok(out)
    }

    /// The properties every SDO of an event has.
    fn base(
        &self,
        ty: &str,
        id: &str,
        ctx: &EventCtx,
        tlp: Option<TlpLevel>,
        ts: Option<jiff::Timestamp>,
    ) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("type".into(), ty.into());
        m.insert("spec_version".into(), "2.1".into());
        m.insert("id".into(), id.into());
        if let Some(i) = &ctx.identity {
            m.insert("created_by_ref".into(), i.clone().into());
        }
        m.insert("created".into(), ctx.created.clone().into());
        m.insert("modified".into(), ctx.modified(ts).into());
        if let Some(level) = tlp {
            m.insert(
                "object_marking_refs".into(),
                Value::Array(vec![level.tlp2_id().into()]),
            );
        }
        m
    }

    fn attack_pattern(&mut self, name: &str, tid: &str, out: &mut Mapped) -> String {
        let id = ids::derived("attack-pattern", tid);
        if self.once(&id) {
            let mut m = Map::new();
            m.insert("type".into(), "attack-pattern".into());
            m.insert("spec_version".into(), "2.1".into());
            m.insert("id".into(), id.clone().into());
            m.insert("created".into(), FIXED_TIME.into());
            m.insert("modified".into(), FIXED_TIME.into());
            m.insert("name".into(), name.into());
            let url = format!(
                "https://attack.mitre.org/techniques/{}/",
                tid.replace('.', "/")
            );
            m.insert(
                "external_references".into(),
                serde_json::json!([{"source_name": "mitre-attack", "external_id": tid, "url": url}]),
            );
            out.objects
                .push(Object::from_map("attack-pattern", &m, TlpLevel::Clear));
        }
        id
    }

    #[allow(clippy::too_many_arguments)] // reason: one event's shared accumulators
    fn attribute(
        &mut self,
        a: &Value,
        ctx: &EventCtx,
        out: &mut Mapped,
        refs: &mut Vec<String>,
        links: &mut Vec<Value>,
        levels: &mut Vec<TlpLevel>,
        techniques: &mut Vec<(String, String)>,
    ) {
        let Value::Object(a) = a else {
            out.refused.push(Refusal {
                origin: Origin::Attribute("(not an object)".into()),
                reason: "attribute is not a JSON object".into(),
            });
            return;
        };
        let auuid = text(a.get("uuid")).unwrap_or_default();
        let refuse = |out: &mut Mapped, reason: String| {
            out.refused.push(Refusal {
                origin: Origin::Attribute(if auuid.is_empty() {
                    "(no uuid)".into()
                } else {
                    auuid.clone()
                }),
                reason,
            })
        };
        if uuid::Uuid::parse_str(&auuid).is_err() {
            return refuse(out, "attribute without a valid uuid".into());
        }
        if flag(a.get("deleted")) {
            return refuse(out, "attribute is marked deleted".into());
        }
        let ty = text(a.get("type")).unwrap_or_default();
        let value = text(a.get("value")).unwrap_or_default();
        let comment = text(a.get("comment")).filter(|c| !c.trim().is_empty());
        let ts = unix(a.get("timestamp"));
        let tags = read_tags(a);
        let tlp = ctx.tlp.max(tags.tlp);
        let mut labels = tags.labels.clone();
        if let Some(cat) = text(a.get("category")) {
            labels.insert(0, format!("misp:category=\"{cat}\""));
        }
        match ty.as_str() {
            "link" => {
                return match url_cmp(&value) {
                    Ok(_) => {
                        let mut r = Map::new();
                        r.insert("source_name".into(), "misp-link".into());
                        r.insert("url".into(), value.trim().into());
                        if let Some(c) = comment {
                            r.insert("description".into(), c.into());
                        }
                        r.insert("external_id".into(), auuid.clone().into());
                        links.push(Value::Object(r));
                        out.accepted += 1;
                    }
                    Err(e) => refuse(out, e),
                };
            }
            "comment" | "text" | "other" => {
                if value.trim().is_empty() {
                    return refuse(out, "empty value".into());
                }
                let id = ids::derived("note", &auuid);
                let mut m = self.base("note", &id, ctx, tlp, ts);
                if let Some(c) = comment {
                    m.insert("abstract".into(), c.into());
                }
                m.insert("content".into(), value.into());
                m.insert(
                    "object_refs".into(),
                    Value::Array(vec![ctx.report_id.clone().into()]),
                );
                m.insert(
                    "labels".into(),
                    labels.iter().map(|l| Value::from(l.as_str())).collect(),
                );
                m.insert(
                    "external_references".into(),
                    Value::Array(vec![misp_ref(&auuid)]),
                );
                push_tlp(levels, tlp);
                out.objects
                    .push(Object::from_map("note", &m, tlp.unwrap_or(TlpLevel::Clear)));
                refs.push(id);
                out.accepted += 1;
                return;
            }
            "vulnerability" => {
                let v = value.trim().to_ascii_uppercase();
                let ok = v
                    .strip_prefix("CVE-")
                    .and_then(|r| r.split_once('-'))
                    .is_some_and(|(y, n)| {
                        y.len() == 4
                            && y.bytes().all(|b| b.is_ascii_digit())
                            && n.len() >= 4
                            && n.bytes().all(|b| b.is_ascii_digit())
                    });
                if !ok {
                    return refuse(out, format!("{:?} is not a CVE id", truncate(&value)));
                }
                let id = ids::derived("vulnerability", &auuid);
                let mut m = self.base("vulnerability", &id, ctx, tlp, ts);
                m.insert("name".into(), v.clone().into());
                if let Some(c) = comment {
                    m.insert("description".into(), c.into());
                }
                m.insert(
                    "external_references".into(),
                    serde_json::json!([{"source_name": "cve", "external_id": v}, misp_ref(&auuid)]),
                );
                push_tlp(levels, tlp);
                out.objects.push(Object::from_map(
                    "vulnerability",
                    &m,
                    tlp.unwrap_or(TlpLevel::Clear),
                ));
                refs.push(id);
                out.accepted += 1;
                return;
            }
            _ => {}
        }
        let cmps = match attribute_cmps(&ty, &value) {
            Ok(c) => c,
            Err(e) => return refuse(out, e),
        };
        push_tlp(levels, tlp);
        let first_seen = text(a.get("first_seen")).and_then(|s| s.parse::<jiff::Timestamp>().ok());
        let made = self.observable(
            &auuid,
            &cmps,
            flag(a.get("to_ids")),
            ctx,
            tlp,
            ts,
            first_seen,
            value.trim(),
            comment.as_deref(),
            &labels,
            &tags.techniques,
            out,
        );
        refs.extend(made);
        for t in tags.techniques {
            if !techniques.contains(&t) {
                techniques.push(t);
            }
        }
        out.accepted += 1;
    }

    /// An indicator (to_ids) or observed-data with its SCOs; returns the ids the report
    /// should list.
    #[allow(clippy::too_many_arguments)] // reason: the attribute's or object's parts
    fn observable(
        &mut self,
        uuid: &str,
        cmps: &[Cmp],
        to_ids: bool,
        ctx: &EventCtx,
        tlp: Option<TlpLevel>,
        ts: Option<jiff::Timestamp>,
        first_seen: Option<jiff::Timestamp>,
        name: &str,
        comment: Option<&str>,
        labels: &[String],
        techniques: &[(String, String)],
        out: &mut Mapped,
    ) -> Vec<String> {
        let level = tlp.unwrap_or(TlpLevel::Clear);
        let mut made = Vec::new();
        if to_ids {
            let id = ids::derived("indicator", uuid);
            let mut m = self.base("indicator", &id, ctx, tlp, ts);
            m.insert("name".into(), truncate(name).into());
            if let Some(c) = comment {
                m.insert("description".into(), c.into());
            }
            m.insert(
                "indicator_types".into(),
                Value::Array(vec!["malicious-activity".into()]),
            );
            m.insert("pattern".into(), pattern_of(cmps).into());
            m.insert("pattern_type".into(), "stix".into());
            m.insert("pattern_version".into(), "2.1".into());
            let valid_from = first_seen
                .map(stix_time)
                .unwrap_or_else(|| ctx.created.clone());
            m.insert("valid_from".into(), valid_from.into());
            if !labels.is_empty() {
                m.insert(
                    "labels".into(),
                    labels.iter().map(|l| Value::from(l.as_str())).collect(),
                );
            }
            m.insert(
                "external_references".into(),
                Value::Array(vec![misp_ref(uuid)]),
            );
            out.objects.push(Object::from_map("indicator", &m, level));
            for (tname, tid) in techniques {
                let ap = self.attack_pattern(tname, tid, out);
                let rid = ids::derived("relationship", &format!("{id}|indicates|{ap}"));
                let mut r = self.base("relationship", &rid, ctx, tlp, None);
                r.insert("relationship_type".into(), "indicates".into());
                r.insert("source_ref".into(), id.clone().into());
                r.insert("target_ref".into(), ap.into());
                out.objects
                    .push(Object::from_map("relationship", &r, level));
                made.push(rid);
            }
            made.insert(0, id);
        } else {
            let mut extra = Map::new();
            if let Some(l) = tlp {
                extra.insert(
                    "object_marking_refs".into(),
                    Value::Array(vec![l.tlp2_id().into()]),
                );
            }
            let scos = scos_of(cmps, &extra, level);
            let id = ids::derived("observed-data", uuid);
            let mut m = self.base("observed-data", &id, ctx, tlp, ts);
            let seen = stix_time(first_seen.or(ts).unwrap_or(ctx.created_ts));
            m.insert("first_observed".into(), seen.clone().into());
            m.insert("last_observed".into(), seen.into());
            m.insert("number_observed".into(), 1.into());
            let mut sco_ids: Vec<Value> = Vec::new();
            for s in &scos {
                let v = Value::String(s.id.clone());
                if !sco_ids.contains(&v) {
                    sco_ids.push(v);
                }
            }
            m.insert("object_refs".into(), Value::Array(sco_ids));
            if !labels.is_empty() {
                m.insert(
                    "labels".into(),
                    labels.iter().map(|l| Value::from(l.as_str())).collect(),
                );
            }
            m.insert(
                "external_references".into(),
                Value::Array(vec![misp_ref(uuid)]),
            );
            for s in scos {
                if !out.objects.iter().any(|o| o.id == s.id) {
                    out.objects.push(s);
                }
            }
            out.objects
                .push(Object::from_map("observed-data", &m, level));
            made.push(id);
        }
        made
    }

    fn misp_object(
        &mut self,
        o: &Value,
        ctx: &EventCtx,
        out: &mut Mapped,
        refs: &mut Vec<String>,
        levels: &mut Vec<TlpLevel>,
        techniques: &mut Vec<(String, String)>,
    ) {
        let attrs = list(o.get("Attribute"));
        let ouuid = o
            .get("uuid")
            .and_then(Value::as_str)
            .filter(|u| uuid::Uuid::parse_str(u).is_ok());
        let Some(ouuid) = ouuid else {
            for (i, a) in attrs.iter().enumerate() {
                let au = text(a.get("uuid")).unwrap_or_else(|| format!("(#{i})"));
                out.refused.push(Refusal {
                    origin: Origin::Attribute(au),
                    reason: "its MISP object has no valid uuid".into(),
                });
            }
            return;
        };
        let name = text(o.get("name")).unwrap_or_else(|| "object".into());
        let tags = read_tags(o.as_object().unwrap_or(&Map::new()));
        let mut tlp = ctx.tlp.max(tags.tlp);
        let mut cmps = Vec::new();
        let mut to_ids = false;
        let mut ts = unix(o.get("timestamp"));
        let mut labels = vec![format!("misp:name=\"{name}\"")];
        labels.extend(tags.labels.clone());
        let mut obj_techniques = tags.techniques.clone();
        let mut accepted = 0;
        for a in attrs {
            let au = text(a.get("uuid")).unwrap_or_default();
            let ty = text(a.get("type")).unwrap_or_default();
            let value = text(a.get("value")).unwrap_or_default();
            let refuse = |out: &mut Mapped, reason: String| {
                out.refused.push(Refusal {
                    origin: Origin::Attribute(if au.is_empty() {
                        format!("(in object {ouuid})")
                    } else {
                        au.clone()
                    }),
                    reason,
                })
            };
            if flag(a.get("deleted")) {
                refuse(out, "attribute is marked deleted".into());
                continue;
            }
            match attribute_cmps(&ty, &value) {
                Ok(c) => {
                    cmps.extend(c);
                    to_ids |= flag(a.get("to_ids"));
                    ts = ts.max(unix(a.get("timestamp")));
                    let at = a.as_object().map(read_tags).unwrap_or_default();
                    tlp = tlp.max(at.tlp);
                    for t in at.techniques {
                        if !obj_techniques.contains(&t) {
                            obj_techniques.push(t);
                        }
                    }
                    accepted += 1;
                }
                Err(e) => refuse(out, format!("in object {name} {ouuid}: {e}")),
            }
        }
        if cmps.is_empty() {
            return;
        }
        push_tlp(levels, tlp);
        let comment = text(o.get("comment")).filter(|c| !c.trim().is_empty());
        let made = self.observable(
            ouuid,
            &cmps,
            to_ids,
            ctx,
            tlp,
            ts,
            None,
            &format!("MISP {name} object"),
            comment.as_deref(),
            &labels,
            &obj_techniques,
            out,
        );
        refs.extend(made);
        for t in obj_techniques {
            if !techniques.contains(&t) {
                techniques.push(t);
            }
        }
        out.accepted += accepted;
    }
}

fn push_tlp(levels: &mut Vec<TlpLevel>, tlp: Option<TlpLevel>) {
    if let Some(l) = tlp
        && !levels.contains(&l)
    {
        levels.push(l);
    }
}

/// The external reference naming a MISP item by uuid.
fn misp_ref(uuid: &str) -> Value {
    serde_json::json!({"source_name": "misp", "external_id": uuid})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_patterns() {
        let p = |t, v| attribute_cmps(t, v).map(|c| pattern_of(&c));
        assert_eq!(
            p("ip-dst|port", "198.51.100.1|443"),
            Ok("[network-traffic:dst_ref.value = '198.51.100.1' AND network-traffic:dst_port = 443]".into())
        );
        assert_eq!(
            p("domain|ip", "evil.example|198.51.100.1"),
            Ok("[domain-name:value = 'evil.example' AND domain-name:resolves_to_refs[*].value = '198.51.100.1']".into())
        );
        let composite = format!("a.exe|{}", "A".repeat(64));
        assert_eq!(
            p("filename|sha256", &composite),
            Ok(format!(
                "[file:name = 'a.exe' AND file:hashes.'SHA-256' = '{}']",
                "a".repeat(64)
            ))
        );
        assert!(p("filename|md5", "a.exe|xyz").is_err());
        assert!(p("ip-dst", "not-an-ip").is_err());
        assert!(p("btc", "1abc").is_err());
        for t in [
            "ip-dst|port",
            "domain|ip",
            "hostname|port",
            "malware-sample",
            "AS",
            "mac-address",
        ] {
            let v = match t {
                "ip-dst|port" => "2001:db8::1|80",
                "domain|ip" => "a.example|2001:db8::2",
                "hostname|port" => "a.example|8080",
                "malware-sample" => "x.zip|d41d8cd98f00b204e9800998ecf8427e",
                "AS" => "AS64500",
                _ => "00:11:22:aa:bb:cc",
            };
            let pat = p(t, v).unwrap_or_default();
            assert!(
                pattern::validate(&pat, pattern::StixVersion::V21).is_ok(),
                "{t}: {pat}"
            );
        }
    }

    #[test]
    fn repeated_paths_become_in() {
        let cmps = vec![
            cmp("ipv4-addr", Path::Prop("value"), "198.51.100.1"),
            cmp("ipv4-addr", Path::Prop("value"), "198.51.100.2"),
            cmp("domain-name", Path::Prop("value"), "a.example"),
        ];
        let pat = pattern_of(&cmps);
        assert_eq!(
            pat,
            "[ipv4-addr:value IN ('198.51.100.1', '198.51.100.2')] AND [domain-name:value = 'a.example']"
        );
        assert!(pattern::validate(&pat, pattern::StixVersion::V21).is_ok());
    }

    #[test]
    fn techniques_from_cluster_values() {
        assert_eq!(
            technique("Spearphishing Attachment - T1566.001"),
            Some(("Spearphishing Attachment".into(), "T1566.001".into()))
        );
        assert_eq!(technique("Whatever - X1"), None);
    }

    #[test]
    fn tlp_tags() {
        assert_eq!(tlp_tag("tlp:white"), Some(TlpLevel::Clear));
        assert_eq!(tlp_tag("tlp:amber+strict"), Some(TlpLevel::AmberStrict));
        assert_eq!(tlp_tag("tlp:ex:chr"), Some(TlpLevel::Red));
        assert_eq!(tlp_tag("circl:x"), None);
    }
}
