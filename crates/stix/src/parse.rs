//! Reading STIX documents: one object, a JSON array of objects, a bundle, or a stream of
//! objects and bundles separated by whitespace (NDJSON).
//!
//! Each top-level value is scanned once by a small probe that only learns its shape (an
//! array, a bundle, or some other object) and where each contained object starts and
//! ends (serde_json's `RawValue`, which borrows the text); then every object gets one
//! full parse into a `serde_json::Map` that keeps property order. The borrowed spans are
//! what let every object keep its exact submitted bytes. Nesting deeper than
//! serde_json's limit of 128 levels is an error, never a stack overflow.
//!
//! A document that is a single JSON value (the usual bundle or array) takes a fast path:
//! each object is parsed right after it is scanned, while its bytes are still in cache.
//! Streams of several values (NDJSON) scan each top-level value first, then parse.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::ParseError;
use crate::object::{Location, StixObject};

/// The deepest nesting serde_json accepts; deeper input is rejected with a clear error.
pub const MAX_DEPTH: usize = 128;

/// Tracks line numbers while walking forward through the document.
struct Lines<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines {
            text: text.as_bytes(),
            pos: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// Line and 1-based column of `offset`; offsets must not go backwards between calls
    /// for linear cost, but going backwards is handled by restarting.
    fn at(&mut self, offset: usize) -> (usize, usize) {
        if offset < self.pos {
            self.pos = 0;
            self.line = 1;
            self.line_start = 0;
        }
        let end = offset.min(self.text.len());
        let chunk = &self.text[self.pos..end];
        // Counting with a filter lets the compiler vectorise; most chunks hold one object.
        let newlines = chunk.iter().filter(|&&b| b == b'\n').count();
        if newlines > 0 {
            self.line += newlines;
            if let Some(last) = chunk.iter().rposition(|&b| b == b'\n') {
                self.line_start = self.pos + last + 1;
            }
        }
        self.pos = end;
        (self.line, end - self.line_start + 1)
    }
}

/// Rewrites serde_json's messages where ours is clearer.
fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    // serde_json appends " at line L column C"; we report the position separately.
    let msg = match full.rfind(" at line ") {
        Some(i) => &full[..i],
        None => full.as_str(),
    };
    if msg.contains("recursion limit exceeded") {
        format!("nesting deeper than {MAX_DEPTH} levels")
    } else {
        msg.to_owned()
    }
}

/// Converts an error inside the slice starting at `base` into document coordinates.
fn error_in_slice(lines: &mut Lines<'_>, base: usize, e: &serde_json::Error) -> ParseError {
    let (base_line, base_col) = lines.at(base);
    let (line, column) = if e.line() <= 1 {
        (base_line, base_col + e.column().saturating_sub(1))
    } else {
        (base_line + e.line() - 1, e.column())
    };
    ParseError::new(line, column.max(1), json_message(e))
}

/// Byte offset of `inner` inside `outer`; `inner` must be a subslice of `outer`.
fn offset_in(outer: &str, inner: &str) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

/// What a top-level value turned out to be, learnt in one scan.
enum Top<'a> {
    /// A JSON array; its elements, unparsed.
    Array(Vec<&'a RawValue>),
    /// A bundle (STIX 2.1 §8); its `objects`, unparsed, if it is a list.
    Bundle(Option<BundleObjects<'a>>),
    /// Any other JSON object (a STIX object, or something that will fail as one).
    Object,
    /// A string, number, boolean or null.
    Scalar,
}

/// A bundle's `objects` member: a list of unparsed objects, or something else.
enum BundleObjects<'a> {
    List(Vec<&'a RawValue>),
    NotAList,
}

/// Deserialises an `objects` member without failing on non-lists: observed-data's
/// deprecated `objects` is a dictionary, and the probe cannot yet know the type.
struct ObjectsField<'a>(BundleObjects<'a>);

