//! Signed notes: the Go sumdb/note and C2SP examples as known answers, and the verification
//! rules of C2SP signed-note (unknown keys ignored, known bad signature rejects, no
//! verified signature rejects, limits).

use tlog::note::{MAX_SIGNATURES, key_id};
use tlog::{
    Ed25519Signer, Ed25519Verifier, Error, Note, NoteSignature, NoteSigner, NoteVerifier,
    VerifierKey, open, sign,
};

use crate::json;

struct Go {
    peter_vkey: String,
    peter_skey: String,
    enoch_vkey: String,
    text: String,
    peter_sig: String,
    enoch_sig: String,
}

fn go() -> Go {
    let v = json("notes/go-sumdb-note.json");
    let s = |k: &str| v[k].as_str().unwrap().to_owned();
    Go {
        peter_vkey: s("peter_vkey"),
        peter_skey: s("peter_skey"),
        enoch_vkey: s("enoch_vkey"),
        text: s("text"),
        peter_sig: s("peter_sig"),
        enoch_sig: s("enoch_sig"),
    }
}

/// Every proper substring and every single-byte increment of a key must be refused.
fn assert_manglings_fail(key: &str, parse: impl Fn(&str) -> bool) {
    let b = key.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if (i, j) != (0, b.len()) {
                let s = std::str::from_utf8(&b[i..j]).unwrap();
                assert!(!parse(s), "accepted substring {s:?}");
            }
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] = m[i].wrapping_add(1);
        if let Ok(s) = std::str::from_utf8(&m) {
            assert!(!parse(s), "accepted mangled {s:?}");
        }
    }
}

