//! Object versions, queries, deletion and status resources on PostgreSQL.
//!
//! Writes run in the caller's transaction *after* it took the log's advisory lock
//! (`super::PgStore::lock_log`), so what they read (the date_added high-water mark, the
//! database clock, existing versions, the log's right edge) cannot be raced by another
//! replica. An envelope costs a fixed number of statements whatever its size: the
//! duplicate lookups, the object rows, the log leaves and the log nodes are each one
//! statement over `unnest`ed arrays. Reads are one statement per page.

use super::accounts::{self, CollectionRow};
use super::{Db, get, log, ts_from_us};
use crate::keys::{
    encode_next, next_date_added, page_start, tlp_from_int, tlp_to_int, version_key,
};
use crate::tlp_policy;
use crate::types::*;
use crate::{JoinedPage, Result, StoreError};
use deadpool_postgres::GenericClient;
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use tokio_postgres::types::{FromSql, ToSql, Type};

/// Largest page a query returns, whatever the caller asks.
const MAX_PAGE: usize = 100_000;

/// An envelope's object with what can be computed before the transaction.
pub(super) struct Prepared {
    obj: NewObject,
    /// Why it is refused, if it is.
    refusal: Option<String>,
    sha: [u8; 32],
    /// `version_key` of a versioned object.
    key: Option<String>,
    /// What the web UI searches by (`search.rs`).
    ui: super::search::UiFields,
}

/// Checks and hashes an envelope's objects (no database needed, so done before the lock).
pub(super) fn prepare(c: &CollectionRow, objects: Vec<NewObject>) -> Vec<Prepared> {
    objects
        .into_iter()
        .map(|obj| {
            let refusal = refusal(&obj, c);
            let sha: [u8; 32] = Sha256::digest(obj.raw_json.as_bytes()).into();
            let key = obj.version.as_ref().map(version_key);
            let ui = super::search::UiFields::of(&obj.raw_json);
            Prepared {
                obj,
                refusal,
                sha,
                key,
                ui,
            }
        })
        .collect()
}

/// Why an object cannot be stored in this collection, if it cannot.
fn refusal(obj: &NewObject, c: &CollectionRow) -> Option<String> {
    if obj.id.is_empty() || obj.type_name.is_empty() || obj.spec_version.is_empty() {
        return Some("object lacks an id, type or spec_version".into());
    }
    tlp_policy::refusal_reason(obj.tlp, c.collection.flags)
}

/// The object rows of one envelope, as the columns `unnest` inserts.
#[derive(Default)]
struct Rows {
    date_added: Vec<i64>,
    stix_id: Vec<String>,
    type_name: Vec<String>,
    version_key: Vec<String>,
    version: Vec<String>,
    spec_version: Vec<String>,
    tlp: Vec<i32>,
    /// `newer_tlp` (schema migration 4): the lowest TLP among the object's newer versions.
    newer_tlp: Vec<Option<i32>>,
    revoked: Vec<bool>,
    sha256: Vec<Vec<u8>>,
    raw: Vec<String>,
    created_by: Vec<Option<String>>,
    words: Vec<String>,
    /// `(ref, date_added)` of the references between objects.
    ref_ids: Vec<String>,
    ref_dates: Vec<i64>,
}

/// What an envelope reads first under the lock: the collection's date_added high-water
/// mark, the database clock and the log size.
pub(super) struct Head {
    last: i64,
    now: i64,
    log_size: i64,
}

impl Head {
    pub(super) fn new(last: i64, now: i64, log_size: i64) -> Head {
        Head {
            last,
            now,
            log_size,
        }
    }
}

/// The statement that reads the [`Head`] of collection `seq` (run under the lock, as a
/// statement of its own so that its snapshot is taken after the lock was granted).
pub(super) fn head_sql(seq: i64) -> String {
    format!(
        "SELECT c.last_date_added, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, \
         (SELECT coalesce(max(idx) + 1, 0) FROM log_leaves) FROM collections c WHERE c.seq = {seq}"
    )
}

