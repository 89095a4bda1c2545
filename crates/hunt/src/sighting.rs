//! Sightings: what a hunt reports back to the producers of the indicators.
//!
//! One `sighting` (STIX 2.1 §5.2) per matched indicator: `count` events matched it between
//! `first_seen` and `last_seen` (the events' own times), `sighting_of_ref` names the
//! indicator, and `where_sighted_refs` and `created_by_ref` name the hunter's `identity`
//! (§4.5), which travels in the same bundle.
//!
//! Ids are deterministic: the identity's from its name, a sighting's from the identity, the
//! indicator and what was seen (count and window), so a rerun over the same input yields the
//! same ids, and a run over more input new ones. They are version-4 UUIDs, because STIX 2.1
//! §2.9 says SDO and SRO ids SHOULD be UUIDv4 (`entente validate` warns otherwise), whose
//! 122 free bits are taken from a SHA-1 of the key (name-based UUID computation, then the
//! version and variant bits of v4): RFC 9562 §5.4 asks for random or pseudo-random bits, and
//! a hash of a unique key is as unpredictable as the key.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use uuid::Uuid;

/// entente's namespace for the ids it derives (not the STIX SCO namespace, which is
/// reserved for SCO ids, §2.9).
const ENTENTE_NAMESPACE: Uuid = Uuid::from_u128(0x6f3c_1b7e_2d4a_5e8f_9a01_b2c3_d4e5_f607);

/// The most a sighting's `count` may say (STIX 2.1 §5.2: 0 to 999,999,999).
const MAX_COUNT: u64 = 999_999_999;

/// What was seen of one indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Matching events.
    pub count: u64,
    /// Time of the earliest.
    pub first: jiff::Timestamp,
    /// Time of the latest.
    pub last: jiff::Timestamp,
}

/// Sightings being gathered, per indicator id.
#[derive(Debug, Clone, Default)]
pub struct Sightings {
    seen: BTreeMap<String, Seen>,
}

impl Sightings {
    /// No sightings yet.
    pub fn new() -> Self {
        Sightings::default()
    }

    /// Records that `indicator` matched an event at `time`.
    pub fn record(&mut self, indicator: &str, time: jiff::Timestamp) {
        match self.seen.get_mut(indicator) {
            Some(s) => {
                s.count += 1;
                s.first = s.first.min(time);
                s.last = s.last.max(time);
            }
            None => {
                self.seen.insert(
                    indicator.to_owned(),
                    Seen {
                        count: 1,
                        first: time,
                        last: time,
                    },
                );
            }
        }
    }

    /// How many distinct indicators were seen.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether nothing was seen.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// What was seen, per indicator id (sorted).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Seen)> {
        self.seen.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The bundle: the identity named `identity_name`, then one sighting per indicator,
    /// created at `now`.
    pub fn bundle(&self, identity_name: &str, now: jiff::Timestamp) -> Value {
        let created = millis(now);
        let identity_id = identity_id(identity_name);
        let mut objects = vec![json!({
            "type": "identity",
            "spec_version": "2.1",
            "id": identity_id,
            "created": created,
            "modified": created,
            "name": identity_name,
            "identity_class": "organization",
        })];
        for (indicator, seen) in &self.seen {
            let first = seen.first.to_string();
            let last = seen.last.to_string();
            let count = seen.count.min(MAX_COUNT);
            let key = format!("{identity_id}\n{indicator}\n{count}\n{first}\n{last}");
            let id = format!("sighting--{}", derived_v4(&key));
            let mut s = Map::new();
            s.insert("type".into(), "sighting".into());
            s.insert("spec_version".into(), "2.1".into());
            s.insert("id".into(), id.into());
            s.insert("created_by_ref".into(), identity_id.clone().into());
            s.insert("created".into(), created.clone().into());
            s.insert("modified".into(), created.clone().into());
            s.insert("first_seen".into(), first.into());
            s.insert("last_seen".into(), last.into());
            s.insert("count".into(), count.into());
            s.insert("sighting_of_ref".into(), indicator.clone().into());
            s.insert("where_sighted_refs".into(), json!([identity_id]));
            objects.push(Value::Object(s));
        }
        let bundle_key = objects
            .iter()
            .filter_map(|o| o.get("id").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n");
        json!({
            "type": "bundle",
            "id": format!("bundle--{}", derived_v4(&bundle_key)),
            "objects": objects,
        })
    }
}

/// The deterministic id of the hunter's identity.
pub fn identity_id(name: &str) -> String {
    format!("identity--{}", derived_v4(&format!("identity\n{name}")))
}

/// A version-4 UUID whose free bits come from a SHA-1 of `key` (see the module docs).
fn derived_v4(key: &str) -> Uuid {
    let bytes = *Uuid::new_v5(&ENTENTE_NAMESPACE, key.as_bytes()).as_bytes();
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A timestamp with exactly millisecond precision (STIX 2.1 §3.2: `created` and `modified`
/// must be precise to the millisecond).
fn millis(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
