//! IOC lists: plain one-per-line files, CSV files with a header, and maltrail trail files,
//! turned into STIX 2.1 indicators.
//!
//! **Plain lists** hold one value per line; `#` starts a comment (a whole line, or the rest
//! of a line after whitespace, as maltrail writes `1.2.3.4 # scanner`), blank lines are
//! skipped. **maltrail** trail files are plain lists whose file name is the malware family
//! (`malware/zeus.txt`); the caller passes the name ([`Options::name`]) and it becomes
//! the indicator's `name`. **CSV** files have a header naming the columns (the header may
//! be the last comment line before the data, as abuse.ch writes `# id,dateadded,url,...`);
//! the value comes from the first column with a known name ([`VALUE_COLUMNS`]), the name
//! from a family column ([`NAME_COLUMNS`]), labels from a `tags`/`labels` column, a port
//! from `dst_port`/`port`.
//!
//! **Types.** With [`IocType::Auto`] each value's kind is detected: IPv4/IPv6 addresses and
//! CIDR blocks, `IP:port` (maltrail), domain names, URLs (with a scheme, or `host/path`
//! which maltrail uses for any scheme and which becomes `http://host/path`), and MD5,
//! SHA-1 and SHA-256 hex digests, and maltrail's path trails (`/gate.php`), which become
//! `[url:value LIKE '%/gate.php']`. Regular-expression trails and domain suffixes (`.cc`)
//! are refused. A forced type refuses values of another kind.
//!
//! **Ids and dedupe.** An indicator's id is UUIDv5 of its kind and normalised value
//! ([`crate::ids`]), so one value gives one indicator; a value seen again in the same run
//! (same list or another one) counts as a duplicate and keeps the first one's name.

use std::collections::HashSet;
use std::net::IpAddr;

use stix::TlpLevel;

use crate::ids;
use crate::object::{Mapped, Object, Origin, Refusal, marking_object, quote, stix_time};

/// Longest value accepted (a URL can be long; a line beyond this is refused).
pub const MAX_VALUE_LEN: usize = 8192;
/// Longest list accepted in one call (bytes).
pub const MAX_INPUT: usize = 1 << 30;

/// CSV header names that hold the value, by preference.
pub const VALUE_COLUMNS: &[&str] = &[
    "value",
    "indicator",
    "ioc",
    "ioc_value",
    "observable",
    "url",
    "domain",
    "hostname",
    "host",
    "ip",
    "ip_address",
    "dst_ip",
    "sha256",
    "sha256_hash",
    "sha1",
    "sha1_hash",
    "md5",
    "md5_hash",
    "hash",
];
/// CSV header names that hold the family or indicator name, by preference.
pub const NAME_COLUMNS: &[&str] = &[
    "name",
    "family",
    "malware",
    "malware_printable",
    "malware_family",
    "threat",
    "signature",
];

/// The `--type` a user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IocType {
    /// Detect each value's kind.
    #[default]
    Auto,
    /// IPv4 or IPv6 addresses or CIDR blocks (also `IP:port`).
    Ip,
    /// Domain names.
    Domain,
    /// URLs.
    Url,
    /// MD5 digests.
    Md5,
    /// SHA-1 digests.
    Sha1,
    /// SHA-256 digests.
    Sha256,
}

impl std::str::FromStr for IocType {
    type Err = String;
    fn from_str(s: &str) -> Result<IocType, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "auto" => IocType::Auto,
            "ip" => IocType::Ip,
            "domain" => IocType::Domain,
            "url" => IocType::Url,
            "md5" => IocType::Md5,
            "sha1" => IocType::Sha1,
            "sha256" => IocType::Sha256,
            other => return Err(format!("unknown IOC type {other:?}")),
        })
    }
}

/// The kind of one value, as detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// IPv4 address or CIDR block.
    Ipv4,
    /// IPv6 address or CIDR block.
    Ipv6,
    /// An IPv4 or IPv6 address with a destination port.
    IpPort,
    /// A domain name.
    Domain,
    /// A URL.
    Url,
    /// A URL path without a host (maltrail): any URL ending with it.
    UrlPath,
    /// MD5 hex digest.
    Md5,
    /// SHA-1 hex digest.
    Sha1,
    /// SHA-256 hex digest.
    Sha256,
}

