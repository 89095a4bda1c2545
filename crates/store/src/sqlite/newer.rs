//! `newer_tlp`: what a page of latest versions filters on, and how the writers keep it.
//!
//! A TAXII page of latest versions (`match[version]=last`, the default) keeps a row when
//! no newer version of its object is visible to the reader. Asked as a subquery, that is
//! one probe of the version index per row read: on a 200,000-object collection the probes
//! were 30% of a 1,000-object page's CPU (`perf record` of the server under paged GETs),
//! more as the random-UUID index outgrows the cache. So every row carries the lowest TLP
//! level (0 CLEAR .. 4 RED) among its object's *newer* versions, NULL while it is the
//! newest (added by a schema migration, as PostgreSQL's migration 4), and a page tests
//! [`LATEST_VISIBLE`] on the row itself.
//!
//! The writers keep it in the same transaction as the rows. Before each insert the envelope
//! write probes the id's stored versions anyway (for duplicates, `objects::add_digested`),
//! which also tells whether the id already had one; after the inserts, [`after_insert`]
//! recomputes the column of every version of the ids that had one. An object with one
//! version, the common case, costs that probe and nothing else. (It used to be one
//! set-based UPDATE over the rows with a rowid above the write's starting mark, but without
//! statistics SQLite planned `n.rowid > ? AND n.collection = ?` as a walk of the whole
//! collection's version index, twice per envelope: TAXII ingest fell from ~10,000 to
//! ~2,700 objects/s between the first and the last 20,000 of 200,000.) [`after_delete`]
//! recomputes the versions a deletion leaves.

use rusqlite::{Connection, params};

use super::backend;
use crate::Result;

/// "No newer version of this object is visible to the reader"; `?` is the reader's TLP.
pub(super) const LATEST_VISIBLE: &str = "(o.newer_tlp IS NULL OR o.newer_tlp > ?)";

/// The lowest TLP among the newer versions of the row `objects` (the UPDATE's target).
const RECOMPUTE: &str = "newer_tlp = (SELECT min(v.tlp) FROM objects v INDEXED BY objects_by_id
     WHERE v.collection = objects.collection AND v.id_hash = objects.id_hash
       AND v.stix_id = objects.stix_id AND v.version_key > objects.version_key)";

/// Recomputes `newer_tlp` of every version of `ids`, the objects to which this write added
/// a version while they had one already (a version may arrive after a newer one, so the
/// new row and the older ones may all change).
pub(super) fn after_insert<'a>(
    conn: &Connection,
    collection: i64,
    ids: impl IntoIterator<Item = &'a String>,
) -> Result<()> {
    for id in ids {
        recompute(conn, collection, id)?;
    }
    Ok(())
}

/// Recomputes `newer_tlp` of the versions of `stix_id` that a deletion left.
pub(super) fn after_delete(conn: &Connection, collection: i64, stix_id: &str) -> Result<()> {
    recompute(conn, collection, stix_id)
}

/// Recomputes `newer_tlp` of every version of one object.
fn recompute(conn: &Connection, collection: i64, stix_id: &str) -> Result<()> {
    let sql = format!(
        "UPDATE objects INDEXED BY objects_by_id SET {RECOMPUTE}
         WHERE collection = ?1 AND id_hash = ?2 AND stix_id = ?3"
    );
    conn.prepare_cached(&sql)
        .map_err(backend)?
        .execute(params![
            collection,
            super::objects::id_hash(stix_id),
            stix_id
        ])
        .map_err(backend)?;
    Ok(())
}