#[test]
fn go_verifier_key() {
    let g = go();
    let v = Ed25519Verifier::from_vkey(&g.peter_vkey).unwrap();
    assert_eq!(v.name(), "PeterNeumann");
    assert_eq!(v.key_id(), 0xc74f20a3);
    assert_eq!(v.vkey(), g.peter_vkey);
    assert_eq!(
        VerifierKey::parse(&g.peter_vkey).unwrap().to_string(),
        g.peter_vkey
    );
    assert_manglings_fail(&g.peter_vkey, |s| Ed25519Verifier::from_vkey(s).is_ok());
    for bad in json("notes/go-sumdb-note.json")["bad_vkeys"]
        .as_array()
        .unwrap()
    {
        assert!(
            Ed25519Verifier::from_vkey(bad.as_str().unwrap()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn go_signer_key() {
    let g = go();
    let s = Ed25519Signer::from_skey(&g.peter_skey).unwrap();
    assert_eq!(s.name(), "PeterNeumann");
    assert_eq!(s.key_id(), 0xc74f20a3);
    assert_eq!(s.skey(), g.peter_skey);
    assert_eq!(s.vkey(), g.peter_vkey);
    assert_manglings_fail(&g.peter_skey, |k| Ed25519Signer::from_skey(k).is_ok());
}

#[test]
fn go_sign_known_answer() {
    let g = go();
    let signer = Ed25519Signer::from_skey(&g.peter_skey).unwrap();
    let want = format!("{}\n{}", g.text, g.peter_sig);
    assert_eq!(sign(&g.text, &[], &[&signer]).unwrap(), want);
    // An existing signature by the same key is replaced, not duplicated.
    let stale = NoteSignature {
        name: "PeterNeumann".into(),
        key_id: 0xc74f20a3,
        signature: b"BADSIGN".to_vec(),
    };
    assert_eq!(sign(&g.text, &[stale], &[&signer]).unwrap(), want);
    assert!(matches!(
        sign("abc", &[], &[&signer]),
        Err(Error::MalformedNote(_))
    ));
    assert!(matches!(
        Ed25519Signer::from_seed("a+b", &[0; 32]),
        Err(Error::InvalidKeyName(_))
    ));
}

#[test]
fn go_open() {
    let g = go();
    let peter = Ed25519Verifier::from_vkey(&g.peter_vkey).unwrap();
    let enoch = Ed25519Verifier::from_vkey(&g.enoch_vkey).unwrap();
    let msg = format!("{}\n{}{}", g.text, g.peter_sig, g.enoch_sig);

    // One known key verifies, the other signature is unknown and kept aside.
    let n = open(msg.as_bytes(), &[&peter]).unwrap();
    assert_eq!(n.text, g.text);
    assert_eq!(n.verified.len(), 1);
    assert_eq!(n.verified[0].name, "PeterNeumann");
    assert_eq!(n.unverified.len(), 1);
    assert_eq!(n.unverified[0].key_id, 0xaf0cfe78);

    let n = open(msg.as_bytes(), &[&peter, &enoch]).unwrap();
    assert_eq!(n.verified.len(), 2);
    assert!(n.unverified.is_empty());

    assert!(matches!(
        open(msg.as_bytes(), &[]),
        Err(Error::NoVerifiedSignature)
    ));

    // Duplicated verifiers are ambiguous only when a signature needs them.
    let only_enoch = format!("{}\n{}", g.text, g.enoch_sig);
    assert!(matches!(
        open(only_enoch.as_bytes(), &[&enoch, &peter, &enoch]),
        Err(Error::AmbiguousKey { .. })
    ));
    let only_peter = format!("{}\n{}", g.text, g.peter_sig);
    open(only_peter.as_bytes(), &[&enoch, &peter, &enoch]).unwrap();

    // More than MAX_SIGNATURES lines.
    let many = format!("{}\n{}", g.text, g.peter_sig.repeat(MAX_SIGNATURES + 1));
    assert!(matches!(
        open(many.as_bytes(), &[&peter]),
        Err(Error::TooManySignatures { .. })
    ));
    assert!(open(many.as_bytes(), &[]).is_err());

    // A known key's signature that does not verify rejects the note.
    let corrupt = format!("{}ABCD{}", &g.peter_sig[..60], &g.peter_sig[60..]);
    let bad = format!("{}\n{}", g.text, corrupt);
    assert!(matches!(
        open(bad.as_bytes(), &[&peter]),
        Err(Error::BadSignature {
            key_id: 0xc74f20a3,
            ..
        })
    ));

    // Repeated lines collapse; unknown ones are kept once each.
    let enoch_corrupt = format!("{}ABCD{}", &g.enoch_sig[..60], &g.enoch_sig[60..]);
    let dup = format!(
        "{}\n{}{}{}{}{}",
        g.text, g.peter_sig, g.peter_sig, g.enoch_sig, g.enoch_sig, enoch_corrupt
    );
    let n = open(dup.as_bytes(), &[&peter]).unwrap();
    assert_eq!(n.verified.len(), 1);
    assert_eq!(n.unverified.len(), 2);

    // Malformed encodings (Go's badMsgs).
    let bad_msgs = [
        g.text.clone(),
        format!("{}\n", g.text),
        format!("{}\n{}", g.text, &g.peter_sig[..g.peter_sig.len() - 1]),
        format!("\x01{}\n{}", g.text, g.peter_sig),
        format!(
            "{}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
            g.text
        ),
        format!("{}\n{}Unexpected line.\n", g.text, g.peter_sig),
    ];
    for m in &bad_msgs {
        assert!(open(m.as_bytes(), &[&peter]).is_err(), "accepted {m:?}");
    }
    let mut invalid_utf8 = vec![0xff];
    invalid_utf8.extend_from_slice(format!("{}\n{}", g.text, g.peter_sig).as_bytes());
    assert!(matches!(
        open(&invalid_utf8, &[&peter]),
        Err(Error::MalformedNote(_))
    ));

    // Same name, other id (or the reverse) is an unknown key: ignored, not a failure.
    let renamed = g.peter_sig.replace("PeterNeumann", "CarmenSandiego");
    let m = format!("{}\n{}{}", g.text, renamed, g.peter_sig);
    let n = open(m.as_bytes(), &[&peter]).unwrap();
    assert_eq!(n.unverified[0].name, "CarmenSandiego");
}

#[test]
fn c2sp_example() {
    let v = json("notes/c2sp-signed-note.json");
    let verifier = Ed25519Verifier::from_vkey(v["vkey"].as_str().unwrap()).unwrap();
    let n = open(v["note"].as_str().unwrap().as_bytes(), &[&verifier]).unwrap();
    assert_eq!(n.text, "This is an example message.\n");
    assert_eq!(n.verified[0].name, "example.com/foo");
    let parsed = Note::parse(v["note"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(parsed.to_string(), v["note"].as_str().unwrap());
}

#[test]
fn key_id_is_sha256_of_name_type_and_key() {
    let g = go();
    let vk = VerifierKey::parse(&g.peter_vkey).unwrap();
    assert_eq!(vk.sig_type, 0x01);
    assert_eq!(key_id("PeterNeumann", 0x01, &vk.public_key), 0xc74f20a3);
}

#[test]
fn sixteen_signatures_are_accepted() {
    let signers: Vec<Ed25519Signer> = (0..16u8)
        .map(|i| Ed25519Signer::from_seed(&format!("witness{i}.example"), &[i; 32]).unwrap())
        .collect();
    let verifiers: Vec<Ed25519Verifier> = signers.iter().map(|s| s.verifier()).collect();
    let signer_refs: Vec<&dyn NoteSigner> = signers.iter().map(|s| s as &dyn NoteSigner).collect();
    let verifier_refs: Vec<&dyn NoteVerifier> =
        verifiers.iter().map(|v| v as &dyn NoteVerifier).collect();
    let msg = sign("sixteen\n", &[], &signer_refs).unwrap();
    let n = open(msg.as_bytes(), &verifier_refs).unwrap();
    assert_eq!(n.verified.len(), 16);
    // Any single one of them suffices.
    let n = open(msg.as_bytes(), &verifier_refs[7..8]).unwrap();
    assert_eq!(n.verified.len(), 1);
    assert_eq!(n.unverified.len(), 15);
}

#[test]
fn seed_round_trips_through_skey_and_vkey() {
    let s = Ed25519Signer::from_seed("entente.example/log", &[42; 32]).unwrap();
    let again = Ed25519Signer::from_skey(&s.skey()).unwrap();
    assert_eq!(again.vkey(), s.vkey());
    let v = Ed25519Verifier::from_vkey(&s.vkey()).unwrap();
    let msg = sign("hello\n\nworld\n", &[], &[&s]).unwrap();
    // The text may contain blank lines; the last one separates the signatures.
    let n = open(msg.as_bytes(), &[&v]).unwrap();
    assert_eq!(n.text, "hello\n\nworld\n");
}

#[test]
fn oversized_notes_are_refused_before_parsing() {
    let big = vec![b'a'; tlog::note::MAX_NOTE_SIZE + 1];
    assert!(matches!(Note::parse(&big), Err(Error::NoteTooLarge { .. })));
}
