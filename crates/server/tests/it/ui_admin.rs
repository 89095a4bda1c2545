//! The administration pages (`/ui/admin`) over HTTP: only administrators get them (403
//! for everybody else, also on every form), every form needs the session's CSRF token,
//! and what the forms do is what `entente admin` does — checked in the store, not on the
//! page alone.

use reqwest::StatusCode;
use store::{Grant, Grantee};

use super::TestServer;
use super::ui::Browser;

/// Every administration form, as (path, fields) with `{c}` for a collection id and `{t}`
/// for a token id.
const FORMS: &[(&str, &[(&str, &str)])] = &[
    ("/ui/admin/orgs", &[("name", "mallory-org")]),
    (
        "/ui/admin/users",
        &[("name", "mallory"), ("org", "acme"), ("admin", "on")],
    ),
    ("/ui/admin/tokens", &[("user", "alice")]),
    ("/ui/admin/tokens/{t}/revoke", &[]),
    (
        "/ui/admin/collections",
        &[
            ("api_root", "default"),
            ("title", "mallory's"),
            ("kind", "orgs"),
        ],
    ),
    (
        "/ui/admin/collections/{c}/grants",
        &[("grantee", "org:acme"), ("perm", "read-write")],
    ),
];

fn fill(path: &str, collection: &str, token: i64) -> String {
    path.replace("{c}", collection)
        .replace("{t}", &token.to_string())
}

#[tokio::test]
async fn only_administrators_get_the_pages_and_forms() {
    let s = TestServer::start().await;
    let alice = s.user("acme", "alice").await;
    let token_id = s.store.list_tokens(Some("alice")).await.unwrap()[0].id;
    let mut b = Browser::signed_in(&s, "alice", &alice).await;

    // The navigation does not offer what a member may not use.
    let page = b.get("/ui/collections").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("href=\"/ui/admin\""),
        "admin link shown to a member"
    );
    let csrf = page.csrf();

    for path in [
        "/ui/admin".to_owned(),
        format!("/ui/admin/collections/{}", s.shared),
    ] {
        let r = b.get(&path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!r.body.contains("Organizations"), "{path} showed the page");
    }
    // With a valid CSRF token, so it is the admin check (not CSRF) that refuses.
    for (path, fields) in FORMS {
        let path = fill(path, &s.shared, token_id);
        let mut with_csrf: Vec<(&str, &str)> = fields.to_vec();
        with_csrf.push(("csrf", &csrf));
        let r = b.post(&path, &with_csrf).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    // Nothing changed.
    assert!(s.store.org("mallory-org").await.unwrap().is_none());
    assert!(s.store.user("mallory").await.unwrap().is_none());
    let tokens = s.store.list_tokens(Some("alice")).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert!(!tokens[0].revoked);
    assert!(
        !s.store
            .list_collections(None)
            .await
            .unwrap()
            .iter()
            .any(|c| c.title == "mallory's")
    );
    assert!(
        s.store
            .grants(&s.shared)
            .await
            .unwrap()
            .iter()
            .all(|g| g.grantee != Grantee::Org("acme".into()))
    );

    // The administrator gets the page, with the accounts on it.
    let mut admin = Browser::signed_in(&s, "admin", &s.admin).await;
    let page = admin.get("/ui/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    for text in ["Organizations", "acme", "alice", "API tokens", "shared"] {
        assert!(page.body.contains(text), "admin page lacks {text}");
    }
}

#[tokio::test]
async fn admin_forms_without_the_csrf_token_are_refused() {
    let s = TestServer::start().await;
    s.user("acme", "alice").await;
    let token_id = s.store.list_tokens(Some("alice")).await.unwrap()[0].id;
    let mut admin = Browser::signed_in(&s, "admin", &s.admin).await;
    let csrf = admin.get("/ui/admin").await.csrf();
    for (path, fields) in FORMS {
        let path = fill(path, &s.shared, token_id);
        // No token, then a wrong one, then the right one from another site.
        let r = admin.post(&path, fields).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} without csrf");
        let mut wrong: Vec<(&str, &str)> = fields.to_vec();
        let bad = "0".repeat(64);
        wrong.push(("csrf", &bad));
        let r = admin.post(&path, &wrong).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} with a wrong csrf");
        let mut right: Vec<(&str, &str)> = fields.to_vec();
        right.push(("csrf", &csrf));
        let r = admin
            .post_with(&path, &right, &[("Origin", "https://evil.example")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} cross-site");
    }
    assert!(s.store.org("mallory-org").await.unwrap().is_none());
    assert!(s.store.user("mallory").await.unwrap().is_none());
    assert_eq!(s.store.list_tokens(Some("alice")).await.unwrap().len(), 1);
    assert!(!s.store.list_tokens(Some("alice")).await.unwrap()[0].revoked);
}