impl Kind {
    /// A short name, used in ids and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ipv4 => "ipv4-addr",
            Kind::Ipv6 => "ipv6-addr",
            Kind::IpPort => "ip-port",
            Kind::Domain => "domain-name",
            Kind::Url => "url",
            Kind::UrlPath => "url-path",
            Kind::Md5 => "md5",
            Kind::Sha1 => "sha1",
            Kind::Sha256 => "sha256",
        }
    }

    fn fits(self, t: IocType) -> bool {
        match t {
            IocType::Auto => true,
            IocType::Ip => matches!(self, Kind::Ipv4 | Kind::Ipv6 | Kind::IpPort),
            IocType::Domain => self == Kind::Domain,
            IocType::Url => matches!(self, Kind::Url | Kind::UrlPath),
            IocType::Md5 => self == Kind::Md5,
            IocType::Sha1 => self == Kind::Sha1,
            IocType::Sha256 => self == Kind::Sha256,
        }
    }
}

/// A value with its kind, normalised (lowercase hosts and digests, `http://` added to
/// maltrail's scheme-less URLs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ioc {
    /// The kind.
    pub kind: Kind,
    /// The normalised value (for [`Kind::IpPort`], the address).
    pub value: String,
    /// The port of [`Kind::IpPort`].
    pub port: Option<u16>,
}

impl Ioc {
    /// The STIX pattern matching this value (STIX 2.1 §9).
    pub fn pattern(&self) -> String {
        let v = quote(&self.value);
        match self.kind {
            Kind::Ipv4 => format!("[ipv4-addr:value = {v}]"),
            Kind::Ipv6 => format!("[ipv6-addr:value = {v}]"),
            Kind::IpPort => {
                let t = if self.value.contains(':') {
                    "ipv6-addr"
                } else {
                    "ipv4-addr"
                };
                format!(
                    "[network-traffic:dst_ref.type = '{t}' AND network-traffic:dst_ref.value = {v} AND network-traffic:dst_port = {}]",
                    self.port.unwrap_or_default()
                )
            }
            Kind::Domain => format!("[domain-name:value = {v}]"),
            Kind::Url => format!("[url:value = {v}]"),
            // STIX 2.1 §9.6 LIKE: `%` matches any run of characters.
            Kind::UrlPath => format!("[url:value LIKE {}]", quote(&format!("%{}", self.value))),
            Kind::Md5 => format!("[file:hashes.MD5 = {v}]"),
            Kind::Sha1 => format!("[file:hashes.'SHA-1' = {v}]"),
            Kind::Sha256 => format!("[file:hashes.'SHA-256' = {v}]"),
        }
    }

    /// The key its id is derived from: kind and value (and port).
    pub fn key(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{}:{p}", self.kind.as_str(), self.value),
            None => format!("{}:{}", self.kind.as_str(), self.value),
        }
    }
}

pub(crate) fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `s` is a domain name: dot-separated labels of letters, digits, `-` and `_`
/// (1–63 each, 253 in all), at least two labels, a top-level label that is not numeric.
pub fn is_domain(s: &str) -> bool {
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    let mut labels = 0;
    let mut last = "";
    for label in s.split('.') {
        if label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && !last.bytes().all(|b| b.is_ascii_digit())
}

/// An IP address or CIDR block, normalised; refuses blocks with host bits set.
pub(crate) fn parse_ip(s: &str) -> Result<Option<(Kind, String)>, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        let kind = if ip.is_ipv4() { Kind::Ipv4 } else { Kind::Ipv6 };
        return Ok(Some((kind, ip.to_string())));
    }
    if s.contains('/')
        && let Ok(net) = s.parse::<ipnet::IpNet>()
    {
        if net.trunc() != net {
            return Err(format!("CIDR block {s} has host bits set"));
        }
        let kind = if matches!(net, ipnet::IpNet::V4(_)) {
            Kind::Ipv4
        } else {
            Kind::Ipv6
        };
        return Ok(Some((kind, net.to_string())));
    }
    Ok(None)
}

