//! Queued ingest (`server::queue`): a POST is answered `pending` before validation, with
//! only the objects that lack an id or a type listed as failures; the status becomes
//! complete, with validation's failures and reasons, once the writer stored the objects; envelopes are stored in the order they were posted; a graceful shutdown stores
//! every envelope it answered; nobody but the poster sees a pending status.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{TestServer, indicator, new_id};

async fn status(srv: &TestServer, token: &str, id: &str) -> (StatusCode, Value) {
    let r = srv
        .get(&srv.url(&format!("/default/status/{id}/")), Some(token))
        .send()
        .await
        .unwrap();
    let code = r.status();
    (code, r.json().await.unwrap())
}

/// The status once complete: each GET waits up to `STATUS_WAIT` (2 s) for the writer,
/// which under a loaded machine (a debug build, the whole test suite at once) can take
/// longer for an envelope of thousands of objects, so ask again for up to a minute.
async fn complete(srv: &TestServer, token: &str, id: &str) -> (StatusCode, Value) {
    let mut answer = status(srv, token, id).await;
    for _ in 0..30 {
        if answer.0 != StatusCode::OK || answer.1["status"] != "pending" {
            break;
        }
        answer = status(srv, token, id).await;
    }
    answer
}

#[tokio::test]
async fn a_queued_post_is_pending_until_stored_then_complete() {
    let srv = TestServer::start_queued().await;
    let ids: Vec<String> = (0..3).map(|_| new_id("indicator")).collect();
    let mut objects: Vec<Value> = ids
        .iter()
        .map(|id| indicator(id, "2024-05-02T00:00:00.000Z"))
        .collect();
    let bad = new_id("indicator");
    let mut invalid = indicator(&bad, "2024-05-02T00:00:00.000Z");
    invalid["pattern"] = json!("[ipv4-addr:value = ");
    objects.push(invalid);
    // Not a STIX object with an id: refused in the answer already.
    objects.push(json!({"type": "indicator", "spec_version": "2.1"}));

    let r = srv.post(&srv.shared, Some(&srv.admin), &objects).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let pending: Value = r.json().await.unwrap();
    assert_eq!(pending["status"], "pending", "{pending}");
    assert_eq!(pending["total_count"], 5);
    assert_eq!(pending["success_count"], 0);
    assert_eq!(pending["pending_count"], 4);
    assert_eq!(pending["failure_count"], 1);
    assert_eq!(pending["failures"][0]["id"], "");
    assert!(
        pending["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("required property id is missing"),
        "{pending}"
    );
    let listed: Vec<&str> = pending["pendings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    let mut expected_pending: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected_pending.push(&bad);
    assert_eq!(listed, expected_pending);
    for detail in pending["pendings"].as_array().unwrap() {
        assert_eq!(detail["version"], "2024-05-02T00:00:00.000Z", "{detail}");
    }

    // The status waits for the writer, so the first poll already sees it complete, with
    // the object validation refused listed with its reason.
    let (code, done) = status(&srv, &srv.admin, pending["id"].as_str().unwrap()).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(done["status"], "complete", "{done}");
    assert_eq!(done["total_count"], 5);
    assert_eq!(done["success_count"], 3);
    assert_eq!(done["failure_count"], 2);
    assert_eq!(done["pending_count"], 0);
    assert_eq!(done["id"], pending["id"]);
    let refused = done["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == bad.as_str())
        .unwrap_or_else(|| panic!("{bad} not among the failures: {done}"));
    assert!(
        refused["message"].as_str().unwrap().contains("pattern"),
        "{refused}"
    );
    let mut stored = srv.ids(&srv.shared, Some(&srv.admin), "").await;
    stored.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(stored, expected);
    srv.stop().await.unwrap();
}

/// An envelope whose every object validation refuses never reaches the writer: its status
/// completes with each reason, and nothing is stored.
#[tokio::test]
async fn a_queued_envelope_validation_refuses_whole_completes_with_the_reasons() {
    let srv = TestServer::start_queued().await;
    let objects: Vec<Value> = (0..2)
        .map(|_| {
            let mut broken = indicator(&new_id("indicator"), "2024-05-02T00:00:00.000Z");
            broken["pattern"] = json!("[ipv4-addr:value = ");
            broken
        })
        .collect();
    let r = srv.post(&srv.shared, Some(&srv.admin), &objects).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["pending_count"], 2, "{answer}");
    let (code, done) = complete(&srv, &srv.admin, answer["id"].as_str().unwrap()).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(done["status"], "complete", "{done}");
    assert_eq!(
        (
            &done["total_count"],
            &done["success_count"],
            &done["failure_count"]
        ),
        (&json!(2), &json!(0), &json!(2)),
        "{done}"
    );
    for (failure, object) in done["failures"].as_array().unwrap().iter().zip(&objects) {
        assert_eq!(failure["id"], object["id"]);
        assert!(
            failure["message"].as_str().unwrap().contains("pattern"),
            "{failure}"
        );
    }
    assert!(srv.ids(&srv.shared, Some(&srv.admin), "").await.is_empty());
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn queued_envelopes_are_stored_in_the_order_they_were_posted() {
    let srv = TestServer::start_queued().await;
    let ids: Vec<String> = (0..12).map(|_| new_id("indicator")).collect();
    let mut last = Value::Null;
    for id in &ids {
        let r = srv
            .post(
                &srv.shared,
                Some(&srv.admin),
                &[indicator(id, "2024-05-02T00:00:00.000Z")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        last = r.json().await.unwrap();
    }
    let (_, done) = complete(&srv, &srv.admin, last["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "complete", "{done}");
    // Pages are in date_added order: the order of the POSTs.
    assert_eq!(srv.ids(&srv.shared, Some(&srv.admin), "").await, ids);
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_stores_every_envelope_it_answered() {
    let srv = TestServer::start_queued().await;
    let store = srv.store.clone();
    let shared = srv.shared.clone();
    let admin = srv.admin.clone();
    let mut statuses = Vec::new();
    let mut posted = 0;
    for _ in 0..20 {
        let objects: Vec<Value> = (0..50)
            .map(|_| indicator(&new_id("indicator"), "2024-05-02T00:00:00.000Z"))
            .collect();
        posted += objects.len();
        let r = srv.post(&shared, Some(&admin), &objects).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let answer: Value = r.json().await.unwrap();
        statuses.push(answer["id"].as_str().unwrap().to_owned());
    }
    // Straight to shutdown: envelopes still queued must be stored before `run` returns.
    srv.stop().await.unwrap();
    let mut succeeded = 0;
    for id in &statuses {
        let stored = store.status(id).await.unwrap().expect("status stored");
        assert_eq!(stored.status, store::StatusState::Complete);
        assert!(stored.failures.is_empty(), "{:?}", stored.failures);
        succeeded += stored.successes.len();
    }
    assert_eq!(succeeded, posted);
    let query = store::ObjectQuery {
        limit: 10_000,
        max_tlp: stix::TlpLevel::Red,
        ..Default::default()
    };
    let page = store.query_objects(&shared, &query).await.unwrap();
    assert_eq!(page.items.len(), posted);
}

#[tokio::test]
async fn another_users_status_is_not_found_pending_or_complete() {
    let srv = TestServer::start_queued().await;
    let other = srv.user("other-org", "mallory").await;
    let objects: Vec<Value> = (0..200)
        .map(|_| indicator(&new_id("indicator"), "2024-05-02T00:00:00.000Z"))
        .collect();
    let r = srv.post(&srv.shared, Some(&srv.admin), &objects).await;
    let pending: Value = r.json().await.unwrap();
    let id = pending["id"].as_str().unwrap();
    let (code, _) = status(&srv, &other, id).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, done) = complete(&srv, &srv.admin, id).await;
    assert_eq!(
        (code, done["status"].as_str()),
        (StatusCode::OK, Some("complete"))
    );
    let (code, _) = status(&srv, &other, id).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    srv.stop().await.unwrap();
}

/// A producer defines its `statement` marking (ATT&CK's copyright) once and refers to it in
/// the envelopes after it. Queued, a later envelope is validated while the defining one may
/// still wait for the writer: the marking must be known from the queue, not read as an
/// unknown marking (TLP:RED, refused in a collection that is not restricted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_marking_still_queued_is_known_to_later_envelopes() {
    let srv = TestServer::start_queued().await;
    let statement_id = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168";
    let statement = json!({
        "type": "marking-definition", "spec_version": "2.1", "id": statement_id,
        "created": "2017-06-01T00:00:00.000Z", "definition_type": "statement",
        "definition": {"statement": "Copyright 2015-2025, The MITRE Corporation."}
    });
    // A big first envelope keeps the writer busy while the next ones are validated.
    let mut first: Vec<Value> = (0..3000)
        .map(|_| crate::marked(&new_id("indicator"), statement_id))
        .collect();
    first.push(statement);
    let mut statuses = Vec::new();
    let r = srv.post(&srv.shared, Some(&srv.admin), &first).await;
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["failure_count"], 0, "{answer}");
    statuses.push(answer["id"].as_str().unwrap().to_owned());
    for _ in 0..3 {
        let later: Vec<Value> = (0..10)
            .map(|_| crate::marked(&new_id("indicator"), statement_id))
            .collect();
        let r = srv.post(&srv.shared, Some(&srv.admin), &later).await;
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["failure_count"], 0, "{answer}");
        statuses.push(answer["id"].as_str().unwrap().to_owned());
    }
    for id in &statuses {
        let (_, done) = complete(&srv, &srv.admin, id).await;
        assert_eq!(done["status"], "complete", "{done}");
        assert_eq!(done["failure_count"], 0, "{done}");
    }
    // Once stored, the queue forgets it and the store answers: still known.
    let r = srv
        .post(
            &srv.shared,
            Some(&srv.admin),
            &[crate::marked(&new_id("indicator"), statement_id)],
        )
        .await;
    let answer: Value = r.json().await.unwrap();
    let (_, done) = complete(&srv, &srv.admin, answer["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "complete", "{done}");
    assert_eq!(done["success_count"], 1, "{done}");
    assert_eq!(done["failure_count"], 0, "{done}");
    srv.stop().await.unwrap();
}
