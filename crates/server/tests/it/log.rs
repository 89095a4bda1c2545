//! The transparency log over HTTP (issue 6, item 3): after a TAXII ingest, the checkpoint
//! verifies with the log's verifier key, each posted object's recomputed entry (DESIGN.md)
//! is included (RFC 9162 §2.1.3), two checkpoints are consistent (§2.1.4), tiles agree with
//! the checkpoint (C2SP tlog-tiles), and lookups follow the read rules.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use server::routes::log::LogSigner;
use tlog::{Checkpoint, Ed25519Signer, Ed25519Verifier, open_checkpoint};

use crate::{TestServer, assert_error, indicator, new_id};

/// The test log's origin.
pub const ORIGIN: &str = "entente/test.example";

/// The signer every test server uses; interval zero so a grown tree is signed at once.
pub fn signer() -> LogSigner {
    LogSigner::new(key(), Duration::ZERO)
}

/// The test log's signing key.
pub fn key() -> Ed25519Signer {
    Ed25519Signer::from_seed(ORIGIN, &[7; 32]).expect("test key")
}

/// GETs `/log/<path>` without a token.
async fn get(s: &TestServer, path: &str) -> reqwest::Response {
    reqwest::get(s.url(&format!("/log/{path}"))).await.unwrap()
}

/// Fetches and verifies the checkpoint.
async fn checkpoint(s: &TestServer) -> Checkpoint {
    let r = get(s, "checkpoint").await;
    assert_eq!(r.status(), StatusCode::OK);
    let cache = r.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(!cache.contains("immutable"), "{cache}");
    let note = r.bytes().await.unwrap();
    let verifier = Ed25519Verifier::from_vkey(&key().vkey()).unwrap();
    let (c, _) = open_checkpoint(&note, &[&verifier]).expect("signed by the log key");
    assert_eq!(c.origin, ORIGIN);
    c
}

