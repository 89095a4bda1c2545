//! Object versions, queries, deletion, status resources and log entries on SQLite.
//!
//! Writes run inside one `BEGIN IMMEDIATE` transaction per call (taken by the caller), so
//! the date_added high-water mark read at the start cannot be raced by another writer, in
//! this process or in another one (`entente admin`); reads run on WAL snapshots.
//!
//! An `(id, version)` is stored once (TAXII 2.1 §5.4). Since migration 10 no unique index
//! says so: [`add_digested`], the only code that inserts object rows, probes the id's stored
//! versions before each insert, inside that same write transaction, and reports the
//! version a duplicate. The index it probes is keyed by a hash of the id ([`id_hash`]).

use super::accounts::CollectionRow;
use super::fields::Fields;
use super::log::LogAppender;
use super::search::Added;
use super::{backend, ts_from_us};
use crate::keys::{
    encode_next, next_date_added, now_micros, page_start, tlp_from_int, tlp_to_int, version_key,
};
use crate::tlp_policy;
use crate::types::*;
use crate::{Result, StoreError};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

/// [`add_digested`] of objects it hashes itself: the tests' shorthand.
#[cfg(test)]
pub(super) fn add_objects(
    conn: &Connection,
    c: &CollectionRow,
    objects: Vec<NewObject>,
    logged: bool,
) -> Result<Vec<AddOutcome>> {
    add_digested(
        conn,
        c,
        objects.into_iter().map(Digested::of).collect(),
        logged,
    )
}