impl<'de> Deserialize<'de> for ObjectsField<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ObjectsField<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    items.push(item);
                }
                Ok(ObjectsField(BundleObjects::List(items)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(ObjectsField(BundleObjects::NotAList))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(ObjectsField(BundleObjects::NotAList))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(ObjectsField(BundleObjects::NotAList))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(ObjectsField(BundleObjects::NotAList))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(ObjectsField(BundleObjects::NotAList))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(ObjectsField(BundleObjects::NotAList))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(ObjectsField(BundleObjects::NotAList))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Top<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Top<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a STIX object, a bundle or a JSON array of objects")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    items.push(item);
                }
                Ok(Top::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut is_bundle = false;
                let mut seen_type = false;
                let mut objects = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "type" if seen_type => {
                            return Err(serde::de::Error::custom("duplicate property \"type\""));
                        }
                        "type" => {
                            // Any JSON is accepted here; only the string "bundle" counts.
                            let t = map.next_value::<Value>()?;
                            is_bundle = t.as_str() == Some("bundle");
                            seen_type = true;
                        }
                        "objects" if objects.is_some() => {
                            return Err(serde::de::Error::custom("duplicate property \"objects\""));
                        }
                        "objects" => objects = Some(map.next_value::<ObjectsField<'de>>()?.0),
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(if is_bundle {
                    Top::Bundle(objects)
                } else {
                    Top::Object
                })
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Top::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Top::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Top::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Top::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Top::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Top::Scalar)
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses one JSON object into a map, rejecting duplicate property names at any depth.
///
/// RFC 8259 §4 leaves duplicate names to the parser (serde_json keeps the last), and two
/// consumers that disagree on first-or-last could see different markings on the same
/// stored bytes; I-JSON (RFC 7493 §2.3) forbids them, and so does entente.
fn parse_strict_object(raw: &str) -> Result<Map<String, Value>, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(raw);
    let value = StrictValue { object_only: true }.deserialize(&mut de)?;
    de.end()?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(serde::de::Error::custom("expected a JSON object")),
    }
}

/// Builds a [`Value`] like serde_json does, but fails on duplicate object keys.
#[derive(Clone, Copy)]
struct StrictValue {
    /// Accept only a JSON object at this level (the object itself, not its contents).
    object_only: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.object_only {
            d.deserialize_map(self)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de> serde::de::Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.object_only {
            "a JSON object"
        } else {
            "any JSON value"
        })
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = StrictValue { object_only: false };
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = StrictValue { object_only: false };
        // Presized so that typical STIX objects (10-20 properties) and embedded types
        // (2-5) do not regrow; growth showed up at ~8% of parse time in profiles.
        let mut out = Map::with_capacity(if self.object_only { 16 } else { 4 });
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(inner)?;
            // One hash lookup: insert if vacant, fail if the name was seen before.
            match out.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                serde_json::map::Entry::Occupied(slot) => {
                    return Err(serde::de::Error::custom(format_args!(
                        "duplicate property {:?}",
                        slot.key()
                    )));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

struct Reader<'a> {
    text: &'a str,
    shared: Arc<str>,
    lines: Lines<'a>,
    out: Vec<StixObject>,
    /// An error from parsing an object inside the single-value fast path, carried out
    /// of serde (whose error type cannot hold it).
    pending: Option<ParseError>,
}

impl<'a> Reader<'a> {
    /// Parses one object whose text is `raw` (a subslice of the document).
    fn object(&mut self, raw: &'a str) -> Result<(), ParseError> {
        let start = offset_in(self.text, raw);
        let json: Map<String, Value> = parse_strict_object(raw).map_err(|e| {
            if raw.starts_with('{') {
                error_in_slice(&mut self.lines, start, &e)
            } else {
                let (line, column) = self.lines.at(start);
                ParseError::new(line, column, "expected a STIX object (a JSON object)")
            }
        })?;
        let (line, _) = self.lines.at(start);
        let location = Location {
            line,
            index: self.out.len(),
            offset: start,
        };
        self.out.push(StixObject::new(
            json,
            Arc::clone(&self.shared),
            start..start + raw.len(),
            location,
        ));
        Ok(())
    }

