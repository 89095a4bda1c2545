//! One object's page (`/ui/c/{collection}/o/{id}`, `?version=V` for an older version):
//! its properties laid out for reading, its markings, its versions, its relationships in
//! and out with a small graph, the sightings of it, its place in the transparency log with
//! the inclusion proof checked here, and the raw JSON in a collapsible block.
//!
//! Every read goes through the store with the reader's `Access::max_tlp`: the versions,
//! the objects that refer to this one (`Store::objects_referencing`) and the names of the
//! objects it refers to are all filtered in the query, so an object the reader may not see
//! is never named or drawn (at most the bare id another visible object carries shows).

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use stix::{Timestamp, TlpLevel};
use store::{ObjectQuery, StoredObject, VersionMatch};

use crate::ui::graph::{self, Neighbour};
use crate::ui::layout::{self, Nav};
use crate::ui::objects::{display_name, readable};
use crate::ui::{Session, UiError, UiState};

/// Most versions listed.
const MAX_VERSIONS: usize = 100;
/// Most referring objects read (relationships, sightings, reports, ...).
const MAX_REFERRING: usize = 200;
/// Most referenced objects whose names are looked up.
const MAX_NAME_LOOKUPS: usize = 40;
/// Longest object id accepted in the path.
const MAX_ID: usize = 256;

/// Properties shown in the header or their own sections rather than the field list.
const SHOWN_ELSEWHERE: &[&str] = &[
    "type",
    "id",
    "name",
    "object_marking_refs",
    "granular_markings",
    "pattern",
];

pub(crate) fn routes() -> Router<UiState> {
    Router::new().route("/c/{collection}/o/{object}", get(page))
}

#[derive(Debug, Deserialize)]
struct ObjectParams {
    version: Option<String>,
}

/// One version of the object, at the reader's level.
async fn version_of(
    state: &UiState,
    collection: &str,
    id: &str,
    version: VersionMatch,
    max_tlp: TlpLevel,
) -> Result<Option<StoredObject>, UiError> {
    let q = ObjectQuery {
        versions: vec![version],
        limit: 1,
        max_tlp,
        ..ObjectQuery::default()
    };
    Ok(state
        .app
        .store
        .get_object(collection, id, &q)
        .await?
        .items
        .into_iter()
        .next())
}

/// The ids an object refers to, with the property naming them (`*_ref`, `*_refs`).
fn refs_out(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(map) = v.as_object() else {
        return out;
    };
    for (k, val) in map {
        if k == "object_marking_refs" {
            continue;
        }
        if k.ends_with("_ref")
            && let Some(s) = val.as_str()
        {
            out.push((k.clone(), s.to_owned()));
        } else if k.ends_with("_refs")
            && let Some(a) = val.as_array()
        {
            out.extend(
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|s| (k.clone(), s.to_owned())),
            );
        }
    }
    out
}

/// A property's value for reading: timestamps as `<time>`, references as links, lists as
/// lists, external references with their links, anything else as compact JSON.
fn value(base: &str, key: &str, v: &Value) -> Markup {
    match v {
        Value::String(s) if key.ends_with("_ref") => ref_link(base, s),
        Value::String(s) if Timestamp::parse(s).is_ok() => layout::time(s),
        Value::String(s) => html! { (s) },
        Value::Bool(b) => html! { (if *b { "yes" } else { "no" }) },
        Value::Number(n) => html! { (n.to_string()) },
        Value::Array(items) if key == "external_references" => html! {
            ul {
                @for r in items {
                    li {
                        @if let Some(name) = r.get("source_name").and_then(Value::as_str) { strong { (name) } }
                        @if let Some(id) = r.get("external_id").and_then(Value::as_str) { " " code { (id) } }
                        @if let Some(url) = r.get("url").and_then(Value::as_str) {
                            " "
                            @if url.starts_with("https://") || url.starts_with("http://") {
                                a href=(url) rel="noopener noreferrer nofollow" { (url) }
                            } @else { (url) }
                        }
                        @if let Some(d) = r.get("description").and_then(Value::as_str) { div.muted { (d) } }
                    }
                }
            }
        },
        Value::Array(items) if key == "kill_chain_phases" => html! {
            ul {
                @for p in items {
                    li {
                        (p.get("kill_chain_name").and_then(Value::as_str).unwrap_or("?"))
                        ": " strong { (p.get("phase_name").and_then(Value::as_str).unwrap_or("?")) }
                    }
                }
            }
        },
        Value::Array(items) if items.iter().all(Value::is_string) => html! {
            ul {
                @for s in items.iter().filter_map(Value::as_str) {
                    li { @if key.ends_with("_refs") { (ref_link(base, s)) } @else { (s) } }
                }
            }
        },
        other => html! { code { (other.to_string()) } },
    }
}

