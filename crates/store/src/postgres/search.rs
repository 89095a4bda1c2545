//! What the web UI reads on PostgreSQL: filtered and full-text object lists, references
//! between objects, and per-collection counts (the same answers as `sqlite/search.rs`).
//!
//! The columns and indexes behind them come from schema migrations 2 and 3: `created_by`,
//! `search` (a `tsvector` with a GIN index) and the `object_refs` table, all written with
//! the object rows in the envelope's transaction from [`UiFields`], which is computed from
//! the JSON before the log lock is taken; `object_refs` rows go with their object through
//! `ON DELETE CASCADE`.
//!
//! Words are what lies between characters that are neither letters nor digits, so
//! `198.51.100.1` is four words, as with SQLite's `unicode61` tokenizer, and a search reads
//! as on SQLite: every typed token is a phrase of its words, the last one a prefix
//! ([`ts_query`]).
//!
//! Lists page by keyset on date_added, newest first, never `OFFSET`, and filter by the
//! reader's TLP audience in SQL before `LIMIT`.

use super::accounts::CollectionRow;
use super::{Db, get, ts_from_us};
use crate::keys::{decode_next, encode_next, floor_micros, tlp_from_int, tlp_to_int};
use crate::sqlite::search::{MAX_TEXT, MAX_WORDS};
use crate::types::*;
use crate::{Result, StoreError};
use deadpool_postgres::GenericClient;
use stix::TlpLevel;
use tokio_postgres::Row;

/// The columns every query here selects, in [`stored`]'s order.
const COLUMNS: &str =
    "o.stix_id, o.type, o.version, o.date_added, o.spec_version, o.raw, o.tlp, o.revoked";

/// Properties whose value is one referenced STIX id.
const SINGLE_REFS: [&str; 3] = ["source_ref", "target_ref", "sighting_of_ref"];
/// Properties whose value is a list of referenced STIX ids.
const LIST_REFS: [&str; 3] = ["object_refs", "where_sighted_refs", "observed_data_refs"];

/// Most references kept for one object (a report may list many; the UI shows few).
const MAX_REFS: usize = 10_000;
/// Most bytes of searchable text kept for one object.
const MAX_WORDS_TEXT: usize = 64 * 1024;

/// What the UI searches an object by, taken from its JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct UiFields {
    /// `created_by_ref`.
    pub created_by: Option<String>,
    /// The words of the name (or an SCO's `value`), description and pattern, separated by
    /// single spaces.
    pub words: String,
    /// The STIX ids it refers to, each once.
    pub refs: Vec<String>,
}

impl UiFields {
    /// The fields of an object's JSON; an object that is not a JSON object has none.
    pub(super) fn of(raw: &str) -> UiFields {
        let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(raw)
        else {
            return UiFields::default();
        };
        let text = |k: &str| o.get(k).and_then(|v| v.as_str());
        let mut words = String::new();
        for part in [
            text("name").or_else(|| text("value")),
            text("description"),
            text("pattern"),
        ]
        .into_iter()
        .flatten()
        {
            for w in split_words(part) {
                if words.len() + w.len() + 1 > MAX_WORDS_TEXT {
                    break;
                }
                if !words.is_empty() {
                    words.push(' ');
                }
                words.push_str(w);
            }
        }
        let mut refs: Vec<String> = Vec::new();
        let mut add = |r: &str| {
            if refs.len() < MAX_REFS && !refs.iter().any(|x| x == r) {
                refs.push(r.to_owned());
            }
        };
        for k in SINGLE_REFS {
            if let Some(r) = text(k) {
                add(r);
            }
        }
        for k in LIST_REFS {
            if let Some(list) = o.get(k).and_then(|v| v.as_array()) {
                list.iter().filter_map(|v| v.as_str()).for_each(&mut add);
            }
        }
        UiFields {
            created_by: text("created_by_ref").map(str::to_owned),
            words,
            refs,
        }
    }
}

/// The words of `s`: maximal runs of letters and digits.
fn split_words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Turns what a person typed into a `tsquery` text, as SQLite's FTS5 query reads it: each
/// whitespace-separated token is a phrase of its words (`198 <-> 51 <-> 100 <-> 1`) whose
/// last word is a prefix, and every phrase must occur. `None` when nothing searchable
/// remains. Words hold only letters and digits, so nothing typed is read as query syntax.
pub fn ts_query(text: &str) -> Result<Option<String>> {
    if text.len() > MAX_TEXT {
        return Err(StoreError::Invalid(format!(
            "search text longer than {MAX_TEXT} bytes"
        )));
    }
    let phrases: Vec<String> = text
        .split_whitespace()
        .filter_map(|token| {
            let words: Vec<String> = split_words(token).map(str::to_lowercase).collect();
            (!words.is_empty()).then(|| format!("{}:*", words.join(" <-> ")))
        })
        .take(MAX_WORDS)
        .map(|p| {
            if p.contains(" <-> ") {
                format!("({p})")
            } else {
                p
            }
        })
        .collect();
    Ok((!phrases.is_empty()).then(|| phrases.join(" & ")))
}

