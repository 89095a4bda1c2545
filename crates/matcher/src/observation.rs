//! Loading observed-data into the evaluator's model.
//!
//! Two input shapes exist (STIX 2.1 §4.14 and STIX 2.0 Part 1 §"Observed Data"):
//!
//! * **2.1**: an `observed-data` object lists SCO ids in `object_refs`; the SCOs travel beside
//!   it, usually in the same bundle. `*_ref(s)` properties hold SCO ids.
//! * **2.0**: the SCOs are embedded in an `objects` dictionary keyed `"0"`, `"1"`, …;
//!   `*_ref(s)` properties hold those keys.
//!
//! The input document is what the OASIS matcher takes: a JSON array whose items are
//! observed-data objects and/or bundles (and, for convenience, loose SCOs), or a single bundle
//! or observed-data object. Both shapes are accepted whatever the pattern's STIX version: the
//! shape of each observed-data object decides how its references resolve.
//!
//! STIX 2.1 §9.7.4: "only those SCO's that are listed in the object_refs may be followed";
//! an id missing from `object_refs` (or from the document) is simply "not found". The
//! evaluator therefore resolves references only within one observation's own objects.
//! Objects of SDO, SRO and meta types that `object_refs` may also list are dropped, because
//! object paths address SCOs only (§9.1, "Object Path").
//!
//! The model borrows from the parsed document and builds JSON pointers only when one is
//! shown: copying the objects instead made loading plus evaluating the public vectors take
//! 11.3 µs per vector rather than 6.4 µs (bench `eval`, `load_and_evaluate`).

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::timestamp;

/// Whether `t` is a STIX 2.1 type that is not an SCO (SDOs §4, SROs §5, meta objects §7,
/// and the bundle); object paths never address these. A `match` on string literals
/// compiles to a length switch, cheaper than scanning a list for every loaded object.
fn is_non_sco(t: &str) -> bool {
    matches!(
        t,
        "attack-pattern"
            | "bundle"
            | "campaign"
            | "course-of-action"
            | "extension-definition"
            | "grouping"
            | "identity"
            | "incident"
            | "indicator"
            | "infrastructure"
            | "intrusion-set"
            | "language-content"
            | "location"
            | "malware"
            | "malware-analysis"
            | "marking-definition"
            | "note"
            | "observed-data"
            | "opinion"
            | "relationship"
            | "report"
            | "sighting"
            | "threat-actor"
            | "tool"
            | "vulnerability"
    )
}

/// Looks a key up in a JSON object. STIX objects have few properties, and for those a scan
/// beats hashing the key (serde_json's ordered map hashes with SipHash): map lookups were the
/// largest share of a profile of the `eval` bench before this.
pub(crate) fn field<'a>(m: &'a Map<String, Value>, key: &str) -> Option<(&'a String, &'a Value)> {
    if m.len() <= 12 {
        m.iter().find(|(k, _)| k.as_str() == key)
    } else {
        m.get_key_value(key)
    }
}

/// [`field`]'s value, for a JSON value that may not be an object.
pub(crate) fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object().and_then(|m| field(m, key)).map(|(_, v)| v)
}

/// Where an object sits in the input document. Kept as indices and turned into a JSON
/// pointer only when one is shown, so that loading never formats strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc<'d> {
    /// Index in the top-level array (`None` when the document is a single object).
    item: Option<usize>,
    /// Index in that bundle's `objects`.
    inner: Option<usize>,
    /// Key in an observed-data's embedded `objects` dictionary.
    key: Option<&'d str>,
}

impl Loc<'_> {
    /// The RFC 6901 JSON pointer.
    pub fn pointer(&self) -> String {
        let mut out = String::new();
        if let Some(i) = self.item {
            out.push_str(&format!("/{i}"));
        }
        if let Some(j) = self.inner {
            out.push_str(&format!("/objects/{j}"));
        }
        if let Some(k) = self.key {
            out.push_str("/objects/");
            out.push_str(&pointer_token(k));
        }
        out
    }
}

/// One SCO inside an observation.
#[derive(Debug, Clone)]
pub(crate) struct Sco<'d> {
    /// The key it is referenced by: the dictionary key (2.0) or the id (2.1).
    pub key: &'d str,
    /// Where it sits in the input document.
    pub loc: Loc<'d>,
    /// The object itself.
    pub value: &'d Value,
    /// Its `type` (`""` when it has none), read once at load: every comparison checks it.
    ty: &'d str,
}

