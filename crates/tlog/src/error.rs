//! The crate's one error type.
//!
//! Every variant is a distinct, documented failure; messages are lowercase without a trailing
//! period (STYLE.md §2). Verification failures say *what* did not hold, never just "invalid",
//! because `entente verify` prints them as the one-line cause.

/// A boxed error from a [`crate::HashStore`] implementation (SQLite, PostgreSQL, ...).
pub type StoreError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The hash store failed to read a node.
    #[error("hash store: {0}")]
    Store(#[source] StoreError),
    /// The hash store has no hash for a node that a complete tree of the requested size has.
    #[error("hash store has no node at level {level}, index {index}")]
    MissingNode {
        /// Tree level (0 = leaves).
        level: u8,
        /// Index of the node within its level.
        index: u64,
    },
    /// A leaf index is not below the tree size.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A tree size is larger than the log (or than the other tree of a consistency proof).
    #[error("tree size {size} is larger than {limit}")]
    SizeOutOfRange {
        /// The size asked for.
        size: u64,
        /// The largest size allowed here.
        limit: u64,
    },
    /// A consistency check against the empty tree, which proves nothing (RFC 9162 §2.1.4
    /// defines proofs for `0 < old`).
    #[error("consistency with the empty tree proves nothing")]
    EmptyTreeConsistency,
    /// A proof has the wrong number of hashes for its index and sizes.
    #[error("proof has {got} hashes, expected {expected}")]
    ProofLength {
        /// Hashes in the proof.
        got: usize,
        /// Hashes the index and sizes call for.
        expected: usize,
    },
    /// A proof recomputes to a different root than the one given (RFC 9162 §2.1.3.2).
    #[error("proof does not lead to the expected root hash")]
    RootMismatch,
    /// A consistency proof does not reproduce the old tree's root (RFC 9162 §2.1.4.2).
    #[error("consistency proof does not lead to the old root hash")]
    OldRootMismatch,
    /// Two trees of the same size have different roots: a fork.
    #[error("trees of equal size {size} have different root hashes")]
    EqualSizeRootMismatch {
        /// The common size.
        size: u64,
    },
    /// A witness request's old size is larger than its checkpoint's size (C2SP
    /// tlog-witness: 400).
    #[error("old size {old} is larger than the checkpoint size {new}")]
    OldSizeAboveNew {
        /// The request's old size.
        old: u64,
        /// The checkpoint's size.
        new: u64,
    },
    /// A witness request's old size is not the size the witness last cosigned (C2SP
    /// tlog-witness: 409, answered with `latest`).
    #[error("old size does not match the latest cosigned size {latest}")]
    OldSizeMismatch {
        /// The size of the latest checkpoint the witness cosigned for this origin.
        latest: u64,
    },
    /// A checkpoint body breaks C2SP tlog-checkpoint.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// A signed note breaks C2SP signed-note.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    /// A note is larger than [`crate::note::MAX_NOTE_SIZE`].
    #[error("note is {size} bytes, more than the limit of {limit}")]
    NoteTooLarge {
        /// The note's size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A note has more signature lines than [`crate::note::MAX_SIGNATURES`].
    #[error("note has more than {limit} signatures")]
    TooManySignatures {
        /// The limit.
        limit: usize,
    },
    /// A signature by a known key (name and key id match) does not verify.
    #[error("invalid signature for key {name}+{key_id:08x}")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// No signature on the note is from a known key and verifies.
    #[error("note has no verifiable signature from a known key")]
    NoVerifiedSignature,
    /// Two configured verifiers share a name and key id, so a signature cannot be attributed.
    #[error("ambiguous key {name}+{key_id:08x}")]
    AmbiguousKey {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// A verifier or signer key string is malformed.
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    /// A key's explicit key id does not match the id computed from its name and public key.
    #[error("key id {given:08x} does not match the computed id {computed:08x}")]
    KeyIdMismatch {
        /// The key id written in the key string.
        given: u32,
        /// The key id computed from name, type and public key.
        computed: u32,
    },
    /// A key has a signature type this crate does not verify.
    #[error("unsupported signature type 0x{0:02x}")]
    UnsupportedKeyType(u8),
    /// A key name is empty or contains a space, a control character or `+`.
    #[error("invalid key name {0:?}")]
    InvalidKeyName(String),
    /// A cosignature is not an 8-byte timestamp followed by a 64-byte Ed25519 signature.
    #[error("malformed cosignature: {0}")]
    MalformedCosignature(&'static str),
    /// A tile path breaks C2SP tlog-tiles.
    #[error("malformed tile path: {0}")]
    MalformedTilePath(&'static str),
    /// A tile does not exist for the given tree size (too far right, or wrong partial width).
    #[error("tile {path} does not exist in a tree of size {size}")]
    TileNotInTree {
        /// The tile's path.
        path: String,
        /// The tree size.
        size: u64,
    },
    /// A log entry is longer than an entry bundle's uint16 length prefix allows.
    #[error("entry of {0} bytes is longer than 65535")]
    EntryTooLarge(usize),
    /// An entry bundle is truncated or has a different number of entries than expected.
    #[error("malformed entry bundle: {0}")]
    MalformedBundle(&'static str),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