/// "No newer version of this object is visible to the reader": the newest visible
/// version stands for the object. `newer_tlp` (migration 4, kept by triggers) is the lowest
/// TLP among the newer versions, so this is a test of the row itself: no probe of
/// `objects_by_version` per row, and nothing the planner could turn into a hash of the
/// whole collection (as an anti-join it hashed 1,000,000 versions, 1.1 s, to check the 111
/// matches of a rare word).
fn newest_visible(tlp: &str) -> String {
    format!(" AND (o.newer_tlp IS NULL OR o.newer_tlp > {tlp})")
}

fn stored(r: &Row) -> Result<StoredObject> {
    Ok(StoredObject {
        id: get(r, 0)?,
        type_name: get(r, 1)?,
        version: get(r, 2)?,
        date_added: ts_from_us(get(r, 3)?)?,
        spec_version: get(r, 4)?,
        raw_json: get(r, 5)?,
        tlp: tlp_from_int(i64::from(get::<i32>(r, 6)?))?,
        revoked: get(r, 7)?,
    })
}

/// How many of the newest versions a text search reads in date_added order before it asks
/// the word index instead.
const TEXT_WINDOW: i64 = 20_000;

/// [`crate::Store::search_objects`]: one statement, or two for a text search whose words
/// are rare.
///
/// A `tsvector` index finds the matches of a word but not in date_added order, so for a
/// word found in most objects it would collect and sort all of them (12 s for one in every
/// object of a 1,000,000-version collection, measured). A text search therefore first reads
/// the [`TEXT_WINDOW`] newest versions below the page in order and keeps the matches: when
/// they fill the page, they are the newest matches. Otherwise the words are rare there and
/// the index's matches are few enough to sort.
pub(super) async fn search_objects<C: GenericClient>(
    db: &Db<'_, C>,
    c: &CollectionRow,
    q: &SearchQuery,
) -> Result<Page<StoredObject>> {
    let limit = q.limit.clamp(1, 100_000);
    let text = q.text.as_deref().map(ts_query).transpose()?.flatten();
    let mut found = None;
    if text.is_some() {
        let sql = search_sql(c, q, text.as_deref(), limit, Some(TEXT_WINDOW))?;
        let rows = db.query(&sql.text, &sql.params()).await?;
        if rows.len() > limit {
            found = Some(rows);
        }
    }
    let rows = match found {
        Some(rows) => rows,
        None => {
            let sql = search_sql(c, q, text.as_deref(), limit, None)?;
            db.query(&sql.text, &sql.params()).await?
        }
    };
    let mut items = rows.iter().map(stored).collect::<Result<Vec<_>>>()?;
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more {
        items
            .last()
            .map(|o| encode_next(floor_micros(&o.date_added)))
    } else {
        None
    };
    Ok(Page { items, more, next })
}

/// The statement of one search page (`limit + 1` rows, newest first); with `window`, among
/// that many newest versions in the date range only.
fn search_sql(
    c: &CollectionRow,
    q: &SearchQuery,
    text: Option<&str>,
    limit: usize,
    window: Option<i64>,
) -> Result<super::objects::Sql> {
    let mut sql = super::objects::Sql::default();
    let seq = sql.arg(c.seq);
    let max = sql.arg(tlp_to_int(q.max_tlp) as i32);
    // The date range, for the window and the page alike.
    let mut range = String::new();
    if let Some(t) = &q.added_after {
        let p = sql.arg(floor_micros(t));
        range.push_str(&format!(" AND {{t}}.date_added > {p}"));
    }
    if let Some(t) = &q.added_before {
        let p = sql.arg(floor_micros(t));
        range.push_str(&format!(" AND {{t}}.date_added < {p}"));
    }
    if let Some(next) = &q.next {
        let p = sql.arg(decode_next(next)?);
        range.push_str(&format!(" AND {{t}}.date_added < {p}"));
    }
    let from = match window {
        None => "objects o".to_owned(),
        Some(n) => {
            let n = sql.arg(n);
            format!(
                "(SELECT * FROM objects w WHERE w.collection = {seq} AND w.tlp <= {max}{} ORDER BY w.date_added DESC LIMIT {n}) AS o",
                range.replace("{t}", "w")
            )
        }
    };
    sql.push(&format!(
        "SELECT {COLUMNS} FROM {from} WHERE o.collection = {seq} AND o.tlp <= {max}{}",
        range.replace("{t}", "o")
    ));
    if !q.types.is_empty() {
        let p = sql.arg(q.types.clone());
        sql.push(&format!(" AND o.type = ANY({p}::text[])"));
    }
    if !q.tlp.is_empty() {
        let levels: Vec<i32> = q.tlp.iter().map(|t| tlp_to_int(*t) as i32).collect();
        let p = sql.arg(levels);
        sql.push(&format!(" AND o.tlp = ANY({p}::integer[])"));
    }
    if let Some(producer) = &q.producer {
        let p = sql.arg(producer.clone());
        sql.push(&format!(" AND o.created_by = {p}"));
    }
    if let Some(m) = text {
        let p = sql.arg(m.to_owned());
        sql.push(&format!(" AND o.search @@ to_tsquery('simple', {p})"));
    }
    sql.push(&newest_visible(&max));
    let lim = sql.arg(limit as i64 + 1);
    // Past the window the words are rare: sort the index's matches rather than walk the
    // collection in order (`+ 0` keeps the planner off the ordered scan, which it
    // otherwise picks because it cannot estimate prefix matches).
    let order = if window.is_none() && text.is_some() {
        "o.date_added + 0"
    } else {
        "o.date_added"
    };
    sql.push(&format!(" ORDER BY {order} DESC LIMIT {lim}"));
    Ok(sql)
}

