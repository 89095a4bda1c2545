//! Traffic Light Protocol levels and the marking-definition ids that carry them.
//!
//! Three id schemes are in use (see `shared/notes/standards.md`):
//! - TLP 2.0 from `oasis-open/cti-stix-common-objects`: five fixed marking definitions
//!   carrying the `extension-definition--60a3c5c5-…` property extension. entente emits
//!   these.
//! - TLP 1.0, predefined by STIX 2.1 §7.2.1.4 (`definition_type: "tlp"`); WHITE maps to
//!   CLEAR.
//! - OpenCTI's own AMBER+STRICT statement marking (`…826578e1-…`), with CLEAR reusing the
//!   1.0 WHITE id.
//!
//! The server's access policy works on [`TlpLevel`] only, so every scheme maps to one
//! level here.

use std::fmt;
use std::str::FromStr;

use crate::object::{Location, StixObject};

/// The TLP 2.0 property-extension definition id.
pub const TLP2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// A TLP level, ordered from least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlpLevel {
    /// TLP:CLEAR (TLP 1.0 WHITE): no limit on disclosure.
    Clear,
    /// TLP:GREEN: the recipient's community.
    Green,
    /// TLP:AMBER: the recipient's organization and its clients.
    Amber,
    /// TLP:AMBER+STRICT: the recipient's organization only.
    AmberStrict,
    /// TLP:RED: named individual recipients only.
    Red,
}

/// Which publication an id comes from, so importers can log what scheme a feed uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlpScheme {
    /// The TLP 2.0 ids of `oasis-open/cti-stix-common-objects`.
    Tlp2,
    /// The TLP 1.0 ids predefined by STIX 2.1 §7.2.1.4.
    Tlp1,
    /// OpenCTI's AMBER+STRICT statement marking.
    OpenCti,
}

/// The five TLP 2.0 marking-definition ids, by level.
pub const TLP2_IDS: [(TlpLevel, &str); 5] = [
    (
        TlpLevel::Clear,
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    ),
    (
        TlpLevel::Green,
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    ),
    (
        TlpLevel::Amber,
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    ),
    (
        TlpLevel::AmberStrict,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    ),
    (
        TlpLevel::Red,
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    ),
];

/// The four TLP 1.0 marking-definition ids (STIX 2.1 §7.2.1.4), by level.
pub const TLP1_IDS: [(TlpLevel, &str); 4] = [
    (
        TlpLevel::Clear,
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    ),
    (
        TlpLevel::Green,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    ),
    (
        TlpLevel::Amber,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    ),
    (
        TlpLevel::Red,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    ),
];

/// OpenCTI's TLP:AMBER+STRICT statement marking id.
pub const OPENCTI_AMBER_STRICT_ID: &str =
    "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37";

impl TlpLevel {
    /// All levels, least restrictive first.
    pub const ALL: [TlpLevel; 5] = [
        TlpLevel::Clear,
        TlpLevel::Green,
        TlpLevel::Amber,
        TlpLevel::AmberStrict,
        TlpLevel::Red,
    ];