/// Stores an envelope, each object with its hashes (`Digested`, computed by the caller
/// before the writer's lock). The caller holds the write transaction and commits it;
/// outcomes are handed out only after that commit.
pub(super) fn add_digested(
    conn: &Connection,
    c: &CollectionRow,
    objects: Vec<Digested>,
    logged: bool,
) -> Result<Vec<AddOutcome>> {
    let mut last: i64 = conn
        .query_row(
            "SELECT last_date_added FROM collections WHERE seq = ?1",
            [c.seq],
            |r| r.get(0),
        )
        .map_err(backend)?;
    let mut log = if logged {
        Some(LogAppender::new(conn)?)
    } else {
        None
    };
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO objects (collection, stix_id, id_hash, type, version_key, version, spec_version, date_added, tlp, revoked, sha256, raw, log_idx, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .map_err(backend)?;
    // Every stored version of one id: what tells a duplicate (the same version, or for an
    // unversioned object the same body) and whether the id had a version before, in one
    // probe of `objects_by_id` (see [`id_hash`]), usually finding nothing.
    let mut stored_versions = conn
        .prepare_cached(
            "SELECT version_key, sha256, date_added, version FROM objects INDEXED BY objects_by_id
             WHERE collection = ?1 AND id_hash = ?2 AND stix_id = ?3",
        )
        .map_err(backend)?;
    // The ids this call adds a version to that had one already (`newer.rs`).
    let mut versioned: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut outcomes = Vec::with_capacity(objects.len());
    // The UI's indexes of the rows this call inserts (`search::Added`).
    let mut added = Added::new(c.seq);
    // The key and text of the last version seen: the objects of one envelope or import
    // batch mostly share one `modified`, and formatting two texts per object was a visible
    // share of an insert in `perf`.
    let mut last_version: Option<(stix::Timestamp, String, String)> = None;
    for digested in objects {
        let (sha, hash) = (*digested.sha256(), digested.id_hash());
        let obj = digested.into_object();
        if let Some(reason) = refusal(&obj, c) {
            outcomes.push(AddOutcome {
                id: obj.id,
                version: obj.version.map(|v| v.to_string()).unwrap_or_default(),
                result: AddResult::Failed { reason },
            });
            continue;
        }
        let stored: Vec<StoredVersion> = stored_versions
            .query_map(params![c.seq, hash, obj.id], |r| {
                Ok(StoredVersion {
                    key: r.get(0)?,
                    sha256: r.get(1)?,
                    date_added: r.get(2)?,
                    version: r.get(3)?,
                })
            })
            .map_err(backend)?
            .collect::<rusqlite::Result<_>>()
            .map_err(backend)?;
        let date_added = next_date_added(last, now_micros());
        let (key, version_text) = match &obj.version {
            Some(v) => match &last_version {
                Some((seen, key, text)) if seen == v => (key.clone(), text.clone()),
                _ => {
                    let (key, text) = (version_key(v), v.to_string());
                    last_version = Some((*v, key.clone(), text.clone()));
                    (key, text)
                }
            },
            None => {
                // Unversioned objects (most SCOs): the same body again is the same object.
                if let Some(s) = stored.iter().find(|s| s.sha256 == sha) {
                    outcomes.push(AddOutcome {
                        id: obj.id,
                        version: s.version.clone(),
                        result: AddResult::Duplicate {
                            date_added: ts_from_us(s.date_added)?,
                        },
                    });
                    continue;
                }
                // TAXII 2.1 manifest `version`: the date_added when there is no version.
                let ts = ts_from_us(date_added)?;
                (version_key(&ts), ts.to_string())
            }
        };
        if let Some(s) = stored.iter().find(|s| s.key == key) {
            // TAXII 2.1 §5.4: the server may keep a single copy of an (id, version).
            outcomes.push(AddOutcome {
                id: obj.id,
                version: version_text,
                result: AddResult::Duplicate {
                    date_added: ts_from_us(s.date_added)?,
                },
            });
            continue;
        }
        let fields = Fields::for_store(&obj.raw_json);
        insert
            .execute(params![
                c.seq,
                obj.id,
                hash,
                obj.type_name,
                key,
                version_text,
                obj.spec_version,
                date_added,
                tlp_to_int(obj.tlp),
                obj.revoked,
                &sha[..],
                obj.raw_json,
                // The entry appended below when the row is new (none for a duplicate).
                log.as_ref().map(|l| l.next_index() as i64),
                fields.created_by,
            ])
            .map_err(backend)?;
        last = date_added;
        if !stored.is_empty() {
            versioned.insert(obj.id.clone());
        }
        added.push(conn, conn.last_insert_rowid(), tlp_to_int(obj.tlp), &fields)?;
        if let Some(log) = log.as_mut() {
            log.append(
                LogOp::Add,
                &c.collection.id,
                &obj.id,
                &version_text,
                date_added,
                &sha,
            )?;
        }
        outcomes.push(AddOutcome {
            id: obj.id,
            version: version_text,
            result: AddResult::Added {
                date_added: ts_from_us(date_added)?,
            },
        });
    }
    added.finish(conn)?;
    super::newer::after_insert(conn, c.seq, &versioned)?;
    conn.execute(
        "UPDATE collections SET last_date_added = ?1 WHERE seq = ?2",
        params![last, c.seq],
    )
    .map_err(backend)?;
    Ok(outcomes)
}

/// One stored version of an id, as [`add_digested`] probes them.
struct StoredVersion {
    key: String,
    sha256: Vec<u8>,
    date_added: i64,
    version: String,
}

/// `objects.id_hash` of a STIX id: the first 8 bytes of its SHA-256, big-endian.
///
/// The versions of an object are found through `objects_by_id (collection, id_hash)`,
/// entries of ~20 bytes, instead of the former `(collection, stix_id, version_key)`
/// index, ~90 bytes per entry. Random UUIDs put every new entry on a different leaf, so
/// each write transaction of an import rewrote most of the index's pages; a quarter of its
/// size is a quarter of those pages (and of the WAL written and copied for them). Every
/// query compares `stix_id` as well, so two ids with one hash are told apart. SHA-256, not
/// a fast hash, so that nobody can post many ids that share one hash and make a probe of
/// each of them walk all the others.
pub(super) fn id_hash(stix_id: &str) -> i64 {
    crate::keys::id_hash(stix_id)
}

/// Why an object cannot be stored in this collection, if it cannot.
fn refusal(obj: &NewObject, c: &CollectionRow) -> Option<String> {
    if obj.id.is_empty() || obj.type_name.is_empty() || obj.spec_version.is_empty() {
        return Some("object lacks an id, type or spec_version".into());
    }
    tlp_policy::refusal_reason(obj.tlp, c.collection.flags)
}

/// Which columns a query returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Everything, with the body.
    Objects,
    /// No body (manifest, versions).
    NoBody,
}

