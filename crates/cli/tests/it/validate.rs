//! `entente validate` through the real binary: exit statuses, the `FILE:LINE:` line format,
//! stdin, gzip, JSON reports and `--strict`.

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

/// A valid indicator, on one line so it can be reused in NDJSON.
const VALID: &str = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"C2","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}"#;

/// Breaks STIX 2.1 §4.7: valid_until must be later than valid_from.
const INVALID: &str = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--a932fcc6-e032-476c-826f-cb970a5a1ade","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"C2","pattern":"[ipv4-addr:value = '198.51.100.2']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","valid_until":"2015-01-01T00:00:00Z"}"#;

/// Valid, but `identity_class` is outside its open vocabulary (STIX 2.1 §4.5, §10): a warning.
const WARNS: &str = r#"{"type":"identity","spec_version":"2.1","id":"identity--311b2d2d-f010-4473-83ec-1edf84858f4c","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"ACME","identity_class":"club"}"#;

/// An indicator whose STIX pattern does not parse (STIX 2.1 §9).
const BAD_PATTERN: &str = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--1f2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = ]","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}"#;

fn entente() -> Command {
    Command::cargo_bin("entente").expect("the entente binary is built for integration tests")
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write fixture");
    path
}

fn bundle(objects: &[&str]) -> String {
    format!(
        "{{\n\"type\": \"bundle\",\n\"id\": \"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\",\n\"objects\": [\n{}\n]\n}}\n",
        objects.join(",\n")
    )
}

fn json_report(output: &[u8]) -> Value {
    serde_json::from_slice(output).expect("--format json prints one JSON document")
}

#[test]
fn valid_file_exits_0_with_summary() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "ok.json", VALID);
    entente()
        .args(["validate"])
        .arg(&path)
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains(
            "1 file, 1 object: 0 errors, 0 warnings",
        ));
}

#[test]
fn invalid_object_exits_1_with_file_line_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bundle.json", &bundle(&[VALID, INVALID]));
    let expected = format!(
        "{}:6: indicator--a932fcc6-e032-476c-826f-cb970a5a1ade: /valid_until: ",
        path.display()
    );
    let assert = entente().arg("validate").arg(&path).assert().code(1);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&expected))
        .unwrap_or_else(|| panic!("no line starting {expected:?} in:\n{stdout}"));
    assert!(
        line.ends_with(']') && line.contains(" ["),
        "the line ends with the rule code: {line}"
    );
    assert!(
        String::from_utf8_lossy(&assert.get_output().stderr)
            .contains("1 file, 2 objects: 1 error, 0 warnings")
    );
}

#[test]
fn ndjson_reports_the_line_of_each_object() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "feed.ndjson", &format!("{VALID}\n{INVALID}\n"));
    entente()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(format!(
            "{}:2: indicator--a932fcc6",
            path.display()
        )));
}

#[test]
fn stdin_is_read_for_dash() {
    entente()
        .args(["validate", "-"])
        .write_stdin(INVALID)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("<stdin>:1: indicator--"));
    entente()
        .args(["validate", "-"])
        .write_stdin(format!("[{VALID}]"))
        .assert()
        .code(0);
}

#[test]
fn gzip_input_is_decompressed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.json.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    encoder
        .write_all(bundle(&[VALID, INVALID]).as_bytes())
        .unwrap();
    encoder.finish().unwrap();
    entente()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(":6: indicator--a932fcc6"));
}

#[test]
fn not_json_exits_2_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "broken.json",
        "{\n  \"type\": \"indicator\",\n  oops\n}\n",
    );
    entente()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{}:3:", path.display())))
        .stderr(predicate::str::contains("not a JSON document"));
}

#[test]
fn missing_file_exits_2_and_others_are_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.json", INVALID);
    entente()
        .arg("validate")
        .arg(dir.path().join("absent.json"))
        .arg(&bad)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("indicator--a932fcc6"))
        .stderr(predicate::str::contains("absent.json"));
}

#[test]
fn usage_errors_exit_2() {
    entente().arg("validate").assert().code(2);
    entente()
        .args(["validate", "--format", "yaml", "x.json"])
        .assert()
        .code(2);
    entente().args(["validate", "-", "-"]).assert().code(2);
}

#[test]
fn help_has_an_example() {
    entente()
        .args(["validate", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains("entente validate"));
}

#[test]
fn warnings_pass_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "identity.json", WARNS);
    entente()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(format!(
            "warning: {}:1: identity--",
            path.display()
        )))
        .stderr(predicate::str::contains("0 errors, 1 warning"));
    entente()
        .args(["validate", "--strict"])
        .arg(&path)
        .assert()
        .code(1);
}

#[test]
fn stix_patterns_are_checked() {
    entente()
        .args(["validate", "-"])
        .write_stdin(BAD_PATTERN)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("/pattern: "));
}

#[test]
fn json_report_lists_diagnostics_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "mixed.json", &bundle(&[VALID, INVALID, WARNS]));
    let output = entente()
        .args(["validate", "--format", "json"])
        .arg(&path)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report = json_report(&output);
    assert_eq!(report["valid"], false);
    assert_eq!(report["summary"]["files"], 1);
    assert_eq!(report["summary"]["objects"], 3);
    assert_eq!(report["summary"]["errors"], 1);
    assert_eq!(report["summary"]["warnings"], 1);
    let error = &report["errors"][0];
    assert_eq!(error["severity"], "error");
    assert_eq!(
        error["object_id"],
        "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade"
    );
    assert_eq!(error["pointer"], "/valid_until");
    assert_eq!(error["file"], path.display().to_string());
    assert_eq!(error["line"], 6);
    assert!(error["rule"].as_str().is_some_and(|r| !r.is_empty()));
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(report["warnings"][0]["severity"], "warning");
    assert_eq!(report["files"][0]["objects"], 3);
}

#[test]
fn json_report_records_unreadable_input() {
    let output = entente()
        .args(["validate", "--format", "json", "-"])
        .write_stdin("not json")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<stdin>:1:"))
        .get_output()
        .stdout
        .clone();
    let report = json_report(&output);
    assert_eq!(report["files"][0]["file"], "<stdin>");
    assert_eq!(report["files"][0]["input_error"]["line"], 1);
    assert_eq!(report["summary"]["unreadable"], 1);
}