/// Detects the kind of one value and normalises it; the error says why it is no IOC.
pub fn detect(raw: &str) -> Result<Ioc, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("empty value".into());
    }
    if s.len() > MAX_VALUE_LEN {
        return Err(format!("value longer than {MAX_VALUE_LEN} bytes"));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("value contains whitespace or control characters".into());
    }
    let plain = |kind, value: String| {
        Ok(Ioc {
            kind,
            value,
            port: None,
        })
    };
    if let Some((kind, value)) = parse_ip(s)? {
        return plain(kind, value);
    }
    if is_hex(s) {
        match s.len() {
            32 => return plain(Kind::Md5, s.to_ascii_lowercase()),
            40 => return plain(Kind::Sha1, s.to_ascii_lowercase()),
            64 => return plain(Kind::Sha256, s.to_ascii_lowercase()),
            _ => {}
        }
    }
    // [IPv6]:port.
    if let Some(rest) = s.strip_prefix('[')
        && let Some((host, port)) = rest.split_once("]:")
        && let (Ok(ip), Ok(port)) = (host.parse::<std::net::Ipv6Addr>(), port.parse::<u16>())
    {
        return Ok(Ioc {
            kind: Kind::IpPort,
            value: ip.to_string(),
            port: Some(port),
        });
    }
    // IPv4:port, as maltrail writes it.
    if let Some((host, port)) = s.rsplit_once(':')
        && let (Ok(ip), Ok(port)) = (host.parse::<std::net::Ipv4Addr>(), port.parse::<u16>())
    {
        return Ok(Ioc {
            kind: Kind::IpPort,
            value: ip.to_string(),
            port: Some(port),
        });
    }
    if let Some(scheme_end) = s.find("://") {
        let scheme = &s[..scheme_end];
        let valid_scheme = scheme.len() <= 32
            && scheme
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'));
        if !valid_scheme || s.len() == scheme_end + 3 {
            return Err("not a URL: bad scheme or no host".into());
        }
        return plain(Kind::Url, s.to_owned());
    }
    let lower = s.trim_end_matches('.').to_ascii_lowercase();
    if is_domain(&lower) {
        return plain(Kind::Domain, lower);
    }
    // maltrail's scheme-less URL: host[:port]/path.
    if let Some((host, _path)) = s.split_once('/') {
        let bare =
            host.rsplit_once(':').map_or(
                host,
                |(h, p)| {
                    if p.parse::<u16>().is_ok() { h } else { host }
                },
            );
        let bare = bare.to_ascii_lowercase();
        if !host.is_empty() && (is_domain(&bare) || bare.parse::<IpAddr>().is_ok()) {
            return plain(Kind::Url, format!("http://{s}"));
        }
        if host.is_empty() && s.len() > 1 {
            // maltrail's path trail: any URL with this path.
            return plain(Kind::UrlPath, s.to_owned());
        }
    }
    if s.starts_with('.') && is_domain(&lower[1..]) || s.starts_with('.') && !s[1..].contains('.') {
        return Err("a domain suffix is not a domain name".into());
    }
    if s.contains([
        '\\', '[', ']', '(', ')', '{', '}', '*', '+', '?', '^', '$', '|',
    ]) {
        return Err("a regular-expression trail; only literal values are imported".into());
    }
    Err("not an IP address, CIDR block, domain name, URL or MD5/SHA-1/SHA-256 digest".into())
}

/// The value as `t` asks, or why not.
pub fn classify(raw: &str, t: IocType) -> Result<Ioc, String> {
    let ioc = detect(raw)?;
    if !ioc.kind.fits(t) {
        return Err(format!("is a {}, not a {:?} value", ioc.kind.as_str(), t).to_lowercase());
    }
    Ok(ioc)
}

/// How a list is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Decide from the file name (`.csv`) or the first data line (a known header).
    #[default]
    Auto,
    /// One value per line (maltrail too).
    Plain,
    /// CSV with a header.
    Csv,
}

/// What an IOC import adds to each indicator.
#[derive(Debug, Clone)]
pub struct Options {
    /// The type to accept.
    pub ioc_type: IocType,
    /// Layout of the list.
    pub format: Format,
    /// The indicator name when the list does not give one (for maltrail: the family).
    pub name: Option<String>,
    /// Labels added to every indicator.
    pub labels: Vec<String>,
    /// A TLP marking added to every indicator.
    pub tlp: Option<TlpLevel>,
    /// `created`, `modified` and `valid_from` of new indicators.
    pub time: jiff::Timestamp,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ioc_type: IocType::Auto,
            format: Format::Auto,
            name: None,
            labels: Vec::new(),
            tlp: None,
            time: jiff::Timestamp::UNIX_EPOCH,
        }
    }
}

