//! URL query parameters of the objects, manifest, object, versions and delete endpoints
//! (TAXII 2.1 §3.4 filtering, §3.5 pagination), parsed into a typed [`ObjectQuery`].
//!
//! Which endpoint takes which parameter follows §3.4.1's table; a parameter an endpoint
//! does not take is ignored (the object id of the object endpoints is in the path, not in
//! `match[id]`). Parameters this crate does not know are ignored as well, so a client that
//! sends an extension filter gets an unfiltered answer rather than an error. A known
//! parameter with a bad value is an [`Error`], answered 400 by the server.
//!
//! Values are comma-separated lists (§3.4.2); repeating a `match[...]` parameter adds to
//! its list, repeating a single-valued one (`added_after`, `limit`, `next`) is an error.

use stix::Timestamp;

use crate::error::Error;
use crate::paging::PageToken;

/// Most values one `match[...]` list may hold: bounds the SQL a query turns into.
pub const MAX_LIST_LEN: usize = 1000;

/// The endpoint a query string belongs to; it decides the defaults and which parameters
/// apply (TAXII 2.1 §3.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// `GET .../objects/` (§5.3).
    Objects,
    /// `GET .../manifest/` (§5.5).
    Manifest,
    /// `GET .../objects/{id}/` (§5.6).
    Object,
    /// `DELETE .../objects/{id}/` (§5.7).
    Delete,
    /// `GET .../objects/{id}/versions/` (§5.8).
    Versions,
}

impl QueryKind {
    fn takes(self, param: Param) -> bool {
        use Param::*;
        match self {
            QueryKind::Objects | QueryKind::Manifest => true,
            QueryKind::Object => !matches!(param, Id | Type),
            QueryKind::Delete => matches!(param, Version | SpecVersion),
            QueryKind::Versions => matches!(param, AddedAfter | Limit | Next | SpecVersion),
        }
    }

