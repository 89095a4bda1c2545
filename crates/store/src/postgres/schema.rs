//! The PostgreSQL schema as numbered migrations, applied on open under a session advisory
//! lock.
//!
//! `schema_version` holds one row with the number of the last migration applied. Opening a
//! store takes the installation's migration lock (`pg_advisory_lock`, a fixed key per
//! schema) on a dedicated connection, then runs the missing migrations in one transaction:
//! replicas starting together queue on the lock, the first migrates and the others find
//! the schema current; a failed migration leaves the database as it was. Migrations are
//! append-only: never edit one that has shipped.
//!
//! The tables mirror the SQLite ones (`sqlite/schema.rs`) with PostgreSQL types. Objects are
//! keyed by `(collection, date_added)`, the paging order, so a page of a collection of any
//! size is one range scan of the primary key; text compared as versions uses the `C`
//! collation so that ordering is by bytes, as on SQLite.

use super::backend;
use crate::{Result, StoreError};

/// The migrations, in order; migration `n` is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[&str] = &[
    // 1: everything the SQLite schema has at its version 2, and the shared log key.
    r#"
CREATE TABLE orgs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_us  BIGINT NOT NULL
);
CREATE TABLE users (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    org_id      BIGINT NOT NULL REFERENCES orgs(id),
    admin       BOOLEAN NOT NULL,
    created_us  BIGINT NOT NULL
);
-- Only the SHA-256 of a token's secret is kept (DESIGN.md "Access").
CREATE TABLE tokens (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    hash        BYTEA NOT NULL UNIQUE,
    created_us  BIGINT NOT NULL,
    revoked     BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX tokens_by_user ON tokens(user_id);
CREATE TABLE api_roots (
    name        TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT,
    created_us  BIGINT NOT NULL
);
-- `seq` is the compact key objects refer to; `id` the public UUID; `last_date_added` the
-- high-water mark that keeps date_added strictly increasing.
CREATE TABLE collections (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    api_root        TEXT NOT NULL REFERENCES api_roots(name),
    title           TEXT NOT NULL,
    description     TEXT,
    alias           TEXT,
    public_read     BOOLEAN NOT NULL,
    restricted      BOOLEAN NOT NULL,
    media_types     TEXT NOT NULL,
    created_us      BIGINT NOT NULL,
    last_date_added BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX collections_alias ON collections(api_root, alias) WHERE alias IS NOT NULL;
CREATE TABLE org_grants (
    collection  BIGINT NOT NULL REFERENCES collections(seq),
    org_id      BIGINT NOT NULL REFERENCES orgs(id),
    can_read    BOOLEAN NOT NULL,
    can_write   BOOLEAN NOT NULL,
    PRIMARY KEY (collection, org_id)
);
CREATE TABLE user_grants (
    collection  BIGINT NOT NULL REFERENCES collections(seq),
    user_id     BIGINT NOT NULL REFERENCES users(id),
    can_read    BOOLEAN NOT NULL,
    can_write   BOOLEAN NOT NULL,
    PRIMARY KEY (collection, user_id)
);
-- One row per stored object version: `version_key` is the fixed-width instant versions
-- compare by, `version` the text as posted, `date_added` microseconds since the epoch,
-- `tlp` 0 (CLEAR) .. 4 (RED), `raw` the exact JSON as posted.
CREATE TABLE objects (
    collection   BIGINT NOT NULL REFERENCES collections(seq),
    date_added   BIGINT NOT NULL,
    stix_id      TEXT COLLATE "C" NOT NULL,
    type         TEXT COLLATE "C" NOT NULL,
    version_key  TEXT COLLATE "C" NOT NULL,
    version      TEXT NOT NULL,
    spec_version TEXT COLLATE "C" NOT NULL,
    tlp          INTEGER NOT NULL,
    revoked      BOOLEAN NOT NULL,
    sha256       BYTEA NOT NULL,
    raw          TEXT NOT NULL,
    -- Paging is a range scan of this key (TAXII 2.1 §3.6); uniqueness enforces "strictly
    -- increasing" at the storage level too.
    PRIMARY KEY (collection, date_added)
);
-- Versions of one object: first/last/at lookups, duplicates (TAXII 2.1 §3.4.2, §5.4).
CREATE UNIQUE INDEX objects_by_version ON objects(collection, stix_id, version_key);
CREATE TABLE statuses (
    id          TEXT PRIMARY KEY,
    owner       BIGINT NOT NULL,
    body        TEXT NOT NULL
);
-- Small facts about the installation, e.g. `bootstrapped` once the first start set it up.
CREATE TABLE meta (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL
);
-- The transparency log's entries, appended in the same transaction as the writes they
-- record; `idx` is the zero-based leaf index, `add_object` the commitment of an `add`.
CREATE TABLE log_leaves (
    idx         BIGINT PRIMARY KEY,
    entry       BYTEA NOT NULL,
    leaf_hash   BYTEA NOT NULL,
    add_object  BYTEA
);
CREATE INDEX log_leaves_by_object ON log_leaves(add_object) WHERE add_object IS NOT NULL;
-- The hash of every complete subtree (RFC 9162 §2.1.1) at `level`, index `idx`.
CREATE TABLE log_nodes (
    level       INTEGER NOT NULL,
    idx         BIGINT NOT NULL,
    hash        BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
-- Signed C2SP checkpoints published, one per size.
CREATE TABLE log_checkpoints (
    size        BIGINT PRIMARY KEY,
    note        TEXT NOT NULL,
    created_us  BIGINT NOT NULL
);
-- The log's signing key (Go note signer format), shared by all replicas: one row.
CREATE TABLE log_signing_key (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    skey        TEXT NOT NULL,
    created_us  BIGINT NOT NULL
);
"#,
    // 2: what the web UI reads (`postgres/search.rs`, as SQLite's migration 3): the
    // producer, the words to search and the references between objects, written with the
    // objects by `objects.rs` (computed before the log lock is taken); rows written before
    // are filled in here from their JSON.
    r#"
ALTER TABLE objects ADD COLUMN created_by TEXT COLLATE "C";
-- Names (or an SCO's value), descriptions and patterns, split into words at every
-- character that is not a letter or digit, as 'simple' (lower-cased, no stemming) lexemes.
ALTER TABLE objects ADD COLUMN search tsvector;
CREATE INDEX objects_ui_by_type ON objects(collection, type, date_added);
CREATE INDEX objects_ui_by_tlp ON objects(collection, tlp, date_added);
CREATE INDEX objects_by_producer ON objects(collection, created_by, date_added)
    WHERE created_by IS NOT NULL;
CREATE INDEX objects_search ON objects USING gin (search);
-- The object at (collection, date_added) refers to STIX id `ref`.
CREATE TABLE object_refs (
    ref         TEXT COLLATE "C" NOT NULL,
    collection  BIGINT NOT NULL,
    date_added  BIGINT NOT NULL,
    PRIMARY KEY (ref, collection, date_added),
    FOREIGN KEY (collection, date_added) REFERENCES objects(collection, date_added) ON DELETE CASCADE
);
CREATE INDEX object_refs_by_obj ON object_refs(collection, date_added);
CREATE FUNCTION entente_try_jsonb(t text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN t::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;
CREATE TEMPORARY TABLE entente_parsed ON COMMIT DROP AS
    SELECT collection, date_added, entente_try_jsonb(raw) AS v FROM objects;
DELETE FROM entente_parsed WHERE v IS NULL OR jsonb_typeof(v) <> 'object';
UPDATE objects o SET
    created_by = CASE WHEN jsonb_typeof(p.v -> 'created_by_ref') = 'string' THEN p.v ->> 'created_by_ref' END,
    search = to_tsvector('simple', regexp_replace(
        concat_ws(' ', coalesce(p.v ->> 'name', p.v ->> 'value'), p.v ->> 'description', p.v ->> 'pattern'),
        '[^[:alnum:]]+', ' ', 'g'))
FROM entente_parsed p WHERE o.collection = p.collection AND o.date_added = p.date_added;
INSERT INTO object_refs (ref, collection, date_added)
SELECT DISTINCT r.ref, p.collection, p.date_added FROM entente_parsed p, LATERAL (
    SELECT p.v ->> k AS ref FROM unnest(ARRAY['source_ref', 'target_ref', 'sighting_of_ref']) AS k
    WHERE jsonb_typeof(p.v -> k) = 'string'
    UNION
    SELECT e #>> '{}' FROM unnest(ARRAY['object_refs', 'where_sighted_refs', 'observed_data_refs']) AS k,
        jsonb_array_elements(CASE WHEN jsonb_typeof(p.v -> k) = 'array' THEN p.v -> k ELSE '[]'::jsonb END) AS e
    WHERE jsonb_typeof(e) = 'string'
) AS r;
DROP FUNCTION entente_try_jsonb(text);
"#,
    // 3: no index on (collection, tlp, date_added). Measured on a collection of 1,000,000
    // versions: the planner, which cannot estimate how many rows the "newest version"
    // subquery keeps, used it for TAXII pages of a TLP:CLEAR reader and sorted 166,667 rows
    // (3.7 s) instead of reading 1,001 along the primary key (16 ms). The UI's TLP filter
    // reads along the other indexes instead.
    r#"
DROP INDEX IF EXISTS objects_ui_by_tlp;
"#,
    // 4: `newer_tlp`, the lowest TLP (0 CLEAR .. 4 RED) among the *newer* versions of the
    // row's object, NULL while it is the newest. A page of latest versions
    // (`match[version]=last`, the default) then keeps a row by a column test, `newer_tlp IS
    // NULL OR newer_tlp > reader's TLP` (no newer version the reader may see), instead of
    // probing the version index once per row: on 300,000 versions those 1,001 probes were
    // 27-40 ms of a page whose primary-key walk took 1.5 ms (EXPLAIN ANALYZE, TIMING OFF,
    // load 10). Writers keep it (`objects.rs`): an envelope's duplicate lookup already
    // reads every stored version of its ids, so the new rows get their value on insert and
    // older versions are updated by one statement, only when there are any; a deletion
    // recomputes it for the remaining versions of its object. (Statement triggers did the
    // same but probed the version index again per inserted row, 40-80% more time for an
    // insert of 500 rows, all of it under the log lock.) `ui_counts`, the versions per
    // (collection, TLP), is what `collection_stats` sums instead of counting rows (as
    // SQLite's migration 4), kept by the same writers.
    r#"
ALTER TABLE objects ADD COLUMN newer_tlp INTEGER;
UPDATE objects o SET newer_tlp = n.tlp
FROM (SELECT p.collection, p.date_added, min(v.tlp) AS tlp
      FROM objects p
      JOIN objects v ON v.collection = p.collection AND v.stix_id = p.stix_id
          AND v.version_key > p.version_key
      GROUP BY p.collection, p.date_added) n
WHERE o.collection = n.collection AND o.date_added = n.date_added;
CREATE TABLE ui_counts (
    collection  BIGINT NOT NULL,
    tlp         INTEGER NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (collection, tlp)
);
INSERT INTO ui_counts (collection, tlp, n)
    SELECT collection, tlp, count(*) FROM objects GROUP BY collection, tlp;
ANALYZE objects;
"#,
];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies the missing migrations while holding the session advisory lock `key` on this
/// connection. Refuses a database written by a newer entente.
pub(super) async fn migrate(client: &mut tokio_postgres::Client, key: i64) -> Result<()> {
    // Waiting for another replica's migration, and a migration over a large table, may take
    // longer than the pool's statement timeout: this connection has none.
    client
        .batch_execute("SET statement_timeout = 0")
        .await
        .map_err(backend)?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&key])
        .await
        .map_err(backend)?;
    let out = migrate_locked(client).await;
    // Closing the session would release it too; unlock explicitly so that the lock's
    // lifetime does not depend on when the connection task ends.
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&key])
        .await
        .map_err(backend);
    out?;
    unlocked?;
    Ok(())
}

async fn migrate_locked(client: &mut tokio_postgres::Client) -> Result<()> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .await
        .map_err(backend)?;
    let current: i64 = tx
        .query_opt("SELECT version FROM schema_version", &[])
        .await
        .map_err(backend)?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(backend)?
        .unwrap_or(0);
    if current > CURRENT_VERSION {
        return Err(StoreError::Backend(format!(
            "database schema version {current} is newer than this entente understands ({CURRENT_VERSION})"
        )));
    }
    if current == CURRENT_VERSION {
        return Ok(());
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.batch_execute(sql).await.map_err(backend)?;
        tracing::info!(version = i + 1, "applied postgres store migration");
    }
    tx.execute("DELETE FROM schema_version", &[])
        .await
        .map_err(backend)?;
    tx.execute(
        "INSERT INTO schema_version (version) VALUES ($1)",
        &[&CURRENT_VERSION],
    )
    .await
    .map_err(backend)?;
    tx.commit().await.map_err(backend)
}
