//! What the mappers hand back: objects ready to store, and refusals saying why an input
//! item was not imported.

use std::fmt;

use serde_json::{Map, Value};
use stix::{Timestamp, TlpLevel};

/// One STIX object made by an import, with the columns a store indexes beside its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// STIX id.
    pub id: String,
    /// STIX type.
    pub type_name: &'static str,
    /// `modified` (or `created` for objects without it); `None` for SCOs.
    pub version: Option<Timestamp>,
    /// The object's TLP level (from its `object_marking_refs`; unmarked is CLEAR).
    pub tlp: TlpLevel,
    /// The object as compact JSON.
    pub json: String,
}

impl Object {
    /// Serialises `map` (which must hold `id`, and `modified` or `created` for SDOs).
    pub(crate) fn from_map(
        type_name: &'static str,
        map: &Map<String, Value>,
        tlp: TlpLevel,
    ) -> Object {
        let id = map
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let version = map
            .get("modified")
            .or_else(|| map.get("created"))
            .and_then(Value::as_str)
            .and_then(|s| Timestamp::parse(s).ok());
        Object {
            id,
            type_name,
            version,
            tlp,
            // A map of strings, numbers and lists cannot fail to serialise.
            json: serde_json::to_string(map).unwrap_or_default(),
        }
    }
}

/// Where an input item was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A line of a list (1-based).
    Line(u64),
    /// A MISP attribute, by uuid (or by index when it has none).
    Attribute(String),
    /// A MISP object, by uuid.
    MispObject(String),
    /// A whole MISP event.
    Event(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Line(n) => write!(f, "line {n}"),
            Origin::Attribute(u) => write!(f, "attribute {u}"),
            Origin::MispObject(u) => write!(f, "object {u}"),
            Origin::Event(u) => write!(f, "event {u}"),
        }
    }
}

/// An input item that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Where it was.
    pub origin: Origin,
    /// Why, in one line (lowercase, no trailing period).
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.reason)
    }
}

/// The result of mapping one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapped {
    /// The objects, each id once, in the order made.
    pub objects: Vec<Object>,
    /// Items imported (each became one or more objects, or part of one).
    pub accepted: u64,
    /// Items read but already imported by an earlier item of the same run (same id).
    pub duplicates: u64,
    /// Items not imported.
    pub refused: Vec<Refusal>,
}

/// A STIX pattern string literal: quoted, with `\` and `'` escaped (STIX 2.1 §9.3).
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A timestamp as STIX writes it, to the millisecond (`2016-04-28T08:00:05.000Z`).
pub fn stix_time(ts: jiff::Timestamp) -> String {
    Timestamp::from_instant(ts, 3).to_string()
}

/// The TLP 2.0 marking-definition object of a level, to ship beside the objects it marks.
pub(crate) fn marking_object(level: TlpLevel) -> Object {
    let json = level.tlp2_marking_definition_json();
    Object {
        id: level.tlp2_id().to_owned(),
        type_name: "marking-definition",
        version: Timestamp::parse("2022-10-01T00:00:00.000Z").ok(),
        tlp: TlpLevel::Clear,
        json,
    }
}

/// Properties an import sets from the clock or the source's timestamps: two versions that
/// differ only in them say the same thing.
const TIME_PROPERTIES: &[&str] = &["created", "modified", "valid_from"];

/// What to store for `new_json` when the collection's latest version of the same id is
/// `existing_json`: `None` when nothing changed (the same version, or the same content
/// apart from [`TIME_PROPERTIES`]), else the JSON of the next version. That version keeps
/// the stored `created` (STIX 2.1 §3.6: `created` is the same in every version) and gets a
/// `modified` later than the stored one, so it is the newest.
pub fn next_version(new_json: &str, existing_json: &str) -> Option<String> {
    if same_apart_from_time(new_json, existing_json) {
        return None;
    }
    let Ok(Value::Object(mut new)) = serde_json::from_str::<Value>(new_json) else {
        return Some(new_json.to_owned());
    };
    let Ok(Value::Object(old)) = serde_json::from_str::<Value>(existing_json) else {
        return Some(new_json.to_owned());
    };
    let stamp = |m: &Map<String, Value>, k: &str| {
        m.get(k)
            .and_then(Value::as_str)
            .and_then(|s| Timestamp::parse(s).ok())
    };
    let (new_modified, old_modified) = (stamp(&new, "modified"), stamp(&old, "modified"));
    if new_modified.is_some() && new_modified == old_modified {
        return None;
    }
    let strip = |m: &Map<String, Value>| {
        let mut m = m.clone();
        for k in TIME_PROPERTIES {
            m.remove(*k);
        }
        m
    };
    if strip(&new) == strip(&old) {
        return None;
    }
    if let (Some(created), true) = (old.get("created"), new.contains_key("created")) {
        new.insert("created".into(), created.clone());
    }
    if let (Some(n), Some(o)) = (new_modified, old_modified)
        && n.cmp_instant(&o) != std::cmp::Ordering::Greater
    {
        let later = o
            .instant()
            .checked_add(jiff::SignedDuration::from_millis(1))
            .unwrap_or(o.instant());
        new.insert("modified".into(), stix_time(later).into());
    }
    Some(serde_json::to_string(&new).unwrap_or_else(|_| new_json.to_owned()))
}