impl<'d> Sco<'d> {
    fn new(key: &'d str, loc: Loc<'d>, value: &'d Value) -> Self {
        let ty = get(value, "type").and_then(Value::as_str).unwrap_or("");
        Sco {
            key,
            loc,
            value,
            ty,
        }
    }

    /// The object's `type`, or `""` when it has none.
    pub fn object_type(&self) -> &'d str {
        self.ty
    }
}

/// Objects per observation above which reference resolution uses a hash index rather than a
/// scan; typical observed-data holds a handful of SCOs, where scanning is faster.
const INDEX_ABOVE: usize = 16;

/// One observed-data object: `number_observed` observations in `[first_observed,
/// last_observed]` (STIX 2.1 §9.1, "Observation"). It borrows from the input document.
#[derive(Debug, Clone)]
pub struct Observation<'d> {
    /// The observed-data `id`, when it has one.
    pub id: Option<&'d str>,
    /// Start of the observation window.
    pub first_observed: Timestamp,
    /// End of the observation window (inclusive).
    pub last_observed: Timestamp,
    /// How many observations this object stands for; each can bind one observation
    /// expression.
    pub number_observed: u64,
    loc: Loc<'d>,
    pub(crate) objects: Vec<Sco<'d>>,
    index: Option<HashMap<&'d str, usize>>,
}

impl<'d> Observation<'d> {
    /// Where the observed-data object sits in the input document (an RFC 6901 JSON pointer;
    /// empty for the document itself).
    pub fn pointer(&self) -> String {
        self.loc.pointer()
    }

    /// A short human name: the id, or else the JSON pointer (`(document)` for the whole
    /// input).
    pub fn name(&self) -> String {
        match self.id {
            Some(id) => id.to_owned(),
            None => match self.pointer() {
                p if p.is_empty() => "(document)".to_owned(),
                p => p,
            },
        }
    }

    /// Resolves a reference value (`*_ref`, or one item of `*_refs`) within this observation.
    pub(crate) fn resolve(&self, key: &str) -> Option<&Sco<'d>> {
        match &self.index {
            Some(index) => index.get(key).map(|&i| &self.objects[i]),
            None => self.objects.iter().find(|s| s.key == key),
        }
    }
}

/// All observations of one evaluation, sorted by `first_observed` (then `last_observed`, then
/// input order) so that time-ordered searches can stop early. They borrow from the parsed
/// input document.
#[derive(Debug, Clone, Default)]
pub struct Observations<'d> {
    pub(crate) list: Vec<Observation<'d>>,
}

impl<'d> Observations<'d> {
    /// Reads observations from a parsed JSON document (see the module docs for its shapes).
    pub fn from_json(doc: &'d Value) -> Result<Self, Error> {
        let mut loader = Loader::default();
        match doc {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    loader.item(
                        item,
                        Loc {
                            item: Some(i),
                            inner: None,
                            key: None,
                        },
                    )?;
                }
            }
            Value::Object(_) => loader.item(
                doc,
                Loc {
                    item: None,
                    inner: None,
                    key: None,
                },
            )?,
            _ => {
                return Err(Error::input(
                    "",
                    "expected a JSON array of observed-data objects and bundles, or one bundle",
                ));
            }
        }
        loader.finish()
    }

    /// The observations, in evaluation order (by time).
    pub fn iter(&self) -> impl Iterator<Item = &Observation<'d>> {
        self.list.iter()
    }

    /// How many observed-data objects were read.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when no observed-data object was read.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The observation at `index` (evaluation order), as named in a [`crate::Binding`].
    pub fn get(&self, index: usize) -> Option<&Observation<'d>> {
        self.list.get(index)
    }
}

/// Escapes one JSON pointer reference token (RFC 6901 §4).
pub(crate) fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[derive(Default)]
struct Loader<'d> {
    observed: Vec<(&'d Map<String, Value>, Loc<'d>)>,
    scos: HashMap<&'d str, (&'d Value, Loc<'d>)>,
}

