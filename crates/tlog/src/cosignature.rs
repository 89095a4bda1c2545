//! C2SP tlog-cosignature `cosignature/v1`: a witness's timestamped Ed25519 signature on a
//! checkpoint.
//!
//! The signed message is `cosignature/v1\ntime <unix seconds>\n<checkpoint body>`, and
//! the note signature (after the 4-byte key id) is the 8-byte big-endian timestamp
//! followed by the 64-byte Ed25519 signature. Key ids use signature type 0x04, so a
//! witness key can never be mistaken for a log key. Its meaning: "as of this time, the
//! largest consistent tree I have seen for this origin has this root".
//!
//! What it deliberately doesn't do: read a clock (the caller passes the time), decide
//! quorum policy, or implement the ML-DSA-44 `subtree/v1` variant.

use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::note::{
    NoteSignature, NoteVerifier, SIG_TYPE_COSIGNATURE_V1, VerifierKey, ed25519_public, key_id,
};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};

/// Length of an Ed25519 `timestamped_signature`: 8-byte timestamp + 64-byte signature.
pub const COSIGNATURE_LEN: usize = 72;

/// The message a `cosignature/v1` signature covers (C2SP tlog-cosignature "Ed25519
/// signed message"): header line, time line, then the whole checkpoint body.
pub fn cosigned_message(checkpoint_text: &[u8], timestamp: u64) -> Vec<u8> {
    let mut msg = Vec::with_capacity(40 + checkpoint_text.len());
    msg.extend_from_slice(b"cosignature/v1\ntime ");
    msg.extend_from_slice(timestamp.to_string().as_bytes());
    msg.push(b'\n');
    msg.extend_from_slice(checkpoint_text);
    msg
}

/// Splits a cosignature (the bytes after the key id) into timestamp and signature.
pub fn split_cosignature(signature: &[u8]) -> Result<(u64, [u8; 64])> {
    if signature.len() != COSIGNATURE_LEN {
        return Err(Error::MalformedCosignature("not 8 + 64 bytes"));
    }
    let (ts, sig) = signature.split_at(8);
    let mut ts_bytes = [0u8; 8];
    ts_bytes.copy_from_slice(ts);
    let timestamp = u64::from_be_bytes(ts_bytes);
    if timestamp > i64::MAX as u64 {
        // C2SP tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1.
        return Err(Error::MalformedCosignature("timestamp above 2^63 - 1"));
    }
    let mut out = [0u8; 64];
    out.copy_from_slice(sig);
    Ok((timestamp, out))
}

/// Produces `cosignature/v1` signatures for one witness key.
///
/// Deliberately not `Debug`: the seed must not end up in logs.
#[derive(Clone)]
pub struct CosignatureSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl CosignatureSigner {
    /// A cosigner named `name` from a 32-byte Ed25519 seed the caller drew securely.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self> {
        if !crate::note::is_valid_key_name(name) {
            return Err(Error::InvalidKeyName(name.to_owned()));
        }
        let key = SigningKey::from_bytes(seed);
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(
                name,
                SIG_TYPE_COSIGNATURE_V1,
                key.verifying_key().as_bytes(),
            ),
            key,
        })
    }

    /// Cosigns `checkpoint` as of `timestamp` (POSIX seconds, at most 2^63 - 1); the
    /// result is a signature line to append to the checkpoint note.
    pub fn cosign(&self, checkpoint: &Checkpoint, timestamp: u64) -> Result<NoteSignature> {
        if timestamp > i64::MAX as u64 {
            return Err(Error::MalformedCosignature("timestamp above 2^63 - 1"));
        }
        let text = checkpoint.to_text()?;
        let sig = self.key.sign(&cosigned_message(text.as_bytes(), timestamp));
        let mut signature = Vec::with_capacity(COSIGNATURE_LEN);
        signature.extend_from_slice(&timestamp.to_be_bytes());
        signature.extend_from_slice(&sig.to_bytes());
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature,
        })
    }

    /// The matching verifier.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The vkey (type 0x04) of the matching verifier.
    pub fn vkey(&self) -> String {
        self.verifier().vkey()
    }
}

/// Checks `cosignature/v1` signatures of one witness key; a [`NoteVerifier`], so
/// cosignatures can be checked by [`crate::note::open`] alongside the log's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// A verifier for witness `name` with the 32-byte Ed25519 public key.
    pub fn new(name: &str, public_key: &[u8]) -> Result<Self> {
        Self::from_verifier_key(&VerifierKey::new(
            name,
            SIG_TYPE_COSIGNATURE_V1,
            public_key,
        )?)
    }

    /// A verifier from a parsed vkey of type 0x04.
    pub fn from_verifier_key(vkey: &VerifierKey) -> Result<Self> {
        if vkey.sig_type != SIG_TYPE_COSIGNATURE_V1 {
            return Err(Error::UnsupportedKeyType(vkey.sig_type));
        }
        Ok(Self {
            name: vkey.name.clone(),
            key_id: vkey.key_id,
            key: ed25519_public(&vkey.public_key)?,
        })
    }

    /// A verifier from a vkey string with type byte 0x04.
    pub fn from_vkey(text: &str) -> Result<Self> {
        Self::from_verifier_key(&VerifierKey::parse(text)?)
    }

    /// The vkey string of this verifier.
    pub fn vkey(&self) -> String {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            sig_type: SIG_TYPE_COSIGNATURE_V1,
            public_key: self.key.as_bytes().to_vec(),
        }
        .to_string()
    }

    /// Verifies a cosignature over the checkpoint body `text` and returns its timestamp.
    pub fn verify_cosignature(&self, text: &[u8], signature: &[u8]) -> Result<u64> {
        let (timestamp, sig) = split_cosignature(signature)?;
        let sig = ed25519_dalek::Signature::from_bytes(&sig);
        self.key
            .verify(&cosigned_message(text, timestamp), &sig)
            .map_err(|_| Error::BadSignature {
                name: self.name.clone(),
                key_id: self.key_id,
            })?;
        Ok(timestamp)
    }
}

impl NoteVerifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        self.verify_cosignature(text, signature).is_ok()
    }
}
