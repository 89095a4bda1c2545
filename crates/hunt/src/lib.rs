//! entente's hunting side: telemetry in, alerts and sightings out.
//!
//! **What it is.** Readers that turn network telemetry into STIX 2.1 Cyber-observable
//! Objects, one event at a time ([`reader`]: Zeek JSON and TSV, Suricata EVE JSON, STIX
//! observed-data NDJSON, and any NDJSON through a small mapping file); the loading of STIX
//! indicators ([`indicators`]) with MISP warninglist suppression ([`warninglist`]); the
//! [`engine::Engine`] seam through which events are matched against the indicators; and the
//! two outputs of a hunt, alert lines ([`alert`]) and a bundle of STIX sightings
//! ([`sighting`]). [`hunt::Hunter`] ties them together for `entente hunt`.
//!
//! **What it is not.** It holds no pattern semantics: whether an event matches an indicator
//! is decided by the `matcher` crate, on the observed-data this crate builds
//! ([`event::Event::observation`]). It does not parse patterns (the `pattern` crate does) and
//! it does not render summaries or progress (the CLI does).
//!
//! **Invariants.**
//! * **Streaming.** Readers hold one line at a time; no input file is loaded whole.
//! * **Bad input never stops a run.** A malformed line becomes one [`reader::BadLine`] with
//!   its file and line number; the reader goes on with the next line.
//! * **No panics on input.** The `hunt_readers` fuzz target feeds arbitrary lines to every
//!   reader.
//! * **Time comes from the record**, never from the clock, so reruns give the same alerts.
//!
//! Tests: `tests/it/` runs every reader over the real logs in the shared data set, the
//! maltrail oracle (alerts equal an independent set look-up), sightings validation and
//! warninglist suppression; `crates/cli/tests/it/hunt.rs` runs the command.

pub mod alert;
pub mod engine;
pub mod error;
pub mod event;
pub mod hunt;
pub mod indicators;
pub mod input;
pub mod reader;
pub mod sighting;
pub mod warninglist;

pub use error::Error;
pub use event::{Event, Source};
pub use reader::{BadLine, Format, Reader};
