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

/// An indicator as the compiled matcher keeps it: what a hit reports and what confirming a
/// candidate needs (the pattern is re-parsed then; see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub id: Box<str>,
    pub name: Option<Box<str>>,
    pub pattern: Box<str>,
    pub version: pattern::ast::StixVersion,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    pub stateful: bool,
    /// For stateful ones: the retention horizon in nanoseconds, when the pattern bounds it.
    pub horizon: Option<i128>,
}

impl Entry {
    /// STIX 2.1 §4.7: valid from `valid_from` (inclusive) until `valid_until` ("no longer
    /// considered a valid indicator" from then on).
    pub fn valid_at(&self, t: Timestamp) -> bool {
        self.valid_from.is_none_or(|f| t >= f) && self.valid_until.is_none_or(|u| t < u)
    }
}
