//! Zeek logs, JSON and TSV, to SCOs.
//!
//! **TSV** (Zeek's ASCII writer, `base/frameworks/logging/writers/ascii.zeek`): a header of
//! `#separator \x09`, `#set_separator`, `#empty_field` (`(empty)`), `#unset_field` (`-`),
//! `#path`, `#open`, `#fields`, `#types`; data lines split on the separator; `set[…]` and
//! `vector[…]` values split on the set separator; non-printable bytes written as `\xHH`;
//! `#close` at the end. A file may hold several header blocks (concatenated logs); each
//! new `#fields` replaces the previous. A TSV record becomes the same JSON object the JSON
//! writer would produce (strings for scalars, arrays for containers, unset fields absent), so
//! one mapping serves both.
//!
//! **JSON**: one object per line (`LogAscii::use_json`), the log type in `_path` when the
//! writer adds it, in `@stream` in the OTRF / Corelight variant (which also writes
//! `id_orig_h` for `id.orig_h`: every lookup here tries the dotted name, then the
//! underscored one), else from the `#path` header or the file name.
//!
//! **Mapping** (field names from the Zeek script reference of each log):
//! * any log with `id.orig_h`/`id.resp_h` → `network-traffic` (STIX 2.1 §6.12) with
//!   `src_ref`/`dst_ref` to `ipv4-addr`/`ipv6-addr`, ports and `protocols` = transport plus
//!   the application service;
//! * `conn` → byte and packet counts on the `network-traffic`;
//! * `dns` → `domain-name` for `query`, `answers` as addresses or names, linked by
//!   `resolves_to_refs` (§6.6);
//! * `http` → `url` (`http://` host + uri), `domain-name` for `host`, and the
//!   `http-request-ext` extension (§6.12.2) with method, uri and the `Host` and `User-Agent`
//!   headers;
//! * `ssl` → `domain-name` for `server_name` (SNI), `x509-certificate` from `subject` /
//!   `issuer` when logged, ja3 (Zeek's ja3 package) as the custom SCO `x-ja3`;
//! * `x509` → `x509-certificate` (§6.18) with serial, subject, issuer, validity, key
//!   algorithm, the `fingerprint` as a hash by its length, and `san.dns` names;
//! * `files` → `file` (§6.7) with MD5 / SHA-1 / SHA-256, name, size, MIME type, and the
//!   `tx_hosts` / `rx_hosts` addresses;
//! * `notice` → the custom SCO `x-zeek-notice` (`note`, `msg`, `sub`) and `src` / `dst`;
//! * `smtp` → `email-addr` for `mailfrom`, `rcptto`, `from`, `to`.

use serde_json::{Map, Value};

use crate::event::{Event, ObservationBuilder, Source};
use crate::reader::time;

/// Zeek log types recognised in file names, for inputs without `_path` or `#path`.
const LOG_NAMES: &[&str] = &[
    "conn",
    "dns",
    "http",
    "ssl",
    "x509",
    "files",
    "notice",
    "smtp",
    "ssh",
    "ftp",
    "rdp",
    "dce_rpc",
    "kerberos",
    "smb_files",
    "smb_mapping",
    "ntlm",
    "dhcp",
    "weird",
    "dpd",
    "pe",
    "software",
    "known_hosts",
    "known_services",
    "known_certs",
    "snmp",
    "sip",
    "ntp",
    "modbus",
    "rfb",
    "syslog",
    "tunnel",
    "ldap",
    "ldap_search",
    "radius",
    "irc",
    "mysql",
    "socks",
    "ocsp",
    "arp",
    "analyzer",
    "capture_loss",
    "loaded_scripts",
    "packet_filter",
    "reporter",
    "stats",
];

