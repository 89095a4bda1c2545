//! The client against a small in-process TAXII fake (axum on `127.0.0.1:0`).
//!
//! The fake is deliberately minimal and configurable in the ways real servers differ:
//! with or without `next` tokens, a small `max_content_length`, a per-envelope object cap
//! it does not advertise, statuses that start `pending`, and answers that fail a few times
//! before succeeding. It is not a TAXII server: it has one collection and no filters beyond
//! `added_after`, `limit` and `next`.

use super::*;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap as AxHeaders, StatusCode as AxStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// How the fake behaves.
#[derive(Clone, Default)]
struct Config {
    /// Give `next` tokens (otherwise only `more` and the date headers).
    tokens: bool,
    /// One token for the whole result set, with the position kept by the server (as
    /// medallion does) instead of a token per page.
    sticky_tokens: bool,
    /// Advertised and enforced `max_content_length`.
    max_content_length: u64,
    /// Objects per envelope above which the fake answers 413 without saying so up front.
    hidden_object_cap: Option<usize>,
    /// Answer this many requests 503 (with `Retry-After: 0`) before behaving.
    fail_first: usize,
    /// Statuses start `pending` and complete on the first poll.
    pending: bool,
    /// Reject objects whose id contains this text, as failures.
    reject: Option<String>,
    /// Expected `Authorization` header; anything else is a 401.
    authorization: Option<String>,
}

#[derive(Default)]
struct Fake {
    config: Config,
    /// Stored objects in date_added order: (date_added, exact text).
    objects: Vec<(String, String)>,
    /// Envelope sizes (objects) the fake accepted, in order.
    envelopes: Vec<usize>,
    /// Status resources by id, and whether each was polled yet.
    statuses: Vec<(Value, bool)>,
    failures_left: usize,
    requests: usize,
    /// Where the sticky token's result set continues.
    cursor: usize,
}

type Shared = Arc<Mutex<Fake>>;

fn taxii(status: AxStatus, body: Value) -> Response {
    (status, [("content-type", TAXII_21)], body.to_string()).into_response()
}

fn error(status: AxStatus, title: &str) -> Response {
    taxii(
        status,
        json!({"title": title, "description": "from the fake", "http_status": status.as_u16().to_string()}),
    )
}

/// Common gate of every route: counts, fails on purpose, checks credentials.
fn gate(state: &Shared, headers: &AxHeaders) -> Option<Response> {
    let mut fake = state.lock().unwrap();
    fake.requests += 1;
    if fake.failures_left > 0 {
        fake.failures_left -= 1;
        return Some(
            (
                AxStatus::SERVICE_UNAVAILABLE,
                [("retry-after", "0")],
                "busy",
            )
                .into_response(),
        );
    }
    if let Some(want) = &fake.config.authorization {
        let got = headers.get("authorization").and_then(|v| v.to_str().ok());
        if got != Some(want.as_str()) {
            return Some(error(AxStatus::UNAUTHORIZED, "authentication required"));
        }
    }
    None
}

async fn discovery(State(s): State<Shared>, h: AxHeaders) -> Response {
    if let Some(r) = gate(&s, &h) {
        return r;
    }
    // A relative root, as entente serves it: the client must resolve it.
    taxii(
        AxStatus::OK,
        json!({"title": "fake", "default": "/api1/", "api_roots": ["/api1/"]}),
    )
}

async fn api_root(State(s): State<Shared>, h: AxHeaders) -> Response {
    if let Some(r) = gate(&s, &h) {
        return r;
    }
    let max = s.lock().unwrap().config.max_content_length;
    taxii(
        AxStatus::OK,
        json!({"title": "api1", "versions": [TAXII_21], "max_content_length": max}),
    )
}

