//! Which values a pattern stands for, decided on the `pattern` crate's AST.
//!
//! A sensor list can only say "this value is bad"; it cannot say "this value, but only
//! together with that one", "three times within ten minutes" or "any name matching this
//! regex". So a pattern is exportable only when it is a plain observable: one equality (or
//! `IN` set) on a property that names a value by itself (`[ipv4-addr:value = '1.2.3.4']`),
//! or an `OR` of such comparisons, inside one observation expression or across observation
//! expressions joined by `OR` without qualifiers (STIX 2.1 §9: `OR` is satisfied by either
//! side, so each value on its own is a sufficient condition). Anything else is refused as a
//! whole with a [`NotExportable`] reason: exporting only the plain part of an `OR` would be
//! sound but silently incomplete, and exporting one side of an `AND` would be wrong.
//!
//! Values are normalized so that equal values compare equal across indicators and exports:
//! addresses and networks in their canonical text (a `/32` or `/128` network is an
//! address), domains lower-cased without a trailing dot, hashes lower-case hex of the
//! length their algorithm has. URLs and names are kept as written.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use pattern::ast::{Comparison, ComparisonExpr, Literal, ObservationExpr, Op, PathStep, Rhs};
use serde::{Deserialize, Serialize};

/// What kind of value an exported observable is. The names ([`Kind::as_str`]) are the
/// `type` column of the CSV format and the keys of the delta state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An IPv4 or IPv6 address.
    Ip,
    /// An IPv4 or IPv6 network (CIDR) shorter than a single address.
    Subnet,
    /// A domain name.
    Domain,
    /// A URL, as written (scheme included).
    Url,
    /// An e-mail address.
    Email,
    /// A file's MD5.
    Md5,
    /// A file's SHA-1.
    Sha1,
    /// A file's SHA-256.
    Sha256,
    /// A file's SHA-512.
    Sha512,
    /// The SHA-1 of an X.509 certificate (its fingerprint).
    CertSha1,
    /// A file name.
    FileName,
    /// A software name.
    Software,
    /// A user account's login or id.
    UserName,
}

impl Kind {
    /// Every kind, in the order outputs list them.
    pub const ALL: [Kind; 13] = [
        Kind::Ip,
        Kind::Subnet,
        Kind::Domain,
        Kind::Url,
        Kind::Email,
        Kind::Md5,
        Kind::Sha1,
        Kind::Sha256,
        Kind::Sha512,
        Kind::CertSha1,
        Kind::FileName,
        Kind::Software,
        Kind::UserName,
    ];

    /// The kind's stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ip => "ip",
            Kind::Subnet => "subnet",
            Kind::Domain => "domain",
            Kind::Url => "url",
            Kind::Email => "email",
            Kind::Md5 => "md5",
            Kind::Sha1 => "sha1",
            Kind::Sha256 => "sha256",
            Kind::Sha512 => "sha512",
            Kind::CertSha1 => "cert-sha1",
            Kind::FileName => "file-name",
            Kind::Software => "software",
            Kind::UserName => "user-name",
        }
    }

    /// The kind named `name` ([`Kind::as_str`]).
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One exportable value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Observable {
    /// What it is.
    pub kind: Kind,
    /// The normalized value.
    pub value: String,
}

