//! Suricata datasets (Suricata 7): one list file per set, and the `entente.rules` that loads
//! them.
//!
//! A dataset file holds one value per line, in the form the `dataset` keyword's `type`
//! loads: `string` sets base64-encoded, `md5`/`sha256` lower-case hex, `ipv4`/`ip` the
//! address as text. The sets and how the rules use them:
//!
//! | file | type | rule |
//! | --- | --- | --- |
//! | `domain.lst` | string | `dns.query`, `tls.sni`, `http.host` |
//! | `url-host.lst`, `url-path.lst` | string | `http.host` and `http.uri` both in the sets (see below) |
//! | `md5.lst`, `sha1.lst`, `sha256.lst` | hex | `filemd5`, `filesha1`, `filesha256` (the file-hash keywords read the same one-hex-per-line lists; datasets have no SHA-1 type) |
//! | `cert-sha1.lst` | string | `tls.cert_fingerprint` (`aa:bb:…`, as Suricata prints it) |
//! | `file-name.lst` | string | `file.name` |
//! | `ipv4.lst`, `ipv6.lst` | ipv4, ip | none in Suricata 7 (no IP sticky buffer before 8's `ip.src`/`ip.dst`); kept for `dataset-add` and newer sensors |
//!
//! Addresses and networks are matched by address lists in the rule headers instead
//! (`alert ip any any <> [a,b,…] any`), split so that no rule exceeds Suricata's rule length.
//!
//! Suricata 7 has no buffer holding a whole URL, so a URL is split into its host (as
//! `http.host` normalizes it: lower case, no port) and its path and query (as `http.uri`
//! has them, no fragment); the rule fires when both are listed. With several URLs listed
//! the pair is not checked to come from the same URL: a host of one with the path of
//! another also fires.
//!
//! E-mail addresses, SHA-512 hashes, software and user names have no Suricata 7 keyword
//! that a list can drive; [`Datasets::unsupported`] counts them.
//!
//! `load` file names are relative to the rule file; the `file*` hash lists are relative to
//! `default-rule-path`, so the rules are meant to be loaded from the export directory with
//! `default-rule-path` pointing there (`suricata -S DIR/entente.rules` with `--set
//! default-rule-path=DIR`).

use std::fmt::Write as _;
use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::observable::{Kind, Observable};

/// Suricata's rule-length limit is 8 KiB; address lists stay well below it.
const MAX_ADDRESS_LIST: usize = 6000;

/// The sets written, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Set {
    /// Domain names.
    Domain,
    /// Hosts of URLs.
    UrlHost,
    /// Paths (with query) of URLs.
    UrlPath,
    /// File MD5s.
    Md5,
    /// File SHA-1s.
    Sha1,
    /// File SHA-256s.
    Sha256,
    /// Certificate SHA-1 fingerprints.
    CertSha1,
    /// File names.
    FileName,
    /// IPv4 addresses.
    Ipv4,
    /// IPv6 addresses.
    Ipv6,
}

impl Set {
    /// Every set, in file order.
    pub const ALL: [Set; 10] = [
        Set::Domain,
        Set::UrlHost,
        Set::UrlPath,
        Set::Md5,
        Set::Sha1,
        Set::Sha256,
        Set::CertSha1,
        Set::FileName,
        Set::Ipv4,
        Set::Ipv6,
    ];

    /// The list file's name.
    pub fn file_name(self) -> &'static str {
        match self {
            Set::Domain => "domain.lst",
            Set::UrlHost => "url-host.lst",
            Set::UrlPath => "url-path.lst",
            Set::Md5 => "md5.lst",
            Set::Sha1 => "sha1.lst",
            Set::Sha256 => "sha256.lst",
            Set::CertSha1 => "cert-sha1.lst",
            Set::FileName => "file-name.lst",
            Set::Ipv4 => "ipv4.lst",
            Set::Ipv6 => "ipv6.lst",
        }
    }

    /// The dataset's name in rules and socket commands.
    pub fn dataset_name(self) -> &'static str {
        match self {
            Set::Domain => "entente-domain",
            Set::UrlHost => "entente-url-host",
            Set::UrlPath => "entente-url-path",
            Set::Md5 => "entente-md5",
            Set::Sha1 => "entente-sha1",
            Set::Sha256 => "entente-sha256",
            Set::CertSha1 => "entente-cert-sha1",
            Set::FileName => "entente-file-name",
            Set::Ipv4 => "entente-ipv4",
            Set::Ipv6 => "entente-ipv6",
        }
    }

    /// The dataset `type`, or `None` for SHA-1, which only `filesha1` reads.
    pub fn dataset_type(self) -> Option<&'static str> {
        match self {
            Set::Domain | Set::UrlHost | Set::UrlPath | Set::CertSha1 | Set::FileName => {
                Some("string")
            }
            Set::Md5 => Some("md5"),
            Set::Sha256 => Some("sha256"),
            Set::Sha1 => None,
            Set::Ipv4 => Some("ipv4"),
            Set::Ipv6 => Some("ip"),
        }
    }

    fn index(self) -> usize {
        Set::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// The encoded contents of every set, plus the addresses and networks for rule headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Datasets {
    /// Encoded lines per set, sorted and without duplicates once `build` returns.
    sets: [Vec<String>; 10],
    /// Addresses and networks for the rule headers, sorted and without duplicates.
    addresses: Vec<String>,
    unsupported: u64,
}

