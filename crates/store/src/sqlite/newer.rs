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
//! The writers keep it in the same transaction as the rows: after an envelope's inserts,
//! [`after_insert`] recomputes the column of every version that shares an id with a new
//! row (one probe of the version index per new row, set-based, in one statement; nothing is
//! rewritten for an object with one version, the common case), and [`after_delete`] that of
//! the versions a deletion leaves.

use rusqlite::{Connection, params};

use super::backend;
use crate::Result;

/// "No newer version of this object is visible to the reader"; `?` is the reader's TLP.
pub(super) const LATEST_VISIBLE: &str = "(o.newer_tlp IS NULL OR o.newer_tlp > ?)";

/// The lowest TLP among the newer versions of the row `objects` (the UPDATE's target).
const RECOMPUTE: &str =
    "newer_tlp = (SELECT min(v.tlp) FROM objects v INDEXED BY objects_by_version
     WHERE v.collection = objects.collection AND v.stix_id = objects.stix_id
       AND v.version_key > objects.version_key)";

/// The highest rowid of `objects` before a write, so that [`after_insert`] knows which
/// rows the write added (rowids of new rows are always above the highest one, and the
/// caller's write transaction keeps other writers out).
pub(super) fn rowid_mark(conn: &Connection) -> Result<i64> {
    conn.prepare_cached("SELECT coalesce(max(rowid), 0) FROM objects")
        .map_err(backend)?
        .query_row([], |r| r.get(0))
        .map_err(backend)
}

/// Recomputes `newer_tlp` of every version of the objects this write added a version to,
/// the new rows included (a version may arrive after a newer one). `mark` is
/// [`rowid_mark`] before the inserts.
pub(super) fn after_insert(conn: &Connection, collection: i64, mark: i64) -> Result<()> {
    // The join yields the pairs (new row, another version of its object); both sides of a
    // pair may need the column changed. Objects with one version give no pair.
    let sql = format!(
        "UPDATE objects SET {RECOMPUTE} WHERE rowid IN (
             SELECT o.rowid FROM objects n JOIN objects o INDEXED BY objects_by_version
                 ON o.collection = n.collection AND o.stix_id = n.stix_id AND o.rowid <> n.rowid
             WHERE n.rowid > ?1 AND n.collection = ?2
             UNION
             SELECT n.rowid FROM objects n JOIN objects o INDEXED BY objects_by_version
                 ON o.collection = n.collection AND o.stix_id = n.stix_id AND o.rowid <> n.rowid
             WHERE n.rowid > ?1 AND n.collection = ?2)"
    );
    conn.prepare_cached(&sql)
        .map_err(backend)?
        .execute(params![mark, collection])
        .map_err(backend)?;
    Ok(())
}

/// Recomputes `newer_tlp` of the versions of `stix_id` that a deletion left.
pub(super) fn after_delete(conn: &Connection, collection: i64, stix_id: &str) -> Result<()> {
    let sql = format!("UPDATE objects SET {RECOMPUTE} WHERE collection = ?1 AND stix_id = ?2");
    conn.prepare_cached(&sql)
        .map_err(backend)?
        .execute(params![collection, stix_id])
        .map_err(backend)?;
    Ok(())
}
