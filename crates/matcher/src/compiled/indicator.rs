//! Indicators as the compiled matcher takes them, and why one is skipped.
//!
//! Only what matching needs is kept from a STIX `indicator` (STIX 2.1 §4.7): its id, name,
//! pattern and pattern version, validity window and revocation. Everything else of the object
//! stays with the caller.

use jiff::Timestamp;
use serde_json::Value;

use crate::Error;

/// One indicator to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// The STIX id (`indicator--…`).
    pub id: String,
    /// `name`, when present.
    pub name: Option<String>,
    /// `pattern`.
    pub pattern: String,
    /// `pattern_type`; only `stix` is compiled.
    pub pattern_type: String,
    /// `pattern_version` (`"2.0"` or `"2.1"`; absent means 2.1).
    pub pattern_version: Option<String>,
    /// `valid_from`, as written.
    pub valid_from: Option<String>,
    /// `valid_until`, as written.
    pub valid_until: Option<String>,
    /// `revoked`.
    pub revoked: bool,
}

impl Indicator {
    /// An indicator with a STIX 2.1 pattern and no validity window (handy in tests).
    pub fn new(id: impl Into<String>, pattern: impl Into<String>) -> Self {
        Indicator {
            id: id.into(),
            name: None,
            pattern: pattern.into(),
            pattern_type: "stix".into(),
            pattern_version: None,
            valid_from: None,
            valid_until: None,
            revoked: false,
        }
    }

    /// Reads the fields from a STIX object; fails for objects that are not indicators or
    /// lack an id or pattern.
    pub fn from_json(v: &Value) -> Result<Indicator, SkipReason> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        if v.get("type").and_then(Value::as_str) != Some("indicator") {
            return Err(SkipReason::NotIndicator);
        }
        Ok(Indicator {
            id: s("id").ok_or(SkipReason::Missing("id"))?,
            name: s("name"),
            pattern: s("pattern").ok_or(SkipReason::Missing("pattern"))?,
            pattern_type: s("pattern_type").ok_or(SkipReason::Missing("pattern_type"))?,
            pattern_version: s("pattern_version"),
            valid_from: s("valid_from"),
            valid_until: s("valid_until"),
            revoked: v.get("revoked").and_then(Value::as_bool).unwrap_or(false),
        })
    }
}

/// Why an indicator was not compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SkipReason {
    /// The object is not a STIX `indicator`.
    #[error("not an indicator")]
    NotIndicator,
    /// A property matching needs is absent.
    #[error("no {0}")]
    Missing(&'static str),
    /// `pattern_type` is not `stix` (e.g. `sigma`, `yara`, `snort`).
    #[error("pattern_type {0:?} is not stix")]
    PatternType(String),
    /// `pattern_version` is neither 2.0 nor 2.1.
    #[error("pattern_version {0:?} is not 2.0 or 2.1")]
    PatternVersion(String),
    /// `revoked: true` (STIX 2.1 §3.6: consumers should not use revoked objects).
    #[error("revoked")]
    Revoked,
    /// `valid_from` or `valid_until` is not a STIX timestamp.
    #[error("{field} {value:?} is not a STIX timestamp")]
    Timestamp {
        /// The property.
        field: &'static str,
        /// Its text.
        value: String,
    },
    /// The pattern does not parse.
    #[error("pattern does not parse: {0}")]
    Syntax(String),
    /// The pattern parses but cannot be evaluated (see [`Error::Pattern`]).
    #[error("pattern cannot be evaluated: {0}")]
    Semantics(Error),
}

/// What [`super::Builder::add_compiled`] takes besides the compiled pattern: the caller has
/// read the indicator already (its own way) and parsed its pattern and validity window.
#[derive(Debug, Clone, Copy)]
pub struct Parsed<'a> {
    /// The STIX id.
    pub id: &'a str,
    /// `name`, when present.
    pub name: Option<&'a str>,
    /// The pattern text (binding spans point into it).
    pub pattern: &'a str,
    /// The grammar the pattern was parsed with (it is parsed again with it to confirm a
    /// candidate).
    pub version: pattern::ast::StixVersion,
    /// `valid_from` (inclusive).
    pub valid_from: Option<Timestamp>,
    /// `valid_until` (exclusive).
    pub valid_until: Option<Timestamp>,
}

