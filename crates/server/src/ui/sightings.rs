//! The sightings view (`/ui/sightings`): which partners saw which indicators, when and how
//! often.
//!
//! It reads the `sighting` objects (STIX 2.1 §5.4) of the collections the user may read —
//! through `Store::search_objects`, so only versions within the reader's TLP audience are
//! ever loaded — and groups them by `sighting_of_ref` (what was seen) and then by
//! `created_by_ref` (the partner who reported it). Per partner it shows how many sightings
//! were reported, the sum of their `count` (§5.4: 1 when absent), the earliest
//! `first_seen` and the latest `last_seen` (falling back to the sighting's `created` when
//! those are absent).
//!
//! Names of the indicators and partners are looked up in the same collections with the
//! same audience; a referenced object the reader may not see is shown by its id alone,
//! never by anything read from it (an indicator marked TLP:RED in a collection the reader
//! cannot read stays an opaque id, issue 9, item 2).
//!
//! Bounded: at most [`MAX_SIGHTINGS`] sightings, newest first, are grouped per request;
//! the page says when the limit cut the list.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use stix::Timestamp;
use store::{Collection, ObjectQuery, SearchQuery, TlpLevel};

use crate::ui::layout::{self, Nav};
use crate::ui::{Session, UiError, UiState};

/// Most sightings grouped for one page view.
pub const MAX_SIGHTINGS: usize = 5_000;
/// Page size of each store read.
const PAGE: usize = 500;
/// Ids asked for in one name lookup.
const IDS_PER_LOOKUP: usize = 200;

/// The sightings routes.
pub(crate) fn routes() -> Router<UiState> {
    Router::new().route("/sightings", get(view))
}

/// One partner's reports about one sighted object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRow {
    /// The partner's identity id (`created_by_ref`), empty when the sightings name none.
    pub partner: String,
    /// Sighting objects reported.
    pub reports: u64,
    /// Sum of their `count`.
    pub count: u64,
    /// Earliest `first_seen` (or `created`).
    pub first_seen: Option<Timestamp>,
    /// Latest `last_seen` (or `created`).
    pub last_seen: Option<Timestamp>,
}

/// Everything reported about one sighted object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The sighted object's id (`sighting_of_ref`).
    pub target: String,
    /// The collection the first sighting of it was found in (for links).
    pub collection: String,
    /// One row per partner, most recent first.
    pub partners: Vec<PartnerRow>,
}

impl Group {
    /// Total `count` over all partners.
    pub fn total(&self) -> u64 {
        self.partners.iter().map(|p| p.count).sum()
    }

    /// The latest `last_seen` over all partners.
    pub fn last_seen(&self) -> Option<Timestamp> {
        self.partners.iter().filter_map(|p| p.last_seen).max()
    }
}

/// The properties of a sighting this view reads (STIX 2.1 §5.4); the rest of the object
/// is skipped without being built. `Cow` borrows from the stored text unless a string
/// holds escapes.
#[derive(Deserialize)]
struct SightingFields<'a> {
    #[serde(rename = "type", borrow)]
    type_name: Cow<'a, str>,
    #[serde(borrow)]
    sighting_of_ref: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created_by_ref: Option<Cow<'a, str>>,
    /// 0..=999999999; absent means once.
    count: Option<u64>,
    #[serde(borrow)]
    created: Option<Cow<'a, str>>,
    #[serde(borrow)]
    first_seen: Option<Cow<'a, str>>,
    #[serde(borrow)]
    last_seen: Option<Cow<'a, str>>,
}

fn stamp(v: Option<&Cow<'_, str>>) -> Option<Timestamp> {
    v?.parse().ok()
}

