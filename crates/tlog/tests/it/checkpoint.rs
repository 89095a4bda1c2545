//! Checkpoints: the Go tlog known answer and the strictness of C2SP tlog-checkpoint
//! parsing (one text form per checkpoint).

use tlog::checkpoint::{format_hash, parse_hash};
use tlog::{Checkpoint, Ed25519Signer, Error, empty_root, leaf_hash, open_checkpoint, sign};

use crate::json;

#[test]
fn go_tlog_tree_known_answer() {
    let v = json("notes/go-tlog-checkpoint.json");
    let text = v["text"].as_str().unwrap();
    let c = Checkpoint::parse(text).unwrap();
    assert_eq!(c.origin, "go.sum database tree");
    assert_eq!(c.size, 123456789012);
    assert_eq!(c.root, leaf_hash(b"hello world"));
    assert!(c.extensions.is_empty());
    assert_eq!(c.to_string(), text);
    assert_eq!(
        Checkpoint::new(
            "go.sum database tree",
            123456789012,
            leaf_hash(b"hello world")
        )
        .to_text()
        .unwrap(),
        text
    );
    for bad in v["bad"].as_array().unwrap() {
        assert!(Checkpoint::parse(bad.as_str().unwrap()).is_err(), "{bad}");
    }
}

#[test]
fn strict_parsing() {
    let root = format_hash(&empty_root());
    let ok = |t: &str| Checkpoint::parse(t).is_ok();
    assert!(ok(&format!("o\n0\n{root}\n")));
    assert!(ok(&format!("o\n18446744073709551615\n{root}\n")));
    for bad in [
        format!("o\n0\n{root}"),                        // no final newline
        format!("o\n00\n{root}\n"),                     // leading zero
        format!("o\n012\n{root}\n"),                    // leading zero
        format!("o\n+1\n{root}\n"),                     // sign
        format!("o\n-1\n{root}\n"),                     // sign
        format!("o\n 1\n{root}\n"),                     // space
        format!("o\n1 \n{root}\n"),                     // space
        format!("o\n18446744073709551616\n{root}\n"),   // overflow
        format!("\n1\n{root}\n"),                       // empty origin
        format!("o\n1\n{root}\n\n"),                    // empty extension line
        format!("o\n1\n{root}\next\n\n"),               // empty line after extension
        format!("o\n1\n{root}x\n"),                     // not base64
        format!("o\n1\n{}\n", &root[..root.len() - 1]), // missing padding
        "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n".to_owned(), // stray bits
        "o\n1\nAAAA\n".to_owned(),                      // short hash
        "o\n1\n".to_owned(),                            // two lines
        format!("o\x01\n1\n{root}\n"),                  // control character
        format!("o\r\n1\n{root}\n"),                    // CR
    ] {
        assert!(
            matches!(Checkpoint::parse(&bad), Err(Error::MalformedCheckpoint(_))),
            "accepted {bad:?}"
        );
    }
    assert!(parse_hash("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=").is_some());
}

#[test]
fn extension_lines_are_preserved() {
    let root = format_hash(&leaf_hash(b"x"));
    let text = format!("entente.example/log\n42\n{root}\nfirst ext\nsecond — ext\n");
    let c = Checkpoint::parse(&text).unwrap();
    assert_eq!(c.extensions, ["first ext", "second — ext"]);
    assert_eq!(c.to_text().unwrap(), text);
    let mut bad = c.clone();
    bad.extensions.push(String::new());
    assert!(bad.to_text().is_err());
    bad.extensions = vec!["a\nb".into()];
    assert!(bad.to_text().is_err());
}

#[test]
fn signed_checkpoint_round_trip() {
    let signer = Ed25519Signer::from_seed("entente.example/log", &[7; 32]).unwrap();
    let c = Checkpoint::new("entente.example/log", 3, leaf_hash(b"y"));
    let msg = sign(&c.to_text().unwrap(), &[], &[&signer]).unwrap();
    let (parsed, note) = open_checkpoint(msg.as_bytes(), &[&signer.verifier()]).unwrap();
    assert_eq!(parsed, c);
    assert_eq!(note.verified.len(), 1);
    // A signed note whose text is not a checkpoint is refused after verification.
    let msg = sign("just text\n", &[], &[&signer]).unwrap();
    assert!(matches!(
        open_checkpoint(msg.as_bytes(), &[&signer.verifier()]),
        Err(Error::MalformedCheckpoint(_))
    ));
    // Changing the size after signing breaks the signature.
    let tampered = sign(&c.to_text().unwrap(), &[], &[&signer])
        .unwrap()
        .replacen("\n3\n", "\n4\n", 1);
    assert!(matches!(
        open_checkpoint(tampered.as_bytes(), &[&signer.verifier()]),
        Err(Error::BadSignature { .. })
    ));
}