/// One selected row.
struct Row {
    stix_id: String,
    type_name: String,
    version: String,
    date_added: i64,
    spec_version: String,
    raw: String,
    tlp: i64,
    revoked: bool,
}

/// Appends `AND column IN (?, ?, ...)` for a non-empty list.
fn push_in(sql: &mut String, args: &mut Vec<Value>, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    sql.push_str(" AND ");
    sql.push_str(column);
    sql.push_str(" IN (");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            sql.push(',');
        }
        sql.push('?');
        args.push(Value::Text(v.clone()));
    }
    sql.push(')');
}

/// Builds the WHERE clause shared by reads and deletes: collection, audience, ids, types,
/// spec versions and `match[version]` (TAXII 2.1 §3.4).
fn filter_clause(
    c: &CollectionRow,
    query: &ObjectQuery,
    object_id: Option<&str>,
    default_versions: VersionMatch,
) -> (String, Vec<Value>) {
    let mut sql = String::from("o.collection = ? AND o.tlp <= ?");
    let mut args = vec![
        Value::Integer(c.seq),
        Value::Integer(tlp_to_int(query.max_tlp)),
    ];
    // By id through `objects_by_id`: the hashes find the rows, the ids decide.
    match object_id {
        Some(id) => {
            sql.push_str(" AND o.id_hash = ? AND o.stix_id = ?");
            args.push(Value::Integer(id_hash(id)));
            args.push(Value::Text(id.to_owned()));
        }
        None if !query.ids.is_empty() => {
            sql.push_str(" AND o.id_hash IN (");
            for (i, id) in query.ids.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push('?');
                args.push(Value::Integer(id_hash(id)));
            }
            sql.push(')');
            push_in(&mut sql, &mut args, "o.stix_id", &query.ids);
        }
        None => {}
    }
    push_in(&mut sql, &mut args, "o.type", &query.types);
    push_in(&mut sql, &mut args, "o.spec_version", &query.spec_versions);

    let versions: &[VersionMatch] = if query.versions.is_empty() {
        std::slice::from_ref(&default_versions)
    } else {
        &query.versions
    };
    if versions.contains(&VersionMatch::All) {
        return (sql, args);
    }
    sql.push_str(" AND (");
    for (i, v) in versions.iter().enumerate() {
        if i > 0 {
            sql.push_str(" OR ");
        }
        match v {
            VersionMatch::At(ts) => {
                sql.push_str("o.version_key = ?");
                args.push(Value::Text(version_key(ts)));
            }
            VersionMatch::Last if query.spec_versions.is_empty() => {
                // The newest version this reader may see: no newer version at or below
                // its TLP (`newer.rs`), a test on the row, not a probe per row.
                sql.push_str(super::newer::LATEST_VISIBLE);
                args.push(Value::Integer(tlp_to_int(query.max_tlp)));
            }
            VersionMatch::First | VersionMatch::Last => {
                // First/last among the versions this reader may see and that match the
                // spec_version filter, so a hidden newer version neither leaks nor hides.
                let agg = if *v == VersionMatch::First {
                    "min"
                } else {
                    "max"
                };
                sql.push_str("o.version_key = (SELECT ");
                sql.push_str(agg);
                sql.push_str(
                    "(v.version_key) FROM objects v INDEXED BY objects_by_id WHERE v.collection = o.collection AND v.id_hash = o.id_hash AND v.stix_id = o.stix_id AND v.tlp <= ?",
                );
                args.push(Value::Integer(tlp_to_int(query.max_tlp)));
                push_in(&mut sql, &mut args, "v.spec_version", &query.spec_versions);
                sql.push(')');
            }
            VersionMatch::All => sql.push('1'),
        }
    }
    sql.push(')');
    (sql, args)
}

/// The SQL and arguments of a paged read: the rows after `added_after`/`next`, in date_added
/// order, at most `limit + 1` of them.
fn page_sql(
    c: &CollectionRow,
    query: &ObjectQuery,
    object_id: Option<&str>,
    default_versions: VersionMatch,
    shape: Shape,
    limit: usize,
) -> Result<(String, Vec<Value>)> {
    let (filter, mut args) = filter_clause(c, query, object_id, default_versions);
    let after = page_start(query)?;
    let body = if shape == Shape::Objects {
        "o.raw"
    } else {
        "''"
    };
    let index = by_id_index(object_id.is_some() || !query.ids.is_empty());
    let sql = format!(
        "SELECT o.stix_id, o.type, o.version, o.date_added, o.spec_version, {body}, o.tlp, o.revoked
         FROM objects o{index} WHERE {filter} AND o.date_added > ? ORDER BY o.date_added LIMIT ?"
    );
    args.push(Value::Integer(after));
    args.push(Value::Integer(limit as i64 + 1));
    Ok((sql, args))
}