/// Logs whose records all run over TCP, for the `protocols` of a record without `proto`.
const TCP_LOGS: &[&str] = &[
    "http",
    "ssl",
    "smtp",
    "ssh",
    "ftp",
    "rdp",
    "smb_files",
    "smb_mapping",
    "dce_rpc",
    "ntlm",
    "ldap",
    "ldap_search",
    "irc",
    "mysql",
    "socks",
    "rfb",
    "modbus",
];

/// The Zeek log type implied by a file name: `dns.log.gz` → `dns`, `NASHUA_dns.log` → `dns`.
pub fn path_from_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut stem = base.strip_suffix(".gz").unwrap_or(base);
    for ext in [".log", ".json", ".ndjson", ".jsonl"] {
        if let Some(s) = stem.strip_suffix(ext) {
            stem = s;
            break;
        }
    }
    if LOG_NAMES.contains(&stem) {
        return Some(stem.to_owned());
    }
    LOG_NAMES
        .iter()
        .filter(|n| {
            stem.len() > n.len()
                && stem.ends_with(*n)
                && matches!(
                    stem.as_bytes()[stem.len() - n.len() - 1],
                    b'_' | b'-' | b'.'
                )
        })
        .max_by_key(|n| n.len())
        .map(|n| (*n).to_owned())
}

/// The log type written in a JSON record (`_path`, or `@stream` in the OTRF variant).
pub fn json_path(rec: &Map<String, Value>) -> Option<String> {
    ["_path", "@stream"]
        .iter()
        .find_map(|k| rec.get(*k).and_then(Value::as_str))
        .map(str::to_owned)
}

/// The state of a TSV header block.
#[derive(Debug, Clone)]
pub struct TsvHeader {
    separator: String,
    set_separator: String,
    empty: String,
    unset: String,
    /// The `#path` of the block, when given.
    pub path: Option<String>,
    fields: Vec<String>,
    types: Vec<String>,
}

impl Default for TsvHeader {
    fn default() -> Self {
        TsvHeader {
            separator: "\t".into(),
            set_separator: ",".into(),
            empty: "(empty)".into(),
            unset: "-".into(),
            path: None,
            fields: Vec::new(),
            types: Vec::new(),
        }
    }
}

impl TsvHeader {
    /// Reads one `#` header line.
    pub fn line(&mut self, text: &str) {
        // `#separator` is the one header whose value follows a space, since the separator
        // is not known yet when it is read.
        if let Some(rest) = text.strip_prefix("#separator ") {
            self.separator = unescape(rest);
            return;
        }
        let body = &text[1..];
        let (key, value) = body
            .split_once(self.separator.as_str())
            .unwrap_or((body, ""));
        match key {
            "set_separator" => self.set_separator = unescape(value),
            "empty_field" => self.empty = value.to_owned(),
            "unset_field" => self.unset = value.to_owned(),
            "path" => self.path = Some(value.to_owned()),
            "fields" => {
                self.fields = value
                    .split(self.separator.as_str())
                    .map(str::to_owned)
                    .collect();
                self.types.clear();
            }
            "types" => {
                self.types = value
                    .split(self.separator.as_str())
                    .map(str::to_owned)
                    .collect();
            }
            // `#open`, `#close` and anything else carry nothing per record.
            _ => {}
        }
    }

    /// Turns a data line into the JSON object Zeek's JSON writer would write.
    pub fn record(&self, text: &str) -> Result<Map<String, Value>, String> {
        if self.fields.is_empty() {
            return Err("data line before a #fields header".into());
        }
        let values: Vec<&str> = text.split(self.separator.as_str()).collect();
        if values.len() != self.fields.len() {
            return Err(format!(
                "expected {} tab-separated fields (#fields), found {}",
                self.fields.len(),
                values.len()
            ));
        }
        let mut rec = Map::new();
        for (i, (name, raw)) in self.fields.iter().zip(values).enumerate() {
            if raw == self.unset {
                continue;
            }
            let ty = self.types.get(i).map(String::as_str).unwrap_or("string");
            let container = ty.starts_with("set[") || ty.starts_with("vector[");
            let value = if container {
                if raw == self.empty {
                    Value::Array(Vec::new())
                } else {
                    Value::Array(
                        raw.split(self.set_separator.as_str())
                            .map(|s| Value::String(unescape(s)))
                            .collect(),
                    )
                }
            } else if raw == self.empty {
                Value::String(String::new())
            } else {
                Value::String(unescape(raw))
            };
            rec.insert(name.clone(), value);
        }
        Ok(rec)
    }
}

