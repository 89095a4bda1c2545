//! The administration pages (`/ui/admin`): organizations, users, API tokens, collections
//! and grants — what `entente admin` does on the command line, for administrators only.
//!
//! **Who.** Every handler starts with [`require_admin`]: a signed-in user who is not a
//! server administrator gets 403 (they know the page exists: it is in the docs), never a
//! partial page. Being an administrator grants no read access to objects (DESIGN.md
//! "Access"); these pages show accounts, collections and grants, never objects.
//!
//! **Forms.** Every form is a POST with the session's CSRF token (checked by
//! [`crate::ui::csrf::require_csrf`] before any handler runs). Successful changes answer
//! with a redirect back to the page (POST/redirect/GET, so reloading repeats nothing),
//! except token creation, whose answer is the one page that ever shows the token's secret:
//! the store keeps only its SHA-256. Refusals (a name taken, an unknown organization, a
//! restricted collection that would also be public) re-render the page with the store's
//! reason, status 400.
//!
//! **Revoking.** Revoking a token also ends the owner's UI sessions
//! ([`crate::ui::Sessions::end_user`]): a session does not remember which token opened
//! it, so ending them all is the only way to be sure the revoked one no longer works here.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use store::{Collection, CollectionFlags, Grant, GrantEntry, Grantee, NewCollection, StoreError};

use crate::ui::layout::{self, Nav};
use crate::ui::{Session, UiError, UiState};

/// The administration routes.
pub(crate) fn routes() -> Router<UiState> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/orgs", post(create_org))
        .route("/admin/users", post(create_user))
        .route("/admin/tokens", post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/collections", post(create_collection))
        .route("/admin/collections/{id}", get(collection_page))
        .route("/admin/collections/{id}/grants", post(set_grant))
}

/// 403 unless the signed-in user is an administrator.
pub fn require_admin(session: &Session) -> Result<(), UiError> {
    if session.principal.admin {
        Ok(())
    } else {
        Err(UiError::Forbidden(
            "only server administrators may use the administration pages".into(),
        ))
    }
}

/// Longest name or title an administrator may type, in bytes.
const MAX_NAME: usize = 200;

fn bounded(what: &str, value: &str) -> Result<String, UiError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(UiError::BadRequest(format!("the {what} is empty")));
    }
    if v.len() > MAX_NAME {
        return Err(UiError::BadRequest(format!(
            "the {what} is longer than {MAX_NAME} bytes"
        )));
    }
    Ok(v.to_owned())
}

/// What the overview says after a change (from the redirect's `done` parameter; only these
/// fixed texts are ever shown, whatever the query holds).
fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "org" => "Organization created.",
        "user" => "User created.",
        "revoked" => "Token revoked; the user's UI sessions were ended.",
        "collection" => "Collection created.",
        "grant" => "Grant saved.",
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
struct Done {
    done: Option<String>,
}

async fn overview(
    State(state): State<UiState>,
    session: Session,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    require_admin(&session)?;
    let page = overview_page(&state, &session, notice(q.done.as_deref()), None, None).await?;
    Ok(layout::html(page))
}

