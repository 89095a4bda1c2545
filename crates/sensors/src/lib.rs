//! What of a set of STIX indicators a network sensor can use, written in the sensors'
//! own formats: Zeek's Intel framework, Suricata datasets, CSV, and STIX itself.
//!
//! A sensor list says "this value is bad". Only indicators whose pattern says exactly that
//! — a plain observable, or an `OR` of them — can become list entries; the decision is
//! taken on the `pattern` crate's AST ([`observable::extract`]), never on the pattern's
//! text. [`select::select`] applies the versioning rules (latest version, revoked, expired)
//! and keeps every refusal with its reason, on `stix::StixObject`s or on the lighter
//! [`record::Record`]s that [`record::parse_records`] reads from a document's bytes. The writers ([`zeek`], [`suricata`], [`csv`],
//! [`bundle`]) take the selection and write to any `io::Write`; [`delta`] compares the value
//! sets of two exports so sensors can be updated without a reload.
//!
//! What it is not: it does no file or network I/O and no async (layer 2, beside `matcher`;
//! depends on `stix` and `pattern` only). Reading stores, TAXII servers and files, and
//! creating output files and directories, is the CLI's `entente export`.
//!
//! Tests: unit tests per module; `tests/it/` runs the golden files of every format
//! (`tests/golden/`, refreshed with `UPDATE_GOLDEN=1`), a round trip of maltrail values from
//! `../shared/data`, and the delta rules.

pub mod bundle;
pub mod csv;
pub mod delta;
pub mod observable;
pub mod record;
pub mod select;
pub mod suricata;
pub mod zeek;

pub use observable::{Kind, NotExportable, Observable, extract};
pub use record::{Object, Record, each_record, parse_record, parse_records};
pub use select::{Exported, LinkStyle, Selected, Selection, Selector, Skip, Skipped, select};