/// Groups sightings (`(collection id, object JSON)`) by what they saw and who saw it,
/// most recently seen first. Objects that are not sightings or lack `sighting_of_ref`
/// are ignored.
///
/// Typed, borrowing deserialisation rather than a `serde_json::Value` per object, and
/// `created` parsed only when a seen time is missing: a 5,000-sighting page spent most of
/// its time here with `Value`s (measured with `scripts/bench_ui_push.py`).
pub fn aggregate<'a>(sightings: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (collection, raw) in sightings {
        let Ok(v) = serde_json::from_str::<SightingFields<'_>>(raw) else {
            continue;
        };
        if v.type_name != "sighting" {
            continue;
        }
        let Some(target) = v.sighting_of_ref.as_deref() else {
            continue;
        };
        let partner = v.created_by_ref.as_deref().unwrap_or("").to_owned();
        let count = v.count.unwrap_or(1);
        let first = stamp(v.first_seen.as_ref()).or_else(|| stamp(v.created.as_ref()));
        let last = stamp(v.last_seen.as_ref()).or_else(|| stamp(v.created.as_ref()));
        let g = *index.entry(target.to_owned()).or_insert_with(|| {
            groups.push(Group {
                target: target.to_owned(),
                collection: collection.to_owned(),
                partners: Vec::new(),
            });
            groups.len() - 1
        });
        let rows = &mut groups[g].partners;
        match rows.iter_mut().find(|r| r.partner == partner) {
            Some(r) => {
                r.reports += 1;
                r.count = r.count.saturating_add(count);
                r.first_seen = match (r.first_seen, first) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                r.last_seen = r.last_seen.max(last);
            }
            None => rows.push(PartnerRow {
                partner,
                reports: 1,
                count,
                first_seen: first,
                last_seen: last,
            }),
        }
    }
    for g in &mut groups {
        g.partners.sort_by_key(|p| std::cmp::Reverse(p.last_seen));
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.last_seen()));
    groups
}

/// What the reader may know of a referenced object.
#[derive(Debug, Clone)]
struct Known {
    name: String,
    type_name: String,
    collection: String,
}

#[derive(Debug, Deserialize)]
struct Params {
    /// Only this collection (its id); all readable ones when absent or empty.
    collection: Option<String>,
}

async fn readable(
    state: &UiState,
    session: &Session,
) -> Result<Vec<(Collection, TlpLevel)>, UiError> {
    let mut out = Vec::new();
    for root in state.app.store.list_api_roots().await? {
        for (c, access) in state
            .app
            .store
            .collections_for(Some(&session.principal), &root.name)
            .await?
        {
            if access.read {
                out.push((c, access.max_tlp));
            }
        }
    }
    Ok(out)
}

async fn view(
    State(state): State<UiState>,
    session: Session,
    Query(params): Query<Params>,
) -> Result<Response, UiError> {
    let all = readable(&state, &session).await?;
    let selected = params.collection.filter(|c| !c.is_empty());
    let scope: Vec<&(Collection, TlpLevel)> = match &selected {
        Some(id) => {
            let found: Vec<_> = all.iter().filter(|(c, _)| &c.id == id).collect();
            if found.is_empty() {
                return Err(UiError::NotFound("collection"));
            }
            found
        }
        None => all.iter().collect(),
    };
    // Newest sightings first, per collection, until the bound.
    let mut loaded: Vec<(String, String)> = Vec::new();
    let mut truncated = false;
    'collections: for (c, max_tlp) in &scope {
        let mut next = None;
        loop {
            let room = MAX_SIGHTINGS - loaded.len();
            let page = state
                .app
                .store
                .search_objects(
                    &c.id,
                    &SearchQuery {
                        types: vec!["sighting".into()],
                        limit: PAGE.min(room),
                        next: next.take(),
                        max_tlp: *max_tlp,
                        ..SearchQuery::default()
                    },
                )
                .await?;
            loaded.extend(page.items.into_iter().map(|o| (c.id.clone(), o.raw_json)));
            if loaded.len() >= MAX_SIGHTINGS {
                truncated = page.more || scope.len() > 1;
                break 'collections;
            }
            match page.next {
                Some(n) if page.more => next = Some(n),
                _ => break,
            }
        }
    }
    let groups = aggregate(loaded.iter().map(|(c, r)| (c.as_str(), r.as_str())));
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for g in &groups {
        wanted.insert(g.target.clone());
        wanted.extend(
            g.partners
                .iter()
                .map(|p| p.partner.clone())
                .filter(|p| !p.is_empty()),
        );
    }
    let known = lookup(&state, &all, &wanted).await?;
    let body = render(
        &all,
        selected.as_deref(),
        &groups,
        &known,
        loaded.len(),
        truncated,
    );
    Ok(layout::html(layout::page(
        &session,
        "Sightings",
        Nav::Sightings,
        body,
    )))
}