/// An indicator as the compiled matcher keeps it: what a hit reports and what confirming a
/// candidate needs (the pattern is re-parsed then; see the module docs). Its id, name and
/// pattern are a range of [`Entries::text`]: one arena instead of three heap strings per
/// indicator (each with its allocator header and rounding).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Where the id starts in the arena; the name follows it, then the pattern.
    start: usize,
    id_len: u32,
    /// [`NO_NAME`] when the indicator has none.
    name_len: u32,
    pattern_len: u32,
    pub version: pattern::ast::StixVersion,
    pub stateful: bool,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
}

const NO_NAME: u32 = u32::MAX;

impl Entry {
    /// STIX 2.1 §4.7: valid from `valid_from` (inclusive) until `valid_until` ("no longer
    /// considered a valid indicator" from then on).
    pub fn valid_at(&self, t: Timestamp) -> bool {
        self.valid_from.is_none_or(|f| t >= f) && self.valid_until.is_none_or(|u| t < u)
    }
}

/// The compiled indicators: entries, their texts, and the retention horizons of the few
/// stateful ones.
#[derive(Debug, Default)]
pub(crate) struct Entries {
    list: Vec<Entry>,
    text: String,
    /// For stateful indicators whose pattern bounds it: the retention horizon in nanoseconds.
    horizons: hashbrown::HashMap<u32, i128>,
}

impl Entries {
    /// Appends an entry and returns its number; `None` when there is no room (2^32
    /// indicators, or a text of 4 GiB).
    pub fn push(&mut self, p: &Parsed<'_>, stateful: bool, horizon: Option<i128>) -> Option<u32> {
        let n = u32::try_from(self.list.len()).ok()?;
        let len = |s: &str| u32::try_from(s.len()).ok().filter(|&l| l != NO_NAME);
        let id_len = len(p.id)?;
        let name_len = match p.name {
            Some(name) => len(name)?,
            None => NO_NAME,
        };
        let pattern_len = len(p.pattern)?;
        let start = self.text.len();
        self.text.push_str(p.id);
        self.text.push_str(p.name.unwrap_or_default());
        self.text.push_str(p.pattern);
        self.list.push(Entry {
            start,
            id_len,
            name_len,
            pattern_len,
            version: p.version,
            stateful,
            valid_from: p.valid_from,
            valid_until: p.valid_until,
        });
        if let (true, Some(h)) = (stateful, horizon) {
            self.horizons.insert(n, h);
        }
        Some(n)
    }

    /// Gives back the arena's and the list's spare capacity once every entry is in.
    pub fn shrink(&mut self) {
        self.list.shrink_to_fit();
        self.text.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Entry `i`.
    ///
    /// # Panics
    ///
    /// When `i` is out of range (numbers come from [`Entries::push`]).
    pub fn get(&self, i: usize) -> &Entry {
        &self.list[i]
    }

    fn slice(&self, start: usize, len: u32) -> &str {
        self.text
            .get(start..start + len as usize)
            .unwrap_or_default()
    }

    pub fn id(&self, e: &Entry) -> &str {
        self.slice(e.start, e.id_len)
    }

    pub fn name(&self, e: &Entry) -> Option<&str> {
        (e.name_len != NO_NAME).then(|| self.slice(e.start + e.id_len as usize, e.name_len))
    }

    pub fn pattern(&self, e: &Entry) -> &str {
        let name = if e.name_len == NO_NAME { 0 } else { e.name_len };
        self.slice(e.start + e.id_len as usize + name as usize, e.pattern_len)
    }

    /// The retention horizon of stateful indicator `i`, when its pattern bounds it.
    pub fn horizon(&self, i: u32) -> Option<i128> {
        self.horizons.get(&i).copied()
    }

    /// Approximate heap bytes.
    pub fn heap_bytes(&self) -> usize {
        self.list.capacity() * std::mem::size_of::<Entry>()
            + self.text.capacity()
            + self.horizons.capacity() * 24
    }
}
