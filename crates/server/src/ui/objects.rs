//! The object list of one collection (`/ui/c/{collection}`): the newest visible version of
//! each object, newest first, with filters (type, TLP, producer, time added), full-text
//! search over names, descriptions and pattern values, and keyset paging.
//!
//! Everything comes from `Store::search_objects` with the user's `Access::max_tlp`, so the
//! TLP filter runs inside the query before paging (a hidden object is neither listed nor
//! counted in `more`). Paging is by `next` token (the last date_added shown), never by
//! offset: page 1,000 costs what page 1 costs.

use std::collections::{BTreeSet, HashMap};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use stix::{Timestamp, TlpLevel};
use store::{Access, Collection, ObjectQuery, SearchQuery, StoredObject, VersionMatch};

use crate::ui::layout::{self, Nav};
use crate::ui::{Session, UiError, UiState};

/// Objects per page.
pub const PAGE_SIZE: usize = 50;
/// Longest filter value accepted (ids are under 100 bytes; search text is bounded by the
/// store at 512).
const MAX_PARAM: usize = 512;
/// Producers whose names are looked up per page (one small query each).
const MAX_PRODUCER_LOOKUPS: usize = 10;

/// STIX 2.1 types offered in the type filter (SDOs, SROs, then the common SCOs).
pub const TYPES: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
    "relationship",
    "sighting",
    "marking-definition",
    "domain-name",
    "ipv4-addr",
    "ipv6-addr",
    "url",
    "file",
    "email-addr",
    "x509-certificate",
];

pub(crate) fn routes() -> Router<UiState> {
    Router::new().route("/c/{collection}", get(page))
}

/// The collection if the user may read it; otherwise "not found", exactly like one that
/// does not exist (the same rule as the API's, from the same `Store::access`).
pub async fn readable(
    state: &UiState,
    session: &Session,
    collection_id: &str,
) -> Result<(Collection, Access), UiError> {
    match state
        .app
        .store
        .access(Some(&session.principal), collection_id)
        .await?
    {
        Some((c, a)) if a.read => Ok((c, a)),
        _ => Err(UiError::NotFound("collection")),
    }
}

/// The list's query parameters, as the filter form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    /// Full-text search.
    #[serde(default)]
    pub q: String,
    /// A STIX type.
    #[serde(default, rename = "type")]
    pub type_name: String,
    /// A TLP level (`clear`, `green`, `amber`, `amber+strict`, `red`).
    #[serde(default)]
    pub tlp: String,
    /// An identity id (`created_by_ref`).
    #[serde(default)]
    pub producer: String,
    /// Added on or after this day (`YYYY-MM-DD`) or instant.
    #[serde(default)]
    pub after: String,
    /// Added before this day or instant.
    #[serde(default)]
    pub before: String,
    /// Paging token.
    #[serde(default)]
    pub next: String,
}

/// A day (`2024-05-01`, meaning its start) or a STIX timestamp.
fn parse_time(what: &str, s: &str) -> Result<Option<Timestamp>, UiError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let full = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_owned()
    };
    Timestamp::parse(&full)
        .map(Some)
        .map_err(|_| UiError::BadRequest(format!("{what}: not a date (YYYY-MM-DD): {s}")))
}

impl ListParams {
    /// The store query for a reader whose audience is `max_tlp`.
    pub fn to_query(&self, max_tlp: TlpLevel) -> Result<SearchQuery, UiError> {
        for v in [
            &self.q,
            &self.type_name,
            &self.tlp,
            &self.producer,
            &self.after,
            &self.before,
            &self.next,
        ] {
            if v.len() > MAX_PARAM {
                return Err(UiError::BadRequest("a filter value is too long".into()));
            }
        }
        let tlp = match self.tlp.as_str() {
            "" => Vec::new(),
            t => vec![
                TlpLevel::ALL
                    .into_iter()
                    .find(|l| l.as_str() == t)
                    .ok_or_else(|| UiError::BadRequest(format!("unknown TLP level {t:?}")))?,
            ],
        };
        let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        // The one shape an exclusive `before` needs: the start of the next day.
        let before = parse_time("added before", &self.before)?;
        Ok(SearchQuery {
            types: nonempty(&self.type_name).into_iter().collect(),
            tlp,
            producer: nonempty(&self.producer),
            added_after: parse_time("added after", &self.after)?,
            added_before: before,
            text: nonempty(&self.q),
            limit: PAGE_SIZE,
            next: nonempty(&self.next),
            max_tlp,
        })
    }

    /// The query string of these filters with another `next`.
    fn link(&self, next: Option<&str>) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("type", &self.type_name),
            ("tlp", &self.tlp),
            ("producer", &self.producer),
            ("after", &self.after),
            ("before", &self.before),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        if let Some(n) = next {
            s.append_pair("next", n);
        }
        s.finish()
    }
}

/// The name to show for an object: its `name`, an SCO's `value`, else its id.
pub fn display_name(obj: &serde_json::Value, id: &str) -> String {
    for key in ["name", "value", "path", "key", "number", "subject"] {
        if let Some(s) = obj.get(key).and_then(|v| v.as_str())
            && !s.is_empty()
        {
            return s.to_owned();
        }
    }
    if obj.get("type").and_then(|t| t.as_str()) == Some("relationship") {
        let rel = obj
            .get("relationship_type")
            .and_then(|v| v.as_str())
            .unwrap_or("related-to");
        return format!("relationship: {rel}");
    }
    id.to_owned()
}