impl Datasets {
    /// The sets of `values` (duplicates collapse; each set is sorted).
    pub fn build<'a>(values: impl IntoIterator<Item = &'a Observable>) -> Datasets {
        let mut d = Datasets::default();
        for o in values {
            d.add(o);
        }
        // Sorting once at the end is cheaper than keeping ordered sets while inserting.
        for lines in d.sets.iter_mut().chain(std::iter::once(&mut d.addresses)) {
            lines.sort_unstable();
            lines.dedup();
        }
        d
    }

    fn add(&mut self, o: &Observable) {
        let v = o.value.as_str();
        match o.kind {
            Kind::Domain => self.put(Set::Domain, b64(v)),
            Kind::Url => {
                let (host, path) = split_url(v);
                self.put(Set::UrlHost, b64(&host));
                self.put(Set::UrlPath, b64(path));
            }
            Kind::Md5 => self.put(Set::Md5, v.to_owned()),
            Kind::Sha1 => self.put(Set::Sha1, v.to_owned()),
            Kind::Sha256 => self.put(Set::Sha256, v.to_owned()),
            Kind::CertSha1 => self.put(Set::CertSha1, b64(&colon_fingerprint(v))),
            Kind::FileName => self.put(Set::FileName, b64(v)),
            Kind::Ip => {
                match v.parse::<IpAddr>() {
                    Ok(IpAddr::V4(_)) => self.put(Set::Ipv4, v.to_owned()),
                    Ok(IpAddr::V6(_)) => self.put(Set::Ipv6, v.to_owned()),
                    Err(_) => {
                        self.unsupported += 1;
                        return;
                    }
                }
                self.addresses.push(v.to_owned());
            }
            Kind::Subnet => {
                self.addresses.push(v.to_owned());
            }
            Kind::Email | Kind::Sha512 | Kind::Software | Kind::UserName => {
                self.unsupported += 1;
            }
        }
    }

    fn put(&mut self, set: Set, line: String) {
        self.sets[set.index()].push(line);
    }

    /// The encoded lines of one set, sorted.
    pub fn lines(&self, set: Set) -> impl Iterator<Item = &str> {
        self.sets[set.index()].iter().map(String::as_str)
    }

    /// How many values have no Suricata 7 representation (see the module doc).
    pub fn unsupported(&self) -> u64 {
        self.unsupported
    }

    /// Whether nothing at all is listed.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.sets.iter().all(Vec::is_empty)
    }

    /// The rules that load these sets (every dataset rule, also for empty sets, so that
    /// `dataset-add` finds every set defined), numbered from `sid_base`.
    pub fn rules(&self, sid_base: u32) -> String {
        let mut r = String::new();
        r.push_str(
            "# Generated by `entente export suricata-dataset`. Load from this directory, with\n\
             # default-rule-path set to it (the file* keywords read their lists from there).\n",
        );
        let ds = |set: Set| {
            format!(
                "dataset:isset,{},type {},load {};",
                set.dataset_name(),
                set.dataset_type().unwrap_or("string"),
                set.file_name()
            )
        };
        let mut rule = |sid_offset: u32, proto: &str, msg: &str, body: String| {
            let _ = writeln!(
                r,
                "alert {proto} any any -> any any (msg:\"entente: {msg}\"; {body} \
                 classtype:trojan-activity; sid:{}; rev:1;)",
                sid_base + sid_offset
            );
        };
        rule(
            1,
            "dns",
            "DNS query for a listed domain",
            format!("dns.query; {}", ds(Set::Domain)),
        );
        rule(
            2,
            "tls",
            "TLS SNI of a listed domain",
            format!("tls.sni; {}", ds(Set::Domain)),
        );
        rule(
            3,
            "http",
            "HTTP request to a listed domain",
            format!("http.host; {}", ds(Set::Domain)),
        );
        rule(
            4,
            "http",
            "HTTP request for a listed URL",
            format!(
                "http.host; {} http.uri; {}",
                ds(Set::UrlHost),
                ds(Set::UrlPath)
            ),
        );
        rule(
            5,
            "tls",
            "TLS certificate with a listed SHA-1 fingerprint",
            format!("tls.cert_fingerprint; {}", ds(Set::CertSha1)),
        );
        rule(
            6,
            "http",
            "file with a listed name",
            format!("file.name; {}", ds(Set::FileName)),
        );
        let hashes = [
            (Set::Md5, "filemd5", "MD5"),
            (Set::Sha1, "filesha1", "SHA-1"),
            (Set::Sha256, "filesha256", "SHA-256"),
        ];
        for (i, (set, keyword, name)) in (0u32..).zip(hashes) {
            // The file* keywords refuse an empty list; an empty set gets no rule.
            if self.sets[set.index()].is_empty() {
                continue;
            }
            rule(
                10 + i,
                "http",
                &format!("file with a listed {name}"),
                format!("{keyword}:{};", set.file_name()),
            );
        }
        let mut chunk = String::new();
        let mut n = 0u32;
        let mut flush = |chunk: &mut String, r: &mut String| {
            if chunk.is_empty() {
                return;
            }
            let _ = writeln!(
                r,
                "alert ip any any <> [{chunk}] any (msg:\"entente: traffic with a listed \
                 address\"; classtype:trojan-activity; sid:{}; rev:1;)",
                sid_base + 100 + n
            );
            n += 1;
            chunk.clear();
        };
        for a in &self.addresses {
            if !chunk.is_empty() && chunk.len() + a.len() + 1 > MAX_ADDRESS_LIST {
                flush(&mut chunk, &mut r);
            }
            if !chunk.is_empty() {
                chunk.push(',');
            }
            chunk.push_str(a);
        }
        flush(&mut chunk, &mut r);
        r
    }

    /// Unix-socket commands (`dataset-add` or `dataset-remove`, per `verb`) that apply these
    /// sets to a running Suricata, one per line, for `suricatasc -c`. SHA-1 and the header
    /// address lists have no socket command; they change with a rule reload.
    pub fn commands(&self, verb: &str) -> String {
        let mut out = String::new();
        for set in Set::ALL {
            let Some(ty) = set.dataset_type() else {
                continue;
            };
            if matches!(set, Set::Ipv4 | Set::Ipv6) {
                continue;
            }
            for line in self.lines(set) {
                let _ = writeln!(out, "{verb} {} {ty} {line}", set.dataset_name());
            }
        }
        out
    }
}

