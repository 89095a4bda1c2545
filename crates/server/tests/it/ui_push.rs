//! The push page (`/ui/push`) and the sightings view (`/ui/sightings`) over HTTP: the push
//! goes through the TAXII ingest path (what is refused is what the API refuses, shown with
//! pointer, message and rule next to the object; what is stored is in the store), only
//! into collections the user may write, never without the CSRF token; the sightings view
//! groups by indicator and partner and never names an object outside the reader's
//! audience.

use reqwest::StatusCode;
use serde_json::{Value, json};
use store::{Grant, ObjectQuery, TlpLevel};

use super::ui::Browser;
use super::{TestServer, indicator, new_id, tlp};

/// The ids stored in a collection (every TLP level).
async fn stored(s: &TestServer, collection: &str) -> Vec<String> {
    let page = s
        .store
        .query_objects(
            collection,
            &ObjectQuery {
                max_tlp: TlpLevel::Red,
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap();
    page.items.into_iter().map(|o| o.id).collect()
}

async fn pattern_of(s: &TestServer, collection: &str, id: &str) -> String {
    let page = s
        .store
        .get_object(
            collection,
            id,
            &ObjectQuery {
                max_tlp: TlpLevel::Red,
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&page.items[0].raw_json).unwrap();
    v["pattern"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_bundle_with_invalid_objects_stores_the_valid_ones_and_shows_why() {
    let s = TestServer::start().await;
    let alice = s.user("acme", "alice").await;
    let shared = s.collection("Acme shared", false, false).await;
    let readonly = s.collection("Read only", false, false).await;
    let hidden = s.collection("Someone else's", false, false).await;
    s.grant(&shared, "acme", Grant::READ_WRITE).await;
    s.grant(&readonly, "acme", Grant::READ).await;
    let mut b = Browser::signed_in(&s, "alice", &alice).await;

    // The form offers the writable collection only.
    let form = b.get("/ui/push").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains(&shared),
        "writable collection not offered"
    );
    assert!(!form.body.contains(&readonly) && !form.body.contains(&hidden));
    let csrf = form.csrf();

    let good = new_id("indicator");
    let late = new_id("indicator");
    let broken = new_id("indicator");
    let red = new_id("indicator");
    let mut until = indicator(&late, "2024-05-01T00:00:00.000Z");
    until["valid_until"] = json!("2020-01-01T00:00:00Z");
    let mut bad_pattern = indicator(&broken, "2024-05-01T00:00:00.000Z");
    bad_pattern["pattern"] = json!("[ipv4-addr:value = '198.51.100.7'");
    let mut marked_red = indicator(&red, "2024-05-01T00:00:00.000Z");
    marked_red["object_marking_refs"] = json!([tlp::RED]);
    let bundle = json!({
        "type": "bundle",
        "id": new_id("bundle"),
        "objects": [indicator(&good, "2024-05-01T00:00:00.000Z"), until, bad_pattern, marked_red],
    })
    .to_string();
    let r = b
        .post(
            "/ui/push",
            &[
                ("csrf", &csrf),
                ("collection", &shared),
                ("format", "auto"),
                ("text", &bundle),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body = &r.body;
    assert!(body.contains("1 stored"), "{body}");
    assert!(body.contains("3 refused"), "{body}");
    // Each refusal next to its object: id, pointer, message and rule.
    for expected in [
        late.as_str(),
        "/valid_until",
        "[valid-until-after-valid-from]",
        broken.as_str(),
        "/pattern",
        "[pattern-invalid]",
        red.as_str(),
        "TLP:RED",
    ] {
        assert!(
            body.contains(expected),
            "the result lacks {expected}: {body}"
        );
    }
    // The refused object's text is shown beside its errors (escaped).
    assert!(body.contains("2020-01-01T00:00:00Z"));
    assert_eq!(stored(&s, &shared).await, vec![good.clone()]);
    // The stored object is listed with a link to its page.
    assert!(
        body.contains(&format!("href=\"/ui/c/{shared}/o/{good}\"")),
        "{body}"
    );

    // Read-only: 403; not visible: 404; no CSRF token: 403 — and nothing stored anywhere.
    let other = json!({"objects": [indicator(&new_id("indicator"), "2024-05-01T00:00:00.000Z")]})
        .to_string();
    let r = b
        .post(
            "/ui/push",
            &[("csrf", &csrf), ("collection", &readonly), ("text", &other)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b
        .post(
            "/ui/push",
            &[("csrf", &csrf), ("collection", &hidden), ("text", &other)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = b
        .post("/ui/push", &[("collection", &shared), ("text", &other)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(stored(&s, &readonly).await.is_empty());
    assert!(stored(&s, &hidden).await.is_empty());
    assert_eq!(stored(&s, &shared).await.len(), 1);

    // Input that is not JSON at all is refused as a whole, and kept in the form to fix.
    let r = b
        .post(
            "/ui/push",
            &[
                ("csrf", &csrf),
                ("collection", &shared),
                ("format", "stix"),
                ("text", "{\"objects\": ["),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("not JSON") || r.body.contains("not a TAXII envelope"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("{&quot;objects&quot;: ["),
        "the text was not kept"
    );
    assert_eq!(stored(&s, &shared).await.len(), 1);

    // The push is recorded like a TAXII POST: the same object again is a duplicate.
    let again = json!([indicator(&good, "2024-05-01T00:00:00.000Z")]).to_string();
    let r = b
        .post(
            "/ui/push",
            &[("csrf", &csrf), ("collection", &shared), ("text", &again)],
        )
        .await;
    assert!(r.body.contains("1 already present"), "{}", r.body);
}

#[tokio::test]
async fn an_ioc_list_becomes_indicators_with_detected_types() {
    let s = TestServer::start().await;
    let alice = s.user("acme", "alice").await;
    let shared = s.collection("Acme shared", false, false).await;
    s.grant(&shared, "acme", Grant::READ_WRITE).await;
    let mut b = Browser::signed_in(&s, "alice", &alice).await;
    let csrf = b.get("/ui/push").await.csrf();
    let list = "# today's feed\n198.51.100.7 C2 server\nhxxps://evil[.]example/login\n\
                44d88612fea8a8f36de82e1278abb02f\nnot an indicator\n";
    let r = b
        .post(
            "/ui/push",
            &[
                ("csrf", &csrf),
                ("collection", &shared),
                ("format", "auto"),
                ("text", list),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("3 stored"), "{}", r.body);
    assert!(
        r.body.contains("1 refused") && r.body.contains("line 5"),
        "{}",
        r.body
    );
    assert!(r.body.contains("cannot tell what"), "{}", r.body);
    assert!(
        r.body.contains("IPv4 198.51.100.7") && r.body.contains("URL https://evil.example/login")
    );
    let ids = stored(&s, &shared).await;
    assert_eq!(ids.len(), 3);
    let mut patterns = Vec::new();
    for id in &ids {
        patterns.push(pattern_of(&s, &shared, id).await);
    }
    patterns.sort();
    assert_eq!(
        patterns,
        vec![
            "[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']",
            "[ipv4-addr:value = '198.51.100.7']",
            "[url:value = 'https://evil.example/login']",
        ]
    );
}

fn named(kind: &str, id: &str, name: &str, extra: Value) -> Value {
    let mut v = json!({
        "type": kind, "spec_version": "2.1", "id": id,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": name,
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

fn sighting(of: &str, by: &str, count: u64, day: u32) -> Value {
    json!({
        "type": "sighting", "spec_version": "2.1", "id": new_id("sighting"),
        "created": format!("2026-01-{day:02}T10:00:00.000Z"),
        "modified": format!("2026-01-{day:02}T10:00:00.000Z"),
        "first_seen": format!("2026-01-{day:02}T08:00:00Z"),
        "last_seen": format!("2026-01-{day:02}T09:00:00Z"),
        "count": count, "sighting_of_ref": of, "created_by_ref": by,
    })
}

#[tokio::test]
async fn sightings_are_grouped_by_indicator_and_partner_within_the_audience() {
    let s = TestServer::start().await;
    let alice = s.user("acme", "alice").await;
    let bob = s.user("globex", "bob").await;
    let shared = s.collection("Shared", false, false).await;
    s.grant(&shared, "acme", Grant::READ_WRITE).await;
    s.grant(&shared, "globex", Grant::READ_WRITE).await;
    let red_collection = s.collection("Acme red", false, true).await;
    s.grant_user(&red_collection, "alice", Grant::READ_WRITE)
        .await;

    let red = new_id("indicator");
    let mut red_indicator = indicator(&red, "2026-01-01T00:00:00.000Z");
    red_indicator["name"] = json!("Red secret 9f3a");
    red_indicator["object_marking_refs"] = json!([tlp::RED]);
    s.add(&red_collection, &alice, &[red_indicator]).await;

    let shared_indicator = new_id("indicator");
    let globex = new_id("identity");
    let acme = new_id("identity");
    let objects = vec![
        named(
            "identity",
            &globex,
            "Globex SOC",
            json!({"identity_class": "organization"}),
        ),
        named(
            "identity",
            &acme,
            "Acme CERT",
            json!({"identity_class": "organization"}),
        ),
        named(
            "indicator",
            &shared_indicator,
            "Pivy C2 domain",
            json!({"pattern": "[domain-name:value = 'c2.example.org']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}),
        ),
        sighting(&shared_indicator, &globex, 3, 5),
        sighting(&shared_indicator, &globex, 2, 7),
        sighting(&shared_indicator, &acme, 4, 6),
        sighting(&red, &globex, 7, 8),
    ];
    s.add(&shared, &bob, &objects).await;

    let mut b = Browser::signed_in(&s, "bob", &bob).await;
    let page = b.get("/ui/sightings").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    for expected in [
        "Globex SOC",
        "Acme CERT",
        "Pivy C2 domain",
        "total 9",
        "2026-01-07 09:00:00",
    ] {
        assert!(
            body.contains(expected),
            "bob's view lacks {expected}: {body}"
        );
    }
    // Globex's two reports of the shared indicator are one row: 2 reports, count 5.
    assert!(
        body.contains(">2</td>") && body.contains(">5</td>"),
        "{body}"
    );
    // The RED indicator's sighting is shared, so its id may appear, but nothing read from
    // the RED object (its name) and no link to it.
    assert!(
        !body.contains("Red secret"),
        "the TLP:RED name leaked to another organization"
    );
    assert!(
        !body.contains(&format!("/o/{red}")),
        "a link to the TLP:RED object"
    );
    assert!(body.contains(&red));
    // Narrowed to a collection bob may not see: the same "not found" as the API.
    let r = b
        .get(&format!("/ui/sightings?collection={red_collection}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.body.contains("Red secret"));

    // alice may read the restricted collection: she gets the name.
    let mut a = Browser::signed_in(&s, "alice", &alice).await;
    let page = a.get("/ui/sightings").await;
    assert!(page.body.contains("Red secret 9f3a"), "{}", page.body);
    assert!(page.body.contains("total 7"));
}

/// A `multipart/form-data` body with text fields and one file.
fn multipart(fields: &[(&str, &str)], file: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("entente-{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"feed.json.gz\"\r\n\
             Content-Type: application/gzip\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn uploads_need_the_csrf_token_in_the_query_and_may_be_gzipped() {
    use std::io::Write as _;
    let s = TestServer::start().await;
    let alice = s.user("acme", "alice").await;
    let shared = s.collection("Acme shared", false, false).await;
    s.grant(&shared, "acme", Grant::READ_WRITE).await;
    let mut b = Browser::new(&s);
    let signed = b.sign_in("alice", &alice).await;
    let cookie = signed
        .set_cookie("entente_session")
        .expect("session cookie");
    let cookie = cookie.split(';').next().expect("name=value").to_owned();
    let csrf = b.get("/ui/push").await.csrf();

    let id = new_id("indicator");
    let bundle = json!({"type": "bundle", "id": new_id("bundle"),
        "objects": [indicator(&id, "2024-05-01T00:00:00.000Z")]})
    .to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bundle.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let (content_type, body) = multipart(&[("collection", &shared), ("format", "auto")], &gz);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let send = |query: String| {
        http.post(s.url(&format!("/ui/push/upload{query}")))
            .header("Cookie", &cookie)
            .header("Content-Type", &content_type)
            .body(body.clone())
            .send()
    };
    let r = send(String::new()).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no token");
    let r = send(format!("?csrf={}", "0".repeat(64))).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "wrong token");
    assert!(stored(&s, &shared).await.is_empty());
    let r = send(format!("?csrf={csrf}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("1 stored"), "{page}");
    assert_eq!(stored(&s, &shared).await, vec![id]);
}
