//! `entente import` through the real binary into a local store: the summary line, re-import
//! unchanged, an updated MISP feed giving new versions, refusals on stderr with their place.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

fn entente() -> Command {
    let mut cmd =
        Command::cargo_bin("entente").expect("the entente binary is built for integration tests");
    cmd.env_remove("ENTENTE_DATA")
        .env_remove("ENTENTE_DATABASE_URL");
    cmd
}

/// A data directory with one collection; returns its id.
fn collection(data: &Path) -> String {
    let run = |args: &[&str]| {
        let out = entente()
            .arg("admin")
            .arg("--data")
            .arg(data)
            .args(args)
            .output()
            .expect("run entente admin");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    };
    run(&["root", "create", "default"]);
    run(&["collection", "create", "default", "imports"])
}

/// Runs `entente import KIND --data DATA --collection ID ARGS...`: (exit code, stdout, stderr).
fn import(data: &Path, id: &str, kind: &str, args: &[&str]) -> (i32, String, String) {
    let out = entente()
        .args(["import", kind, "--collection", id, "--data"])
        .arg(data)
        .args(args)
        .output()
        .expect("run entente import");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

#[test]
fn misp_feed_imports_then_reimport_is_unchanged_and_an_update_is_a_new_version() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id = collection(&data);
    let feed = shared().join("misp-feed-circl/feed");
    let feed = feed.to_str().unwrap();

    let (code, out, err) = import(&data, &id, "misp-feed", &[feed]);
    assert_eq!(code, 0, "{err}");
    let created: u64 = out
        .strip_prefix("created ")
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("summary line: {out}"));
    // 125 attributes other than links, two reports, an identity, the TLP:CLEAR marking and
    // the SCOs of nothing (every CIRCL attribute but the links is to_ids).
    assert!(created > 125, "{out}");
    assert_eq!(
        out,
        format!("created {created}, updated 0, unchanged 0, refused 0\n")
    );

    let (code, out, _) = import(&data, &id, "misp-feed", &[feed]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!("created 0, updated 0, unchanged {created}, refused 0\n")
    );

    // The same feed with one attribute changed (new value, later timestamp).
    let copy = dir.path().join("feed");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(feed).unwrap() {
        let entry = entry.unwrap();
        let mut text = std::fs::read_to_string(entry.path()).unwrap();
        text = text.replace(
            r#""timestamp": "1461830406", "to_ids": true, "value": "50.6.80.163""#,
            r#""timestamp": "1461900000", "to_ids": true, "value": "50.6.80.164""#,
        );
        std::fs::write(copy.join(entry.file_name()), text).unwrap();
    }
    let changed =
        std::fs::read_to_string(copy.join("5721c2e4-05ec-4af3-9264-411b950d210f.json")).unwrap();
    assert!(changed.contains("50.6.80.164"), "the fixture line moved");
    let (code, out, err) = import(&data, &id, "misp-feed", &[copy.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "created 0, updated 1, unchanged {}, refused 0\n",
            created - 1
        )
    );
}

#[test]
fn ioc_lists_dedupe_refuse_with_line_numbers_and_reimport_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id = collection(&data);
    let list = dir.path().join("emotet.txt");
    std::fs::write(
        &list,
        "# Reference: example\n198.51.100.7\nbad value here\nevil.example\n198.51.100.7\n",
    )
    .unwrap();
    let list = list.to_str().unwrap();
    let (code, out, err) = import(&data, &id, "iocs", &["--label", "test", list]);
    assert_eq!(code, 1, "a refused line makes exit 1");
    assert_eq!(out, "created 2, updated 0, unchanged 1, refused 1\n");
    assert!(err.contains("emotet.txt: line 3:"), "{err}");

    let (_, out, _) = import(&data, &id, "iocs", &["--label", "test", list]);
    assert_eq!(out, "created 0, updated 0, unchanged 3, refused 1\n");

    // Another label is new content: new versions of the same two indicators.
    let (_, out, _) = import(&data, &id, "iocs", &["--label", "other", list]);
    assert_eq!(out, "created 0, updated 2, unchanged 1, refused 1\n");
}

#[test]
fn maltrail_family_becomes_the_indicator_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id = collection(&data);
    let zeus = shared().join("maltrail/static/malware/zeus.txt");
    let (code, out, err) = import(&data, &id, "iocs", &[zeus.to_str().unwrap()]);
    assert!(code == 0 || code == 1, "{err}");
    let created: u64 = out
        .strip_prefix("created ")
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(created > 100, "{out}");
    let db = rusqlite::Connection::open(data.join("entente.sqlite3")).unwrap();
    let named: i64 = db
        .query_row(
            "SELECT count(*) FROM objects WHERE raw LIKE '%\"name\":\"zeus\"%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(named, created as i64);
}

