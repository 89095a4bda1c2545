//! C2SP signed-note: text signed by one or more keys, with Ed25519 signers and verifiers,
//! key ids, verifier keys (`vkey`s) and Go-compatible signer keys.
//!
//! ```text
//! <text, ending in a newline>
//!
//! — <key name> <base64(4-byte key id || signature)>
//! ```
//!
//! [`Note::parse`] checks syntax only; [`open`] parses and verifies against the verifiers
//! the caller trusts, with the spec's rules: signatures from unknown keys (name *and* id
//! must match) are ignored, a known key's failing signature rejects the note, and a note
//! with no verified signature is rejected. Limits ([`MAX_NOTE_SIZE`], [`MAX_SIGNATURES`])
//! bound the work any input causes; at least 16 signatures are always accepted, as the
//! spec requires.
//!
//! What it deliberately doesn't do: generate randomness (signers are built from a 32-byte
//! seed the caller draws, so this crate stays pure) or interpret the text — checkpoints are
//! [`crate::checkpoint`], cosignatures [`crate::cosignature`].

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Largest note [`Note::parse`] accepts, in bytes. A checkpoint with 100 post-quantum
/// cosignatures (the largest C2SP mentions, ~5 kB each) still fits.
pub const MAX_NOTE_SIZE: usize = 1 << 20;

/// Most signature lines a note may carry (C2SP signed-note: at least 16 MUST be accepted;
/// Go's `sumdb/note` uses the same limit).
pub const MAX_SIGNATURES: usize = 100;

/// Signature type byte of Ed25519 note signatures (C2SP signed-note).
pub const SIG_TYPE_ED25519: u8 = 0x01;

/// Signature type byte of timestamped Ed25519 checkpoint cosignatures (C2SP
/// tlog-cosignature, `cosignature/v1`).
pub const SIG_TYPE_COSIGNATURE_V1: u8 = 0x04;

/// The em dash and space that open a signature line (C2SP signed-note: U+2014, U+0020).
const SIG_PREFIX: &str = "\u{2014} ";

/// Prefix of Go-format signer keys (`golang.org/x/mod/sumdb/note`).
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// The key id: `SHA-256(name || "\n" || sig_type || public_key)[:4]` as a big-endian
/// integer (C2SP signed-note "Signatures").
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([sig_type]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Whether `name` may name a key: non-empty, no Unicode space, no `+`, no control
/// character (C2SP signed-note "Format").
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c < ' ')
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key id (first four bytes of the decoded signature).
    pub key_id: u32,
    /// The signature bytes after the key id.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, `— <name> <base64(id || signature)>\n`.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, STANDARD.encode(raw))
    }

    /// Parses one signature line without its newline.
    fn parse_line(line: &str) -> Result<Self> {
        let rest = line.strip_prefix(SIG_PREFIX).ok_or(Error::MalformedNote(
            "signature line does not start with an em dash",
        ))?;
        let (name, b64) = rest.split_once(' ').ok_or(Error::MalformedNote(
            "signature line has no space after the name",
        ))?;
        if !is_valid_key_name(name) {
            return Err(Error::MalformedNote("invalid key name in signature line"));
        }
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| Error::MalformedNote("signature is not canonical base64"))?;
        if raw.len() < 5 {
            return Err(Error::MalformedNote("signature shorter than a key id"));
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            signature: raw[4..].to_vec(),
        })
    }
}

/// A parsed, not yet verified, signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The text, including its final newline.
    pub text: String,
    /// The signature lines in order.
    pub signatures: Vec<NoteSignature>,
}

/// Checks the text rules shared by parsing and signing: ends in a newline, no control
/// character but newline (C2SP signed-note "Format").
fn check_text(text: &str) -> Result<()> {
    if !text.ends_with('\n') {
        return Err(Error::MalformedNote("text does not end in a newline"));
    }
    if text.bytes().any(|b| b < b' ' && b != b'\n') {
        return Err(Error::MalformedNote("control character"));
    }
    Ok(())
}

