//! Transparency-log math for entente: RFC 9162 Merkle trees, tree heads, inclusion and
//! consistency proofs; C2SP checkpoints, signed notes (Ed25519), `cosignature/v1` witness
//! cosignatures and tlog-tiles helpers; and the log entry DESIGN.md defines.
//!
//! What it is not: storage or I/O. The crate is pure and synchronous. Hashes of complete
//! subtrees are read through the small [`HashStore`] trait (the store crate implements it
//! over SQLite/PostgreSQL; [`MemoryStore`] is in memory), appends *return* the node hashes
//! to persist, signers are built from seeds the caller draws, and times are passed in.
//!
//! # Map
//!
//! * [`hash`]: leaf / node / empty-tree hashes (RFC 9162 §2.1.1).
//! * [`tree`]: [`NodeId`], [`HashStore`], [`append`], [`Frontier`], [`root`] — the stored
//!   complete-subtree scheme that makes a tree head or proof cost O(log n) reads.
//! * [`proof`]: inclusion and consistency proofs, generation and verification
//!   (RFC 9162 §2.1.3, §2.1.4).
//! * [`checkpoint`]: C2SP tlog-checkpoint bodies, strict parsing.
//! * [`note`]: C2SP signed-note, Ed25519 signers/verifiers, vkeys, Go signer keys.
//! * [`cosignature`]: C2SP tlog-cosignature `cosignature/v1`.
//! * [`tiles`]: C2SP tlog-tiles paths, tile contents, entry bundles.
//! * [`entry`]: the canonical log entry of an object version.
//! * [`witness`]: C2SP tlog-witness `add-checkpoint` request parsing and checks.
//!
//! # Example
//!
//! ```
//! use tlog::{Checkpoint, Ed25519Signer, MemoryStore, entry_bytes, inclusion_proof, leaf_hash,
//!            open_checkpoint, sign, verify_inclusion, LogOp};
//!
//! // The server appends an entry per object version ...
//! let mut log = MemoryStore::new();
//! let entry = entry_bytes(LogOp::Add, "collection-1", "indicator--0b0c…", "2026-01-01T00:00:00Z",
//!                         "2026-11-26T12:00:00.000Z", br#"{"type":"indicator"}"#);
//! let index = log.push(&entry);
//! log.push(b"another entry");
//!
//! // ... and signs a checkpoint of the tree head (the seed comes from the caller's RNG).
//! let key = Ed25519Signer::from_seed("entente.example/log", &[7; 32])?;
//! let checkpoint = Checkpoint::new("entente.example/log", log.size(), log.root());
//! let note = sign(&checkpoint.to_text()?, &[], &[&key])?;
//!
//! // A reader who holds the object checks the signature, then the entry's inclusion.
//! let (seen, _) = open_checkpoint(note.as_bytes(), &[&key.verifier()])?;
//! let proof = inclusion_proof(&log, index, seen.size)?;
//! verify_inclusion(&leaf_hash(&entry), index, seen.size, &proof, &seen.root)?;
//! # Ok::<(), tlog::Error>(())
//! ```
//!
//! # Invariants
//!
//! * **No input panics**: parsers and verifiers return [`Error`]s (fuzzed by
//!   `fuzz/fuzz_targets/tlog_note.rs`).
//! * **One text form per value**: checkpoints, keys and tile paths parse strictly, so two
//!   readers cannot disagree on what a signed checkpoint says.
//! * **Verification never trusts the prover**: proof lengths are checked against index
//!   and sizes before hashing, and every failure has a specific [`Error`].
//!
//! Tests: `tests/it/` (known-answer vectors under `tests/data/`, listed in
//! `tests/data/SOURCES.md`; property tests); bench: `benches/tlog.rs`.

pub mod checkpoint;
pub mod cosignature;
pub mod entry;
pub mod error;
pub mod hash;
pub mod note;
pub mod proof;
pub mod tiles;
pub mod tree;
pub mod witness;

pub use checkpoint::{Checkpoint, open_checkpoint};
pub use cosignature::{CosignatureSigner, CosignatureVerifier};
pub use entry::{LogOp, entry_bytes};
pub use error::{Error, Result};
pub use hash::{HASH_SIZE, Hash, empty_root, leaf_hash, node_hash};
pub use note::{
    Ed25519Signer, Ed25519Verifier, Note, NoteSignature, NoteSigner, NoteVerifier, VerifiedNote,
    VerifierKey, open, sign,
};
pub use proof::{consistency_proof, inclusion_proof, verify_consistency, verify_inclusion};
pub use tiles::{Tile, TileKind};
pub use tree::{Frontier, HashStore, MemoryStore, NodeId, append, root};
