//! The collections page (`/ui/collections`): every collection the signed-in user may read
//! or write, in every API root, with what they may see of its size, when something was
//! last added, their rights, and the collection's TLP policy. Administrators also see all
//! grants.
//!
//! Which collections appear is `Store::collections_for`, the same call that answers the
//! TAXII collections resource; counts are taken at the user's TLP audience.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use stix::TlpLevel;
use store::{Access, CollectionFlags, Grantee};

use crate::ui::layout::{self, Nav};
use crate::ui::{Session, UiError, UiState};

pub(crate) fn routes() -> Router<UiState> {
    Router::new().route("/collections", get(page))
}

/// The most restrictive level a collection may hold, and who may read it, in words.
pub fn policy(flags: CollectionFlags) -> (TlpLevel, &'static str) {
    if flags.public_read {
        (TlpLevel::Clear, "public: anyone may read")
    } else if flags.restricted {
        (TlpLevel::Red, "restricted: named users only")
    } else {
        (TlpLevel::AmberStrict, "granted organizations")
    }
}

/// The user's rights in words.
pub fn rights(access: Access) -> &'static str {
    match (access.read, access.write) {
        (true, true) => "read, write",
        (true, false) => "read",
        (false, true) => "write only",
        (false, false) => "none",
    }
}

async fn page(State(state): State<UiState>, session: Session) -> Result<Response, UiError> {
    let store = &state.app.store;
    let p = &session.principal;
    let mut rows: Vec<Markup> = Vec::new();
    for root in store.list_api_roots().await? {
        for (c, access) in store.collections_for(Some(p), &root.name).await? {
            let stats = if access.read {
                Some(store.collection_stats(&c.id, access.max_tlp).await?)
            } else {
                None
            };
            let grants = if p.admin {
                Some(store.grants(&c.id).await?)
            } else {
                None
            };
            let (most, who) = policy(c.flags);
            rows.push(html! {
                tr {
                    td {
                        @if access.read {
                            a href={ "/ui/c/" (c.id) } { (c.title) }
                        } @else {
                            (c.title)
                        }
                        @if let Some(d) = &c.description { div.id { (d) } }
                        div.id { (c.id) }
                    }
                    td.wide { (root.name) }
                    td.num {
                        @match &stats { Some(s) => (s.versions), None => span.muted { "—" } }
                    }
                    td {
                        @match stats.as_ref().and_then(|s| s.last_added.as_ref()) {
                            Some(t) => (layout::time(&t.to_string())),
                            None => span.muted { "—" },
                        }
                    }
                    td {
                        (rights(access))
                        @if access.read { " up to " (layout::tlp_badge(access.max_tlp)) }
                    }
                    td { "up to " (layout::tlp_badge(most)) br; span.muted { (who) } }
                    @if let Some(grants) = &grants {
                        td.wide {
                            @if grants.is_empty() { span.muted { "none" } }
                            @for g in grants {
                                div {
                                    @match &g.grantee {
                                        Grantee::Org(o) => { "org " (o) }
                                        Grantee::User(u) => { "user " (u) }
                                    }
                                    ": " (rights(Access { read: g.grant.read, write: g.grant.write, max_tlp: TlpLevel::Clear }))
                                }
                            }
                        }
                    }
                }
            });
        }
    }
    let content = html! {
        h1 { "Collections" }
        p.muted { "Collections you may read or write. Counts are object versions you may see." }
        @if rows.is_empty() {
            p { "You have access to no collection yet; ask an administrator for a grant." }
        } @else {
            div.table-wrap {
                table {
                    thead {
                        tr {
                            th scope="col" { "Collection" }
                            th.wide scope="col" { "API root" }
                            th.num scope="col" { "Objects" }
                            th scope="col" { "Last added" }
                            th scope="col" { "Your access" }
                            th scope="col" { "TLP policy" }
                            @if p.admin { th.wide scope="col" { "Grants" } }
                        }
                    }
                    tbody { @for r in &rows { (r) } }
                }
            }
        }
    };
    Ok(layout::html(layout::page(
        &session,
        "Collections",
        Nav::Collections,
        content,
    )))
}