/// The token secret from the page that shows it once.
fn secret_on(body: &str) -> String {
    let at = body
        .find("id=\"token-secret\">")
        .unwrap_or_else(|| panic!("no secret on the page: {body}"));
    let rest = &body[at + "id=\"token-secret\">".len()..];
    rest[..rest.find('<').expect("end of the secret")].to_owned()
}

#[tokio::test]
async fn accounts_tokens_collections_and_grants_through_the_forms() {
    let s = TestServer::start().await;
    let mut admin = Browser::signed_in(&s, "admin", &s.admin).await;
    let csrf = admin.get("/ui/admin").await.csrf();

    // Organization and user: a redirect back, and the store has them.
    let r = admin
        .post("/ui/admin/orgs", &[("csrf", &csrf), ("name", "acme")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(s.store.org("acme").await.unwrap().is_some());
    let r = admin
        .post(
            "/ui/admin/users",
            &[("csrf", &csrf), ("name", "alice"), ("org", "acme")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let alice = s.store.user("alice").await.unwrap().expect("user created");
    assert!(!alice.admin);
    assert_eq!(alice.org_name, "acme");
    // A taken name is refused on the page, with the reason, and nothing changes.
    let r = admin
        .post("/ui/admin/orgs", &[("csrf", &csrf), ("name", "acme")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("already exists"), "{}", r.body);
    assert_eq!(
        s.store.list_orgs().await.unwrap().len(),
        2,
        "admin and acme"
    );
    // Markup in a name is shown as text.
    let r = admin
        .post(
            "/ui/admin/orgs",
            &[("csrf", &csrf), ("name", "<b>evil</b>")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get("/ui/admin").await;
    assert!(page.body.contains("&lt;b&gt;evil&lt;/b&gt;"));
    assert!(!page.body.contains("<b>evil</b>"));

    // A token: its secret is on the answer, works against the API, and is never shown again.
    let r = admin
        .post("/ui/admin/tokens", &[("csrf", &csrf), ("user", "alice")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let secret = secret_on(&r.body);
    assert_eq!(secret.len(), 64);
    let principal = s
        .store
        .authenticate(&secret)
        .await
        .unwrap()
        .expect("the token works");
    assert_eq!(principal.user_name, "alice");
    let later = admin.get("/ui/admin").await;
    assert!(!later.body.contains(&secret), "the secret was shown twice");

    // alice signs in with it; revoking it kills the token and her UI session.
    let mut b = Browser::signed_in(&s, "alice", &secret).await;
    assert_eq!(b.get("/ui/collections").await.status, StatusCode::OK);
    let id = s.store.list_tokens(Some("alice")).await.unwrap()[0].id;
    let r = admin
        .post(&format!("/ui/admin/tokens/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(s.store.authenticate(&secret).await.unwrap().is_none());
    assert!(s.store.list_tokens(Some("alice")).await.unwrap()[0].revoked);
    assert_eq!(
        b.get("/ui/collections").await.status,
        StatusCode::SEE_OTHER,
        "the revoked user's session lives on"
    );
    let r = admin
        .post("/ui/admin/tokens/999999/revoke", &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A restricted collection, then grants to a user and (refused) nonsense.
    let r = admin
        .post(
            "/ui/admin/collections",
            &[
                ("csrf", &csrf),
                ("api_root", "default"),
                ("title", "Acme red"),
                ("alias", "acme-red"),
                ("kind", "restricted"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let c = s
        .store
        .list_collections(Some("default"))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.title == "Acme red")
        .expect("collection created");
    assert!(c.flags.restricted && !c.flags.public_read);
    assert_eq!(c.alias.as_deref(), Some("acme-red"));
    assert_eq!(
        r.location(),
        format!("/ui/admin/collections/{}?done=collection", c.id)
    );
    let grants_path = format!("/ui/admin/collections/{}/grants", c.id);
    let r = admin
        .post(
            &grants_path,
            &[
                ("csrf", &csrf),
                ("grantee", "user:alice"),
                ("perm", "read-write"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let grants = s.store.grants(&c.id).await.unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].grantee, Grantee::User("alice".into()));
    assert_eq!(grants[0].grant, Grant::READ_WRITE);
    let page = admin.get(&format!("/ui/admin/collections/{}", c.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("alice") && page.body.contains("read and write"));
    let r = admin
        .post(
            &grants_path,
            &[
                ("csrf", &csrf),
                ("grantee", "user:nobody"),
                ("perm", "read"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = admin
        .post(
            &grants_path,
            &[("csrf", &csrf), ("grantee", "user:alice"), ("perm", "all")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Removing the grant.
    let r = admin
        .post(
            &grants_path,
            &[("csrf", &csrf), ("grantee", "user:alice"), ("perm", "none")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(s.store.grants(&c.id).await.unwrap().is_empty());
    let r = admin
        .get(&format!("/ui/admin/collections/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
