//! Integration tests: the real server, in-process on `127.0.0.1:0`, over a SQLite store
//! in a temporary directory, driven over HTTP with reqwest (STYLE.md: one test binary per
//! crate, tests own their resources).
//!
//! Modules by concern: `routes` (every route's happy path), `negotiation` (406/415 and
//! error messages), `paging` (filters, `next`, concurrent writers), `limits` (413/422),
//! `access` (authn, authz, TLP on write and read), `log` (the transparency log's routes).

mod access;
mod limits;
mod log;
mod negotiation;
mod paging;
mod queue;
mod routes;
mod ui;
mod ui_admin;
mod ui_push;
mod witness;

use std::sync::Arc;

use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use server::{AppState, Config};
use store::{CollectionFlags, Grant, NewCollection, Store};
use tokio::sync::oneshot;

/// The TAXII 2.1 media type.
pub const TAXII: &str = "application/taxii+json;version=2.1";

/// TLP 2.0 marking-definition ids (oasis-open/cti-stix-common-objects).
pub mod tlp {
    /// TLP:CLEAR.
    pub const CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
    /// TLP:GREEN.
    pub const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    /// TLP:AMBER.
    pub const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
    /// TLP:AMBER+STRICT.
    pub const AMBER_STRICT: &str = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
    /// TLP:RED.
    pub const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
    /// TLP 1.0 AMBER (STIX 2.1 §7.2.1.4), which maps to the same level.
    pub const AMBER_V1: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
    /// A marking no TLP scheme defines: treated as RED.
    pub const UNKNOWN: &str = "marking-definition--00000000-1111-4222-8333-444444444444";
}

