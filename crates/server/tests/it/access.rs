//! Authentication, authorization and TLP 2.0 (issue 5, item 3; DESIGN.md "Access"):
//! bad credentials are 401, collections one may not see are 404 (never 403), objects whose
//! marking a collection does not allow are refused with the reason, and readers never see
//! (or count) an object outside its audience.

use reqwest::StatusCode;
use serde_json::Value;
use store::Grant;

use crate::{TestServer, assert_error, indicator, marked, new_id, tlp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication() {
    let s = TestServer::start().await;
    for token in [
        "x",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let r = s.get(&s.url("/taxii2/"), Some(token)).send().await.unwrap();
        let r_status = r.status();
        assert!(r.headers().contains_key("www-authenticate"));
        assert_eq!(r_status, StatusCode::UNAUTHORIZED);
    }
    // A wrong token is 401 even on a public-read collection (no silent downgrade).
    let public = s.collection("public", true, false).await;
    let r = s
        .get(&s.objects_url(&public), Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::UNAUTHORIZED).await;
    // Anonymous: 401 on discovery, roots, collection lists and anything not public.
    for path in [
        "/taxii2/".to_owned(),
        "/default/".to_owned(),
        "/default/collections/".to_owned(),
        format!("/default/collections/{}/", s.shared),
        format!("/default/collections/{}/objects/", s.shared),
        format!("/default/collections/{}/objects/", uuid::Uuid::new_v4()),
    ] {
        let r = s.get(&s.url(&path), None).send().await.unwrap();
        assert_error(r, StatusCode::UNAUTHORIZED).await;
    }
    let r = s.post(&s.shared, None, &[]).await;
    assert_error(r, StatusCode::UNAUTHORIZED).await;
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_are_hidden_not_forbidden() {
    let s = TestServer::start().await;
    let outsider = s.user("outsider-org", "eve").await;
    let reader = s.user("reader-org", "rita").await;
    s.grant(&s.shared, "reader-org", Grant::READ).await;
    let id = new_id("indicator");
    s.add(
        &s.shared,
        &s.admin,
        &[indicator(&id, "2024-05-01T00:00:00.000Z")],
    )
    .await;
    let base = format!("/default/collections/{}/", s.shared);

    // The outsider cannot tell the collection from one that does not exist.
    let cols: Value = s
        .get(&s.url("/default/collections/"), Some(&outsider))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cols["collections"], serde_json::json!([]));
    for path in [
        base.clone(),
        format!("{base}objects/"),
        format!("{base}manifest/"),
        format!("{base}objects/{id}/"),
        format!("{base}objects/{id}/versions/"),
    ] {
        let r = s.get(&s.url(&path), Some(&outsider)).send().await.unwrap();
        assert_error(r, StatusCode::NOT_FOUND).await;
    }
    let r = s
        .post(
            &s.shared,
            Some(&outsider),
            &[indicator(&new_id("indicator"), "2024-05-01T00:00:00.000Z")],
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND).await;
    let r = s
        .delete(&s.url(&format!("{base}objects/{id}/")), Some(&outsider))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND).await;

    // A reader sees it, may not write: 403 (existence is no secret to them).
    assert_eq!(s.ids(&s.shared, Some(&reader), "").await, [id.as_str()]);
    let c: Value = s
        .get(&s.url(&base), Some(&reader))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (c["can_read"].clone(), c["can_write"].clone()),
        (Value::Bool(true), Value::Bool(false))
    );
    let r = s
        .post(
            &s.shared,
            Some(&reader),
            &[indicator(&new_id("indicator"), "2024-05-01T00:00:00.000Z")],
        )
        .await;
    assert_error(r, StatusCode::FORBIDDEN).await;
    let r = s
        .delete(&s.url(&format!("{base}objects/{id}/")), Some(&reader))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::FORBIDDEN).await;

    // Status resources belong to their requester.
    let st = s
        .add(
            &s.shared,
            &s.admin,
            &[indicator(&new_id("indicator"), "2024-05-01T00:00:00.000Z")],
        )
        .await;
    let url = s.url(&format!("/default/status/{}/", st["id"].as_str().unwrap()));
    let r = s.get(&url, Some(&reader)).send().await.unwrap();
    assert_error(r, StatusCode::NOT_FOUND).await;
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tlp_on_write() {
    let s = TestServer::start().await;
    let public = s.collection("public", true, false).await;
    s.grant(&public, "admin", Grant::READ_WRITE).await;
    let restricted = s.collection("red room", false, true).await;
    s.grant_user(&restricted, "admin", Grant::READ_WRITE).await;

    // (collection, marking, accepted?)
    let cases = [
        (&public, tlp::CLEAR, true),
        (&public, tlp::GREEN, false),
        (&public, tlp::AMBER, false),
        (&public, tlp::RED, false),
        (&s.shared, tlp::GREEN, true),
        (&s.shared, tlp::AMBER, true),
        (&s.shared, tlp::AMBER_STRICT, true),
        (&s.shared, tlp::AMBER_V1, true),
        (&s.shared, tlp::RED, false),
        (&s.shared, tlp::UNKNOWN, false),
        (&restricted, tlp::RED, true),
        (&restricted, tlp::UNKNOWN, true),
    ];
    for (collection, marking, accepted) in cases {
        let id = new_id("indicator");
        let r = s
            .post(collection, Some(&s.admin), &[marked(&id, marking)])
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let st: Value = r.json().await.unwrap();
        let stored = s
            .ids(collection, Some(&s.admin), &format!("match[id]={id}"))
            .await;
        if accepted {
            assert_eq!(st["success_count"], 1, "{marking}: {st}");
            assert_eq!(stored, [id]);
        } else {
            assert_eq!(st["failure_count"], 1, "{marking}: {st}");
            assert_eq!(st["failures"][0]["id"], id.as_str());
            assert!(
                st["failures"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("TLP:"),
                "{st}"
            );
            assert!(stored.is_empty(), "refused object stored");
        }
    }
    s.stop().await.unwrap();
}

/// A `statement` marking (MITRE ATT&CK's copyright on every object) restricts nobody once
/// the server knows it: defined later in the same envelope, or stored in the collection by
/// an earlier one. An unknown marking id is still TLP:RED, and so is a statement marking
/// stored in another collection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_markings_restrict_nobody_once_known() {
    let s = TestServer::start().await;
    let other = s.collection("other", false, false).await;
    s.grant(&other, "admin", Grant::READ_WRITE).await;
    let statement_id = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168";
    let statement = serde_json::json!({
        "type": "marking-definition", "spec_version": "2.1", "id": statement_id,
        "created": "2017-06-01T00:00:00.000Z", "definition_type": "statement",
        "definition": {"statement": "Copyright 2015-2025, The MITRE Corporation."}
    });
    let post = |collection: String, objects: Vec<Value>| {
        let s = &s;
        async move {
            let r = s.post(&collection, Some(&s.admin), &objects).await;
            assert_eq!(r.status(), StatusCode::ACCEPTED);
            r.json::<Value>().await.unwrap()
        }
    };
    // Marked objects before the definition, as in ATT&CK's bundles.
    let first = [new_id("indicator"), new_id("indicator")];
    let st = post(
        s.shared.clone(),
        vec![
            marked(&first[0], statement_id),
            marked(&first[1], statement_id),
            statement.clone(),
        ],
    )
    .await;
    assert_eq!(st["success_count"], 3, "{st}");
    // A later envelope relies on the stored definition.
    let later = new_id("indicator");
    let st = post(s.shared.clone(), vec![marked(&later, statement_id)]).await;
    assert_eq!(st["success_count"], 1, "{st}");
    // Unknown there: the other collection never received the definition.
    let elsewhere = new_id("indicator");
    let st = post(other.clone(), vec![marked(&elsewhere, statement_id)]).await;
    assert_eq!(st["failure_count"], 1, "{st}");
    assert!(
        st["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("TLP:RED"),
        "{st}"
    );
    // A non-statement definition (a TLP-like marking the server does not know) stays RED.
    let unknown = new_id("indicator");
    let st = post(s.shared.clone(), vec![marked(&unknown, tlp::UNKNOWN)]).await;
    assert_eq!(st["failure_count"], 1, "{st}");
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tlp_on_read() {
    let s = TestServer::start().await;
    // A public-read collection that the admin organization writes to, holding CLEAR only
    // (policy), read anonymously and by an outsider.
    let public = s.collection("public", true, false).await;
    s.grant(&public, "admin", Grant::READ_WRITE).await;
    let clear = new_id("indicator");
    let unmarked = new_id("indicator");
    s.add(
        &public,
        &s.admin,
        &[
            marked(&clear, tlp::CLEAR),
            indicator(&unmarked, "2024-05-01T00:00:00.000Z"),
        ],
    )
    .await;
    let outsider = s.user("outsider-org", "eve").await;
    assert_eq!(
        s.ids(&public, None, "").await,
        [clear.clone(), unmarked.clone()]
    );
    assert_eq!(
        s.ids(&public, Some(&outsider), "").await,
        [clear.clone(), unmarked.clone()]
    );
    let r = s.post(&public, None, &[]).await;
    assert_error(r, StatusCode::UNAUTHORIZED).await;

    // A restricted collection: RED objects, read by named users only; its org grant
    // gives nothing.
    let restricted = s.collection("red room", false, true).await;
    s.grant_user(&restricted, "admin", Grant::READ_WRITE).await;
    let member = s.user("admin", "colleague").await;
    let named = s.user("partner-org", "pat").await;
    s.grant_user(&restricted, "pat", Grant::READ).await;
    s.grant(&restricted, "admin", Grant::READ).await;
    let red = new_id("indicator");
    let green = new_id("indicator");
    s.add(
        &restricted,
        &s.admin,
        &[marked(&red, tlp::RED), marked(&green, tlp::GREEN)],
    )
    .await;
    assert_eq!(
        s.ids(&restricted, Some(&named), "").await,
        [red.clone(), green.clone()]
    );
    let r = s
        .get(&s.objects_url(&restricted), Some(&member))
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND).await;

    // An organization collection holding CLEAR, GREEN and AMBER, later made public-read
    // by its operator: anonymous readers see CLEAR only, and paging counts only what is
    // visible, because the TLP ceiling is part of the store query.
    let mixed = s.collection("mixed", false, false).await;
    s.grant(&mixed, "admin", Grant::READ_WRITE).await;
    let mut visible = Vec::new();
    for i in 0..9 {
        let id = new_id("indicator");
        let marking = [tlp::CLEAR, tlp::GREEN, tlp::AMBER][i % 3];
        s.add(&mixed, &s.admin, &[marked(&id, marking)]).await;
        if marking == tlp::CLEAR {
            visible.push(id);
        }
    }
    s.set_public_read(&mixed, true);
    assert_eq!(s.ids(&mixed, None, "limit=100").await, visible);
    let r = s
        .get(&format!("{}?limit=3", s.objects_url(&mixed)), None)
        .send()
        .await
        .unwrap();
    let env: Value = r.json().await.unwrap();
    assert_eq!(env["objects"].as_array().unwrap().len(), 3);
    assert_eq!(env["more"], false, "hidden objects counted in 'more'");
    let r = s
        .get(
            &s.url(&format!(
                "/default/collections/{mixed}/manifest/?match[version]=all"
            )),
            None,
        )
        .send()
        .await
        .unwrap();
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["objects"].as_array().unwrap().len(), 3);
    // The organization still sees everything.
    assert_eq!(s.ids(&mixed, Some(&s.admin), "").await.len(), 9);

    // Green in an org collection: members of a granted org see it, a public reader of
    // another collection never does; manifest and versions agree.
    let g = new_id("indicator");
    s.add(&s.shared, &s.admin, &[marked(&g, tlp::AMBER)]).await;
    let reader = s.user("reader-org", "rita").await;
    s.grant(&s.shared, "reader-org", Grant::READ).await;
    assert_eq!(s.ids(&s.shared, Some(&reader), "").await, [g.as_str()]);
    let r = s
        .get(
            &s.url(&format!(
                "/default/collections/{}/objects/{g}/versions/",
                s.shared
            )),
            Some(&outsider),
        )
        .send()
        .await
        .unwrap();
    assert_error(r, StatusCode::NOT_FOUND).await;
    s.stop().await.unwrap();
}