/// Names of identities (producers) by id, looked up in the collection at the reader's level.
pub async fn producer_names(
    state: &UiState,
    collection_id: &str,
    ids: impl IntoIterator<Item = String>,
    max_tlp: TlpLevel,
) -> Result<HashMap<String, String>, UiError> {
    let mut out = HashMap::new();
    for id in ids.into_iter().take(MAX_PRODUCER_LOOKUPS) {
        let q = ObjectQuery {
            versions: vec![VersionMatch::Last],
            limit: 1,
            max_tlp,
            ..ObjectQuery::default()
        };
        let page = state.app.store.get_object(collection_id, &id, &q).await?;
        if let Some(o) = page.items.first()
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&o.raw_json)
        {
            out.insert(id, display_name(&v, &o.id));
        }
    }
    Ok(out)
}

async fn page(
    State(state): State<UiState>,
    session: Session,
    Path(collection_id): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<Response, UiError> {
    let (c, access) = readable(&state, &session, &collection_id).await?;
    let query = params.to_query(access.max_tlp)?;
    let page = state.app.store.search_objects(&c.id, &query).await?;
    let parsed: Vec<(StoredObject, serde_json::Value)> = page
        .items
        .into_iter()
        .map(|o| {
            let v = serde_json::from_str(&o.raw_json).unwrap_or(serde_json::Value::Null);
            (o, v)
        })
        .collect();
    let producers: BTreeSet<String> = parsed
        .iter()
        .filter_map(|(_, v)| v.get("created_by_ref")?.as_str().map(str::to_owned))
        .collect();
    let names = producer_names(&state, &c.id, producers, access.max_tlp).await?;
    let base = format!("/ui/c/{}", c.id);
    let filtered = !params.link(None).is_empty();
    let content = html! {
        div.crumbs { a href="/ui/collections" { "Collections" } " / " (c.title) }
        h1 { (c.title) }
        @if let Some(d) = &c.description { p.muted { (d) } }
        form.filters method="get" action=(base) role="search" {
            div.q {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(params.q) placeholder="name, description, pattern value";
            }
            div {
                label for="type" { "Type" }
                select #type name="type" {
                    option value="" { "any" }
                    @for t in TYPES {
                        option value=(t) selected[params.type_name == *t] { (t) }
                    }
                    @if !params.type_name.is_empty() && !TYPES.contains(&params.type_name.as_str()) {
                        option value=(params.type_name) selected { (params.type_name) }
                    }
                }
            }
            div {
                label for="tlp" { "TLP" }
                select #tlp name="tlp" {
                    option value="" { "any" }
                    @for l in TlpLevel::ALL.into_iter().filter(|l| *l <= access.max_tlp) {
                        option value=(l.as_str()) selected[params.tlp == l.as_str()] { (l.label()) }
                    }
                }
            }
            div {
                label for="producer" { "Producer (identity id)" }
                input #producer type="text" name="producer" value=(params.producer) size="24";
            }
            div {
                label for="after" { "Added from" }
                input #after type="date" name="after" value=(params.after);
            }
            div {
                label for="before" { "Added before" }
                input #before type="date" name="before" value=(params.before);
            }
            div {
                button type="submit" { "Filter" }
                @if filtered { " " a.button.secondary href=(base) { "Clear" } }
            }
        }
        @if parsed.is_empty() {
            p { @if filtered { "No object matches these filters." } @else { "No object you may see yet." } }
        } @else {
            div.table-wrap {
                table.list {
                    thead {
                        tr {
                            th scope="col" { "Name" }
                            th scope="col" { "Type" }
                            th scope="col" { "TLP" }
                            th.wide scope="col" { "Producer" }
                            th scope="col" { "Added" }
                        }
                    }
                    tbody {
                        @for (o, v) in &parsed {
                            tr {
                                td {
                                    a href={ (base) "/o/" (o.id) } { (display_name(v, &o.id)) }
                                    @if o.revoked { " " span.muted { "(revoked)" } }
                                    div.id { (o.id) }
                                }
                                td { (o.type_name) }
                                td { (layout::tlp_badge(o.tlp)) }
                                td.wide {
                                    @if let Some(p) = v.get("created_by_ref").and_then(|p| p.as_str()) {
                                        a href={ (base) "?" (ListParams { producer: p.to_owned(), ..ListParams::default() }.link(None)) } {
                                            (names.get(p).map(String::as_str).unwrap_or(p))
                                        }
                                    }
                                }
                                td { (layout::time(&o.date_added.to_string())) }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if !params.next.is_empty() {
                a href={ (base) "?" (params.link(None)) } { "← Newest" }
            }
            @if let Some(n) = &page.next {
                a href={ (base) "?" (params.link(Some(n))) } rel="next" { "Older →" }
            }
        }
    };
    Ok(layout::html(layout::page(
        &session,
        &c.title,
        Nav::Collections,
        content,
    )))
}

/// Shown in lists instead of markup when nothing applies.
pub fn none() -> Markup {
    html! { span.muted { "—" } }
}
