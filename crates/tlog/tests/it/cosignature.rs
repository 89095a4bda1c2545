//! `cosignature/v1`: the transparency-dev/formats vectors, the signed-message layout from
//! C2SP tlog-cosignature, and verification alongside the log's own signature.

use tlog::cosignature::{cosigned_message, split_cosignature};
use tlog::note::{SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519, key_id};
use tlog::{
    Checkpoint, CosignatureSigner, CosignatureVerifier, Ed25519Signer, Ed25519Verifier, Error,
    NoteSignature, NoteVerifier, leaf_hash, open, open_checkpoint, sign,
};

use crate::{b64, json};

#[test]
fn published_vkeys_and_timestamp() {
    let v = json("notes/cosignature-v1.json");
    let s = |k: &str| v[k].as_str().unwrap().to_owned();
    let cv = CosignatureVerifier::from_vkey(&s("cosignature_vkey")).unwrap();
    assert_eq!(cv.key_id(), 0xda77ade7);
    assert_eq!(cv.vkey(), s("cosignature_vkey"));
    // A type-0x04 key is not an Ed25519 note key, and the reverse.
    assert!(matches!(
        Ed25519Verifier::from_vkey(&s("cosignature_vkey")),
        Err(Error::UnsupportedKeyType(0x04))
    ));
    let ev = Ed25519Verifier::from_vkey(&s("ed25519_vkey_with_plus")).unwrap();
    assert_eq!(ev.key_id(), 0x7997405c);
    assert!(CosignatureVerifier::from_vkey(&s("ed25519_vkey_with_plus")).is_err());
    for bad in v["bad_vkeys"].as_array().unwrap() {
        assert!(CosignatureVerifier::from_vkey(bad.as_str().unwrap()).is_err());
        assert!(Ed25519Verifier::from_vkey(bad.as_str().unwrap()).is_err());
    }

    let raw = b64(&s("timestamped_signature_base64"));
    let (ts, _) = split_cosignature(&raw[4..]).unwrap();
    assert_eq!(ts, v["timestamp"].as_u64().unwrap());
    let raw = b64(&s("not_a_cosignature_base64"));
    assert!(matches!(
        split_cosignature(&raw[4..]),
        Err(Error::MalformedCosignature(_))
    ));
}

#[test]
fn signed_message_layout() {
    // The example of C2SP tlog-cosignature "Ed25519 signed message".
    let body =
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    let msg = cosigned_message(body, 1679315147);
    assert_eq!(
        msg,
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    );
}

#[test]
fn cosign_and_verify_with_the_log_signature() {
    let log = Ed25519Signer::from_seed("entente.example/log", &[1; 32]).unwrap();
    let witness = CosignatureSigner::from_seed("witness.example/w1", &[2; 32]).unwrap();
    let mut c = Checkpoint::new("entente.example/log", 1000, leaf_hash(b"z"));
    c.extensions.push("ext".into());
    let text = c.to_text().unwrap();

    let cosig = witness.cosign(&c, 1_700_000_000).unwrap();
    assert_eq!(cosig.signature.len(), 72);
    assert_eq!(&cosig.signature[..8], &1_700_000_000u64.to_be_bytes());
    // Key ids of the two types differ even for the same name and key.
    let pk = Ed25519Signer::from_seed("n", &[2; 32])
        .unwrap()
        .verifier()
        .public_key();
    assert_ne!(
        key_id("n", SIG_TYPE_ED25519, &pk),
        key_id("n", SIG_TYPE_COSIGNATURE_V1, &pk)
    );

    let msg = sign(&text, std::slice::from_ref(&cosig), &[&log]).unwrap();
    let wv = CosignatureVerifier::from_vkey(&witness.vkey()).unwrap();
    let lv = log.verifier();
    let (parsed, note) = open_checkpoint(msg.as_bytes(), &[&lv, &wv]).unwrap();
    assert_eq!(parsed, c);
    assert_eq!(note.verified.len(), 2);
    assert_eq!(
        wv.verify_cosignature(text.as_bytes(), &cosig.signature)
            .unwrap(),
        1_700_000_000
    );

    // The timestamp is signed: changing it breaks the cosignature.
    let mut moved = cosig.clone();
    moved.signature[7] ^= 1;
    let msg2 = sign(&text, &[moved], &[&log]).unwrap();
    assert!(matches!(
        open(msg2.as_bytes(), &[&lv, &wv]),
        Err(Error::BadSignature { .. })
    ));
    // Extension lines are covered.
    assert!(
        wv.verify_cosignature(text.replace("ext", "EXT").as_bytes(), &cosig.signature)
            .is_err()
    );
    // A plain Ed25519 signature by the witness key is not a cosignature.
    let plain = NoteSignature {
        signature: cosig.signature[8..].to_vec(),
        ..cosig.clone()
    };
    assert!(!wv.verify(text.as_bytes(), &plain.signature));
    // Timestamps above 2^63 - 1 are refused on both sides.
    assert!(witness.cosign(&c, u64::MAX).is_err());
    let mut huge = cosig.signature.clone();
    huge[0] = 0x80;
    assert!(split_cosignature(&huge).is_err());
}