    /// Parses the objects of one probed top-level value whose text is `raw`.
    fn top(&mut self, raw: &'a str, top: Top<'a>) -> Result<(), ParseError> {
        match top {
            Top::Array(items) => self.objects(items),
            Top::Bundle(None) => Ok(()),
            Top::Bundle(Some(BundleObjects::List(items))) => self.objects(items),
            Top::Bundle(Some(BundleObjects::NotAList)) => {
                let at = raw.find("\"objects\"").unwrap_or(0);
                let (line, column) = self.lines.at(offset_in(self.text, raw) + at);
                Err(ParseError::new(
                    line,
                    column,
                    "a bundle's objects must be a JSON array",
                ))
            }
            Top::Object => self.object(raw),
            Top::Scalar => {
                let (line, column) = self.lines.at(offset_in(self.text, raw));
                Err(ParseError::new(
                    line,
                    column,
                    "expected a STIX object, a bundle or a JSON array of objects",
                ))
            }
        }
    }

    fn objects(&mut self, items: Vec<&'a RawValue>) -> Result<(), ParseError> {
        self.out.reserve(items.len());
        for item in items {
            self.object(item.get())?;
        }
        Ok(())
    }
}

/// What the single-value fast path did with the document.
enum Outcome<'a> {
    /// Every object was parsed while the document was read.
    Done,
    /// The shape is known but objects remain to be parsed (as in the stream path).
    Deferred(Top<'a>),
}

/// Reads a document that is one JSON value and parses each object right after scanning
/// it, while its bytes are still in cache; the stream path scans the whole document
/// first and parses afterwards.
struct TopSeed<'r, 'a> {
    reader: &'r mut Reader<'a>,
}

/// Parses a bundle's `objects` (or a top-level array) element by element.
struct ObjectsSeed<'r, 'a> {
    reader: &'r mut Reader<'a>,
}

impl<'r, 'a> ObjectsSeed<'r, 'a> {
    fn parse_seq<A: serde::de::SeqAccess<'a>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<&'a RawValue>()? {
            if let Err(e) = self.reader.object(raw.get()) {
                self.reader.pending = Some(e);
                return Err(serde::de::Error::custom("invalid object"));
            }
        }
        Ok(())
    }
}

impl<'r, 'a> serde::de::DeserializeSeed<'a> for ObjectsSeed<'r, 'a> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'a>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'r, 'a> serde::de::Visitor<'a> for ObjectsSeed<'r, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array")
    }
    fn visit_seq<A: serde::de::SeqAccess<'a>>(self, seq: A) -> Result<(), A::Error> {
        self.parse_seq(seq)
    }
    fn visit_map<A: serde::de::MapAccess<'a>>(self, _: A) -> Result<(), A::Error> {
        Err(serde::de::Error::custom(
            "a bundle's objects must be a JSON array",
        ))
    }
}

impl<'r, 'a> serde::de::DeserializeSeed<'a> for TopSeed<'r, 'a> {
    type Value = Outcome<'a>;
    fn deserialize<D: serde::Deserializer<'a>>(self, d: D) -> Result<Outcome<'a>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'r, 'a> serde::de::Visitor<'a> for TopSeed<'r, 'a> {
    type Value = Outcome<'a>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a STIX object, a bundle or a JSON array of objects")
    }
    fn visit_seq<A: serde::de::SeqAccess<'a>>(self, seq: A) -> Result<Outcome<'a>, A::Error> {
        ObjectsSeed {
            reader: self.reader,
        }
        .parse_seq(seq)?;
        Ok(Outcome::Done)
    }
    fn visit_map<A: serde::de::MapAccess<'a>>(self, mut map: A) -> Result<Outcome<'a>, A::Error> {
        let mut is_bundle = false;
        let mut seen_type = false;
        let mut streamed = false;
        let mut objects = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'a, str>>()? {
            match key.as_ref() {
                "type" if seen_type => {
                    return Err(serde::de::Error::custom("duplicate property \"type\""));
                }
                "type" => {
                    let t = map.next_value::<Value>()?;
                    is_bundle = t.as_str() == Some("bundle");
                    seen_type = true;
                }
                "objects" if objects.is_some() || streamed => {
                    return Err(serde::de::Error::custom("duplicate property \"objects\""));
                }
                // The usual bundle names its type first: its objects can be parsed
                // as they are read.
                "objects" if is_bundle => {
                    map.next_value_seed(ObjectsSeed {
                        reader: &mut *self.reader,
                    })?;
                    streamed = true;
                }
                "objects" => objects = Some(map.next_value::<ObjectsField<'a>>()?.0),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(match (is_bundle, streamed) {
            (true, true) => Outcome::Done,
            (true, false) => Outcome::Deferred(Top::Bundle(objects)),
            (false, _) => Outcome::Deferred(Top::Object),
        })
    }
    fn visit_bool<E>(self, _: bool) -> Result<Outcome<'a>, E> {
        Ok(Outcome::Deferred(Top::Scalar))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Outcome<'a>, E> {
        Ok(Outcome::Deferred(Top::Scalar))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Outcome<'a>, E> {
        Ok(Outcome::Deferred(Top::Scalar))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Outcome<'a>, E> {
        Ok(Outcome::Deferred(Top::Scalar))
    }
    fn visit_str<E>(self, _: &str) -> Result<Outcome<'a>, E> {
        Ok(Outcome::Deferred(Top::Scalar))
    }
    fn visit_unit<E>(self) -> Result<Outcome<'a>, E> {
        Ok(Outcome::Deferred(Top::Scalar))
    }
}

