//! `entente witness` through the real binary: it prints its key and URL, cosigns a log's
//! checkpoint over HTTP (the line verifies with the printed key), and stops on SIGTERM;
//! `entente serve --witness` collects its cosignatures and `entente verify --witness
//! --quorum` counts them.

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

/// The whole path: a witness for the log's key, `entente serve --witness`, and
/// `entente verify --witness --quorum` accepting the cosigned checkpoint and refusing a
/// quorum the checkpoint does not meet.
#[test]
fn serve_collects_cosignatures_and_verify_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let entente = || {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("entente"));
        c.env_remove("ENTENTE_DATA").env_remove("ENTENTE_TOKEN");
        c
    };
    let out = entente()
        .args(["admin", "--data"])
        .arg(&data)
        .args(["log", "key", "--origin", "entente/serve.example"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let log_key = String::from_utf8(out.stdout).unwrap().trim_end().to_owned();

    let mut witness = entente()
        .args([
            "witness",
            "--listen",
            "127.0.0.1:0",
            "--name",
            "witness.example/w",
        ])
        .args(["--key", &log_key, "--data"])
        .arg(dir.path().join("w"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(witness.stdout.take().unwrap()).lines();
    let witness_key = lines.next().unwrap().unwrap()["witness key: ".len()..].to_owned();
    let witness_url = lines.next().unwrap().unwrap();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut serve = entente()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--witness",
        ])
        .arg(&witness_url)
        .arg("--data")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(serve.stdout.take().unwrap()).lines();
    let base = loop {
        let line = out.next().unwrap().unwrap();
        if let Some(rest) = line.strip_prefix("http://") {
            break format!("http://{}", rest.trim_end_matches("/taxii2/"));
        }
    };

    let other_witness = tlog::CosignatureSigner::from_seed("witness.example/other", &[5; 32])
        .unwrap()
        .vkey();
    let state = dir.path().join("state");
    let verify = |witnesses: &[&str], quorum: &str| {
        let mut c = entente();
        c.args(["verify", "--server", &base, "--key", &log_key, "--state"])
            .arg(&state);
        for w in witnesses {
            c.args(["--witness", w]);
        }
        c.args(["--quorum", quorum]).output().unwrap()
    };
    let out = verify(&[&witness_key], "1");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = verify(&[&witness_key, &other_witness], "1");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = verify(&[&witness_key, &other_witness], "2");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("witness quorum not met: 1 of the 2"),
        "{out:?}"
    );

    for child in [&mut serve, &mut witness] {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// `entente witness --log URL --once`: the witness follows a served log by itself (no push
/// from the log), cosigns it as it grows, and catches a server restarted from a backup that
/// forgot entries — exit 1, with both checkpoints kept as evidence — also once the log has
/// grown past the size cosigned.
#[test]
fn a_following_witness_cosigns_growth_and_catches_a_restored_backup() {
    use crate::verify::{back_up, push, restore, shared_collection, start, stop};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backup = dir.path().join("backup");
    let wdata = dir.path().join("w");
    let file = dir.path().join("bundle.json");
    let (child, token, key, base) = start(&data);
    let shared: String = shared_collection(&data);
    let follow = |base: &str| {
        Command::new(assert_cmd::cargo::cargo_bin("entente"))
            .args(["witness", "--name", "witness.example/f", "--key", &key])
            .arg("--data")
            .arg(&wdata)
            .args(["--log", base, "--once"])
            .output()
            .unwrap()
    };
    push(&base, &token, &shared, &file, 1..4);
    let out = follow(&base);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("cosigned size 3"),
        "{out:?}"
    );
    stop(child);
    back_up(&data, &backup);

    let (child, _, _, base) = start(&data);
    push(&base, &token, &shared, &file, 4..8);
    let out = follow(&base);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("cosigned size 7"),
        "{out:?}"
    );
    let out = follow(&base);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("unchanged at size 7"),
        "{out:?}"
    );
    stop(child);

    // Restarted from the backup: the log forgot 4 entries the witness cosigned.
    restore(&backup, &data);
    let (child, _, _, base) = start(&data);
    let out = follow(&base);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("inconsistent") && stderr.contains("tree of 3 entries"),
        "{stderr}"
    );
    // Grown past what was cosigned, it is still another history.
    push(&base, &token, &shared, &file, 20..26);
    let out = follow(&base);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let evidence: Vec<_> = std::fs::read_dir(wdata.join("evidence"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(evidence.len(), 2, "one evidence file per inconsistent poll");
    assert!(
        evidence.iter().all(|e| e.contains("\n7\n")),
        "the evidence keeps the cosigned checkpoint of size 7: {evidence:?}"
    );
    stop(child);
}
