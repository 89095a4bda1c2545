//! What selection reads of an object, and a fast reader of STIX documents for it.
//!
//! [`Object`] is the handful of properties [`crate::select::select`] looks at. It is
//! implemented for `stix::StixObject` (objects from a store or a TAXII server) and for
//! [`Record`], which [`parse_records`] reads straight from a document's bytes: one serde
//! pass that borrows strings from the input and skips every other property, instead of a
//! full `StixObject` per object. On 1,000,000 indicators (386 MB of NDJSON) that is the
//! difference between about 13 s of CPU and 4 GiB resident, and a few seconds
//! (`scripts/bench-export.sh`).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// The properties selection reads (STIX 2.1 §3.2 common properties, §4.7 indicator).
pub trait Object {
    /// `type`.
    fn type_name(&self) -> Option<&str>;
    /// `id`.
    fn id(&self) -> Option<&str>;
    /// `name`.
    fn name(&self) -> Option<&str>;
    /// `created_by_ref`.
    fn created_by_ref(&self) -> Option<&str>;
    /// The version instant: `modified`, else `created` (STIX 2.1 §3.6).
    fn version(&self) -> Option<jiff::Timestamp>;
    /// `revoked` (absent is false).
    fn revoked(&self) -> bool;
    /// `valid_until` as written.
    fn valid_until(&self) -> Option<&str>;
    /// `pattern`.
    fn pattern(&self) -> Option<&str>;
    /// `pattern_type`.
    fn pattern_type(&self) -> Option<&str>;
    /// `pattern_version`.
    fn pattern_version(&self) -> Option<&str>;
    /// The object's JSON text as received.
    fn raw(&self) -> &str;
}

impl Object for stix::StixObject {
    fn type_name(&self) -> Option<&str> {
        stix::StixObject::type_name(self)
    }
    fn id(&self) -> Option<&str> {
        stix::StixObject::id(self)
    }
    fn name(&self) -> Option<&str> {
        stix::StixObject::name(self)
    }
    fn created_by_ref(&self) -> Option<&str> {
        stix::StixObject::created_by_ref(self)
    }
    fn version(&self) -> Option<jiff::Timestamp> {
        stix::StixObject::version(self).map(|t| t.instant())
    }
    fn revoked(&self) -> bool {
        stix::StixObject::revoked(self)
    }
    fn valid_until(&self) -> Option<&str> {
        self.str_prop("valid_until")
    }
    fn pattern(&self) -> Option<&str> {
        stix::StixObject::pattern(self)
    }
    fn pattern_type(&self) -> Option<&str> {
        stix::StixObject::pattern_type(self)
    }
    fn pattern_version(&self) -> Option<&str> {
        stix::StixObject::pattern_version(self)
    }
    fn raw(&self) -> &str {
        stix::StixObject::raw(self)
    }
}

/// The properties of one object that selection reads, borrowed from the input where the
/// JSON text has no escapes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Fields<'a> {
    #[serde(rename = "type", borrow, default)]
    type_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    created_by_ref: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    created: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    modified: Option<Cow<'a, str>>,
    #[serde(default)]
    revoked: Option<bool>,
    #[serde(borrow, default)]
    valid_until: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pattern: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pattern_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pattern_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    objects: Option<Vec<&'a RawValue>>,
}

/// One object read by [`parse_records`].
#[derive(Debug, Clone)]
pub struct Record<'a> {
    fields: Fields<'a>,
    raw: &'a str,
}

impl Object for Record<'_> {
    fn type_name(&self) -> Option<&str> {
        self.fields.type_name.as_deref()
    }
    fn id(&self) -> Option<&str> {
        self.fields.id.as_deref()
    }
    fn name(&self) -> Option<&str> {
        self.fields.name.as_deref()
    }
    fn created_by_ref(&self) -> Option<&str> {
        self.fields.created_by_ref.as_deref()
    }
    fn version(&self) -> Option<jiff::Timestamp> {
        let text = self
            .fields
            .modified
            .as_deref()
            .or(self.fields.created.as_deref())?;
        stix::Timestamp::parse(text).ok().map(|t| t.instant())
    }
    fn revoked(&self) -> bool {
        self.fields.revoked.unwrap_or(false)
    }
    fn valid_until(&self) -> Option<&str> {
        self.fields.valid_until.as_deref()
    }
    fn pattern(&self) -> Option<&str> {
        self.fields.pattern.as_deref()
    }
    fn pattern_type(&self) -> Option<&str> {
        self.fields.pattern_type.as_deref()
    }
    fn pattern_version(&self) -> Option<&str> {
        self.fields.pattern_version.as_deref()
    }
    fn raw(&self) -> &str {
        self.raw
    }
}