    /// The `match[version]` in force when the client gives none: `last` for listings
    /// (§3.4.2), every version for the versions endpoint (§5.8) and for a delete, which
    /// removes the whole object unless told otherwise (§5.7).
    fn default_versions(self) -> VersionFilter {
        match self {
            QueryKind::Objects | QueryKind::Manifest | QueryKind::Object => VersionFilter::last(),
            QueryKind::Delete | QueryKind::Versions => VersionFilter::all(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Param {
    Id,
    Type,
    Version,
    SpecVersion,
    AddedAfter,
    Limit,
    Next,
}

impl Param {
    fn from_name(name: &str) -> Option<Param> {
        Some(match name {
            "match[id]" => Param::Id,
            "match[type]" => Param::Type,
            "match[version]" => Param::Version,
            "match[spec_version]" => Param::SpecVersion,
            "added_after" => Param::AddedAfter,
            "limit" => Param::Limit,
            "next" => Param::Next,
            _ => return None,
        })
    }
}

/// Which versions of each object a query selects (`match[version]`, TAXII 2.1 §3.4.2).
///
/// The selections are a union: `first,last` is the oldest and the newest version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionFilter {
    /// Every version (`all`); when set the other fields do not matter.
    pub all: bool,
    /// The oldest version (`first`).
    pub first: bool,
    /// The newest version (`last`).
    pub last: bool,
    /// Versions whose `modified` is one of these instants.
    pub at: Vec<Timestamp>,
}

impl VersionFilter {
    /// Only the newest version.
    pub fn last() -> VersionFilter {
        VersionFilter {
            last: true,
            ..VersionFilter::default()
        }
    }

    /// Every version.
    pub fn all() -> VersionFilter {
        VersionFilter {
            all: true,
            ..VersionFilter::default()
        }
    }
}

/// A parsed query of one of the object endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectQuery {
    /// `match[id]`: the objects with these ids; empty means any.
    pub ids: Vec<String>,
    /// `match[type]`: the objects of these types; empty means any.
    pub types: Vec<String>,
    /// `match[version]`, or the endpoint's default.
    pub versions: VersionFilter,
    /// `match[spec_version]`: the STIX versions wanted; empty means "the newest spec
    /// version of each object" (§3.4.2).
    pub spec_versions: Vec<String>,
    /// `added_after`: only versions added strictly after this instant.
    pub added_after: Option<Timestamp>,
    /// `limit` as requested; the server applies its own default and maximum.
    pub limit: Option<u64>,
    /// `next`: where the previous page ended.
    pub next: Option<PageToken>,
}

impl ObjectQuery {
    /// The query an endpoint runs when given no parameters.
    pub fn default_for(kind: QueryKind) -> ObjectQuery {
        ObjectQuery {
            ids: Vec::new(),
            types: Vec::new(),
            versions: kind.default_versions(),
            spec_versions: Vec::new(),
            added_after: None,
            limit: None,
            next: None,
        }
    }

    /// Parses a raw (still percent-encoded) query string, as found after `?` in the URL.
    pub fn parse(query: Option<&str>, kind: QueryKind) -> Result<ObjectQuery, Error> {
        let mut q = ObjectQuery::default_for(kind);
        let mut versions: Option<VersionFilter> = None;
        let mut seen_single = [false; 3];
        let Some(query) = query else { return Ok(q) };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let Some(param) = Param::from_name(&name) else {
                continue;
            };
            if !kind.takes(param) {
                continue;
            }
            let mut once = |slot: usize| {
                if std::mem::replace(&mut seen_single[slot], true) {
                    Err(Error::DuplicateParameter(name.to_string()))
                } else {
                    Ok(())
                }
            };
            match param {
                Param::Id => push_list(&mut q.ids, &name, &value, valid_id)?,
                Param::Type => push_list(&mut q.types, &name, &value, valid_type)?,
                Param::SpecVersion => {
                    push_list(&mut q.spec_versions, &name, &value, valid_spec_version)?
                }
                Param::Version => {
                    parse_versions(versions.get_or_insert_with(VersionFilter::default), &value)?
                }
                Param::AddedAfter => {
                    once(0)?;
                    let ts = Timestamp::parse(value.trim())
                        .map_err(|e| Error::invalid("added_after", e.to_string()))?;
                    q.added_after = Some(ts);
                }
                Param::Limit => {
                    once(1)?;
                    q.limit = Some(parse_limit(&value)?);
                }
                Param::Next => {
                    once(2)?;
                    q.next = Some(PageToken::decode(value.trim())?);
                }
            }
        }
        if let Some(v) = versions {
            q.versions = v;
        }
        Ok(q)
    }
}

/// Splits a comma-separated value into `list`, checking each item.
fn push_list(
    list: &mut Vec<String>,
    name: &str,
    value: &str,
    check: fn(&str) -> bool,
) -> Result<(), Error> {
    for item in value.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(Error::invalid(name, "empty list item"));
        }
        if !check(item) {
            return Err(Error::invalid(name, format!("{item:?} is not well formed")));
        }
        if list.len() >= MAX_LIST_LEN {
            return Err(Error::invalid(
                name,
                format!("more than {MAX_LIST_LEN} values"),
            ));
        }
        if !list.iter().any(|x| x == item) {
            list.push(item.to_owned());
        }
    }
    Ok(())
}

