//! `entente serve` through the real binary: the first start prints the admin token once on
//! a line of its own and the discovery URL; the token works; a second start on the same
//! data directory prints the URL only; SIGTERM stops the server cleanly. Every start prints
//! the transparency log's verifier key, the one `entente admin log key` prints.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts `entente serve` on a free port; returns the child and its first stdout lines up
/// to and including the URL line.
#[allow(
    clippy::zombie_processes,
    reason = "the child is handed to the caller, which waits for it in terminate()"
)]
fn start(data: &Path) -> (Child, Vec<String>) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("entente"))
        .env_remove("ENTENTE_DATA")
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run entente serve");
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "serve exited: {lines:?}"
        );
        let line = line.trim_end().to_owned();
        let done = line.starts_with("http://");
        lines.push(line);
        if done {
            return (child, lines);
        }
    }
}

/// A raw HTTP/1.1 GET; returns the status code.
fn get_status(url: &str, token: &str) -> u16 {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut conn = TcpStream::connect(host).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/taxii+json;version=2.1\r\n\
         Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer.split(' ').nth(1).unwrap().parse().unwrap()
}

fn terminate(mut child: Child) -> std::process::ExitStatus {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
    }
    #[cfg(not(unix))]
    let _ = child.kill();
    child.wait().unwrap()
}

#[test]
fn first_start_prints_token_once_then_url_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (child, lines) = start(&data);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let token = lines[0]
        .strip_prefix("admin token: ")
        .expect("token line")
        .to_owned();
    assert_eq!(token.len(), 64);
    let vkey = lines[1]
        .strip_prefix("log key: ")
        .expect("log key line")
        .to_owned();
    // C2SP signed-note verifier key: <name>+<8 hex digit key id>+<base64 of type||key>.
    let parts: Vec<&str> = vkey.splitn(3, '+').collect();
    assert_eq!(parts.len(), 3, "{vkey}");
    assert!(parts[0].starts_with("entente/"), "{vkey}");
    assert_eq!(parts[1].len(), 8, "{vkey}");
    let url = &lines[2];
    assert!(url.ends_with("/taxii2/"), "{url}");
    assert_eq!(get_status(url, &token), 200);
    assert_eq!(get_status(url, "wrong"), 401);
    // The transparency log is served too (its routes take no token).
    let checkpoint = url.replace("/taxii2/", "/log/checkpoint");
    assert_eq!(get_status(&checkpoint, "ignored"), 200);
    let status = terminate(child);
    #[cfg(unix)]
    assert!(status.success(), "SIGTERM is a clean shutdown: {status:?}");

    let (child, lines) = start(&data);
    assert_eq!(lines.len(), 2, "no token on later starts: {lines:?}");
    assert_eq!(
        lines[0],
        format!("log key: {vkey}"),
        "the same log key on every start"
    );
    assert_eq!(get_status(&lines[1], &token), 200);
    terminate(child);
}

/// `entente admin log key` prints the key `entente serve` prints, made once, mode 0600.
#[test]
fn admin_log_key_is_the_served_key() {
    let dir = tempfile::tempdir().unwrap();
    let admin_key = |data: &Path, origin: Option<&str>| {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("entente"));
        cmd.env_remove("ENTENTE_DATA")
            .args(["admin", "--data"])
            .arg(data)
            .args(["log", "key"]);
        if let Some(o) = origin {
            cmd.args(["--origin", o]);
        }
        cmd.output().unwrap()
    };
    let data = dir.path().join("data");
    let (child, lines) = start(&data);
    terminate(child);
    let served = lines[1].strip_prefix("log key: ").unwrap();
    let out = admin_key(&data, None);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim_end(), served);
    // The key already has its origin; asking for another one is refused, not ignored.
    let out = admin_key(&data, Some("entente/other.example"));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.join("log.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Made by admin before the first start: the origin asked for, and serve keeps it.
    let data = dir.path().join("fresh");
    let out = admin_key(&data, Some("entente/test.example"));
    assert!(out.status.success(), "{out:?}");
    let vkey = String::from_utf8(out.stdout).unwrap().trim_end().to_owned();
    assert!(vkey.starts_with("entente/test.example+"), "{vkey}");
    let (child, lines) = start(&data);
    terminate(child);
    assert!(lines.contains(&format!("log key: {vkey}")), "{lines:?}");
}
