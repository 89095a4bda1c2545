//! Which indicators of a set of STIX objects are exported, and with which values.
//!
//! Rules, in order, for every `indicator` (STIX 2.1 §4.7):
//! * of several versions of one id the latest `modified` wins (§3.6); older versions are
//!   counted as superseded and never come back, even when the latest is revoked;
//! * a latest version that is `revoked` is skipped (§3.6.3: no longer to be used);
//! * a `valid_until` at or before `now` is skipped as expired (§4.7: "no longer considered
//!   valid" from then on);
//! * a `pattern_type` other than `stix`, or a pattern that does not parse, is skipped;
//! * the pattern's values come from [`crate::observable::extract`]; a pattern that is not
//!   a plain observable is skipped with its reason.
//!
//! Identities are read only to name producers: an indicator's `created_by_ref` becomes the
//! identity's `name` when that identity is among the objects, else the reference itself.
//! Other object types are counted and ignored.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::record::Object;

use crate::observable::{NotExportable, Observable, extract};

/// Where an exported value's `link` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStyle {
    /// The indicator's STIX id (objects from a file or a local store).
    StixId,
    /// The TAXII 2.1 object URL, `<collection URL>objects/<id>/` (TAXII 2.1 §5.5); the
    /// collection URL ends with `/`.
    Taxii {
        /// The collection's URL, with its trailing slash.
        collection_url: String,
    },
}

impl LinkStyle {
    fn link<'a>(&self, id: &'a str) -> Cow<'a, str> {
        match self {
            LinkStyle::StixId => Cow::Borrowed(id),
            LinkStyle::Taxii { collection_url } => {
                Cow::Owned(format!("{collection_url}objects/{id}/"))
            }
        }
    }
}

/// One exported indicator: what the formats write beside its values, borrowed from the
/// objects selected from (a million indicators meant five million small strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported<'a> {
    /// The indicator's id.
    pub id: &'a str,
    /// Its `name`, or empty.
    pub name: &'a str,
    /// The producer: the creator identity's name, else its id, else empty.
    pub producer: &'a str,
    /// A link back to the indicator ([`LinkStyle`]).
    pub link: Cow<'a, str>,
    /// `valid_until` as written, when present.
    pub valid_until: Option<&'a str>,
    /// The indicator's JSON exactly as it was received.
    pub raw: &'a str,
    /// Its values, in pattern order, duplicates removed.
    pub values: Vec<Observable>,
}

/// Why an indicator was not exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skip {
    /// Its latest version is revoked.
    #[error("revoked")]
    Revoked,
    /// Its `valid_until` has passed.
    #[error("expired (valid_until {0})")]
    Expired(String),
    /// Its pattern is not a STIX pattern.
    #[error("pattern_type {0:?} is not stix")]
    NotStix(String),
    /// It has no pattern, or one that does not parse.
    #[error("invalid pattern: {0}")]
    Invalid(String),
    /// Its pattern is not a plain observable.
    #[error("not exportable: pattern {0}")]
    NotExportable(#[from] NotExportable),
}

/// An indicator that was not exported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The indicator's id.
    pub id: String,
    /// Why.
    pub reason: Skip,
}

/// Counts of what selection saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Distinct indicator ids (latest versions).
    pub indicators: u64,
    /// Indicators exported.
    pub exported: u64,
    /// Values exported (over all exported indicators).
    pub values: u64,
    /// Older versions dropped for a newer one.
    pub superseded: u64,
    /// Latest versions that are revoked.
    pub revoked: u64,
    /// Indicators past their `valid_until`.
    pub expired: u64,
    /// Patterns that are not STIX, absent or do not parse.
    pub invalid: u64,
    /// Patterns that are not plain observables.
    pub not_exportable: u64,
    /// Objects of other types.
    pub other_objects: u64,
}

/// The outcome of [`select`].
#[derive(Debug, Clone, Default)]
pub struct Selection<'a> {
    /// The exported indicators, in the order their ids first appeared.
    pub exported: Vec<Exported<'a>>,
    /// The indicators not exported, in the same order.
    pub skipped: Vec<Skipped>,
    /// The counts.
    pub counts: Counts,
}

