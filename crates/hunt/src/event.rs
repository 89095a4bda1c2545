//! The event model: one telemetry record as a STIX 2.1 observation.
//!
//! An [`Event`] is what every reader yields: where the record came from ([`Source`]), when it
//! happened (taken from the record), and the SCOs it shows, as a JSON document the `matcher`
//! crate reads directly with `matcher::Observations::from_json` (see
//! [`Event::observations`]). Keeping the observation as plain `serde_json::Value`s means the
//! single-pattern evaluator and the compiled multi-indicator matcher take the same input
//! without a conversion layer.
//!
//! The document shape (STIX 2.1 §4.14, observed-data with `object_refs`): a JSON array whose
//! first item is an `observed-data` object (`first_observed` = `last_observed` = the record's
//! time, `number_observed` 1, `object_refs` listing every SCO) followed by the SCOs. The STIX
//! reader passes its input bundle through unchanged, which the matcher reads the same way.
//!
//! SCO ids. Single-valued SCOs (`ipv4-addr`, `ipv6-addr`, `domain-name`, `url`,
//! `email-addr`) get their deterministic id (STIX 2.1 §2.9: UUIDv5 in the SCO namespace over
//! the canonical JSON of the ID contributing property `value`), so equal values share ids
//! across events. Other SCOs get a UUIDv5 of their position in the event: unique within the
//! observation, which is the only scope in which the matcher resolves references (§9.7.4).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The STIX 2.1 §2.9 namespace for deterministic SCO ids.
const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00ab_edb4_aa42_466c_9c01_fed2_3315_a9b7);

/// Where an event was read: the input's name and the 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    /// The input file as given on the command line (shared by all events of the file).
    pub file: Arc<str>,
    /// 1-based line number in the (decompressed) input.
    pub line: u64,
}

/// One telemetry record turned into a STIX observation.
#[derive(Debug, Clone)]
pub struct Event {
    /// Where the record was read.
    pub source: Source,
    /// When it happened, from the record itself.
    pub time: jiff::Timestamp,
    /// The observed-data document (see the module docs for its shape); feed it to
    /// `matcher::Observations::from_json`. `Null` for a quiet event.
    pub observation: Value,
    /// Set when the compiled matcher read the record's text and vouched that no indicator
    /// can match it (`matcher::compiled::CompiledMatcher::quiet_text`, through the reader's
    /// [`crate::engine::QuietFilter`]): the document was never parsed, and only the engine
    /// the filter came from can take the event (it counts it and moves its stream's clock).
    pub quiet: Option<matcher::compiled::Quiet>,
}

impl Event {
    /// The observation as the matcher's input model.
    pub fn observations(&self) -> Result<matcher::Observations<'_>, matcher::Error> {
        matcher::Observations::from_json(&self.observation)
    }

    /// Every SCO of the event (all objects but observed-data and bundles), in document order.
    pub fn scos(&self) -> impl Iterator<Item = &Map<String, Value>> {
        self.sco_values().filter_map(Value::as_object)
    }

    /// Every SCO of the event as JSON values.
    pub fn sco_values(&self) -> impl Iterator<Item = &Value> {
        let items: &[Value] = match &self.observation {
            Value::Array(items) => items,
            Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("bundle") => o
                .get("objects")
                .and_then(Value::as_array)
                .map_or(&[], Vec::as_slice),
            other => std::slice::from_ref(other),
        };
        items
            .iter()
            .flat_map(|item| {
                // A bundle inside the array contributes its objects.
                let inner: &[Value] = match item.get("type").and_then(Value::as_str) {
                    Some("bundle") => item
                        .get("objects")
                        .and_then(Value::as_array)
                        .map_or(&[], Vec::as_slice),
                    _ => std::slice::from_ref(item),
                };
                inner.iter()
            })
            .filter(|o| {
                !matches!(
                    o.get("type").and_then(Value::as_str),
                    Some("observed-data" | "bundle") | None
                )
            })
    }

    /// The SCO with this id, if the event has one.
    pub fn sco(&self, id: &str) -> Option<&Value> {
        self.sco_values()
            .find(|o| o.get("id").and_then(Value::as_str) == Some(id))
    }
}

/// The deterministic id of a SCO whose only ID contributing property is `value`
/// (STIX 2.1 §2.9): UUIDv5 over the canonical JSON `{"value":"…"}`.
pub fn value_sco_id(object_type: &str, value: &str) -> String {
    // RFC 8785 serialises a one-member object with a string value exactly as serde_json's
    // compact writer does (same escapes for quotes, backslashes and control characters).
    let canonical = json!({ "value": value }).to_string();
    format!(
        "{object_type}--{}",
        Uuid::new_v5(&SCO_NAMESPACE, canonical.as_bytes())
    )
}