/// Why [`parse_records`] could not read a document (the caller may then ask
/// `stix::parse_document` for a located message).
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The bytes are not UTF-8.
    #[error("input is not valid UTF-8")]
    Utf8,
    /// The text is not the JSON of objects, arrays of objects or bundles.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// No JSON value at all.
    #[error("empty document")]
    Empty,
    /// A bundle or an array where one object was expected ([`parse_record`]).
    #[error("not one object (a bundle or an array)")]
    NotOneObject,
}

/// The objects of a document — one object, a JSON array, a bundle, or a stream of objects
/// and bundles (NDJSON) — in document order, bundles flattened, as `stix::parse_document`
/// accepts them, reading only what [`Object`] needs.
pub fn parse_records(bytes: &[u8]) -> Result<Vec<Record<'_>>, RecordError> {
    let mut out = Vec::new();
    each_record(bytes, |r| out.push(r))?;
    Ok(out)
}

/// [`parse_records`] handing each record to `f` as it is read instead of collecting them,
/// so that a caller keeping only a little of each never holds them all. On an error, `f`
/// has seen the records before it.
pub fn each_record<'a>(bytes: &'a [u8], mut f: impl FnMut(Record<'a>)) -> Result<(), RecordError> {
    let text = std::str::from_utf8(bytes).map_err(|_| RecordError::Utf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut any = false;
    for value in serde_json::Deserializer::from_str(text).into_iter::<&RawValue>() {
        let value = value?;
        any = true;
        let raw = value.get();
        if raw.starts_with('[') {
            let items: Vec<&RawValue> = serde_json::from_str(raw)?;
            for item in items {
                push(item.get(), &mut f)?;
            }
        } else {
            push(raw, &mut f)?;
        }
    }
    if !any {
        return Err(RecordError::Empty);
    }
    Ok(())
}

/// One object's JSON text (as a store or a TAXII server hands it out) read as
/// [`parse_records`] reads each object of a document; a bundle is refused, as no store
/// holds one.
pub fn parse_record(raw: &str) -> Result<Record<'_>, RecordError> {
    // serde would read the fields of a struct from an array too.
    if !raw.trim_start().starts_with('{') {
        return Err(RecordError::NotOneObject);
    }
    let mut fields: Fields<'_> = serde_json::from_str(raw)?;
    fields.objects = None;
    if fields.type_name.as_deref() == Some("bundle") {
        return Err(RecordError::NotOneObject);
    }
    Ok(Record { fields, raw })
}

fn push<'a>(raw: &'a str, f: &mut impl FnMut(Record<'a>)) -> Result<(), RecordError> {
    let mut fields: Fields<'a> = serde_json::from_str(raw)?;
    if fields.type_name.as_deref() == Some("bundle") {
        // STIX 2.1 §8: a bundle's objects; a bundle without objects yields none.
        for item in fields.objects.take().unwrap_or_default() {
            let f2: Fields<'a> = serde_json::from_str(item.get())?;
            f(Record {
                fields: Fields {
                    objects: None,
                    ..f2
                },
                raw: item.get(),
            });
        }
        return Ok(());
    }
    fields.objects = None;
    f(Record { fields, raw });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_document_shape_in_order() {
        let a = r#"{"type":"indicator","id":"indicator--1","pattern":"[x:y = 'it\\'s']"}"#;
        let b = r#"{"type":"identity","id":"identity--2","name":"A \"B\""}"#;
        let shapes = [
            format!("{a}\n{b}\n"),
            format!("[{a},{b}]"),
            format!(r#"{{"type":"bundle","id":"bundle--3","objects":[{a},{b}]}}"#),
            format!(r#"{a} {{"type":"bundle","id":"bundle--3","objects":[{b}]}}"#),
        ];
        for doc in shapes {
            let r = parse_records(doc.as_bytes()).expect("parses");
            assert_eq!(r.len(), 2, "{doc}");
            assert_eq!(r[0].id(), Some("indicator--1"));
            assert_eq!(r[0].raw(), a);
            assert_eq!(r[1].name(), Some("A \"B\""));
        }
        assert!(parse_records(b"  ").is_err());
        let one = parse_record(b).expect("one object");
        assert_eq!(one.name(), Some("A \"B\""));
        assert_eq!(one.raw(), b);
        assert!(parse_record(r#"{"type":"bundle","id":"bundle--3","objects":[]}"#).is_err());
        assert!(parse_record("[]").is_err());
        assert!(parse_records(b"{\"type\":").is_err());
    }
}
