//! Every route's happy path, with the resource shapes TAXII 2.1 §4–§5 require.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{TAXII, TestServer, indicator, new_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_api_root_collections() {
    let s = TestServer::start().await;
    let r = s
        .get(&s.url("/taxii2/"), Some(&s.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], TAXII);
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["title"], "entente");
    assert_eq!(d["default"], "/default/");
    assert_eq!(d["api_roots"], serde_json::json!(["/default/"]));

    let root: Value = s
        .get(&s.url("/default/"), Some(&s.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(root["versions"], serde_json::json!([TAXII]));
    assert_eq!(root["max_content_length"], 10 * 1024 * 1024);

    let cols: Value = s
        .get(&s.url("/default/collections/"), Some(&s.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = cols["collections"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], s.shared.as_str());
    assert_eq!(list[0]["can_read"], true);
    assert_eq!(list[0]["can_write"], true);
    assert_eq!(
        list[0]["media_types"],
        serde_json::json!(["application/stix+json;version=2.1"])
    );

    let one: Value = s
        .get(
            &s.url(&format!("/default/collections/{}/", s.shared)),
            Some(&s.admin),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["id"], s.shared.as_str());
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_get_versions_manifest_status_delete() {
    let s = TestServer::start().await;
    let a = new_id("indicator");
    let v1 = indicator(&a, "2024-05-01T00:00:00.000Z");
    let v2 = indicator(&a, "2024-06-01T00:00:00.000Z");
    let status = s.add(&s.shared, &s.admin, &[v1.clone(), v2.clone()]).await;
    assert_eq!(status["total_count"], 2);
    assert_eq!(status["successes"][0]["id"], a.as_str());
    assert_eq!(
        status["successes"][0]["version"],
        "2024-05-01T00:00:00.000Z"
    );

    // Status resource by id (§4.3).
    let url = s.url(&format!(
        "/default/status/{}/",
        status["id"].as_str().unwrap()
    ));
    let again: Value = s
        .get(&url, Some(&s.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], status["id"]);
    assert_eq!(again["success_count"], 2);

    // Objects come back byte for byte as posted (DESIGN.md), newest version by default.
    let r = s
        .get(&s.objects_url(&s.shared), Some(&s.admin))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("x-taxii-date-added-first"));
    assert!(r.headers().contains_key("x-taxii-date-added-last"));
    let env: Value = r.json().await.unwrap();
    assert_eq!(env["more"], false);
    assert_eq!(env["objects"], serde_json::json!([v2]));

    // One object, all versions (§5.6).
    let obj_url = format!("{}{a}/", s.objects_url(&s.shared));
    let env: Value = s
        .get(&format!("{obj_url}?match[version]=all"), Some(&s.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(env["objects"].as_array().unwrap().len(), 2);

    // Versions (§5.8).
    let r = s
        .get(&format!("{obj_url}versions/"), Some(&s.admin))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("x-taxii-date-added-last"));
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["versions"],
        serde_json::json!(["2024-05-01T00:00:00.000Z", "2024-06-01T00:00:00.000Z"])
    );

    // Manifest (§5.5).
    let m: Value = s
        .get(
            &s.url(&format!(
                "/default/collections/{}/manifest/?match[version]=all",
                s.shared
            )),
            Some(&s.admin),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recs = m["objects"].as_array().unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["media_type"], "application/stix+json;version=2.1");
    assert!(recs[0]["date_added"].as_str().unwrap() < recs[1]["date_added"].as_str().unwrap());

    // Delete one version, then the rest (§5.7).
    let r = s
        .delete(
            &format!("{obj_url}?match[version]=2024-05-01T00:00:00.000Z"),
            Some(&s.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = s
        .get(&format!("{obj_url}versions/"), Some(&s.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["versions"],
        serde_json::json!(["2024-06-01T00:00:00.000Z"])
    );
    let r = s.delete(&obj_url, Some(&s.admin)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.get(&obj_url, Some(&s.admin)).send().await.unwrap();
    crate::assert_error(r, StatusCode::NOT_FOUND).await;
    let r = s.delete(&obj_url, Some(&s.admin)).send().await.unwrap();
    crate::assert_error(r, StatusCode::NOT_FOUND).await;
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_and_alias() {
    let s = TestServer::start().await;
    let r = reqwest::Client::new()
        .get(s.url("/taxii2/"))
        .header("Accept", TAXII)
        .basic_auth("admin", Some(&s.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = reqwest::Client::new()
        .get(s.url("/taxii2/"))
        .basic_auth("someone-else", Some(&s.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let id = s
        .store
        .create_collection(&store::NewCollection {
            api_root: "default".into(),
            title: "aliased".into(),
            alias: Some("feeds".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    s.grant(&id, "admin", store::Grant::READ).await;
    let c: Value = s
        .get(&s.url("/default/collections/feeds/"), Some(&s.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["id"], id.as_str());
    assert_eq!(c["alias"], "feeds");
    assert_eq!(c["can_write"], false);
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes() {
    let s = TestServer::start().await;
    let objs: Vec<Value> = (0..300)
        .map(|_| indicator(&new_id("indicator"), "2024-05-01T00:00:00.000Z"))
        .collect();
    let body = serde_json::json!({ "objects": objs }).to_string();
    let url = s.objects_url(&s.shared);
    let admin = s.admin.clone();
    let post = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .bearer_auth(admin)
            .header("Content-Type", TAXII)
            .body(body)
            .send()
            .await
            .map(|r| r.status())
    });
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let store = s.store.clone();
    let shared = s.shared.clone();
    s.stop().await.unwrap();
    // Whatever the timing, an acknowledged POST is fully stored.
    if let Ok(Ok(status)) = post.await {
        assert_eq!(status, StatusCode::ACCEPTED);
        let page = store
            .query_objects(
                &shared,
                &store::ObjectQuery {
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.items.len(), 300);
    }
}
