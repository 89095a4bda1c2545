//! The error message resource (TAXII 2.1 §3.6.1): what every non-2xx answer carries.
//!
//! `http_status` is a *string* in §3.6.1's table; servers write it so and clients that find
//! a number anyway are tolerated by [`ErrorMessage`]'s deserialiser.

use serde::{Deserialize, Deserializer, Serialize};

/// A TAXII error message (TAXII 2.1 §3.6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorMessage {
    /// A short human-readable summary of the error (required).
    pub title: String,
    /// A longer human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An identifier for this particular occurrence of the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
    /// A stable, machine-readable code for the kind of error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The HTTP status code of the response, as a string.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "string_or_number"
    )]
    pub http_status: Option<String>,
    /// A URL with more information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_details: Option<String>,
    /// Further machine-readable details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ErrorMessage {
    /// An error message with a title and an HTTP status, the rest empty.
    pub fn new(title: impl Into<String>, http_status: u16) -> ErrorMessage {
        ErrorMessage {
            title: title.into(),
            description: None,
            error_id: None,
            error_code: None,
            http_status: Some(http_status.to_string()),
            external_details: None,
            details: None,
        }
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_a_string() {
        let e = ErrorMessage::new("not found", 404);
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"title":"not found","http_status":"404"}"#
        );
        let back: ErrorMessage =
            serde_json::from_str(r#"{"title":"x","http_status":406}"#).unwrap();
        assert_eq!(back.http_status.as_deref(), Some("406"));
    }
}
