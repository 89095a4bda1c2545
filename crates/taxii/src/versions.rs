//! The versions resource (TAXII 2.1 §5.8): the versions of one object in a collection.

use serde::{Deserialize, Serialize};

/// `GET .../objects/{object_id}/versions/` (TAXII 2.1 §5.8.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    /// Whether more versions match than this page holds.
    #[serde(default)]
    pub more: bool,
    /// The token for the following page, when `more`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The versions (`modified` timestamps), oldest added first.
    #[serde(default)]
    pub versions: Vec<String>,
}