/// Stores an envelope. The caller holds the write transaction and the log lock (taken
/// before `head` was read), and commits; outcomes are handed out only after that commit.
/// Independent statements are pipelined (sent together on the connection): every round
/// trip saved is time the lock is held less.
pub(super) async fn add_objects<C: GenericClient>(
    db: &Db<'_, C>,
    c: &CollectionRow,
    objects: Vec<Prepared>,
    head: Head,
) -> Result<Vec<AddOutcome>> {
    let Head {
        mut last,
        now,
        log_size,
    } = head;
    // Versions already stored (by (id, version) for versioned objects, by (id, content)
    // for the others) and the log's right edge.
    let (found, log) = tokio::join!(
        existing(db, c, &objects),
        log::Appender::load(db, log_size as u64)
    );
    let (stored, mut log) = super::both(found, log)?;
    let Stored {
        mut by_version,
        mut by_content,
        mut versions,
    } = stored;
    // Stored rows that learn of a newer version: date_added -> lowest TLP among them.
    let mut superseded: HashMap<i64, i32> = HashMap::new();

    let mut rows = Rows::default();
    let mut outcomes = Vec::with_capacity(objects.len());
    for p in objects {
        let Prepared {
            obj,
            refusal,
            sha,
            key,
            ui,
        } = p;
        let posted_version = obj.version.map(|v| v.to_string());
        if let Some(reason) = refusal {
            outcomes.push(AddOutcome {
                id: obj.id,
                version: posted_version.unwrap_or_default(),
                result: AddResult::Failed { reason },
            });
            continue;
        }
        let date_added = next_date_added(last, now);
        let (key, version_text) = match (key, posted_version) {
            (Some(k), Some(v)) => (k, v),
            _ => {
                // Unversioned objects (most SCOs): the same body again is the same object.
                if let Some((d, version)) = by_content.get(&(obj.id.clone(), sha)) {
                    outcomes.push(AddOutcome {
                        id: obj.id,
                        version: version.clone(),
                        result: AddResult::Duplicate {
                            date_added: ts_from_us(*d)?,
                        },
                    });
                    continue;
                }
                // TAXII 2.1 manifest `version`: the date_added when there is no version.
                let ts = ts_from_us(date_added)?;
                (version_key(&ts), ts.to_string())
            }
        };
        let vkey = (obj.id.clone(), key);
        if let Some(d) = by_version.get(&vkey) {
            // TAXII 2.1 §5.4: the server may keep a single copy of an (id, version).
            outcomes.push(AddOutcome {
                id: obj.id,
                version: version_text,
                result: AddResult::Duplicate {
                    date_added: ts_from_us(*d)?,
                },
            });
            continue;
        }
        by_version.insert(vkey.clone(), date_added);
        if obj.version.is_none() {
            by_content.insert((obj.id.clone(), sha), (date_added, version_text.clone()));
        }
        let tlp = tlp_to_int(obj.tlp) as i32;
        let row = rows.date_added.len();
        let others = versions.entry(obj.id.clone()).or_default();
        let mut newer_tlp: Option<i32> = None;
        for other in others.iter() {
            if other.key > vkey.1 {
                newer_tlp = Some(newer_tlp.map_or(other.tlp, |t| t.min(other.tlp)));
            } else {
                match other.at {
                    At::Stored(d) => {
                        let t = superseded.entry(d).or_insert(tlp);
                        *t = (*t).min(tlp);
                    }
                    At::New(i) => {
                        let t = &mut rows.newer_tlp[i];
                        *t = Some(t.map_or(tlp, |t| t.min(tlp)));
                    }
                }
            }
        }
        others.push(Version {
            key: vkey.1.clone(),
            tlp,
            at: At::New(row),
        });
        last = date_added;
        log.append(
            LogOp::Add,
            &c.collection.id,
            &obj.id,
            &version_text,
            date_added,
            &sha,
        )?;
        rows.date_added.push(date_added);
        rows.stix_id.push(obj.id.clone());
        rows.type_name.push(obj.type_name);
        rows.version_key.push(vkey.1);
        rows.version.push(version_text.clone());
        rows.spec_version.push(obj.spec_version);
        rows.tlp.push(tlp);
        rows.newer_tlp.push(newer_tlp);
        rows.revoked.push(obj.revoked);
        rows.sha256.push(sha.to_vec());
        rows.raw.push(obj.raw_json);
        rows.created_by.push(ui.created_by);
        rows.words.push(ui.words);
        for r in ui.refs {
            rows.ref_ids.push(r);
            rows.ref_dates.push(date_added);
        }
        outcomes.push(AddOutcome {
            id: obj.id,
            version: version_text,
            result: AddResult::Added {
                date_added: ts_from_us(date_added)?,
            },
        });
    }
    if rows.date_added.is_empty() {
        return Ok(outcomes);
    }
    let insert_objects = async {
        let inserted = db
        .execute(
            "INSERT INTO objects (collection, date_added, stix_id, type, version_key, version, spec_version, tlp, revoked, sha256, raw, created_by, search, newer_tlp)
             SELECT $1::bigint, d, i, t, k, v, s, l, r, h, j, b, to_tsvector('simple', w), n
             FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::integer[], $9::boolean[], $10::bytea[], $11::text[], $12::text[], $13::text[], $14::integer[])
                 AS u(d, i, t, k, v, s, l, r, h, j, b, w, n)",
            &[
                &c.seq,
                &rows.date_added,
                &rows.stix_id,
                &rows.type_name,
                &rows.version_key,
                &rows.version,
                &rows.spec_version,
                &rows.tlp,
                &rows.revoked,
                &rows.sha256,
                &rows.raw,
                &rows.created_by,
                &rows.words,
                &rows.newer_tlp,
            ],
        )
        .await?;
        if inserted != rows.date_added.len() as u64 {
            return Err(StoreError::Backend(format!(
                "inserted {inserted} of {} object rows",
                rows.date_added.len()
            )));
        }
        // After the objects: the references point at them.
        if !rows.ref_ids.is_empty() {
            db.execute(
                "INSERT INTO object_refs (ref, collection, date_added)
             SELECT r, $1::bigint, d FROM unnest($2::text[], $3::bigint[]) AS u(r, d)",
                &[&c.seq, &rows.ref_ids, &rows.ref_dates],
            )
            .await?;
        }
        Ok(())
    };
    let update_params: [&(dyn ToSql + Sync); 2] = [&last, &c.seq];
    let update = db.execute(
        "UPDATE collections SET last_date_added = $1 WHERE seq = $2",
        &update_params,
    );
    let older = async {
        if superseded.is_empty() {
            return Ok(0);
        }
        let (dates, tlps): (Vec<i64>, Vec<i32>) = superseded.into_iter().unzip();
        db.execute(
            "UPDATE objects o SET newer_tlp = u.t FROM unnest($2::bigint[], $3::integer[]) AS u(d, t)
             WHERE o.collection = $1 AND o.date_added = u.d AND (o.newer_tlp IS NULL OR o.newer_tlp > u.t)",
            &[&c.seq, &dates, &tlps],
        )
        .await
    };
    let counted = count_versions(db, c.seq, &rows.tlp, 1);
    let (inserted, logged, updated, older, counted) =
        tokio::join!(insert_objects, log.write(db), update, older, counted);
    super::both(super::both(inserted, logged), updated)?;
    super::both(older, counted)?;
    Ok(outcomes)
}