/// Names of the referenced objects the reader may see, from every readable collection,
/// each within that collection's audience.
async fn lookup(
    state: &UiState,
    collections: &[(Collection, TlpLevel)],
    wanted: &BTreeSet<String>,
) -> Result<HashMap<String, Known>, UiError> {
    let mut known: HashMap<String, Known> = HashMap::new();
    let ids: Vec<&String> = wanted.iter().collect();
    for (c, max_tlp) in collections {
        for chunk in ids.chunks(IDS_PER_LOOKUP) {
            let missing: Vec<String> = chunk
                .iter()
                .filter(|id| !known.contains_key(id.as_str()))
                .map(|id| (*id).clone())
                .collect();
            if missing.is_empty() {
                continue;
            }
            let page = state
                .app
                .store
                .query_objects(
                    &c.id,
                    &ObjectQuery {
                        ids: missing,
                        limit: IDS_PER_LOOKUP,
                        max_tlp: *max_tlp,
                        ..ObjectQuery::default()
                    },
                )
                .await?;
            for o in page.items {
                let name = serde_json::from_str::<Value>(&o.raw_json)
                    .ok()
                    .and_then(|v| {
                        v.get("name")
                            .or_else(|| v.get("value"))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .unwrap_or_default();
                known.entry(o.id.clone()).or_insert(Known {
                    name,
                    type_name: o.type_name,
                    collection: c.id.clone(),
                });
            }
        }
    }
    Ok(known)
}

/// The link to an object's page in the UI.
fn object_href(collection: &str, id: &str) -> String {
    format!("/ui/c/{collection}/o/{id}")
}

fn time_cell(t: Option<Timestamp>) -> Markup {
    match t {
        Some(t) => layout::time(&t.to_string()),
        None => html! { "—" },
    }
}

fn reference(id: &str, known: &HashMap<String, Known>) -> Markup {
    match known.get(id) {
        Some(k) => html! {
            // The id is in the title: the table stays readable on a phone.
            a href=(object_href(&k.collection, id)) title=(id) {
                @if k.name.is_empty() { (k.type_name) } @else { (k.name) }
            }
        },
        None => html! { code.id title="not visible to you" { (id) } },
    }
}

fn render(
    collections: &[(Collection, TlpLevel)],
    selected: Option<&str>,
    groups: &[Group],
    known: &HashMap<String, Known>,
    loaded: usize,
    truncated: bool,
) -> Markup {
    html! {
        h1 { "Sightings" }
        p.lead {
            "Which partners saw which indicators, when and how often, from the sightings in "
            "the collections you may read."
        }
        form.filters method="get" action="/ui/sightings" {
            label for="collection" { "Collection" }
            select #collection name="collection" {
                option value="" selected[selected.is_none()] { "All readable collections" }
                @for (c, _) in collections {
                    option value=(c.id) selected[selected == Some(c.id.as_str())] { (c.title) }
                }
            }
            button type="submit" { "Show" }
        }
        @if groups.is_empty() {
            p.empty { "No sightings reported yet." }
        } @else {
            p.summary {
                (loaded) " sightings of " (groups.len()) " objects"
                @if truncated { " (the newest " (MAX_SIGHTINGS) "; narrow to one collection to see others)" }
                "."
            }
            div.table-wrap {
                table.sightings {
                    thead {
                        tr {
                            th scope="col" { "Sighted" }
                            th scope="col" { "Partner" }
                            th scope="col" .num.wide { "Reports" }
                            th scope="col" .num { "Count" }
                            th scope="col" .wide { "First seen" }
                            th scope="col" { "Last seen" }
                        }
                    }
                    @for g in groups {
                        tbody.group {
                            @for (i, p) in g.partners.iter().enumerate() {
                                tr {
                                    @if i == 0 {
                                        // A td, not a row header: the table's header
                                        // style (small capitals) would garble ids.
                                        td.sighted rowspan=(g.partners.len()) {
                                            (reference(&g.target, known))
                                            div.total.muted { "total " (g.total()) }
                                        }
                                    }
                                    td data-label="Partner" {
                                        @if p.partner.is_empty() {
                                            span.muted { "(unnamed)" }
                                        } @else {
                                            (reference(&p.partner, known))
                                        }
                                    }
                                    td.num.wide data-label="Reports" { (p.reports) }
                                    td.num data-label="Count" { (p.count) }
                                    td.wide data-label="First seen" { (time_cell(p.first_seen)) }
                                    td data-label="Last seen" { (time_cell(p.last_seen)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sighting(of: &str, by: Option<&str>, count: Option<u64>, first: &str, last: &str) -> String {
        let mut v = serde_json::json!({
            "type": "sighting",
            "spec_version": "2.1",
            "id": format!("sighting--{}", uuid::Uuid::new_v4()),
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "sighting_of_ref": of,
            "first_seen": first,
            "last_seen": last,
        });
        if let Some(b) = by {
            v["created_by_ref"] = b.into();
        }
        if let Some(c) = count {
            v["count"] = c.into();
        }
        v.to_string()
    }

    const I1: &str = "indicator--11111111-1111-4111-8111-111111111111";
    const I2: &str = "indicator--22222222-2222-4222-8222-222222222222";
    const P1: &str = "identity--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
    const P2: &str = "identity--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

    #[test]
    fn groups_by_target_and_partner() {
        let objects = [
            sighting(
                I1,
                Some(P1),
                Some(3),
                "2026-01-02T00:00:00Z",
                "2026-01-03T00:00:00Z",
            ),
            sighting(
                I1,
                Some(P1),
                None,
                "2026-01-01T00:00:00.5Z",
                "2026-01-02T00:00:00Z",
            ),
            sighting(
                I1,
                Some(P2),
                Some(5),
                "2026-01-04T00:00:00Z",
                "2026-01-05T00:00:00Z",
            ),
            sighting(
                I2,
                None,
                Some(2),
                "2026-01-10T00:00:00Z",
                "2026-01-10T01:00:00Z",
            ),
            // Not a sighting, and a sighting without a target: both ignored.
            r#"{"type":"indicator","id":"indicator--x"}"#.to_owned(),
            r#"{"type":"sighting","id":"sighting--x"}"#.to_owned(),
        ];
        let groups = aggregate(objects.iter().map(|o| ("c1", o.as_str())));
        assert_eq!(groups.len(), 2);
        // Most recently seen first.
        assert_eq!(groups[0].target, I2);
        assert_eq!(groups[0].partners[0].partner, "");
        assert_eq!(groups[0].total(), 2);
        let g = &groups[1];
        assert_eq!(g.target, I1);
        assert_eq!(g.total(), 3 + 1 + 5);
        assert_eq!(g.partners[0].partner, P2, "latest partner first");
        let p1 = &g.partners[1];
        assert_eq!((p1.reports, p1.count), (2, 4));
        assert_eq!(
            p1.first_seen.map(|t| t.to_string()).as_deref(),
            Some("2026-01-01T00:00:00.5Z")
        );
        assert_eq!(
            p1.last_seen.map(|t| t.to_string()).as_deref(),
            Some("2026-01-03T00:00:00Z")
        );
    }

    #[test]
    fn reads_escaped_strings() {
        // `\u002d` is a hyphen: the id must come out decoded, not be skipped.
        let raw = r#"{"type":"sighting","id":"sighting--1","created":"2026-02-01T00:00:00.000Z","sighting_of_ref":"indicator\u002d-11111111-1111-4111-8111-111111111111","count":4}"#;
        let groups = aggregate([("c", raw)]);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].target, I1);
        assert_eq!(groups[0].total(), 4);
    }

    #[test]
    fn falls_back_to_created_without_seen_times() {
        let raw = format!(
            r#"{{"type":"sighting","id":"sighting--1","created":"2026-02-01T00:00:00.000Z","sighting_of_ref":"{I1}"}}"#
        );
        let groups = aggregate([("c", raw.as_str())]);
        let p = &groups[0].partners[0];
        assert_eq!(p.count, 1);
        assert_eq!(p.first_seen, p.last_seen);
        assert!(p.first_seen.is_some());
    }
}
