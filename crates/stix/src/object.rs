//! [`StixObject`]: one parsed object, lossless, with typed access to its properties.
//!
//! An object keeps three things: the exact bytes it was submitted as (DESIGN.md: "what a
//! client posted is what a client gets back"), the parsed JSON with every property in its
//! original order (custom properties and extensions included), and where in the document
//! it started. Typed accessors read from the JSON on demand; nothing is copied out.

use std::ops::Range;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::spec::{Category, TypeSpec};
use crate::timestamp::Timestamp;
use crate::types::{self, StixView};

/// Where an object started in its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Location {
    /// 1-based line on which the object's opening `{` stands.
    pub line: usize,
    /// 0-based position of the object among all objects of the document.
    pub index: usize,
    /// 0-based byte offset of the object's opening `{` in the document.
    pub offset: usize,
}

/// One STIX object as submitted.
#[derive(Debug, Clone)]
pub struct StixObject {
    json: Map<String, Value>,
    source: Arc<str>,
    span: Range<usize>,
    location: Location,
    spec: Option<&'static TypeSpec>,
}

impl PartialEq for StixObject {
    /// Two objects are equal when their JSON values are equal (bytes may differ).
    fn eq(&self, other: &Self) -> bool {
        self.json == other.json
    }
}

impl StixObject {
    /// Builds an object from a slice `span` of a shared document text.
    pub(crate) fn new(
        json: Map<String, Value>,
        source: Arc<str>,
        span: Range<usize>,
        location: Location,
    ) -> StixObject {
        let spec = json
            .get("type")
            .and_then(Value::as_str)
            .and_then(types::spec_for);
        StixObject {
            json,
            source,
            span,
            location,
            spec,
        }
    }

    /// Parses a single JSON object on its own (not a bundle or list).
    pub fn from_json_str(text: &str) -> Result<StixObject, crate::ParseError> {
        let mut objs = crate::parse_document(text.as_bytes())?;
        if objs.len() != 1 {
            return Err(crate::ParseError::new(
                1,
                1,
                format!("expected exactly one object, found {}", objs.len()),
            ));
        }
        objs.pop()
            .ok_or_else(|| crate::ParseError::new(1, 1, "expected exactly one object"))
    }

    /// Builds an object from a JSON value, e.g. one a program composed. Its raw text is
    /// the compact serialisation of the value.
    pub fn from_value(value: &Value) -> Result<StixObject, crate::ParseError> {
        if !value.is_object() {
            return Err(crate::ParseError::new(
                1,
                1,
                "expected a STIX object (a JSON object)",
            ));
        }
        let text = serde_json::to_string(value)
            .map_err(|e| crate::ParseError::new(1, 1, e.to_string()))?;
        StixObject::from_json_str(&text)
    }

    /// The parsed JSON, every property in submitted order.
    pub fn json(&self) -> &Map<String, Value> {
        &self.json
    }

    /// Consumes the object, returning its JSON.
    pub fn into_json(self) -> Map<String, Value> {
        self.json
    }

    /// The exact submitted text of this object (from its `{` to its `}`).
    pub fn raw(&self) -> &str {
        self.source.get(self.span.clone()).unwrap_or("")
    }

    /// Where in the document the object started.
    pub fn location(&self) -> Location {
        self.location
    }

