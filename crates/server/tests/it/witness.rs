//! The C2SP tlog-witness endpoint: cosigns a consistent, signed checkpoint (the
//! `cosignature/v1` line verifies), persists its state, and answers each failure with the
//! status the spec assigns (404, 403, 400, 409 with the known size, 422).

use std::sync::Arc;

use reqwest::StatusCode;
use server::witness::Witness;
use tlog::witness::AddCheckpoint;
use tlog::{Checkpoint, CosignatureVerifier, Ed25519Signer, MemoryStore};

const LOG: &str = "entente/log.example";

struct Log {
    key: Ed25519Signer,
    tree: MemoryStore,
}

impl Log {
    fn new(seed: u8) -> Log {
        Log {
            key: Ed25519Signer::from_seed(LOG, &[seed; 32]).unwrap(),
            tree: MemoryStore::new(),
        }
    }

    fn grow(&mut self, n: usize) {
        for i in 0..n {
            self.tree
                .push(format!("entry {} {i}", self.tree.size()).as_bytes());
        }
    }

    fn checkpoint(&self) -> (Checkpoint, String) {
        let c = Checkpoint::new(LOG, self.tree.size(), self.tree.root());
        let note = tlog::sign(&c.to_text().unwrap(), &[], &[&self.key]).unwrap();
        (c, note)
    }

    /// An add-checkpoint body from `old` to the current tree.
    fn request(&self, old: u64) -> Vec<u8> {
        let proof = tlog::consistency_proof(&self.tree, old, self.tree.size()).unwrap();
        AddCheckpoint {
            old,
            proof,
            checkpoint: self.checkpoint().1.into_bytes(),
        }
        .to_bytes()
    }
}

async fn serve(witness: Arc<Witness>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/add-checkpoint", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, server::witness::router(witness)).await;
    });
    url
}

async fn post(url: &str, body: Vec<u8>) -> (StatusCode, Option<String>, String) {
    let r = reqwest::Client::new()
        .post(url)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, ct, r.text().await.unwrap())
}

