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

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::timestamp;

/// The STIX 2.1 object types that are not SCOs (SDOs §4, SROs §5, meta objects §7, and the
/// bundle); object paths never address these.
const NON_SCO_TYPES: &[&str] = &[
    "attack-pattern",
    "bundle",
    "campaign",
    "course-of-action",
    "extension-definition",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "language-content",
    "location",
    "malware",
    "malware-analysis",
    "marking-definition",
    "note",
    "observed-data",
    "opinion",
    "relationship",
    "report",
    "sighting",
    "threat-actor",
    "tool",
    "vulnerability",
];

/// One SCO inside an observation.
#[derive(Debug, Clone)]
pub(crate) struct Sco {
    /// The key it is referenced by: the dictionary key (2.0) or the id (2.1).
    pub key: String,
    /// Where it sits in the input document.
    pub pointer: String,
    /// The object itself.
    pub value: Arc<Value>,
}

impl Sco {
    /// The object's `type`, or `""` when it has none.
    pub fn object_type(&self) -> &str {
        self.value.get("type").and_then(Value::as_str).unwrap_or("")
    }
}

/// One observed-data object: `number_observed` observations in `[first_observed,
/// last_observed]` (STIX 2.1 §9.1, "Observation").
#[derive(Debug, Clone)]
pub struct Observation {
    /// The observed-data `id`, when it has one.
    pub id: Option<String>,
    /// Where the observed-data object sits in the input document (an RFC 6901 JSON
    /// pointer; empty for the document itself).
    pub pointer: String,
    /// Start of the observation window.
    pub first_observed: Timestamp,
    /// End of the observation window (inclusive).
    pub last_observed: Timestamp,
    /// How many observations this object stands for; each can bind one observation
    /// expression.
    pub number_observed: u64,
    pub(crate) objects: Vec<Sco>,
    pub(crate) by_key: HashMap<String, usize>,
}

impl Observation {
    /// A short human name: the id, or else the JSON pointer (`(document)` for the whole
    /// input).
    pub fn name(&self) -> &str {
        match (&self.id, self.pointer.as_str()) {
            (Some(id), _) => id,
            (None, "") => "(document)",
            (None, p) => p,
        }
    }

    /// Resolves a reference value (`*_ref`, or one item of `*_refs`) within this observation.
    pub(crate) fn resolve(&self, key: &str) -> Option<&Sco> {
        self.by_key.get(key).map(|&i| &self.objects[i])
    }
}

/// All observations of one evaluation, sorted by `first_observed` (then `last_observed`, then
/// input order) so that time-ordered searches can stop early.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    pub(crate) list: Vec<Observation>,
}

impl Observations {
    /// Reads observations from a parsed JSON document (see the module docs for its shapes).
    pub fn from_json(doc: &Value) -> Result<Self, Error> {
        let mut loader = Loader::default();
        match doc {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    loader.item(item, format!("/{i}"))?;
                }
            }
            Value::Object(_) => loader.item(doc, String::new())?,
            _ => {
                return Err(Error::input(
                    "",
                    "expected a JSON array of observed-data objects and bundles, or one bundle",
                ));
            }
        }
        loader.finish()
    }

    /// Parses JSON text and reads observations from it.
    pub fn from_json_str(text: &str) -> Result<Self, Error> {
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| Error::input("", format!("not valid JSON: {e}")))?;
        Self::from_json(&doc)
    }

    /// The observations, in evaluation order (by time).
    pub fn iter(&self) -> impl Iterator<Item = &Observation> {
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
    pub fn get(&self, index: usize) -> Option<&Observation> {
        self.list.get(index)
    }
}

/// Escapes one JSON pointer reference token (RFC 6901 §4).
pub(crate) fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[derive(Default)]
struct Loader {
    observed: Vec<(Map<String, Value>, String)>,
    scos: HashMap<String, (Arc<Value>, String)>,
}

