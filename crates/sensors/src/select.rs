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
use std::hash::BuildHasher;

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

/// What selection decided, borrowed from a [`Selected`].
#[derive(Debug, Clone, Default)]
pub struct Selection<'a> {
    /// The exported indicators, in the order their ids first appeared.
    pub exported: Vec<Exported<'a>>,
    /// The indicators not exported, in the same order.
    pub skipped: Vec<Skipped>,
    /// The counts.
    pub counts: Counts,
}

/// Selects the exportable indicators of `objects` at instant `now`: a [`Selector`] that
/// keeps the JSON texts, fed every object. Borrow the outcome with [`Selected::selection`].
pub fn select<O: Object>(objects: &[O], now: jiff::Timestamp) -> Selected {
    let mut selector = Selector::new(now, true);
    for o in objects {
        selector.add(o);
    }
    selector.finish()
}

/// Whether version instant `a` is later than `b`; a version without an instant is never
/// later, and any instant is later than none.
fn later(a: Option<jiff::Timestamp>, b: Option<jiff::Timestamp>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x > y,
        (Some(_), None) => true,
        _ => false,
    }
}

/// A byte range of [`Selector`]'s text arena.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: usize,
    end: usize,
}

/// One indicator id seen by a [`Selector`]: its latest version so far, already decided.
#[derive(Debug)]
struct Slot {
    id: Span,
    version: Option<jiff::Timestamp>,
    outcome: Result<Entry, Skip>,
}

/// What an exported indicator keeps until [`Selector::finish`]: spans of the arena.
#[derive(Debug)]
struct Entry {
    name: Span,
    created_by_ref: Option<Span>,
    valid_until: Option<Span>,
    raw: Span,
    values: Vec<Observable>,
}

/// The module's rules applied one object at a time, so inputs too large to hold as parsed
/// objects can be streamed through ([`select`] is this over a slice).
///
/// Each object is decided when it is handed over and may be dropped right after: the
/// selector copies what the formats need (id, name, producer reference, `valid_until`, and
/// the JSON text only when asked to) into one growing text arena, and keeps the values.
/// Ids come out in the order they first appear, a later version replacing an earlier one
/// in place, producers resolved against every identity seen once all objects are in. On
/// 1,000,000 indicators this holds about a quarter of what parsed records plus their
/// selection held.
#[derive(Debug)]
pub struct Selector {
    now: jiff::Timestamp,
    keep_raw: bool,
    text: String,
    slots: Vec<Slot>,
    /// (hash of the id, slot index), the ids themselves only in the arena. The hash is kept
    /// so that growing the table does not re-read every id: rehashing from the arena was
    /// a sixth of a 1,000,000-indicator export's CPU (`perf record`).
    index: hashbrown::HashTable<(u64, usize)>,
    hasher: hashbrown::DefaultHashBuilder,
    /// Identity id -> name, the last one seen winning.
    identities: HashMap<String, Span>,
    superseded: u64,
    other_objects: u64,
}

impl Selector {
    /// A selector deciding expiry at `now`; `keep_raw` keeps each exported indicator's
    /// JSON text (only the STIX bundle writes it; [`Exported::raw`] is empty otherwise).
    pub fn new(now: jiff::Timestamp, keep_raw: bool) -> Selector {
        Selector {
            now,
            keep_raw,
            text: String::new(),
            slots: Vec::new(),
            index: hashbrown::HashTable::new(),
            hasher: hashbrown::DefaultHashBuilder::default(),
            identities: HashMap::new(),
            superseded: 0,
            other_objects: 0,
        }
    }