#[test]
fn stix_import_refuses_invalid_objects_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id = collection(&data);
    let file = dir.path().join("objs.ndjson");
    std::fs::write(
        &file,
        concat!(
            r#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}"#,
            "\n",
            r#"{"type":"indicator","spec_version":"2.1","id":"indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = ","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}"#,
            "\n"
        ),
    )
    .unwrap();
    let (code, out, err) = import(&data, &id, "stix", &[file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(out, "created 1, updated 0, unchanged 0, refused 1\n");
    assert!(
        err.contains("objs.ndjson:2: indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
        "{err}"
    );
    let (_, out, _) = import(&data, &id, "stix", &[file.to_str().unwrap()]);
    assert_eq!(out, "created 0, updated 0, unchanged 1, refused 1\n");
}

/// MITRE ATT&CK marks every object with a copyright `statement` marking that it defines at
/// the end of the bundle: the import recognises it as the server does (a statement restricts
/// nobody), so the whole bundle lands in an ordinary collection.
#[test]
fn stix_import_takes_the_whole_attack_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let (file, total) = crate::push::mobile_attack_bundle(dir.path());
    let data = dir.path().join("data");
    let id = collection(&data);
    let (code, out, err) = import(&data, &id, "stix", &[file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.trim_end(),
        format!("created {total}, updated 0, unchanged 0, refused 0"),
        "{err}"
    );
}

/// Two versions of one id in one STIX file are both compared with the collection as it was
/// before the run, also when the batches split them (`--batch 1`): both are created, as in
/// one batch, not the second taken for an update of the first.
#[test]
fn stix_versions_of_one_id_across_batches_are_each_new() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id = collection(&data);
    let indicator = |uuid: &str, modified: &str, name: &str| {
        format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{uuid}","created":"2024-01-01T00:00:00.000Z","modified":"{modified}","name":"{name}","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}}"#
        )
    };
    // Something else first, so that the collection is not empty and is asked.
    let other = dir.path().join("other.json");
    std::fs::write(
        &other,
        indicator(
            "1e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "2024-01-01T00:00:00.000Z",
            "x",
        ),
    )
    .unwrap();
    let (_, out, _) = import(&data, &id, "stix", &[other.to_str().unwrap()]);
    assert_eq!(out, "created 1, updated 0, unchanged 0, refused 0\n");
    let file = dir.path().join("versions.ndjson");
    let uuid = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    std::fs::write(
        &file,
        format!(
            "{}\n{}\n",
            indicator(uuid, "2024-01-01T00:00:00.000Z", "a"),
            indicator(uuid, "2024-02-01T00:00:00.000Z", "b")
        ),
    )
    .unwrap();
    let (code, out, err) = import(
        &data,
        &id,
        "stix",
        &["--batch", "1", file.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "created 2, updated 0, unchanged 0, refused 0\n");
}

/// `import stix` stores a producer's versions verbatim: an older version than the stored one
/// arrives as itself (not re-stamped as a newer version with old content), a newer one that
/// differs only in `modified` is a version too, and each re-import of either is unchanged.
#[test]
fn stix_import_keeps_the_producers_versions_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id = collection(&data);
    let uuid = "4f0b1a9e-6c1e-4a55-9d0e-3b8f5d6e7a21";
    let indicator = |modified: &str, name: &str| {
        format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{uuid}","created":"2024-01-01T00:00:00.000Z","modified":"{modified}","name":"{name}","pattern":"[domain-name:value = 'example.org']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}}"#
        )
    };
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let newer = write(
        "newer.json",
        &indicator("2024-03-01T00:00:00.000Z", "march"),
    );
    let older = write(
        "older.json",
        &indicator("2024-02-01T00:00:00.000Z", "february"),
    );
    let retimed = write(
        "retimed.json",
        &indicator("2024-04-01T00:00:00.000Z", "march"),
    );

    let runs = [
        (&newer, "created 1, updated 0, unchanged 0, refused 0\n"),
        (&older, "created 0, updated 1, unchanged 0, refused 0\n"),
        (&older, "created 0, updated 0, unchanged 1, refused 0\n"),
        (&retimed, "created 0, updated 1, unchanged 0, refused 0\n"),
        (&newer, "created 0, updated 0, unchanged 1, refused 0\n"),
    ];
    for (file, want) in runs {
        let (code, out, err) = import(&data, &id, "stix", &[file]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, want, "importing {file}");
    }
    let db = rusqlite::Connection::open(data.join("entente.sqlite3")).unwrap();
    let mut stmt = db
        .prepare("SELECT raw FROM objects WHERE stix_id = ?1 ORDER BY raw")
        .unwrap();
    let stored: Vec<String> = stmt
        .query_map([format!("indicator--{uuid}")], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut want = vec![
        indicator("2024-03-01T00:00:00.000Z", "march"),
        indicator("2024-02-01T00:00:00.000Z", "february"),
        indicator("2024-04-01T00:00:00.000Z", "march"),
    ];
    want.sort();
    assert_eq!(
        stored, want,
        "every version byte for byte as its producer wrote it"
    );
}
