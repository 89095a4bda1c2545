//! Deltas between exports, so that a sensor can be updated without a reload.
//!
//! Every export records the set of values it wrote in a small JSON state file:
//!
//! ```json
//! {"entente_export_state": 1, "format": "zeek-intel", "created": "2026-01-01T00:00:00Z",
//!  "values": {"domain": ["evil.example"], "ip": ["198.51.100.7"]}}
//! ```
//!
//! A later export given that file (`--since`) compares the value sets: values in the new
//! export only are *added*, values in the old one only are *removed*. Values are compared
//! normalized ([`crate::observable`]), so a value that moved from one indicator to another
//! is neither. The formats then write the two lists in their own way (see the CLI's help).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::observable::{Kind, Observable};

/// The state file's format version.
pub const STATE_VERSION: u32 = 1;

/// Why a state file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// It is not the JSON this module writes.
    #[error("not an export state file: {0}")]
    Json(#[from] serde_json::Error),
    /// It was written by a newer (or unknown) version.
    #[error("unsupported export state version {0} (this build reads {STATE_VERSION})")]
    Version(u32),
    /// It records another format's export.
    #[error("the state is of a {found} export, not {expected}")]
    Format {
        /// The format the state records.
        found: String,
        /// The format of this export.
        expected: String,
    },
}

/// What one export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// [`STATE_VERSION`].
    pub entente_export_state: u32,
    /// The format exported (`zeek-intel`, `suricata-dataset`, `csv`).
    pub format: String,
    /// When the export ran (RFC 3339).
    pub created: String,
    /// The exported values by kind.
    pub values: BTreeMap<Kind, BTreeSet<String>>,
}

impl State {
    /// The state of an export of `values` in `format` at `created`.
    pub fn new<'a>(
        format: &str,
        created: String,
        values: impl IntoIterator<Item = &'a Observable>,
    ) -> State {
        // Gathered per kind and sorted once: inserting a million values one by one into
        // ordered sets cost more than the rest of building the state.
        let mut lists: BTreeMap<Kind, Vec<&str>> = BTreeMap::new();
        for o in values {
            lists.entry(o.kind).or_default().push(&o.value);
        }
        let values = lists
            .into_iter()
            .map(|(kind, mut list)| {
                list.sort_unstable();
                list.dedup();
                (kind, list.into_iter().map(str::to_owned).collect())
            })
            .collect();
        State {
            entente_export_state: STATE_VERSION,
            format: format.to_owned(),
            created,
            values,
        }
    }

    /// Reads a state file's bytes, checking that it records a `format` export.
    pub fn from_json(bytes: &[u8], format: &str) -> Result<State, StateError> {
        let state: State = serde_json::from_slice(bytes)?;
        if state.entente_export_state != STATE_VERSION {
            return Err(StateError::Version(state.entente_export_state));
        }
        if state.format != format {
            return Err(StateError::Format {
                found: state.format,
                expected: format.to_owned(),
            });
        }
        Ok(state)
    }

    /// The state as JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // A map of strings to sorted string sets always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// How many values it records.
    pub fn len(&self) -> usize {
        self.values.values().map(BTreeSet::len).sum()
    }

    /// Whether it records no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Values added and removed from `old` to `new`, each sorted by kind then value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    /// In `new` only.
    pub added: Vec<Observable>,
    /// In `old` only.
    pub removed: Vec<Observable>,
}

/// The delta from `old` to `new`.
pub fn delta(old: &State, new: &State) -> Delta {
    let empty = BTreeSet::new();
    let mut d = Delta::default();
    for kind in Kind::ALL {
        let a = old.values.get(&kind).unwrap_or(&empty);
        let b = new.values.get(&kind).unwrap_or(&empty);
        d.added.extend(b.difference(a).map(|v| Observable {
            kind,
            value: v.clone(),
        }));
        d.removed.extend(a.difference(b).map(|v| Observable {
            kind,
            value: v.clone(),
        }));
    }
    d
}