/// Decodes Zeek's TSV escapes: `\xHH` for separators and non-printable bytes, and `\\`
/// for a backslash (the JSON logs of the same traffic hold one backslash where TSV holds two).
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && bytes.get(i + 1) == Some(&b'x')
            && let Some(hex) = s.get(i + 2..i + 4)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 4;
            continue;
        }
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Field access that tries `id.orig_h`, then the OTRF spelling `id_orig_h`.
#[derive(Clone, Copy)]
pub(crate) struct Rec<'a>(pub &'a Map<String, Value>);

impl<'a> Rec<'a> {
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).or_else(|| {
            if name.contains('.') {
                self.0.get(&name.replace('.', "_"))
            } else {
                None
            }
        })
    }

    /// A non-empty string value (`-` is Zeek's unset marker in JSON written from TSV).
    pub(crate) fn str(&self, name: &str) -> Option<&'a str> {
        match self.get(name)? {
            Value::String(s) if !s.is_empty() && s != "-" => Some(s),
            _ => None,
        }
    }

    /// The strings of a set/vector field (a lone string counts as one).
    pub(crate) fn strs(&self, name: &str) -> Vec<&'a str> {
        match self.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .filter(|s| !s.is_empty() && *s != "-")
                .collect(),
            Some(Value::String(s)) if !s.is_empty() && s != "-" => vec![s.as_str()],
            _ => Vec::new(),
        }
    }

    /// A non-negative integer, from a number or a numeric string.
    pub(crate) fn u64(&self, name: &str) -> Option<u64> {
        match self.get(name)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// Builds the event of one Zeek record of log type `log`.
pub fn event(
    log: Option<&str>,
    rec: &Map<String, Value>,
    source: &Source,
) -> Result<Event, String> {
    let r = Rec(rec);
    let ts = r.get("ts").ok_or("record without ts")?;
    let time = time::zeek(ts).ok_or_else(|| format!("invalid ts {ts}"))?;
    let log = log.unwrap_or("");
    let mut b = ObservationBuilder::new();
    let nt = network_traffic(&r, log, &mut b);
    match log {
        "conn" => conn(&r, nt, &mut b),
        "dns" => dns(&r, &mut b),
        "http" => http(&r, nt, &mut b),
        "ssl" => ssl(&r, &mut b),
        "x509" => x509(&r, &mut b),
        "files" => files(&r, &mut b),
        "notice" => notice(&r, &mut b),
        "smtp" => smtp(&r, &mut b),
        _ => {}
    }
    Ok(Event {
        time,
        observation: b.finish(time, source),
        quiet: None,
        source: source.clone(),
    })
}

/// `id.*` → `network-traffic` (STIX 2.1 §6.12: `protocols` is required, and at least one of
/// `src_ref`/`dst_ref`).
fn network_traffic(r: &Rec<'_>, log: &str, b: &mut ObservationBuilder) -> Option<usize> {
    let src = r.str("id.orig_h").and_then(|h| b.ip(h));
    let dst = r.str("id.resp_h").and_then(|h| b.ip(h));
    if src.is_none() && dst.is_none() {
        return None;
    }
    let mut props = Map::new();
    if let Some(s) = src {
        props.insert("src_ref".into(), b.id(s));
    }
    if let Some(d) = dst {
        props.insert("dst_ref".into(), b.id(d));
    }
    if let Some(p) = r.u64("id.orig_p").filter(|p| *p <= 65535) {
        props.insert("src_port".into(), p.into());
    }
    if let Some(p) = r.u64("id.resp_p").filter(|p| *p <= 65535) {
        props.insert("dst_port".into(), p.into());
    }
    let mut protocols: Vec<String> = Vec::new();
    match r.str("proto") {
        Some(p) => protocols.push(p.to_ascii_lowercase()),
        None if TCP_LOGS.contains(&log) => protocols.push("tcp".into()),
        None => {}
    }
    for s in r.strs("service") {
        for part in s.split(',') {
            let part = part.trim().to_ascii_lowercase();
            if !part.is_empty() && !protocols.contains(&part) {
                protocols.push(part);
            }
        }
    }
    if TCP_LOGS.contains(&log) && !protocols.iter().any(|p| p == log) {
        protocols.push(log.to_owned());
    }
    if log == "dns" && !protocols.iter().any(|p| p == "dns") {
        protocols.push("dns".into());
    }
    if protocols.is_empty() {
        let v6 = r.str("id.orig_h").is_some_and(|h| h.contains(':'));
        protocols.push(if v6 { "ipv6" } else { "ipv4" }.into());
    }
    props.insert(
        "protocols".into(),
        Value::Array(protocols.into_iter().map(Value::from).collect()),
    );
    Some(b.object("network-traffic", props))
}

/// `conn`: byte and packet counts (§6.12 `src_byte_count` … `dst_packets`).
fn conn(r: &Rec<'_>, nt: Option<usize>, b: &mut ObservationBuilder) {
    let Some(nt) = nt else { return };
    let counts = [
        ("orig_bytes", "src_byte_count"),
        ("resp_bytes", "dst_byte_count"),
        ("orig_pkts", "src_packets"),
        ("resp_pkts", "dst_packets"),
    ];
    let values: Vec<(&str, u64)> = counts
        .iter()
        .filter_map(|(z, s)| r.u64(z).map(|v| (*s, v)))
        .collect();
    if let Some(o) = b.get_mut(nt) {
        for (k, v) in values {
            o.insert(k.into(), v.into());
        }
    }
}

/// `dns`: the query name and its answers.
fn dns(r: &Rec<'_>, b: &mut ObservationBuilder) {
    let query = r.str("query").and_then(|q| b.host(q));
    let answers: Vec<usize> = r
        .strs("answers")
        .into_iter()
        .filter_map(|a| b.host(a))
        .collect();
    if let Some(q) = query {
        let refs: Vec<Value> = answers
            .iter()
            .filter(|a| **a != q)
            .map(|a| b.id(*a))
            .collect();
        let is_domain = b
            .get_mut(q)
            .is_some_and(|o| o.get("type").and_then(Value::as_str) == Some("domain-name"));
        if is_domain
            && !refs.is_empty()
            && let Some(o) = b.get_mut(q)
        {
            o.insert("resolves_to_refs".into(), Value::Array(refs));
        }
    }
}

/// `http`: url, host and the HTTP request extension.
fn http(r: &Rec<'_>, nt: Option<usize>, b: &mut ObservationBuilder) {
    let host = r.str("host");
    let uri = r.str("uri");
    add_http(
        b,
        nt,
        host,
        uri,
        r.str("method"),
        r.str("user_agent"),
        r.str("version"),
    );
}

/// Shared by Zeek `http` and EVE `http`: `url`, `domain-name` (or address) for the host, and
/// `http-request-ext` on the flow (STIX 2.1 §6.12.2: `request_method` and `request_value`
/// are required, so the extension is added only with both).
pub(crate) fn add_http(
    b: &mut ObservationBuilder,
    nt: Option<usize>,
    host: Option<&str>,
    uri: Option<&str>,
    method: Option<&str>,
    user_agent: Option<&str>,
    version: Option<&str>,
) {
    if let Some(h) = host {
        // A Host header may carry a port (RFC 9110 §7.2).
        let bare = match h.rsplit_once(':') {
            Some((name, port))
                if !name.contains(':') && port.bytes().all(|c| c.is_ascii_digit()) =>
            {
                name
            }
            _ => h,
        };
        b.host(bare.trim_start_matches('[').trim_end_matches(']'));
    }
    if let Some(u) = uri {
        let url = if u.contains("://") {
            Some(u.to_owned())
        } else {
            host.map(|h| format!("http://{h}{u}"))
        };
        if let Some(url) = url {
            b.value("url", &url);
        }
    }
    let (Some(nt), Some(method), Some(uri)) = (nt, method, uri) else {
        return;
    };
    let mut headers = Map::new();
    if let Some(h) = host {
        headers.insert("Host".into(), h.into());
    }
    if let Some(ua) = user_agent {
        headers.insert("User-Agent".into(), ua.into());
    }
    let mut ext = Map::new();
    ext.insert("request_method".into(), method.to_ascii_lowercase().into());
    ext.insert("request_value".into(), uri.into());
    if let Some(v) = version {
        let v = v.to_ascii_lowercase();
        let v = if v.starts_with("http/") {
            v
        } else {
            format!("http/{v}")
        };
        ext.insert("request_version".into(), v.into());
    }
    if !headers.is_empty() {
        ext.insert("request_header".into(), Value::Object(headers));
    }
    if let Some(o) = b.get_mut(nt) {
        let mut exts = Map::new();
        exts.insert("http-request-ext".into(), Value::Object(ext));
        o.insert("extensions".into(), Value::Object(exts));
    }
}

/// `ssl`: SNI, certificate names when logged, ja3.
fn ssl(r: &Rec<'_>, b: &mut ObservationBuilder) {
    if let Some(sni) = r.str("server_name") {
        b.host(sni);
    }
    let mut cert = Map::new();
    if let Some(s) = r.str("subject") {
        cert.insert("subject".into(), s.into());
    }
    if let Some(s) = r.str("issuer") {
        cert.insert("issuer".into(), s.into());
    }
    if !cert.is_empty() {
        b.object("x509-certificate", cert);
    }
    if let Some(ja3) = r.str("ja3") {
        let mut o = Map::new();
        o.insert("value".into(), ja3.into());
        if let Some(s) = r.str("ja3s") {
            o.insert("server_value".into(), s.into());
        }
        b.object("x-ja3", o);
    }
}

/// The STIX hash name for a hex digest, by its length (MD5 32, SHA-1 40, SHA-256 64 hex
/// digits; STIX 2.1 §10.7 hash-algorithm-ov).
pub(crate) fn hash_name(hex: &str) -> Option<&'static str> {
    if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        32 => Some("MD5"),
        40 => Some("SHA-1"),
        64 => Some("SHA-256"),
        128 => Some("SHA-512"),
        _ => None,
    }
}

