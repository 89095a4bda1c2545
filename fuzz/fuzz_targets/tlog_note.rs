//! Fuzz target: any bytes through the `tlog` parsers and verifiers — signed notes (parsed and
//! opened against an Ed25519 key and a cosignature key), checkpoints, verifier and signer
//! keys, tile paths, entry bundles, witness `add-checkpoint` bodies, and the bytes read as
//! inclusion/consistency proofs.
//!
//! Invariants checked beyond "never panics": a note or checkpoint that parses writes back
//! to exactly the input (one text form per value), and decoded entry bundles and
//! `add-checkpoint` bodies re-encode to the input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tlog::note::{NoteVerifier, VerifierKey};
use tlog::tiles::{decode_entry_bundle, encode_entry_bundle, parse_tile_path};
use tlog::witness::{AddCheckpoint, check_add_checkpoint};
use tlog::{
    Checkpoint, CosignatureSigner, Ed25519Signer, Hash, Note, open, verify_consistency,
    verify_inclusion,
};

fuzz_target!(|data: &[u8]| {
    // Fixed keys, so the fuzzer can reach the verification paths by matching names/ids.
    let log = Ed25519Signer::from_seed("log", &[1; 32])
        .unwrap()
        .verifier();
    let witness = CosignatureSigner::from_seed("w", &[2; 32])
        .unwrap()
        .verifier();
    let verifiers: [&dyn NoteVerifier; 2] = [&log, &witness];

    if let Ok(note) = Note::parse(data) {
        assert_eq!(
            note.to_string().as_bytes(),
            data,
            "note does not round-trip"
        );
    }
    let _ = open(data, &verifiers);
    let _ = tlog::open_checkpoint(data, &verifiers);

    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = Checkpoint::parse(text) {
            assert_eq!(c.to_string(), text, "checkpoint does not round-trip");
        }
        if let Ok(k) = VerifierKey::parse(text) {
            assert_eq!(k.to_string(), text, "vkey does not round-trip");
        }
        let _ = Ed25519Signer::from_skey(text);
        if let Ok((_, tile)) = parse_tile_path(text) {
            let _ = tile.path();
            let _ = tile.node_ids();
        }
    }

    if let Ok(req) = AddCheckpoint::parse(data) {
        assert_eq!(
            req.to_bytes(),
            data,
            "add-checkpoint body does not round-trip"
        );
        let _ = req.origin();
        let _ = check_add_checkpoint(&req, &verifiers, None);
    }

    if let Ok(entries) = decode_entry_bundle(data) {
        let again = encode_entry_bundle(entries.iter().copied()).unwrap();
        assert_eq!(again, data, "entry bundle does not round-trip");
    }

    // The bytes as a proof: two u64s, then 32-byte hashes (leaf/old root, root, proof).
    if data.len() >= 16 + 64 {
        let a = u64::from_be_bytes(data[0..8].try_into().unwrap());
        let b = u64::from_be_bytes(data[8..16].try_into().unwrap());
        let hashes: Vec<Hash> = data[16..]
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap())
            .collect();
        let (first, second, proof) = (&hashes[0], &hashes[1], &hashes[2..]);
        let _ = verify_inclusion(first, a, b, proof, second);
        let _ = verify_consistency(a, b, first, second, proof);
        let _ = verify_consistency(a % 4096, b % 4096, first, second, proof);
    }
});