/// Builds the SCOs of one event, de-duplicating single-valued SCOs so that one value is one
/// object (and so one match) per event.
#[derive(Debug, Default)]
pub struct ObservationBuilder {
    objects: Vec<Map<String, Value>>,
    by_value: HashMap<(&'static str, String), usize>,
}

impl ObservationBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        ObservationBuilder::default()
    }

    /// Whether no SCO was added.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Adds (or finds) a single-valued SCO such as `domain-name` and returns its index.
    pub fn value(&mut self, object_type: &'static str, value: &str) -> usize {
        if let Some(&i) = self.by_value.get(&(object_type, value.to_owned())) {
            return i;
        }
        let mut o = Map::new();
        o.insert("type".into(), Value::from(object_type));
        o.insert("id".into(), Value::from(value_sco_id(object_type, value)));
        o.insert("value".into(), Value::from(value));
        self.objects.push(o);
        let i = self.objects.len() - 1;
        self.by_value.insert((object_type, value.to_owned()), i);
        i
    }

    /// Adds an `ipv4-addr` or `ipv6-addr` (STIX 2.1 §6.13, §6.14) when `text` is an IP
    /// address, and returns its index.
    pub fn ip(&mut self, text: &str) -> Option<usize> {
        match text.trim().parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => Some(self.value("ipv4-addr", &a.to_string())),
            IpAddr::V6(a) => Some(self.value("ipv6-addr", &a.to_string())),
        }
    }

    /// Adds an address when `text` is an IP, else a `domain-name` (§6.6) when it looks like a
    /// host name; anything else (TXT answers, free text) is not an observable and is skipped.
    pub fn host(&mut self, text: &str) -> Option<usize> {
        let text = text.trim();
        if let Some(i) = self.ip(text) {
            return Some(i);
        }
        let name = text.strip_suffix('.').unwrap_or(text);
        if is_host_name(name) {
            Some(self.value("domain-name", &name.to_ascii_lowercase()))
        } else {
            None
        }
    }

    /// Adds a SCO with arbitrary properties (`type` and `id` are set here) and returns its
    /// index.
    pub fn object(&mut self, object_type: &str, mut props: Map<String, Value>) -> usize {
        let n = self.objects.len();
        let id = format!(
            "{object_type}--{}",
            Uuid::new_v5(&SCO_NAMESPACE, format!("entente-hunt-local:{n}").as_bytes())
        );
        props.insert("type".into(), Value::from(object_type));
        props.insert("id".into(), Value::from(id));
        // Keep `type` and `id` first for readable output.
        let mut o = Map::new();
        for k in ["type", "id"] {
            if let Some(v) = props.remove(k) {
                o.insert(k.into(), v);
            }
        }
        o.extend(props);
        self.objects.push(o);
        n
    }

    /// The id of the object at `index`.
    pub fn id(&self, index: usize) -> Value {
        self.objects
            .get(index)
            .and_then(|o| o.get("id"))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Mutable access to the object at `index`, to add properties after the fact.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut Map<String, Value>> {
        self.objects.get_mut(index)
    }

    /// The observed-data document for an event at `time` read from `source`.
    pub fn finish(self, time: jiff::Timestamp, source: &Source) -> Value {
        let stamp = Value::from(time.to_string());
        let refs: Vec<Value> = self
            .objects
            .iter()
            .filter_map(|o| o.get("id").cloned())
            .collect();
        let od_id = format!(
            "observed-data--{}",
            Uuid::new_v5(
                &SCO_NAMESPACE,
                format!("{}:{}", source.file, source.line).as_bytes()
            )
        );
        let mut od = Map::new();
        od.insert("type".into(), Value::from("observed-data"));
        od.insert("spec_version".into(), Value::from("2.1"));
        od.insert("id".into(), Value::from(od_id));
        od.insert("first_observed".into(), stamp.clone());
        od.insert("last_observed".into(), stamp);
        od.insert("number_observed".into(), Value::from(1));
        od.insert("object_refs".into(), Value::Array(refs));
        let mut items = Vec::with_capacity(self.objects.len() + 1);
        items.push(Value::Object(od));
        items.extend(self.objects.into_iter().map(Value::Object));
        Value::Array(items)
    }
}

/// Whether `s` looks like a DNS host name (RFC 1123 labels, underscores tolerated as DNS
/// service names use them), with at least one dot or a single label of letters.
pub fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}