/// `x509`: the certificate (STIX 2.1 §6.18).
fn x509(r: &Rec<'_>, b: &mut ObservationBuilder) {
    let mut cert = Map::new();
    if let Some(fp) = r.str("fingerprint")
        && let Some(name) = hash_name(fp)
    {
        let mut hashes = Map::new();
        hashes.insert(name.into(), fp.to_ascii_lowercase().into());
        cert.insert("hashes".into(), Value::Object(hashes));
    }
    for (z, s) in [
        ("certificate.serial", "serial_number"),
        ("certificate.subject", "subject"),
        ("certificate.issuer", "issuer"),
        ("certificate.key_alg", "subject_public_key_algorithm"),
        ("certificate.sig_alg", "signature_algorithm"),
    ] {
        if let Some(v) = r.str(z) {
            cert.insert(s.into(), v.into());
        }
    }
    if let Some(v) = r.u64("certificate.version") {
        cert.insert("version".into(), v.to_string().into());
    }
    for (z, s) in [
        ("certificate.not_valid_before", "validity_not_before"),
        ("certificate.not_valid_after", "validity_not_after"),
    ] {
        if let Some(t) = r.get(z).and_then(time::zeek) {
            cert.insert(s.into(), time::stix(t).into());
        }
    }
    if !cert.is_empty() {
        b.object("x509-certificate", cert);
    }
    for name in r.strs("san.dns") {
        b.host(name);
    }
    for ip in r.strs("san.ip") {
        b.ip(ip);
    }
}

