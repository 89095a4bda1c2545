//! What the web UI reads on SQLite: filtered and full-text object lists, references between
//! objects, and per-collection counts.
//!
//! The indexes behind them come from schema migration 3: a `created_by` column with its
//! index, `(collection, ui_type | ui_tlp, date_added)` indexes (over generated copies of
//! `type` and `tlp`, so the TAXII queries' plans do not change), and the `object_refs`
//! table; migration 4 adds the counts `ui_counts`. These change in the same transaction as
//! the objects. The FTS5 table `objects_fts` lives in a file of its own since migration 12,
//! attached to readers as `search` and filled by a thread of its own (`sqlite/fulltext.rs`);
//! a search waits for it to reach the store's newest row first. New rows are indexed by
//! [`Added`], which the write path (`objects::add_digested`, the only code that inserts
//! objects) feeds with what it read from each body in one parse (`sqlite/fields.rs`; migration 8 made `created_by` a plain column
//! it writes). Neither is a trigger any more (migration 6): with a trigger every object
//! INSERT ran under a statement savepoint, at which FTS5 flushed its pending terms to disk —
//! one FTS segment per object. Deleted rows still leave through the delete triggers.
//!
//! Lists page by keyset on date_added, newest first (`date_added < last`), never `OFFSET`:
//! every page is one range scan of an index, however deep. Every query filters by the
//! reader's TLP audience in SQL before `LIMIT`, like `query_objects`, so what a reader may
//! not see is neither listed, counted, nor drawn.

use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

use super::accounts::CollectionRow;
use super::fields::Fields;
use super::{backend, ts_from_us};
use crate::keys::{decode_next, encode_next, floor_micros, tlp_from_int, tlp_to_int};
use crate::types::*;
use crate::{Result, StoreError};
use stix::TlpLevel;

/// Longest search text accepted, in bytes.
pub const MAX_TEXT: usize = 512;
/// Most words of a search text.
pub const MAX_WORDS: usize = 16;

/// The columns every query here selects, in [`row`]'s order.
const COLUMNS: &str =
    "o.stix_id, o.type, o.version, o.date_added, o.spec_version, o.raw, o.tlp, o.revoked";

/// "No newer version of this object is visible to the reader": the newest visible
/// version stands for the object. `?` is the reader's TLP level; the column test is
/// `newer.rs`'s.
const NEWEST_VISIBLE: &str = " AND (o.newer_tlp IS NULL OR o.newer_tlp > ?)";

/// One selected row: id, type, version, date_added, spec_version, raw, tlp, revoked.
pub(super) type RowTuple = (String, String, String, i64, String, String, i64, bool);

pub(super) fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RowTuple> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

pub(super) fn stored(
    (id, type_name, version, date_added, spec_version, raw, tlp, revoked): RowTuple,
) -> Result<StoredObject> {
    Ok(StoredObject {
        id,
        type_name,
        version,
        date_added: ts_from_us(date_added)?,
        spec_version,
        raw_json: raw,
        tlp: tlp_from_int(tlp)?,
        revoked,
    })
}

/// Turns what a person typed into an FTS5 query: each word (split on whitespace) quoted as
/// a phrase, so FTS5 operators and column filters typed by the user are plain text; plain
/// words of three or more letters or digits match as a prefix; all words must occur.
/// `None` when nothing searchable remains.
pub fn fts_query(text: &str) -> Result<Option<String>> {
    if text.len() > MAX_TEXT {
        return Err(StoreError::Invalid(format!(
            "search text longer than {MAX_TEXT} bytes"
        )));
    }
    let words: Vec<String> = text
        .split_whitespace()
        // A word without a letter or digit has no tokens and would be an empty phrase.
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .take(MAX_WORDS)
        .map(|w| {
            // A plain word of 3 or more characters matches as a prefix; a value with
            // punctuation (an address, a domain: several tokens) or a short word matches
            // exactly. A prefix on the last token of `h1.example.org` would merge the
            // posting lists of every token starting with `org`: 100 ms on 1,000,000
            // objects (benches/ui_pages.rs), against under 5 ms for the exact phrase.
            let quoted = format!("\"{}\"", w.replace('"', "\"\""));
            if w.chars().count() >= 3 && w.chars().all(char::is_alphanumeric) {
                quoted + "*"
            } else {
                quoted
            }
        })
        .collect();
    Ok((!words.is_empty()).then(|| words.join(" ")))
}