/// Adds `sign` (1 or -1) times the number of versions of each TLP in `tlps` to the
/// collection's `ui_counts` (schema migration 4), in one statement.
async fn count_versions<C: GenericClient>(
    db: &Db<'_, C>,
    seq: i64,
    tlps: &[i32],
    sign: i64,
) -> Result<u64> {
    db.execute(
        "INSERT INTO ui_counts AS u (collection, tlp, n)
         SELECT $1::bigint, t, $3::bigint * count(*) FROM unnest($2::integer[]) AS x(t) GROUP BY t
         ON CONFLICT (collection, tlp) DO UPDATE SET n = u.n + excluded.n",
        &[&seq, &tlps, &sign],
    )
    .await
}

/// Where a version of an object is: a stored row (its date_added) or a row of the
/// envelope being written (its index in [`Rows`]).
#[derive(Clone, Copy)]
enum At {
    Stored(i64),
    New(usize),
}

/// One version of an object, for keeping `newer_tlp` (schema migration 4).
struct Version {
    key: String,
    tlp: i32,
    at: At,
}

/// What is stored of an envelope's ids.
struct Stored {
    /// date_added by `(id, version_key)`.
    by_version: HashMap<(String, String), i64>,
    /// date_added and version text by `(id, sha256)`, for unversioned objects.
    by_content: HashMap<(String, [u8; 32]), (i64, String)>,
    /// Every stored version of each id.
    versions: HashMap<String, Vec<Version>>,
}