/// Why a pattern is not a plain observable. The `Display` text is what the CLI lists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotExportable {
    /// `AND` or `FOLLOWEDBY` between observation expressions: several observations together.
    #[error("combines observations with {0} (several observations must hold together)")]
    ObservationOperator(&'static str),
    /// A `WITHIN`, `REPEATS` or `START`/`STOP` qualifier.
    #[error("has a {0} qualifier")]
    Qualifier(&'static str),
    /// `AND` inside the brackets: several properties of one object.
    #[error("combines comparisons with AND (several properties must hold together)")]
    ComparisonAnd,
    /// `EXISTS`.
    #[error("tests EXISTS")]
    Exists,
    /// `NOT` before the operator.
    #[error("negates a comparison")]
    Negated,
    /// An operator other than `=` and `IN` (ranges, `LIKE`, `MATCHES`, ...).
    #[error("uses {0} (not an exact value)")]
    Operator(&'static str),
    /// A property that no sensor type names.
    #[error("tests {0}, which no sensor type names")]
    UnsupportedPath(String),
    /// A non-string constant where a string is expected.
    #[error("compares {path} with a {kind} constant")]
    NotAString {
        /// The object path, as written.
        path: String,
        /// The literal's kind.
        kind: &'static str,
    },
    /// A value that is not what its property holds (a bad address, a hash of the wrong
    /// length).
    #[error("value {value:?} is not a valid {expected}")]
    BadValue {
        /// The value, as written.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// An empty `IN ()` set: no value at all.
    #[error("has an empty IN set")]
    EmptySet,
}

/// The exportable values of `pattern`, in pattern order (duplicates kept), or why it has
/// none.
pub fn extract(pattern: &pattern::Pattern) -> Result<Vec<Observable>, NotExportable> {
    let mut out = Vec::new();
    observation(&pattern.root, &mut out)?;
    Ok(out)
}

fn observation(expr: &ObservationExpr, out: &mut Vec<Observable>) -> Result<(), NotExportable> {
    match expr {
        ObservationExpr::Observation { expr, .. } => comparison_expr(expr, out),
        ObservationExpr::Or { lhs, rhs, .. } => {
            observation(lhs, out)?;
            observation(rhs, out)
        }
        ObservationExpr::And { .. } => Err(NotExportable::ObservationOperator("AND")),
        ObservationExpr::FollowedBy { .. } => Err(NotExportable::ObservationOperator("FOLLOWEDBY")),
        ObservationExpr::Qualified { qualifier, .. } => {
            Err(NotExportable::Qualifier(match qualifier {
                pattern::Qualifier::Within { .. } => "WITHIN",
                pattern::Qualifier::Repeats { .. } => "REPEATS",
                pattern::Qualifier::StartStop { .. } => "START/STOP",
            }))
        }
    }
}

fn comparison_expr(expr: &ComparisonExpr, out: &mut Vec<Observable>) -> Result<(), NotExportable> {
    match expr {
        ComparisonExpr::Or { lhs, rhs, .. } => {
            comparison_expr(lhs, out)?;
            comparison_expr(rhs, out)
        }
        ComparisonExpr::And { .. } => Err(NotExportable::ComparisonAnd),
        ComparisonExpr::Exists { .. } => Err(NotExportable::Exists),
        ComparisonExpr::Comparison(c) => comparison(c, out),
    }
}

fn comparison(c: &Comparison, out: &mut Vec<Observable>) -> Result<(), NotExportable> {
    if c.negated {
        return Err(NotExportable::Negated);
    }
    let target = target(c)?;
    let literals: &[Literal] = match (&c.op, &c.rhs) {
        (Op::Eq, Rhs::Literal(l)) => std::slice::from_ref(l),
        (Op::In, Rhs::Set(set)) if set.is_empty() => return Err(NotExportable::EmptySet),
        (Op::In, Rhs::Set(set)) => set,
        // `ISSUBSET 'cidr'` on an address property is the pattern way of naming a network.
        (Op::IsSubset, Rhs::Literal(l)) if target == Target::Address => {
            let text = string(c, l)?;
            out.push(network(text)?);
            return Ok(());
        }
        (op, _) => return Err(NotExportable::Operator(op.as_str())),
    };
    for l in literals {
        let text = string(c, l)?;
        out.push(target.observable(text)?);
    }
    Ok(())
}

/// What the left-hand side of a comparison names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// An address (or, written as CIDR, a network).
    Address,
    /// An address or a domain name (a `network-traffic` endpoint's `value`).
    Endpoint,
    /// A value of a fixed kind.
    Fixed(Kind),
}

impl Target {
    fn observable(self, text: &str) -> Result<Observable, NotExportable> {
        match self {
            Target::Address => address(text),
            Target::Endpoint => {
                if let Ok(o) = address(text) {
                    Ok(o)
                } else {
                    Ok(domain(text))
                }
            }
            Target::Fixed(kind) => fixed(kind, text),
        }
    }
}

/// The property tested, as a [`Target`] (STIX 2.1 §6 for the SCO properties).
fn target(c: &Comparison) -> Result<Target, NotExportable> {
    let path = &c.path;
    let props: Vec<&str> = path
        .steps
        .iter()
        .map(|s| match s {
            PathStep::Property(p) => p.as_str(),
            PathStep::Index(_) | PathStep::AnyIndex => "[]",
        })
        .collect();
    let t = match (path.object_type.as_str(), props.as_slice()) {
        ("ipv4-addr" | "ipv6-addr", ["value"]) => Target::Address,
        ("domain-name", ["value"]) => Target::Fixed(Kind::Domain),
        ("url", ["value"]) => Target::Fixed(Kind::Url),
        ("email-addr", ["value"]) => Target::Fixed(Kind::Email),
        ("email-message", ["from_ref" | "sender_ref", "value"]) => Target::Fixed(Kind::Email),
        ("network-traffic", ["src_ref" | "dst_ref", "value"]) => Target::Endpoint,
        ("file", ["hashes", algo]) => match hash_kind(algo) {
            Some(kind) => Target::Fixed(kind),
            None => return Err(unsupported(c)),
        },
        ("file", ["name"]) => Target::Fixed(Kind::FileName),
        ("x509-certificate", ["hashes", algo]) if hash_kind(algo) == Some(Kind::Sha1) => {
            Target::Fixed(Kind::CertSha1)
        }
        ("software", ["name"]) => Target::Fixed(Kind::Software),
        ("user-account", ["user_id" | "account_login"]) => Target::Fixed(Kind::UserName),
        _ => return Err(unsupported(c)),
    };
    Ok(t)
}

fn unsupported(c: &Comparison) -> NotExportable {
    NotExportable::UnsupportedPath(path_text(c))
}

fn path_text(c: &Comparison) -> String {
    let mut s = format!("{}:", c.path.object_type);
    for (i, step) in c.path.steps.iter().enumerate() {
        match step {
            PathStep::Property(p) if i == 0 => s.push_str(p),
            PathStep::Property(p) => {
                s.push('.');
                s.push_str(p);
            }
            PathStep::Index(n) => s.push_str(&format!("[{n}]")),
            PathStep::AnyIndex => s.push_str("[*]"),
        }
    }
    s
}

/// STIX 2.1 §10.10 hash-algorithm-ov names (and the spellings 2.0 producers use).
fn hash_kind(algo: &str) -> Option<Kind> {
    match algo.to_ascii_uppercase().replace('-', "").as_str() {
        "MD5" => Some(Kind::Md5),
        "SHA1" => Some(Kind::Sha1),
        "SHA256" => Some(Kind::Sha256),
        "SHA512" => Some(Kind::Sha512),
        _ => None,
    }
}

fn string<'a>(c: &Comparison, l: &'a Literal) -> Result<&'a str, NotExportable> {
    match l {
        Literal::String(s) => Ok(s),
        other => Err(NotExportable::NotAString {
            path: path_text(c),
            kind: other.kind(),
        }),
    }
}

