//! Server configuration: the limits on everything a client controls (DESIGN.md "Limits")
//! and the texts the discovery resource shows.
//!
//! The defaults are chosen so that the reference workloads fit with room to spare
//! (`shared/bench/taxii_load.py` posts 500-indicator envelopes of about 400 KiB and pages
//! with `limit=1000`) while one request stays bounded in memory and time.

use std::time::Duration;

/// Limits applied to every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, in bytes; advertised as the API root's `max_content_length`
    /// (TAXII 2.1 §4.2.1) and answered 413 above it. Default 10 MiB.
    pub max_body_bytes: usize,
    /// Most objects one POSTed envelope may carry; 413 above it. Default 10,000.
    pub max_objects_per_envelope: usize,
    /// Page size when the client gives no `limit` (TAXII 2.1 §3.5.1). Default 1,000.
    pub default_page_size: usize,
    /// Largest page; a larger `limit` is lowered to it, as §3.5.1 allows. Default 10,000.
    pub max_page_size: usize,
    /// Longest indicator pattern, in bytes; a longer one fails validation. Default 64 KiB.
    pub max_pattern_len: usize,
    /// Time a request may take from its first byte to its answer; 503 after it.
    /// Default 60 s (a full 10 MiB envelope validates and commits in well under a second).
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 10 * 1024 * 1024,
            max_objects_per_envelope: 10_000,
            default_page_size: 1_000,
            max_page_size: 10_000,
            max_pattern_len: 64 * 1024,
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// Everything configurable about the HTTP side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Request limits.
    pub limits: Limits,
    /// The discovery resource's `title` (TAXII 2.1 §4.1.1).
    pub title: String,
    /// The discovery resource's `description`.
    pub description: Option<String>,
    /// The discovery resource's `contact`.
    pub contact: Option<String>,
    /// The API root named as discovery's `default`, if it exists.
    pub default_api_root: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            title: "entente".to_owned(),
            description: Some("entente threat-intelligence exchange (TAXII 2.1)".to_owned()),
            contact: None,
            default_api_root: "default".to_owned(),
        }
    }
}