/// Whether two JSON objects have the same properties with the same text apart from
/// [`TIME_PROPERTIES`]: the quick answer for a re-import, where the stored text is what the
/// same mapping wrote before. It reads each object once without building values (a
/// `serde_json::Value` of both, cloned and compared, was most of a re-import's time);
/// `false` only means "not shown equal" (other spacing, escaped keys), and the caller then
/// compares values.
fn same_apart_from_time(a: &str, b: &str) -> bool {
    type Props<'a> = std::collections::BTreeMap<&'a str, &'a serde_json::value::RawValue>;
    let (Ok(x), Ok(y)) = (
        serde_json::from_str::<Props<'_>>(a),
        serde_json::from_str::<Props<'_>>(b),
    ) else {
        return false;
    };
    let kept = |(k, _): &(&&str, &&serde_json::value::RawValue)| !TIME_PROPERTIES.contains(*k);
    let mut xs = x.iter().filter(kept);
    let mut ys = y.iter().filter(kept);
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return true,
            (Some((kx, vx)), Some((ky, vy))) if kx == ky && vx.get() == vy.get() => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_backslash_and_quote() {
        assert_eq!(quote(r"a'b\c"), r"'a\'b\\c'");
        let pattern = format!("[file:name = {}]", quote(r"it's\here"));
        assert!(pattern::validate(&pattern, pattern::StixVersion::V21).is_ok());
    }

    #[test]
    fn next_version_keeps_created_and_moves_modified_forward() {
        let old = r#"{"id":"x","created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","valid_from":"2020-01-01T00:00:00.000Z","name":"a"}"#;
        let same = r#"{"id":"x","created":"2019-01-01T00:00:00.000Z","modified":"2019-01-01T00:00:00.000Z","valid_from":"2019-01-01T00:00:00.000Z","name":"a"}"#;
        assert_eq!(next_version(same, old), None);
        let renamed = same.replace(r#""name":"a""#, r#""name":"b""#);
        let next = next_version(&renamed, old).unwrap_or_default();
        assert!(
            next.contains(r#""created":"2020-01-01T00:00:00.000Z""#),
            "{next}"
        );
        assert!(
            next.contains(r#""modified":"2020-01-01T00:00:00.001Z""#),
            "{next}"
        );
        assert!(next.contains(r#""name":"b""#));
        // Same version: unchanged whatever the content.
        assert_eq!(next_version(old, old), None);
    }

    #[test]
    fn quick_comparison_agrees_with_values() {
        let old =
            r#"{"id":"x","created":"2020-01-01T00:00:00.000Z","name":"a","labels":["p","q"]}"#;
        // Same text apart from the time: equal at once.
        let same =
            r#"{"id":"x","created":"2021-01-01T00:00:00.000Z","name":"a","labels":["p","q"]}"#;
        assert!(same_apart_from_time(same, old));
        assert_eq!(next_version(same, old), None);
        // Other spacing: not shown equal quickly, but equal as values.
        let spaced = r#"{"id": "x", "name": "a", "labels": ["p", "q"], "created": "2021-01-01T00:00:00.000Z"}"#;
        assert!(!same_apart_from_time(spaced, old));
        assert_eq!(next_version(spaced, old), None);
        // A changed, added or removed property is a change.
        for changed in [
            r#"{"id":"x","created":"2021-01-01T00:00:00.000Z","name":"b","labels":["p","q"]}"#,
            r#"{"id":"x","created":"2021-01-01T00:00:00.000Z","name":"a","labels":["p","q"],"x_y":1}"#,
            r#"{"id":"x","created":"2021-01-01T00:00:00.000Z","name":"a"}"#,
        ] {
            assert!(!same_apart_from_time(changed, old), "{changed}");
            assert!(next_version(changed, old).is_some(), "{changed}");
        }
    }

    #[test]
    fn stix_time_has_milliseconds() {
        let ts = jiff::Timestamp::from_second(1461830405).unwrap_or_default();
        assert_eq!(stix_time(ts), "2016-04-28T08:00:05.000Z");
    }
}