impl Loader {
    fn item(&mut self, item: &Value, pointer: String) -> Result<(), Error> {
        let Some(obj) = item.as_object() else {
            return Err(Error::input(pointer, "expected a STIX object"));
        };
        match obj.get("type").and_then(Value::as_str) {
            Some("bundle") => {
                let objects = obj
                    .get("objects")
                    .and_then(Value::as_array)
                    .ok_or_else(|| {
                        Error::input(pointer.clone(), "bundle without an \"objects\" array")
                    })?;
                for (j, inner) in objects.iter().enumerate() {
                    let p = format!("{pointer}/objects/{j}");
                    match inner.get("type").and_then(Value::as_str) {
                        Some("bundle") => {
                            return Err(Error::input(p, "a bundle cannot contain a bundle"));
                        }
                        _ => self.item(inner, p)?,
                    }
                }
                Ok(())
            }
            Some("observed-data") => {
                self.observed.push((obj.clone(), pointer));
                Ok(())
            }
            // STIX 2.0 containers that carry observation windows under another type name
            // (the reference matcher's own 2.0 tests use "cybox-container") are observations
            // too: what makes an observation is its window and its objects.
            Some(_) if obj.contains_key("first_observed") && obj.contains_key("objects") => {
                self.observed.push((obj.clone(), pointer));
                Ok(())
            }
            Some(_) => {
                if let Some(id) = obj.get("id").and_then(Value::as_str) {
                    self.scos
                        .entry(id.to_owned())
                        .or_insert_with(|| (Arc::new(item.clone()), pointer));
                }
                Ok(())
            }
            None => Err(Error::input(pointer, "object without a \"type\"")),
        }
    }

    fn finish(self) -> Result<Observations, Error> {
        let mut list = Vec::with_capacity(self.observed.len());
        for (od, pointer) in &self.observed {
            list.push(self.observation(od, pointer)?);
        }
        // Stable sort keeps input order among equal windows, so results are deterministic.
        list.sort_by(|a, b| {
            (a.first_observed, a.last_observed).cmp(&(b.first_observed, b.last_observed))
        });
        Ok(Observations { list })
    }

    fn observation(&self, od: &Map<String, Value>, pointer: &str) -> Result<Observation, Error> {
        let ts = |field: &str| -> Result<Timestamp, Error> {
            let p = format!("{pointer}/{field}");
            let text = od
                .get(field)
                .and_then(Value::as_str)
                .ok_or_else(|| Error::input(p.clone(), format!("observed-data needs {field}")))?;
            timestamp::parse(text)
                .map_err(|why| Error::input(p, format!("invalid timestamp {text:?}: {why}")))
        };
        let first_observed = ts("first_observed")?;
        let last_observed = ts("last_observed")?;
        if last_observed < first_observed {
            // STIX 2.1 §4.14: last_observed MUST be greater than or equal to first_observed.
            return Err(Error::input(
                format!("{pointer}/last_observed"),
                "last_observed is earlier than first_observed",
            ));
        }
        let number_observed = match od.get("number_observed").and_then(Value::as_u64) {
            Some(n) if n >= 1 => n,
            _ => {
                // STIX 2.1 §4.14: number_observed is an integer from 1 to 999,999,999.
                return Err(Error::input(
                    format!("{pointer}/number_observed"),
                    "number_observed must be an integer of at least 1",
                ));
            }
        };
        let mut objects = Vec::new();
        if let Some(refs) = od.get("object_refs") {
            let refs = refs.as_array().ok_or_else(|| {
                Error::input(
                    format!("{pointer}/object_refs"),
                    "object_refs must be a list",
                )
            })?;
            for (i, r) in refs.iter().enumerate() {
                let id = r.as_str().ok_or_else(|| {
                    Error::input(
                        format!("{pointer}/object_refs/{i}"),
                        "expected an id string",
                    )
                })?;
                if let Some((value, p)) = self.scos.get(id) {
                    let sco = Sco {
                        key: id.to_owned(),
                        pointer: p.clone(),
                        value: Arc::clone(value),
                    };
                    if !NON_SCO_TYPES.contains(&sco.object_type()) {
                        objects.push(sco);
                    }
                }
            }
        } else if let Some(embedded) = od.get("objects") {
            let embedded = embedded.as_object().ok_or_else(|| {
                Error::input(format!("{pointer}/objects"), "objects must be a dictionary")
            })?;
            for (key, value) in embedded {
                let p = format!("{pointer}/objects/{}", pointer_token(key));
                if !value.is_object() {
                    return Err(Error::input(p, "expected a cyber-observable object"));
                }
                objects.push(Sco {
                    key: key.clone(),
                    pointer: p,
                    value: Arc::new(value.clone()),
                });
            }
        } else {
            return Err(Error::input(
                pointer,
                "observed-data has neither object_refs (2.1) nor objects (2.0)",
            ));
        }
        let by_key = objects
            .iter()
            .enumerate()
            .map(|(i, s)| (s.key.clone(), i))
            .collect();
        Ok(Observation {
            id: od.get("id").and_then(Value::as_str).map(str::to_owned),
            pointer: pointer.to_owned(),
            first_observed,
            last_observed,
            number_observed,
            objects,
            by_key,
        })
    }
}