impl Note {
    /// Parses a signed note's syntax. Signatures are not verified; use [`open`].
    pub fn parse(msg: &[u8]) -> Result<Self> {
        if msg.len() > MAX_NOTE_SIZE {
            return Err(Error::NoteTooLarge {
                size: msg.len(),
                limit: MAX_NOTE_SIZE,
            });
        }
        let msg = std::str::from_utf8(msg).map_err(|_| Error::MalformedNote("not UTF-8"))?;
        if msg.bytes().any(|b| b < b' ' && b != b'\n') {
            return Err(Error::MalformedNote("control character"));
        }
        // The text is separated from the signatures by the *last* empty line.
        let split = msg
            .rfind("\n\n")
            .ok_or(Error::MalformedNote("no blank line before the signatures"))?;
        let text = &msg[..split + 1];
        let sigs = &msg[split + 2..];
        let sigs = sigs
            .strip_suffix('\n')
            .ok_or(Error::MalformedNote("signatures do not end in a newline"))?;
        if sigs.is_empty() {
            return Err(Error::MalformedNote("no signature lines"));
        }
        let mut signatures = Vec::new();
        for line in sigs.split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(Error::TooManySignatures {
                    limit: MAX_SIGNATURES,
                });
            }
            signatures.push(NoteSignature::parse_line(line)?);
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Checks that the note can be written so that it parses back to itself.
    pub fn validate(&self) -> Result<()> {
        check_text(&self.text)?;
        if self.signatures.is_empty() {
            return Err(Error::MalformedNote("no signature lines"));
        }
        if self.signatures.len() > MAX_SIGNATURES {
            return Err(Error::TooManySignatures {
                limit: MAX_SIGNATURES,
            });
        }
        if let Some(s) = self.signatures.iter().find(|s| !is_valid_key_name(&s.name)) {
            return Err(Error::InvalidKeyName(s.name.clone()));
        }
        if self.signatures.iter().any(|s| s.signature.is_empty()) {
            return Err(Error::MalformedNote("empty signature"));
        }
        Ok(())
    }

    /// The encoded note, after [`Note::validate`].
    pub fn to_text(&self) -> Result<String> {
        self.validate()?;
        Ok(self.to_string())
    }
}

impl fmt::Display for Note {
    /// Writes text, blank line and signature lines. Use [`Note::to_text`] for notes built
    /// from outside data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        f.write_str("\n")?;
        for s in &self.signatures {
            f.write_str(&s.to_line())?;
        }
        Ok(())
    }
}

/// Something that checks note signatures for one key.
pub trait NoteVerifier {
    /// The key name.
    fn name(&self) -> &str;
    /// The key id.
    fn key_id(&self) -> u32;
    /// Whether `signature` (the bytes after the key id) is valid over the note `text`.
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool;
}

/// Something that signs notes with one key.
pub trait NoteSigner {
    /// The key name.
    fn name(&self) -> &str;
    /// The key id.
    fn key_id(&self) -> u32;
    /// The signature (without key id) over the note `text`.
    fn sign(&self, text: &[u8]) -> Result<Vec<u8>>;
}

/// A note whose signatures were checked by [`open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The text, including its final newline.
    pub text: String,
    /// Signatures from known keys, all valid; one per key.
    pub verified: Vec<NoteSignature>,
    /// Signatures from keys the caller did not configure (ignored, kept for relaying).
    pub unverified: Vec<NoteSignature>,
}

/// Parses `msg` and verifies its signatures against `verifiers` (C2SP signed-note
/// "Signatures").
///
/// Fails if a signature from a known key does not verify, if two verifiers share a name
/// and key id, or if no known key signed the note.
pub fn open(msg: &[u8], verifiers: &[&dyn NoteVerifier]) -> Result<VerifiedNote> {
    let note = Note::parse(msg)?;
    let mut verified: Vec<NoteSignature> = Vec::new();
    let mut unverified: Vec<NoteSignature> = Vec::new();
    for sig in note.signatures {
        let mut matching = verifiers
            .iter()
            .filter(|v| v.name() == sig.name && v.key_id() == sig.key_id);
        let Some(v) = matching.next() else {
            // Unknown key (name and id must both match): ignored, per the spec.
            if !unverified.contains(&sig) {
                unverified.push(sig);
            }
            continue;
        };
        if matching.next().is_some() {
            return Err(Error::AmbiguousKey {
                name: sig.name,
                key_id: sig.key_id,
            });
        }
        if !v.verify(note.text.as_bytes(), &sig.signature) {
            return Err(Error::BadSignature {
                name: sig.name,
                key_id: sig.key_id,
            });
        }
        if !verified
            .iter()
            .any(|s| s.name == sig.name && s.key_id == sig.key_id)
        {
            verified.push(sig);
        }
    }
    if verified.is_empty() {
        return Err(Error::NoVerifiedSignature);
    }
    Ok(VerifiedNote {
        text: note.text,
        verified,
        unverified,
    })
}