/// The UI's indexes of the object rows one write transaction inserts into one collection:
/// each row's full-text entry and references as it is inserted, the counts once at the end.
pub(super) struct Added {
    collection: i64,
    /// New versions per TLP level (0 = CLEAR .. 4 = RED, `keys::tlp_to_int`).
    per_tlp: [i64; 5],
}

impl Added {
    pub(super) fn new(collection: i64) -> Added {
        Added {
            collection,
            per_tlp: [0; 5],
        }
    }

    /// Indexes an inserted row: its references from `fields` (read from its body,
    /// `sqlite/fields.rs`), and its TLP level (`keys::tlp_to_int`) for the counts. Its
    /// full-text entry is written by the indexer thread (`sqlite/fulltext.rs`).
    pub(super) fn push(
        &mut self,
        conn: &Connection,
        rowid: i64,
        tlp: i64,
        fields: &Fields,
    ) -> Result<()> {
        if let Some(n) = usize::try_from(tlp)
            .ok()
            .and_then(|i| self.per_tlp.get_mut(i))
        {
            *n += 1;
        }
        if !fields.refs.is_empty() {
            let mut insert = conn
                .prepare_cached("INSERT OR IGNORE INTO object_refs (ref, obj) VALUES (?1, ?2)")
                .map_err(backend)?;
            for r in &fields.refs {
                insert.execute(params![r, rowid]).map_err(backend)?;
            }
        }
        Ok(())
    }

    /// Adds the recorded rows to the counts, inside the caller's write transaction.
    pub(super) fn finish(self, conn: &Connection) -> Result<()> {
        let mut count = conn
            .prepare_cached(
                "INSERT INTO ui_counts (collection, tlp, n) VALUES (?1, ?2, ?3)
                 ON CONFLICT (collection, tlp) DO UPDATE SET n = n + excluded.n",
            )
            .map_err(backend)?;
        for (level, n) in self.per_tlp.iter().enumerate() {
            if *n > 0 {
                count
                    .execute(params![self.collection, level as i64, n])
                    .map_err(backend)?;
            }
        }
        Ok(())
    }
}

