//! `entente verify` through the real binaries: a served log verifies with its key, stays
//! consistent as it grows, and a forked or rolled-back history, a wrong key, an object
//! edited directly in the database or a row deleted behind the server's back (a silent
//! withdrawal) makes verify exit 1 naming the cause.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

fn entente() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("entente"));
    cmd.env_remove("ENTENTE_DATA").env_remove("ENTENTE_TOKEN");
    cmd
}

/// Starts `entente serve`; returns the child, the admin token, the log key and the base URL.
#[allow(
    clippy::zombie_processes,
    reason = "the child is handed to the caller, which kills and waits for it"
)]
pub(crate) fn start(data: &Path) -> (Child, String, String, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = entente()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run entente serve");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut token, mut key) = (String::new(), String::new());
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "serve exited");
        let line = line.trim_end();
        if let Some(t) = line.strip_prefix("admin token: ") {
            token = t.to_owned();
        } else if let Some(k) = line.strip_prefix("log key: ") {
            key = k.to_owned();
        } else if let Some(rest) = line.strip_prefix("http://") {
            let base = format!("http://{}", rest.trim_end_matches("/taxii2/"));
            return (child, token, key, base);
        }
    }
}

fn indicator(n: u32) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2024-05-01T00:00:00.000Z","modified":"2024-05-01T00:00:00.000Z","name":"test {n}","pattern":"[ipv4-addr:value = '198.51.100.{n}']","pattern_type":"stix","valid_from":"2024-05-01T00:00:00Z"}}"#
    )
}

