//! `entente sync` between real `entente serve`s: a full sync copies every version, a second
//! pass fetches nothing, a lost state re-fetches but creates nothing, a sync racing a
//! writer copies every version exactly once (into a data directory and through TAXII into
//! another server), and a source whose log does not hold what it serves (an object altered
//! in its database, a wrong key) is refused with nothing of the failing page stored;
//! a log key trusted on first use that changes is refused; a sync killed mid-pass fetches
//! at most one page again and skips nothing; `--watch` keeps passing until SIGINT stops it
//! with success.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn entente() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("entente"));
    cmd.env_remove("ENTENTE_DATA")
        .env_remove("ENTENTE_TOKEN")
        .env_remove("ENTENTE_DATABASE_URL");
    cmd
}

/// A running `entente serve`, stopped when dropped.
struct Server {
    child: Child,
    data: PathBuf,
    token: String,
    key: String,
    base: String,
    /// The id of the collection `shared` the first start creates.
    shared: String,
    /// Its standard output, kept open: serve prints more after the lines read here.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(data: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Server::start_on(data, port)
    }

    fn start_on(data: &Path, port: u16) -> Server {
        let mut child = entente()
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run entente serve");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (mut token, mut key) = (String::new(), String::new());
        let base = loop {
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "serve exited");
            let line = line.trim_end();
            if let Some(t) = line.strip_prefix("admin token: ") {
                token = t.to_owned();
            } else if let Some(k) = line.strip_prefix("log key: ") {
                key = k.to_owned();
            } else if let Some(rest) = line.strip_prefix("http://") {
                break format!("http://{}", rest.trim_end_matches("/taxii2/"));
            }
        };
        let shared = db(data)
            .query_row(
                "SELECT id FROM collections WHERE title = 'shared'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        Server {
            child,
            data: data.to_owned(),
            token,
            key,
            base,
            shared,
            _stdout: out,
        }
    }

    /// Every (id, version) the collection `shared` holds, read from the database.
    fn versions(&self) -> BTreeSet<(String, String)> {
        let db = db(&self.data);
        let mut stmt = db
            .prepare(
                "SELECT o.stix_id, o.version FROM objects o JOIN collections c \
                 ON o.collection = c.seq WHERE c.id = ?1",
            )
            .unwrap();
        stmt.query_map([&self.shared], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn push(&self, dir: &Path, objects: &[String]) {
        let file = dir.join(format!("push-{}.json", std::process::id()));
        std::fs::write(
            &file,
            format!(
                r#"{{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[{}]}}"#,
                objects.join(",")
            ),
        )
        .unwrap();
        let out = entente()
            .args(["push", "--server", &self.base, "--token", &self.token])
            .args(["--collection", &self.shared])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
}

fn db(data: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(data.join("entente.sqlite3")).unwrap()
}

/// Version `v` (1-based) of indicator `n`.
fn indicator(n: u32, v: u32) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2024-05-01T00:00:00.000Z","modified":"2024-05-01T00:00:0{v}.000Z","name":"test {n} v{v}","pattern":"[ipv4-addr:value = '198.51.100.{}']","pattern_type":"stix","valid_from":"2024-05-01T00:00:00Z"}}"#,
        n % 250
    )
}

fn indicators(ids: std::ops::Range<u32>) -> Vec<String> {
    ids.map(|n| indicator(n, 1)).collect()
}