fn b64(s: &str) -> String {
    STANDARD.encode(s.as_bytes())
}

/// `aabb…` → `aa:bb:…`, as `tls.cert_fingerprint` holds it.
fn colon_fingerprint(hex: &str) -> String {
    let mut s = String::with_capacity(hex.len() * 3 / 2);
    for (i, c) in hex.chars().enumerate() {
        if i > 0 && i % 2 == 0 {
            s.push(':');
        }
        s.push(c);
    }
    s
}

/// A URL's host (lower case, no port, no user info) and its path with query (no fragment;
/// `/` when empty), as `http.host` and `http.uri` hold them.
pub fn split_url(url: &str) -> (String, &str) {
    let rest = match url.find("://") {
        Some(i) => &url[i + 3..],
        None => url,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let mut path = &rest[end..];
    if let Some(i) = path.find('#') {
        path = &path[..i];
    }
    if path.is_empty() || path.starts_with('?') {
        path = if path.is_empty() { "/" } else { path };
    }
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(inner) = host.strip_prefix('[') {
        inner.split_once(']').map_or(inner, |(h, _)| h)
    } else {
        host.split_once(':').map_or(host, |(h, _)| h)
    };
    (host.to_ascii_lowercase(), path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_and_uri() {
        assert_eq!(
            split_url("https://User@Bad.Example:8443/a/b?c=d#frag"),
            ("bad.example".to_owned(), "/a/b?c=d")
        );
        assert_eq!(split_url("http://x.test"), ("x.test".to_owned(), "/"));
        assert_eq!(
            split_url("http://[2001:db8::1]:80/p"),
            ("2001:db8::1".to_owned(), "/p")
        );
    }

    #[test]
    fn address_lists_are_split_below_the_rule_limit() {
        let values: Vec<Observable> = (0..2000u32)
            .map(|i| Observable {
                kind: Kind::Ip,
                value: format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
            })
            .collect();
        let d = Datasets::build(&values);
        let rules = d.rules(1_000_000);
        let ip_rules: Vec<&str> = rules
            .lines()
            .filter(|l| l.starts_with("alert ip"))
            .collect();
        assert!(ip_rules.len() > 1);
        assert!(ip_rules.iter().all(|l| l.len() < 8192));
        let listed: usize = ip_rules
            .iter()
            .map(|l| l.split('[').nth(1).map_or(0, |s| s.split(',').count()))
            .sum();
        assert_eq!(listed, 2000);
    }
}
