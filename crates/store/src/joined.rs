//! A page of objects already joined into the text of a TAXII envelope's `objects` array
//! ([`crate::Store::query_objects_joined`]).
//!
//! The paged `GET …/objects/` only writes the stored bodies back, verbatim and in order; it
//! needs none of the columns of [`crate::StoredObject`]. Handing it one buffer instead of a
//! [`crate::Page`] of objects lets a backend build that buffer as the rows arrive, without a
//! string per object (on PostgreSQL a page of 1,000 through `query_objects` allocated
//! five strings and copied each body twice per object, a large part of the replica's CPU
//! per page; scripts/bench-taxii-pg.sh has the figures).

use stix::Timestamp;

/// A page of objects whose stored JSON texts are joined with `,`: what goes between the
/// brackets of an envelope's `objects` array, in date_added order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedPage {
    /// The objects' exact stored texts (UTF-8 JSON), separated by `,`; empty for no objects.
    pub objects: Vec<u8>,
    /// How many objects `objects` holds.
    pub count: usize,
    /// Whether more objects match after these (TAXII 2.1 §3.6 `more`).
    pub more: bool,
    /// Token for the next page, present exactly when `more` (as [`crate::Page::next`]).
    pub next: Option<String>,
    /// The date_added of the first and the last object; `None` for an empty page.
    pub date_added: Option<(Timestamp, Timestamp)>,
}
