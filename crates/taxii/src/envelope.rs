//! The envelope resource (TAXII 2.1 §3.7): a page of STIX objects with `more` and `next`.
//!
//! Three shapes of the same resource:
//! * [`Envelope<T>`], the typed form, for clients (`T` = `serde_json::Value` by default);
//! * [`RawEnvelope`], the borrowed form a server reads a POST into: each object stays the
//!   exact text the client sent, which the store keeps byte for byte (DESIGN.md);
//! * [`write_raw`], which writes stored objects back out verbatim, without a parse and
//!   re-serialise round trip per object (the hot path of a paged GET).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// An envelope (TAXII 2.1 §3.7): objects plus pagination state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T = serde_json::Value> {
    /// Whether more objects match the request than this page holds.
    #[serde(default)]
    pub more: bool,
    /// The token to pass as `next` to get the following page; present when `more` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The objects of this page.
    #[serde(default)]
    pub objects: Vec<T>,
}

impl<T> Default for Envelope<T> {
    fn default() -> Self {
        Envelope {
            more: false,
            next: None,
            objects: Vec::new(),
        }
    }
}

/// A POSTed envelope, with each object kept as its exact submitted text (TAXII 2.1 §5.4).
///
/// `objects` is optional in an envelope (§3.7.1), but a POST without it carries nothing to
/// add; [`RawEnvelope::objects`] being `None` lets the server say so.
#[derive(Debug, Deserialize)]
pub struct RawEnvelope<'a> {
    /// The objects, each its submitted JSON text.
    #[serde(borrow, default)]
    pub objects: Option<Vec<&'a RawValue>>,
}

impl<'a> RawEnvelope<'a> {
    /// Reads an envelope from a request body. Errors are serde's (with line and column).
    pub fn from_slice(body: &'a [u8]) -> Result<RawEnvelope<'a>, serde_json::Error> {
        // serde's derived visitor would also take a JSON array as the struct's fields in
        // order; an envelope is a JSON object (§3.7.1), so refuse anything else up front.
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|&b| b != b'{') {
            return Err(<serde_json::Error as serde::de::Error>::custom(
                "an envelope must be a JSON object",
            ));
        }
        serde_json::from_slice(body)
    }
}

/// Writes an envelope whose objects are already-serialised JSON texts, verbatim.
///
/// The texts must each be one JSON value (the server only writes back what it validated
/// and stored). Key order is `more`, `next`, `objects`, as in TAXII 2.1 §3.7.1's example.
pub fn write_raw<'s>(
    out: &mut Vec<u8>,
    objects: impl IntoIterator<Item = &'s str>,
    more: bool,
    next: Option<&str>,
) {
    open_envelope(out, more, next);
    for (i, object) in objects.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(object.as_bytes());
    }
    out.extend_from_slice(b"]}");
}

/// Writes an envelope around objects that are already joined: `joined` is what goes
/// between the brackets of `objects` (serialised JSON values separated by `,`, or nothing),
/// written verbatim. The same bytes as [`write_raw`] with those values.
pub fn write_joined(out: &mut Vec<u8>, joined: &[u8], more: bool, next: Option<&str>) {
    open_envelope(out, more, next);
    out.extend_from_slice(joined);
    out.extend_from_slice(b"]}");
}

/// An envelope up to and including the `[` of `objects`.
fn open_envelope(out: &mut Vec<u8>, more: bool, next: Option<&str>) {
    out.extend_from_slice(if more {
        b"{\"more\":true"
    } else {
        b"{\"more\":false"
    });
    if let Some(next) = next {
        out.extend_from_slice(b",\"next\":");
        // A &str always serialises; the fallback keeps this function total anyway.
        match serde_json::to_vec(next) {
            Ok(quoted) => out.extend_from_slice(&quoted),
            Err(_) => out.extend_from_slice(b"\"\""),
        }
    }
    out.extend_from_slice(b",\"objects\":[");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_envelope_is_the_raw_envelope() {
        let objects = [r#"{"id":"a--1"}"#, r#"{"id" : "b--2", "x":[1]}"#];
        for (more, next) in [(false, None), (true, Some("n\"1"))] {
            let mut raw = Vec::new();
            write_raw(&mut raw, objects, more, next);
            let mut joined = Vec::new();
            write_joined(&mut joined, objects.join(",").as_bytes(), more, next);
            assert_eq!(joined, raw);
            let mut raw = Vec::new();
            write_raw(&mut raw, [], more, next);
            let mut joined = Vec::new();
            write_joined(&mut joined, b"", more, next);
            assert_eq!(joined, raw);
        }
    }

    #[test]
    fn raw_envelope_keeps_bytes() {
        let body = br#"{"objects":[ {"id" : "a--1",  "x":[1, 2]} ,{"id":"b"}]}"#;
        let env = RawEnvelope::from_slice(body).unwrap();
        let objs = env.objects.unwrap();
        assert_eq!(objs[0].get(), r#"{"id" : "a--1",  "x":[1, 2]}"#);
        assert_eq!(objs[1].get(), r#"{"id":"b"}"#);
        assert!(RawEnvelope::from_slice(b"{}").unwrap().objects.is_none());
        assert!(RawEnvelope::from_slice(b"{not json").is_err());
        assert!(RawEnvelope::from_slice(b"[]").is_err());
    }

    #[test]
    fn write_raw_is_valid_json() {
        let mut out = Vec::new();
        write_raw(
            &mut out,
            ["{\"id\" :\n \"x\"}", "{\"id\":\"y\"}"],
            true,
            Some("tok\"en"),
        );
        let env: Envelope = serde_json::from_slice(&out).unwrap();
        assert!(env.more);
        assert_eq!(env.next.as_deref(), Some("tok\"en"));
        assert_eq!(env.objects.len(), 2);
        out.clear();
        write_raw(&mut out, std::iter::empty(), false, None);
        assert_eq!(out, br#"{"more":false,"objects":[]}"#);
    }
}
