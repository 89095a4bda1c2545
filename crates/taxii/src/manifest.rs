//! The manifest resource (TAXII 2.1 §5.5): one record per object version, without content.

use serde::{Deserialize, Serialize};

/// A page of manifest records (TAXII 2.1 §5.5.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Whether more records match than this page holds.
    #[serde(default)]
    pub more: bool,
    /// The token for the following page, when `more`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The records, in `date_added` order.
    #[serde(default)]
    pub objects: Vec<ManifestRecord>,
}

/// One object version in a manifest (TAXII 2.1 §5.5.1, `manifest-record`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRecord {
    /// The object's STIX id (required).
    pub id: String,
    /// When the server added this version to the collection (required).
    pub date_added: String,
    /// The version: `modified`, or `created` for objects without it (required).
    pub version: String,
    /// The media type of the object, `application/stix+json;version=2.1` here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}