/// [`crate::Store::search_objects`].
pub(super) fn search_objects(
    conn: &Connection,
    c: &CollectionRow,
    q: &SearchQuery,
) -> Result<Page<StoredObject>> {
    let max = tlp_to_int(q.max_tlp);
    // The filters on `o`, shared by both shapes below.
    let mut cond = String::from(" AND o.collection = ? AND o.tlp <= ?");
    let mut cond_args: Vec<Value> = vec![Value::Integer(c.seq), Value::Integer(max)];
    if !q.types.is_empty() {
        cond.push_str(" AND o.ui_type IN (");
        cond.push_str(&vec!["?"; q.types.len()].join(","));
        cond.push(')');
        cond_args.extend(q.types.iter().map(|t| Value::Text(t.clone())));
    }
    if !q.tlp.is_empty() {
        cond.push_str(" AND o.ui_tlp IN (");
        cond.push_str(&vec!["?"; q.tlp.len()].join(","));
        cond.push(')');
        cond_args.extend(q.tlp.iter().map(|t| Value::Integer(tlp_to_int(*t))));
    }
    if let Some(p) = &q.producer {
        cond.push_str(" AND o.created_by = ?");
        cond_args.push(Value::Text(p.clone()));
    }
    if let Some(t) = &q.added_after {
        cond.push_str(" AND o.date_added > ?");
        cond_args.push(Value::Integer(floor_micros(t)));
    }
    if let Some(t) = &q.added_before {
        cond.push_str(" AND o.date_added < ?");
        cond_args.push(Value::Integer(floor_micros(t)));
    }
    let cursor = q.next.as_deref().map(decode_next).transpose()?;
    if let Some(d) = cursor {
        cond.push_str(" AND o.date_added < ?");
        cond_args.push(Value::Integer(d));
    }
    cond.push_str(NEWEST_VISIBLE);
    cond_args.push(Value::Integer(max));
    let limit = q.limit.max(1);
    let mut args: Vec<Value> = Vec::new();
    let sql = match q.text.as_deref().map(fts_query).transpose()?.flatten() {
        None => {
            args.extend(cond_args);
            format!(
                "SELECT {COLUMNS} FROM objects o WHERE 1{cond} ORDER BY o.date_added DESC LIMIT ?"
            )
        }
        Some(m) => {
            // Driven by the full-text index, newest rowid first, so a common word stops
            // after one page instead of collecting every match. Within a collection rowid
            // order is date_added order: both grow with every insert (`rowid` is an
            // INTEGER PRIMARY KEY, assigned max + 1; date_added a high-water mark). The
            // cursor becomes a rowid bound the index can seek to; the date_added condition
            // above stays the one that decides.
            args.push(Value::Text(m));
            let mut seek = String::new();
            if let Some(d) = cursor {
                seek.push_str(
                    " AND objects_fts.rowid <= (SELECT rowid FROM objects WHERE collection = ? AND date_added < ? ORDER BY date_added DESC LIMIT 1)",
                );
                args.push(Value::Integer(c.seq));
                args.push(Value::Integer(d));
            }
            args.extend(cond_args);
            format!(
                "SELECT {COLUMNS} FROM search.objects_fts CROSS JOIN objects o ON o.rowid = objects_fts.rowid
                 WHERE objects_fts MATCH ?{seek}{cond} ORDER BY objects_fts.rowid DESC LIMIT ?"
            )
        }
    };
    args.push(Value::Integer(limit as i64 + 1));
    let mut stmt = conn.prepare(&sql).map_err(backend)?;
    let rows = stmt
        .query_map(params_from_iter(args), row)
        .map_err(backend)?;
    let mut items = Vec::with_capacity(limit + 1);
    for r in rows {
        items.push(r.map_err(backend)?);
    }
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more {
        items.last().map(|r| encode_next(r.3))
    } else {
        None
    };
    Ok(Page {
        items: items.into_iter().map(stored).collect::<Result<_>>()?,
        more,
        next,
    })
}

/// [`crate::Store::objects_referencing`].
pub(super) fn objects_referencing(
    conn: &Connection,
    c: &CollectionRow,
    stix_id: &str,
    max_tlp: TlpLevel,
    limit: usize,
) -> Result<Vec<StoredObject>> {
    let max = tlp_to_int(max_tlp);
    let sql = format!(
        // CROSS JOIN fixes the loop order (SQLite §"CROSS JOIN"): the few references of
        // the id first, then their objects by primary key. Left to itself the planner
        // walked the collection newest first to skip the sort, probing the references
        // per object: 9.4 s for one page on 1,000,000 objects (benches/ui_pages.rs).
        "SELECT {COLUMNS} FROM object_refs r CROSS JOIN objects o ON o.rowid = r.obj
         WHERE r.ref = ? AND o.collection = ? AND o.tlp <= ?{NEWEST_VISIBLE}
         ORDER BY o.date_added DESC LIMIT ?"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt
        .query_map(params![stix_id, c.seq, max, max, limit as i64], row)
        .map_err(backend)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(stored(r.map_err(backend)?)?);
    }
    Ok(out)
}

/// [`crate::Store::object_versions`]: the id's entries of `objects_by_id`, newest first (the
/// TAXII versions query walks the collection by date_added instead: 550 ms at 1,000,000).
pub(super) fn object_versions(
    conn: &Connection,
    c: &CollectionRow,
    stix_id: &str,
    max_tlp: TlpLevel,
    limit: usize,
) -> Result<Vec<VersionEntry>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT version, date_added FROM objects INDEXED BY objects_by_id
             WHERE collection = ?1 AND id_hash = ?2 AND stix_id = ?3 AND tlp <= ?4
             ORDER BY version_key DESC LIMIT ?5",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(
            params![
                c.seq,
                super::objects::id_hash(stix_id),
                stix_id,
                tlp_to_int(max_tlp),
                limit as i64
            ],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )
        .map_err(backend)?;
    let mut out = Vec::new();
    for r in rows {
        let (version, d) = r.map_err(backend)?;
        out.push(VersionEntry {
            version,
            date_added: ts_from_us(d)?,
        });
    }
    Ok(out)
}

