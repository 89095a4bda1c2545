//! STIX identifiers (§2.9) and deterministic SCO identifiers (§2.9, §6).
//!
//! An identifier is `<object-type>--<UUID>`. SCOs whose type names ID contributing
//! properties get a UUIDv5 in the STIX namespace computed over the RFC 8785 (JCS)
//! canonical JSON of those properties, so two producers observing the same thing mint
//! the same id.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::object::StixObject;
use crate::spec::Category;

/// The UUIDv5 namespace for deterministic SCO ids (STIX 2.1 §2.9).
pub const SCO_NAMESPACE: Uuid = Uuid::from_bytes([
    0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7,
]);

/// Why a string is not a STIX identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// No `--` separator.
    #[error("not of the form <type>--<uuid>")]
    Shape,
    /// The type part is not a valid type name.
    #[error("invalid object type {0:?} in identifier")]
    Type(String),
    /// The UUID part is not a canonical lowercase-or-uppercase hyphenated RFC 4122 UUID.
    #[error("invalid UUID {0:?} in identifier")]
    Uuid(String),
}

/// A parsed identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identifier<'a> {
    /// The object type before `--`.
    pub type_name: &'a str,
    /// The UUID after `--`.
    pub uuid: Uuid,
}

/// Parses `type--uuid` (STIX 2.1 §2.9). The UUID must be in hyphenated form and be an
/// RFC 4122 UUID (variant bits `10`), as the JSON schemas require.
pub fn parse_identifier(s: &str) -> Result<Identifier<'_>, IdError> {
    let (type_name, uuid) = s.split_once("--").ok_or(IdError::Shape)?;
    // A type may itself not contain "--" (§3.1), so the first "--" is the separator.
    if !is_valid_type_name(type_name) {
        return Err(IdError::Type(type_name.to_owned()));
    }
    if uuid.len() != 36 {
        return Err(IdError::Uuid(uuid.to_owned()));
    }
    let parsed = Uuid::try_parse(uuid).map_err(|_| IdError::Uuid(uuid.to_owned()))?;
    if parsed.get_variant() != uuid::Variant::RFC4122 {
        return Err(IdError::Uuid(uuid.to_owned()));
    }
    Ok(Identifier {
        type_name,
        uuid: parsed,
    })
}

/// Whether `t` is a valid object type name: ASCII `a-z`, `0-9` and `-`, 3–250 characters,
/// starting with a letter, no `--` (STIX 2.1 §3.1, §11.2).
pub fn is_valid_type_name(t: &str) -> bool {
    let b = t.as_bytes();
    (3..=250).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !t.contains("--")
}

/// Computes the deterministic id an SCO should have (STIX 2.1 §2.9): UUIDv5 in
/// [`SCO_NAMESPACE`] over the JCS form of its ID contributing properties.
///
/// Returns `None` for non-SCOs, for SCO types without ID contributing properties
/// (`process`), and for objects that have none of them (they get a UUIDv4 instead).
pub fn deterministic_sco_id(obj: &StixObject) -> Option<String> {
    let spec = obj.spec()?;
    if spec.category != Category::Sco || spec.id_contributing.is_empty() {
        return None;
    }
    let json = obj.json();
    let mut contributing: BTreeMap<&str, Value> = BTreeMap::new();
    let mut chosen_hash = Map::new();
    for &name in spec.id_contributing {
        let Some(value) = json.get(name) else {
            continue;
        };
        if name == "hashes" {
            // STIX 2.1 §2.9: of the hashes, only one contributes, by preference MD5,
            // SHA-1, SHA-256, SHA-512, else the first one given.
            let Some(hashes) = value.as_object() else {
                continue;
            };
            let pick = ["MD5", "SHA-1", "SHA-256", "SHA-512"]
                .iter()
                .find_map(|k| hashes.get_key_value(*k))
                .or_else(|| hashes.iter().next());
            let Some((k, v)) = pick else {
                continue;
            };
            chosen_hash.insert(k.clone(), v.clone());
            contributing.insert(name, Value::Object(std::mem::take(&mut chosen_hash)));
        } else {
            contributing.insert(name, value.clone());
        }
    }
    if contributing.is_empty() {
        return None;
    }
    let canonical = serde_json_canonicalizer::to_string(&contributing).ok()?;
    let uuid = Uuid::new_v5(&SCO_NAMESPACE, canonical.as_bytes());
    Some(format!("{}--{}", spec.name, uuid))
}
