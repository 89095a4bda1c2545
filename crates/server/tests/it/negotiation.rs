//! Media types (TAXII 2.1 §1.6.8): 406 for an unacceptable `Accept`, 415 for a wrong
//! `Content-Type`, and TAXII error messages on every error path.

use reqwest::StatusCode;

use crate::{TAXII, TestServer, assert_error, indicator, new_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_header() {
    let s = TestServer::start().await;
    let client = reqwest::Client::new();
    for (accept, want) in [
        ("application/json", StatusCode::NOT_ACCEPTABLE),
        ("text/html", StatusCode::NOT_ACCEPTABLE),
        (
            "application/taxii+json;version=2.0",
            StatusCode::NOT_ACCEPTABLE,
        ),
        (
            "application/stix+json;version=2.1",
            StatusCode::NOT_ACCEPTABLE,
        ),
        ("application/taxii+json", StatusCode::OK),
        ("application/taxii+json; version=2.1", StatusCode::OK),
        ("*/*", StatusCode::OK),
    ] {
        for path in [
            "/taxii2/".to_owned(),
            format!("/default/collections/{}/objects/", s.shared),
        ] {
            let r = client
                .get(s.url(&path))
                .bearer_auth(&s.admin)
                .header("Accept", accept)
                .send()
                .await
                .unwrap();
            if want == StatusCode::OK {
                assert_eq!(r.status(), want, "{accept} {path}");
                assert_eq!(r.headers()["content-type"], TAXII);
            } else {
                assert_error(r, want).await;
            }
        }
    }
    // No Accept header at all: anything goes (RFC 9110 §12.5.1).
    let r = client
        .get(s.url("/taxii2/"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_type() {
    let s = TestServer::start().await;
    let id = new_id("indicator");
    let body =
        serde_json::json!({ "objects": [indicator(&id, "2024-05-01T00:00:00.000Z")] }).to_string();
    for ct in [
        "application/json",
        "application/taxii+json;version=2.0",
        "text/plain",
    ] {
        let r = s
            .post_raw(&s.objects_url(&s.shared), Some(&s.admin), ct, body.clone())
            .await;
        // Regression (interop finding F1): the body was never read, so the server closes
        // the connection and must say so, or a keep-alive client loses its next request.
        assert_eq!(
            r.headers().get("connection").map(|v| v.to_str().unwrap()),
            Some("close"),
            "refused POST without Connection: close"
        );
        assert_error(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    }
    assert!(s.ids(&s.shared, Some(&s.admin), "").await.is_empty());
    let r = s
        .post_raw(
            &s.objects_url(&s.shared),
            Some(&s.admin),
            "application/taxii+json",
            body,
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_taxii_messages() {
    let s = TestServer::start().await;
    let client = reqwest::Client::new();
    // Unknown route, unknown root, wrong method, bad query parameter, bad next token.
    assert_error(
        s.get(&s.url("/nope/at/all"), Some(&s.admin))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        s.get(&s.url("/no-such-root/"), Some(&s.admin))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        client
            .put(s.url("/taxii2/"))
            .bearer_auth(&s.admin)
            .send()
            .await
            .unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
    for q in [
        "limit=0",
        "match[version]=newest",
        "added_after=yesterday",
        "next=bogus",
    ] {
        let r = s
            .get(&format!("{}?{q}", s.objects_url(&s.shared)), Some(&s.admin))
            .send()
            .await
            .unwrap();
        let e = assert_error(r, StatusCode::BAD_REQUEST).await;
        assert!(e["description"].as_str().is_some(), "{q}");
    }
    let e = assert_error(
        s.get(&s.url("/taxii2/"), None).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(e["error_code"], "unauthorized");
    s.stop().await.unwrap();
}