/// The index a read by id (one object's versions, or `match[id]`) must use, `objects_by_id`. Without
/// statistics SQLite prefers walking the collection's date index in order (which serves
/// ORDER BY) and filtering on the id: a scan of the whole collection, ~0.5 s at 1,000,000
/// objects (measured by the UI bench), and with a list of ids it did the same once the list
/// was long enough. Reading the ids' few versions and sorting them is always cheaper.
fn by_id_index(by_id: bool) -> &'static str {
    if by_id {
        " INDEXED BY objects_by_id"
    } else {
        ""
    }
}

/// Runs a paged read: rows after `added_after`/`next`, oldest date_added first, one more
/// than the limit fetched to learn `more`.
fn select_page(
    conn: &Connection,
    c: &CollectionRow,
    query: &ObjectQuery,
    object_id: Option<&str>,
    default_versions: VersionMatch,
    shape: Shape,
) -> Result<(Vec<Row>, bool, Option<String>)> {
    let limit = query.limit.clamp(1, 100_000);
    let (sql, args) = page_sql(c, query, object_id, default_versions, shape, limit)?;
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let mut rows: Vec<Row> = stmt
        .query_map(params_from_iter(args), |r| {
            Ok(Row {
                stix_id: r.get(0)?,
                type_name: r.get(1)?,
                version: r.get(2)?,
                date_added: r.get(3)?,
                spec_version: r.get(4)?,
                raw: r.get(5)?,
                tlp: r.get(6)?,
                revoked: r.get(7)?,
            })
        })
        .map_err(backend)?
        .collect::<rusqlite::Result<_>>()
        .map_err(backend)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(|r| encode_next(r.date_added))
    } else {
        None
    };
    Ok((rows, more, next))
}

fn to_stored(r: Row) -> Result<StoredObject> {
    Ok(StoredObject {
        id: r.stix_id,
        type_name: r.type_name,
        version: r.version,
        date_added: ts_from_us(r.date_added)?,
        spec_version: r.spec_version,
        raw_json: r.raw,
        tlp: tlp_from_int(r.tlp)?,
        revoked: r.revoked,
    })
}

pub(super) fn query_objects(
    conn: &Connection,
    c: &CollectionRow,
    query: &ObjectQuery,
    object_id: Option<&str>,
) -> Result<Page<StoredObject>> {
    let (rows, more, next) = select_page(
        conn,
        c,
        query,
        object_id,
        VersionMatch::Last,
        Shape::Objects,
    )?;
    Ok(Page {
        items: rows.into_iter().map(to_stored).collect::<Result<_>>()?,
        more,
        next,
    })
}