async fn get_objects(
    State(s): State<Shared>,
    h: AxHeaders,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(r) = gate(&s, &h) {
        return r;
    }
    let mut fake = s.lock().unwrap();
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(1000);
    let start: usize = match q.get("next") {
        Some(n) if n == "sticky" => fake.cursor,
        Some(n) => n.parse().unwrap_or(0),
        None => 0,
    };
    let selected: Vec<(usize, &(String, String))> = fake
        .objects
        .iter()
        .enumerate()
        .filter(|(_, (added, _))| q.get("added_after").is_none_or(|a| added > a))
        .filter(|(i, _)| *i >= start)
        .take(limit + 1)
        .collect();
    let more = selected.len() > limit;
    let page = &selected[..selected.len().min(limit)];
    // Objects go out as their stored text, like entente does.
    let objects: Vec<&str> = page.iter().map(|(_, (_, t))| t.as_str()).collect();
    let mut body = format!(r#"{{"more":{more},"objects":[{}]"#, objects.join(","));
    let after = page.last().map_or(start, |(i, _)| i + 1);
    if more && fake.config.sticky_tokens {
        body.push_str(r#","next":"sticky""#);
    } else if more && fake.config.tokens {
        body.push_str(&format!(r#","next":"{after}""#));
    }
    body.push('}');
    let first_last = (
        page.first().map(|(_, (d, _))| d.clone()),
        page.last().map(|(_, (d, _))| d.clone()),
    );
    fake.cursor = after;
    let mut resp = (AxStatus::OK, [("content-type", TAXII_21)], body).into_response();
    if let (Some(first), Some(last)) = first_last {
        let headers = resp.headers_mut();
        headers.insert(DATE_ADDED_FIRST, first.parse().unwrap());
        headers.insert(DATE_ADDED_LAST, last.parse().unwrap());
    }
    resp
}

async fn post_objects(State(s): State<Shared>, h: AxHeaders, body: Bytes) -> Response {
    if let Some(r) = gate(&s, &h) {
        return r;
    }
    let mut fake = s.lock().unwrap();
    if h.get("content-type").and_then(|v| v.to_str().ok()) != Some(TAXII_21) {
        return error(AxStatus::UNSUPPORTED_MEDIA_TYPE, "wrong content type");
    }
    if body.len() as u64 > fake.config.max_content_length {
        return error(AxStatus::PAYLOAD_TOO_LARGE, "body over max_content_length");
    }
    #[derive(Deserialize)]
    struct Env<'a> {
        #[serde(borrow)]
        objects: Vec<&'a RawValue>,
    }
    let Ok(env) = serde_json::from_slice::<Env<'_>>(&body) else {
        return error(AxStatus::BAD_REQUEST, "not an envelope");
    };
    if fake
        .config
        .hidden_object_cap
        .is_some_and(|cap| env.objects.len() > cap)
    {
        return error(
            AxStatus::PAYLOAD_TOO_LARGE,
            "too many objects in one envelope",
        );
    }
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    for o in &env.objects {
        let id = serde_json::from_str::<Value>(o.get()).unwrap()["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if fake.config.reject.as_ref().is_some_and(|r| id.contains(r)) {
            failures.push(json!({"id": id, "message": "refused by the fake"}));
        } else {
            let added = format!("2024-01-01T00:00:00.{:06}Z", fake.objects.len() + 1);
            fake.objects.push((added, o.get().to_owned()));
            successes.push(json!({"id": id}));
        }
    }
    fake.envelopes.push(env.objects.len());
    let id = format!("status-{}", fake.statuses.len());
    let complete = json!({
        "id": id, "status": "complete", "total_count": env.objects.len(),
        "success_count": successes.len(), "successes": successes,
        "failure_count": failures.len(), "failures": failures, "pending_count": 0,
    });
    let answer = if fake.config.pending {
        json!({"id": id, "status": "pending", "total_count": env.objects.len(),
               "success_count": 0, "failure_count": 0, "pending_count": env.objects.len()})
    } else {
        complete.clone()
    };
    fake.statuses.push((complete, false));
    taxii(AxStatus::ACCEPTED, answer)
}

async fn get_status(State(s): State<Shared>, h: AxHeaders, Path(id): Path<String>) -> Response {
    if let Some(r) = gate(&s, &h) {
        return r;
    }
    let mut fake = s.lock().unwrap();
    let Some(index) = id
        .strip_prefix("status-")
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return error(AxStatus::NOT_FOUND, "no such status");
    };
    match fake.statuses.get_mut(index) {
        Some((status, polled)) => {
            *polled = true;
            taxii(AxStatus::OK, status.clone())
        }
        None => error(AxStatus::NOT_FOUND, "no such status"),
    }
}

/// Starts the fake; returns its state and the server's base URL.
async fn start(config: Config) -> (Shared, String) {
    let state: Shared = Arc::new(Mutex::new(Fake {
        failures_left: config.fail_first,
        config,
        ..Fake::default()
    }));
    let app = Router::new()
        .route("/taxii2/", get(discovery))
        .route("/api1/", get(api_root))
        .route(
            "/api1/collections/c1/objects/",
            get(get_objects).post(post_objects),
        )
        .route("/api1/status/{id}/", get(get_status))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (state, format!("http://{addr}"))
}

fn quick_client(auth: Auth) -> Client {
    Client::with_options(ClientOptions {
        auth,
        retry: RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        ..ClientOptions::default()
    })
    .unwrap()
}

fn indicator(n: usize) -> String {
    // Odd spacing on purpose: the round trip must keep each object's exact text.
    format!(
        r#"{{ "type":"indicator", "spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","modified":"2024-01-01T00:00:00Z" }}"#
    )
}

async fn collection(client: &Client, base: &str) -> CollectionRef {
    let root = client.resolve_api_root(base, None).await.unwrap();
    CollectionRef::new(root, "c1")
}

#[test]
fn plan_respects_bytes_and_count() {
    // Overhead 14; objects of 10 bytes, comma between: 14 + 10 + 1 + 10 = 35.
    let (r, big) = plan_envelopes(&[10, 10, 10, 10, 10], 35, 100);
    assert_eq!(r, vec![0..2, 2..4, 4..5]);
    assert!(big.is_empty());
    let (r, _) = plan_envelopes(&[10; 5], 1000, 2);
    assert_eq!(r, vec![0..2, 2..4, 4..5]);
    let (r, big) = plan_envelopes(&[10, 50, 10], 30, 100);
    assert_eq!(r, vec![0..1, 2..3]);
    assert_eq!(big, vec![1]);
    let (r, big) = plan_envelopes(&[], 30, 100);
    assert!(r.is_empty() && big.is_empty());
}

#[test]
fn envelope_keeps_object_text() {
    assert_eq!(envelope_body(&[]), r#"{"objects":[]}"#);
    assert_eq!(
        envelope_body(&["{ }", "{\"a\":1}"]),
        r#"{"objects":[{ },{"a":1}]}"#
    );
    assert_eq!(
        envelope_body(&["{ }", "{ }"]).len(),
        ENVELOPE_OVERHEAD + 3 + 1 + 3
    );
}

#[test]
fn filter_query() {
    let f = Filter {
        added_after: Some("2024-01-01T00:00:00Z".into()),
        limit: Some(10),
        ids: vec!["a".into(), "b".into()],
        versions: vec!["all".into()],
        ..Filter::default()
    };
    assert_eq!(
        f.to_query(),
        vec![
            ("added_after", "2024-01-01T00:00:00Z".to_owned()),
            ("limit", "10".to_owned()),
            ("match[id]", "a,b".to_owned()),
            ("match[version]", "all".to_owned()),
        ]
    );
}

#[test]
fn discovery_url_forms() {
    for (given, want) in [
        ("http://h:1", "http://h:1/taxii2/"),
        ("http://h:1/", "http://h:1/taxii2/"),
        ("http://h:1/taxii2", "http://h:1/taxii2/"),
        ("http://h:1/taxii2/", "http://h:1/taxii2/"),
        ("https://h/x/taxii2/", "https://h/x/taxii2/"),
    ] {
        assert_eq!(
            Client::discovery_url(given).unwrap().as_str(),
            want,
            "{given}"
        );
    }
    assert!(Client::discovery_url("not a url").is_err());
}

#[test]
fn auth_debug_hides_secrets() {
    let s = format!(
        "{:?} {:?}",
        Auth::Bearer("sekrit".into()),
        Auth::Basic {
            user: "u".into(),
            password: "sekrit".into()
        }
    );
    assert!(!s.contains("sekrit"), "{s}");
}

#[test]
fn collection_urls_are_encoded() {
    let c = CollectionRef::new(Url::parse("http://h/api1").unwrap(), "c 1");
    assert_eq!(
        c.url(&["objects", "x--1", "versions"]).unwrap().as_str(),
        "http://h/api1/collections/c%201/objects/x--1/versions/"
    );
}

#[tokio::test]
async fn push_splits_and_pull_follows_next_tokens() {
    let (state, base) = start(Config {
        tokens: true,
        max_content_length: 600,
        pending: true,
        ..Config::default()
    })
    .await;
    let client = quick_client(Auth::None);
    let c = collection(&client, &base).await;
    let texts: Vec<String> = (0..25).map(indicator).collect();
    let objects: Vec<&str> = texts.iter().map(String::as_str).collect();
    let options = PushOptions {
        max_objects: 4,
        poll_interval: Duration::from_millis(1),
        ..PushOptions::default()
    };
    let mut sent = 0;
    let report = client
        .push(&c, &objects, &options, &mut |p| {
            if let PushProgress::Sent { objects } = p {
                sent += objects;
            }
        })
        .await
        .unwrap();
    assert_eq!(sent, 25);
    assert!(report.all_succeeded(), "{report:?}");
    assert_eq!(report.success_count, 25);
    {
        let fake = state.lock().unwrap();
        assert!(
            fake.envelopes.iter().all(|&n| n <= 4),
            "{:?}",
            fake.envelopes
        );
        assert!(fake.statuses.iter().all(|(_, polled)| *polled));
    }
    let mut pager = client.objects(
        &c,
        Filter {
            limit: Some(7),
            ..Filter::default()
        },
    );
    let mut got = Vec::new();
    while let Some(page) = pager.next_page().await.unwrap() {
        assert!(page.items.len() <= 7);
        got.extend(page.items.into_iter().map(|o| o.get().to_owned()));
    }
    assert_eq!(pager.pages(), 4);
    assert_eq!(
        got, texts,
        "objects must come back byte-identical, in order"
    );
}

#[tokio::test]
async fn pull_falls_back_to_added_after_without_tokens() {
    let (state, base) = start(Config {
        tokens: false,
        max_content_length: 1 << 20,
        ..Config::default()
    })
    .await;
    let client = quick_client(Auth::None);
    let c = collection(&client, &base).await;
    let texts: Vec<String> = (0..10).map(indicator).collect();
    {
        let mut fake = state.lock().unwrap();
        for (i, t) in texts.iter().enumerate() {
            fake.objects
                .push((format!("2024-01-01T00:00:00.{:06}Z", i + 1), t.clone()));
        }
    }
    let filter = Filter {
        limit: Some(3),
        ..Filter::default()
    };
    let all = client.objects(&c, filter).collect_all().await.unwrap();
    let got: Vec<&str> = all.iter().map(|o| o.get()).collect();
    assert_eq!(got, texts);
}

#[tokio::test]
async fn retries_busy_server_then_succeeds() {
    let (state, base) = start(Config {
        tokens: true,
        max_content_length: 1 << 20,
        fail_first: 2,
        ..Config::default()
    })
    .await;
    let client = quick_client(Auth::None);
    let c = collection(&client, &base).await;
    assert_eq!(
        client
            .objects(&c, Filter::default())
            .collect_all()
            .await
            .unwrap()
            .len(),
        0
    );
    assert!(state.lock().unwrap().requests >= 4);
}

#[tokio::test]
async fn gives_up_after_bounded_retries() {
    let (_state, base) = start(Config {
        max_content_length: 1 << 20,
        fail_first: 100,
        ..Config::default()
    })
    .await;
    let client = quick_client(Auth::None);
    let err = client.resolve_api_root(&base, None).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE), "{err}");
}

