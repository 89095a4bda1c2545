//! STIX 2.1 objects for entente: lossless parsing, typed access, validation and ids.
//!
//! **What it is.** The lowest layer of entente (layer 0 in `DESIGN.md`). It reads STIX
//! documents (one object, a JSON array, a bundle, or NDJSON) into [`StixObject`]s that
//! keep their exact submitted bytes and every property in order; gives typed access to
//! the properties of every object type STIX 2.1 defines ([`StixView`]); validates the
//! specification's MUST rules as errors and its SHOULD rules as warnings
//! ([`validate_object`], [`validate_document`]); computes deterministic SCO ids
//! ([`deterministic_sco_id`]); and knows strict timestamps ([`timestamp`]) and TLP
//! markings ([`tlp`]). Every diagnostic carries a stable rule code from the catalogue in
//! [`rules`].
//!
//! **What it is not.** It does no I/O, has no async, and does not understand STIX
//! patterns: indicator patterns are checked through [`ValidateOptions::pattern_checker`],
//! a hook the caller fills with the pattern crate, so this crate depends on nothing of
//! ours.
//!
//! **Invariants.**
//! - **Parsing never panics**, whatever the bytes; nesting is limited to
//!   [`parse::MAX_DEPTH`] levels.
//! - **Parsing is lossless**: serialising an object's [`StixObject::json`] gives the
//!   submitted JSON value back, and [`StixObject::raw`] gives the submitted bytes.
//! - **One table per type** ([`types`]) drives both typed access and validation.
//! - **Duplicate property names are a parse error** (I-JSON): two readers of the stored
//!   bytes must never disagree on an object's markings.
//! - **Errors are MUSTs, warnings are SHOULDs**: a document with only warnings is
//!   acceptable as STIX 2.1. Validation never looks outside the document it is given.
//!
//! Tests: unit tests beside the code; integration tests (real data files, one failing
//! case per rule family, property tests) in `tests/it/`; the benchmark in
//! `benches/parse_validate.rs`.

pub mod error;
pub mod ids;
pub mod object;
pub mod parse;
pub mod rules;
pub mod spec;
pub mod timestamp;
pub mod tlp;
pub mod types;
pub mod validate;
pub mod vocab;

pub use error::ParseError;
pub use ids::{SCO_NAMESPACE, deterministic_sco_id, parse_identifier};
pub use object::{Embedded, Location, StixObject};
pub use parse::parse_document;
pub use rules::{RULES, Rule};
pub use spec::Category;
pub use timestamp::Timestamp;
pub use tlp::TlpLevel;
pub use types::StixView;
pub use validate::{Diagnostic, Severity, ValidateOptions, validate_document, validate_object};