/// The overview page, with an optional notice, error (shown with status 400 by the
/// caller) or freshly created token secret.
async fn overview_page(
    state: &UiState,
    session: &Session,
    notice: Option<&str>,
    error: Option<&str>,
    secret: Option<(&str, &str)>,
) -> Result<Markup, UiError> {
    let store = &state.app.store;
    let orgs = store.list_orgs().await?;
    let users = store.list_users().await?;
    let tokens = store.list_tokens(None).await?;
    let roots = store.list_api_roots().await?;
    let collections = store.list_collections(None).await?;
    let body = html! {
        h1 { "Administration" }
        @if let Some(n) = notice { p.ok role="status" { (n) } }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        @if let Some((user, secret)) = secret {
            section.card.secret aria-labelledby="secret-heading" {
                h2 #secret-heading { "New token for " (user) }
                p { "Copy it now: it is shown only this once. The server keeps only its hash." }
                div.pattern { code #token-secret { (secret) } }
                button.secondary type="button" data-copy="token-secret" hidden { "Copy" }
            }
        }
        nav.crumbs aria-label="Sections" {
            a href="#orgs" { "Organizations" } " · "
            a href="#users" { "Users" } " · "
            a href="#tokens" { "Tokens" } " · "
            a href="#collections" { "Collections" }
        }

        h2 #orgs { "Organizations" }
        div.table-wrap {
            table.orgs {
                thead { tr { th scope="col" { "Name" } th.num scope="col" { "Users" } th.wide scope="col" { "Created" } } }
                tbody {
                    @for o in &orgs {
                        tr {
                            td { (o.name) }
                            td.num { (users.iter().filter(|u| u.org_id == o.id).count()) }
                            td.wide { (layout::time(&o.created.to_string())) }
                        }
                    }
                }
            }
        }
        form.filters method="post" action="/ui/admin/orgs" {
            (layout::csrf_field(session))
            div { label for="org-name" { "New organization" } input #org-name type="text" name="name" required maxlength=(MAX_NAME); }
            button type="submit" { "Create organization" }
        }

        h2 #users { "Users" }
        div.table-wrap {
            table.users {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Organization" } th scope="col" { "Role" } th.wide scope="col" { "Created" } } }
                tbody {
                    @for u in &users {
                        tr {
                            td { (u.name) }
                            td { (u.org_name) }
                            td { @if u.admin { strong { "administrator" } } @else { "member" } }
                            td.wide { (layout::time(&u.created.to_string())) }
                        }
                    }
                }
            }
        }
        form.filters method="post" action="/ui/admin/users" {
            (layout::csrf_field(session))
            div { label for="user-name" { "New user" } input #user-name type="text" name="name" required maxlength=(MAX_NAME); }
            div {
                label for="user-org" { "Organization" }
                select #user-org name="org" required {
                    @for o in &orgs { option value=(o.name) { (o.name) } }
                }
            }
            div { label for="user-admin" { input #user-admin type="checkbox" name="admin" value="on"; " Administrator" } }
            button type="submit" { "Create user" }
        }

        h2 #tokens { "API tokens" }
        div.table-wrap {
            table.tokens {
                thead { tr { th scope="col" { "Id" } th scope="col" { "User" } th.wide scope="col" { "Created" } th scope="col" { "State" } } }
                tbody {
                    @for t in &tokens {
                        tr {
                            td.num { (t.id) }
                            td { (t.user_name) }
                            td.wide { (layout::time(&t.created.to_string())) }
                            td {
                                @if t.revoked {
                                    span.muted { "revoked" }
                                } @else {
                                    form method="post" action={ "/ui/admin/tokens/" (t.id) "/revoke" }
                                        data-confirm={ "Revoke token " (t.id) " of " (t.user_name) "?" } {
                                        (layout::csrf_field(session))
                                        span.ok { "live" } " "
                                        button.secondary type="submit" { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        form.filters method="post" action="/ui/admin/tokens" {
            (layout::csrf_field(session))
            div {
                label for="token-user" { "New token for" }
                select #token-user name="user" required {
                    @for u in &users { option value=(u.name) { (u.name) " (" (u.org_name) ")" } }
                }
            }
            button type="submit" { "Create token" }
        }

        h2 #collections { "Collections" }
        div.table-wrap {
            table.collections {
                thead { tr { th scope="col" { "Title" } th scope="col" { "API root" } th scope="col" { "Kind" } th scope="col" .wide { "Id" } } }
                tbody {
                    @for c in &collections {
                        tr {
                            td { a href={ "/ui/admin/collections/" (c.id) } { (c.title) } }
                            td { (c.api_root) }
                            td { (kind_label(c.flags)) }
                            td.wide { code.id { (c.id) } }
                        }
                    }
                }
            }
        }
        form.filters method="post" action="/ui/admin/collections" {
            (layout::csrf_field(session))
            div {
                label for="col-root" { "API root" }
                select #col-root name="api_root" required {
                    @for r in &roots { option value=(r.name) { (r.name) } }
                }
            }
            div { label for="col-title" { "Title" } input #col-title type="text" name="title" required maxlength=(MAX_NAME); }
            div { label for="col-alias" { "Alias (optional)" } input #col-alias type="text" name="alias" maxlength=(MAX_NAME); }
            div {
                label for="col-kind" { "Kind" }
                select #col-kind name="kind" {
                    option value="orgs" selected { "Organizations (to AMBER+STRICT)" }
                    option value="public" { "Public read (CLEAR only)" }
                    option value="restricted" { "Restricted users (to RED)" }
                }
            }
            button type="submit" { "Create collection" }
        }
    };
    Ok(layout::page(session, "Administration", Nav::Admin, body))
}

fn kind_label(flags: CollectionFlags) -> &'static str {
    if flags.restricted {
        "restricted (named users)"
    } else if flags.public_read {
        "public read"
    } else {
        "organizations"
    }
}

/// A store refusal the administrator can act on, shown on the page; anything else fails
/// the request.
fn refusal(e: StoreError) -> Result<String, UiError> {
    match e {
        e @ (StoreError::AlreadyExists { .. }
        | StoreError::Invalid(_)
        | StoreError::NotFound { .. }) => Ok(e.to_string()),
        other => Err(other.into()),
    }
}

/// Re-renders the overview with an error, status 400.
async fn refused(state: &UiState, session: &Session, message: &str) -> Result<Response, UiError> {
    let page = overview_page(state, session, None, Some(message), None).await?;
    Ok((StatusCode::BAD_REQUEST, layout::html(page)).into_response())
}

fn done(what: &str) -> Response {
    Redirect::to(&format!("/ui/admin?done={what}")).into_response()
}

#[derive(Debug, Deserialize)]
struct NameForm {
    name: String,
}

async fn create_org(
    State(state): State<UiState>,
    session: Session,
    Form(f): Form<NameForm>,
) -> Result<Response, UiError> {
    require_admin(&session)?;
    let name = match bounded("organization name", &f.name) {
        Ok(n) => n,
        Err(UiError::BadRequest(m)) => return refused(&state, &session, &m).await,
        Err(e) => return Err(e),
    };
    match state.app.store.create_org(&name).await {
        Ok(_) => {
            tracing::info!(admin = %session.principal.user_name, org = %name, "UI: organization created");
            Ok(done("org"))
        }
        Err(e) => refused(&state, &session, &refusal(e)?).await,
    }
}

#[derive(Debug, Deserialize)]
struct UserForm {
    name: String,
    org: String,
    admin: Option<String>,
}

async fn create_user(
    State(state): State<UiState>,
    session: Session,
    Form(f): Form<UserForm>,
) -> Result<Response, UiError> {
    require_admin(&session)?;
    let name = match bounded("user name", &f.name) {
        Ok(n) => n,
        Err(UiError::BadRequest(m)) => return refused(&state, &session, &m).await,
        Err(e) => return Err(e),
    };
    let admin = f.admin.as_deref() == Some("on");
    match state
        .app
        .store
        .create_user(&name, f.org.trim(), admin)
        .await
    {
        Ok(_) => {
            tracing::info!(admin = %session.principal.user_name, user = %name, org = %f.org, "UI: user created");
            Ok(done("user"))
        }
        Err(e) => refused(&state, &session, &refusal(e)?).await,
    }
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    user: String,
}

/// Creates a token and answers with the only page that shows its secret (not cached:
/// every UI answer is `Cache-Control: no-store`).
async fn create_token(
    State(state): State<UiState>,
    session: Session,
    Form(f): Form<TokenForm>,
) -> Result<Response, UiError> {
    require_admin(&session)?;
    let user = f.user.trim();
    match state.app.store.create_token(user).await {
        Ok(token) => {
            tracing::info!(admin = %session.principal.user_name, user = %user, token = token.info.id, "UI: token created");
            let page = overview_page(
                &state,
                &session,
                Some("Token created."),
                None,
                Some((user, &token.secret)),
            )
            .await?;
            Ok(layout::html(page))
        }
        Err(e) => refused(&state, &session, &refusal(e)?).await,
    }
}

async fn revoke_token(
    State(state): State<UiState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    require_admin(&session)?;
    let id: store::TokenId = id.parse().map_err(|_| UiError::NotFound("token"))?;
    let tokens = state.app.store.list_tokens(None).await?;
    let Some(token) = tokens.into_iter().find(|t| t.id == id) else {
        return Err(UiError::NotFound("token"));
    };
    state.app.store.revoke_token(id).await?;
    state.sessions.end_user(token.user_id);
    tracing::info!(admin = %session.principal.user_name, user = %token.user_name, token = id, "UI: token revoked");
    Ok(done("revoked"))
}

#[derive(Debug, Deserialize)]
struct CollectionForm {
    api_root: String,
    title: String,
    #[serde(default)]
    alias: String,
    kind: String,
}

async fn create_collection(
    State(state): State<UiState>,
    session: Session,
    Form(f): Form<CollectionForm>,
) -> Result<Response, UiError> {
    require_admin(&session)?;
    let title = match bounded("title", &f.title) {
        Ok(t) => t,
        Err(UiError::BadRequest(m)) => return refused(&state, &session, &m).await,
        Err(e) => return Err(e),
    };
    let alias = f.alias.trim();
    if alias.len() > MAX_NAME {
        return refused(&state, &session, "the alias is too long").await;
    }
    let flags = match f.kind.as_str() {
        "orgs" => CollectionFlags::default(),
        "public" => CollectionFlags {
            public_read: true,
            restricted: false,
        },
        "restricted" => CollectionFlags {
            public_read: false,
            restricted: true,
        },
        _ => return refused(&state, &session, "unknown kind of collection").await,
    };
    let new = NewCollection {
        api_root: f.api_root.trim().to_owned(),
        title,
        description: None,
        alias: (!alias.is_empty()).then(|| alias.to_owned()),
        flags,
        media_types: Vec::new(),
    };
    match state.app.store.create_collection(&new).await {
        Ok(c) => {
            tracing::info!(admin = %session.principal.user_name, collection = %c.id, "UI: collection created");
            Ok(
                Redirect::to(&format!("/ui/admin/collections/{}?done=collection", c.id))
                    .into_response(),
            )
        }
        Err(e) => refused(&state, &session, &refusal(e)?).await,
    }
}

async fn find_collection(state: &UiState, id: &str) -> Result<Collection, UiError> {
    state
        .app
        .store
        .collection(id)
        .await?
        .ok_or(UiError::NotFound("collection"))
}

async fn collection_page(
    State(state): State<UiState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, UiError> {
    require_admin(&session)?;
    let c = find_collection(&state, &id).await?;
    let page = grants_page(&state, &session, &c, notice(q.done.as_deref()), None).await?;
    Ok(layout::html(page))
}

fn grant_label(g: Grant) -> &'static str {
    match (g.read, g.write) {
        (true, true) => "read and write",
        (true, false) => "read",
        (false, true) => "write",
        (false, false) => "none",
    }
}

async fn grants_page(
    state: &UiState,
    session: &Session,
    c: &Collection,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<Markup, UiError> {
    let store = &state.app.store;
    let grants: Vec<GrantEntry> = store.grants(&c.id).await?;
    let orgs = store.list_orgs().await?;
    let users = store.list_users().await?;
    let body = html! {
        p.crumbs { a href="/ui/admin#collections" { "Administration" } " / collections" }
        h1 { (c.title) }
        @if let Some(n) = notice { p.ok role="status" { (n) } }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        dl.fields {
            dt { "Id" } dd { code { (c.id) } }
            dt { "API root" } dd { (c.api_root) }
            @if let Some(a) = &c.alias { dt { "Alias" } dd { (a) } }
            dt { "Kind" } dd { (kind_label(c.flags)) }
            dt { "May hold" } dd {
                @if c.flags.restricted {
                    (layout::tlp_badge(store::TlpLevel::Clear)) " to " (layout::tlp_badge(store::TlpLevel::Red))
                } @else if c.flags.public_read {
                    (layout::tlp_badge(store::TlpLevel::Clear)) " only"
                } @else {
                    (layout::tlp_badge(store::TlpLevel::Clear)) " to " (layout::tlp_badge(store::TlpLevel::AmberStrict))
                }
            }
        }
        h2 { "Grants" }
        @if grants.is_empty() {
            p.muted { "No grants: nobody may read or write this collection" @if c.flags.public_read { " (but anyone may read its TLP:CLEAR objects)" } "." }
        } @else {
            div.table-wrap {
                table.grants {
                    thead { tr { th scope="col" { "Grantee" } th scope="col" { "Kind" } th scope="col" { "Allows" } } }
                    tbody {
                        @for g in &grants {
                            tr {
                                @match &g.grantee {
                                    Grantee::Org(n) => { td { (n) } td { "organization" } }
                                    Grantee::User(n) => { td { (n) } td { "user" } }
                                }
                                td { (grant_label(g.grant)) }
                            }
                        }
                    }
                }
            }
        }
        @if c.flags.restricted {
            p.hint { "Restricted collections name their readers and writers one user at a time; organization grants do not apply." }
        }
        form.filters method="post" action={ "/ui/admin/collections/" (c.id) "/grants" } {
            (layout::csrf_field(session))
            div {
                label for="grantee" { "Grant to" }
                select #grantee name="grantee" required {
                    @if !c.flags.restricted {
                        optgroup label="Organizations" {
                            @for o in &orgs { option value={ "org:" (o.name) } { (o.name) } }
                        }
                    }
                    optgroup label="Users" {
                        @for u in &users { option value={ "user:" (u.name) } { (u.name) " (" (u.org_name) ")" } }
                    }
                }
            }
            div {
                label for="perm" { "Allows" }
                select #perm name="perm" {
                    option value="read" { "read" }
                    option value="read-write" { "read and write" }
                    option value="write" { "write" }
                    option value="none" { "nothing (remove)" }
                }
            }
            button type="submit" { "Save grant" }
        }
    };
    Ok(layout::page(session, &c.title, Nav::Admin, body))
}

#[derive(Debug, Deserialize)]
struct GrantForm {
    grantee: String,
    perm: String,
}

async fn set_grant(
    State(state): State<UiState>,
    session: Session,
    Path(id): Path<String>,
    Form(f): Form<GrantForm>,
) -> Result<Response, UiError> {
    require_admin(&session)?;
    let c = find_collection(&state, &id).await?;
    let grant = match f.perm.as_str() {
        "read" => Grant::READ,
        "write" => Grant::WRITE,
        "read-write" => Grant::READ_WRITE,
        "none" => Grant::NONE,
        _ => return Err(UiError::BadRequest("unknown permission".into())),
    };
    let result = match f.grantee.split_once(':') {
        Some(("org", name)) => state.app.store.grant_org(&c.id, name, grant).await,
        Some(("user", name)) => state.app.store.grant_user(&c.id, name, grant).await,
        _ => return Err(UiError::BadRequest("unknown grantee".into())),
    };
    match result {
        Ok(()) => {
            tracing::info!(admin = %session.principal.user_name, collection = %c.id, grantee = %f.grantee, perm = %f.perm, "UI: grant set");
            Ok(Redirect::to(&format!("/ui/admin/collections/{}?done=grant", c.id)).into_response())
        }
        Err(e) => {
            let message = refusal(e)?;
            let page = grants_page(&state, &session, &c, None, Some(&message)).await?;
            Ok((StatusCode::BAD_REQUEST, layout::html(page)).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_fixed_texts() {
        assert_eq!(notice(Some("org")), Some("Organization created."));
        assert_eq!(notice(Some("<script>")), None);
        assert_eq!(notice(None), None);
    }

    #[test]
    fn names_are_bounded() {
        assert_eq!(bounded("name", "  acme ").unwrap(), "acme");
        assert!(bounded("name", "   ").is_err());
        assert!(bounded("name", &"x".repeat(MAX_NAME + 1)).is_err());
    }
}
