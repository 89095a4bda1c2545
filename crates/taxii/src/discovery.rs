//! The discovery resource (TAXII 2.1 §4.1): what a server is and which API roots it has.
//!
//! Served at `/taxii2/`. `default` and `api_roots` hold URLs; this server gives them as
//! absolute paths (`/default/`), which §4.1.1 permits ("relative or absolute URLs").

use serde::{Deserialize, Serialize};

/// `GET /taxii2/` (TAXII 2.1 §4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// A human-readable plain-text name for this server (required).
    pub title: String,
    /// A human-readable plain-text description for this server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Contact information for this server's administrator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The default API root: one of `api_roots`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The URLs of the API roots this server advertises to the requester.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_roots: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omits_absent_optionals() {
        let d = Discovery {
            title: "entente".into(),
            description: None,
            contact: None,
            default: Some("/default/".into()),
            api_roots: vec!["/default/".into()],
        };
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"title":"entente","default":"/default/","api_roots":["/default/"]}"#
        );
        let back: Discovery = serde_json::from_str(r#"{"title":"x"}"#).unwrap();
        assert!(back.api_roots.is_empty());
    }
}