/// Selects the exportable indicators of `objects` at instant `now`.
pub fn select<'a, O: Object>(
    objects: &'a [O],
    now: jiff::Timestamp,
    links: &LinkStyle,
) -> Selection<'a> {
    let mut counts = Counts::default();
    let mut identities: HashMap<&str, &str> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    let mut latest: HashMap<&str, &O> = HashMap::with_capacity(objects.len());
    for o in objects {
        match o.type_name() {
            Some("indicator") => {}
            Some("identity") => {
                if let (Some(id), Some(name)) = (o.id(), o.name()) {
                    identities.insert(id, name);
                }
                counts.other_objects += 1;
                continue;
            }
            _ => {
                counts.other_objects += 1;
                continue;
            }
        }
        let Some(id) = o.id() else {
            counts.other_objects += 1;
            continue;
        };
        match latest.get(id) {
            None => {
                order.push(id);
                latest.insert(id, o);
            }
            Some(prev) => {
                counts.superseded += 1;
                if newer(o, prev) {
                    latest.insert(id, o);
                }
            }
        }
    }
    let mut selection = Selection::default();
    for id in order {
        let Some(&o) = latest.get(id) else { continue };
        counts.indicators += 1;
        match one(o, now) {
            Ok(values) => {
                let producer = o
                    .created_by_ref()
                    .map(|r| identities.get(r).copied().unwrap_or(r))
                    .unwrap_or("");
                counts.exported += 1;
                counts.values += values.len() as u64;
                selection.exported.push(Exported {
                    id,
                    name: o.name().unwrap_or(""),
                    producer,
                    link: links.link(id),
                    valid_until: o.valid_until(),
                    raw: o.raw(),
                    values,
                });
            }
            Err(reason) => {
                match &reason {
                    Skip::Revoked => counts.revoked += 1,
                    Skip::Expired(_) => counts.expired += 1,
                    Skip::NotStix(_) | Skip::Invalid(_) => counts.invalid += 1,
                    Skip::NotExportable(_) => counts.not_exportable += 1,
                }
                selection.skipped.push(Skipped {
                    id: id.to_owned(),
                    reason,
                });
            }
        }
    }
    selection.counts = counts;
    selection
}

/// Whether `a` is a later version than `b` (`modified`, then `created`; STIX 2.1 §3.6).
fn newer<O: Object>(a: &O, b: &O) -> bool {
    match (a.version(), b.version()) {
        (Some(x), Some(y)) => x > y,
        (Some(_), None) => true,
        _ => false,
    }
}

fn one<O: Object>(o: &O, now: jiff::Timestamp) -> Result<Vec<Observable>, Skip> {
    if o.revoked() {
        return Err(Skip::Revoked);
    }
    if let Some(text) = o.valid_until()
        && let Ok(until) = stix::Timestamp::parse(text)
        && until.instant() <= now
    {
        return Err(Skip::Expired(text.to_owned()));
    }
    match o.pattern_type() {
        Some("stix") => {}
        Some(other) => return Err(Skip::NotStix(other.to_owned())),
        None => return Err(Skip::Invalid("no pattern_type".to_owned())),
    }
    let Some(text) = o.pattern() else {
        return Err(Skip::Invalid("no pattern".to_owned()));
    };
    let Some(version) = pattern::StixVersion::from_pattern_version(o.pattern_version()) else {
        return Err(Skip::Invalid(format!(
            "pattern_version {:?} is not 2.0 or 2.1",
            o.pattern_version().unwrap_or_default()
        )));
    };
    let parsed = pattern::parse(text, version).map_err(|e| Skip::Invalid(e.to_string()))?;
    let mut values = extract(&parsed)?;
    // Most patterns name one value or a few: a quadratic scan beats a set per indicator
    // (a million indicators meant a million small hash sets).
    if values.len() > 1 {
        let mut kept: Vec<Observable> = Vec::with_capacity(values.len());
        for v in values {
            if !kept.contains(&v) {
                kept.push(v);
            }
        }
        values = kept;
    }
    Ok(values)
}