/// `files`: the file and the hosts it went between.
fn files(r: &Rec<'_>, b: &mut ObservationBuilder) {
    let mut file = Map::new();
    let mut hashes = Map::new();
    for (z, s) in [("md5", "MD5"), ("sha1", "SHA-1"), ("sha256", "SHA-256")] {
        if let Some(h) = r.str(z).filter(|h| hash_name(h) == Some(s)) {
            hashes.insert(s.into(), h.to_ascii_lowercase().into());
        }
    }
    if !hashes.is_empty() {
        file.insert("hashes".into(), Value::Object(hashes));
    }
    if let Some(n) = r.str("filename") {
        file.insert("name".into(), n.into());
    }
    if let Some(size) = r.u64("total_bytes").or_else(|| r.u64("seen_bytes")) {
        file.insert("size".into(), size.into());
    }
    if let Some(m) = r.str("mime_type") {
        file.insert("mime_type".into(), m.into());
    }
    // STIX 2.1 §6.7: a file needs `hashes` or `name`.
    if file.contains_key("hashes") || file.contains_key("name") {
        b.object("file", file);
    }
    for h in r.strs("tx_hosts").into_iter().chain(r.strs("rx_hosts")) {
        b.ip(h);
    }
}

/// `notice`: the notice itself and the addresses it names.
fn notice(r: &Rec<'_>, b: &mut ObservationBuilder) {
    let mut n = Map::new();
    for k in ["note", "msg", "sub"] {
        if let Some(v) = r.str(k) {
            n.insert(k.into(), v.into());
        }
    }
    if !n.is_empty() {
        b.object("x-zeek-notice", n);
    }
    for k in ["src", "dst"] {
        if let Some(a) = r.str(k) {
            b.ip(a);
        }
    }
}