    /// The level's TLP 2.0 value as used in the extension (`clear`, `amber+strict`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TlpLevel::Clear => "clear",
            TlpLevel::Green => "green",
            TlpLevel::Amber => "amber",
            TlpLevel::AmberStrict => "amber+strict",
            TlpLevel::Red => "red",
        }
    }

    /// The written label, e.g. `TLP:AMBER+STRICT`.
    pub fn label(self) -> &'static str {
        match self {
            TlpLevel::Clear => "TLP:CLEAR",
            TlpLevel::Green => "TLP:GREEN",
            TlpLevel::Amber => "TLP:AMBER",
            TlpLevel::AmberStrict => "TLP:AMBER+STRICT",
            TlpLevel::Red => "TLP:RED",
        }
    }

    /// The TLP 2.0 marking-definition id entente emits for this level.
    pub fn tlp2_id(self) -> &'static str {
        TLP2_IDS
            .iter()
            .find(|(l, _)| *l == self)
            .map(|(_, id)| *id)
            .unwrap_or(TLP2_IDS[0].1)
    }

    /// The official TLP 2.0 marking-definition object for this level, as compact JSON in
    /// the property order of `oasis-open/cti-stix-common-objects`. Documents entente
    /// emits include it, because TLP 2.0 markings are not predefined by STIX 2.1.
    pub fn tlp2_marking_definition_json(self) -> String {
        format!(
            concat!(
                r#"{{"type":"marking-definition","spec_version":"2.1","id":"{id}","#,
                r#""created":"2022-10-01T00:00:00.000Z","name":"{name}","extensions":"#,
                r#"{{"{ext}":{{"extension_type":"property-extension","tlp_2_0":"{level}"}}}}}}"#
            ),
            id = self.tlp2_id(),
            name = self.label(),
            ext = TLP2_EXTENSION_ID,
            level = self.as_str(),
        )
    }

    /// [`TlpLevel::tlp2_marking_definition_json`] as a parsed object.
    pub fn tlp2_marking_definition(self) -> StixObject {
        let text = self.tlp2_marking_definition_json();
        // The text is fixed and well formed; the empty-map fallback only keeps this total.
        let json = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let len = text.len();
        StixObject::new(
            json,
            std::sync::Arc::from(text),
            0..len,
            Location::default(),
        )
    }

    /// Recognises a marking-definition id from any known scheme.
    pub fn from_marking_id(id: &str) -> Option<(TlpLevel, TlpScheme)> {
        if let Some((l, _)) = TLP2_IDS.iter().find(|(_, i)| *i == id) {
            return Some((*l, TlpScheme::Tlp2));
        }
        if let Some((l, _)) = TLP1_IDS.iter().find(|(_, i)| *i == id) {
            return Some((*l, TlpScheme::Tlp1));
        }
        (id == OPENCTI_AMBER_STRICT_ID).then_some((TlpLevel::AmberStrict, TlpScheme::OpenCti))
    }

    /// Reads the level a marking-definition object itself declares: the TLP 2.0
    /// extension's `tlp_2_0`, or TLP 1.0's `definition.tlp`. Does not look at the id.
    pub fn from_marking_definition(obj: &StixObject) -> Option<TlpLevel> {
        let json = obj.json();
        if json.get("type").and_then(|v| v.as_str()) != Some("marking-definition") {
            return None;
        }
        if let Some(level) = json
            .get("extensions")
            .and_then(|e| e.get(TLP2_EXTENSION_ID))
            .and_then(|e| e.get("tlp_2_0"))
            .and_then(|v| v.as_str())
        {
            return level.parse().ok();
        }
        if json.get("definition_type").and_then(|v| v.as_str()) == Some("tlp") {
            return json
                .get("definition")
                .and_then(|d| d.get("tlp"))
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse().ok());
        }
        None
    }

    /// The most restrictive TLP level among an object's `object_marking_refs`, recognised
    /// by id.
    pub fn of_object(obj: &StixObject) -> Option<TlpLevel> {
        obj.object_marking_refs()
            .filter_map(|id| TlpLevel::from_marking_id(id).map(|(l, _)| l))
            .max()
    }
}

/// A TLP level name that is not recognised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown TLP level {0:?}")]
pub struct UnknownTlpLevel(pub String);

impl FromStr for TlpLevel {
    type Err = UnknownTlpLevel;
    /// Accepts `clear`/`white`, `green`, `amber`, `amber+strict`, `red`, case-insensitive,
    /// with or without a `TLP:` prefix.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let bare = lower.strip_prefix("tlp:").unwrap_or(&lower);
        Ok(match bare {
            "clear" | "white" => TlpLevel::Clear,
            "green" => TlpLevel::Green,
            "amber" => TlpLevel::Amber,
            "amber+strict" => TlpLevel::AmberStrict,
            "red" => TlpLevel::Red,
            _ => return Err(UnknownTlpLevel(s.to_owned())),
        })
    }
}

impl fmt::Display for TlpLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}
