//! TAXII 2.1 media types and content negotiation (TAXII 2.1 §1.6.8).
//!
//! Every TAXII 2.1 endpoint speaks `application/taxii+json;version=2.1`, including the
//! objects endpoints whose envelope carries STIX objects; `application/stix+json;version=2.1`
//! appears only *inside* resources, as the `media_types` of a collection and the
//! `media_type` of a manifest record.
//!
//! The `version` parameter is optional in the IANA registration of `application/taxii+json`.
//! TAXII 2.1 §1.6.8.1 gives an unversioned `application/taxii+json` the meaning "the latest
//! version the server supports", which for this server is 2.1; so it is accepted in both
//! `Accept` and `Content-Type`. Any other explicit version (`version=2.0`) is a different
//! protocol and is refused: 406 in `Accept`, 415 in `Content-Type`.
//!
//! Media types are compared case-insensitively (RFC 9110 §8.3.1), parameters may be
//! surrounded by whitespace, and a `charset=utf-8` parameter is tolerated (JSON is UTF-8
//! anyway, RFC 8259 §8.1).

/// The TAXII 2.1 media type: what every response of this server carries.
pub const TAXII_21: &str = "application/taxii+json;version=2.1";

/// The STIX 2.1 media type, listed in collections' `media_types` and manifest records.
pub const STIX_21: &str = "application/stix+json;version=2.1";

/// One media type or range as written in a header, split into its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaType {
    /// Top-level type, lowercased (`application`, `*`).
    pub kind: String,
    /// Subtype, lowercased (`taxii+json`, `*`).
    pub subtype: String,
    /// Parameters other than `q`, names lowercased, quotes removed.
    pub params: Vec<(String, String)>,
    /// The quality value (`q`, RFC 9110 §12.4.2); 1.0 when absent.
    pub quality: f32,
}

impl MediaType {
    /// Parses one media type (`type/subtype;name=value;...`). `None` if it has no `/`.
    pub fn parse(text: &str) -> Option<MediaType> {
        let mut parts = text.split(';');
        let essence = parts.next()?.trim();
        let (kind, subtype) = essence.split_once('/')?;
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() {
            return None;
        }
        let mut params = Vec::new();
        let mut quality = 1.0f32;
        for param in parts {
            let param = param.trim();
            if param.is_empty() {
                continue;
            }
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            let name = name.trim().to_ascii_lowercase();
            let value = value.trim().trim_matches('"').to_owned();
            if name == "q" {
                // RFC 9110 §12.4.2: a malformed weight is treated as the lowest, not an error.
                quality = value.parse().unwrap_or(0.0);
            } else {
                params.push((name, value));
            }
        }
        Some(MediaType {
            kind: kind.to_ascii_lowercase(),
            subtype: subtype.to_ascii_lowercase(),
            params,
            quality,
        })
    }

    /// The value of parameter `name` (lowercase), if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether this is `application/taxii+json` for TAXII 2.1: `version=2.1` or no version
    /// (which TAXII 2.1 §1.6.8.1 defines as the latest version, 2.1 here), with no other
    /// parameter than `charset=utf-8`.
    pub fn is_taxii21(&self) -> bool {
        self.kind == "application"
            && self.subtype == "taxii+json"
            && self.params.iter().all(|(name, value)| match name.as_str() {
                "version" => value == "2.1",
                "charset" => value.eq_ignore_ascii_case("utf-8"),
                _ => false,
            })
    }

    /// Whether this `Accept` range admits a TAXII 2.1 response: `*/*`, `application/*` or
    /// [`MediaType::is_taxii21`], with a non-zero weight.
    fn admits_taxii21(&self) -> bool {
        if self.quality <= 0.0 {
            return false;
        }
        match (self.kind.as_str(), self.subtype.as_str()) {
            ("*", "*") | ("application", "*") => true,
            _ => self.is_taxii21(),
        }
    }
}

/// Whether an `Accept` header admits a TAXII 2.1 response (TAXII 2.1 §1.6.8).
///
/// A request without `Accept` accepts anything (RFC 9110 §12.5.1). An empty header, too:
/// some clients send one instead of leaving it out, and refusing them would help no-one.
pub fn accepts_taxii21(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return true };
    if accept.trim().is_empty() {
        return true;
    }
    accept
        .split(',')
        .filter_map(MediaType::parse)
        .any(|m| m.admits_taxii21())
}

/// Whether a request's `Content-Type` is TAXII 2.1 (TAXII 2.1 §5.4: POSTs to the objects
/// endpoint carry an envelope as `application/taxii+json;version=2.1`).
pub fn is_taxii21_content_type(content_type: Option<&str>) -> bool {
    content_type
        .and_then(MediaType::parse)
        .is_some_and(|m| m.quality > 0.0 && m.is_taxii21())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_taxii21_forms() {
        for ok in [
            TAXII_21,
            "application/taxii+json",
            "Application/TAXII+JSON; version=2.1",
            "application/taxii+json;version=\"2.1\"",
            "*/*",
            "application/*",
            "text/html, application/taxii+json;version=2.1;q=0.5",
            "application/taxii+json;version=2.1;charset=utf-8",
        ] {
            assert!(accepts_taxii21(Some(ok)), "{ok}");
        }
        assert!(accepts_taxii21(None));
    }

    #[test]
    fn accept_refuses_other_types_and_versions() {
        for bad in [
            "application/json",
            "text/html",
            "application/taxii+json;version=2.0",
            "application/stix+json;version=2.1",
            "application/taxii+json;version=2.1;q=0",
            "*/*;q=0",
            "nonsense",
        ] {
            assert!(!accepts_taxii21(Some(bad)), "{bad}");
        }
    }

    #[test]
    fn content_type() {
        assert!(is_taxii21_content_type(Some(TAXII_21)));
        assert!(is_taxii21_content_type(Some("application/taxii+json")));
        assert!(is_taxii21_content_type(Some(
            "application/taxii+json; version=2.1; charset=UTF-8"
        )));
        assert!(!is_taxii21_content_type(Some("application/json")));
        assert!(!is_taxii21_content_type(Some(
            "application/taxii+json;version=2.0"
        )));
        assert!(!is_taxii21_content_type(Some("*/*")));
        assert!(!is_taxii21_content_type(None));
    }

    #[test]
    fn parse_keeps_params() {
        let m = MediaType::parse("application/stix+json; version=2.1").unwrap();
        assert_eq!(m.kind, "application");
        assert_eq!(m.subtype, "stix+json");
        assert_eq!(m.param("version"), Some("2.1"));
        assert!(MediaType::parse("noslash").is_none());
        assert!(MediaType::parse("/x").is_none());
    }
}
