//! C2SP tlog-witness `add-checkpoint`: the spec's example body, and each check with the
//! status the spec gives it.

use tlog::witness::{AddCheckpoint, add_checkpoint_status, check_add_checkpoint};
use tlog::{
    Checkpoint, Ed25519Signer, Error, Hash, MemoryStore, consistency_proof, empty_root, root, sign,
};

use crate::data_path;

#[test]
fn spec_example_body() {
    let body = std::fs::read(data_path("witness/add-checkpoint-example.txt")).unwrap();
    let req = AddCheckpoint::parse(&body).unwrap();
    assert_eq!(req.old, 20852014);
    assert_eq!(req.proof.len(), 4);
    assert_eq!(req.origin().unwrap(), "example.com/behind-the-sofa");
    assert_eq!(req.to_bytes(), body);
}

#[test]
fn malformed_bodies() {
    let h = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n";
    for bad in [
        "".to_owned(),
        "old 1".to_owned(),
        "old 01\n\n".to_owned(),
        "old -1\n\n".to_owned(),
        "new 1\n\n".to_owned(),
        format!("old 1\n{h}"),
        "old 1\nnot base64\n\n".to_owned(),
        format!("old 1\n{}\n", h.repeat(64)),
    ] {
        let e = AddCheckpoint::parse(bad.as_bytes()).unwrap_err();
        assert_eq!(add_checkpoint_status(&e), 400, "{bad:?}");
    }
    AddCheckpoint::parse(format!("old 1\n{}\n", h.repeat(63)).as_bytes()).unwrap();
}

struct Log {
    store: MemoryStore,
    key: Ed25519Signer,
}

impl Log {
    fn signed(&self, size: u64) -> Vec<u8> {
        let c = Checkpoint::new(
            "entente.example/log",
            size,
            root(&self.store, size).unwrap(),
        );
        sign(&c.to_text().unwrap(), &[], &[&self.key])
            .unwrap()
            .into_bytes()
    }
    fn request(&self, old: u64, new: u64) -> AddCheckpoint {
        AddCheckpoint {
            old,
            proof: consistency_proof(&self.store, old, new).unwrap(),
            checkpoint: self.signed(new),
        }
    }
    fn head(&self, size: u64) -> (u64, Hash) {
        (size, root(&self.store, size).unwrap())
    }
}

fn status(r: tlog::Result<impl Sized>) -> u16 {
    match r {
        Ok(_) => 200,
        Err(e) => add_checkpoint_status(&e),
    }
}

#[test]
fn witness_checks_in_spec_order() {
    let mut store = MemoryStore::new();
    for i in 0..100u32 {
        store.push(&i.to_be_bytes());
    }
    let log = Log {
        store,
        key: Ed25519Signer::from_seed("entente.example/log", &[9; 32]).unwrap(),
    };
    let v = log.key.verifier();
    let trusted: [&dyn tlog::NoteVerifier; 1] = [&v];

    // First contact: old 0, no proof.
    let (c, _) = check_add_checkpoint(&log.request(0, 10), &trusted, None).unwrap();
    assert_eq!(c.size, 10);
    // Growth with a proof from what the witness holds.
    let req = log.request(10, 100);
    assert_eq!(
        status(check_add_checkpoint(&req, &trusted, Some(log.head(10)))),
        200
    );
    // The same size again with the same root is fine, a different root is a fork.
    assert_eq!(
        status(check_add_checkpoint(
            &log.request(10, 10),
            &trusted,
            Some(log.head(10))
        )),
        200
    );
    let other = Log {
        store: {
            let mut s = MemoryStore::new();
            for i in 0..10u32 {
                s.push(&(i + 1).to_be_bytes());
            }
            s
        },
        key: log.key.clone(),
    };
    let fork = other.request(10, 10);
    assert!(matches!(
        check_add_checkpoint(&fork, &trusted, Some(log.head(10))),
        Err(Error::EqualSizeRootMismatch { .. })
    ));
    assert_eq!(
        status(check_add_checkpoint(&fork, &trusted, Some(log.head(10)))),
        422
    );

    // 409 with the witness's size when the client's old size is stale.
    let r = check_add_checkpoint(&log.request(10, 100), &trusted, Some(log.head(50)));
    assert!(matches!(r, Err(Error::OldSizeMismatch { latest: 50 })));
    assert_eq!(status(r), 409);
    // 400 when old > new.
    let mut req = log.request(10, 10);
    req.old = 11;
    assert_eq!(
        status(check_add_checkpoint(&req, &trusted, Some(log.head(11)))),
        400
    );
    // 422 for a bad proof, and for a proof sent with old 0.
    let mut req = log.request(10, 100);
    req.proof[0][0] ^= 1;
    assert_eq!(
        status(check_add_checkpoint(&req, &trusted, Some(log.head(10)))),
        422
    );
    let mut req = log.request(0, 100);
    req.proof = log.request(10, 100).proof;
    assert_eq!(status(check_add_checkpoint(&req, &trusted, None)), 422);
    // 403 when no trusted key signed it.
    let stranger = Ed25519Signer::from_seed("entente.example/log", &[10; 32]).unwrap();
    let sv = stranger.verifier();
    assert_eq!(
        status(check_add_checkpoint(&log.request(0, 10), &[&sv], None)),
        403
    );
    // A size-zero checkpoint must carry the empty-tree root.
    let zero = |r: Hash| {
        let c = Checkpoint::new("entente.example/log", 0, r);
        AddCheckpoint {
            old: 0,
            proof: vec![],
            checkpoint: sign(&c.to_text().unwrap(), &[], &[&log.key])
                .unwrap()
                .into_bytes(),
        }
    };
    assert_eq!(
        status(check_add_checkpoint(&zero(empty_root()), &trusted, None)),
        200
    );
    assert_eq!(
        status(check_add_checkpoint(&zero([1; 32]), &trusted, None)),
        422
    );
}