/// The fast path for documents that are a single JSON value. `Ok(None)` means the
/// document continues after the first value (a stream) and must take the stream path.
fn parse_single<'a>(reader: &mut Reader<'a>) -> Result<Option<()>, ParseError> {
    use serde::de::DeserializeSeed;
    let text = reader.text;
    let mut de = serde_json::Deserializer::from_str(text);
    let outcome = TopSeed {
        reader: &mut *reader,
    }
    .deserialize(&mut de);
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            return Err(reader.pending.take().unwrap_or_else(|| {
                ParseError::new(e.line().max(1), e.column().max(1), json_message(&e))
            }));
        }
    };
    if de.end().is_err() {
        return Ok(None);
    }
    if let Outcome::Deferred(top) = outcome {
        let raw = text.trim_matches([' ', '\t', '\n', '\r']);
        reader.top(raw, top)?;
    }
    Ok(Some(()))
}

/// Parses a STIX document: one object, a JSON array of objects, a bundle, or a stream of
/// objects and bundles separated by whitespace (NDJSON). Never panics.
///
/// The objects come back in document order, bundles flattened. An empty document is an
/// error; a bundle without objects yields none.
pub fn parse_document(input: &[u8]) -> Result<Vec<StixObject>, ParseError> {
    let text = match std::str::from_utf8(input) {
        Ok(t) => t,
        Err(e) => {
            let valid = std::str::from_utf8(&input[..e.valid_up_to()]).unwrap_or("");
            let mut lines = Lines::new(valid);
            let (line, column) = lines.at(valid.len());
            return Err(ParseError::new(line, column, "input is not valid UTF-8"));
        }
    };
    // RFC 8259 §8.1 lets parsers ignore a byte order mark; keep offsets relative to the
    // document without it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader {
        text,
        shared: Arc::from(text),
        lines: Lines::new(text),
        out: Vec::new(),
        pending: None,
    };
    if text.trim_matches([' ', '\t', '\n', '\r']).is_empty() {
        return Err(ParseError::new(1, 1, "empty document"));
    }
    if parse_single(&mut reader)?.is_some() {
        return Ok(reader.out);
    }
    // A stream of values: start over on the stream path.
    reader.out.clear();
    reader.lines = Lines::new(text);
    let mut values = 0usize;
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Top<'_>>();
    loop {
        let before = stream.byte_offset();
        let Some(item) = stream.next() else { break };
        let top = item
            .map_err(|e| ParseError::new(e.line().max(1), e.column().max(1), json_message(&e)))?;
        let after = stream.byte_offset();
        // The value's own text: what the stream consumed, minus leading whitespace.
        let raw = text
            .get(before..after)
            .unwrap_or("")
            .trim_start_matches([' ', '\t', '\n', '\r']);
        values += 1;
        reader.top(raw, top)?;
    }
    if values == 0 {
        return Err(ParseError::new(1, 1, "empty document"));
    }
    Ok(reader.out)
}
