//! The newest version of every object of some types in a collection, streamed in
//! `date_added` order: what `entente export` reads from a data directory.
//!
//! The TAXII read path (`query_objects`) pays a statement per page and five owned strings
//! per row. An export reads the whole collection once, so this reads it in one read
//! transaction with one plain statement: the collection in `date_added` order, keeping the
//! rows no newer version exists of (`newer_tlp IS NULL`, schema migration 7: the newest at
//! every TLP level) and handing each row's JSON text to the caller as borrowed from
//! SQLite. The rows and their order are exactly those of the paged reads at TLP RED.

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
        let marks = vec!["?"; types.len()].join(", ");
        let mut stmt = conn
            .prepare(&format!(
                "SELECT raw FROM objects INDEXED BY objects_by_date \
                 WHERE collection = ?1 AND type IN ({marks}) AND newer_tlp IS NULL \
                 ORDER BY date_added"
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
            if f(text(row.get_ref(0).map_err(backend)?)?).is_break() {
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