/// [`crate::Store::objects_referencing`] (one statement).
pub(super) async fn objects_referencing<C: GenericClient>(
    db: &Db<'_, C>,
    c: &CollectionRow,
    stix_id: &str,
    max_tlp: TlpLevel,
    limit: usize,
) -> Result<Vec<StoredObject>> {
    let max = tlp_to_int(max_tlp) as i32;
    let limit = limit.min(100_000) as i64;
    let sql = format!(
        "SELECT {COLUMNS} FROM object_refs r JOIN objects o ON o.collection = r.collection AND o.date_added = r.date_added
         WHERE r.ref = $1 AND r.collection = $2 AND o.tlp <= $3{}
         ORDER BY o.date_added DESC LIMIT $4",
        newest_visible("$3")
    );
    db.query(&sql, &[&stix_id, &c.seq, &max, &limit])
        .await?
        .iter()
        .map(stored)
        .collect()
}

/// [`crate::Store::collection_stats`] (one statement): the count from `ui_counts`
/// (migration 4, kept by triggers) instead of counting a million rows, the last date_added
/// from a backward walk of the primary key to the first row the reader may see.
pub(super) async fn collection_stats<C: GenericClient>(
    db: &Db<'_, C>,
    c: &CollectionRow,
    max_tlp: TlpLevel,
) -> Result<CollectionStats> {
    let r = db
        .query_one(
            "SELECT (SELECT coalesce(sum(n), 0)::bigint FROM ui_counts WHERE collection = $1 AND tlp <= $2),
                    (SELECT date_added FROM objects WHERE collection = $1 AND tlp <= $2
                     ORDER BY date_added DESC LIMIT 1)",
            &[&c.seq, &(tlp_to_int(max_tlp) as i32)],
        )
        .await?;
    let versions: i64 = get(&r, 0)?;
    let last: Option<i64> = get(&r, 1)?;
    Ok(CollectionStats {
        versions: u64::try_from(versions).unwrap_or(0),
        last_added: last.map(ts_from_us).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_the_json() {
        let f = UiFields::of(
            r#"{"type":"relationship","name":"APT-28 uses","created_by_ref":"identity--a","source_ref":"x--1","target_ref":"x--2","object_refs":["x--3","x--1",7]}"#,
        );
        assert_eq!(f.created_by.as_deref(), Some("identity--a"));
        assert_eq!(f.words, "APT 28 uses");
        assert_eq!(f.refs, ["x--1", "x--2", "x--3"]);
        let sco = UiFields::of(r#"{"type":"ipv4-addr","value":"198.51.100.1"}"#);
        assert_eq!(sco.words, "198 51 100 1");
        assert_eq!(UiFields::of("not json"), UiFields::default());
        assert_eq!(UiFields::of("[1]"), UiFields::default());
    }

    #[test]
    fn typed_text_becomes_prefix_words() {
        assert_eq!(
            ts_query("APT28 198.51").unwrap().as_deref(),
            Some("apt28:* & (198 <-> 51:*)")
        );
        // Query syntax typed by a person is only text.
        assert_eq!(
            ts_query("a|b & !c:*").unwrap().as_deref(),
            Some("(a <-> b:*) & c:*")
        );
        assert_eq!(ts_query(" -- ... ").unwrap(), None);
        assert!(ts_query(&"a".repeat(MAX_TEXT + 1)).is_err());
    }
}