impl<'d> Loader<'d> {
    fn item(&mut self, item: &'d Value, loc: Loc<'d>) -> Result<(), Error> {
        let Some(obj) = item.as_object() else {
            return Err(Error::input(loc.pointer(), "expected a STIX object"));
        };
        match field(obj, "type").and_then(|(_, v)| v.as_str()) {
            Some("bundle") if loc.inner.is_none() => {
                let objects = obj
                    .get("objects")
                    .and_then(Value::as_array)
                    .ok_or_else(|| {
                        Error::input(loc.pointer(), "bundle without an \"objects\" array")
                    })?;
                for (j, inner) in objects.iter().enumerate() {
                    self.item(
                        inner,
                        Loc {
                            inner: Some(j),
                            ..loc
                        },
                    )?;
                }
                Ok(())
            }
            Some("bundle") => Err(Error::input(
                loc.pointer(),
                "a bundle cannot contain a bundle",
            )),
            Some("observed-data") => {
                self.observed.push((obj, loc));
                Ok(())
            }
            // STIX 2.0 containers that carry observation windows under another type name
            // (the reference matcher's own 2.0 tests use "cybox-container") are observations
            // too: what makes an observation is its window and its objects.
            Some(_)
                if field(obj, "first_observed").is_some() && field(obj, "objects").is_some() =>
            {
                self.observed.push((obj, loc));
                Ok(())
            }
            Some(_) => {
                if let Some(id) = field(obj, "id").and_then(|(_, v)| v.as_str()) {
                    self.scos.entry(id).or_insert((item, loc));
                }
                Ok(())
            }
            None => Err(Error::input(loc.pointer(), "object without a \"type\"")),
        }
    }

    fn finish(self) -> Result<Observations<'d>, Error> {
        let mut list = Vec::with_capacity(self.observed.len());
        for &(od, loc) in &self.observed {
            list.push(self.observation(od, loc)?);
        }
        // Stable sort keeps input order among equal windows, so results are deterministic.
        list.sort_by(|a, b| {
            (a.first_observed, a.last_observed).cmp(&(b.first_observed, b.last_observed))
        });
        Ok(Observations { list })
    }

    fn observation(
        &self,
        od: &'d Map<String, Value>,
        loc: Loc<'d>,
    ) -> Result<Observation<'d>, Error> {
        let at = |field: &str| format!("{}/{field}", loc.pointer());
        let ts = |name: &str| -> Result<Timestamp, Error> {
            let text = field(od, name)
                .and_then(|(_, v)| v.as_str())
                .ok_or_else(|| Error::input(at(name), format!("observed-data needs {name}")))?;
            timestamp::parse(text)
                .map_err(|why| Error::input(at(name), format!("invalid timestamp {text:?}: {why}")))
        };
        let first_observed = ts("first_observed")?;
        let last_observed = ts("last_observed")?;
        if last_observed < first_observed {
            // STIX 2.1 §4.14: last_observed MUST be greater than or equal to first_observed.
            return Err(Error::input(
                at("last_observed"),
                "last_observed is earlier than first_observed",
            ));
        }
        let number_observed = match field(od, "number_observed").and_then(|(_, v)| v.as_u64()) {
            Some(n) if n >= 1 => n,
            _ => {
                // STIX 2.1 §4.14: number_observed is an integer from 1 to 999,999,999.
                return Err(Error::input(
                    at("number_observed"),
                    "number_observed must be an integer of at least 1",
                ));
            }
        };
        let mut objects = Vec::new();
        if let Some((_, refs)) = field(od, "object_refs") {
            let refs = refs
                .as_array()
                .ok_or_else(|| Error::input(at("object_refs"), "object_refs must be a list"))?;
            for (i, r) in refs.iter().enumerate() {
                let id = r.as_str().ok_or_else(|| {
                    Error::input(at(&format!("object_refs/{i}")), "expected an id string")
                })?;
                if let Some(&(value, sco_loc)) = self.scos.get(id) {
                    let sco = Sco::new(id, sco_loc, value);
                    if !is_non_sco(sco.object_type()) {
                        objects.push(sco);
                    }
                }
            }
        } else if let Some((_, embedded)) = field(od, "objects") {
            let embedded = embedded
                .as_object()
                .ok_or_else(|| Error::input(at("objects"), "objects must be a dictionary"))?;
            for (key, value) in embedded {
                let sco_loc = Loc {
                    key: Some(key),
                    ..loc
                };
                if !value.is_object() {
                    return Err(Error::input(
                        sco_loc.pointer(),
                        "expected a cyber-observable object",
                    ));
                }
                objects.push(Sco::new(key, sco_loc, value));
            }
        } else {
            return Err(Error::input(
                loc.pointer(),
                "observed-data has neither object_refs (2.1) nor objects (2.0)",
            ));
        }
        let index = (objects.len() > INDEX_ABOVE).then(|| {
            let mut map = HashMap::with_capacity(objects.len());
            for (i, s) in objects.iter().enumerate() {
                map.entry(s.key).or_insert(i);
            }
            map
        });
        Ok(Observation {
            id: field(od, "id").and_then(|(_, v)| v.as_str()),
            first_observed,
            last_observed,
            number_observed,
            loc,
            objects,
            index,
        })
    }
}