/// Signs `text` with each signer, keeping `existing` signatures except those by the same
/// keys (a key signs a note once), and returns the encoded note.
pub fn sign(text: &str, existing: &[NoteSignature], signers: &[&dyn NoteSigner]) -> Result<String> {
    check_text(text)?;
    let mut signatures: Vec<NoteSignature> = existing
        .iter()
        .filter(|s| {
            !signers
                .iter()
                .any(|k| k.name() == s.name && k.key_id() == s.key_id)
        })
        .cloned()
        .collect();
    for signer in signers {
        if !is_valid_key_name(signer.name()) {
            return Err(Error::InvalidKeyName(signer.name().to_owned()));
        }
        signatures.push(NoteSignature {
            name: signer.name().to_owned(),
            key_id: signer.key_id(),
            signature: signer.sign(text.as_bytes())?,
        });
    }
    Note {
        text: text.to_owned(),
        signatures,
    }
    .to_text()
}

/// A verifier key, `<name>+<hex key id>+<base64(type || public key)>` (C2SP signed-note
/// "Verifier keys"), of any signature type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    /// The key name.
    pub name: String,
    /// The key id; [`VerifierKey::parse`] checks it against name, type and key.
    pub key_id: u32,
    /// The signature type byte ([`SIG_TYPE_ED25519`], [`SIG_TYPE_COSIGNATURE_V1`], ...).
    pub sig_type: u8,
    /// The public key material after the type byte.
    pub public_key: Vec<u8>,
}

impl VerifierKey {
    /// Builds the vkey of a public key, computing its key id.
    pub fn new(name: &str, sig_type: u8, public_key: &[u8]) -> Result<Self> {
        if !is_valid_key_name(name) {
            return Err(Error::InvalidKeyName(name.to_owned()));
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, sig_type, public_key),
            sig_type,
            public_key: public_key.to_vec(),
        })
    }

    /// Parses a vkey and checks that its key id is the one computed from its name, type
    /// and public key (the id recommended by C2SP signed-note, which every type this crate
    /// knows uses).
    pub fn parse(text: &str) -> Result<Self> {
        // Name and id contain no '+'; the base64 key material may.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::MalformedKey(
                "a vkey has three parts separated by '+'",
            ));
        };
        if !is_valid_key_name(name) {
            return Err(Error::InvalidKeyName(name.to_owned()));
        }
        let given = parse_key_id(id_hex)?;
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| Error::MalformedKey("public key is not canonical base64"))?;
        let (&sig_type, public_key) = raw
            .split_first()
            .ok_or(Error::MalformedKey("empty public key"))?;
        let computed = key_id(name, sig_type, public_key);
        if given != computed {
            return Err(Error::KeyIdMismatch { given, computed });
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: given,
            sig_type,
            public_key: public_key.to_vec(),
        })
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(1 + self.public_key.len());
        raw.push(self.sig_type);
        raw.extend_from_slice(&self.public_key);
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(raw)
        )
    }
}

/// Parses the 8 lowercase hex digits of a key id.
fn parse_key_id(text: &str) -> Result<u32> {
    if text.len() != 8 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(Error::MalformedKey("key id is not 8 lowercase hex digits"));
    }
    u32::from_str_radix(text, 16).map_err(|_| Error::MalformedKey("key id is not hex"))
}

/// Decodes a 32-byte Ed25519 public key, rejecting encodings that are not curve points.
pub(crate) fn ed25519_public(bytes: &[u8]) -> Result<VerifyingKey> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| Error::MalformedKey("Ed25519 public key is not 32 bytes"))?;
    VerifyingKey::from_bytes(&arr).map_err(|_| Error::MalformedKey("not an Ed25519 public key"))
}