    /// The property table of the object's type, if STIX 2.1 defines the type.
    pub fn spec(&self) -> Option<&'static TypeSpec> {
        self.spec
    }

    /// The object family, if the type is one STIX 2.1 defines.
    pub fn category(&self) -> Option<Category> {
        self.spec.map(|s| s.category)
    }

    /// A typed view for the object's type.
    pub fn view(&self) -> StixView<'_> {
        types::view_of(self)
    }

    /// A property's raw JSON value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.json.get(name)
    }

    /// A string property.
    pub fn str_prop(&self, name: &str) -> Option<&str> {
        self.json.get(name).and_then(Value::as_str)
    }

    /// The string items of a list property (non-strings skipped; empty if absent).
    pub fn str_list<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.json
            .get(name)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(Value::as_str)
    }

    /// A timestamp property, if present and valid.
    pub fn timestamp(&self, name: &str) -> Option<Timestamp> {
        self.str_prop(name).and_then(|s| Timestamp::parse(s).ok())
    }

    /// `id` (§3.2).
    pub fn id(&self) -> Option<&str> {
        self.str_prop("id")
    }

    /// `type` (§3.2).
    pub fn type_name(&self) -> Option<&str> {
        self.str_prop("type")
    }

    /// `spec_version` (§3.2).
    pub fn spec_version(&self) -> Option<&str> {
        self.str_prop("spec_version")
    }

    /// `created` (§3.2), if valid.
    pub fn created(&self) -> Option<Timestamp> {
        self.timestamp("created")
    }

    /// `modified` (§3.2), if valid.
    pub fn modified(&self) -> Option<Timestamp> {
        self.timestamp("modified")
    }

    /// The version of this object as TAXII 2.1 §3.4.1 defines it: `modified`, else
    /// `created`, else none (SCOs are unversioned).
    pub fn version(&self) -> Option<Timestamp> {
        self.modified().or_else(|| self.created())
    }

    /// `created_by_ref` (§3.2).
    pub fn created_by_ref(&self) -> Option<&str> {
        self.str_prop("created_by_ref")
    }

    /// `revoked` (§3.2); absent means `false`.
    pub fn revoked(&self) -> bool {
        self.json
            .get("revoked")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// `labels` (§3.2).
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.str_list("labels")
    }

    /// `confidence` (§3.2).
    pub fn confidence(&self) -> Option<i64> {
        self.json.get("confidence").and_then(Value::as_i64)
    }

    /// `lang` (§3.2).
    pub fn lang(&self) -> Option<&str> {
        self.str_prop("lang")
    }

    /// `external_references` (§3.2).
    pub fn external_references(&self) -> &[Value] {
        self.list("external_references")
    }

    /// `object_marking_refs` (§3.2).
    pub fn object_marking_refs(&self) -> impl Iterator<Item = &str> {
        self.str_list("object_marking_refs")
    }

    /// `granular_markings` (§3.2).
    pub fn granular_markings(&self) -> &[Value] {
        self.list("granular_markings")
    }

    /// `extensions` (§3.2).
    pub fn extensions(&self) -> Option<&Map<String, Value>> {
        self.json.get("extensions").and_then(Value::as_object)
    }

    /// `defanged` (SCO common property, §6); absent means `false`.
    pub fn defanged(&self) -> bool {
        self.json
            .get("defanged")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// `name`, which most SDOs carry.
    pub fn name(&self) -> Option<&str> {
        self.str_prop("name")
    }

    /// `description`, which most SDOs carry.
    pub fn description(&self) -> Option<&str> {
        self.str_prop("description")
    }

    /// Indicator `pattern` (§4.7).
    pub fn pattern(&self) -> Option<&str> {
        self.str_prop("pattern")
    }

    /// Indicator `pattern_type` (§4.7).
    pub fn pattern_type(&self) -> Option<&str> {
        self.str_prop("pattern_type")
    }

    /// Indicator `pattern_version` (§4.7).
    pub fn pattern_version(&self) -> Option<&str> {
        self.str_prop("pattern_version")
    }

    /// Indicator `valid_from` (§4.7), if valid.
    pub fn valid_from(&self) -> Option<Timestamp> {
        self.timestamp("valid_from")
    }

    /// Indicator `valid_until` (§4.7), if valid.
    pub fn valid_until(&self) -> Option<Timestamp> {
        self.timestamp("valid_until")
    }

    fn list(&self, name: &str) -> &[Value] {
        self.json
            .get(name)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// A read-only view of one embedded JSON object (external reference, kill-chain phase,
/// granular marking): typed string accessors over its map.
#[derive(Debug, Clone, Copy)]
pub struct Embedded<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Embedded<'a> {
    /// The embedded object's JSON.
    pub fn json(&self) -> &'a Map<String, Value> {
        self.map
    }

    /// A string property of the embedded object.
    pub fn str_prop(&self, name: &str) -> Option<&'a str> {
        self.map.get(name).and_then(Value::as_str)
    }

    /// The string items of a list property (empty if absent).
    pub fn str_list(&self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.map
            .get(name)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(Value::as_str)
    }

    /// External reference `source_name` (§2.5).
    pub fn source_name(&self) -> Option<&'a str> {
        self.str_prop("source_name")
    }

    /// External reference `external_id` (§2.5).
    pub fn external_id(&self) -> Option<&'a str> {
        self.str_prop("external_id")
    }

    /// External reference `url` (§2.5).
    pub fn url(&self) -> Option<&'a str> {
        self.str_prop("url")
    }

    /// Kill-chain phase `kill_chain_name` (§2.11).
    pub fn kill_chain_name(&self) -> Option<&'a str> {
        self.str_prop("kill_chain_name")
    }

    /// Kill-chain phase `phase_name` (§2.11).
    pub fn phase_name(&self) -> Option<&'a str> {
        self.str_prop("phase_name")
    }

    /// Granular marking `marking_ref` (§7.2.3).
    pub fn marking_ref(&self) -> Option<&'a str> {
        self.str_prop("marking_ref")
    }

    /// Granular marking `selectors` (§7.2.3).
    pub fn selectors(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.str_list("selectors")
    }
}

/// The objects of a list property as [`Embedded`] views (non-objects skipped).
pub fn embedded_list(values: &[Value]) -> impl Iterator<Item = Embedded<'_>> {
    values
        .iter()
        .filter_map(Value::as_object)
        .map(|map| Embedded { map })
}

impl StixObject {
    /// `external_references` as typed views.
    pub fn external_refs(&self) -> impl Iterator<Item = Embedded<'_>> {
        embedded_list(self.external_references())
    }

    /// `kill_chain_phases` as typed views.
    pub fn kill_chain_phases(&self) -> impl Iterator<Item = Embedded<'_>> {
        embedded_list(self.list("kill_chain_phases"))
    }

    /// `granular_markings` as typed views.
    pub fn granular_marking_views(&self) -> impl Iterator<Item = Embedded<'_>> {
        embedded_list(self.granular_markings())
    }

    /// Every marking-definition id that applies to the object or to part of it.
    pub fn all_marking_refs(&self) -> impl Iterator<Item = &str> {
        self.object_marking_refs().chain(
            self.granular_marking_views()
                .filter_map(|g| g.marking_ref()),
        )
    }
}

impl serde::Serialize for StixObject {
    /// Serialises the JSON value (property order kept), not the raw bytes.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}
