//! Limits (DESIGN.md "Limits"): over a limit the answer is a clear 413/422 TAXII error
//! and nothing is stored.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{TAXII, TestServer, assert_error, indicator, new_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_and_envelope_limits() {
    let s = TestServer::with_config(server::Config {
        limits: server::Limits {
            max_body_bytes: 4096,
            max_objects_per_envelope: 3,
            max_pattern_len: 100,
            ..server::Limits::default()
        },
        ..server::Config::default()
    })
    .await;
    let root: Value = s
        .get(&s.url("/default/"), Some(&s.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(root["max_content_length"], 4096);

    // One byte over max_content_length.
    let id = new_id("indicator");
    let mut obj = indicator(&id, "2024-05-01T00:00:00.000Z");
    let base = serde_json::json!({ "objects": [obj.clone()] })
        .to_string()
        .len();
    obj["description"] = Value::String("x".repeat(4096 + 1 - base - r#","description":"""#.len()));
    let body = serde_json::json!({ "objects": [obj] }).to_string();
    assert_eq!(body.len(), 4097);
    let r = s
        .post_raw(&s.objects_url(&s.shared), Some(&s.admin), TAXII, body)
        .await;
    let e = assert_error(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(e["description"].as_str().unwrap().contains("4096"));

    // A chunked body (no Content-Length) over the limit.
    assert_eq!(chunked_post_status(&s, 5000).await, 413);
    assert_eq!(chunked_post_status(&s, 10).await, 202);

    // Too many objects in one envelope.
    let objs: Vec<Value> = (0..4)
        .map(|_| indicator(&new_id("indicator"), "2024-05-01T00:00:00.000Z"))
        .collect();
    let r = s.post(&s.shared, Some(&s.admin), &objs).await;
    assert_error(r, StatusCode::PAYLOAD_TOO_LARGE).await;

    // Not an envelope.
    for body in [r#"{"objects": 5}"#, r#"{"more": false}"#, "[]"] {
        let r = s
            .post_raw(&s.objects_url(&s.shared), Some(&s.admin), TAXII, body)
            .await;
        assert_error(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let r = s
        .post_raw(&s.objects_url(&s.shared), Some(&s.admin), TAXII, "{nope")
        .await;
    assert_error(r, StatusCode::BAD_REQUEST).await;

    // A pattern over the length limit fails that object alone.
    let long = new_id("indicator");
    let mut obj = indicator(&long, "2024-05-01T00:00:00.000Z");
    obj["pattern"] = Value::String(format!(
        "[domain-name:value = '{}.example']",
        "a".repeat(100)
    ));
    let r = s.post(&s.shared, Some(&s.admin), &[obj]).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let st: Value = r.json().await.unwrap();
    assert_eq!(st["failure_count"], 1);
    assert!(
        st["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains("pattern")
    );

    assert!(
        s.ids(&s.shared, Some(&s.admin), "").await.is_empty(),
        "nothing stored"
    );
    s.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_objects_fail_alone() {
    let s = TestServer::start().await;
    let good = new_id("indicator");
    let no_pattern = new_id("indicator");
    let mut bad1 = indicator(&no_pattern, "2024-05-01T00:00:00.000Z");
    bad1.as_object_mut().unwrap().remove("pattern");
    let wrong_prefix = new_id("malware");
    let bad2 = indicator(&wrong_prefix, "2024-05-01T00:00:00.000Z");
    let bad_pattern = new_id("indicator");
    let mut bad3 = indicator(&bad_pattern, "2024-05-01T00:00:00.000Z");
    bad3["pattern"] = Value::String("[ipv4-addr:value = ".into());
    let r = s
        .post(
            &s.shared,
            Some(&s.admin),
            &[
                indicator(&good, "2024-05-01T00:00:00.000Z"),
                bad1,
                bad2,
                bad3,
                serde_json::json!({"no": "id"}),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let st: Value = r.json().await.unwrap();
    assert_eq!(st["total_count"], 5);
    assert_eq!(st["success_count"], 1);
    assert_eq!(st["failure_count"], 4);
    let failed: Vec<&str> = st["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed[..3],
        [
            no_pattern.as_str(),
            wrong_prefix.as_str(),
            bad_pattern.as_str()
        ]
    );
    for f in st["failures"].as_array().unwrap() {
        assert!(!f["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(s.ids(&s.shared, Some(&s.admin), "").await, [good]);
    s.stop().await.unwrap();
}

/// POSTs an empty envelope padded to about `pad` bytes with chunked transfer encoding
/// (so there is no Content-Length to check up front); returns the HTTP status.
async fn chunked_post_status(s: &TestServer, pad: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let path = format!("/default/collections/{}/objects/", s.shared);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: {TAXII}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        s.admin
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let body = format!("{{\"objects\":[],\"pad\":\"{}\"}}", "x".repeat(pad));
    for chunk in body.as_bytes().chunks(1000) {
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
        // The server may answer 413 and close before the whole body is sent.
        if conn.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}
