//! What the web UI's indexes need of one object, read from its JSON once, in Rust.
//!
//! Migration 3 computed these inside SQLite: a generated `created_by` column (a
//! `json_valid` and a `json_extract` of the whole body for every index write), and per
//! write transaction an `INSERT … SELECT` of the full-text columns (`json_valid` plus four
//! `json_extract`s) and of the references (`json_valid` plus two `json_each` walks), so each
//! stored object was parsed about eight times. Now each body is parsed at most once on each
//! side: `objects::add_digested` reads the references and the producer with
//! [`Fields::for_store`] and writes them itself (migration 8 made `created_by` a plain
//! column), and the full-text indexer (`fulltext.rs`) reads the text with [`Fields::of`].
//! The values are the ones those SQL expressions gave:
//!
//! - the first occurrence of a property counts (`json_extract` finds the first); every
//!   occurrence of a reference property counts (`json_each` lists them all);
//! - a string is its unescaped text, `null` is no value, any other value its JSON text;
//! - a body that is not a JSON object has no fields at all (the SQL indexed only
//!   `json_valid` bodies, and found nothing in one that is not an object).

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// The indexed values of one object.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Fields {
    /// `created_by_ref`.
    pub(super) created_by: Option<String>,
    /// The full-text columns; `None` when the body is not a JSON object.
    pub(super) text: Option<Text>,
    /// The STIX ids the object refers to (`source_ref`, `target_ref`, `sighting_of_ref`,
    /// and the elements of `object_refs`, `where_sighted_refs`, `observed_data_refs`), as
    /// they occur; the table's primary key drops repeats.
    pub(super) refs: Vec<String>,
}

/// The columns of `objects_fts`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Text {
    /// `name`, or an SCO's `value` when there is no name.
    pub(super) name: Option<String>,
    pub(super) description: Option<String>,
    pub(super) pattern: Option<String>,
}

impl Fields {
    /// Reads the fields of `json`; a body that is not a JSON object has none.
    pub(super) fn of(json: &str) -> Fields {
        let Ok(raw) = serde_json::from_str::<Raw<'_>>(json) else {
            return Fields::default();
        };
        let name = raw.name.and_then(text).or_else(|| raw.value.and_then(text));
        Fields {
            created_by: raw.created_by.and_then(text),
            text: Some(Text {
                name,
                description: raw.description.and_then(text),
                pattern: raw.pattern.and_then(text),
            }),
            refs: raw.refs,
        }
    }
}

impl Fields {
    /// The fields the store's write path uses, `created_by` and `refs` (`text` is `None`:
    /// the full-text index reads bodies on its own thread, `sqlite/fulltext.rs`). Every key
    /// they come from ends in `_ref` or `_refs`, so a body without `_ref` in its text and
    /// without a `\u` escape (which could spell those letters in a key) has none and is not
    /// parsed: most indicators and SCOs, whose parse was ~5% of the writer's CPU.
    pub(super) fn for_store(json: &str) -> Fields {
        if !json.contains("_ref") && !json.contains("\\u") {
            return Fields::default();
        }
        Fields {
            text: None,
            ..Fields::of(json)
        }
    }
}

/// A property's value as `json_extract` returns it: a string's text, nothing for `null`,
/// the JSON text of anything else.
fn text(v: &RawValue) -> Option<String> {
    let s = v.get();
    match s.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<String>(s).ok(),
        Some(b'n') if s == "null" => None,
        _ => Some(s.to_owned()),
    }
}

/// The properties read, borrowed from the body.
#[derive(Default)]
struct Raw<'a> {
    name: Option<&'a RawValue>,
    value: Option<&'a RawValue>,
    description: Option<&'a RawValue>,
    pattern: Option<&'a RawValue>,
    created_by: Option<&'a RawValue>,
    refs: Vec<String>,
}

/// The property names that matter; everything else is skipped unparsed.
enum Key {
    Name,
    Value,
    Description,
    Pattern,
    CreatedBy,
    /// A property holding one reference.
    Ref,
    /// A property holding a list of references.
    RefList,
    Other,
}

