//! Generic NDJSON through a mapping file.
//!
//! The mapping is a JSON file naming the time field and, for each record field, the STIX
//! object path it fills:
//!
//! ```json
//! {"time": "ts",
//!  "fields": {"src": "ipv4-addr:value", "qname": "domain-name:value",
//!             "sha": "file:hashes.'SHA-256'", "fname": "file:name"}}
//! ```
//!
//! JSON rather than TOML because every input it applies to is JSON already and the crate
//! then needs no further parser. A record field is found by its exact key first, then as a
//! dotted path into nested objects (`"dns.rrname"`). A path ending in `:value` on a
//! single-valued SCO type (`ipv4-addr`, `ipv6-addr`, `domain-name`, `url`, `email-addr`,
//! `mac-addr`) makes one SCO per field value (an IPv6 text under `ipv4-addr` becomes an
//! `ipv6-addr`, so one mapping serves both); any other path fills a property of the one SCO
//! of that type per record (`file:name` and `file:hashes.'SHA-256'` build one `file`).
//! Property steps are separated by `.`; a step may be quoted with `'` as in STIX patterns.

use std::path::Path;

use serde_json::{Map, Value};

use crate::Error;
use crate::event::{Event, ObservationBuilder, Source};
use crate::reader::time;

/// Single-valued SCO types whose `value` is their whole identity (STIX 2.1 §6).
const VALUE_TYPES: &[&str] = &[
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "url",
    "email-addr",
    "mac-addr",
];

/// One mapped field.
#[derive(Debug, Clone)]
struct Field {
    /// The record key or dotted path.
    key: String,
    /// The SCO type.
    object_type: String,
    /// The property steps after the colon.
    steps: Vec<String>,
}

/// A parsed mapping file (see the module docs).
#[derive(Debug, Clone)]
pub struct Mapping {
    time: String,
    fields: Vec<Field>,
}

impl Mapping {
    /// Reads a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Mapping::parse(&text).map_err(|message| Error::Mapping {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses the mapping's JSON text.
    pub fn parse(text: &str) -> Result<Mapping, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        let time = doc
            .get("time")
            .and_then(Value::as_str)
            .ok_or("needs \"time\": the name of the record's time field")?
            .to_owned();
        let fields_doc = doc
            .get("fields")
            .and_then(Value::as_object)
            .ok_or("needs \"fields\": an object of record field -> STIX object path")?;
        let mut fields = Vec::new();
        for (key, path) in fields_doc {
            let path = path
                .as_str()
                .ok_or_else(|| format!("field {key:?}: the object path must be a string"))?;
            let (object_type, props) = path
                .split_once(':')
                .ok_or_else(|| format!("field {key:?}: {path:?} is not type:property"))?;
            if !stix::ids::is_valid_type_name(object_type) {
                return Err(format!(
                    "field {key:?}: {object_type:?} is not a STIX type name"
                ));
            }
            let steps = split_steps(props)
                .ok_or_else(|| format!("field {key:?}: bad property path {props:?}"))?;
            if steps.iter().any(|s| s == "type" || s == "id") && steps.len() == 1 {
                return Err(format!("field {key:?}: type and id are set by the reader"));
            }
            fields.push(Field {
                key: key.clone(),
                object_type: object_type.to_owned(),
                steps,
            });
        }
        if fields.is_empty() {
            return Err("\"fields\" is empty".into());
        }
        Ok(Mapping { time, fields })
    }

    /// Builds the event of one record.
    pub fn event(&self, rec: &Map<String, Value>, source: &Source) -> Result<Event, String> {
        let t = lookup(rec, &self.time).ok_or_else(|| format!("no time field {:?}", self.time))?;
        let time = time::zeek(t).ok_or_else(|| format!("invalid time {t}"))?;
        let mut b = ObservationBuilder::new();
        let mut grouped: Vec<(String, Map<String, Value>)> = Vec::new();
        for f in &self.fields {
            let Some(v) = lookup(rec, &f.key) else {
                continue;
            };
            if v.is_null() {
                continue;
            }
            if f.steps.len() == 1
                && f.steps[0] == "value"
                && VALUE_TYPES.contains(&f.object_type.as_str())
            {
                let items: Vec<&Value> = match v {
                    Value::Array(a) => a.iter().collect(),
                    other => vec![other],
                };
                for item in items {
                    let text = match item {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        _ => continue,
                    };
                    match f.object_type.as_str() {
                        "ipv4-addr" | "ipv6-addr" => {
                            b.ip(&text);
                        }
                        "domain-name" => {
                            b.host(&text);
                        }
                        "url" => {
                            b.value("url", &text);
                        }
                        "email-addr" => {
                            b.value("email-addr", &text);
                        }
                        _ => {
                            b.value("mac-addr", &text.to_ascii_lowercase());
                        }
                    }
                }
                continue;
            }
            let group = match grouped.iter().position(|(t, _)| *t == f.object_type) {
                Some(i) => &mut grouped[i].1,
                None => {
                    grouped.push((f.object_type.clone(), Map::new()));
                    let last = grouped.len() - 1;
                    &mut grouped[last].1
                }
            };
            insert_path(group, &f.steps, v.clone());
        }
        for (object_type, props) in grouped {
            b.object(&object_type, props);
        }
        Ok(Event {
            time,
            observation: b.finish(time, source),
            quiet: None,
            source: source.clone(),
        })
    }
}

/// Splits `hashes.'SHA-256'` into `["hashes", "SHA-256"]`.
fn split_steps(s: &str) -> Option<Vec<String>> {
    let mut steps = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('\'') {
            let end = r.find('\'')?;
            steps.push(r[..end].to_owned());
            rest = &r[end + 1..];
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            if end == 0 {
                return None;
            }
            steps.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
        match rest.strip_prefix('.') {
            Some(r) if !r.is_empty() => rest = r,
            Some(_) => return None,
            None if rest.is_empty() => {}
            None => return None,
        }
    }
    if steps.is_empty() { None } else { Some(steps) }
}

/// Finds `key` in a record: the exact key, else a dotted path into nested objects.
fn lookup<'a>(rec: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if let Some(v) = rec.get(key) {
        return Some(v);
    }
    let mut parts = key.split('.');
    let mut cur = rec.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

/// Sets `steps` in `o` to `v`, creating nested objects on the way.
fn insert_path(o: &mut Map<String, Value>, steps: &[String], v: Value) {
    let Some((last, init)) = steps.split_last() else {
        return;
    };
    let mut cur = o;
    for s in init {
        let entry = cur
            .entry(s.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else {
            return;
        };
        cur = next;
    }
    cur.insert(last.clone(), v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps() {
        assert_eq!(
            split_steps("hashes.'SHA-256'").unwrap(),
            vec!["hashes", "SHA-256"]
        );
        assert_eq!(split_steps("value").unwrap(), vec!["value"]);
        assert!(split_steps("a..b").is_none());
        assert!(split_steps("'open").is_none());
    }
}