fn ref_link(base: &str, id: &str) -> Markup {
    html! { a.mono href={ (base) "/o/" (id) } { (id) } }
}

/// Where the object version stands in the transparency log.
enum LogPlace {
    /// The server runs without a log.
    NoLog,
    /// No `add` entry records this version.
    NotLogged,
    /// Logged at `index`, but the latest checkpoint (`size`) does not cover it yet.
    Pending { index: u64, size: u64 },
    /// Logged and checked against the checkpoint.
    Checked {
        index: u64,
        size: u64,
        note: String,
        /// The entry recomputed from the stored object equals the logged one.
        entry_matches: bool,
        /// The inclusion proof leads to the checkpoint's root.
        included: Result<(), String>,
    },
}

/// Looks the version up in the log and, when the signed checkpoint covers it, checks the
/// RFC 9162 inclusion proof of the entry recomputed from the stored object.
async fn log_place(
    state: &UiState,
    collection: &str,
    o: &StoredObject,
) -> Result<LogPlace, UiError> {
    let Some(signer) = state.app.log.as_ref() else {
        return Ok(LogPlace::NoLog);
    };
    let store = &state.app.store;
    let Some((index, logged)) = store.log_lookup(collection, &o.id, &o.version).await? else {
        return Ok(LogPlace::NotLogged);
    };
    let published = signer.current(store).await?;
    let verifier = tlog::Ed25519Verifier::from_vkey(&signer.vkey())
        .map_err(|e| UiError::Internal(format!("log key: {e}")))?;
    let (checkpoint, _) = tlog::open_checkpoint(published.note.as_bytes(), &[&verifier])
        .map_err(|e| UiError::Internal(format!("own checkpoint does not verify: {e}")))?;
    if index >= checkpoint.size {
        return Ok(LogPlace::Pending {
            index,
            size: checkpoint.size,
        });
    }
    let recomputed = tlog::entry_bytes(
        tlog::LogOp::Add,
        collection,
        &o.id,
        &o.version,
        &o.date_added.to_string(),
        o.raw_json.as_bytes(),
    );
    let proof = store.log_inclusion_proof(index, checkpoint.size).await?;
    let included = tlog::verify_inclusion(
        &tlog::leaf_hash(&recomputed),
        index,
        checkpoint.size,
        &proof,
        &checkpoint.root,
    )
    .map_err(|e| e.to_string());
    Ok(LogPlace::Checked {
        index,
        size: checkpoint.size,
        note: published.note.to_string(),
        entry_matches: recomputed == logged,
        included,
    })
}