/// Every stored version of the envelope's ids, in one statement through
/// `objects_by_version`: the duplicates (by `(id, version_key)` and, for unversioned
/// objects, by `(id, sha256)`) and the versions whose `newer_tlp` a new version changes.
/// Reading all versions of an id costs the same index descent as reading one.
async fn existing<C: GenericClient>(
    db: &Db<'_, C>,
    c: &CollectionRow,
    objects: &[Prepared],
) -> Result<Stored> {
    let mut stored = Stored {
        by_version: HashMap::new(),
        by_content: HashMap::new(),
        versions: HashMap::new(),
    };
    let mut ids: Vec<&str> = objects
        .iter()
        .filter(|p| p.refusal.is_none())
        .map(|p| p.obj.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(stored);
    }
    let rows = db
        .query(
            "SELECT o.stix_id, o.version_key, o.date_added, o.sha256, o.version, o.tlp
             FROM unnest($2::text[]) AS k(id)
             JOIN objects o ON o.collection = $1 AND o.stix_id = k.id",
            &[&c.seq, &ids],
        )
        .await?;
    for r in &rows {
        let id: String = get(r, 0)?;
        let key: String = get(r, 1)?;
        let date_added: i64 = get(r, 2)?;
        let sha: Vec<u8> = get(r, 3)?;
        let Ok(sha) = <[u8; 32]>::try_from(sha) else {
            return Err(StoreError::Corrupt("object sha256 is not 32 bytes".into()));
        };
        stored
            .by_content
            .entry((id.clone(), sha))
            .or_insert((date_added, get(r, 4)?));
        stored
            .by_version
            .insert((id.clone(), key.clone()), date_added);
        stored.versions.entry(id).or_default().push(Version {
            key,
            tlp: get(r, 5)?,
            at: At::Stored(date_added),
        });
    }
    Ok(stored)
}

/// Which columns a query returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Everything, with the body.
    Objects,
    /// No body (manifest, versions).
    NoBody,
}

/// A statement under construction: its text and its parameters, numbered as pushed.
#[derive(Default)]
pub(super) struct Sql {
    pub(super) text: String,
    args: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Sql {
    /// Adds a parameter and returns its placeholder.
    pub(super) fn arg<T: ToSql + Sync + Send + 'static>(&mut self, v: T) -> String {
        self.args.push(Box::new(v));
        format!("${}", self.args.len())
    }