/// `entente sync` from `source`'s collection `shared` into `target` (a data directory's
/// `shared`, or with `remote` the target server through TAXII).
fn sync(source: &Server, target: &Server, remote: bool, state: &Path, extra: &[&str]) -> Output {
    let mut cmd = entente();
    cmd.args([
        "sync",
        "--from",
        &source.base,
        "--from-token",
        &source.token,
    ])
    .args(["--from-collection", &source.shared])
    .args(["--collection", &target.shared, "--state"])
    .arg(state)
    .args(extra);
    if remote {
        cmd.args(["--server", &target.base, "--token", &target.token]);
    } else {
        cmd.arg("--data").arg(&target.data);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The counts of the last `fetched …` line.
fn counts(out: &Output) -> [u64; 4] {
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("fetched "))
        .unwrap_or_else(|| panic!("no counts in {stdout:?}"));
    let n: Vec<u64> = line
        .split(", ")
        .map(|part| part.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    [n[0], n[1], n[2], n[3]]
}

#[test]
fn full_sync_then_incremental_then_lost_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sync.json");
    let source = Server::start(&dir.path().join("a"));
    let target = Server::start(&dir.path().join("b"));

    let mut objects = indicators(1..6);
    objects.push(indicator(3, 2)); // a second version of one object
    source.push(dir.path(), &objects);
    let out = sync(&source, &target, false, &state, &["--limit", "4"]);
    assert_eq!(counts(&out), [6, 6, 0, 0]);
    assert!(
        text(&out.stderr).contains("trusted on first use"),
        "{out:?}"
    );
    assert_eq!(target.versions(), source.versions());
    assert_eq!(target.versions().len(), 6);

    // The position was kept: nothing new, nothing fetched.
    let out = sync(&source, &target, false, &state, &[]);
    assert_eq!(counts(&out), [0, 0, 0, 0]);

    // Only what was added since.
    source.push(dir.path(), &indicators(6..9));
    let out = sync(&source, &target, false, &state, &[]);
    assert_eq!(counts(&out), [3, 3, 0, 0]);
    assert_eq!(target.versions(), source.versions());

    // The state holds the pinned log and the position.
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(kept["streams"].as_array().unwrap().len(), 1);
    assert!(kept["streams"][0]["added_after"].is_string(), "{kept}");
    assert_eq!(
        kept["logs"][0]["origin"],
        source.key.split('+').next().unwrap()
    );

    // A lost state fetches everything again and creates nothing: exactly once.
    std::fs::remove_file(&state).unwrap();
    let out = sync(
        &source,
        &target,
        false,
        &state,
        &["--from-log-key", &source.key],
    );
    assert_eq!(counts(&out), [9, 0, 9, 0]);
    assert_eq!(target.versions().len(), 9);
}

#[test]
fn sync_racing_a_writer_copies_every_version_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let source = Server::start(&dir.path().join("a"));
    let local = Server::start(&dir.path().join("b"));
    let remote = Server::start(&dir.path().join("c"));
    source.push(dir.path(), &indicators(1..21));

    let writer_dir = dir.path().join("w");
    std::fs::create_dir(&writer_dir).unwrap();
    let writer = {
        let (base, token, shared) = (
            source.base.clone(),
            source.token.clone(),
            source.shared.clone(),
        );
        std::thread::spawn(move || {
            for batch in 0..8u32 {
                let mut objects = indicators(100 + batch * 10..110 + batch * 10);
                // New versions of objects synced already, too.
                objects.push(indicator(batch + 1, 2));
                let file = writer_dir.join("batch.json");
                std::fs::write(
                    &file,
                    format!(
                        r#"{{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[{}]}}"#,
                        objects.join(",")
                    ),
                )
                .unwrap();
                let out = entente()
                    .args(["push", "--server", &base, "--token", &token])
                    .args(["--collection", &shared])
                    .arg(&file)
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{out:?}");
                std::thread::sleep(std::time::Duration::from_millis(150));
            }
        })
    };
    let (local_state, remote_state) = (dir.path().join("l.json"), dir.path().join("r.json"));
    let mut created = [0u64; 2];
    let mut finished = false;
    while !finished {
        finished = writer.is_finished();
        for (i, (target, remote_target, state)) in [
            (&local, false, &local_state),
            (&remote, true, &remote_state),
        ]
        .into_iter()
        .enumerate()
        {
            let c = counts(&sync(
                &source,
                target,
                remote_target,
                state,
                &["--limit", "7"],
            ));
            assert_eq!(c[0], c[1] + c[2] + c[3], "{c:?}");
            assert_eq!(c[3], 0, "nothing refused");
            created[i] += c[1];
        }
    }
    writer.join().unwrap();
    let expected = source.versions();
    assert_eq!(expected.len(), 20 + 8 * 11);
    assert_eq!(local.versions(), expected);
    assert_eq!(remote.versions(), expected);
    // Every version was created exactly once at each target, never twice.
    assert_eq!(created, [expected.len() as u64; 2]);
}

#[test]
fn a_log_that_does_not_hold_the_objects_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sync.json");
    let source = Server::start(&dir.path().join("a"));
    let target = Server::start(&dir.path().join("b"));
    source.push(dir.path(), &indicators(1..4));
    assert_eq!(
        counts(&sync(&source, &target, false, &state, &[])),
        [3, 3, 0, 0]
    );
    let kept = std::fs::read(&state).unwrap();

    // A wrong key (same name, another key) is a bad signature.
    let origin = source.key.split('+').next().unwrap();
    let other = tlog::Ed25519Signer::from_seed(origin, &[7; 32])
        .unwrap()
        .vkey();
    let out = sync(&source, &target, false, &state, &["--from-log-key", &other]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(text(&out.stderr).contains("bad signature"), "{out:?}");

    // A new object altered in the source's database after it was logged: the page holding
    // it is refused and nothing of it stored; the position stays where it was.
    source.push(dir.path(), &indicators(4..7));
    let victim = "indicator--00000000-0000-4000-8000-000000000005";
    let n = db(&source.data)
        .execute(
            "UPDATE objects SET raw = replace(raw, 'test 5 v1', 'test 5 vX') WHERE stix_id = ?1",
            [victim],
        )
        .unwrap();
    assert_eq!(n, 1);
    let out = sync(&source, &target, false, &state, &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("altered object"), "{stderr}");
    assert!(stderr.contains(victim), "{stderr}");
    assert_eq!(target.versions().len(), 3, "nothing of the failing page");
    let after: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let before: serde_json::Value = serde_json::from_slice(&kept).unwrap();
    assert_eq!(after["streams"], before["streams"]);

    // Repaired, the sync goes on from where it stopped.
    db(&source.data)
        .execute(
            "UPDATE objects SET raw = replace(raw, 'test 5 vX', 'test 5 v1') WHERE stix_id = ?1",
            [victim],
        )
        .unwrap();
    assert_eq!(
        counts(&sync(&source, &target, false, &state, &[])),
        [3, 3, 0, 0]
    );
    assert_eq!(target.versions(), source.versions());
}