pub(crate) fn push(
    base: &str,
    token: &str,
    collection: &str,
    file: &Path,
    ids: std::ops::Range<u32>,
) {
    let objects: Vec<String> = ids.map(indicator).collect();
    std::fs::write(
        file,
        format!(
            r#"{{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[{}]}}"#,
            objects.join(",")
        ),
    )
    .unwrap();
    let out = entente()
        .args([
            "push",
            "--server",
            base,
            "--token",
            token,
            "--collection",
            collection,
        ])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

fn verify(base: &str, key: &str, state: &Path, collection: Option<(&str, &str)>) -> Output {
    let mut cmd = entente();
    cmd.args(["verify", "--server", base, "--key", key, "--state"])
        .arg(state);
    if let Some((c, t)) = collection {
        cmd.args(["--collection", c, "--token", t]);
    }
    cmd.output().unwrap()
}

/// The id of the `shared` collection the first start created in `data`.
pub(crate) fn shared_collection(data: &Path) -> String {
    rusqlite::Connection::open(data.join("entente.sqlite3"))
        .unwrap()
        .query_row(
            "SELECT id FROM collections WHERE title = 'shared'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

/// Copies a stopped server's data directory to `backup` (created).
pub(crate) fn back_up(data: &Path, backup: &Path) {
    std::fs::create_dir(backup).unwrap();
    for f in std::fs::read_dir(data).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, backup.join(f.file_name().unwrap())).unwrap();
    }
}

/// Puts a backup back over a stopped server's data directory, WAL files included.
pub(crate) fn restore(backup: &Path, data: &Path) {
    for f in std::fs::read_dir(backup).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, data.join(f.file_name().unwrap())).unwrap();
    }
    for stale in ["entente.sqlite3-wal", "entente.sqlite3-shm"] {
        if !backup.join(stale).exists() {
            let _ = std::fs::remove_file(data.join(stale));
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn verify_passes_then_catches_an_edited_object_and_a_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let state = dir.path().join("state");
    let file = dir.path().join("bundle.json");
    let (mut child, token, key, base) = start(&data);
    let db = rusqlite::Connection::open(data.join("entente.sqlite3")).unwrap();
    let shared: String = db
        .query_row(
            "SELECT id FROM collections WHERE title = 'shared'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let check = |collection: bool| {
        verify(
            &base,
            &key,
            &state,
            collection.then_some((shared.as_str(), token.as_str())),
        )
    };

    push(&base, &token, &shared, &file, 1..4);
    let out = check(true);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("ok: "), "{stdout}");
    assert!(stdout.contains("3 object versions included"), "{stdout}");

    // The log grows; the new checkpoint is checked against the one kept in the state file.
    push(&base, &token, &shared, &file, 4..6);
    // The server signs a new checkpoint at most once a second (`LogSigner`'s interval):
    // within that second it still serves the one of size 3.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = check(true);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        text(&out.stdout).contains("consistent with size 3"),
        "{out:?}"
    );

    // A fork: a checkpoint signed with the server's key over another tree of the same
    // size, as a server showing different histories to different readers would sign.
    let good_state = std::fs::read(&state).unwrap();
    let skey = std::fs::read_to_string(data.join("log.key")).unwrap();
    let signer = tlog::Ed25519Signer::from_skey(skey.trim_end()).unwrap();
    let origin = key.split('+').next().unwrap();
    for (size, cause) in [
        (5, "two different trees of size 5"),
        (9, "shrank from 9 to 5"),
    ] {
        let forged = tlog::Checkpoint::new(origin, size, [1; 32]);
        let note = tlog::sign(&forged.to_text().unwrap(), &[], &[&signer]).unwrap();
        std::fs::write(&state, note).unwrap();
        let out = check(false);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("inconsistent history"), "{stderr}");
        assert!(stderr.contains(cause), "{stderr}");
        assert!(
            stderr.contains("seen before:") && stderr.contains("server now:"),
            "{stderr}"
        );
    }
    std::fs::write(&state, good_state).unwrap();

    // A wrong key (same name, other key) is a bad signature.
    let other = tlog::Ed25519Signer::from_seed(origin, &[9; 32])
        .unwrap()
        .vkey();
    let out = verify(&base, &other, &state, None);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(text(&out.stderr).contains("bad signature"), "{out:?}");

    // An object's stored JSON edited behind the server's back.
    let victim = "indicator--00000000-0000-4000-8000-000000000002";
    let n = db
        .execute(
            "UPDATE objects SET raw = replace(raw, 'test 2', 'test X') WHERE stix_id = ?1",
            [victim],
        )
        .unwrap();
    assert_eq!(n, 1);
    let out = check(true);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("altered object"), "{stderr}");
    assert!(stderr.contains(victim), "{stderr}");

    // Without --collection the log itself still verifies.
    let out = check(false);
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    // Repaired, then one version deleted through TAXII (logged) and one behind the
    // server's back (not logged): only the silent withdrawal is reported.
    db.execute(
        "UPDATE objects SET raw = replace(raw, 'test X', 'test 2') WHERE stix_id = ?1",
        [victim],
    )
    .unwrap();
    let deleted = "indicator--00000000-0000-4000-8000-000000000005";
    let status = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            reqwest::Client::new()
                .delete(format!(
                    "{base}/default/collections/{shared}/objects/{deleted}/"
                ))
                .header("Accept", "application/taxii+json;version=2.1")
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status()
        });
    assert!(status.is_success(), "{status}");
    let out = check(true);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a logged deletion is fine: {out:?}"
    );
    let withdrawn = "indicator--00000000-0000-4000-8000-000000000004";
    db.execute("DELETE FROM objects WHERE stix_id = ?1", [withdrawn])
        .unwrap();
    let out = check(true);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("withdrawn object"), "{stderr}");
    assert!(stderr.contains(withdrawn), "{stderr}");

    let _ = child.kill();
    let _ = child.wait();
}

/// SIGTERM (a clean shutdown, so the database is checkpointed) and wait.
pub(crate) fn stop(mut child: Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
    }
    #[cfg(not(unix))]
    let _ = child.kill();
    let _ = child.wait();
}