/// `smtp`: the envelope and header addresses as `email-addr` (§6.4).
fn smtp(r: &Rec<'_>, b: &mut ObservationBuilder) {
    for k in ["mailfrom", "rcptto", "from", "to"] {
        for a in r.strs(k) {
            add_email(b, a);
        }
    }
}

/// Adds an `email-addr` from `Name <user@host>` or `<user@host>` or `user@host`.
pub(crate) fn add_email(b: &mut ObservationBuilder, text: &str) {
    let addr = match (text.rfind('<'), text.rfind('>')) {
        (Some(l), Some(r)) if l < r => &text[l + 1..r],
        _ => text,
    };
    let addr = addr.trim();
    if addr.contains('@') && !addr.contains(char::is_whitespace) {
        b.value("email-addr", addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(path_from_file_name("a/dns.log.gz").as_deref(), Some("dns"));
        assert_eq!(
            path_from_file_name("NASHUA_smb_files.log").as_deref(),
            Some("smb_files")
        );
        assert_eq!(path_from_file_name("x509.json.gz").as_deref(), Some("x509"));
        assert_eq!(
            path_from_file_name("test6-malicious.suricata.json.gz"),
            None
        );
    }

    #[test]
    fn unescapes() {
        assert_eq!(unescape("\\x09"), "\t");
        assert_eq!(unescape("a\\xzz"), "a\\xzz");
        assert_eq!(unescape("\\x4"), "\\x4");
        assert_eq!(unescape("a\\\\,b"), "a\\,b");
    }
}
