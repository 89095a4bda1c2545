//! The SQLite schema as numbered migrations, applied on open.
//!
//! `schema_version` holds one row with the number of the last migration applied. Opening a
//! store runs the missing migrations in one `BEGIN IMMEDIATE` transaction, so a server and an
//! `entente admin` command opening the same file at once never both migrate, and a failed
//! migration leaves the file as it was. Migrations are append-only: never edit one that has
//! shipped.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// The migrations, in order; migration `n` is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[&str] = &[
    // 1: accounts, roots, collections, grants, objects, status resources, meta, log entries.
    r#"
CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_us  INTEGER NOT NULL
);
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    admin       INTEGER NOT NULL,
    created_us  INTEGER NOT NULL
);
-- Only the SHA-256 of a token's secret is kept (DESIGN.md "Access").
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    hash        BLOB NOT NULL UNIQUE,
    created_us  INTEGER NOT NULL,
    revoked     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE api_roots (
    name        TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT,
    created_us  INTEGER NOT NULL
);
-- `seq` is the compact key objects refer to; `id` the public UUID. `last_date_added` is the
-- high-water mark that keeps date_added strictly increasing even after the newest object
-- is deleted and the clock steps back.
CREATE TABLE collections (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    api_root        TEXT NOT NULL REFERENCES api_roots(name),
    title           TEXT NOT NULL,
    description     TEXT,
    alias           TEXT,
    public_read     INTEGER NOT NULL,
    restricted      INTEGER NOT NULL,
    media_types     TEXT NOT NULL,
    created_us      INTEGER NOT NULL,
    last_date_added INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX collections_alias ON collections(api_root, alias) WHERE alias IS NOT NULL;
CREATE TABLE org_grants (
    collection  INTEGER NOT NULL REFERENCES collections(seq),
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    can_read    INTEGER NOT NULL,
    can_write   INTEGER NOT NULL,
    PRIMARY KEY (collection, org_id)
) WITHOUT ROWID;
CREATE TABLE user_grants (
    collection  INTEGER NOT NULL REFERENCES collections(seq),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    can_read    INTEGER NOT NULL,
    can_write   INTEGER NOT NULL,
    PRIMARY KEY (collection, user_id)
) WITHOUT ROWID;
-- One row per stored object version. `version_key` is the fixed-width instant the
-- versions compare by; `version` the text as posted; `date_added` microseconds since the
-- epoch; `tlp` 0 (CLEAR) .. 4 (RED); `raw` the exact JSON as posted.
CREATE TABLE objects (
    rowid        INTEGER PRIMARY KEY,
    collection   INTEGER NOT NULL REFERENCES collections(seq),
    stix_id      TEXT NOT NULL,
    type         TEXT NOT NULL,
    version_key  TEXT NOT NULL,
    version      TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    date_added   INTEGER NOT NULL,
    tlp          INTEGER NOT NULL,
    revoked      INTEGER NOT NULL,
    sha256       BLOB NOT NULL,
    raw          TEXT NOT NULL
);
-- Paging: a page is a range scan of this index (TAXII 2.1 §3.6), and uniqueness enforces
-- "strictly increasing" at the storage level too.
CREATE UNIQUE INDEX objects_by_date ON objects(collection, date_added);
-- Versions of one object: first/last/at lookups, duplicates (TAXII 2.1 §3.4.2, §5.4).
CREATE UNIQUE INDEX objects_by_version ON objects(collection, stix_id, version_key);
CREATE TABLE statuses (
    id          TEXT PRIMARY KEY,
    owner       INTEGER NOT NULL,
    body        TEXT NOT NULL
);
-- Small facts about the installation, e.g. `bootstrapped` once the first start set it up.
CREATE TABLE meta (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL
);
-- The transparency log's entries, appended in the same transaction as the writes they
-- record; `idx` is the zero-based leaf index.
CREATE TABLE log_leaves (
    idx         INTEGER PRIMARY KEY,
    entry       BLOB NOT NULL,
    leaf_hash   BLOB NOT NULL
);
"#,
    // 2: the log's stored node hashes, lookups of additions, signed checkpoints
    // (`sqlite/log.rs`; leaves written before it are backfilled on open).
    r#"
-- The hash of every complete subtree (RFC 9162 §2.1.1) at `level`, index `idx`: what makes
-- tree heads, proofs and tiles O(log n) reads (`tlog::tree`).
CREATE TABLE log_nodes (
    level       INTEGER NOT NULL,
    idx         INTEGER NOT NULL,
    hash        BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
-- For `add` entries, the 32-byte object commitment (SHA-256 of collection, id, version).
ALTER TABLE log_leaves ADD COLUMN add_object BLOB;
CREATE INDEX log_leaves_by_object ON log_leaves(add_object) WHERE add_object IS NOT NULL;
-- Signed C2SP checkpoints the server published, one per size.
CREATE TABLE log_checkpoints (
    size        INTEGER PRIMARY KEY,
    note        TEXT NOT NULL,
    created_us  INTEGER NOT NULL
);
"#,
    // 3: what the web UI reads (`sqlite/search.rs`): the producer as a column, indexes for
    // filtered lists, a full-text index and the references between objects. Both are kept
    // by triggers, so they change in the same transaction as the objects, whichever code
    // path writes them.
    r#"
ALTER TABLE objects ADD COLUMN created_by TEXT GENERATED ALWAYS AS
    (CASE WHEN json_valid(raw) THEN json_extract(raw, '$.created_by_ref') END) VIRTUAL;
-- The UI's copies of `type` and `tlp`, indexed under their own names so these indexes
-- serve only the UI's queries and never change the plans of the TAXII pages (which must
-- stay range scans of objects_by_date).
ALTER TABLE objects ADD COLUMN ui_type TEXT GENERATED ALWAYS AS (type) VIRTUAL;
ALTER TABLE objects ADD COLUMN ui_tlp INTEGER GENERATED ALWAYS AS (tlp) VIRTUAL;
CREATE INDEX objects_ui_by_type ON objects(collection, ui_type, date_added);
CREATE INDEX objects_ui_by_tlp ON objects(collection, ui_tlp, date_added);
CREATE INDEX objects_by_producer ON objects(collection, created_by, date_added)
    WHERE created_by IS NOT NULL;
-- Names (or an SCO's value), descriptions and patterns; contentless, the text is in `raw`.
CREATE VIRTUAL TABLE objects_fts USING fts5(
    name, description, pattern, content='', contentless_delete=1, tokenize='unicode61'
);
-- `obj` (an objects rowid) refers to STIX id `ref`.
CREATE TABLE object_refs (
    ref         TEXT NOT NULL,
    obj         INTEGER NOT NULL,
    PRIMARY KEY (ref, obj)
) WITHOUT ROWID;
CREATE INDEX object_refs_by_obj ON object_refs(obj);
CREATE TRIGGER objects_index_insert AFTER INSERT ON objects WHEN json_valid(new.raw) BEGIN
    INSERT INTO objects_fts (rowid, name, description, pattern) VALUES (
        new.rowid,
        coalesce(json_extract(new.raw, '$.name'), json_extract(new.raw, '$.value')),
        json_extract(new.raw, '$.description'),
        json_extract(new.raw, '$.pattern'));
    INSERT OR IGNORE INTO object_refs (ref, obj)
        SELECT p.value, new.rowid FROM json_each(new.raw) AS p
        WHERE p.key IN ('source_ref', 'target_ref', 'sighting_of_ref') AND p.type = 'text';
    INSERT OR IGNORE INTO object_refs (ref, obj)
        SELECT e.value, new.rowid FROM json_each(new.raw) AS p, json_each(p.value) AS e
        WHERE p.key IN ('object_refs', 'where_sighted_refs', 'observed_data_refs')
          AND p.type = 'array' AND e.type = 'text';
END;
CREATE TRIGGER objects_index_delete AFTER DELETE ON objects BEGIN
    DELETE FROM objects_fts WHERE rowid = old.rowid;
    DELETE FROM object_refs WHERE obj = old.rowid;
END;
INSERT INTO objects_fts (rowid, name, description, pattern)
    SELECT rowid,
        coalesce(json_extract(raw, '$.name'), json_extract(raw, '$.value')),
        json_extract(raw, '$.description'), json_extract(raw, '$.pattern')
    FROM objects WHERE json_valid(raw);
INSERT OR IGNORE INTO object_refs (ref, obj)
    SELECT p.value, o.rowid FROM objects AS o, json_each(o.raw) AS p
    WHERE json_valid(o.raw) AND p.key IN ('source_ref', 'target_ref', 'sighting_of_ref')
      AND p.type = 'text';
INSERT OR IGNORE INTO object_refs (ref, obj)
    SELECT e.value, o.rowid FROM objects AS o, json_each(o.raw) AS p, json_each(p.value) AS e
    WHERE json_valid(o.raw) AND p.key IN ('object_refs', 'where_sighted_refs', 'observed_data_refs')
      AND p.type = 'array' AND e.type = 'text';
"#,
    // 4: object versions per (collection, TLP level), kept by triggers, so the UI's counts
    // are a handful of rows instead of a scan of a million index entries.
    r#"
CREATE TABLE ui_counts (
    collection  INTEGER NOT NULL,
    tlp         INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (collection, tlp)
) WITHOUT ROWID;
CREATE TRIGGER objects_count_insert AFTER INSERT ON objects BEGIN
    INSERT OR IGNORE INTO ui_counts (collection, tlp, n) VALUES (new.collection, new.tlp, 0);
    UPDATE ui_counts SET n = n + 1 WHERE collection = new.collection AND tlp = new.tlp;
END;
CREATE TRIGGER objects_count_delete AFTER DELETE ON objects BEGIN
    UPDATE ui_counts SET n = n - 1 WHERE collection = old.collection AND tlp = old.tlp;
END;
INSERT INTO ui_counts (collection, tlp, n)
    SELECT collection, tlp, count(*) FROM objects GROUP BY collection, tlp;
"#,
    // 5: each object version's log leaf index in its own row. Lookups go through the
    // (collection, stix_id, version_key) index the row already has, instead of a second
    // index on a random 32-byte commitment, which cost more than the rest of the log on
    // ingest (benches/log_overhead.rs). Filled for older rows, and that index dropped, by
    // `log::link_objects` on open.
    r#"
ALTER TABLE objects ADD COLUMN log_idx INTEGER;
"#,
    // 6: the full-text index, the references and the counts of *new* rows are written once
    // per write transaction by `search::Added::index` (called by `objects::add_objects`, the
    // only code that inserts objects), not by per-row triggers. A trigger made every object
    // INSERT a multi-statement write: each one ran under a statement savepoint that
    // journalled its pages, and at each savepoint FTS5 flushed its pending terms to disk,
    // i.e. one FTS segment write per object (~40% of ingest time in `perf`). The delete
    // triggers stay: deletions are rare and row by row anyway.
    r#"
DROP TRIGGER objects_index_insert;
DROP TRIGGER objects_count_insert;
"#,
    // 7: `newer_tlp`, the lowest TLP (0 CLEAR .. 4 RED) among the newer versions of the
    // row's object, NULL while it is the newest (`sqlite/newer.rs`, as PostgreSQL's
    // migration 4): a page of latest versions tests the row instead of probing the version
    // index once per row. Existing rows get it from their object's other versions.
    r#"
ALTER TABLE objects ADD COLUMN newer_tlp INTEGER;
UPDATE objects SET newer_tlp = (SELECT min(v.tlp) FROM objects v
        WHERE v.collection = objects.collection AND v.stix_id = objects.stix_id
          AND v.version_key > objects.version_key)
    WHERE rowid IN (SELECT o.rowid FROM objects o JOIN objects v
        ON v.collection = o.collection AND v.stix_id = o.stix_id AND v.version_key > o.version_key);
"#,
    // 8: `created_by` becomes a plain column written by `objects::add_objects` from the one
    // parse of the body it makes anyway (`sqlite/fields.rs`). As a generated column it cost
    // a `json_valid` and a `json_extract` of the whole body on every insert, for the
    // producer index. Existing rows are filled with the expression migration 3 used.
    r#"
DROP INDEX objects_by_producer;
ALTER TABLE objects DROP COLUMN created_by;
ALTER TABLE objects ADD COLUMN created_by TEXT;
UPDATE objects SET created_by = json_extract(raw, '$.created_by_ref')
    WHERE json_valid(raw) AND json_extract(raw, '$.created_by_ref') IS NOT NULL;
CREATE INDEX objects_by_producer ON objects(collection, created_by, date_added)
    WHERE created_by IS NOT NULL;
"#,
    // 9: the full-text index keeps up to 64 MiB of new terms in memory before writing them
    // out as a segment (FTS5's 'hashsize', 1 MiB by default). With 1 MiB, an import
    // transaction of 50,000 indicators wrote ~10 small segments that FTS5 then merged
    // again and again (~6% of an import's CPU in `perf`); now it writes one per
    // transaction. An envelope of a few hundred objects stays far below either size.
    r#"
INSERT INTO objects_fts (objects_fts, rank) VALUES ('hashsize', 67108864);
"#,
    // 10: an object's versions are found by `objects_by_id (collection, id_hash)`, `id_hash`
    // the first 8 bytes of the SHA-256 of `stix_id` (`objects::id_hash`; every query
    // compares `stix_id` too), instead of the unique `(collection, stix_id, version_key)`
    // index: entries of ~20 instead of ~90 bytes, so a write transaction of random UUIDs
    // dirties a quarter of the pages (the former index was ~22% of an import's CPU in
    // `perf`, its pages rewritten by every transaction). `(id, version)` stays unique
    // because the one code that inserts objects probes the id's versions first, in its
    // write transaction (`objects.rs`). Existing rows get their hash from
    // [`fill_id_hashes`], which runs after this SQL, in the same transaction.
    r#"
ALTER TABLE objects ADD COLUMN id_hash INTEGER;
DROP INDEX objects_by_version;
CREATE INDEX objects_by_id ON objects(collection, id_hash);
"#,
    // 11: the log's node hashes are kept for levels 4, 8, 12, … only (`log::NODE_STRIDE`);
    // the levels between are hashed from the ones below when read. An append wrote ~1 node
    // row per leaf, now ~1 per 15. The rows of the other levels are no longer read.
    r#"
DELETE FROM log_nodes WHERE level % 4 != 0;
"#,
    // 12: the full-text index moves to a file of its own, filled by a thread of its own
    // (`sqlite/fulltext.rs`): in this file it was written on the writer's path, ~25% of
    // an import's writer CPU. Deletions are recorded for that thread in `search_gone`; the
    // epoch tells it which store its file was built for. The new file is built from the
    // objects when the store next opens.
    r#"
DROP TABLE objects_fts;
DROP TRIGGER objects_index_delete;
CREATE TABLE search_gone (obj INTEGER NOT NULL);
CREATE TRIGGER objects_index_delete AFTER DELETE ON objects BEGIN
    DELETE FROM object_refs WHERE obj = old.rowid;
    INSERT INTO search_gone (obj) VALUES (old.rowid);
END;
INSERT INTO meta (key, value) VALUES ('search_epoch', lower(hex(randomblob(16))));
"#,
];

/// Steps in Rust that follow a migration's SQL in the same transaction: `(n, step)` runs
/// after migration `n`, for what SQL cannot compute (a SHA-256).
const RUST_STEPS: &[(usize, RustStep)] = &[(10, fill_id_hashes)];

/// A migration step written in Rust, run inside the migration's transaction.
type RustStep = fn(&Connection) -> rusqlite::Result<()>;

/// Migration 10: `id_hash` of every existing row, in rowid order, a chunk at a time.
fn fill_id_hashes(conn: &Connection) -> rusqlite::Result<()> {
    const CHUNK: i64 = 10_000;
    let mut read = conn
        .prepare("SELECT rowid, stix_id FROM objects WHERE rowid > ?1 ORDER BY rowid LIMIT ?2")?;
    let mut write = conn.prepare("UPDATE objects SET id_hash = ?2 WHERE rowid = ?1")?;
    let mut after = i64::MIN;
    loop {
        let rows: Vec<(i64, String)> = read
            .query_map(rusqlite::params![after, CHUNK], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        after = *last;
        for (rowid, stix_id) in &rows {
            write.execute(rusqlite::params![rowid, super::objects::id_hash(stix_id)])?;
        }
    }
}

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies the missing migrations. Refuses a file written by a newer entente.
pub fn migrate(conn: &mut Connection) -> Result<(), MigrateError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let current: i64 = tx
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    if current > CURRENT_VERSION {
        return Err(MigrateError::TooNew(current));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql)?;
        for (_, step) in RUST_STEPS.iter().filter(|(n, _)| *n == i + 1) {
            step(&tx)?;
        }
        tracing::info!(version = i + 1, "applied store migration");
    }
    tx.execute("DELETE FROM schema_version", [])?;
    tx.execute(
        "INSERT INTO schema_version (version) VALUES (?1)",
        [CURRENT_VERSION],
    )?;
    tx.commit()?;
    Ok(())
}

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// SQLite failed.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer entente.
    #[error("database schema version {0} is newer than this entente understands")]
    TooNew(i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An in-memory database as a build at schema `version` left it, with an API root `r`
    /// and a collection `c` (seq 1).
    fn file_at(version: usize) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            .unwrap();
        for (i, sql) in MIGRATIONS[..version].iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            for (_, step) in RUST_STEPS.iter().filter(|(n, _)| *n == i + 1) {
                step(&conn).unwrap();
            }
        }
        conn.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [version as i64],
        )
        .unwrap();
        conn.execute_batch(
            "INSERT INTO api_roots (name, title, created_us) VALUES ('r', 't', 0);
             INSERT INTO collections (seq, id, api_root, title, public_read, restricted, media_types, created_us)
                 VALUES (1, 'c', 'r', 't', 0, 0, '', 0);",
        )
        .unwrap();
        conn
    }

    /// One column of every object row, in rowid order.
    fn column<T: rusqlite::types::FromSql>(conn: &Connection, name: &str) -> Vec<T> {
        conn.prepare(&format!("SELECT {name} FROM objects ORDER BY rowid"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    /// A file at schema 6 gets `newer_tlp` from its objects' other versions when migration
    /// 7 adds the column: the lowest TLP among the newer versions, NULL for the newest, in
    /// each collection separately.
    #[test]
    fn migration_7_marks_the_versions_that_have_newer_ones() {
        let mut conn = file_at(6);
        conn.execute(
            "INSERT INTO collections (seq, id, api_root, title, public_read, restricted, media_types, created_us)
                 VALUES (2, 'd', 'r', 't', 0, 0, '', 0)",
            [],
        )
        .unwrap();
        // (collection, id, version key, tlp), inserted out of version order.
        let rows = [
            (1, "a", "3", 1),
            (1, "a", "1", 0),
            (1, "a", "2", 3),
            (1, "b", "1", 2),
            (2, "a", "9", 0),
        ];
        for (n, (collection, id, key, tlp)) in rows.iter().enumerate() {
            conn.execute(
                "INSERT INTO objects (collection, stix_id, type, version_key, version, spec_version, date_added, tlp, revoked, sha256, raw)
                 VALUES (?1, ?2, 'malware', ?3, 'v', '2.1', ?4, ?5, 0, x'00', '{}')",
                rusqlite::params![collection, id, key, n as i64, tlp],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let marks: Vec<Option<i64>> = column(&conn, "newer_tlp");
        // a@1 has a@2 (3) and a@3 (1) above it; a@2 has a@3; the newest and the single
        // versions have none, and collection 2's `a` is another object.
        assert_eq!(marks, [None, Some(1), Some(1), None, None]);
    }

    /// Migration 9 sets the full-text index's in-memory size in its stored configuration,
    /// which every connection reads when it opens the table.
    #[test]
    fn migration_9_sets_the_full_text_hash_size() {
        let conn = file_at(9);
        let size: i64 = conn
            .query_row(
                "SELECT v FROM objects_fts_config WHERE k = 'hashsize'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(size, 64 << 20);
        // The table still takes rows and finds them.
        conn.execute(
            "INSERT INTO objects_fts (rowid, name) VALUES (1, 'emotet loader')",
            [],
        )
        .unwrap();
        let found: i64 = conn
            .query_row(
                "SELECT rowid FROM objects_fts WHERE objects_fts MATCH 'emotet'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, 1);
    }

    /// A file at schema 9 (versions found by the unique `(collection, stix_id,
    /// version_key)` index) gets every row's `id_hash` from migration 10, the new index in
    /// place of the old one, and afterwards the store tells its old versions' duplicates,
    /// adds newer versions and reads them back by id as before.
    #[test]
    fn migration_10_hashes_the_ids_of_existing_rows() {
        use crate::keys::version_key;
        use crate::types::{AddResult, NewObject, ObjectQuery, VersionMatch};
        use stix::{Timestamp, TlpLevel};
        let mut conn = file_at(9);
        conn.execute("UPDATE collections SET media_types = '[]'", [])
            .unwrap();
        let t1 = Timestamp::parse("2020-01-01T00:00:00Z").unwrap();
        let t2 = Timestamp::parse("2021-01-01T00:00:00Z").unwrap();
        let body = |id: &str, t: &Timestamp| {
            format!(r#"{{"type":"malware","id":"{id}","modified":"{t}","name":"m"}}"#)
        };
        // Written as a build at schema 9 wrote them: two versions of one id, another id.
        for (n, (id, t)) in [
            ("malware--a", &t1),
            ("malware--a", &t2),
            ("malware--b", &t1),
        ]
        .into_iter()
        .enumerate()
        {
            conn.execute(
                "INSERT INTO objects (collection, stix_id, type, version_key, version, spec_version, date_added, tlp, revoked, sha256, raw, newer_tlp)
                 VALUES (1, ?1, 'malware', ?2, ?3, '2.1', ?4, 0, 0, x'00', ?5, ?6)",
                rusqlite::params![id, version_key(t), t.to_string(), n as i64 + 1, body(id, t), (n == 0).then_some(0)],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let ids: Vec<String> = column(&conn, "stix_id");
        let hashes: Vec<i64> = column(&conn, "id_hash");
        let expected: Vec<i64> = ids
            .iter()
            .map(|i| super::super::objects::id_hash(i))
            .collect();
        assert_eq!(hashes, expected);
        assert_ne!(hashes[0], hashes[2]);
        let indexes: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'objects' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(indexes.contains(&"objects_by_id".to_owned()), "{indexes:?}");
        assert!(
            !indexes.contains(&"objects_by_version".to_owned()),
            "{indexes:?}"
        );

        let c = super::super::accounts::require_collection(&conn, "c").unwrap();
        let obj = |id: &str, t: &Timestamp| NewObject {
            id: id.into(),
            type_name: "malware".into(),
            spec_version: "2.1".into(),
            version: Some(*t),
            raw_json: body(id, t),
            tlp: TlpLevel::Clear,
            revoked: false,
        };
        let t3 = Timestamp::parse("2022-01-01T00:00:00Z").unwrap();
        let out = super::super::objects::add_objects(
            &conn,
            &c,
            vec![
                obj("malware--a", &t1),
                obj("malware--b", &t3),
                obj("malware--b", &t3),
            ],
            false,
        )
        .unwrap();
        assert!(
            matches!(out[0].result, AddResult::Duplicate { .. }),
            "{:?}",
            out[0]
        );
        assert!(
            matches!(out[1].result, AddResult::Added { .. }),
            "{:?}",
            out[1]
        );
        assert!(
            matches!(out[2].result, AddResult::Duplicate { .. }),
            "{:?}",
            out[2]
        );
        let versions = |id: &str, m: VersionMatch| -> Vec<String> {
            let q = ObjectQuery {
                max_tlp: TlpLevel::Red,
                versions: vec![m],
                ..ObjectQuery::default()
            };
            super::super::objects::query_objects(&conn, &c, &q, Some(id))
                .unwrap()
                .items
                .into_iter()
                .map(|o| o.version)
                .collect()
        };
        assert_eq!(versions("malware--a", VersionMatch::All).len(), 2);
        assert_eq!(
            versions("malware--a", VersionMatch::First),
            [t1.to_string()]
        );
        assert_eq!(versions("malware--b", VersionMatch::Last), [t3.to_string()]);
        // The new version of b made its old one a non-latest version.
        let marks: Vec<Option<i64>> = column(&conn, "newer_tlp");
        assert_eq!(marks, [Some(0), None, Some(0), None]);
    }

    /// Migration 11 keeps the log's node rows of every fourth level, the ones still read.
    #[test]
    fn migration_11_keeps_every_fourth_level_of_log_nodes() {
        let mut conn = file_at(10);
        for level in 1..=9 {
            conn.execute(
                "INSERT INTO log_nodes (level, idx, hash) VALUES (?1, 0, x'00')",
                [level],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let levels: Vec<i64> = conn
            .prepare("SELECT level FROM log_nodes ORDER BY level")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(levels, [4, 8]);
        assert!(
            levels
                .iter()
                .all(|l| super::super::log::stored_level(*l as u8))
        );
    }

    /// A file at schema 7 (producer as a generated column) keeps its producers when
    /// migration 8 makes the column a plain one, and the producer index is back.
    #[test]
    fn migration_8_fills_created_by_of_existing_rows() {
        let mut conn = file_at(7);
        for (n, raw) in [
            r#"{"type":"malware","created_by_ref":"identity--a"}"#,
            r#"{"type":"malware","name":"no producer"}"#,
            "not json",
        ]
        .iter()
        .enumerate()
        {
            conn.execute(
                "INSERT INTO objects (collection, stix_id, type, version_key, version, spec_version, date_added, tlp, revoked, sha256, raw)
                 VALUES (1, ?1, 'malware', 'k', 'v', '2.1', ?2, 0, 0, x'00', ?3)",
                rusqlite::params![format!("malware--{n}"), n as i64, raw],
            )
            .unwrap();
        }
        let before: Vec<Option<String>> = column(&conn, "created_by");
        migrate(&mut conn).unwrap();
        let after: Vec<Option<String>> = column(&conn, "created_by");
        assert_eq!(before, [Some("identity--a".to_owned()), None, None]);
        assert_eq!(after, before);
        let plan: String = conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT rowid FROM objects WHERE collection = 1 AND created_by = 'identity--a' ORDER BY date_added",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("objects_by_producer"), "{plan}");
        // A plain column now: written, not computed.
        conn.execute(
            "UPDATE objects SET created_by = 'identity--b' WHERE rowid = 2",
            [],
        )
        .unwrap();
    }

    /// Migration 12 takes the full-text index out of the store's file (the indexer thread
    /// builds it in its own file) and records deletions for that thread instead: the delete
    /// trigger still removes the row's references, and notes its rowid in `search_gone`.
    #[test]
    fn migration_12_moves_the_full_text_index_out() {
        let mut conn = file_at(11);
        conn.execute_batch(
            "INSERT INTO objects (collection, stix_id, type, version_key, version, spec_version, date_added, tlp, revoked, sha256, raw)
                 VALUES (1, 'malware--a', 'malware', 'k', 'v', '2.1', 1, 0, 0, x'00', '{\"name\":\"emotet\"}');
             INSERT INTO objects_fts (rowid, name) VALUES (1, 'emotet');
             INSERT INTO object_refs (ref, obj) VALUES ('identity--x', 1);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let fts: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'objects_fts%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(fts, 0);
        let epoch: String = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'search_epoch'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(epoch.len(), 32);
        conn.execute("DELETE FROM objects WHERE rowid = 1", [])
            .unwrap();
        let gone: Vec<i64> = conn
            .prepare("SELECT obj FROM search_gone")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(gone, [1]);
        let refs: i64 = conn
            .query_row("SELECT count(*) FROM object_refs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(refs, 0);
    }
}
