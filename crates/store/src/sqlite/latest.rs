//! The latest stored version of many ids at once, for importers that compare a batch of
//! objects with what a collection holds (`entente import`).
//!
//! One point lookup per id on `objects_by_id` (the id's versions, the newest
//! `version_key` kept), all in one read snapshot with one prepared statement. A paged
//! query filtered by ids walks the collection by date_added instead, which at a million
//! objects costs a scan per page.

use super::accounts::CollectionRow;
use super::{backend, search};
use crate::Result;
use crate::types::StoredObject;
use rusqlite::{Connection, OptionalExtension, params};

/// The newest version of each of `ids` in the collection, at every TLP level, in the
/// order of `ids`; ids the collection does not hold are left out, and an id given twice
/// is looked up once.
pub(super) fn latest_versions(
    conn: &Connection,
    c: &CollectionRow,
    ids: &[String],
) -> Result<Vec<StoredObject>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT o.stix_id, o.type, o.version, o.date_added, o.spec_version, o.raw, o.tlp, \
             o.revoked FROM objects o INDEXED BY objects_by_id \
             WHERE o.collection = ?1 AND o.id_hash = ?2 AND o.stix_id = ?3 \
             ORDER BY o.version_key DESC LIMIT 1",
        )
        .map_err(backend)?;
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    let mut out = Vec::new();
    for id in ids {
        if !seen.insert(id.as_str()) {
            continue;
        }
        let row = stmt
            .query_row(params![c.seq, super::objects::id_hash(id), id], search::row)
            .optional()
            .map_err(backend)?;
        if let Some(row) = row {
            out.push(search::stored(row)?);
        }
    }
    Ok(out)
}
