//! No input panics: arbitrary bytes through every parser and verifier, and round trips of
//! valid notes and checkpoints.

use proptest::prelude::*;
use tlog::note::VerifierKey;
use tlog::tiles::{decode_entry_bundle, decode_index, parse_tile_path};
use tlog::{
    Checkpoint, Ed25519Signer, Note, NoteSignature, leaf_hash, open, verify_consistency,
    verify_inclusion,
};

/// Text drawn mostly from the characters notes are made of, so the parser gets deep.
fn noteish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\n".to_owned()),
            Just("\n\n".to_owned()),
            Just("— ".to_owned()),
            Just(" ".to_owned()),
            Just("+".to_owned()),
            Just("=".to_owned()),
            Just("0".to_owned()),
            "[a-zA-Z0-9/+]{1,12}",
            any::<char>().prop_map(String::from),
        ],
        0..40,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), text in noteish()) {
        let signer = Ed25519Signer::from_seed("k", &[3; 32]).unwrap();
        let v = signer.verifier();
        for input in [bytes.as_slice(), text.as_bytes()] {
            let _ = Note::parse(input);
            let _ = open(input, &[&v]);
            if let Ok(s) = std::str::from_utf8(input) {
                let _ = Checkpoint::parse(s);
                let _ = VerifierKey::parse(s);
                let _ = Ed25519Signer::from_skey(s);
                let _ = parse_tile_path(s);
                let _ = decode_index(s);
            }
            let _ = decode_entry_bundle(input);
        }
    }

    #[test]
    fn verifiers_never_panic(
        index in any::<u64>(), size in any::<u64>(), old in any::<u64>(),
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..70),
        root in any::<[u8; 32]>(),
    ) {
        let leaf = leaf_hash(b"x");
        let _ = verify_inclusion(&leaf, index, size, &proof, &root);
        let _ = verify_consistency(old, size, &root, &leaf, &proof);
        let _ = verify_consistency(old % 1000, size % 1000, &root, &leaf, &proof);
    }

    #[test]
    fn notes_round_trip(
        lines in proptest::collection::vec("[^\u{0}-\u{1f}]{0,30}", 1..5),
        sigs in proptest::collection::vec(("[a-z.]{1,10}/[a-z0-9]{1,5}", any::<u32>(), proptest::collection::vec(any::<u8>(), 1..80)), 1..20),
    ) {
        let text = lines.join("\n") + "\n";
        let note = Note {
            text,
            signatures: sigs
                .into_iter()
                .map(|(name, key_id, signature)| NoteSignature { name, key_id, signature })
                .collect(),
        };
        let encoded = note.to_text().unwrap();
        prop_assert_eq!(Note::parse(encoded.as_bytes()).unwrap(), note);
    }

    #[test]
    fn checkpoints_round_trip(
        origin in "[^\u{0}-\u{1f}]{1,40}",
        size in any::<u64>(),
        root in any::<[u8; 32]>(),
        extensions in proptest::collection::vec("[^\u{0}-\u{1f}]{1,20}", 0..3),
    ) {
        let c = Checkpoint { origin, size, root, extensions };
        let text = c.to_text().unwrap();
        prop_assert_eq!(Checkpoint::parse(&text).unwrap(), c);
    }
}
