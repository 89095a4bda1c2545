//! Reading STIX documents: one object, a JSON array of objects, a bundle, or a stream of
//! objects and bundles separated by whitespace (NDJSON).
//!
//! The document is read twice at the JSON level: a fast scan that only finds where each
//! object starts and ends (serde_json's `RawValue`), then one full parse per object into
//! a `serde_json::Map` that keeps property order. The scan is what lets every object keep
//! its exact submitted bytes. Nesting deeper than serde_json's limit of 128 levels is an
//! error, never a stack overflow.

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
        for (i, &b) in self.text[self.pos..end].iter().enumerate() {
            if b == b'\n' {
                self.line += 1;
                self.line_start = self.pos + i + 1;
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

/// Only the two bundle fields the reader needs; everything else is skipped unparsed.
#[derive(Deserialize)]
struct BundleProbe<'a> {
    #[serde(rename = "type", default, borrow)]
    type_: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    objects: Option<&'a RawValue>,
}

struct Reader<'a> {
    text: &'a str,
    shared: Arc<str>,
    lines: Lines<'a>,
    out: Vec<StixObject>,
}

impl<'a> Reader<'a> {
    /// Parses one object whose text is `raw` (a subslice of the document).
    fn object(&mut self, raw: &'a str) -> Result<(), ParseError> {
        let start = offset_in(self.text, raw);
        let json: Map<String, Value> = serde_json::from_str(raw).map_err(|e| {
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

    /// Parses a JSON array of objects.
    fn array(&mut self, raw: &'a str, what: &str) -> Result<(), ParseError> {
        let start = offset_in(self.text, raw);
        let items: Vec<&'a RawValue> =
            serde_json::from_str(raw).map_err(|e| error_in_slice(&mut self.lines, start, &e))?;
        if !raw.starts_with('[') {
            let (line, column) = self.lines.at(start);
            return Err(ParseError::new(
                line,
                column,
                format!("{what} must be a JSON array"),
            ));
        }
        self.out.reserve(items.len());
        for item in items {
            self.object(item.get())?;
        }
        Ok(())
    }

    /// Parses one top-level value: an object, a bundle, or an array of objects.
    fn top(&mut self, raw: &'a str) -> Result<(), ParseError> {
        let start = offset_in(self.text, raw);
        match raw.as_bytes().first() {
            Some(b'[') => self.array(raw, "the document"),
            // Cheap pre-check: only objects mentioning "bundle" can be bundles, so only
            // those pay for the probe.
            Some(b'{') if raw.contains("\"bundle\"") => {
                let probe: BundleProbe<'a> = serde_json::from_str(raw)
                    .map_err(|e| error_in_slice(&mut self.lines, start, &e))?;
                if probe.type_.as_deref() == Some("bundle") {
                    // STIX 2.1 §8: a bundle's `objects` is optional.
                    match probe.objects {
                        Some(objects) => self.array(objects.get(), "a bundle's objects"),
                        None => Ok(()),
                    }
                } else {
                    self.object(raw)
                }
            }
            Some(b'{') => self.object(raw),
            _ => {
                let (line, column) = self.lines.at(start);
                Err(ParseError::new(
                    line,
                    column,
                    "expected a STIX object, a bundle or a JSON array of objects",
                ))
            }
        }
    }
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
    };
    let mut values = 0usize;
    let stream = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
    for item in stream {
        let raw = item
            .map_err(|e| ParseError::new(e.line().max(1), e.column().max(1), json_message(&e)))?;
        values += 1;
        reader.top(raw.get())?;
    }
    if values == 0 {
        return Err(ParseError::new(1, 1, "empty document"));
    }
    Ok(reader.out)
}