fn address(text: &str) -> Result<Observable, NotExportable> {
    if text.contains('/') {
        return network(text);
    }
    match text.trim().parse::<IpAddr>() {
        Ok(ip) => Ok(Observable {
            kind: Kind::Ip,
            value: ip.to_string(),
        }),
        Err(_) => Err(NotExportable::BadValue {
            value: text.to_owned(),
            expected: "IP address",
        }),
    }
}

fn network(text: &str) -> Result<Observable, NotExportable> {
    let net: IpNet = match text.trim().parse::<IpNet>() {
        Ok(n) => n,
        // ISSUBSET also takes a plain address (a network of one).
        Err(_) => return address_only(text),
    };
    if net.prefix_len() == net.max_prefix_len() {
        return Ok(Observable {
            kind: Kind::Ip,
            value: net.addr().to_string(),
        });
    }
    Ok(Observable {
        kind: Kind::Subnet,
        value: net.trunc().to_string(),
    })
}

fn address_only(text: &str) -> Result<Observable, NotExportable> {
    match text.trim().parse::<IpAddr>() {
        Ok(ip) => Ok(Observable {
            kind: Kind::Ip,
            value: ip.to_string(),
        }),
        Err(_) => Err(NotExportable::BadValue {
            value: text.to_owned(),
            expected: "IP network",
        }),
    }
}