/// Verifies Ed25519 note signatures (type 0x01) for one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ed25519Verifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl Ed25519Verifier {
    /// A verifier for `name` with the 32-byte public key `public_key`.
    pub fn new(name: &str, public_key: &[u8]) -> Result<Self> {
        let vkey = VerifierKey::new(name, SIG_TYPE_ED25519, public_key)?;
        Self::from_verifier_key(&vkey)
    }

    /// A verifier from a parsed vkey of type 0x01.
    pub fn from_verifier_key(vkey: &VerifierKey) -> Result<Self> {
        if vkey.sig_type != SIG_TYPE_ED25519 {
            return Err(Error::UnsupportedKeyType(vkey.sig_type));
        }
        Ok(Self {
            name: vkey.name.clone(),
            key_id: vkey.key_id,
            key: ed25519_public(&vkey.public_key)?,
        })
    }

    /// A verifier from a vkey string, e.g. `example.com/foo+530d903a+Aeky...`.
    pub fn from_vkey(text: &str) -> Result<Self> {
        Self::from_verifier_key(&VerifierKey::parse(text)?)
    }

    /// The vkey string of this verifier.
    pub fn vkey(&self) -> String {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            sig_type: SIG_TYPE_ED25519,
            public_key: self.key.as_bytes().to_vec(),
        }
        .to_string()
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
}

impl NoteVerifier for Ed25519Verifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        // Cofactorless RFC 8032 verification with canonical `s`, as Go's crypto/ed25519
        // does it, so that notes Go's sumdb/note accepts are accepted here and vice versa.
        self.key.verify(text, &sig).is_ok()
    }
}

/// Signs notes with an Ed25519 key (type 0x01).
///
/// Deliberately not `Debug`: the seed must not end up in logs.
#[derive(Clone)]
pub struct Ed25519Signer {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl Ed25519Signer {
    /// A signer named `name` from a 32-byte Ed25519 seed (RFC 8032 private key) that the
    /// caller drew from a secure random source.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self> {
        if !is_valid_key_name(name) {
            return Err(Error::InvalidKeyName(name.to_owned()));
        }
        let key = SigningKey::from_bytes(seed);
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, SIG_TYPE_ED25519, key.verifying_key().as_bytes()),
            key,
        })
    }

    /// Parses a Go-format signer key, `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`
    /// (`golang.org/x/mod/sumdb/note`), checking the key id.
    pub fn from_skey(text: &str) -> Result<Self> {
        let rest = text
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or(Error::MalformedKey(
                "signer key does not start with PRIVATE+KEY+",
            ))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::MalformedKey(
                "a signer key has five parts separated by '+'",
            ));
        };
        let given = parse_key_id(id_hex)?;
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| Error::MalformedKey("private key is not canonical base64"))?;
        let (&sig_type, seed) = raw
            .split_first()
            .ok_or(Error::MalformedKey("empty private key"))?;
        if sig_type != SIG_TYPE_ED25519 {
            return Err(Error::UnsupportedKeyType(sig_type));
        }
        let seed: &[u8; 32] = seed
            .try_into()
            .map_err(|_| Error::MalformedKey("Ed25519 seed is not 32 bytes"))?;
        let signer = Self::from_seed(name, seed)?;
        if signer.key_id != given {
            return Err(Error::KeyIdMismatch {
                given,
                computed: signer.key_id,
            });
        }
        Ok(signer)
    }

    /// The Go-format signer key string. Secret: write it only to a 0600 file.
    pub fn skey(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(SIG_TYPE_ED25519);
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "{PRIVATE_KEY_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(raw)
        )
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Ed25519Verifier {
        Ed25519Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The vkey string of the matching verifier.
    pub fn vkey(&self) -> String {
        self.verifier().vkey()
    }
}

impl NoteSigner for Ed25519Signer {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn sign(&self, text: &[u8]) -> Result<Vec<u8>> {
        Ok(self.key.sign(text).to_bytes().to_vec())
    }
}