/// Turns lists into indicators, remembering ids across lists so a run dedupes.
#[derive(Debug, Default)]
pub struct ListImporter {
    /// The indicator ids made so far (the UUID of `indicator--UUID`).
    seen: HashSet<uuid::Uuid>,
    marking_sent: bool,
}

/// Splits one CSV record (RFC 4180 quoting; no multi-line fields).
pub fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    fields.push(cur);
    fields.into_iter().map(|f| f.trim().to_owned()).collect()
}

/// Column positions of a CSV header.
#[derive(Debug, Clone, Default)]
struct Columns {
    value: usize,
    name: Option<usize>,
    tags: Option<usize>,
    port: Option<usize>,
}

fn header_columns(line: &str) -> Option<Columns> {
    let names: Vec<String> = split_csv(line)
        .into_iter()
        .map(|n| {
            n.trim_matches(|c| c == '#' || c == ' ')
                .to_ascii_lowercase()
        })
        .collect();
    if names.len() < 2 {
        return None;
    }
    let find = |wanted: &[&str]| {
        wanted
            .iter()
            .find_map(|w| names.iter().position(|n| n == w))
    };
    Some(Columns {
        value: find(VALUE_COLUMNS)?,
        name: find(NAME_COLUMNS),
        tags: find(&["tags", "labels", "tag"]),
        port: find(&["dst_port", "port"]),
    })
}

/// One data item of a list: where, what, and extras from CSV columns.
struct Item<'a> {
    line: u64,
    value: &'a str,
    name: Option<&'a str>,
    tags: Vec<&'a str>,
    port: Option<&'a str>,
}

impl ListImporter {
    /// A new importer with nothing seen.
    pub fn new() -> ListImporter {
        ListImporter::default()
    }

    /// Maps one list. `file_name` is used to guess the format when `options.format` is
    /// [`Format::Auto`].
    pub fn import(&mut self, bytes: &[u8], file_name: &str, options: &Options) -> Mapped {
        let mut objects = Vec::new();
        let mut out = self.import_each(bytes, file_name, options, &mut |o| objects.push(o));
        out.objects = objects;
        out
    }

    /// Maps one list as [`ListImporter::import`] does, but hands each object to `each` as
    /// soon as it is made (the returned [`Mapped`] has no objects), so a caller can store a
    /// long list in batches while the rest is still being mapped.
    pub fn import_each(
        &mut self,
        bytes: &[u8],
        file_name: &str,
        options: &Options,
        each: &mut dyn FnMut(Object),
    ) -> Mapped {
        let mut out = Mapped::default();
        if bytes.len() > MAX_INPUT {
            out.refused.push(Refusal {
                origin: Origin::Line(1),
                reason: format!("list larger than {MAX_INPUT} bytes"),
            });
            return out;
        }
        let text = String::from_utf8_lossy(bytes);
        let text_time = stix_time(options.time);
        let time = Stamp {
            parsed: stix::Timestamp::parse(&text_time).ok(),
            text: text_time,
        };
        let mut format = options.format;
        if format == Format::Auto && file_name.to_ascii_lowercase().ends_with(".csv") {
            format = Format::Csv;
        }
        let mut columns: Option<Columns> = None;
        let mut last_comment: Option<&str> = None;
        if let (Some(level), false) = (options.tlp, self.marking_sent) {
            each(marking_object(level));
            self.marking_sent = true;
        }
        for (index, line) in text.lines().enumerate() {
            let number = index as u64 + 1;
            let trimmed = line.trim().trim_start_matches('\u{feff}');
            if trimmed.is_empty() {
                continue;
            }
            if let Some(comment) = trimmed.strip_prefix('#') {
                last_comment = Some(comment);
                continue;
            }
            if format != Format::Plain && columns.is_none() {
                if let Some(c) = header_columns(trimmed) {
                    columns = Some(c);
                    format = Format::Csv;
                    continue;
                }
                if format == Format::Auto {
                    // A data line first: plain, unless the last comment was the header.
                    match last_comment.and_then(header_columns) {
                        Some(c) if trimmed.contains(',') => {
                            columns = Some(c);
                            format = Format::Csv;
                        }
                        _ => format = Format::Plain,
                    }
                } else if let Some(c) = last_comment.and_then(header_columns) {
                    columns = Some(c);
                } else {
                    out.refused.push(Refusal {
                        origin: Origin::Line(number),
                        reason: "CSV without a header naming a value column".into(),
                    });
                    continue;
                }
            }
            let fields;
            let item = match &columns {
                Some(c) if format == Format::Csv => {
                    fields = split_csv(trimmed);
                    let get = |i: Option<usize>| {
                        i.and_then(|i| fields.get(i))
                            .map(String::as_str)
                            .filter(|s| !s.is_empty())
                    };
                    Item {
                        line: number,
                        value: get(Some(c.value)).unwrap_or(""),
                        name: get(c.name),
                        tags: get(c.tags)
                            .map(|t| t.split([',', ' ', ';']).filter(|s| !s.is_empty()).collect())
                            .unwrap_or_default(),
                        port: get(c.port),
                    }
                }
                _ => {
                    // `value # comment`: maltrail's trailing comments.
                    let value = match trimmed.find(" #").or_else(|| trimmed.find("\t#")) {
                        Some(i) => trimmed[..i].trim_end(),
                        None => trimmed,
                    };
                    Item {
                        line: number,
                        value,
                        name: None,
                        tags: Vec::new(),
                        port: None,
                    }
                }
            };
            self.item(item, options, &time, &mut out, each);
        }
        out
    }