pub(super) fn manifest(
    conn: &Connection,
    c: &CollectionRow,
    query: &ObjectQuery,
) -> Result<Page<ManifestEntry>> {
    let (rows, more, next) = select_page(conn, c, query, None, VersionMatch::Last, Shape::NoBody)?;
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(ManifestEntry {
                id: r.stix_id,
                date_added: ts_from_us(r.date_added)?,
                version: r.version,
                spec_version: r.spec_version,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Page { items, more, next })
}

pub(super) fn versions(
    conn: &Connection,
    c: &CollectionRow,
    object_id: &str,
    query: &ObjectQuery,
) -> Result<Page<VersionEntry>> {
    let (rows, more, next) = select_page(
        conn,
        c,
        query,
        Some(object_id),
        VersionMatch::All,
        Shape::NoBody,
    )?;
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(VersionEntry {
                version: r.version,
                date_added: ts_from_us(r.date_added)?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Page { items, more, next })
}

/// Deletes the selected versions of one object and logs each deletion (TAXII 2.1 §5.7;
/// DESIGN.md: a deletion is a log entry too). The caller holds the write transaction.
pub(super) fn delete_object(
    conn: &Connection,
    c: &CollectionRow,
    object_id: &str,
    query: &ObjectQuery,
) -> Result<u64> {
    let (filter, args) = filter_clause(c, query, Some(object_id), VersionMatch::All);
    let index = by_id_index(true);
    let sql = format!(
        "SELECT o.rowid, o.version, o.date_added, o.sha256 FROM objects o{index} WHERE {filter} ORDER BY o.date_added"
    );
    let victims: Vec<(i64, String, i64, Vec<u8>)> = conn
        .prepare(&sql)
        .map_err(backend)?
        .query_map(params_from_iter(args), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .map_err(backend)?
        .collect::<rusqlite::Result<_>>()
        .map_err(backend)?;
    let mut log = LogAppender::new(conn)?;
    let mut delete = conn
        .prepare_cached("DELETE FROM objects WHERE rowid = ?1")
        .map_err(backend)?;
    for (rowid, version, date_added, sha) in &victims {
        delete.execute([rowid]).map_err(backend)?;
        log.append(
            LogOp::Delete,
            &c.collection.id,
            object_id,
            version,
            *date_added,
            sha,
        )?;
    }
    if !victims.is_empty() {
        super::newer::after_delete(conn, c.seq, object_id)?;
    }
    Ok(victims.len() as u64)
}

pub(super) fn save_status(conn: &Connection, status: &Status, create: bool) -> Result<()> {
    let body = serde_json::to_string(status)
        .map_err(|e| StoreError::Invalid(format!("status resource: {e}")))?;
    if create {
        conn.execute(
            "INSERT INTO statuses (id, owner, body) VALUES (?1, ?2, ?3)",
            params![status.id, status.owner, body],
        )
        .map_err(|e| super::unique_or(e, "status", &status.id))?;
    } else {
        let n = conn
            .execute(
                "UPDATE statuses SET owner = ?2, body = ?3 WHERE id = ?1",
                params![status.id, status.owner, body],
            )
            .map_err(backend)?;
        if n == 0 {
            return Err(StoreError::not_found("status", &status.id));
        }
    }
    Ok(())
}

pub(super) fn status(conn: &Connection, id: &str) -> Result<Option<Status>> {
    let body: Option<String> = conn
        .query_row("SELECT body FROM statuses WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(backend)?;
    body.map(|b| {
        serde_json::from_str(&b).map_err(|e| StoreError::Corrupt(format!("status {id}: {e}")))
    })
    .transpose()
}

pub(super) fn log_size(conn: &Connection) -> Result<u64> {
    let n: i64 = conn
        .query_row(
            "SELECT coalesce(max(idx) + 1, 0) FROM log_leaves",
            [],
            |r| r.get(0),
        )
        .map_err(backend)?;
    Ok(n as u64)
}

pub(super) fn log_leaves(conn: &Connection, start: u64, limit: u64) -> Result<Vec<LogLeaf>> {
    let start = i64::try_from(start).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn
        .prepare_cached(
            "SELECT idx, entry, leaf_hash FROM log_leaves WHERE idx >= ?1 ORDER BY idx LIMIT ?2",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![start, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|r| {
        let (idx, entry, hash) = r.map_err(backend)?;
        let leaf_hash: [u8; 32] = hash
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("log leaf {idx}: hash is not 32 bytes")))?;
        Ok(LogLeaf {
            index: idx as u64,
            entry,
            leaf_hash,
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query plan of a paged read, one line per step.
    fn plan(conn: &Connection, c: &CollectionRow, q: &ObjectQuery, id: Option<&str>) -> String {
        let (sql, args) = page_sql(c, q, id, VersionMatch::Last, Shape::Objects, 1000).unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("\n")
    }

    fn collection(conn: &Connection) -> CollectionRow {
        super::super::accounts::create_api_root(
            conn,
            &NewApiRoot {
                name: "r".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let c = super::super::accounts::create_collection(
            conn,
            &NewCollection {
                api_root: "r".into(),
                title: "t".into(),
                ..Default::default()
            },
        )
        .unwrap();
        super::super::accounts::require_collection(conn, &c.id).unwrap()
    }

    /// Two ids with one `id_hash` (a collision, made here by rewriting the stored hash)
    /// stay two objects: a version of one is no duplicate of the other's, and reads and
    /// deletions by id see only their own id.
    #[test]
    fn ids_that_share_a_hash_stay_apart() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("t.db")).unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let c = collection(&conn);
        let t = stix::Timestamp::parse("2020-01-01T00:00:00Z").unwrap();
        let obj = |id: &str| NewObject {
            id: id.into(),
            type_name: "malware".into(),
            spec_version: "2.1".into(),
            version: Some(t),
            raw_json: format!(r#"{{"type":"malware","id":"{id}","modified":"{t}"}}"#),
            tlp: stix::TlpLevel::Clear,
            revoked: false,
        };
        // y is stored under x's hash, as if the two ids collided.
        add_objects(&conn, &c, vec![obj("malware--y")], true).unwrap();
        conn.execute("UPDATE objects SET id_hash = ?1", [id_hash("malware--x")])
            .unwrap();
        let out = add_objects(&conn, &c, vec![obj("malware--x"), obj("malware--x")], true).unwrap();
        assert!(
            matches!(out[0].result, AddResult::Added { .. }),
            "{:?}",
            out[0]
        );
        assert!(
            matches!(out[1].result, AddResult::Duplicate { .. }),
            "{:?}",
            out[1]
        );
        let all = ObjectQuery {
            max_tlp: stix::TlpLevel::Red,
            ..ObjectQuery::default()
        };
        let ids =
            |p: Page<StoredObject>| -> Vec<String> { p.items.into_iter().map(|o| o.id).collect() };
        assert_eq!(
            ids(query_objects(&conn, &c, &all, Some("malware--x")).unwrap()),
            ["malware--x"]
        );
        let listed = ObjectQuery {
            ids: vec!["malware--x".into()],
            ..all.clone()
        };
        assert_eq!(
            ids(query_objects(&conn, &c, &listed, None).unwrap()),
            ["malware--x"]
        );
        let latest =
            super::super::latest::latest_versions(&conn, &c, &["malware--x".into()]).unwrap();
        assert_eq!(latest.len(), 1);
        assert_eq!(latest[0].id, "malware--x");
        assert_eq!(delete_object(&conn, &c, "malware--x", &all).unwrap(), 1);
        assert_eq!(
            ids(query_objects(&conn, &c, &all, None).unwrap()),
            ["malware--y"]
        );
    }

    /// A page must be an index range scan in date_added order (no sort of the collection),
    /// and a lookup by id must go through the version index: that is what keeps a
    /// 1,000-object page flat as a collection grows (DESIGN.md performance targets).
    #[test]
    fn pages_use_the_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("t.db")).unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let c = collection(&conn);
        let all = plan(&conn, &c, &ObjectQuery::default(), None);
        assert!(all.contains("objects_by_date"), "{all}");
        assert!(!all.contains("TEMP B-TREE"), "{all}");
        let typed = ObjectQuery {
            types: vec!["indicator".into()],
            versions: vec![VersionMatch::All],
            ..Default::default()
        };
        let typed = plan(&conn, &c, &typed, None);
        assert!(
            typed.contains("objects_by_date") && !typed.contains("TEMP B-TREE"),
            "{typed}"
        );
        let one = plan(&conn, &c, &ObjectQuery::default(), Some("indicator--x"));
        assert!(one.contains("objects_by_id"), "{one}");
        assert!(!one.contains("SCAN"), "{one}");
        // All versions of one object (TAXII versions, GET with match[version]=all): by id,
        // never the collection's date order.
        let every = ObjectQuery {
            versions: vec![VersionMatch::All],
            ..Default::default()
        };
        let every = plan(&conn, &c, &every, Some("indicator--x"));
        assert!(
            every.contains("objects_by_id") && !every.contains("objects_by_date"),
            "{every}"
        );
        // A short list and a long one (a client's 200 ids in one match[id]), any version.
        for (n, versions) in [(2, vec![]), (200, vec![VersionMatch::All])] {
            let ids = ObjectQuery {
                ids: (0..n).map(|i| format!("indicator--{i}")).collect(),
                versions,
                ..Default::default()
            };
            let ids = plan(&conn, &c, &ids, None);
            assert!(
                ids.contains("objects_by_id") && !ids.contains("SCAN"),
                "{n} ids: {ids}"
            );
        }
    }
}
