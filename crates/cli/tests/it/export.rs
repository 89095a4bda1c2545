//! `entente export` end to end: every format from a file, deltas with `--since`, a TAXII
//! server and a local store as sources, usage errors.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};

fn entente() -> Command {
    Command::cargo_bin("entente").unwrap()
}

/// The `sensors` crate's golden input and outputs.
fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sensors/tests/golden")
        .join(name)
}

fn indicator(i: u32, name: &str, pattern: &str) -> Value {
    json!({"type": "indicator", "spec_version": "2.1",
           "id": format!("indicator--00000000-0000-4000-8000-{i:012}"),
           "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
           "name": name, "pattern": pattern, "pattern_type": "stix",
           "valid_from": "2020-01-01T00:00:00Z"})
}

fn bundle(dir: &Path, name: &str, objects: Vec<Value>) -> PathBuf {
    let b = json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000009",
                   "objects": objects});
    let p = dir.join(name);
    std::fs::write(&p, b.to_string()).unwrap();
    p
}

fn run(args: &[&str], paths: &[(&str, &Path)]) -> (String, String) {
    let mut cmd = entente();
    cmd.env_remove("ENTENTE_DATA").args(args);
    for (flag, path) in paths {
        cmd.arg(flag).arg(path);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    (stdout, stderr)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn csv_from_a_file_matches_the_golden_and_lists_what_is_not_exportable() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("values.csv");
    let (stdout, stderr) = run(
        &["export", "csv"],
        &[("--file", &golden("input.json")), ("--out", &out)],
    );
    assert_eq!(read(&out), read(&golden("values.csv")));
    assert_eq!(
        stdout.trim(),
        "exported 19 values of 12 indicators; not exportable 4, invalid 1, revoked 1, \
         expired 1, superseded 1"
    );
    // Each refused indicator is named with its reason; revoked and expired are only counted.
    assert!(stderr.contains(
        "indicator--00000000-0000-4000-8000-000000000012: not exportable: pattern has a \
         WITHIN qualifier"
    ));
    assert!(stderr.contains("pattern_type \"sigma\" is not stix"));
    assert!(!stderr.contains("revoked"));
    assert!(dir.path().join("values.csv.state.json").exists());
}

#[test]
fn zeek_delta_since_a_previous_export() {
    let dir = tempfile::tempdir().unwrap();
    let first = bundle(
        dir.path(),
        "first.json",
        vec![
            indicator(1, "kept", "[domain-name:value = 'kept.example']"),
            indicator(2, "gone", "[ipv4-addr:value = '198.51.100.1']"),
        ],
    );
    let second = bundle(
        dir.path(),
        "second.json",
        vec![
            indicator(1, "kept", "[domain-name:value = 'kept.example']"),
            indicator(3, "new", "[url:value = 'http://new.example/x']"),
        ],
    );
    let out = dir.path().join("intel.dat");
    let state = dir.path().join("intel.dat.state.json");
    run(
        &["export", "zeek-intel"],
        &[("--file", &first), ("--out", &out)],
    );
    let (stdout, _) = run(
        &["export", "zeek-intel"],
        &[("--file", &second), ("--out", &out), ("--since", &state)],
    );
    assert!(
        stdout.contains("since the previous export: added 1, removed 1"),
        "{stdout}"
    );
    let header = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n\
                  #types\tstring\tenum\tstring\tstring\tstring\n";
    assert_eq!(
        read(&dir.path().join("intel.dat.added")),
        format!(
            "{header}new.example/x\tIntel::URL\t-\tnew\tindicator--00000000-0000-4000-8000-000000000003\n"
        )
    );
    assert_eq!(
        read(&dir.path().join("intel.dat.removed")),
        format!("{header}198.51.100.1\tIntel::ADDR\t-\t-\t-\n")
    );
    // The full export is there too, and the state now records the second export.
    assert_eq!(read(&out).lines().count(), 4);
    let (stdout, _) = run(
        &["export", "zeek-intel"],
        &[("--file", &second), ("--out", &out), ("--since", &state)],
    );
    assert!(stdout.contains("added 0, removed 0"), "{stdout}");
}

#[test]
fn suricata_directory_and_socket_commands() {
    let dir = tempfile::tempdir().unwrap();
    let first = bundle(
        dir.path(),
        "first.json",
        vec![indicator(1, "a", "[domain-name:value = 'a.example']")],
    );
    let second = bundle(
        dir.path(),
        "second.json",
        vec![
            indicator(2, "b", "[domain-name:value = 'b.example']"),
            indicator(
                3,
                "h",
                "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
            ),
        ],
    );
    let out = dir.path().join("suricata");
    let state = dir.path().join("suricata.state.json");
    run(
        &["export", "suricata-dataset"],
        &[("--file", &first), ("--out", &out)],
    );
    assert_eq!(read(&out.join("domain.lst")), "YS5leGFtcGxl\n");
    assert!(read(&out.join("entente.rules")).contains("load domain.lst"));
    run(
        &["export", "suricata-dataset"],
        &[("--file", &second), ("--out", &out), ("--since", &state)],
    );
    assert_eq!(
        read(&out.join("dataset-commands.txt")),
        "dataset-add entente-domain string Yi5leGFtcGxl\n\
         dataset-add entente-md5 md5 d41d8cd98f00b204e9800998ecf8427e\n\
         dataset-remove entente-domain string YS5leGFtcGxl\n"
    );
    assert_eq!(read(&out.join("removed/domain.lst")), "YS5leGFtcGxl\n");
    assert_eq!(
        read(&out.join("added/md5.lst")),
        "d41d8cd98f00b204e9800998ecf8427e\n"
    );
}

#[test]
fn stix_bundle_of_the_exported_indicators() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    run(
        &["export", "stix"],
        &[("--file", &golden("input.json")), ("--out", &out)],
    );
    let b: Value = serde_json::from_str(&read(&out)).unwrap();
    let ids: Vec<&str> = b["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 12);
    assert!(ids.contains(&"indicator--00000000-0000-4000-8000-000000000019"));
    assert!(!ids.contains(&"indicator--00000000-0000-4000-8000-000000000016"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let r = entente()
        .args(["export", "stix", "--file"])
        .arg(golden("input.json"))
        .arg("--out")
        .arg(&out)
        .arg("--since")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    let r = entente()
        .args(["export", "csv", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    let help = entente().args(["export", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("Examples:"));
}

/// From a real `entente serve`: links are the TAXII object URLs. Then, server stopped, the
/// same data directory as a local store.
#[test]
fn from_a_taxii_server_and_from_the_local_store() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command as Process, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let admin = |args: &[&str]| -> String {
        let out = entente()
            .env_remove("ENTENTE_DATA")
            .arg("admin")
            .arg("--data")
            .arg(&data_dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Process::new(assert_cmd::cargo::cargo_bin("entente"))
        .env_remove("ENTENTE_DATA")
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(lines.read_line(&mut line).unwrap() > 0, "serve exited");
        if line.starts_with("http://") {
            break;
        }
    }
    admin(&["org", "create", "acme"]);
    admin(&["user", "create", "alice", "--org", "acme"]);
    let token = admin(&["token", "create", "alice"]).trim().to_owned();
    let id = admin(&["collection", "create", "default", "Intel"])
        .trim()
        .to_owned();
    admin(&["grant", &id, "acme", "read-write"]);
    let server_url = format!("http://127.0.0.1:{port}");
    let input = bundle(
        dir.path(),
        "in.json",
        vec![
            json!({"type": "identity", "spec_version": "2.1",
                   "id": "identity--5ba0a3a1-4f5c-4b7e-9d1f-0c2b4e6a8d01",
                   "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
                   "name": "ACME CERT", "identity_class": "organization"}),
            {
                let mut i = indicator(1, "c2", "[ipv4-addr:value = '198.51.100.7']");
                i["created_by_ref"] = json!("identity--5ba0a3a1-4f5c-4b7e-9d1f-0c2b4e6a8d01");
                i
            },
            indicator(
                2,
                "seq",
                "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'x.example']",
            ),
        ],
    );
    entente()
        .args([
            "push",
            "--server",
            &server_url,
            "--token",
            &token,
            "--collection",
            &id,
        ])
        .arg(&input)
        .assert()
        .success();
    let remote_out = dir.path().join("remote.dat");
    let result = entente()
        .args([
            "export",
            "zeek-intel",
            "--server",
            &server_url,
            "--token",
            &token,
        ])
        .args(["--collection", &id, "--out"])
        .arg(&remote_out)
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let text = read(&remote_out);
    let line = text.lines().nth(2).unwrap();
    assert_eq!(
        line,
        format!(
            "198.51.100.7\tIntel::ADDR\tACME CERT\tc2\t{server_url}/default/collections/{id}/objects/indicator--00000000-0000-4000-8000-000000000001/"
        )
    );
    assert!(String::from_utf8_lossy(&result.stderr).contains("FOLLOWEDBY"));

    let local_out = dir.path().join("local.dat");
    run(
        &["export", "zeek-intel", "--collection", &id],
        &[("--data", &data_dir), ("--out", &local_out)],
    );
    assert_eq!(
        read(&local_out).lines().nth(2).unwrap(),
        "198.51.100.7\tIntel::ADDR\tACME CERT\tc2\tindicator--00000000-0000-4000-8000-000000000001"
    );
}