    fn item(
        &mut self,
        item: Item<'_>,
        options: &Options,
        time: &Stamp,
        out: &mut Mapped,
        each: &mut dyn FnMut(Object),
    ) {
        let refuse = |out: &mut Mapped, reason: String| {
            out.refused.push(Refusal {
                origin: Origin::Line(item.line),
                reason,
            });
        };
        let mut ioc = match classify(item.value, options.ioc_type) {
            Ok(ioc) => ioc,
            Err(why) => return refuse(out, format!("{:?}: {why}", truncate(item.value))),
        };
        if let Some(port) = item.port {
            match (ioc.kind, port.parse::<u16>()) {
                (Kind::Ipv4 | Kind::Ipv6, Ok(p)) if !ioc.value.contains('/') => {
                    ioc.kind = Kind::IpPort;
                    ioc.port = Some(p);
                }
                (_, Err(_)) => {
                    return refuse(out, format!("port {port:?} is not a number 0-65535"));
                }
                _ => {}
            }
        }
        let uuid = ids::derived_uuid("indicator", &ioc.key());
        if !self.seen.insert(uuid) {
            out.duplicates += 1;
            return;
        }
        let id = format!("indicator--{uuid}");
        out.accepted += 1;
        let mut labels: Vec<&str> = options.labels.iter().map(String::as_str).collect();
        for t in &item.tags {
            if !labels.contains(t) {
                labels.push(t);
            }
        }
        let name = item.name.or(options.name.as_deref());
        each(indicator(&id, &ioc, name, &labels, options.tlp, time));
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The indicator for one IOC (STIX 2.1 §4.7).
///
/// The JSON is written straight into one string, in the property order and with the
/// escaping `serde_json` gives a map of the same properties (the test
/// `indicator_json_is_what_a_map_serialises_to` holds the two together): a `Map` per line was
/// most of the mapping's cost on a 1,000,000-line list (`scripts/bench-import.sh`), and
/// the text must not change, or a re-import of a list stored by an earlier build would
/// compare as changed text.
fn indicator(
    id: &str,
    ioc: &Ioc,
    name: Option<&str>,
    labels: &[&str],
    tlp: Option<TlpLevel>,
    time: &Stamp,
) -> Object {
    let pattern = ioc.pattern();
    let mut json = Vec::with_capacity(256 + pattern.len() + name.map_or(0, str::len));
    json.extend_from_slice(br#"{"type":"indicator","spec_version":"2.1","id":"#);
    push_json_str(&mut json, id);
    json.extend_from_slice(br#","created":"#);
    push_json_str(&mut json, &time.text);
    json.extend_from_slice(br#","modified":"#);
    push_json_str(&mut json, &time.text);
    if let Some(n) = name {
        json.extend_from_slice(br#","name":"#);
        push_json_str(&mut json, n);
    }
    json.extend_from_slice(br#","indicator_types":["malicious-activity"],"pattern":"#);
    push_json_str(&mut json, &pattern);
    json.extend_from_slice(br#","pattern_type":"stix","pattern_version":"2.1","valid_from":"#);
    push_json_str(&mut json, &time.text);
    if !labels.is_empty() {
        json.extend_from_slice(br#","labels":["#);
        for (i, l) in labels.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            push_json_str(&mut json, l);
        }
        json.push(b']');
    }
    if let Some(level) = tlp {
        json.extend_from_slice(br#","object_marking_refs":["#);
        push_json_str(&mut json, level.tlp2_id());
        json.push(b']');
    }
    json.push(b'}');
    Object {
        id: id.to_owned(),
        type_name: "indicator",
        version: time.parsed,
        tlp: tlp.unwrap_or(TlpLevel::Clear),
        // Only `&str`s and ASCII were written, and serde_json escapes to valid UTF-8.
        json: String::from_utf8(json).unwrap_or_default(),
    }
}

/// The run's timestamp, as written and as parsed once (it is every indicator's version).
#[derive(Debug, Clone)]
struct Stamp {
    text: String,
    parsed: Option<stix::Timestamp>,
}

/// Appends `s` as a JSON string literal, escaped as `serde_json` escapes it.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail, nor can serialising a str.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Result<Kind, String> {
        detect(s).map(|i| i.kind)
    }

    #[test]
    fn detects_each_kind() {
        assert_eq!(kind("198.51.100.7"), Ok(Kind::Ipv4));
        assert_eq!(kind("10.0.0.0/8"), Ok(Kind::Ipv4));
        assert_eq!(kind("2001:db8::1"), Ok(Kind::Ipv6));
        assert_eq!(kind("2001:db8::/32"), Ok(Kind::Ipv6));
        assert_eq!(kind("51.210.1.239:8443"), Ok(Kind::IpPort));
        assert_eq!(
            kind("[2a01:7e01::f03c:91ff:feac:f30f]:8080"),
            Ok(Kind::IpPort)
        );
        assert_eq!(
            kind(".cc"),
            Err("a domain suffix is not a domain name".into())
        );
        assert!(kind(r"0ba[0-9]{8,15}\.win").is_err_and(|e| e.contains("regular-expression")));
        assert_eq!(kind("Example.COM."), Ok(Kind::Domain));
        assert_eq!(kind("xn----9sbmbsck6b1a4b0b.xn--p1ai"), Ok(Kind::Domain));
        assert_eq!(kind("http://52.196.149.49"), Ok(Kind::Url));
        assert_eq!(kind("evil.example/gate.php"), Ok(Kind::Url));
        assert_eq!(kind("d41d8cd98f00b204e9800998ecf8427e"), Ok(Kind::Md5));
        assert_eq!(kind(&"a".repeat(40)), Ok(Kind::Sha1));
        assert_eq!(kind(&"F".repeat(64)), Ok(Kind::Sha256));
        assert_eq!(kind("/awidsmdjnfsd"), Ok(Kind::UrlPath));
        assert!(kind("/").is_err());
        assert!(kind("10.0.0.5/8").is_err());
        assert!(kind("not a value").is_err());
        assert!(kind("1.2.3").is_err());
        assert!(kind("abc").is_err());
    }

    #[test]
    fn normalises() {
        assert_eq!(
            detect("Example.COM.").map(|i| i.value),
            Ok("example.com".into())
        );
        assert_eq!(
            detect("evil.example/gate.php").map(|i| i.value),
            Ok("http://evil.example/gate.php".into())
        );
        assert_eq!(detect(&"F".repeat(64)).map(|i| i.value), Ok("f".repeat(64)));
    }

    #[test]
    fn forced_type_refuses_other_kinds() {
        assert!(classify("example.com", IocType::Ip).is_err());
        assert!(classify("198.51.100.7", IocType::Ip).is_ok());
        assert!(classify("d41d8cd98f00b204e9800998ecf8427e", IocType::Sha256).is_err());
    }

    #[test]
    fn plain_list_with_comments_dedupes_and_refuses_with_line_numbers() {
        let list = "# Aliases: zeus\n\nevil.example\n198.51.100.7 # c2\nnope nope\nevil.example\n";
        let mut imp = ListImporter::new();
        let options = Options {
            name: Some("zeus".into()),
            ..Options::default()
        };
        let m = imp.import(list.as_bytes(), "zeus.txt", &options);
        assert_eq!(m.accepted, 2);
        assert_eq!(m.duplicates, 1);
        assert_eq!(m.refused.len(), 1);
        assert_eq!(m.refused[0].origin, Origin::Line(5));
        assert_eq!(m.objects.len(), 2);
        assert!(
            m.objects[1]
                .json
                .contains(r#""pattern":"[ipv4-addr:value = '198.51.100.7']""#)
        );
        assert!(m.objects[0].json.contains(r#""name":"zeus""#));
    }

    #[test]
    fn csv_with_commented_header() {
        let csv = "# id,dateadded,url,threat,tags\n1,2024-01-01,http://a.example/x,malware_download,\"elf,mirai\"\n2,2024-01-01,bad url,x,\n";
        let mut imp = ListImporter::new();
        let m = imp.import(csv.as_bytes(), "urlhaus.csv", &Options::default());
        assert_eq!(m.accepted, 1);
        assert_eq!(m.refused.len(), 1);
        assert_eq!(m.refused[0].origin, Origin::Line(3));
        let json = &m.objects[0].json;
        assert!(json.contains(r#""labels":["elf","mirai"]"#), "{json}");
        assert!(json.contains(r#""name":"malware_download""#), "{json}");
    }

    #[test]
    fn csv_port_column_makes_ip_port() {
        let csv = "dst_ip,dst_port,malware\n198.51.100.9,443,QakBot\n";
        let m = ListImporter::new().import(csv.as_bytes(), "feodo.csv", &Options::default());
        assert_eq!(m.accepted, 1);
        assert!(m.objects[0].json.contains("network-traffic:dst_port = 443"));
    }

    /// The indicator as a `serde_json` map of the same properties serialises it: what
    /// [`indicator`] must write byte for byte.
    fn indicator_by_map(
        id: &str,
        ioc: &Ioc,
        name: Option<&str>,
        labels: &[&str],
        tlp: Option<TlpLevel>,
        time: &str,
    ) -> String {
        use serde_json::{Map, Value};
        let mut m = Map::new();
        m.insert("type".into(), "indicator".into());
        m.insert("spec_version".into(), "2.1".into());
        m.insert("id".into(), id.into());
        m.insert("created".into(), time.into());
        m.insert("modified".into(), time.into());
        if let Some(n) = name {
            m.insert("name".into(), n.into());
        }
        m.insert(
            "indicator_types".into(),
            Value::Array(vec!["malicious-activity".into()]),
        );
        m.insert("pattern".into(), ioc.pattern().into());
        m.insert("pattern_type".into(), "stix".into());
        m.insert("pattern_version".into(), "2.1".into());
        m.insert("valid_from".into(), time.into());
        if !labels.is_empty() {
            m.insert(
                "labels".into(),
                labels.iter().map(|l| Value::from(*l)).collect(),
            );
        }
        if let Some(l) = tlp {
            m.insert(
                "object_marking_refs".into(),
                Value::Array(vec![Value::String(l.tlp2_id().to_owned())]),
            );
        }
        serde_json::to_string(&m).unwrap_or_default()
    }

    #[test]
    fn indicator_json_is_what_a_map_serialises_to() {
        let time = Stamp {
            text: "2026-11-26T10:00:00.123Z".into(),
            parsed: stix::Timestamp::parse("2026-11-26T10:00:00.123Z").ok(),
        };
        let values = [
            "198.51.100.7",
            "evil.example/gate.php?a=\"b\"&c=\\d",
            "/path'with\\quote",
            "d41d8cd98f00b204e9800998ecf8427e",
        ];
        let names = [None, Some("zeus \"the\" bot\u{1}\t\u{e9}")];
        let label_sets: [&[&str]; 3] = [&[], &["a"], &["mal\"ware", "\u{7f}x", "ü"]];
        for v in values {
            let ioc = detect(v).expect("a value");
            let id = ids::derived("indicator", &ioc.key());
            for name in names {
                for labels in label_sets {
                    for tlp in [None, Some(TlpLevel::AmberStrict)] {
                        let o = indicator(&id, &ioc, name, labels, tlp, &time);
                        let want = indicator_by_map(&id, &ioc, name, labels, tlp, &time.text);
                        assert_eq!(o.json, want);
                        assert!(serde_json::from_str::<serde_json::Value>(&o.json).is_ok());
                        assert_eq!(o.version, time.parsed);
                        assert_eq!(o.tlp, tlp.unwrap_or(TlpLevel::Clear));
                    }
                }
            }
        }
    }
}