#[tokio::test]
async fn http_error_carries_taxii_message() {
    let (_state, base) = start(Config {
        max_content_length: 1 << 20,
        authorization: Some("Bearer right".into()),
        ..Config::default()
    })
    .await;
    let wrong = quick_client(Auth::Bearer("wrong".into()));
    let err = wrong.resolve_api_root(&base, None).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("401"), "{text}");
    assert!(
        text.contains("authentication required: from the fake"),
        "{text}"
    );
    assert!(!text.contains("wrong"), "no credentials in errors: {text}");
    let right = quick_client(Auth::Bearer("right".into()));
    assert!(right.resolve_api_root(&base, None).await.is_ok());
}

#[tokio::test]
async fn basic_auth_is_sent() {
    // "u:p" in base64 is "dTpw".
    let (_state, base) = start(Config {
        max_content_length: 1 << 20,
        authorization: Some("Basic dTpw".into()),
        ..Config::default()
    })
    .await;
    let client = quick_client(Auth::Basic {
        user: "u".into(),
        password: "p".into(),
    });
    assert!(client.resolve_api_root(&base, None).await.is_ok());
}

#[tokio::test]
async fn halves_envelopes_on_413_and_reports_failures() {
    let (state, base) = start(Config {
        tokens: true,
        max_content_length: 1 << 20,
        hidden_object_cap: Some(3),
        reject: Some("000000000004".into()),
        ..Config::default()
    })
    .await;
    let client = quick_client(Auth::None);
    let c = collection(&client, &base).await;
    let texts: Vec<String> = (0..10).map(indicator).collect();
    let objects: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut splits = 0;
    let report = client
        .push(&c, &objects, &PushOptions::default(), &mut |p| {
            if matches!(p, PushProgress::Split { .. }) {
                splits += 1;
            }
        })
        .await
        .unwrap();
    assert!(splits > 0);
    assert_eq!(report.success_count, 9);
    assert_eq!(report.failure_count, 1);
    assert_eq!(
        report.failures[0].message.as_deref(),
        Some("refused by the fake")
    );
    assert!(!report.all_succeeded());
    let fake = state.lock().unwrap();
    assert_eq!(fake.envelopes.iter().sum::<usize>(), 10);
    // Order is kept across the halving.
    let stored: Vec<&str> = fake.objects.iter().map(|(_, t)| t.as_str()).collect();
    let want: Vec<&str> = objects
        .iter()
        .copied()
        .filter(|o| !o.contains("000000000004"))
        .collect();
    assert_eq!(stored, want);
}