/// Issue 6, item 6 (part): rewriting the log table directly, and a server restarted from a
/// backup that forgot recent entries, are caught with the right cause.
#[test]
fn rewritten_log_and_restored_backup_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backup = dir.path().join("backup");
    let state = dir.path().join("state");
    let file = dir.path().join("bundle.json");
    let (child, token, key, base) = start(&data);
    let shared: String = shared_collection(&data);
    push(&base, &token, &shared, &file, 1..4);
    assert_eq!(verify(&base, &key, &state, None).status.code(), Some(0));
    stop(child);
    back_up(&data, &backup);

    // The log grows and a reader sees it.
    let (child, _, _, base) = start(&data);
    push(&base, &token, &shared, &file, 4..8);
    let out = verify(&base, &key, &state, Some((&shared, &token)));
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    // A logged entry rewritten: the object no longer matches what the log says.
    let db = rusqlite::Connection::open(data.join("entente.sqlite3")).unwrap();
    db.execute(
        "UPDATE log_leaves SET entry = CAST(replace(CAST(entry AS TEXT), '\"op\":\"add\"', '\"op\":\"delete\"') AS BLOB) WHERE idx = 1",
        [],
    )
    .unwrap();
    let out = verify(&base, &key, &state, Some((&shared, &token)));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(text(&out.stderr).contains("altered object"), "{out:?}");
    db.execute(
        "UPDATE log_leaves SET entry = CAST(replace(CAST(entry AS TEXT), '\"op\":\"delete\"', '\"op\":\"add\"') AS BLOB) WHERE idx = 1",
        [],
    )
    .unwrap();
    // A stored hash rewritten: proofs no longer lead to the signed root. (A leaf's own
    // hash is read from `log_leaves`, and the nodes above it up to level 4, the first one
    // `log_nodes` keeps, are hashed from it when read.)
    db.execute(
        "UPDATE log_leaves SET leaf_hash = zeroblob(32) WHERE idx = 0",
        [],
    )
    .unwrap();
    let out = verify(&base, &key, &state, Some((&shared, &token)));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(text(&out.stderr).contains("altered log"), "{out:?}");
    drop(db);
    stop(child);

    // Restarted from the backup: the server forgot entries the reader saw.
    restore(&backup, &data);
    let (child, _, _, base) = start(&data);
    let out = verify(&base, &key, &state, None);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("inconsistent history"), "{stderr}");
    assert!(stderr.contains("shrank from 7 to 3"), "{stderr}");
    // Even once it has grown past the size seen, its history is not the one seen.
    push(&base, &token, &shared, &file, 20..26);
    let out = verify(&base, &key, &state, None);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        text(&out.stderr).contains("inconsistent history"),
        "{out:?}"
    );
    stop(child);
}

/// `entente pull --verify`: an honest server's objects are pulled and proven included; an
/// object edited in the database makes the pull exit 1 naming it, and no bundle is written.
#[test]
fn pull_verify_checks_the_pulled_objects() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let state = dir.path().join("state");
    let file = dir.path().join("bundle.json");
    let out_file = dir.path().join("pulled.json");
    let (child, token, key, base) = start(&data);
    let db = rusqlite::Connection::open(data.join("entente.sqlite3")).unwrap();
    let shared: String = db
        .query_row(
            "SELECT id FROM collections WHERE title = 'shared'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    push(&base, &token, &shared, &file, 1..4);
    let pull = || {
        entente()
            .args([
                "pull",
                "--server",
                &base,
                "--token",
                &token,
                "--collection",
                &shared,
                "--verify",
                "--key",
                &key,
                "--state",
            ])
            .arg(&state)
            .arg("--out")
            .arg(&out_file)
            .output()
            .unwrap()
    };

    let out = pull();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        text(&out.stderr).contains("3 object versions included"),
        "{out:?}"
    );
    let bundle = std::fs::read_to_string(&out_file).unwrap();
    assert!(bundle.contains("test 3"), "{bundle}");
    std::fs::remove_file(&out_file).unwrap();

    let victim = "indicator--00000000-0000-4000-8000-000000000002";
    let n = db
        .execute(
            "UPDATE objects SET raw = replace(raw, 'test 2', 'test X') WHERE stix_id = ?1",
            [victim],
        )
        .unwrap();
    assert_eq!(n, 1);
    let out = pull();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("altered object"), "{stderr}");
    assert!(stderr.contains(victim), "{stderr}");
    assert!(!out_file.exists(), "no bundle after a failed check");
    drop(db);
    stop(child);
}
