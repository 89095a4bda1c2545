//! TAXII 2.1 (OASIS Standard, 10 June 2021) as Rust values: the resources a server serves
//! and a client reads, the media types and their negotiation, the query filters and the
//! pagination tokens.
//!
//! What it is: pure data and pure functions. Every resource of TAXII 2.1 §4–§5 is a serde
//! type in its own module ([`discovery`], [`api_root`], [`collection`], [`envelope`],
//! [`manifest`], [`versions`], [`status`], [`error_message`]); [`media`] says which
//! `Accept` and `Content-Type` headers mean TAXII 2.1; [`filter`] turns a URL query string
//! into a typed [`filter::ObjectQuery`] (TAXII 2.1 §3.4); [`paging`] makes the opaque
//! `next` tokens (§3.5).
//!
//! What it is not: an HTTP server (that is the `server` crate) or a store (no SQL here).
//! The async client lives in `client`, which is the only module doing I/O; [`sync`] is
//! what an incremental sync remembers between runs (its caller keeps the file).
//!
//! Tests: unit tests beside each module; the server's integration tests exercise the same
//! types over HTTP.

pub mod api_root;
pub mod client;
pub mod collection;
pub mod discovery;
pub mod envelope;
pub mod error;
pub mod error_message;
pub mod filter;
pub mod manifest;
pub mod media;
pub mod paging;
pub mod status;
pub mod sync;
pub mod versions;

pub use api_root::ApiRoot;
pub use collection::{Collection, Collections};
pub use discovery::Discovery;
pub use envelope::Envelope;
pub use error::Error;
pub use error_message::ErrorMessage;
pub use filter::{ObjectQuery, QueryKind, VersionFilter};
pub use manifest::{Manifest, ManifestRecord};
pub use media::{STIX_21, TAXII_21};
pub use paging::PageToken;
pub use status::{Status, StatusDetails, StatusState};
pub use versions::Versions;
