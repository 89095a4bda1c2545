//! `entente witness` through the real binary: it prints its key and URL, cosigns a log's
//! checkpoint over HTTP (the line verifies with the printed key), and stops on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn cosigns_over_http_with_the_printed_key() {
    let dir = tempfile::tempdir().unwrap();
    let log = tlog::Ed25519Signer::from_seed("entente/log.example", &[3; 32]).unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("entente"))
        .args([
            "witness",
            "--listen",
            "127.0.0.1:0",
            "--name",
            "witness.example/w",
        ])
        .args(["--key", &log.vkey(), "--data"])
        .arg(dir.path().join("w"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..2 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        lines.push(line.trim_end().to_owned());
    }
    let vkey = lines[0].strip_prefix("witness key: ").expect("key line");
    let verifier = tlog::CosignatureVerifier::from_vkey(vkey).unwrap();
    let url = lines[1].clone();
    assert!(url.ends_with("/add-checkpoint"), "{url}");

    let mut tree = tlog::MemoryStore::new();
    tree.push(b"one");
    tree.push(b"two");
    let c = tlog::Checkpoint::new("entente/log.example", tree.size(), tree.root());
    let note = tlog::sign(&c.to_text().unwrap(), &[], &[&log]).unwrap();
    let body = tlog::witness::AddCheckpoint {
        old: 0,
        proof: vec![],
        checkpoint: note.clone().into_bytes(),
    }
    .to_bytes();
    let (status, line) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let r = reqwest::Client::new()
                .post(&url)
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        });
    assert_eq!(status, 200, "{line}");
    tlog::open(format!("{note}{line}").as_bytes(), &[&verifier]).expect("cosignature verifies");

    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        assert!(child.wait().unwrap().success(), "SIGTERM is a clean stop");
    }
    #[cfg(not(unix))]
    {
        let _ = child.kill();
        let _ = child.wait();
    }
}