/// A running server and what the tests need to talk to it.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The store behind the server, for set-up.
    pub store: Arc<dyn Store>,
    /// The bootstrap administrator's token (organization `admin`).
    pub admin: String,
    /// Id of the bootstrap collection `shared` (admin organization: read-write).
    pub shared: String,
    http: Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), server::ServerError>>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server with default limits.
    pub async fn start() -> TestServer {
        TestServer::with_config(Config::default()).await
    }

    /// Starts a server with `config`.
    pub async fn with_config(config: Config) -> TestServer {
        TestServer::with_log(config, log::signer()).await
    }

    /// Starts a server with default limits and queued ingest (`server::queue`): POSTs are
    /// answered `pending` and stored by one writer task.
    pub async fn start_queued() -> TestServer {
        TestServer::build(Config::default(), log::signer(), true).await
    }

    /// Starts a server with `config` whose transparency log is signed by `log_signer`.
    pub async fn with_log(
        config: Config,
        log_signer: server::routes::log::LogSigner,
    ) -> TestServer {
        TestServer::build(config, log_signer, false).await
    }

    async fn build(
        config: Config,
        log_signer: server::routes::log::LogSigner,
        queued: bool,
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let boot = store::bootstrap::ensure_initialized(dir.path())
            .await
            .expect("bootstrap");
        let store = boot.store;
        let admin = boot.admin_token.expect("first start yields a token");
        let shared = store
            .list_collections(Some("default"))
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.title == "shared")
            .expect("shared collection")
            .id;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let mut state = AppState::new(store.clone(), config).with_log(log_signer);
        if queued {
            state = state.with_ingest_queue();
        }
        let task = tokio::spawn(server::run(listener, state, async {
            let _ = rx.await;
        }));
        TestServer {
            base,
            store,
            admin,
            shared,
            http: Client::new(),
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Stops accepting, waits for requests in flight, and returns how `run` ended.
    pub async fn stop(mut self) -> Result<(), server::ServerError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task.await.expect("server task"),
            None => Ok(()),
        }
    }

    /// An organization with one user and that user's token.
    pub async fn user(&self, org: &str, user: &str) -> String {
        if self.store.org(org).await.unwrap().is_none() {
            self.store.create_org(org).await.unwrap();
        }
        self.store.create_user(user, org, false).await.unwrap();
        self.store.create_token(user).await.unwrap().secret
    }

    /// Sets a collection's public-read flag behind the server's back, as an operator
    /// changing policy on a live installation would; the store offers no API for it, so
    /// this goes to the SQLite file directly (test-only).
    pub fn set_public_read(&self, collection: &str, public: bool) {
        let db = rusqlite::Connection::open(self._dir.path().join(store::sqlite::DB_FILE)).unwrap();
        let n = db
            .execute(
                "UPDATE collections SET public_read = ?1 WHERE id = ?2",
                rusqlite::params![public, collection],
            )
            .unwrap();
        assert_eq!(n, 1);
    }

    /// A new collection under `default`.
    pub async fn collection(&self, title: &str, public_read: bool, restricted: bool) -> String {
        self.store
            .create_collection(&NewCollection {
                api_root: "default".into(),
                title: title.into(),
                flags: CollectionFlags {
                    public_read,
                    restricted,
                },
                ..NewCollection::default()
            })
            .await
            .unwrap()
            .id
    }

    /// Grants an organization access to a collection.
    pub async fn grant(&self, collection: &str, org: &str, grant: Grant) {
        self.store.grant_org(collection, org, grant).await.unwrap();
    }

    /// Grants a user individual access to a (restricted) collection.
    pub async fn grant_user(&self, collection: &str, user: &str, grant: Grant) {
        self.store
            .grant_user(collection, user, grant)
            .await
            .unwrap();
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `/default/collections/{id}/objects/`.
    pub fn objects_url(&self, collection: &str) -> String {
        self.url(&format!("/default/collections/{collection}/objects/"))
    }

    /// A GET with the TAXII Accept header and, if given, a bearer token.
    pub fn get(&self, url: &str, token: Option<&str>) -> RequestBuilder {
        auth(self.http.get(url).header("Accept", TAXII), token)
    }

    /// A POST of an envelope holding `objects`.
    pub async fn post(&self, collection: &str, token: Option<&str>, objects: &[Value]) -> Response {
        self.post_raw(
            &self.objects_url(collection),
            token,
            TAXII,
            json!({ "objects": objects }).to_string(),
        )
        .await
    }

    /// A POST with an explicit content type and body.
    pub async fn post_raw(
        &self,
        url: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        auth(
            self.http
                .post(url)
                .header("Accept", TAXII)
                .header("Content-Type", content_type)
                .body(body),
            token,
        )
        .send()
        .await
        .unwrap()
    }

    /// A DELETE.
    pub fn delete(&self, url: &str, token: Option<&str>) -> RequestBuilder {
        auth(self.http.delete(url).header("Accept", TAXII), token)
    }

    /// POSTs objects and asserts that every one succeeded; returns the status resource.
    pub async fn add(&self, collection: &str, token: &str, objects: &[Value]) -> Value {
        let r = self.post(collection, Some(token), objects).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let status: Value = r.json().await.unwrap();
        assert_eq!(status["status"], "complete");
        assert_eq!(
            status["success_count"].as_u64(),
            Some(objects.len() as u64),
            "{status}"
        );
        status
    }

    /// The ids of the objects a GET of the objects endpoint returns.
    pub async fn ids(&self, collection: &str, token: Option<&str>, query: &str) -> Vec<String> {
        let r = self
            .get(&format!("{}?{query}", self.objects_url(collection)), token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{query}");
        let env: Value = r.json().await.unwrap();
        env["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn auth(request: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(t) => request.bearer_auth(t),
        None => request,
    }
}

/// A fresh random STIX id of `kind`.
pub fn new_id(kind: &str) -> String {
    format!("{kind}--{}", uuid::Uuid::new_v4())
}

/// A valid indicator version.
pub fn indicator(id: &str, modified: &str) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2024-05-01T00:00:00.000Z", "modified": modified,
        "name": "test", "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix", "valid_from": "2024-05-01T00:00:00Z"
    })
}

/// A valid indicator marked with `marking`.
pub fn marked(id: &str, marking: &str) -> Value {
    let mut v = indicator(id, "2024-05-01T00:00:00.000Z");
    v["object_marking_refs"] = json!([marking]);
    v
}

/// Asserts that a response is a TAXII error message with `status`.
pub async fn assert_error(r: Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        TAXII,
        "error content type"
    );
    let body: Value = r.json().await.unwrap();
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert_eq!(body["http_status"], status.as_u16().to_string());
    body
}
