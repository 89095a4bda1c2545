//! Intelligence from outside STIX, turned into STIX 2.1 objects: MISP feeds and IOC lists.
//!
//! **What it is.** A layer-2 crate (it depends on `stix` and `pattern`) with two mappers:
//! [`ioc`] reads plain one-per-line lists, CSV files with a header and maltrail trail files
//! into indicators, and [`misp`] turns MISP feed events (the `<uuid>.json` files a feed's
//! `manifest.json` lists) into a `report` with its indicators, observed-data, notes,
//! vulnerabilities, attack patterns, the producer's `identity` and TLP 2.0 markings.
//! Every input item ends up either as objects ([`Mapped::objects`]) or as a
//! [`Refusal`] that says where it was and why it was not imported.
//!
//! **What it is not.** It does no I/O beyond reading the bytes it is given, has no async
//! and knows no store: the `entente import` command reads files, compares with what a
//! collection already holds and writes.
//!
//! **Invariants.**
//! - **Ids are deterministic** ([`ids`]): UUIDv5 of the MISP uuid, or of an IOC's type and
//!   value, so importing the same input twice gives the same ids, and an updated MISP feed
//!   gives new versions (its timestamps become `modified`) rather than duplicates.
//! - **Every item is accounted for**: `accepted + refused` equals the number of items read
//!   (attributes of an event, data lines of a list).
//! - **Parsing never panics**, whatever the bytes (fuzzed by `fuzz/fuzz_targets/feeds_iocs.rs`).
//! - **Everything emitted is valid STIX 2.1** per `stix::validate_document` with the
//!   `pattern` checker (tested on the real CIRCL feed and maltrail lists).
//!
//! Tests: unit tests beside the code; `tests/it/` reads `../shared/data` (the CIRCL feed,
//! maltrail) and compares a few mapped events with golden files in `tests/golden/`.

pub mod ids;
pub mod ioc;
pub mod misp;
pub mod object;

pub use object::{Mapped, Object, Origin, Refusal};

/// Why an input could not be read at all (a single bad item is a [`Refusal`] instead).
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The bytes are not the JSON document the format needs.
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON is well formed but not what the format describes.
    #[error("not a MISP {what}: {why}")]
    Format {
        /// Which document was expected (event, manifest).
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// The input is larger than the limit this crate accepts.
    #[error("input of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit.
        limit: usize,
    },
}
