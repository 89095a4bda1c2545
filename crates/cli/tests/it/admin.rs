//! `entente admin` through the real binary: the commands and their exact stdout, one-line
//! errors, `ENTENTE_DATA`, and use beside an open store (as while `entente serve` runs).

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn admin(data: &Path) -> Command {
    let mut cmd =
        Command::cargo_bin("entente").expect("the entente binary is built for integration tests");
    cmd.env_remove("ENTENTE_DATA")
        .arg("admin")
        .arg("--data")
        .arg(data);
    cmd
}

/// Runs a command that must succeed and returns its stdout without the final newline.
fn ok(data: &Path, args: &[&str]) -> String {
    let output = admin(data).args(args).output().expect("run entente");
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8 stdout")
        .trim_end()
        .to_owned()
}

#[test]
fn full_setup_prints_only_what_scripts_need() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert_eq!(ok(&data, &["org", "create", "acme"]), "");
    assert_eq!(ok(&data, &["user", "create", "alice", "--org", "acme"]), "");
    ok(
        &data,
        &["user", "create", "root", "--org", "acme", "--admin"],
    );
    let token = ok(&data, &["token", "create", "alice"]);
    assert_eq!(token.len(), 64, "token alone on stdout: {token:?}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    ok(&data, &["root", "create", "isac", "--title", "Sector ISAC"]);
    let id = ok(&data, &["collection", "create", "isac", "Phishing"]);
    assert_eq!(id.len(), 36, "collection id alone on stdout: {id:?}");
    assert_eq!(id.matches('-').count(), 4);
    ok(&data, &["grant", &id, "acme", "read-write"]);
    let list = ok(&data, &["collection", "list"]);
    assert!(list.contains(&id) && list.contains("org:acme=rw"), "{list}");
    assert_eq!(ok(&data, &["org", "list"]), "acme");
    let users = ok(&data, &["user", "list"]);
    assert_eq!(users, "alice\tacme\nroot\tacme\tadmin");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&data, &["collection", "list", "isac", "--json"])).unwrap();
    assert_eq!(json[0]["collection"]["id"], id.as_str());
    assert_eq!(json[0]["grants"][0]["grant"]["write"], true);
    let tokens = ok(&data, &["token", "list", "alice"]);
    assert!(
        tokens.contains("active") && !tokens.contains(&token),
        "{tokens}"
    );
    let token_id = tokens.split('\t').next().unwrap().to_owned();
    ok(&data, &["token", "revoke", &token_id]);
    assert!(ok(&data, &["token", "list"]).contains("revoked"));
    // Restricted collections take user grants.
    let red = ok(
        &data,
        &["collection", "create", "isac", "Incident", "--restricted"],
    );
    admin(&data)
        .args(["grant-user", &red, "alice", "read"])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").not());
    admin(&data)
        .args(["grant", &red, "acme", "read"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: \"Incident\" is restricted",
        ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&data).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "data directory is private");
    }
}

#[test]
fn errors_are_one_line_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    admin(dir.path())
        .args(["user", "create", "bob", "--org", "nope"])
        .assert()
        .code(1)
        .stdout("")
        .stderr("entente admin: organization not found: nope\n");
    ok(dir.path(), &["org", "create", "acme"]);
    admin(dir.path())
        .args(["org", "create", "acme"])
        .assert()
        .code(1)
        .stderr("entente admin: organization already exists: acme\n");
    admin(dir.path())
        .args(["collection", "create", "missing", "T"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("API root not found: missing"));
    admin(dir.path())
        .args(["grant", "no-such-collection", "acme", "read"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("collection not found"));
    // Usage errors are clap's, exit 2.
    admin(dir.path())
        .args([
            "collection",
            "create",
            "r",
            "T",
            "--public-read",
            "--restricted",
        ])
        .assert()
        .code(2);
    admin(dir.path())
        .args(["grant", "x", "acme", "everything"])
        .assert()
        .code(2);
    // A data directory that cannot be created is an I/O error, exit 2.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    admin(&file.join("data"))
        .args(["org", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "entente admin: opening the store in",
        ));
}

#[test]
fn data_directory_from_environment() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("from-env");
    Command::cargo_bin("entente")
        .unwrap()
        .env("ENTENTE_DATA", &data)
        .args(["admin", "org", "create", "acme"])
        .assert()
        .success();
    assert!(data.join("entente.sqlite3").is_file());
    assert_eq!(ok(&data, &["org", "list"]), "acme");
}

#[test]
fn every_command_has_an_example() {
    for args in [
        vec!["admin", "--help"],
        vec!["admin", "org", "create", "--help"],
        vec!["admin", "user", "create", "--help"],
        vec!["admin", "token", "create", "--help"],
        vec!["admin", "root", "create", "--help"],
        vec!["admin", "collection", "create", "--help"],
        vec!["admin", "grant", "--help"],
        vec!["admin", "grant-user", "--help"],
        vec!["admin", "collection", "list", "--help"],
    ] {
        Command::cargo_bin("entente")
            .unwrap()
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Example"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_beside_an_open_store() {
    // The first start as `entente serve` does it, with the store kept open, like the server.
    let dir = tempfile::tempdir().unwrap();
    let boot = store::bootstrap::ensure_initialized(dir.path())
        .await
        .unwrap();
    assert!(boot.first_start);
    let admin_token = boot.admin_token.clone().unwrap();
    let data = dir.path().to_path_buf();
    let id = tokio::task::spawn_blocking(move || {
        ok(&data, &["org", "create", "acme"]);
        ok(&data, &["user", "create", "alice", "--org", "acme"]);
        let id = ok(
            &data,
            &["collection", "create", "default", "Shared with acme"],
        );
        ok(&data, &["grant", &id, "acme", "read"]);
        (id, ok(&data, &["token", "create", "alice"]))
    })
    .await
    .unwrap();
    let (id, token) = id;
    // The open store sees everything the other process wrote.
    let alice = boot
        .store
        .authenticate(&token)
        .await
        .unwrap()
        .expect("token from admin");
    let (_, access) = boot.store.access(Some(&alice), &id).await.unwrap().unwrap();
    assert!(access.read && !access.write);
    assert!(
        boot.store
            .authenticate(&admin_token)
            .await
            .unwrap()
            .unwrap()
            .admin
    );
    let roots = ok(dir.path(), &["root", "list"]);
    assert!(roots.starts_with("default\t"), "{roots}");
}