/// [`crate::Store::collection_stats`]: the count from `ui_counts` (migration 4, kept by
/// triggers), the last date_added from one index seek per visible TLP level.
pub(super) fn collection_stats(
    conn: &Connection,
    c: &CollectionRow,
    max_tlp: TlpLevel,
) -> Result<CollectionStats> {
    let max = tlp_to_int(max_tlp);
    let versions: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum(n), 0) FROM ui_counts WHERE collection = ?1 AND tlp <= ?2",
        )
        .map_err(backend)?
        .query_row(params![c.seq, max], |r| r.get(0))
        .map_err(backend)?;
    let mut last_of_level = conn
        .prepare_cached("SELECT max(date_added) FROM objects WHERE collection = ?1 AND ui_tlp = ?2")
        .map_err(backend)?;
    let mut last: Option<i64> = None;
    for level in 0..=max {
        let l: Option<i64> = last_of_level
            .query_row(params![c.seq, level], |r| r.get(0))
            .map_err(backend)?;
        last = last.max(l);
    }
    Ok(CollectionStats {
        versions: u64::try_from(versions).unwrap_or(0),
        last_added: last.map(ts_from_us).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::{accounts, fulltext, objects, schema};
    use stix::Timestamp;

    fn setup() -> (tempfile::TempDir, Connection, CollectionRow) {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("t.db");
        let mut conn = Connection::open(&main).unwrap();
        schema::migrate(&mut conn).unwrap();
        let index = fulltext::search_path(&main);
        fulltext::open_index(&index).unwrap();
        fulltext::attach(&conn, &index).unwrap();
        accounts::create_api_root(
            &conn,
            &NewApiRoot {
                name: "r".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let c = accounts::create_collection(
            &conn,
            &NewCollection {
                api_root: "r".into(),
                title: "t".into(),
                // Restricted: the only kind that may hold TLP:RED.
                flags: CollectionFlags {
                    restricted: true,
                    public_read: false,
                },
                ..Default::default()
            },
        )
        .unwrap();
        let row = accounts::require_collection(&conn, &c.id).unwrap();
        (dir, conn, row)
    }

    fn obj(id: &str, modified: &str, tlp: TlpLevel, extra: &str) -> NewObject {
        let type_name = id.split("--").next().unwrap().to_owned();
        NewObject {
            id: id.into(),
            type_name: type_name.clone(),
            spec_version: "2.1".into(),
            version: Some(Timestamp::parse(modified).unwrap()),
            raw_json: format!(
                r#"{{"type":"{type_name}","id":"{id}","modified":"{modified}"{extra}}}"#
            ),
            tlp,
            revoked: false,
        }
    }

    /// [`search_objects`] once the full-text index holds every row, as
    /// `SqliteStore::search_objects` waits for it to.
    fn indexed_search(
        conn: &Connection,
        c: &CollectionRow,
        q: &SearchQuery,
    ) -> Result<Page<StoredObject>> {
        let main = std::path::Path::new(conn.path().unwrap());
        let mut index = fulltext::open_index(&fulltext::search_path(main)).unwrap();
        while fulltext::index_round(&mut index, conn).unwrap().more {}
        search_objects(conn, c, q)
    }

    fn ids(p: &Page<StoredObject>) -> Vec<&str> {
        p.items.iter().map(|o| o.id.as_str()).collect()
    }

    const T1: &str = "2024-01-01T00:00:00.000Z";
    const T2: &str = "2024-02-01T00:00:00.000Z";

    #[test]
    fn search_filters_newest_visible_versions_and_refs() {
        let (_d, conn, c) = setup();
        objects::add_objects(
            &conn,
            &c,
            vec![
                obj(
                    "malware--1",
                    T1,
                    TlpLevel::Green,
                    r#","name":"Sofacy loader","created_by_ref":"identity--a""#,
                ),
                obj(
                    "indicator--2",
                    T1,
                    TlpLevel::Clear,
                    r#","name":"bad","pattern":"[ipv4-addr:value = '198.51.100.7']""#,
                ),
                obj(
                    "relationship--3",
                    T1,
                    TlpLevel::Amber,
                    r#","source_ref":"indicator--2","target_ref":"malware--1""#,
                ),
                obj(
                    "report--4",
                    T1,
                    TlpLevel::Clear,
                    r#","name":"r","object_refs":["malware--1","indicator--2"]"#,
                ),
                // A newer version the GREEN reader may not see, and a broken body.
                obj(
                    "malware--1",
                    T2,
                    TlpLevel::Red,
                    r#","name":"Sofacy secret""#,
                ),
                NewObject {
                    raw_json: "not json".into(),
                    ..obj("tool--5", T1, TlpLevel::Clear, "")
                },
            ],
            true,
        )
        .unwrap();
        let q = |f: &dyn Fn(&mut SearchQuery)| {
            let mut q = SearchQuery {
                max_tlp: TlpLevel::Amber,
                ..SearchQuery::default()
            };
            f(&mut q);
            indexed_search(&conn, &c, &q).unwrap()
        };
        // Newest first; malware--1 stands for itself with the version AMBER may see.
        let all = q(&|_| {});
        assert_eq!(
            ids(&all),
            [
                "tool--5",
                "report--4",
                "relationship--3",
                "indicator--2",
                "malware--1"
            ]
        );
        assert_eq!(all.items[4].version, T1);
        assert_eq!(ids(&q(&|q| q.text = Some("sofacy".into()))), ["malware--1"]);
        assert!(
            ids(&q(&|q| q.text = Some("secret".into()))).is_empty(),
            "RED text searched"
        );
        assert_eq!(
            ids(&q(&|q| q.text = Some("198.51.100.7".into()))),
            ["indicator--2"]
        );
        assert_eq!(ids(&q(&|q| q.types = vec!["report".into()])), ["report--4"]);
        assert_eq!(
            ids(&q(&|q| q.tlp = vec![TlpLevel::Amber])),
            ["relationship--3"]
        );
        assert_eq!(
            ids(&q(&|q| q.producer = Some("identity--a".into()))),
            ["malware--1"]
        );
        assert!(ids(&q(&|q| q.tlp = vec![TlpLevel::Red])).is_empty());
        // A RED reader sees the newest version instead.
        let red = indexed_search(
            &conn,
            &c,
            &SearchQuery {
                max_tlp: TlpLevel::Red,
                types: vec!["malware".into()],
                ..SearchQuery::default()
            },
        )
        .unwrap();
        assert_eq!(red.items[0].version, T2);
        // Keyset paging: pages of 2 cover everything once.
        let mut seen = Vec::new();
        let mut next = None;
        loop {
            let p = q(&|q| {
                q.limit = 2;
                q.next = next.clone();
            });
            seen.extend(p.items.iter().map(|o| o.id.clone()));
            if !p.more {
                break;
            }
            next = p.next;
        }
        assert_eq!(seen.len(), 5);
        // The same with a text every object but the broken one matches as a prefix.
        let (mut seen, mut next) = (Vec::new(), None);
        loop {
            let p = q(&|q| {
                q.limit = 1;
                q.next = next.clone();
                q.text = Some("r".into());
            });
            seen.extend(p.items.iter().map(|o| o.id.clone()));
            if !p.more {
                break;
            }
            next = p.next;
        }
        assert_eq!(seen, ["report--4"], "names only: the report is named 'r'");
        // References in, filtered by TLP.
        let refs = |max| objects_referencing(&conn, &c, "malware--1", max, 10).unwrap();
        let r: Vec<String> = refs(TlpLevel::Amber).into_iter().map(|o| o.id).collect();
        assert_eq!(r, ["report--4", "relationship--3"]);
        let r: Vec<String> = refs(TlpLevel::Clear).into_iter().map(|o| o.id).collect();
        assert_eq!(r, ["report--4"]);
    }

    #[test]
    fn counts_follow_inserts_and_deletes_by_level() {
        let (_d, conn, c) = setup();
        let stats = |max| collection_stats(&conn, &c, max).unwrap();
        assert_eq!(stats(TlpLevel::Red).versions, 0);
        assert_eq!(stats(TlpLevel::Red).last_added, None);
        objects::add_objects(
            &conn,
            &c,
            vec![
                obj("malware--1", T1, TlpLevel::Clear, ""),
                obj("malware--1", T2, TlpLevel::Green, ""),
                obj("indicator--2", T1, TlpLevel::Red, ""),
            ],
            true,
        )
        .unwrap();
        assert_eq!(stats(TlpLevel::Clear).versions, 1);
        assert_eq!(stats(TlpLevel::AmberStrict).versions, 2);
        assert_eq!(stats(TlpLevel::Red).versions, 3);
        assert!(stats(TlpLevel::Red).last_added > stats(TlpLevel::Green).last_added);
        objects::delete_object(
            &conn,
            &c,
            "malware--1",
            &ObjectQuery {
                max_tlp: TlpLevel::Red,
                ..ObjectQuery::default()
            },
        )
        .unwrap();
        assert_eq!(stats(TlpLevel::AmberStrict).versions, 0);
        assert_eq!(stats(TlpLevel::Red).versions, 1);
        assert!(
            indexed_search(
                &conn,
                &c,
                &SearchQuery {
                    max_tlp: TlpLevel::Red,
                    text: Some("x".into()),
                    ..SearchQuery::default()
                }
            )
            .unwrap()
            .items
            .is_empty()
        );
        assert!(
            objects_referencing(&conn, &c, "x", TlpLevel::Red, 5)
                .unwrap()
                .is_empty()
        );
    }

    /// The UI's indexes of new rows are written once per envelope (`Added::index`), not
    /// by triggers: several envelopes, duplicates that insert nothing, a deletion and the
    /// same version posted again must leave the counts, the text index and the references
    /// exactly as the rows are.
    #[test]
    fn envelopes_index_their_new_rows_once() {
        let (_d, conn, c) = setup();
        let text = |t: &str| {
            let q = SearchQuery {
                max_tlp: TlpLevel::Red,
                text: Some(t.into()),
                ..SearchQuery::default()
            };
            ids(&indexed_search(&conn, &c, &q).unwrap())
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let count = |max| collection_stats(&conn, &c, max).unwrap().versions;
        let refs = |id| {
            objects_referencing(&conn, &c, id, TlpLevel::Red, 10)
                .unwrap()
                .len()
        };
        let first = vec![
            obj("malware--1", T1, TlpLevel::Clear, r#","name":"alphaword""#),
            obj(
                "relationship--2",
                T1,
                TlpLevel::Green,
                r#","source_ref":"malware--1","target_ref":"tool--9""#,
            ),
        ];
        objects::add_objects(&conn, &c, first.clone(), true).unwrap();
        let second = vec![
            // Already stored: inserts nothing, indexes nothing, counts nothing.
            first[0].clone(),
            obj(
                "malware--3",
                T1,
                TlpLevel::Red,
                r#","name":"betaword alphaword""#,
            ),
            obj(
                "report--4",
                T1,
                TlpLevel::Green,
                r#","name":"r","object_refs":["malware--1","malware--3"]"#,
            ),
        ];
        objects::add_objects(&conn, &c, second, true).unwrap();
        assert_eq!(count(TlpLevel::Clear), 1);
        assert_eq!(count(TlpLevel::Green), 3);
        assert_eq!(count(TlpLevel::Red), 4);
        assert_eq!(text("alphaword"), ["malware--3", "malware--1"]);
        assert_eq!(text("betaword"), ["malware--3"]);
        assert_eq!(refs("malware--1"), 2);
        assert_eq!(refs("tool--9"), 1);
        let all = ObjectQuery {
            max_tlp: TlpLevel::Red,
            ..ObjectQuery::default()
        };
        objects::delete_object(&conn, &c, "malware--1", &all).unwrap();
        assert_eq!(count(TlpLevel::Red), 3);
        assert_eq!(text("alphaword"), ["malware--3"]);
        // Posted again after its deletion: a new row, indexed again.
        objects::add_objects(&conn, &c, vec![first[0].clone()], true).unwrap();
        assert_eq!(count(TlpLevel::Red), 4);
        assert_eq!(text("alphaword"), ["malware--1", "malware--3"]);
        let per_level: Vec<(i64, i64)> = conn
            .prepare("SELECT tlp, n FROM ui_counts WHERE collection = ?1 ORDER BY tlp")
            .unwrap()
            .query_map([c.seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(per_level, [(0, 1), (1, 2), (4, 1)]);
    }

    /// A list page is a backwards range scan of an index in date_added order, never a sort
    /// of the collection.
    #[test]
    fn lists_use_the_indexes() {
        let (_d, conn, c) = setup();
        let plan = |sql: &str, args: Vec<Value>| -> String {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            stmt.query_map(params_from_iter(args), |r| r.get::<_, String>(3))
                .unwrap()
                .map(|r| r.unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        };
        for (filter, args) in [
            ("", vec![]),
            (" AND o.ui_type IN (?)", vec![Value::Text("malware".into())]),
            (" AND o.ui_tlp IN (?)", vec![Value::Integer(1)]),
            (
                " AND o.created_by = ?",
                vec![Value::Text("identity--a".into())],
            ),
        ] {
            let sql = format!(
                "SELECT {COLUMNS} FROM objects o WHERE o.collection = ? AND o.tlp <= ?{filter}{NEWEST_VISIBLE} ORDER BY o.date_added DESC LIMIT 51"
            );
            let mut a = vec![Value::Integer(c.seq), Value::Integer(4)];
            a.extend(args);
            a.push(Value::Integer(4));
            let p = plan(&sql, a);
            assert!(!p.contains("TEMP B-TREE"), "{filter}: {p}");
            assert!(p.contains("USING INDEX objects_"), "{filter}: {p}");
        }
        // Full text: driven by the FTS index in rowid order, objects found by primary key.
        let sql = format!(
            "SELECT {COLUMNS} FROM search.objects_fts CROSS JOIN objects o ON o.rowid = objects_fts.rowid
             WHERE objects_fts MATCH ? AND objects_fts.rowid <= 5 AND o.collection = ? AND o.tlp <= ?{NEWEST_VISIBLE}
             ORDER BY objects_fts.rowid DESC LIMIT 51"
        );
        let p = plan(
            &sql,
            vec![
                Value::Text("\"x\"*".into()),
                Value::Integer(c.seq),
                Value::Integer(4),
                Value::Integer(4),
            ],
        );
        assert!(!p.contains("TEMP B-TREE"), "{p}");
        assert!(
            p.starts_with("SCAN search.objects_fts VIRTUAL TABLE"),
            "{p}"
        );
        assert!(p.contains("INTEGER PRIMARY KEY"), "{p}");
        // References: the id's few rows first, never a walk of the collection.
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT {COLUMNS} FROM object_refs r CROSS JOIN objects o ON o.rowid = r.obj
             WHERE r.ref = ? AND o.collection = ? AND o.tlp <= ?{NEWEST_VISIBLE}
             ORDER BY o.date_added DESC LIMIT ?"
        );
        let mut stmt = conn.prepare(&sql).unwrap();
        let p: Vec<String> = stmt
            .query_map(params!["malware--1", c.seq, 4, 4, 10], |r| {
                r.get::<_, String>(3)
            })
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(
            p[0].starts_with("SEARCH r USING PRIMARY KEY (ref=?)"),
            "{p:?}"
        );
        assert!(p[1].contains("INTEGER PRIMARY KEY"), "{p:?}");
    }

    #[test]
    fn user_text_becomes_quoted_prefix_phrases() {
        assert_eq!(
            fts_query("APT28 198.51.100.1 ab").expect("short"),
            Some("\"APT28\"* \"198.51.100.1\" \"ab\"".into())
        );
        // FTS5 syntax typed by the user stays text.
        assert_eq!(
            fts_query("name:x OR \"y").expect("short"),
            Some("\"name:x\" \"OR\" \"\"\"y\"".into())
        );
        assert_eq!(fts_query("  -- ... ").expect("short"), None);
        assert!(fts_query(&"a".repeat(MAX_TEXT + 1)).is_err());
    }
}
