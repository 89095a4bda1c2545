//! MISP warninglists: known-benign values that must not raise alerts.
//!
//! A warninglist (MISP/misp-warninglists, `schema.json`) is a JSON object with `name`,
//! `type` and `list`. The five types and how a value is checked against them:
//! * `string`: the value equals an entry (case-insensitively);
//! * `hostname`: the value is the entry or a subdomain of it (a leading `.` in an entry
//!   only spells out the "and subdomains" that applies anyway);
//! * `cidr`: the value is an address (or network) inside an entry's network; plain
//!   addresses are /32 or /128 networks;
//! * `substring`: the value contains an entry;
//! * `regex`: the value matches an entry, written `/…/flags` as in PHP.
//!
//! The shared data set holds about 528,000 entries. Strings and host names go into one
//! hash map each, so a check costs one probe per label of the value. CIDRs go into one
//! hash set per prefix length (the masked network as an integer), probed from the shortest
//! prefix present; with a few dozen distinct lengths a check is a few dozen probes
//! whatever the number of networks. Substrings and regexes are few (5 lists) and scanned.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

use crate::Error;

/// The fields of a warninglist file this crate uses.
#[derive(Deserialize)]
struct ListFile {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    list: Vec<String>,
}

/// All loaded warninglists, ready for look-ups.
#[derive(Debug, Default)]
pub struct Warninglists {
    names: Vec<String>,
    strings: HashMap<String, u32>,
    hostnames: HashMap<String, u32>,
    v4: Vec<(u8, HashMap<u32, u32>)>,
    v6: Vec<(u8, HashMap<u128, u32>)>,
    substrings: Vec<(String, u32)>,
    regexes: Vec<(regex::Regex, u32)>,
    entries: usize,
}

impl Warninglists {
    /// Loads every `list.json` (or `list.json.gz`, or other `*.json` except `schema.json`)
    /// under `dir`, recursively.
    pub fn load_dir(dir: &Path) -> Result<Warninglists, Error> {
        let mut files = Vec::new();
        collect(dir, &mut files)?;
        files.sort();
        let mut lists = Warninglists::default();
        for f in files {
            lists.load_file(&f)?;
        }
        Ok(lists)
    }