/// A STIX type name (STIX 2.1 §2.9: lowercase ASCII letters, digits and hyphens, 3–250
/// characters). Checked loosely, to refuse garbage early, not to police types.
fn valid_type(s: &str) -> bool {
    (1..=250).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A STIX identifier, `type--uuid` (STIX 2.1 §2.9), checked for shape only.
fn valid_id(s: &str) -> bool {
    match s.split_once("--") {
        Some((t, u)) => {
            valid_type(t)
                && (1..=64).contains(&u.len())
                && u.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        }
        None => false,
    }
}

/// A STIX specification version such as `2.1` (§3.4.2 `match[spec_version]`).
fn valid_spec_version(s: &str) -> bool {
    s.len() <= 8 && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// Adds one `match[version]` value (a comma list of `first`, `last`, `all` or
/// timestamps) to `filter`.
fn parse_versions(filter: &mut VersionFilter, value: &str) -> Result<(), Error> {
    for item in value.split(',') {
        match item.trim() {
            "all" => filter.all = true,
            "first" => filter.first = true,
            "last" => filter.last = true,
            "" => return Err(Error::invalid("match[version]", "empty list item")),
            other => {
                let ts = Timestamp::parse(other).map_err(|e| {
                    Error::invalid(
                        "match[version]",
                        format!("{other:?} is not first, last, all or a timestamp: {e}"),
                    )
                })?;
                if filter.at.len() >= MAX_LIST_LEN {
                    return Err(Error::invalid(
                        "match[version]",
                        format!("more than {MAX_LIST_LEN} values"),
                    ));
                }
                if !filter.at.iter().any(|t| t.cmp_instant(&ts).is_eq()) {
                    filter.at.push(ts);
                }
            }
        }
    }
    Ok(())
}

/// `limit` is a positive integer (TAXII 2.1 §3.5.1).
fn parse_limit(value: &str) -> Result<u64, Error> {
    let n: u64 = value
        .trim()
        .parse()
        .map_err(|_| Error::invalid("limit", format!("{value:?} is not a positive integer")))?;
    if n == 0 {
        return Err(Error::invalid("limit", "must be at least 1"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn parse(q: &str, kind: QueryKind) -> Result<ObjectQuery, Error> {
        ObjectQuery::parse(Some(q), kind)
    }

    #[test]
    fn defaults_per_endpoint() {
        assert_eq!(
            ObjectQuery::parse(None, QueryKind::Objects)
                .unwrap()
                .versions,
            VersionFilter::last()
        );
        assert_eq!(
            parse("", QueryKind::Versions).unwrap().versions,
            VersionFilter::all()
        );
        assert_eq!(
            parse("", QueryKind::Delete).unwrap().versions,
            VersionFilter::all()
        );
    }

    #[test]
    fn lists_and_percent_encoding() {
        let q = parse(
            "match%5Bid%5D=indicator--1a2b,malware--3c&match[type]=indicator&match[type]=malware,indicator&limit=2",
            QueryKind::Objects,
        )
        .unwrap();
        assert_eq!(q.ids, ["indicator--1a2b", "malware--3c"]);
        assert_eq!(q.types, ["indicator", "malware"]);
        assert_eq!(q.limit, Some(2));
    }

    #[test]
    fn versions() {
        let q = parse(
            "match[version]=first,last,2024-06-01T00:00:00.000Z",
            QueryKind::Objects,
        )
        .unwrap();
        assert!(q.versions.first && q.versions.last && !q.versions.all);
        assert_eq!(q.versions.at, [ts("2024-06-01T00:00:00.000Z")]);
        let q = parse("match[version]=all", QueryKind::Manifest).unwrap();
        assert_eq!(q.versions, VersionFilter::all());
        assert!(parse("match[version]=newest", QueryKind::Objects).is_err());
        assert!(parse("match[version]=first,,last", QueryKind::Objects).is_err());
    }

    #[test]
    fn added_after_and_next() {
        let tok = PageToken::new(b"x".to_vec());
        let q = parse(
            &format!("added_after=2024-01-01T00:00:00.5Z&next={}", tok.encode()),
            QueryKind::Objects,
        )
        .unwrap();
        assert_eq!(q.added_after, Some(ts("2024-01-01T00:00:00.5Z")));
        assert_eq!(q.next, Some(tok));
        assert!(matches!(
            parse("added_after=yesterday", QueryKind::Objects),
            Err(Error::InvalidParameter { .. })
        ));
        assert_eq!(
            parse("next=garbage", QueryKind::Objects),
            Err(Error::InvalidToken)
        );
        assert!(matches!(
            parse("limit=1&limit=2", QueryKind::Objects),
            Err(Error::DuplicateParameter(_))
        ));
    }

    #[test]
    fn bad_values() {
        for q in [
            "limit=0",
            "limit=-1",
            "limit=ten",
            "match[id]=notanid",
            "match[type]=Indicator",
            "match[spec_version]=two",
            "match[id]=",
        ] {
            assert!(parse(q, QueryKind::Objects).is_err(), "{q}");
        }
    }

    #[test]
    fn endpoint_ignores_what_it_does_not_take() {
        let q = parse("match[id]=indicator--1&match[type]=x", QueryKind::Object).unwrap();
        assert!(q.ids.is_empty() && q.types.is_empty());
        let q = parse("limit=5&match[version]=first", QueryKind::Delete).unwrap();
        assert_eq!(q.limit, None);
        assert!(q.versions.first);
        let q = parse("match[version]=first&whatever=1", QueryKind::Versions).unwrap();
        assert_eq!(q.versions, VersionFilter::all());
    }
}
