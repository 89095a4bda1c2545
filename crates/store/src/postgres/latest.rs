//! The latest stored version of many ids at once, for importers that compare a batch of
//! objects with what a collection holds (`entente import`).
//!
//! One statement per call whatever the number of ids (the backend's "no N+1" rule): the ids
//! travel as one array, and `DISTINCT ON` keeps the newest `version_key` of each, read
//! through `objects_by_version`.

use super::accounts::CollectionRow;
use super::{Db, get, ts_from_us};
use crate::Result;
use crate::keys::tlp_from_int;
use crate::types::StoredObject;
use deadpool_postgres::GenericClient;

/// The newest version of each of `ids` in the collection, at every TLP level, in the
/// order of `ids`; ids the collection does not hold are left out, and an id given twice
/// is answered once.
pub(super) async fn latest_versions<C: GenericClient>(
    db: &Db<'_, C>,
    c: &CollectionRow,
    ids: &[String],
) -> Result<Vec<StoredObject>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db
        .query(
            "SELECT DISTINCT ON (stix_id) stix_id, type, version, date_added, spec_version, \
             raw, tlp, revoked FROM objects WHERE collection = $1 AND stix_id = ANY($2) \
             ORDER BY stix_id, version_key DESC",
            &[&c.seq, &ids],
        )
        .await?;
    let mut by_id = std::collections::HashMap::with_capacity(rows.len());
    for r in &rows {
        let id: String = get(r, 0)?;
        let tlp: i32 = get(r, 6)?;
        let added: i64 = get(r, 3)?;
        by_id.insert(
            id.clone(),
            StoredObject {
                id,
                type_name: get(r, 1)?,
                version: get(r, 2)?,
                date_added: ts_from_us(added)?,
                spec_version: get(r, 4)?,
                raw_json: get(r, 5)?,
                tlp: tlp_from_int(i64::from(tlp))?,
                revoked: get(r, 7)?,
            },
        );
    }
    // In the order asked, as the SQLite backend answers.
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}
