//! The API root resource (TAXII 2.1 §4.2): one independent TAXII API on the server.
//!
//! `max_content_length` is the largest request body, in bytes, the server accepts on this
//! root; a body above it is answered 413 (§4.2.1, §5.4).

use serde::{Deserialize, Serialize};

/// `GET /{api_root}/` (TAXII 2.1 §4.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRoot {
    /// A human-readable plain-text name for this API root (required).
    pub title: String,
    /// A human-readable plain-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The TAXII versions this API root supports, as media types (required); must include
    /// `application/taxii+json;version=2.1`.
    pub versions: Vec<String>,
    /// The largest request body, in octets, the server accepts (required).
    pub max_content_length: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::TAXII_21;

    #[test]
    fn roundtrip() {
        let r = ApiRoot {
            title: "default".into(),
            description: None,
            versions: vec![TAXII_21.into()],
            max_content_length: 10,
        };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"title":"default","versions":["application/taxii+json;version=2.1"],"max_content_length":10}"#
        );
        assert_eq!(serde_json::from_str::<ApiRoot>(&text).unwrap(), r);
    }
}