    /// Takes one object into account.
    pub fn add<O: Object + ?Sized>(&mut self, o: &O) {
        match o.type_name() {
            Some("indicator") => {}
            Some("identity") => {
                if let (Some(id), Some(name)) = (o.id(), o.name()) {
                    let name = self.push(name);
                    self.identities.insert(id.to_owned(), name);
                }
                self.other_objects += 1;
                return;
            }
            _ => {
                self.other_objects += 1;
                return;
            }
        }
        let Some(id) = o.id() else {
            self.other_objects += 1;
            return;
        };
        let hash = self.hasher.hash_one(id);
        let (text, slots) = (&self.text, &self.slots);
        let found = self
            .index
            .find(hash, |&(h, i)| {
                h == hash && &text[slots[i].id.start..slots[i].id.end] == id
            })
            .map(|&(_, i)| i);
        let version = o.version();
        match found {
            None => {
                let id = self.push(id);
                let outcome = self.decide(o);
                self.slots.push(Slot {
                    id,
                    version,
                    outcome,
                });
                let n = self.slots.len() - 1;
                self.index.insert_unique(hash, (hash, n), |&(h, _)| h);
            }
            Some(i) => {
                self.superseded += 1;
                if later(version, self.slots[i].version) {
                    let outcome = self.decide(o);
                    let slot = &mut self.slots[i];
                    slot.version = version;
                    slot.outcome = outcome;
                }
            }
        }
    }

    /// The decision for one indicator version, its texts copied into the arena.
    fn decide<O: Object + ?Sized>(&mut self, o: &O) -> Result<Entry, Skip> {
        let values = one(o, self.now)?;
        let name = self.push(o.name().unwrap_or(""));
        let created_by_ref = o.created_by_ref().map(|r| self.push(r));
        let valid_until = o.valid_until().map(|v| self.push(v));
        let raw = if self.keep_raw {
            self.push(o.raw())
        } else {
            Span::default()
        };
        Ok(Entry {
            name,
            created_by_ref,
            valid_until,
            raw,
            values,
        })
    }

    fn push(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span {
            start,
            end: self.text.len(),
        }
    }

    /// The selection over every object added; borrow it with [`Selected::selection`].
    pub fn finish(self) -> Selected {
        let mut counts = Counts {
            superseded: self.superseded,
            other_objects: self.other_objects,
            ..Counts::default()
        };
        let mut entries = Vec::new();
        let mut skipped = Vec::new();
        let text = self.text;
        for slot in self.slots {
            counts.indicators += 1;
            match slot.outcome {
                Ok(entry) => {
                    counts.exported += 1;
                    counts.values += entry.values.len() as u64;
                    entries.push((slot.id, entry));
                }
                Err(reason) => {
                    match &reason {
                        Skip::Revoked => counts.revoked += 1,
                        Skip::Expired(_) => counts.expired += 1,
                        Skip::NotStix(_) | Skip::Invalid(_) => counts.invalid += 1,
                        Skip::NotExportable(_) => counts.not_exportable += 1,
                    }
                    skipped.push(Skipped {
                        id: text[slot.id.start..slot.id.end].to_owned(),
                        reason,
                    });
                }
            }
        }
        Selected {
            text,
            entries,
            identities: self.identities,
            skipped,
            counts,
        }
    }
}

/// What a [`Selector`] decided, owning the texts the [`Selection`] borrows.
#[derive(Debug)]
pub struct Selected {
    text: String,
    entries: Vec<(Span, Entry)>,
    identities: HashMap<String, Span>,
    skipped: Vec<Skipped>,
    counts: Counts,
}

impl Selected {
    /// The selection, its links made with `links`. The values and
    /// the skipped list move into it, so a second call finds them empty.
    pub fn selection(&mut self, links: &LinkStyle) -> Selection<'_> {
        let mut values: Vec<Vec<Observable>> = self
            .entries
            .iter_mut()
            .map(|(_, e)| std::mem::take(&mut e.values))
            .collect();
        let skipped = std::mem::take(&mut self.skipped);
        let this: &Selected = self;
        let at = |s: Span| &this.text[s.start..s.end];
        let exported = this
            .entries
            .iter()
            .zip(values.iter_mut())
            .map(|((id, e), values)| {
                let id = at(*id);
                let producer = match e.created_by_ref {
                    Some(r) => {
                        let r = at(r);
                        this.identities.get(r).map_or(r, |name| at(*name))
                    }
                    None => "",
                };
                Exported {
                    id,
                    name: at(e.name),
                    producer,
                    link: links.link(id),
                    valid_until: e.valid_until.map(at),
                    raw: at(e.raw),
                    values: std::mem::take(values),
                }
            })
            .collect();
        Selection {
            exported,
            skipped,
            counts: this.counts,
        }
    }
}

fn one<O: Object + ?Sized>(o: &O, now: jiff::Timestamp) -> Result<Vec<Observable>, Skip> {
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