#[test]
fn watch_keeps_syncing_until_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sync.json");
    let source = Server::start(&dir.path().join("a"));
    let target = Server::start(&dir.path().join("b"));
    source.push(dir.path(), &indicators(1..4));
    let mut child = entente()
        .args([
            "sync",
            "--from",
            &source.base,
            "--from-token",
            &source.token,
        ])
        .args([
            "--from-collection",
            &source.shared,
            "--collection",
            &target.shared,
        ])
        .arg("--data")
        .arg(&target.data)
        .arg("--state")
        .arg(&state)
        .args(["--watch", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let wait_for = |created: &str| loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("a pass line within a minute");
        if line.contains(created) {
            return;
        }
    };
    wait_for("fetched 3, created 3,");
    source.push(dir.path(), &indicators(4..6));
    wait_for("fetched 2, created 2,");
    assert_eq!(target.versions(), source.versions());

    // SIGINT stops it between passes, with success.
    let out = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "sync did not stop");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn a_log_key_trusted_on_first_use_must_not_change() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sync.json");
    let data = dir.path().join("a");
    let mut source = Server::start(&data);
    let target = Server::start(&dir.path().join("b"));
    source.push(dir.path(), &indicators(1..3));
    let out = sync(&source, &target, false, &state, &[]);
    assert_eq!(counts(&out), [2, 2, 0, 0]);
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert!(kept["logs"][0]["pinned_key_id"].is_string(), "{kept}");

    // The same server, same origin and same history, restarted with another signing key.
    let port: u16 = source.base.rsplit(':').next().unwrap().parse().unwrap();
    let origin = source.key.split('+').next().unwrap().to_owned();
    let token = source.token.clone();
    drop(source);
    let other = tlog::Ed25519Signer::from_seed(&origin, &[3; 32]).unwrap();
    std::fs::write(data.join("log.key"), format!("{}\n", other.skey())).unwrap();
    source = Server::start_on(&data, port);
    source.token = token; // printed on the first start only
    assert_eq!(source.key, other.vkey());
    source.push(dir.path(), &indicators(3..4)); // a checkpoint signed with the new key
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let out = sync(&source, &target, false, &state, &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad signature"), "{stderr}");
    assert!(stderr.contains("key changed"), "{stderr}");
    assert_eq!(target.versions().len(), 2, "nothing stored");

    // Given the new key explicitly, the history still has to be consistent: it is.
    let out = sync(
        &source,
        &target,
        false,
        &state,
        &["--from-log-key", &source.key],
    );
    assert_eq!(counts(&out), [1, 1, 0, 0]);
}

#[test]
fn a_killed_sync_refetches_at_most_one_page_and_skips_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sync.json");
    let source = Server::start(&dir.path().join("a"));
    let target = Server::start(&dir.path().join("b"));
    source.push(dir.path(), &indicators(1..61));
    let mut child = entente()
        .args([
            "-v",
            "sync",
            "--from",
            &source.base,
            "--from-token",
            &source.token,
        ])
        .args([
            "--from-collection",
            &source.shared,
            "--collection",
            &target.shared,
        ])
        .arg("--data")
        .arg(&target.data)
        .arg("--state")
        .arg(&state)
        .args(["--limit", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // SIGKILL right after the second page was stored: no chance to tidy up.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut pages = 0;
    while pages < 2 {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "sync ended early");
        pages += usize::from(line.contains("page synced"));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let stored = target.versions().len() as u64;
    assert!((6..60).contains(&stored), "{stored} stored before the kill");

    let [fetched, created, unchanged, refused] =
        counts(&sync(&source, &target, false, &state, &[]));
    assert_eq!(refused, 0);
    assert_eq!(created, 60 - stored, "nothing skipped, nothing twice");
    assert!(
        unchanged <= 3,
        "at most one page fetched again ({unchanged})"
    );
    assert!(
        fetched <= 60 - 6,
        "the position was kept ({fetched} fetched)"
    );
    assert_eq!(target.versions(), source.versions());
}