fn domain(text: &str) -> Observable {
    Observable {
        kind: Kind::Domain,
        value: text.trim().trim_end_matches('.').to_lowercase(),
    }
}

fn fixed(kind: Kind, text: &str) -> Result<Observable, NotExportable> {
    let hex_len = match kind {
        Kind::Md5 => Some(32),
        Kind::Sha1 | Kind::CertSha1 => Some(40),
        Kind::Sha256 => Some(64),
        Kind::Sha512 => Some(128),
        _ => None,
    };
    if let Some(len) = hex_len {
        // Certificate fingerprints are often written with colons (aa:bb:...).
        let hex: String = text
            .trim()
            .chars()
            .filter(|c| !(kind == Kind::CertSha1 && *c == ':'))
            .collect();
        if hex.len() != len || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(NotExportable::BadValue {
                value: text.to_owned(),
                expected: kind.as_str(),
            });
        }
        return Ok(Observable {
            kind,
            value: hex.to_ascii_lowercase(),
        });
    }
    if kind == Kind::Domain {
        return Ok(domain(text));
    }
    if text.is_empty() {
        return Err(NotExportable::BadValue {
            value: String::new(),
            expected: kind.as_str(),
        });
    }
    Ok(Observable {
        kind,
        value: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(p: &str) -> Result<Vec<(Kind, String)>, NotExportable> {
        let parsed = pattern::parse(p, pattern::StixVersion::V21).expect("test pattern parses");
        extract(&parsed).map(|v| v.into_iter().map(|o| (o.kind, o.value)).collect())
    }

    #[test]
    fn plain_values_and_ors_are_exported() {
        assert_eq!(
            ex("[ipv4-addr:value = '198.51.100.7']"),
            Ok(vec![(Kind::Ip, "198.51.100.7".into())])
        );
        assert_eq!(
            ex("[domain-name:value = 'Evil.Example.' OR url:value = 'http://x.test/a']"),
            Ok(vec![
                (Kind::Domain, "evil.example".into()),
                (Kind::Url, "http://x.test/a".into())
            ])
        );
        assert_eq!(
            ex("[ipv4-addr:value = '10.1.2.3/8'] OR [ipv6-addr:value = '2001:db8::1/128']"),
            Ok(vec![
                (Kind::Subnet, "10.0.0.0/8".into()),
                (Kind::Ip, "2001:db8::1".into())
            ])
        );
        assert_eq!(
            ex(&("[file:hashes.'SHA-256' IN ('AA".to_owned() + &"a".repeat(62) + "')]")),
            Ok(vec![(Kind::Sha256, "aa".to_owned() + &"a".repeat(62))])
        );
        assert_eq!(
            ex("[network-traffic:dst_ref.value = 'c2.example']"),
            Ok(vec![(Kind::Domain, "c2.example".into())])
        );
    }

    #[test]
    fn combinations_are_refused_with_their_reason() {
        assert_eq!(
            ex("[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.test']"),
            Err(NotExportable::ObservationOperator("AND"))
        );
        assert_eq!(
            ex("[ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES"),
            Err(NotExportable::Qualifier("REPEATS"))
        );
        assert_eq!(
            ex("[file:name = 'a' AND file:size = 3]"),
            Err(NotExportable::ComparisonAnd)
        );
        assert_eq!(
            ex("[domain-name:value MATCHES '^a']"),
            Err(NotExportable::Operator("MATCHES"))
        );
        assert_eq!(
            ex("[ipv4-addr:value != '1.2.3.4']"),
            Err(NotExportable::Operator("!="))
        );
        assert_eq!(
            ex("[process:name = 'x.exe']"),
            Err(NotExportable::UnsupportedPath("process:name".into()))
        );
        assert!(matches!(
            ex("[file:hashes.MD5 = 'abc']"),
            Err(NotExportable::BadValue { .. })
        ));
        // One bad branch refuses the whole OR.
        assert_eq!(
            ex("[ipv4-addr:value = '1.2.3.4' OR process:name = 'x']"),
            Err(NotExportable::UnsupportedPath("process:name".into()))
        );
    }
}
