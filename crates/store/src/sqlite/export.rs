//! The newest version of every object of some types in a collection, streamed in
//! `date_added` order: what `entente export` reads from a data directory.
//!
//! The TAXII read path (`query_objects` with `versions=last`) pays, per page, a statement
//! and, per row, a correlated look-up of the id's newest version in `objects_by_version`
//! plus five owned strings. An export reads the whole collection once, so this reads it in
//! one read transaction with two plain statements: first the version index alone (a
//! covering scan) to find the ids stored in several versions and their newest
//! `version_key`, then the collection in `date_added` order, skipping the older versions of
//! those ids and handing each row's JSON text to the caller as borrowed from SQLite. The
//! rows and their order are exactly those of the paged reads at TLP RED.

use std::collections::HashMap;
use std::ops::ControlFlow;

use rusqlite::types::ValueRef;

use super::accounts::require_collection;
use super::{SqliteStore, backend, connect};
use crate::{Result, StoreError};

impl SqliteStore {
    /// Calls `f` with the JSON text of the newest version (at every TLP level) of every
    /// object of one of `types` in `collection`, in `date_added` order, until `f` breaks.
    /// Blocking: one read transaction on its own connection, so call it from a thread of
    /// its own; the server's readers are not used.
    pub fn scan_latest(
        &self,
        collection: &str,
        types: &[&str],
        mut f: impl FnMut(&str) -> ControlFlow<()>,
    ) -> Result<()> {
        let conn = connect(self.path())?;
        conn.execute_batch("PRAGMA query_only = ON; BEGIN")
            .map_err(backend)?;
        let c = require_collection(&conn, collection)?;
        // Ids with more than one version: the newest version_key of each (the index is
        // ordered by id, then version_key, so the last row of an id is its newest).
        let mut newest: HashMap<String, String> = HashMap::new();
        {
            let mut stmt = conn
                .prepare(
                    "SELECT stix_id, version_key FROM objects INDEXED BY objects_by_version \
                     WHERE collection = ?1 ORDER BY stix_id, version_key",
                )
                .map_err(backend)?;
            let mut rows = stmt.query([c.seq]).map_err(backend)?;
            let mut previous = String::new();
            while let Some(row) = rows.next().map_err(backend)? {
                let id = text(row.get_ref(0).map_err(backend)?)?;
                let key = text(row.get_ref(1).map_err(backend)?)?;
                if id == previous {
                    newest.insert(id.to_owned(), key.to_owned());
                } else {
                    previous.clear();
                    previous.push_str(id);
                }
            }
        }
        let marks = vec!["?"; types.len()].join(", ");
        let mut stmt = conn
            .prepare(&format!(
                "SELECT stix_id, version_key, raw FROM objects INDEXED BY objects_by_date \
                 WHERE collection = ?1 AND type IN ({marks}) ORDER BY date_added"
            ))
            .map_err(backend)?;
        let mut args: Vec<rusqlite::types::Value> = vec![c.seq.into()];
        args.extend(
            types
                .iter()
                .map(|t| rusqlite::types::Value::Text((*t).to_owned())),
        );
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args))
            .map_err(backend)?;
        while let Some(row) = rows.next().map_err(backend)? {
            if !newest.is_empty() {
                let id = text(row.get_ref(0).map_err(backend)?)?;
                if let Some(key) = newest.get(id)
                    && text(row.get_ref(1).map_err(backend)?)? != key
                {
                    continue;
                }
            }
            if f(text(row.get_ref(2).map_err(backend)?)?).is_break() {
                break;
            }
        }
        drop(rows);
        drop(stmt);
        conn.execute_batch("COMMIT").map_err(backend)?;
        Ok(())
    }
}

/// A TEXT column's value.
fn text(v: ValueRef<'_>) -> Result<&str> {
    v.as_str()
        .map_err(|e| StoreError::Corrupt(format!("a stored text column: {e}")))
}