/// Each stored object's exact text, from a TAXII GET (what a holder gets back).
async fn raw_objects(s: &TestServer, collection: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        objects: Vec<&'a serde_json::value::RawValue>,
    }
    let text = s
        .get(&s.objects_url(collection), Some(&s.admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let env: Envelope = serde_json::from_str(&text).unwrap();
    env.objects.iter().map(|o| o.get().to_owned()).collect()
}

/// date_added of each (id, version), from the manifest (all versions).
async fn date_added(s: &TestServer, collection: &str, id: &str, version: &str) -> String {
    let url = s.url(&format!(
        "/default/collections/{collection}/manifest/?match[version]=all"
    ));
    let m: Value = s
        .get(&url, Some(&s.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    m["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id && e["version"] == version)
        .unwrap_or_else(|| panic!("{id} {version} in the manifest"))["date_added"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn hashes(v: &Value) -> Vec<tlog::Hash> {
    v["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| tlog::checkpoint::parse_hash(h.as_str().unwrap()).expect("base64 hash"))
        .collect()
}

/// Every posted object's entry is recomputed by its holder and proven included.
async fn check_objects_included(s: &TestServer, c: &Checkpoint) -> usize {
    let objects = raw_objects(s, &s.shared).await;
    for raw in &objects {
        let v: Value = serde_json::from_str(raw).unwrap();
        let (id, version) = (v["id"].as_str().unwrap(), v["modified"].as_str().unwrap());
        let added = date_added(s, &s.shared, id, version).await;
        let entry = tlog::entry_bytes(
            tlog::LogOp::Add,
            &s.shared,
            id,
            version,
            &added,
            raw.as_bytes(),
        );
        let url = s.url(&format!(
            "/log/lookup?collection={}&id={id}&version={version}",
            s.shared
        ));
        let r = s.get(&url, Some(&s.admin)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let found: Value = r.json().await.unwrap();
        assert_eq!(found["entry"].as_str().unwrap().as_bytes(), &entry[..]);
        let index = found["index"].as_u64().unwrap();
        let r = get(s, &format!("proof/inclusion?index={index}&size={}", c.size)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let proof: Value = r.json().await.unwrap();
        assert_eq!(proof["index"], index);
        assert_eq!(proof["size"], c.size);
        tlog::verify_inclusion(
            &tlog::leaf_hash(&entry),
            index,
            c.size,
            &hashes(&proof),
            &c.root,
        )
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    objects.len()
}

#[tokio::test]
async fn ingest_then_verify_checkpoint_inclusion_and_consistency() {
    let s = TestServer::start().await;
    let first: Vec<Value> = (0..5)
        .map(|_| indicator(&new_id("indicator"), "2024-05-01T00:00:00.000Z"))
        .collect();
    s.add(&s.shared, &s.admin, &first).await;
    let c1 = checkpoint(&s).await;
    assert_eq!(c1.size, 5);
    assert_eq!(check_objects_included(&s, &c1).await, 5);

    let second: Vec<Value> = (0..300)
        .map(|_| indicator(&new_id("indicator"), "2024-06-01T00:00:00.000Z"))
        .collect();
    s.add(&s.shared, &s.admin, &second).await;
    let c2 = checkpoint(&s).await;
    assert_eq!(c2.size, 305);
    let r = get(
        &s,
        &format!("proof/consistency?old={}&size={}", c1.size, c2.size),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let proof: Value = r.json().await.unwrap();
    assert_eq!(
        (proof["old"].as_u64(), proof["size"].as_u64()),
        (Some(5), Some(305))
    );
    tlog::verify_consistency(c1.size, c2.size, &c1.root, &c2.root, &hashes(&proof))
        .expect("consistent history");
    assert_eq!(check_objects_included(&s, &c2).await, 305);

    // Beyond the checkpoint: refused.
    let r = get(&s, "proof/inclusion?index=0&size=306").await;
    assert_error(r, StatusCode::BAD_REQUEST).await;
    let r = get(&s, "proof/inclusion?index=x&size=3").await;
    assert_error(r, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn tiles_rebuild_the_checkpointed_tree() {
    let s = TestServer::start().await;
    let objects: Vec<Value> = (0..260)
        .map(|_| indicator(&new_id("indicator"), "2024-05-01T00:00:00.000Z"))
        .collect();
    s.add(&s.shared, &s.admin, &objects).await;
    let c = checkpoint(&s).await;
    assert_eq!(c.size, 260);
    // One full tile and a partial one of width 4 at level 0; level 1 has a partial of 1.
    let mut entries = Vec::new();
    for (path, width) in [("tile/entries/000", 256), ("tile/entries/001.p/4", 4)] {
        let r = get(&s, path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(
            r.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let body = r.bytes().await.unwrap();
        let bundle = tlog::tiles::decode_entry_bundle(&body).unwrap();
        assert_eq!(bundle.len(), width);
        entries.extend(bundle.into_iter().map(<[u8]>::to_vec));
    }
    let mut leaves = Vec::new();
    for (path, width) in [("tile/0/000", 256), ("tile/0/001.p/4", 4)] {
        let r = get(&s, path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        leaves.extend(tlog::tiles::tile_hashes(&r.bytes().await.unwrap(), width).unwrap());
    }
    let level1 = get(&s, "tile/1/000.p/1").await.bytes().await.unwrap();
    let mut tree = tlog::MemoryStore::new();
    for (entry, leaf) in entries.iter().zip(&leaves) {
        assert_eq!(tlog::leaf_hash(entry), *leaf);
        tree.push(entry);
    }
    assert_eq!(tree.root(), c.root, "tiles rebuild the checkpointed tree");
    assert_eq!(
        level1.as_ref(),
        tlog::tiles::tile_data(
            &tree,
            &tlog::tiles::Tile {
                level: 1,
                index: 0,
                width: 1
            }
        )
        .unwrap()
    );
    // A narrower partial tile is an earlier checkpoint's, the same bytes as a prefix of
    // this one's: a reader that fetched that checkpoint just before this one still gets it.
    let narrower = get(&s, "tile/entries/001.p/2").await;
    assert_eq!(narrower.status(), StatusCode::OK);
    let body = narrower.bytes().await.unwrap();
    let bundle = tlog::tiles::decode_entry_bundle(&body).unwrap();
    assert_eq!(
        bundle,
        entries[256..258]
            .iter()
            .map(Vec::as_slice)
            .collect::<Vec<_>>()
    );
    // Tiles beyond the checkpoint, or wider than it has, do not exist.
    for path in [
        "tile/0/002",
        "tile/0/001.p/5",
        "tile/entries/001",
        "tile/0/01",
    ] {
        assert_eq!(
            get(&s, path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn lookup_needs_read_access() {
    let s = TestServer::start().await;
    let id = new_id("indicator");
    let version = "2024-05-01T00:00:00.000Z";
    s.add(&s.shared, &s.admin, &[indicator(&id, version)]).await;
    let url = s.url(&format!(
        "/log/lookup?collection={}&id={id}&version={version}",
        s.shared
    ));
    assert_eq!(
        s.get(&url, Some(&s.admin)).send().await.unwrap().status(),
        StatusCode::OK
    );
    // An outsider and an anonymous caller learn nothing.
    let outsider = s.user("other", "mallory").await;
    assert_error(
        s.get(&url, Some(&outsider)).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        s.get(&url, None).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    // An unknown version is a 404 too.
    let other = url.replace("2024-05-01", "2024-05-02");
    assert_error(
        s.get(&other, Some(&s.admin)).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
}

/// A GET of one object version carries `X-Entente-Log-Index`, and that index proves the
/// version's recomputed entry included; an answer of several versions carries none.
#[tokio::test]
async fn single_object_get_carries_its_log_index() {
    let s = TestServer::start().await;
    let id = new_id("indicator");
    let (v1, v2) = ("2024-05-01T00:00:00.000Z", "2024-06-01T00:00:00.000Z");
    s.add(&s.shared, &s.admin, &[indicator(&new_id("indicator"), v1)])
        .await;
    s.add(&s.shared, &s.admin, &[indicator(&id, v1)]).await;
    s.add(&s.shared, &s.admin, &[indicator(&id, v2)]).await;
    let c = checkpoint(&s).await;
    assert_eq!(c.size, 3);
    let object_url = |query: &str| {
        s.url(&format!(
            "/default/collections/{}/objects/{id}/?{query}",
            s.shared
        ))
    };
    for (version, expected) in [(v1, 1), (v2, 2)] {
        let r = s
            .get(
                &object_url(&format!("match[version]={version}")),
                Some(&s.admin),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let index: u64 = r.headers()["x-entente-log-index"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(index, expected);
        #[derive(serde::Deserialize)]
        struct Envelope<'a> {
            #[serde(borrow)]
            objects: Vec<&'a serde_json::value::RawValue>,
        }
        let text = r.text().await.unwrap();
        let env: Envelope = serde_json::from_str(&text).unwrap();
        let [raw] = env.objects.as_slice() else {
            panic!("one version: {text}")
        };
        let added = date_added(&s, &s.shared, &id, version).await;
        let entry = tlog::entry_bytes(
            tlog::LogOp::Add,
            &s.shared,
            &id,
            version,
            &added,
            raw.get().as_bytes(),
        );
        let r = get(
            &s,
            &format!("proof/inclusion?index={index}&size={}", c.size),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let proof: Value = r.json().await.unwrap();
        tlog::verify_inclusion(
            &tlog::leaf_hash(&entry),
            index,
            c.size,
            &hashes(&proof),
            &c.root,
        )
        .unwrap_or_else(|e| panic!("{id} {version}: {e}"));
    }
    // The default (`last`) is one version too; `all` is two, without the header.
    let r = s.get(&object_url(""), Some(&s.admin)).send().await.unwrap();
    assert_eq!(r.headers()["x-entente-log-index"], "2");
    let r = s
        .get(&object_url("match[version]=all"), Some(&s.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("x-entente-log-index").is_none());
}