    /// Adds one warninglist file (plain or gzip).
    pub fn load_file(&mut self, path: &Path) -> Result<(), Error> {
        let reader = crate::input::open(path)?;
        let file: ListFile = serde_json::from_reader(reader).map_err(|e| Error::Warninglist {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        self.add(&file.name, &file.kind, &file.list)
            .map_err(|message| Error::Warninglist {
                path: path.to_owned(),
                message,
            })
    }

    /// Adds one list of `kind` (`string`, `hostname`, `cidr`, `substring`, `regex`).
    pub fn add(&mut self, name: &str, kind: &str, entries: &[String]) -> Result<(), String> {
        let idx = u32::try_from(self.names.len()).map_err(|_| "too many lists")?;
        self.names.push(name.to_owned());
        for entry in entries {
            let e = entry.trim();
            if e.is_empty() {
                continue;
            }
            self.entries += 1;
            match kind {
                "string" => {
                    self.strings.entry(e.to_lowercase()).or_insert(idx);
                }
                "hostname" => {
                    let h = e
                        .trim_start_matches('.')
                        .trim_end_matches('.')
                        .to_lowercase();
                    if !h.is_empty() {
                        self.hostnames.entry(h).or_insert(idx);
                    }
                }
                "cidr" => match parse_net(e) {
                    Some(IpNet::V4(n)) => {
                        let p = n.prefix_len();
                        let key = u32::from(n.network());
                        slot(&mut self.v4, p).entry(key).or_insert(idx);
                    }
                    Some(IpNet::V6(n)) => {
                        let p = n.prefix_len();
                        let key = u128::from(n.network());
                        slot(&mut self.v6, p).entry(key).or_insert(idx);
                    }
                    None => tracing::debug!(list = name, entry = e, "not a CIDR; skipped"),
                },
                "substring" => self.substrings.push((e.to_lowercase(), idx)),
                "regex" => match php_regex(e) {
                    Some(r) => self.regexes.push((r, idx)),
                    None => tracing::warn!(list = name, entry = e, "regex not supported; skipped"),
                },
                other => return Err(format!("unknown warninglist type {other:?}")),
            }
        }
        Ok(())
    }

    /// How many lists are loaded.
    pub fn list_count(&self) -> usize {
        self.names.len()
    }

    /// How many entries are loaded.
    pub fn entry_count(&self) -> usize {
        self.entries
    }

    /// The name of the first list `value` is on, if any (see the module docs).
    pub fn lookup(&self, value: &str) -> Option<&str> {
        self.lookup_index(value)
            .and_then(|i| self.names.get(i as usize))
            .map(String::as_str)
    }

    fn lookup_index(&self, value: &str) -> Option<u32> {
        let v = value.trim();
        if let Some(net) = parse_net(v)
            && let Some(i) = self.cidr(net)
        {
            return Some(i);
        }
        let lower = v.to_lowercase();
        if let Some(&i) = self.strings.get(&lower) {
            return Some(i);
        }
        // A URL is checked by its host too, since host lists are what know benign sites.
        let host = url_host(&lower).unwrap_or(&lower);
        if host != lower {
            if let Some(net) = parse_net(host)
                && let Some(i) = self.cidr(net)
            {
                return Some(i);
            }
            if let Some(&i) = self.strings.get(host) {
                return Some(i);
            }
        }
        let mut h = host.trim_end_matches('.');
        loop {
            if let Some(&i) = self.hostnames.get(h) {
                return Some(i);
            }
            match h.split_once('.') {
                Some((_, parent)) if !parent.is_empty() => h = parent,
                _ => break,
            }
        }
        if let Some((_, i)) = self
            .substrings
            .iter()
            .find(|(s, _)| lower.contains(s.as_str()))
        {
            return Some(*i);
        }
        self.regexes
            .iter()
            .find(|(r, _)| r.is_match(v))
            .map(|(_, i)| *i)
    }

    fn cidr(&self, net: IpNet) -> Option<u32> {
        match net {
            IpNet::V4(n) => {
                let addr = u32::from(n.network());
                self.v4
                    .iter()
                    .filter(|(p, _)| *p <= n.prefix_len())
                    .find_map(|(p, set)| {
                        let mask = if *p == 0 {
                            0
                        } else {
                            u32::MAX << (32 - u32::from(*p))
                        };
                        set.get(&(addr & mask)).copied()
                    })
            }
            IpNet::V6(n) => {
                let addr = u128::from(n.network());
                self.v6
                    .iter()
                    .filter(|(p, _)| *p <= n.prefix_len())
                    .find_map(|(p, set)| {
                        let mask = if *p == 0 {
                            0
                        } else {
                            u128::MAX << (128 - u32::from(*p))
                        };
                        set.get(&(addr & mask)).copied()
                    })
            }
        }
    }
}

/// The hash set for prefix length `p`, created in order.
fn slot<K>(v: &mut Vec<(u8, HashMap<K, u32>)>, p: u8) -> &mut HashMap<K, u32> {
    let i = match v.binary_search_by_key(&p, |(q, _)| *q) {
        Ok(i) => i,
        Err(i) => {
            v.insert(i, (p, HashMap::new()));
            i
        }
    };
    &mut v[i].1
}

/// An address or a network (`10.0.0.0/8`, `8.8.8.8`).
fn parse_net(s: &str) -> Option<IpNet> {
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(n.trunc());
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

/// The host of an absolute URL.
fn url_host(s: &str) -> Option<&str> {
    let rest = s.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    };
    Some(host.trim_start_matches('[').trim_end_matches(']'))
}

/// A PHP-style `/pattern/flags` regex (MISP evaluates them with `preg_match`).
fn php_regex(e: &str) -> Option<regex::Regex> {
    let body = e.strip_prefix('/')?;
    let end = body.rfind('/')?;
    let (pat, flags) = (&body[..end], &body[end + 1..]);
    let mut b = regex::RegexBuilder::new(pat);
    b.case_insensitive(flags.contains('i'));
    b.size_limit(1 << 20);
    b.build().ok()
}

/// Collects the list files under `dir`.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect(&path, out)?;
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if (name.ends_with(".json") || name.ends_with(".json.gz")) && !name.starts_with("schema.") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> Warninglists {
        let mut w = Warninglists::default();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        w.add("hosts", "hostname", &s(&[".google.com", "example.org"]))
            .unwrap();
        w.add(
            "dns",
            "cidr",
            &s(&["8.8.8.0/24", "2001:4860::/32", "1.1.1.1"]),
        )
        .unwrap();
        w.add("str", "string", &s(&["Foo.Bar"])).unwrap();
        w.add("sub", "substring", &s(&["any.run"])).unwrap();
        w.add("re", "regex", &s(&["/^abuse@.*$/i"])).unwrap();
        w
    }

    #[test]
    fn semantics() {
        let w = lists();
        assert_eq!(w.lookup("www.google.com"), Some("hosts"));
        assert_eq!(w.lookup("google.com"), Some("hosts"));
        assert_eq!(w.lookup("notgoogle.com"), None);
        assert_eq!(w.lookup("8.8.8.8"), Some("dns"));
        assert_eq!(w.lookup("8.8.8.0/25"), Some("dns"));
        assert_eq!(w.lookup("8.8.0.0/16"), None);
        assert_eq!(w.lookup("1.1.1.1"), Some("dns"));
        assert_eq!(w.lookup("1.1.1.2"), None);
        assert_eq!(w.lookup("2001:4860:4860::8888"), Some("dns"));
        assert_eq!(w.lookup("foo.bar"), Some("str"));
        assert_eq!(w.lookup("https://app.any.run/x"), Some("sub"));
        assert_eq!(w.lookup("http://www.example.org:8080/a"), Some("hosts"));
        assert_eq!(w.lookup("ABUSE@x.y"), Some("re"));
        assert_eq!(w.lookup("evil.example"), None);
    }
}
