//! `entente hunt` end to end: alerts, sightings, summary, bad lines, warninglists, usage.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::{Value, json};

fn data(rel: &str) -> PathBuf {
    // `../shared` beside the repository root, as everywhere else; ENTENTE_SHARED overrides.
    let root = std::env::var_os("ENTENTE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    root.join("data").join(rel)
}

fn indicator(i: u32, name: &str, pattern: &str) -> Value {
    json!({"type": "indicator", "spec_version": "2.1",
           "id": format!("indicator--00000000-0000-4000-8000-{i:012}"),
           "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
           "name": name, "pattern": pattern, "pattern_type": "stix",
           "valid_from": "2020-01-01T00:00:00Z"})
}

fn indicators(dir: &std::path::Path) -> PathBuf {
    let bundle = json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000009",
    "objects": [
        indicator(1, "google", "[domain-name:value = 'www.google.com']"),
        indicator(2, "scanner", "[ipv4-addr:value = '78.36.196.213']"),
        indicator(3, "dc", "[ipv4-addr:value = '10.0.0.4']"),
    ]});
    let p = dir.join("indicators.json");
    std::fs::write(&p, bundle.to_string()).unwrap();
    p
}

fn entente() -> Command {
    Command::cargo_bin("entente").unwrap()
}

#[test]
fn alerts_to_stdout_and_sightings_validate() {
    let dir = tempfile::tempdir().unwrap();
    let ind = indicators(dir.path());
    let sightings = dir.path().join("sightings.json");
    let out = entente()
        .arg("hunt")
        .arg("--indicators")
        .arg(&ind)
        .arg("--sightings")
        .arg(&sightings)
        .args(["--identity", "ACME SOC"])
        .arg(data("slips-ctu/suricata/test6-malicious.suricata.json.gz"))
        .arg(data("otrf-apt29-zeek/day1/SCRANTON_dns.log"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts: Vec<Value> = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert!(!alerts.is_empty());
    let first = &alerts[0];
    assert_eq!(
        first["indicator"],
        "indicator--00000000-0000-4000-8000-000000000002"
    );
    assert_eq!(first["name"], "scanner");
    assert_eq!(first["source"]["line"], 1);
    assert_eq!(first["time"], "2021-06-06T13:59:46.457984Z");
    assert_eq!(
        first["matched"],
        json!([{"path": "ipv4-addr:value", "value": "78.36.196.213"}])
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("5000 events, 0 bad lines"), "{stderr}");
    assert!(
        stderr.contains(&format!("{} alerts, 3 indicators hit", alerts.len())),
        "{stderr}"
    );
    assert!(stderr.contains("events/s"), "{stderr}");

    entente()
        .arg("validate")
        .arg("--strict")
        .arg(&sightings)
        .assert()
        .success();
}

#[test]
fn bad_lines_are_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let ind = indicators(dir.path());
    let log = dir.path().join("eve.json");
    let good = r#"{"timestamp":"2021-06-06T15:59:46.457984+0200","event_type":"flow","src_ip":"78.36.196.213","src_port":1,"dest_ip":"10.1.1.1","dest_port":2,"proto":"TCP"}"#;
    std::fs::write(&log, format!("{good}\n{{broken\n{good}\n")).unwrap();
    let alerts = dir.path().join("alerts.ndjson");
    let out = entente()
        .arg("hunt")
        .arg("--indicators")
        .arg(&ind)
        .arg("--alerts")
        .arg(&alerts)
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:2: invalid JSON", log.display())),
        "{stderr}"
    );
    assert!(stderr.contains("2 events, 1 bad lines"), "{stderr}");
    let text = std::fs::read_to_string(&alerts).unwrap();
    assert_eq!(text.lines().count(), 2);
}

#[test]
fn warninglists_suppress() {
    let dir = tempfile::tempdir().unwrap();
    let ind = indicators(dir.path());
    let out = entente()
        .arg("hunt")
        .arg("--indicators")
        .arg(&ind)
        .arg("--warninglists")
        .arg(data("misp-warninglists/lists"))
        .arg(data("slips-ctu/suricata/test6-malicious.suricata.json.gz"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // www.google.com (captive-portal hosts) and 10.0.0.4 (RFC 1918) are on the lists; the
    // scanner address is not.
    assert!(stderr.contains("indicators: 1 hunted"), "{stderr}");
    assert!(stderr.contains("2 on a warninglist"), "{stderr}");
    assert!(stderr.contains("1 alerts, 1 indicators hit"), "{stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("www.google.com"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let ind = indicators(dir.path());
    let unknown = dir.path().join("x.json");
    std::fs::write(&unknown, "{\"a\":1}\n").unwrap();
    let out = entente()
        .arg("hunt")
        .arg("--indicators")
        .arg(&ind)
        .arg(&unknown)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mapping"));
    entente()
        .args(["hunt", "--indicators", "nope.json", "x.log"])
        .assert()
        .code(2);
    let help = entente().args(["hunt", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("Examples:"));
}

/// Indicators pulled from a TAXII 2.1 collection of a real `entente serve`.
#[test]
fn indicators_from_a_taxii_collection() {
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
    let mut out = BufReader::new(server.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "serve exited");
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
    let ind = indicators(dir.path());
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
        .arg(&ind)
        .assert()
        .success();
    let result = entente()
        .arg("hunt")
        .arg("--indicators")
        .arg(format!("{server_url}/default/collections/{id}/"))
        .args(["--token", &token])
        .arg(data("slips-ctu/suricata/test6-malicious.suricata.json.gz"))
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("indicators: 3 hunted"), "{stderr}");
    assert!(!result.stdout.is_empty());
}