#[tokio::test]
async fn oversize_object_is_a_local_failure() {
    let (state, base) = start(Config {
        tokens: true,
        max_content_length: 200,
        ..Config::default()
    })
    .await;
    let client = quick_client(Auth::None);
    let c = collection(&client, &base).await;
    let big = format!(
        r#"{{"type":"note","id":"note--00000000-0000-4000-8000-000000000001","content":"{}"}}"#,
        "x".repeat(300)
    );
    let small = indicator(2);
    let report = client
        .push(&c, &[&big, &small], &PushOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!((report.success_count, report.failure_count), (1, 1));
    assert_eq!(
        report.failures[0].id,
        "note--00000000-0000-4000-8000-000000000001"
    );
    assert!(
        report.failures[0]
            .message
            .as_deref()
            .unwrap()
            .contains("max_content_length")
    );
    assert_eq!(state.lock().unwrap().objects.len(), 1);
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    // Bind and drop to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = quick_client(Auth::None);
    let err = client
        .resolve_api_root(&format!("http://127.0.0.1:{port}"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Transport { .. }), "{err}");
}

#[test]
fn backoff_grows_and_is_capped() {
    let p = RetryPolicy {
        max_retries: 10,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
    };
    for attempt in 0..40 {
        let d = p.backoff(attempt);
        assert!(d <= Duration::from_secs(1), "{attempt}: {d:?}");
    }
    assert!(p.backoff(0) >= Duration::from_millis(50));
    assert!(p.backoff(3) >= Duration::from_millis(400));
}

#[test]
fn check_objects_finds_the_bad_one() {
    assert!(check_objects(&[r#"{"id":"x--1"}"#]).is_ok());
    let err = check_objects(&[r#"{"id":"x--1"}"#, "[1]"]).unwrap_err();
    assert!(
        matches!(err, ClientError::BadObject { index: 1, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn pull_follows_a_token_reused_for_every_page() {
    let (state, base) = start(Config {
        sticky_tokens: true,
        max_content_length: 1 << 20,
        ..Config::default()
    })
    .await;
    let client = quick_client(Auth::None);
    let c = collection(&client, &base).await;
    let texts: Vec<String> = (0..10).map(indicator).collect();
    {
        let mut fake = state.lock().unwrap();
        for (i, t) in texts.iter().enumerate() {
            fake.objects
                .push((format!("2024-01-01T00:00:00.{:06}Z", i + 1), t.clone()));
        }
    }
    let filter = Filter {
        limit: Some(4),
        ..Filter::default()
    };
    let all = client.objects(&c, filter).collect_all().await.unwrap();
    let got: Vec<&str> = all.iter().map(|o| o.get()).collect();
    assert_eq!(got, texts);
}