impl Key {
    fn of(name: &str) -> Key {
        match name {
            "name" => Key::Name,
            "value" => Key::Value,
            "description" => Key::Description,
            "pattern" => Key::Pattern,
            "created_by_ref" => Key::CreatedBy,
            "source_ref" | "target_ref" | "sighting_of_ref" => Key::Ref,
            "object_refs" | "where_sighted_refs" | "observed_data_refs" => Key::RefList,
            _ => Key::Other,
        }
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a property name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key::of(v))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Raw<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Raw<'de>, D::Error> {
        struct RawVisitor;
        impl<'de> Visitor<'de> for RawVisitor {
            type Value = Raw<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw<'de>, A::Error> {
                let mut raw = Raw::default();
                while let Some(key) = map.next_key::<Key>()? {
                    let slot = match key {
                        Key::Name => &mut raw.name,
                        Key::Value => &mut raw.value,
                        Key::Description => &mut raw.description,
                        Key::Pattern => &mut raw.pattern,
                        Key::CreatedBy => &mut raw.created_by,
                        Key::Ref => {
                            // `json_each` keeps only string references (`p.type = 'text'`).
                            let v: &RawValue = map.next_value()?;
                            if let Ok(s) = serde_json::from_str::<String>(v.get()) {
                                raw.refs.push(s);
                            }
                            continue;
                        }
                        Key::RefList => {
                            let v: &RawValue = map.next_value()?;
                            if let Ok(list) =
                                serde_json::from_str::<Vec<serde_json::Value>>(v.get())
                            {
                                raw.refs.extend(list.into_iter().filter_map(|e| match e {
                                    serde_json::Value::String(s) => Some(s),
                                    _ => None,
                                }));
                            }
                            continue;
                        }
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    let v: &RawValue = map.next_value()?;
                    // The first occurrence counts, as `json_extract` finds it.
                    if slot.is_none() {
                        *slot = Some(v);
                    }
                }
                Ok(raw)
            }
        }
        d.deserialize_map(RawVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    /// The values the SQL of migration 3 computed for `json`, for comparison.
    fn by_sql(json: &str) -> Fields {
        let conn = Connection::open_in_memory().unwrap();
        let valid: bool = conn
            .query_row("SELECT json_valid(?1)", [json], |r| r.get(0))
            .unwrap();
        if !valid {
            return Fields::default();
        }
        let get = |sql: &str| -> Option<String> {
            conn.query_row(sql, [json], |r| {
                r.get::<_, Option<rusqlite::types::Value>>(0)
            })
            .unwrap()
            .map(|v| match v {
                rusqlite::types::Value::Text(s) => s,
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Real(f) => f.to_string(),
                other => format!("{other:?}"),
            })
        };
        let is_object: bool = conn
            .query_row("SELECT json_type(?1) = 'object'", [json], |r| r.get(0))
            .unwrap();
        let mut refs: Vec<String> = conn
            .prepare(
                "SELECT p.value FROM json_each(?1) AS p
                 WHERE p.key IN ('source_ref', 'target_ref', 'sighting_of_ref') AND p.type = 'text'
                 UNION ALL
                 SELECT e.value FROM json_each(?1) AS p, json_each(p.value) AS e
                 WHERE p.key IN ('object_refs', 'where_sighted_refs', 'observed_data_refs')
                   AND p.type = 'array' AND e.type = 'text'",
            )
            .unwrap()
            .query_map([json], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        refs.sort();
        Fields {
            created_by: get("SELECT json_extract(?1, '$.created_by_ref')"),
            text: is_object.then(|| Text {
                name: get(
                    "SELECT coalesce(json_extract(?1, '$.name'), json_extract(?1, '$.value'))",
                ),
                description: get("SELECT json_extract(?1, '$.description')"),
                pattern: get("SELECT json_extract(?1, '$.pattern')"),
            }),
            refs,
        }
    }

    fn check(json: &str) {
        let mut ours = Fields::of(json);
        ours.refs.sort();
        assert_eq!(ours, by_sql(json), "{json}");
    }

    #[test]
    fn agrees_with_the_sql_it_replaced() {
        for json in [
            r#"{"type":"indicator","id":"indicator--1","name":"bad","pattern":"[ipv4-addr:value = '198.51.100.7']","created_by_ref":"identity--a"}"#,
            r#"{"type":"ipv4-addr","value":"198.51.100.7"}"#,
            r#"{"type":"x","name":null,"value":"v"}"#,
            r#"{"type":"x","name":"caf\u00e9 \"q\"","description":"line\nbreak"}"#,
            r#"{"type":"relationship","source_ref":"indicator--2","target_ref":"malware--1","created_by_ref":null}"#,
            r#"{"type":"report","object_refs":["malware--1","indicator--2",3,null,"malware--1"],"name":"r"}"#,
            r#"{"type":"sighting","sighting_of_ref":"indicator--1","where_sighted_refs":["identity--b"],"observed_data_refs":"not a list"}"#,
            r#"{"type":"x","source_ref":7,"object_refs":{"a":"b"}}"#,
            r#"{"type":"x","name":"first","name":"second"}"#,
            r#"{"type":"x","extensions":{"e":{"name":"nested","source_ref":"inner"}}}"#,
            r#" { "type" : "x" , "name" : "spaced" } "#,
            r#"{}"#,
            r#"[1,2]"#,
            r#""just a string""#,
            "not json",
            r#"{"name":"unterminated""#,
        ] {
            check(json);
        }
    }

    /// What the write path reads is what [`Fields::of`] reads, parsed or not, also for
    /// keys spelled with escapes.
    #[test]
    fn the_store_fields_are_those_of_the_full_parse() {
        for json in [
            r#"{"type":"indicator","id":"indicator--1","name":"bad","pattern":"[ipv4-addr:value = '198.51.100.7']","created_by_ref":"identity--a"}"#,
            r#"{"type":"indicator","name":"no refs at all","pattern":"[x:y = 'z']"}"#,
            r#"{"type":"relationship","source_ref":"indicator--2","target_ref":"malware--1"}"#,
            r#"{"type":"report","object_refs":["malware--1","indicator--2"]}"#,
            r#"{"type":"x","created_by_re\u0066":"identity--escaped","source_\u0072ef":"malware--2"}"#,
            r#"{"type":"x","name":"caf\u00e9"}"#,
            r#"[1,2]"#,
            "not json",
        ] {
            let all = Fields::of(json);
            let store = Fields::for_store(json);
            assert_eq!(store.created_by, all.created_by, "{json}");
            assert_eq!(store.refs, all.refs, "{json}");
            assert_eq!(store.text, None, "{json}");
        }
        let escaped = Fields::for_store(
            r#"{"created_by_re\u0066":"identity--escaped","source_\u0072ef":"malware--2"}"#,
        );
        assert_eq!(escaped.created_by.as_deref(), Some("identity--escaped"));
        assert_eq!(escaped.refs, ["malware--2"]);
    }

    #[test]
    fn non_string_values_are_their_json_text() {
        let f = Fields::of(r#"{"name":12,"description":true,"pattern":["a"]}"#);
        let t = f.text.unwrap();
        assert_eq!(t.name.as_deref(), Some("12"));
        assert_eq!(t.description.as_deref(), Some("true"));
        assert_eq!(t.pattern.as_deref(), Some(r#"["a"]"#));
    }
}
