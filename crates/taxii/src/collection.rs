//! The collections and collection resources (TAXII 2.1 §5.1, §5.2).
//!
//! `can_read` and `can_write` describe the *requester's* rights, not the collection's
//! policy: two users asking for the same collection may see different values (§5.2.1).

use serde::{Deserialize, Serialize};

/// `GET /{api_root}/collections/{id}/` (TAXII 2.1 §5.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// The collection's identifier (required); a UUID on this server.
    pub id: String,
    /// A human-readable plain-text title (required).
    pub title: String,
    /// A human-readable plain-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A human-readable collection name usable instead of the id in URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Whether the requester may read objects from the collection (required).
    pub can_read: bool,
    /// Whether the requester may write objects to the collection (required).
    pub can_write: bool,
    /// The media types of the objects the collection holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_types: Vec<String>,
}

/// `GET /{api_root}/collections/` (TAXII 2.1 §5.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collections {
    /// The collections the requester may see. Always present in this server's answers, even
    /// when empty, which §5.1.1 allows and clients handle more simply.
    #[serde(default)]
    pub collections: Vec<Collection>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_minimal_collections() {
        let c: Collections = serde_json::from_str("{}").unwrap();
        assert!(c.collections.is_empty());
        let c: Collections = serde_json::from_str(
            r#"{"collections":[{"id":"x","title":"t","can_read":true,"can_write":false}]}"#,
        )
        .unwrap();
        assert_eq!(c.collections[0].id, "x");
        assert!(c.collections[0].media_types.is_empty());
    }
}
