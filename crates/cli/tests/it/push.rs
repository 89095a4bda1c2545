//! `entente push` of a real third-party bundle: MITRE ATT&CK (Mobile) marks every object with
//! a copyright `statement` marking that it defines near the end of the file; push sends
//! marking definitions first, so the server knows the statement when the marked objects
//! arrive and stores all of them in an ordinary (non-restricted) collection.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::verify::{shared_collection, start, stop};

/// MITRE's Mobile ATT&CK bundle from `../shared`, decompressed into `dir`: its path and the
/// number of objects it holds.
pub(crate) fn mobile_attack_bundle(dir: &Path) -> (PathBuf, usize) {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/attack-stix21/mobile-attack-17.1.json.gz");
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&bundle).expect("ATT&CK bundle in ../shared"))
        .read_to_end(&mut json)
        .unwrap();
    let total = serde_json::from_slice::<serde_json::Value>(&json).unwrap()["objects"]
        .as_array()
        .unwrap()
        .len();
    let file = dir.join("mobile-attack.json");
    std::fs::write(&file, &json).unwrap();
    (file, total)
}

#[test]
fn pushes_the_whole_attack_bundle_into_the_shared_collection() {
    let dir = tempfile::tempdir().unwrap();
    let (file, total) = mobile_attack_bundle(dir.path());
    let data = dir.path().join("data");
    let (child, token, _, base) = start(&data);
    let shared: String = shared_collection(&data);
    let out = Command::new(assert_cmd::cargo::cargo_bin("entente"))
        .env_remove("ENTENTE_TOKEN")
        .args([
            "push",
            "--server",
            &base,
            "--token",
            &token,
            "--collection",
            &shared,
        ])
        .arg(&file)
        .output()
        .unwrap();
    stop(child);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout.contains(&format!("{total} succeeded, 0 failed")),
        "{stdout}"
    );
}