    pub(super) fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    pub(super) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args
            .iter()
            .map(|b| b.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The collection a statement reads.
#[derive(Clone, Copy)]
enum Target<'a> {
    /// Its sequence number, from the row the caller looked up.
    Seq(i64),
    /// Its id, resolved inside the statement: one statement (and one round trip) fewer,
    /// but a collection that does not exist then reads as an empty page, which the caller
    /// must tell apart.
    Id(&'a str),
}

/// Builds the WHERE clause shared by reads and deletes: collection, audience, ids, types,
/// spec versions and `match[version]` (TAXII 2.1 §3.4). The SQL text depends only on which
/// filters are present, never on their values (lists are array parameters), so prepared
/// statements are reused.
fn filter_clause(
    sql: &mut Sql,
    target: Target<'_>,
    query: &ObjectQuery,
    object_id: Option<&str>,
    default_versions: VersionMatch,
) {
    let seq = match target {
        Target::Seq(seq) => sql.arg(seq),
        // An uncorrelated subquery: evaluated once (an InitPlan), and the primary key is
        // then walked for its value as for a parameter.
        Target::Id(id) => format!(
            "(SELECT c.seq FROM collections c WHERE c.id = {})",
            sql.arg(id.to_owned())
        ),
    };
    let tlp = sql.arg(tlp_to_int(query.max_tlp) as i32);
    sql.push(&format!("o.collection = {seq} AND o.tlp <= {tlp}"));
    match object_id {
        Some(id) => {
            let p = sql.arg(id.to_owned());
            sql.push(&format!(" AND o.stix_id = {p}"));
        }
        None if !query.ids.is_empty() => {
            let p = sql.arg(query.ids.clone());
            sql.push(&format!(" AND o.stix_id = ANY({p}::text[])"));
        }
        None => {}
    }
    match query.types.as_slice() {
        [] => {}
        // One type (the usual `match[type]`) as an equality: the (collection, type,
        // date_added) index then yields that type's rows in date_added order, so a page of
        // a rare type stops after `limit` rows; with `= ANY(array)` PostgreSQL 15 cannot use
        // that order and sorts every row of the type after the cursor.
        [one] => {
            let p = sql.arg(one.clone());
            sql.push(&format!(" AND o.type = {p}"));
        }
        _ => {
            let p = sql.arg(query.types.clone());
            sql.push(&format!(" AND o.type = ANY({p}::text[])"));
        }
    }
    let spec = (!query.spec_versions.is_empty()).then(|| sql.arg(query.spec_versions.clone()));
    if let Some(p) = &spec {
        sql.push(&format!(" AND o.spec_version = ANY({p}::text[])"));
    }
    let versions: &[VersionMatch] = if query.versions.is_empty() {
        std::slice::from_ref(&default_versions)
    } else {
        &query.versions
    };
    if versions.contains(&VersionMatch::All) {
        return;
    }
    let mut alternatives = Vec::new();
    let at: Vec<String> = versions
        .iter()
        .filter_map(|v| match v {
            VersionMatch::At(ts) => Some(version_key(ts)),
            _ => None,
        })
        .collect();
    if !at.is_empty() {
        let p = sql.arg(at);
        alternatives.push(format!("o.version_key = ANY({p}::text[])"));
    }
    for (wanted, beyond) in [(VersionMatch::First, "<"), (VersionMatch::Last, ">")] {
        if !versions.contains(&wanted) {
            continue;
        }
        if wanted == VersionMatch::Last && spec.is_none() {
            // The newest version this reader may see is the one with no newer version at
            // or below its TLP: `newer_tlp` (migration 4) is the lowest TLP of the newer
            // versions, kept by triggers, so this is a column test and a page reads its
            // rows along the primary key without a probe per row.
            alternatives.push(format!("(o.newer_tlp IS NULL OR o.newer_tlp > {tlp})"));
            continue;
        }
        // First/last among the versions this reader may see and that match the
        // spec_version filter, so a hidden newer version neither leaks nor hides: no such
        // version lies beyond this one. Written as NOT EXISTS, not `= (SELECT max(...))`:
        // the planner reads it as an anti-join and estimates that it keeps most rows, so
        // it pages along the primary key; with the scalar subquery it guessed 0.5% and, on
        // a collection of 1,000,000 versions, sorted 100,000 rows of one type (4.5 s)
        // instead of reading 1,001 in order (measured).
        let spec_filter = spec
            .as_ref()
            .map(|p| format!(" AND v.spec_version = ANY({p}::text[])"))
            .unwrap_or_default();
        alternatives.push(format!(
            "NOT EXISTS (SELECT 1 FROM objects v WHERE v.collection = o.collection AND v.stix_id = o.stix_id AND v.tlp <= {tlp}{spec_filter} AND v.version_key {beyond} o.version_key)"
        ));
    }
    match alternatives.as_slice() {
        // Alone, at the top of the WHERE clause, so that it can become an anti-join.
        [one] => sql.push(&format!(" AND {one}")),
        _ => sql.push(&format!(" AND ({})", alternatives.join(" OR "))),
    }
}

/// A selected row.
struct Found {
    stix_id: String,
    type_name: String,
    version: String,
    date_added: i64,
    spec_version: String,
    raw: String,
    tlp: i32,
    revoked: bool,
}

/// The statement of a paged read: the rows after `added_after`/`next`, in date_added
/// order, at most `limit + 1` of them.
fn page_sql(
    c: &CollectionRow,
    query: &ObjectQuery,
    object_id: Option<&str>,
    default_versions: VersionMatch,
    shape: Shape,
    limit: usize,
) -> Result<Sql> {
    let after = page_start(query)?;
    let body = if shape == Shape::Objects {
        "o.raw"
    } else {
        "''"
    };
    let mut sql = Sql::default();
    sql.push(&format!(
        "SELECT o.stix_id, o.type, o.version, o.date_added, o.spec_version, {body}, o.tlp, o.revoked FROM objects o WHERE "
    ));
    filter_clause(
        &mut sql,
        Target::Seq(c.seq),
        query,
        object_id,
        default_versions,
    );
    let after = sql.arg(after);
    let lim = sql.arg(limit as i64 + 1);
    sql.push(&format!(
        " AND o.date_added > {after} ORDER BY o.date_added LIMIT {lim}"
    ));
    Ok(sql)
}

/// Runs a paged read (one statement): rows after `added_after`/`next`, oldest date_added
/// first, one more than the limit fetched to learn `more`.
async fn select_page<C: GenericClient>(
    db: &Db<'_, C>,
    c: &CollectionRow,
    query: &ObjectQuery,
    object_id: Option<&str>,
    default_versions: VersionMatch,
    shape: Shape,
) -> Result<(Vec<Found>, bool, Option<String>)> {
    let limit = query.limit.clamp(1, MAX_PAGE);
    let sql = page_sql(c, query, object_id, default_versions, shape, limit)?;
    let rows = db.query(&sql.text, &sql.params()).await?;
    let mut found = rows
        .iter()
        .map(|r| {
            Ok(Found {
                stix_id: get(r, 0)?,
                type_name: get(r, 1)?,
                version: get(r, 2)?,
                date_added: get(r, 3)?,
                spec_version: get(r, 4)?,
                raw: get(r, 5)?,
                tlp: get(r, 6)?,
                revoked: get(r, 7)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let more = found.len() > limit;
    found.truncate(limit);
    let next = if more {
        found.last().map(|r| encode_next(r.date_added))
    } else {
        None
    };
    Ok((found, more, next))
}

pub(super) async fn query_objects<C: GenericClient>(
    db: &Db<'_, C>,
    c: &CollectionRow,
    query: &ObjectQuery,
    object_id: Option<&str>,
) -> Result<Page<StoredObject>> {
    let (rows, more, next) =
        select_page(db, c, query, object_id, VersionMatch::Last, Shape::Objects).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(StoredObject {
                id: r.stix_id,
                type_name: r.type_name,
                version: r.version,
                date_added: ts_from_us(r.date_added)?,
                spec_version: r.spec_version,
                raw_json: r.raw,
                tlp: tlp_from_int(i64::from(r.tlp))?,
                revoked: r.revoked,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Page { items, more, next })
}

/// The text of a `text` column as the bytes PostgreSQL sent, without the UTF-8 check and
/// the copy into a `String` of `&str`/`String`: a page's bodies go to the HTTP client as
/// they are, and the database (UTF-8, or holding only what this store wrote from Rust
/// strings) cannot hand back text that is not UTF-8.
struct TextBytes<'a>(&'a [u8]);

impl<'a> FromSql<'a> for TextBytes<'a> {
    fn from_sql(
        _: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(TextBytes(raw))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TEXT
    }
}

/// A page of objects as the comma-joined texts of an envelope's `objects` array
/// (`Store::query_objects_joined`). One statement, the collection resolved inside it,
/// reading only date_added and the body; the rows are streamed into one buffer as they
/// arrive, with no row vector and no string per object. With the pool's cheaper hand-out
/// this about halved the replica's CPU per 1,000-object GET (scripts/bench-taxii-pg.sh).
pub(super) async fn query_objects_joined<C: GenericClient>(
    db: &Db<'_, C>,
    collection_id: &str,
    query: &ObjectQuery,
) -> Result<JoinedPage> {
    let limit = query.limit.clamp(1, MAX_PAGE);
    let after = page_start(query)?;
    let mut sql = Sql::default();
    sql.push("SELECT o.date_added, o.raw FROM objects o WHERE ");
    filter_clause(
        &mut sql,
        Target::Id(collection_id),
        query,
        None,
        VersionMatch::Last,
    );
    let after = sql.arg(after);
    let lim = sql.arg(limit as i64 + 1);
    sql.push(&format!(
        " AND o.date_added > {after} ORDER BY o.date_added LIMIT {lim}"
    ));
    let rows = db.query_raw(&sql.text, &sql.params()).await?;
    let mut rows = std::pin::pin!(rows);
    let mut objects: Vec<u8> = Vec::new();
    let mut count = 0;
    let mut more = false;
    let (mut first, mut last) = (0_i64, 0_i64);
    while let Some(row) = rows.try_next().await.map_err(super::backend)? {
        if count == limit {
            // The one row beyond the page, fetched only to learn that there is more.
            more = true;
            continue;
        }
        let date_added: i64 = get(&row, 0)?;
        let raw: TextBytes<'_> = get(&row, 1)?;
        if count == 0 {
            first = date_added;
            // Pages are mostly full and their objects alike in size: room for all of them
            // at once instead of a dozen doublings.
            objects.reserve(raw.0.len().saturating_add(1).saturating_mul(limit));
        } else {
            objects.push(b',');
        }
        objects.extend_from_slice(raw.0);
        last = date_added;
        count += 1;
    }
    if count == 0 {
        // Empty: the collection may not exist at all (bounded: one more statement, and
        // only for empty pages).
        accounts::require_collection(db, collection_id).await?;
    }
    let date_added = if count == 0 {
        None
    } else {
        Some((ts_from_us(first)?, ts_from_us(last)?))
    };
    Ok(JoinedPage {
        objects,
        count,
        more,
        next: more.then(|| encode_next(last)),
        date_added,
    })
}

pub(super) async fn manifest<C: GenericClient>(
    db: &Db<'_, C>,
    c: &CollectionRow,
    query: &ObjectQuery,
) -> Result<Page<ManifestEntry>> {
    let (rows, more, next) =
        select_page(db, c, query, None, VersionMatch::Last, Shape::NoBody).await?;
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

pub(super) async fn versions<C: GenericClient>(
    db: &Db<'_, C>,
    c: &CollectionRow,
    object_id: &str,
    query: &ObjectQuery,
) -> Result<Page<VersionEntry>> {
    let (rows, more, next) = select_page(
        db,
        c,
        query,
        Some(object_id),
        VersionMatch::All,
        Shape::NoBody,
    )
    .await?;
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

/// Deletes the selected versions of one object and logs each deletion (TAXII 2.1 §5.7).
/// The caller holds the write transaction and the log lock.
pub(super) async fn delete_object<C: GenericClient>(
    db: &Db<'_, C>,
    c: &CollectionRow,
    object_id: &str,
    query: &ObjectQuery,
) -> Result<u64> {
    let mut sql = Sql::default();
    sql.push("DELETE FROM objects o WHERE ");
    filter_clause(
        &mut sql,
        Target::Seq(c.seq),
        query,
        Some(object_id),
        VersionMatch::All,
    );
    sql.push(" RETURNING o.version, o.date_added, o.sha256, o.tlp");
    let rows = db.query(&sql.text, &sql.params()).await?;
    let mut victims = Vec::with_capacity(rows.len());
    let mut tlps = Vec::with_capacity(rows.len());
    for r in &rows {
        victims.push((
            get::<String>(r, 0)?,
            get::<i64>(r, 1)?,
            get::<Vec<u8>>(r, 2)?,
        ));
        tlps.push(get::<i32>(r, 3)?);
    }
    if victims.is_empty() {
        return Ok(0);
    }
    victims.sort_by_key(|v| v.1);
    // The remaining versions' `newer_tlp` and the collection's counts (schema migration 4).
    let params: [&(dyn ToSql + Sync); 2] = [&c.seq, &object_id];
    let newer = db.execute(
        "UPDATE objects o SET newer_tlp = (SELECT min(v.tlp) FROM objects v
             WHERE v.collection = o.collection AND v.stix_id = o.stix_id AND v.version_key > o.version_key)
         WHERE o.collection = $1 AND o.stix_id = $2",
        &params,
    );
    let (newer, counted) = tokio::join!(newer, count_versions(db, c.seq, &tlps, -1));
    super::both(newer, counted)?;
    let size: i64 = get(
        &db.query_one("SELECT coalesce(max(idx) + 1, 0) FROM log_leaves", &[])
            .await?,
        0,
    )?;
    let mut log = log::Appender::load(db, size as u64).await?;
    for (version, date_added, sha) in &victims {
        log.append(
            LogOp::Delete,
            &c.collection.id,
            object_id,
            version,
            *date_added,
            sha,
        )?;
    }
    log.write(db).await?;
    Ok(victims.len() as u64)
}

pub(super) async fn save_status<C: GenericClient>(
    db: &Db<'_, C>,
    status: &Status,
    create: bool,
) -> Result<()> {
    let body = serde_json::to_string(status)
        .map_err(|e| StoreError::Invalid(format!("status resource: {e}")))?;
    if create {
        db.execute_unique(
            "INSERT INTO statuses (id, owner, body) VALUES ($1, $2, $3)",
            &[&status.id, &status.owner, &body],
            "status",
            &status.id,
        )
        .await?;
    } else {
        let n = db
            .execute(
                "UPDATE statuses SET owner = $2, body = $3 WHERE id = $1",
                &[&status.id, &status.owner, &body],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::not_found("status", &status.id));
        }
    }
    Ok(())
}

pub(super) async fn status<C: GenericClient>(db: &Db<'_, C>, id: &str) -> Result<Option<Status>> {
    let Some(r) = db
        .query_opt("SELECT body FROM statuses WHERE id = $1", &[&id])
        .await?
    else {
        return Ok(None);
    };
    let body: String = get(&r, 0)?;
    serde_json::from_str(&body)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("status {id}: {e}")))
}