#[tokio::test]
async fn cosigns_consistent_checkpoints_and_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::new(1);
    let witness = Witness::open(dir.path(), "witness.example/w1", &[log.key.vkey()]).unwrap();
    let verifier = CosignatureVerifier::from_vkey(&witness.vkey()).unwrap();
    let url = serve(Arc::new(witness)).await;

    log.grow(5);
    let (status, _, line) = post(&url, log.request(0)).await;
    assert_eq!(status, StatusCode::OK, "{line}");
    // The cosignature line, appended to the note, verifies with the witness's key.
    let (_, note) = log.checkpoint();
    let cosigned = format!("{note}{line}");
    tlog::open(cosigned.as_bytes(), &[&verifier]).expect("cosignature/v1 verifies");

    log.grow(7);
    let (status, _, _) = post(&url, log.request(5)).await;
    assert_eq!(status, StatusCode::OK);

    // A stale old size: 409 with the size the witness knows.
    let (status, ct, body) = post(&url, log.request(5)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(ct.as_deref(), Some("text/x.tlog.size"));
    assert_eq!(body, "12\n");

    // A fork: another tree of a later size, with a proof from the honest tree → 422.
    let mut fork = Log::new(1);
    fork.grow(20);
    let (status, _, _) = post(&url, fork.request(12)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Signed by another key → 403; another origin → 404; garbage → 400.
    let mut stranger = Log::new(2);
    stranger.grow(13);
    assert_eq!(
        post(&url, stranger.request(12)).await.0,
        StatusCode::FORBIDDEN
    );
    let other = Ed25519Signer::from_seed("other/log", &[1; 32]).unwrap();
    let c = Checkpoint::new("other/log", 1, [0; 32]);
    let body = AddCheckpoint {
        old: 0,
        proof: vec![],
        checkpoint: tlog::sign(&c.to_text().unwrap(), &[], &[&other])
            .unwrap()
            .into_bytes(),
    }
    .to_bytes();
    assert_eq!(post(&url, body).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        post(&url, b"nonsense".to_vec()).await.0,
        StatusCode::BAD_REQUEST
    );
    // old > new → 400.
    let (status, _, _) = post(&url, {
        let mut r = AddCheckpoint::parse(&log.request(5)).unwrap();
        r.old = 99;
        r.proof.clear();
        r.to_bytes()
    })
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The state survives a restart: the reopened witness knows size 12.
    let witness = Witness::open(dir.path(), "ignored/name", &[log.key.vkey()]).unwrap();
    assert_eq!(
        CosignatureVerifier::from_vkey(&witness.vkey())
            .unwrap()
            .vkey(),
        verifier.vkey(),
        "the key is made once"
    );
    let url = serve(Arc::new(witness)).await;
    let (status, _, body) = post(&url, log.request(0)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body, "12\n");
}

/// The checkpoint the server serves, polled until its tree has `size` entries (with
/// witnesses, a new checkpoint is published once they answered, in the background).
async fn checkpoint_of_size(s: &crate::TestServer, size: u64) -> Vec<u8> {
    for _ in 0..200 {
        let note = reqwest::get(s.url("/log/checkpoint"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        if String::from_utf8_lossy(&note).contains(&format!("\n{size}\n")) {
            return note.to_vec();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no checkpoint of size {size} was published within 10 s");
}

/// The log asks its witness to cosign each new checkpoint and serves the cosigned note;
/// the witness follows the log as it grows (consistency proofs from the size it knows).
#[tokio::test]
async fn the_log_serves_checkpoints_cosigned_by_its_witness() {
    let dir = tempfile::tempdir().unwrap();
    let log_key = crate::log::key();
    let witness = Witness::open(dir.path(), "witness.example/w2", &[log_key.vkey()]).unwrap();
    let cosigner = CosignatureVerifier::from_vkey(&witness.vkey()).unwrap();
    let url = serve(Arc::new(witness)).await;
    let signer = server::routes::log::LogSigner::new(log_key.clone(), std::time::Duration::ZERO)
        .with_witnesses(vec![url]);
    let s = crate::TestServer::with_log(server::Config::default(), signer).await;
    let log_verifier = log_key.verifier();
    for round in 0..3u64 {
        let objects: Vec<_> = (0..3)
            .map(|_| crate::indicator(&crate::new_id("indicator"), "2024-05-01T00:00:00.000Z"))
            .collect();
        s.add(&s.shared, &s.admin, &objects).await;
        let note = checkpoint_of_size(&s, 3 * (round + 1)).await;
        let opened = tlog::open(&note, &[&log_verifier, &cosigner]).unwrap();
        assert_eq!(
            opened.verified.len(),
            2,
            "log and witness signed round {round}"
        );
    }
}

/// A witness that does not answer never delays a reader: while it holds the request for a
/// new checkpoint, readers get the previous cosigned one; once it answers, the new one is
/// published with its cosignature.
#[tokio::test]
async fn a_stalled_witness_does_not_delay_checkpoint_readers() {
    let dir = tempfile::tempdir().unwrap();
    let log_key = crate::log::key();
    let witness =
        Arc::new(Witness::open(dir.path(), "witness.example/slow", &[log_key.vkey()]).unwrap());
    let cosigner = CosignatureVerifier::from_vkey(&witness.vkey()).unwrap();
    // Each request to this witness waits for a permit before the real witness sees it.
    let gate = Arc::new(tokio::sync::Semaphore::new(1));
    let real = serve(witness.clone()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/add-checkpoint", listener.local_addr().unwrap());
    let gated = axum::Router::new().route(
        "/add-checkpoint",
        axum::routing::post({
            let gate = gate.clone();
            move |body: axum::body::Bytes| async move {
                gate.acquire().await.unwrap().forget();
                let (status, _, text) = post(&real, body.to_vec()).await;
                (
                    axum::http::StatusCode::from_u16(status.as_u16()).unwrap(),
                    text,
                )
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, gated).await;
    });
    let signer = server::routes::log::LogSigner::new(log_key.clone(), std::time::Duration::ZERO)
        .with_witnesses(vec![url]);
    let s = crate::TestServer::with_log(server::Config::default(), signer).await;
    let verifiers = [&log_key.verifier() as &dyn tlog::NoteVerifier, &cosigner];
    let objects = |n| -> Vec<_> {
        (0..n)
            .map(|_| crate::indicator(&crate::new_id("indicator"), "2024-05-01T00:00:00.000Z"))
            .collect()
    };
    s.add(&s.shared, &s.admin, &objects(2)).await;
    let first = checkpoint_of_size(&s, 2).await;
    assert_eq!(tlog::open(&first, &verifiers).unwrap().verified.len(), 2);

    // The gate is shut: the witness cannot answer for the next checkpoint.
    s.add(&s.shared, &s.admin, &objects(3)).await;
    for _ in 0..3 {
        let note = tokio::time::timeout(
            std::time::Duration::from_secs(3),
            reqwest::get(s.url("/log/checkpoint")),
        )
        .await
        .expect("a reader waited for the stalled witness")
        .unwrap()
        .bytes()
        .await
        .unwrap();
        assert_eq!(
            note, first,
            "the previous cosigned checkpoint is served meanwhile"
        );
    }
    gate.add_permits(1);
    let second = checkpoint_of_size(&s, 5).await;
    assert_eq!(tlog::open(&second, &verifiers).unwrap().verified.len(), 2);
}
