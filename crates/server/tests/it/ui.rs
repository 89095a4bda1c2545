//! The web UI (`/ui/`) over HTTP, as a browser without JavaScript uses it: sessions and
//! sign-in, CSRF refusals, security headers, escaping, and the TLP rules across
//! organizations in lists, search, counts and the graph.

use std::collections::HashMap;

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode, redirect};
use serde_json::{Value, json};
use store::Grant;

use super::{TestServer, tlp};

/// A cookie-keeping client that does not follow redirects, so each answer can be checked.
pub struct Browser {
    http: Client,
    base: String,
    cookies: HashMap<String, String>,
    /// Extra headers sent with every request (e.g. `X-Forwarded-Proto`).
    extra: Vec<(&'static str, String)>,
}

/// One answer: status, headers, body.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// The `Location` of a redirect.
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the first hidden `csrf` field on the page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf field in {}", self.body));
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').expect("closing quote")].to_owned()
    }

    /// The `Set-Cookie` header naming `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

impl Browser {
    /// A browser with no cookies.
    pub fn new(server: &TestServer) -> Browser {
        Browser {
            http: Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .expect("client"),
            base: server.base.clone(),
            cookies: HashMap::new(),
            extra: Vec::new(),
        }
    }

    /// Signs in through the form and asserts it worked.
    pub async fn signed_in(server: &TestServer, user: &str, token: &str) -> Browser {
        let mut b = Browser::new(server);
        let r = b.sign_in(user, token).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/ui/collections");
        b
    }

    /// Loads the sign-in form and posts it.
    pub async fn sign_in(&mut self, user: &str, token: &str) -> Page {
        let form = self.get("/ui/signin").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form.csrf();
        self.post(
            "/ui/signin",
            &[("csrf", &csrf), ("user", user), ("token", token)],
        )
        .await
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, rb: reqwest::RequestBuilder) -> Page {
        let mut rb = rb.header("Cookie", self.cookie_header());
        for (k, v) in &self.extra {
            rb = rb.header(*k, v);
        }
        let r = rb.send().await.expect("request");
        let status = r.status();
        let headers = r.headers().clone();
        for v in headers.get_all(SET_COOKIE).iter() {
            let v = v.to_str().expect("ascii cookie");
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = r.text().await.expect("body");
        Page {
            status,
            headers,
            body,
        }
    }

    /// A GET of `path` (with the query).
    pub async fn get(&mut self, path: &str) -> Page {
        let rb = self.http.get(format!("{}{path}", self.base));
        self.send(rb).await
    }

    /// A urlencoded form POST.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let rb = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(rb).await
    }

    /// The same POST with extra headers.
    pub async fn post_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&'static str, &str)],
    ) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut rb = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        self.send(rb).await
    }
}

