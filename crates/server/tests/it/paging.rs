//! Filters (TAXII 2.1 §3.4) and pagination (§3.5): `limit`, `more`, `next`, `added_after`,
//! also while other clients write.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::{TestServer, indicator, new_id};

/// Follows `next` to the end; returns every id seen, in order.
async fn page_through(s: &TestServer, collection: &str, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..10_000 {
        let mut url = format!("{}?limit={limit}", s.objects_url(collection));
        if let Some(n) = &next {
            url.push_str(&format!("&next={n}"));
        }
        let r = s.get(&url, Some(&s.admin)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let env: Value = r.json().await.unwrap();
        let objs = env["objects"].as_array().unwrap();
        assert!(objs.len() <= limit);
        seen.extend(objs.iter().map(|o| o["id"].as_str().unwrap().to_owned()));
        if env["more"] != true {
            assert!(env.get("next").is_none());
            return seen;
        }
        next = Some(env["next"].as_str().expect("more without next").to_owned());
    }
    panic!("pagination did not end");
}

/// The `modified` of every version of `id` a query returns.
async fn modified(s: &TestServer, id: &str, query: &str) -> Vec<String> {
    let url = format!("{}?match[id]={id}&{query}", s.objects_url(&s.shared));
    let env: Value = s
        .get(&url, Some(&s.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    env["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["modified"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters() {
    let s = TestServer::start().await;
    let a = new_id("indicator");
    let m = new_id("malware");
    let malware = serde_json::json!({
        "type": "malware", "spec_version": "2.1", "id": m, "name": "x", "is_family": true,
        "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z"
    });
    let t = [
        "2024-05-01T00:00:00.000Z",
        "2024-06-01T00:00:00.000Z",
        "2024-07-01T00:00:00.000Z",
    ];
    let versions: Vec<Value> = t.iter().map(|t| indicator(&a, t)).collect();
    s.add(&s.shared, &s.admin, &versions).await;
    s.add(&s.shared, &s.admin, &[malware]).await;

    assert_eq!(
        s.ids(&s.shared, Some(&s.admin), "match[type]=malware")
            .await,
        [m.as_str()]
    );
    assert_eq!(
        s.ids(&s.shared, Some(&s.admin), &format!("match[id]={a},{m}"))
            .await,
        [a.clone(), m.clone()]
    );
    assert_eq!(modified(&s, &a, "").await, [t[2]]);
    assert_eq!(modified(&s, &a, "match[version]=first").await, [t[0]]);
    assert_eq!(modified(&s, &a, "match[version]=all").await, t);
    assert_eq!(
        modified(&s, &a, "match[version]=first,last").await,
        [t[0], t[2]]
    );
    assert_eq!(
        modified(&s, &a, &format!("match[version]={}", t[1])).await,
        [t[1]]
    );
    assert_eq!(modified(&s, &a, "match[spec_version]=2.1").await, [t[2]]);
    assert!(modified(&s, &a, "match[spec_version]=2.0").await.is_empty());

    // added_after: strictly after the last date_added seen.
    let r = s
        .get(&s.objects_url(&s.shared), Some(&s.admin))
        .send()
        .await
        .unwrap();
    let last = r.headers()["x-taxii-date-added-last"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        s.ids(&s.shared, Some(&s.admin), &format!("added_after={last}"))
            .await
            .is_empty()
    );
    let c = new_id("indicator");
    s.add(&s.shared, &s.admin, &[indicator(&c, t[0])]).await;
    assert_eq!(
        s.ids(&s.shared, Some(&s.admin), &format!("added_after={last}"))
            .await,
        [c]
    );
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_more_next() {
    let s = TestServer::start().await;
    let ids: Vec<String> = (0..25).map(|_| new_id("indicator")).collect();
    let objs: Vec<Value> = ids
        .iter()
        .map(|i| indicator(i, "2024-05-01T00:00:00.000Z"))
        .collect();
    s.add(&s.shared, &s.admin, &objs).await;
    for limit in [1, 7, 25, 100] {
        assert_eq!(
            page_through(&s, &s.shared, limit).await,
            ids,
            "limit {limit}"
        );
    }
    // The manifest pages the same way.
    let r = s
        .get(
            &s.url(&format!(
                "/default/collections/{}/manifest/?limit=10",
                s.shared
            )),
            Some(&s.admin),
        )
        .send()
        .await
        .unwrap();
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["objects"].as_array().unwrap().len(), 10);
    assert_eq!(m["more"], true);
    assert!(m["next"].is_string());
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_is_capped() {
    let s = TestServer::with_config(server::Config {
        limits: server::Limits {
            max_page_size: 5,
            default_page_size: 3,
            ..server::Limits::default()
        },
        ..server::Config::default()
    })
    .await;
    let objs: Vec<Value> = (0..8)
        .map(|_| indicator(&new_id("indicator"), "2024-05-01T00:00:00.000Z"))
        .collect();
    s.add(&s.shared, &s.admin, &objs).await;
    assert_eq!(s.ids(&s.shared, Some(&s.admin), "").await.len(), 3);
    assert_eq!(
        s.ids(&s.shared, Some(&s.admin), "limit=1000").await.len(),
        5
    );
    s.stop().await.unwrap();
}

/// Paging while writers add objects: every object present before paging started is seen
/// exactly once, and no object is seen twice (DESIGN.md: date_added is the paging key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_under_concurrent_posts() {
    let s = TestServer::start().await;
    let before: Vec<String> = (0..200).map(|_| new_id("indicator")).collect();
    let objs: Vec<Value> = before
        .iter()
        .map(|i| indicator(i, "2024-05-01T00:00:00.000Z"))
        .collect();
    s.add(&s.shared, &s.admin, &objs).await;

    let url = s.objects_url(&s.shared);
    let admin = s.admin.clone();
    let writer = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut written = Vec::new();
        for _ in 0..20 {
            let batch: Vec<String> = (0..10).map(|_| new_id("indicator")).collect();
            let objs: Vec<Value> = batch
                .iter()
                .map(|i| indicator(i, "2024-05-01T00:00:00.000Z"))
                .collect();
            let r = client
                .post(&url)
                .bearer_auth(&admin)
                .header("Content-Type", crate::TAXII)
                .body(serde_json::json!({ "objects": objs }).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::ACCEPTED);
            written.extend(batch);
        }
        written
    });
    let seen = page_through(&s, &s.shared, 7).await;
    let written = writer.await.unwrap();

    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an object was served twice");
    for id in &before {
        assert!(
            unique.contains(id),
            "an object present before paging was skipped"
        );
    }
    let known: HashSet<&String> = before.iter().chain(written.iter()).collect();
    assert!(unique.iter().all(|id| known.contains(id)));
    // What was written during paging is a suffix: date_added order is kept.
    let first_new = seen
        .iter()
        .position(|id| !before.contains(id))
        .unwrap_or(seen.len());
    assert!(seen[first_new..].iter().all(|id| !before.contains(id)));
    s.stop().await.unwrap();
}