async fn page(
    State(state): State<UiState>,
    session: Session,
    Path((collection_id, object_id)): Path<(String, String)>,
    Query(params): Query<ObjectParams>,
) -> Result<Response, UiError> {
    if object_id.len() > MAX_ID {
        return Err(UiError::NotFound("object"));
    }
    let (c, access) = readable(&state, &session, &collection_id).await?;
    let max = access.max_tlp;
    let wanted = match params.version.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => VersionMatch::At(
            Timestamp::parse(v).map_err(|_| UiError::BadRequest(format!("not a version: {v}")))?,
        ),
        None => VersionMatch::Last,
    };
    let o = version_of(&state, &c.id, &object_id, wanted, max)
        .await?
        .ok_or(UiError::NotFound("object"))?;
    let v: Value = serde_json::from_str(&o.raw_json).unwrap_or(Value::Null);
    let store = &state.app.store;
    let versions = store
        .object_versions(&c.id, &o.id, max, MAX_VERSIONS + 1)
        .await?;
    let more_versions = versions.len() > MAX_VERSIONS;
    let referring = store
        .objects_referencing(&c.id, &o.id, max, MAX_REFERRING)
        .await?;
    let out = refs_out(&v);

    // Names of the objects around this one, looked up at the reader's level.
    let mut names: HashMap<String, (String, String)> = HashMap::new();
    let mut wanted_names: Vec<String> = out.iter().map(|(_, id)| id.clone()).collect();
    for r in &referring {
        if r.type_name == "relationship"
            && let Ok(rv) = serde_json::from_str::<Value>(&r.raw_json)
        {
            for end in ["source_ref", "target_ref"] {
                if let Some(id) = rv.get(end).and_then(Value::as_str) {
                    wanted_names.push(id.to_owned());
                }
            }
        }
    }
    wanted_names.sort();
    wanted_names.dedup();
    for id in wanted_names.into_iter().take(MAX_NAME_LOOKUPS) {
        if let Some(n) = version_of(&state, &c.id, &id, VersionMatch::Last, max).await? {
            let nv: Value = serde_json::from_str(&n.raw_json).unwrap_or(Value::Null);
            names.insert(id, (display_name(&nv, &n.id), n.type_name));
        }
    }
    let base = format!("/ui/c/{}", c.id);
    let label = |id: &str| -> (String, String) {
        names.get(id).cloned().unwrap_or_else(|| {
            let t = id.split("--").next().unwrap_or("").to_owned();
            (id.to_owned(), t)
        })
    };

    // Relationships in (this object is the target or source of a visible relationship),
    // sightings of it, and anything else that refers to it.
    let mut rel_in: Vec<(StoredObject, Value)> = Vec::new();
    let mut sightings: Vec<(StoredObject, Value)> = Vec::new();
    let mut other_in: Vec<(StoredObject, Value)> = Vec::new();
    for r in referring {
        let rv: Value = serde_json::from_str(&r.raw_json).unwrap_or(Value::Null);
        match r.type_name.as_str() {
            "relationship" => rel_in.push((r, rv)),
            "sighting" if rv.get("sighting_of_ref").and_then(Value::as_str) == Some(&o.id) => {
                sightings.push((r, rv))
            }
            _ => other_in.push((r, rv)),
        }
    }
    // The graph draws only neighbours the reader may see in this collection: an id the
    // reader cannot resolve (TLP above their level, or never shared here) is no node, so
    // a TLP:RED object of another organization is never drawn, named or linked.
    let mut neighbours = Vec::new();
    for (key, id) in &out {
        if !names.contains_key(id) {
            continue;
        }
        let (name, t) = label(id);
        let edge = if o.type_name == "relationship" {
            let rel = v
                .get("relationship_type")
                .and_then(Value::as_str)
                .unwrap_or("related-to");
            if key == "source_ref" {
                format!("← {rel}")
            } else {
                format!("{rel} →")
            }
        } else {
            key.trim_end_matches("_refs")
                .trim_end_matches("_ref")
                .replace('_', " ")
        };
        neighbours.push(Neighbour {
            label: name,
            type_name: t,
            href: format!("{base}/o/{id}"),
            edge,
        });
    }
    for (_, rv) in &rel_in {
        let rel = rv
            .get("relationship_type")
            .and_then(Value::as_str)
            .unwrap_or("related-to");
        let src = rv.get("source_ref").and_then(Value::as_str).unwrap_or("");
        let tgt = rv.get("target_ref").and_then(Value::as_str).unwrap_or("");
        let (other, edge) = if tgt == o.id {
            (src, format!("← {rel}"))
        } else {
            (tgt, format!("{rel} →"))
        };
        if !names.contains_key(other) {
            continue;
        }
        let (name, t) = label(other);
        neighbours.push(Neighbour {
            label: name,
            type_name: t,
            href: format!("{base}/o/{other}"),
            edge,
        });
    }
    let log = log_place(&state, &c.id, &o).await?;
    let title = display_name(&v, &o.id);
    let pretty = serde_json::to_string_pretty(&v).unwrap_or_else(|_| o.raw_json.clone());
    let markings: Vec<&str> = v
        .get("object_marking_refs")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();

    let content = html! {
        div.crumbs {
            a href="/ui/collections" { "Collections" } " / "
            a href=(base) { (c.title) } " / " (o.type_name)
        }
        h1 { (title) }
        p {
            (layout::tlp_badge(o.tlp)) " "
            span.mono { (o.id) }
            @if o.revoked { " " strong.error { "revoked" } }
        }
        div.cards {
            section.card.span aria-labelledby="h-fields" {
                h2 #h-fields { "Properties" }
                @if let Some(p) = v.get("pattern").and_then(Value::as_str) {
                    div.pattern.mono { (p) }
                }
                dl.fields {
                    @if let Some(map) = v.as_object() {
                        @for (k, val) in map.iter().filter(|(k, _)| !SHOWN_ELSEWHERE.contains(&k.as_str())) {
                            dt { (k.replace('_', " ")) }
                            dd { (value(&base, k, val)) }
                        }
                    }
                }
            }
            section.card aria-labelledby="h-markings" {
                h2 #h-markings { "Markings" }
                p { (layout::tlp_badge(o.tlp)) " as stored (unknown markings count as TLP:RED)" }
                @if markings.is_empty() {
                    p.muted { "No object markings." }
                } @else {
                    ul { @for m in &markings { li.mono { (m) } } }
                }
                @if v.get("granular_markings").is_some() { p.muted { "Has granular markings (see the JSON)." } }
                h2 #h-versions { "Versions" }
                ol reversed {
                    @for ve in versions.iter().take(MAX_VERSIONS) {
                        li {
                            @if ve.version == o.version {
                                strong { (layout::time(&ve.version)) } " (shown)"
                            } @else {
                                a href={ (base) "/o/" (o.id) "?version=" (ve.version) } { (layout::time(&ve.version)) }
                            }
                            span.muted { " added " (layout::time(&ve.date_added.to_string())) }
                        }
                    }
                }
                @if more_versions { p.muted { "Older versions not shown." } }
            }
            section.card aria-labelledby="h-log" {
                h2 #h-log { "Transparency log" }
                @match &log {
                    LogPlace::NoLog => p.muted { "This server runs without a transparency log." },
                    LogPlace::NotLogged => p.error { "No log entry records this version." },
                    LogPlace::Pending { index, size } => {
                        p { "Leaf index " strong { (index) } "." }
                        p.muted { "Not yet in a signed checkpoint (latest covers " (size) " entries); reload in a moment." }
                    },
                    LogPlace::Checked { index, size, note, entry_matches, included } => {
                        p { "Leaf index " strong { (index) } " of the checkpoint of size " strong { (size) } "." }
                        @if *entry_matches && included.is_ok() {
                            p.verified { "✓ verified" }
                            p.muted { "The entry recomputed from this object is in the signed checkpoint: the RFC 9162 inclusion proof was checked on the server." }
                        } @else if !*entry_matches {
                            p.error { "✗ the object differs from what the log recorded" }
                        } @else {
                            p.error { "✗ inclusion proof failed: " (included.as_ref().err().map(String::as_str).unwrap_or("")) }
                        }
                        details { summary { "Signed checkpoint" } pre.note { (note) } }
                    },
                }
            }
        }
        section aria-labelledby="h-rel" {
            h2 #h-rel { "Relationships" }
            (graph::svg(&title, &o.type_name, &neighbours))
            @if neighbours.is_empty() { p.muted { "No relationships you may see." } }
            @if !out.is_empty() {
                h3 { "Refers to" }
                ul {
                    @for (key, id) in &out {
                        li { span.muted { (key) ": " } a href={ (base) "/o/" (id) } { (label(id).0) } }
                    }
                }
            }
            @if !rel_in.is_empty() {
                h3 { "Relationships to and from it" }
                div.table-wrap { table {
                    thead { tr { th scope="col" { "Source" } th scope="col" { "Relationship" } th scope="col" { "Target" } } }
                    tbody {
                        @for (r, rv) in &rel_in {
                            @let src = rv.get("source_ref").and_then(Value::as_str).unwrap_or("");
                            @let tgt = rv.get("target_ref").and_then(Value::as_str).unwrap_or("");
                            tr {
                                td { a href={ (base) "/o/" (src) } { (label(src).0) } }
                                td { a href={ (base) "/o/" (r.id) } { (rv.get("relationship_type").and_then(Value::as_str).unwrap_or("related-to")) } " " (layout::tlp_badge(r.tlp)) }
                                td { a href={ (base) "/o/" (tgt) } { (label(tgt).0) } }
                            }
                        }
                    }
                } }
            }
            @if !other_in.is_empty() {
                h3 { "Referred to by" }
                ul {
                    @for (r, rv) in &other_in {
                        li { a href={ (base) "/o/" (r.id) } { (display_name(rv, &r.id)) } " " span.muted { (r.type_name) } }
                    }
                }
            }
        }
        section aria-labelledby="h-sight" {
            h2 #h-sight { "Sightings" }
            @if sightings.is_empty() {
                p.muted { "No sightings of it you may see." }
            } @else {
                div.table-wrap { table {
                    thead { tr { th scope="col" { "Reported by" } th scope="col" { "Where" } th.num scope="col" { "Count" } th scope="col" { "First seen" } th scope="col" { "Last seen" } } }
                    tbody {
                        @for (r, rv) in &sightings {
                            tr {
                                td {
                                    @match rv.get("created_by_ref").and_then(Value::as_str) {
                                        Some(p) => a href={ (base) "/o/" (p) } { (label(p).0) },
                                        None => span.muted { "—" },
                                    }
                                    div.id { a href={ (base) "/o/" (r.id) } { (r.id) } }
                                }
                                td {
                                    @for w in rv.get("where_sighted_refs").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                                        div.mono { (w) }
                                    }
                                }
                                td.num { (rv.get("count").and_then(Value::as_u64).unwrap_or(1)) }
                                td { @if let Some(t) = rv.get("first_seen").and_then(Value::as_str) { (layout::time(t)) } }
                                td { @if let Some(t) = rv.get("last_seen").and_then(Value::as_str) { (layout::time(t)) } }
                            }
                        }
                    }
                } }
            }
        }
        details.raw {
            summary { "Raw JSON (as stored)" }
            button.secondary type="button" data-copy="raw-json" hidden { "Copy" }
            pre.json #raw-json { (pretty) }
        }
    };
    Ok(layout::html(layout::page(
        &session,
        &title,
        Nav::Collections,
        content,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_out_come_from_ref_properties() {
        let v = json!({
            "type": "report",
            "created_by_ref": "identity--1",
            "object_refs": ["indicator--1", "malware--2", 3],
            "object_marking_refs": ["marking-definition--x"],
            "name": "x_ref"
        });
        let got = refs_out(&v);
        assert_eq!(
            got,
            vec![
                ("created_by_ref".to_owned(), "identity--1".to_owned()),
                ("object_refs".to_owned(), "indicator--1".to_owned()),
                ("object_refs".to_owned(), "malware--2".to_owned()),
            ]
        );
    }

    #[test]
    fn only_web_links_are_links() {
        let refs = json!([{ "source_name": "x", "url": "javascript:alert(1)" },
                          { "source_name": "y", "url": "https://example.org/a?b=<c>" }]);
        let out = value("/ui/c/1", "external_references", &refs).into_string();
        assert!(!out.contains("href=\"javascript"), "{out}");
        assert!(
            out.contains("href=\"https://example.org/a?b=&lt;c&gt;\""),
            "{out}"
        );
    }
}