/// The security headers every UI answer carries.
fn assert_security_headers(p: &Page, what: &str) {
    let h = |n: &str| {
        p.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {n}"))
            .to_owned()
    };
    let csp = h("content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
}

#[tokio::test]
async fn every_page_needs_a_session() {
    let s = TestServer::start().await;
    let mut b = Browser::new(&s);
    for path in [
        "/ui/collections",
        &format!("/ui/c/{}", s.shared),
        &format!("/ui/c/{}?q=x&type=indicator", s.shared),
        &format!(
            "/ui/c/{}/o/indicator--a932fcc6-e032-476c-826f-cb970a5a1ade",
            s.shared
        ),
        "/ui/log",
    ] {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        let expected: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
        assert_eq!(
            r.location(),
            format!("/ui/signin?next={expected}"),
            "{path}"
        );
        assert!(!r.body.contains("shared"), "{path} leaked content");
    }
    // A forged cookie is no session.
    b.cookies.insert("entente_session".into(), "0".repeat(64));
    assert_eq!(b.get("/ui/collections").await.status, StatusCode::SEE_OTHER);
    // `/ui` and `/ui/` lead to the pages.
    for path in ["/ui", "/ui/"] {
        assert_eq!(b.get(path).await.location(), "/ui/collections", "{path}");
    }
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session() {
    let s = TestServer::start().await;
    let token = s.user("acme", "alice").await;

    let mut b = Browser::new(&s);
    let r = b.sign_in("alice", "not-the-token").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("Unknown user name or token"));
    assert!(r.set_cookie("entente_session").is_none());
    let r = b.sign_in("bob", &token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "another user's token");

    let r = b.sign_in("alice", &token).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cookie = r.set_cookie("entente_session").expect("session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let page = b.get("/ui/collections").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("alice"));

    // Sign-out ends the session on the server: the old cookie no longer works.
    let old = b.cookies["entente_session"].clone();
    let csrf = page.csrf();
    let r = b.post("/ui/signout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/ui/signin");
    b.cookies.insert("entente_session".into(), old);
    assert_eq!(b.get("/ui/collections").await.status, StatusCode::SEE_OTHER);

    // Behind a TLS proxy the cookie is Secure; `next` brings the user back, but only
    // inside the UI.
    let mut b = Browser::new(&s);
    b.extra.push(("X-Forwarded-Proto", "https".into()));
    let form = b.get("/ui/signin?next=%2Fui%2Flog").await;
    let csrf = form.csrf();
    let r = b
        .post(
            "/ui/signin",
            &[
                ("csrf", &csrf),
                ("user", "alice"),
                ("token", &token),
                ("next", "/ui/log"),
            ],
        )
        .await;
    assert!(
        r.set_cookie("entente_session")
            .expect("cookie")
            .contains("Secure")
    );
    assert_eq!(r.location(), "/ui/log");
    let form = b.get("/ui/signin").await;
    let csrf = form.csrf();
    let r = b
        .post(
            "/ui/signin",
            &[
                ("csrf", &csrf),
                ("user", "alice"),
                ("token", &token),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/ui/collections");
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let s = TestServer::start().await;
    let token = s.user("acme", "alice").await;

    // Sign-in: the hidden field must equal the cookie the form page set.
    let mut b = Browser::new(&s);
    b.get("/ui/signin").await;
    let r = b
        .post("/ui/signin", &[("user", "alice"), ("token", &token)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b
        .post(
            "/ui/signin",
            &[
                ("csrf", &"f".repeat(64)),
                ("user", "alice"),
                ("token", &token),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.set_cookie("entente_session").is_none());

    // Signed in: a POST without the session's token, with another token, or from another
    // site is refused, and the session survives.
    let mut b = Browser::signed_in(&s, "alice", &token).await;
    let csrf = b.get("/ui/collections").await.csrf();
    assert_eq!(
        b.post("/ui/signout", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        b.post("/ui/signout", &[("csrf", "x")]).await.status,
        StatusCode::FORBIDDEN
    );
    let cross = b
        .post_with(
            "/ui/signout",
            &[("csrf", &csrf)],
            &[("Origin", "https://evil.example")],
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let cross = b
        .post_with(
            "/ui/signout",
            &[("csrf", &csrf)],
            &[("Sec-Fetch-Site", "cross-site")],
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert_eq!(b.get("/ui/collections").await.status, StatusCode::OK);
    // The right token from the page itself works.
    let ok = b
        .post_with(
            "/ui/signout",
            &[("csrf", &csrf)],
            &[("Origin", &s.base.clone())],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/ui/collections").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let s = TestServer::start().await;
    let mut anon = Browser::new(&s);
    assert_security_headers(&anon.get("/ui/signin").await, "sign-in");
    assert_security_headers(&anon.get("/ui/collections").await, "redirect");
    let mut b = Browser::signed_in(&s, "admin", &s.admin).await;
    let page = b.get("/ui/collections").await;
    assert_security_headers(&page, "collections");
    assert_eq!(
        page.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_security_headers(&b.get("/ui/no-such-page").await, "404");
    assert_eq!(
        b.get("/ui/no-such-page").await.status,
        StatusCode::NOT_FOUND
    );
    // No inline script or style that the CSP would block.
    assert!(!page.body.contains("<script>"), "inline script");
    assert!(!page.body.contains("style="), "inline style");
    // Assets are served from the binary, with the same headers.
    let css_path = page
        .body
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|p| p.ends_with(".css")))
        .expect("stylesheet link")
        .to_owned();
    let css = b.get(&css_path).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.body.contains("#FF2B2B"), "TLP:RED colour");
    assert_security_headers(&css, "css");
}

#[tokio::test]
async fn collections_page_lists_what_the_user_may_read_with_counts() {
    let s = TestServer::start().await;
    let token = s.user("acme", "alice").await;
    let mine = s.collection("acme intel", false, false).await;
    s.grant(&mine, "acme", Grant::READ_WRITE).await;
    let _theirs = s.collection("other intel", false, false).await;
    s.add(
        &mine,
        &token,
        &[indicator(
            "indicator--0d3a0e1c-6a2f-4e0c-9a53-0b6d8f0e7a11",
            "one",
            None,
        )],
    )
    .await;
    let mut b = Browser::signed_in(&s, "alice", &token).await;
    let page = b.get("/ui/collections").await;
    assert!(page.body.contains("acme intel"));
    assert!(
        !page.body.contains("other intel"),
        "a collection without grant"
    );
    assert!(page.body.contains(&format!("/ui/c/{mine}")));
}

/// An indicator with a name and optional TLP marking.
pub fn indicator(id: &str, name: &str, marking: Option<&str>) -> Value {
    let mut v = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": id,
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": name,
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z"
    });
    if let Some(m) = marking {
        v["object_marking_refs"] = json!([m]);
    }
    v
}

/// A relationship `source --type--> target`.
pub fn relationship(
    id: &str,
    rel: &str,
    source: &str,
    target: &str,
    marking: Option<&str>,
) -> Value {
    let mut v = json!({
        "type": "relationship",
        "spec_version": "2.1",
        "id": id,
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "relationship_type": rel,
        "source_ref": source,
        "target_ref": target
    });
    if let Some(m) = marking {
        v["object_marking_refs"] = json!([m]);
    }
    v
}

/// A malware SDO.
pub fn malware(id: &str, name: &str, marking: Option<&str>) -> Value {
    let mut v = json!({
        "type": "malware",
        "spec_version": "2.1",
        "id": id,
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": name,
        "is_family": true
    });
    if let Some(m) = marking {
        v["object_marking_refs"] = json!([m]);
    }
    v
}

const IND: &str = "indicator--5f7f0b39-2a0b-4c59-b0f4-0d6c3e6a4b01";
const MAL: &str = "malware--8a1e3f0c-5d1b-4f6a-9b8e-2c7d6e5f4a03";
const REL: &str = "relationship--c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e05";

/// The object ids a list page shows, in order.
fn ids(p: &Page) -> Vec<String> {
    p.body
        .match_indices("<div class=\"id\">")
        .map(|(i, m)| {
            let rest = &p.body[i + m.len()..];
            rest[..rest.find('<').expect("closing tag")].to_owned()
        })
        .filter(|id| id.contains("--"))
        .collect()
}

#[tokio::test]
async fn user_text_is_escaped_everywhere() {
    let s = TestServer::start().await;
    let evil = "<script>alert(1)</script>";
    let mut ind = indicator(IND, evil, None);
    ind["description"] = json!("\"><img src=x onerror=alert(2)>");
    s.add(
        &s.shared,
        &s.admin,
        &[
            ind,
            malware(MAL, "<b>bold</b>", None),
            relationship(REL, "indicates", IND, MAL, None),
        ],
    )
    .await;
    let mut b = Browser::signed_in(&s, "admin", &s.admin).await;
    for path in [
        format!("/ui/c/{}", s.shared),
        format!("/ui/c/{}?q=alert", s.shared),
        format!("/ui/c/{}/o/{IND}", s.shared),
        format!("/ui/c/{}/o/{MAL}", s.shared),
        format!("/ui/c/{}/o/{REL}", s.shared),
        format!("/ui/c/{}?q=%3Cscript%3E&producer=%3Cscript%3E", s.shared),
    ] {
        let p = b.get(&path).await;
        assert_eq!(p.status, StatusCode::OK, "{path}");
        for raw in ["<script>alert", "<img src=x", "<b>bold"] {
            assert!(!p.body.contains(raw), "{path}: unescaped {raw}");
        }
    }
    let p = b.get(&format!("/ui/c/{}/o/{IND}", s.shared)).await;
    assert!(p.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        p.body.contains("onerror=alert(2)"),
        "the description is shown, escaped"
    );
    // The graph draws the escaped neighbour name.
    let p = b.get(&format!("/ui/c/{}/o/{MAL}", s.shared)).await;
    assert!(p.body.contains("<svg"), "graph");
    assert!(
        p.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "neighbour name"
    );
}

#[tokio::test]
async fn list_filters_search_and_pages_without_repeats() {
    let s = TestServer::start().await;
    let mut objects = Vec::new();
    for i in 0..60 {
        let mut o = indicator(
            &format!("indicator--00000000-0000-4000-8000-{i:012}"),
            &format!("ind {i}"),
            Some(tlp::GREEN),
        );
        o["pattern"] = json!(format!("[domain-name:value = 'host{i}.example.org']"));
        objects.push(o);
    }
    objects.push(malware(MAL, "Sofacy dropper", Some(tlp::AMBER)));
    s.add(&s.shared, &s.admin, &objects).await;
    let mut b = Browser::signed_in(&s, "admin", &s.admin).await;
    let base = format!("/ui/c/{}", s.shared);
    // Newest first, 50 a page, then the rest through the `next` link, no repeats.
    let first = b.get(&base).await;
    let one = ids(&first);
    assert_eq!(one.len(), 50);
    assert_eq!(one[0], MAL, "newest first");
    let href = first
        .body
        .split("href=\"")
        .find(|h| h.contains("next="))
        .and_then(|h| h.split('"').next())
        .expect("next link")
        .replace("&amp;", "&");
    let second = b.get(&href).await;
    let two = ids(&second);
    assert_eq!(two.len(), 11);
    let mut all: Vec<String> = one.iter().chain(&two).cloned().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 61);
    assert!(!second.body.contains("next="), "last page");
    // A search matching 60 objects pages the same way.
    let first = b.get(&format!("{base}?q=example.org")).await;
    let href = first
        .body
        .split("href=\"")
        .find(|h| h.contains("next="))
        .and_then(|h| h.split('"').next())
        .expect("next link of the search")
        .replace("&amp;", "&");
    assert!(href.contains("q=example.org"), "{href}");
    let mut found = ids(&first);
    assert_eq!(found.len(), 50);
    found.extend(ids(&b.get(&href).await));
    found.sort();
    found.dedup();
    assert_eq!(found.len(), 60, "every indicator once, the malware never");

    // Filters.
    assert_eq!(
        ids(&b.get(&format!("{base}?type=malware")).await),
        vec![MAL]
    );
    assert_eq!(ids(&b.get(&format!("{base}?tlp=amber")).await), vec![MAL]);
    assert_eq!(ids(&b.get(&format!("{base}?tlp=green")).await).len(), 50);
    assert_eq!(
        ids(&b.get(&format!("{base}?q=sofacy")).await),
        vec![MAL],
        "name, any case"
    );
    assert_eq!(
        ids(&b.get(&format!("{base}?q=host7.example.org")).await),
        vec!["indicator--00000000-0000-4000-8000-000000000007".to_owned()],
        "pattern value"
    );
    assert!(ids(&b.get(&format!("{base}?q=nothing-like-this")).await).is_empty());
    assert!(ids(&b.get(&format!("{base}?after=2999-01-01")).await).is_empty());
    assert_eq!(
        ids(&b
            .get(&format!("{base}?before=2999-01-01&type=malware"))
            .await),
        vec![MAL]
    );
    assert_eq!(
        b.get(&format!("{base}?tlp=purple")).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        b.get(&format!("{base}?next=bogus")).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn object_page_shows_versions_relationships_and_a_verified_log_place() {
    let s = TestServer::start().await;
    let mut v2 = malware(MAL, "Sofacy v2", None);
    v2["modified"] = json!("2024-02-01T00:00:00.000Z");
    s.add(
        &s.shared,
        &s.admin,
        &[
            malware(MAL, "Sofacy", None),
            v2,
            indicator(IND, "bad host", None),
            relationship(REL, "indicates", IND, MAL, None),
        ],
    )
    .await;
    let mut b = Browser::signed_in(&s, "admin", &s.admin).await;
    let p = b.get(&format!("/ui/c/{}/o/{MAL}", s.shared)).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("Sofacy v2"), "newest version shown");
    assert!(
        p.body.contains("?version=2024-01-01T00:00:00.000Z"),
        "older version linked"
    );
    assert!(p.body.contains("bad host"), "relationship in, named");
    assert!(p.body.contains("indicates"));
    assert!(p.body.contains("✓ verified"), "{}", p.body);
    let old = b
        .get(&format!(
            "/ui/c/{}/o/{MAL}?version=2024-01-01T00:00:00.000Z",
            s.shared
        ))
        .await;
    assert!(old.body.contains("<h1>Sofacy</h1>"), "older version");
    assert!(old.body.contains("✓ verified"));
    // Unknown objects are "not found".
    let missing = b
        .get(&format!(
            "/ui/c/{}/o/malware--00000000-0000-4000-8000-000000000000",
            s.shared
        ))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // The log page shows the checkpoint of every entry so far.
    let log = b.get("/ui/log").await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(
        log.body.contains("<strong>4</strong> entries"),
        "{}",
        log.body
    );
    assert!(log.body.contains("<svg"), "size over time");
}

#[tokio::test]
async fn tlp_red_of_one_organization_never_reaches_another() {
    let s = TestServer::start().await;
    let alice = s.user("acme", "alice").await;
    let bob = s.user("beta", "bob").await;
    // acme's restricted collection, readable by alice only, holds a TLP:RED malware and a
    // RED relationship to an indicator that both organizations share elsewhere.
    let red = s.collection("acme red cell", false, true).await;
    s.grant_user(&red, "alice", Grant::READ_WRITE).await;
    let shared = s.collection("acme and beta", false, false).await;
    s.grant(&shared, "acme", Grant::READ_WRITE).await;
    s.grant(&shared, "beta", Grant::READ).await;
    s.add(
        &shared,
        &alice,
        &[indicator(IND, "shared host", Some(tlp::AMBER))],
    )
    .await;
    s.add(
        &red,
        &alice,
        &[
            malware(MAL, "Crimson Secret", Some(tlp::RED)),
            indicator(IND, "shared host", Some(tlp::AMBER)),
            relationship(REL, "indicates", IND, MAL, Some(tlp::RED)),
        ],
    )
    .await;

    // alice sees it: list, search, graph.
    let mut a = Browser::signed_in(&s, "alice", &alice).await;
    assert!(
        a.get("/ui/collections")
            .await
            .body
            .contains("acme red cell")
    );
    assert!(
        a.get(&format!("/ui/c/{red}?q=crimson"))
            .await
            .body
            .contains("Crimson Secret")
    );
    let graph = a.get(&format!("/ui/c/{red}/o/{IND}")).await;
    assert!(graph.body.contains("Crimson Secret") && graph.body.contains("<svg"));

    // bob never does: not in his collections (nor their counts), lists, search or graph.
    let mut b = Browser::signed_in(&s, "bob", &bob).await;
    let cols = b.get("/ui/collections").await;
    assert!(cols.body.contains("acme and beta"));
    assert!(!cols.body.contains("acme red cell"), "collection listed");
    for path in [
        format!("/ui/c/{red}"),
        format!("/ui/c/{red}?q=crimson"),
        format!("/ui/c/{red}/o/{MAL}"),
        format!("/ui/c/{red}/o/{IND}"),
    ] {
        let p = b.get(&path).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!p.body.contains("Crimson"), "{path}");
    }
    for path in [
        format!("/ui/c/{shared}"),
        format!("/ui/c/{shared}?q=crimson"),
        format!("/ui/c/{shared}/o/{IND}"),
        "/ui/collections".to_owned(),
    ] {
        let p = b.get(&path).await;
        assert_eq!(p.status, StatusCode::OK, "{path}");
        assert!(!p.body.contains("Crimson"), "{path}");
        assert!(!p.body.contains(MAL), "{path}");
        assert!(!p.body.contains(REL), "{path}");
    }
    assert!(ids(&b.get(&format!("/ui/c/{shared}?q=crimson")).await).is_empty());
    // The shared indicator's page draws no graph for bob: its relationship is elsewhere.
    let p = b.get(&format!("/ui/c/{shared}/o/{IND}")).await;
    assert!(!p.body.contains("<svg class=\"graph\""), "graph drawn");
    // bob's ceiling is AMBER+STRICT: RED is not even offered as a filter, and asked for
    // anyway it finds nothing.
    assert!(
        !b.get(&format!("/ui/c/{shared}"))
            .await
            .body
            .contains("TLP:RED")
    );
    assert!(ids(&b.get(&format!("/ui/c/{shared}?tlp=red")).await).is_empty());
}
