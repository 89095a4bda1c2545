//! C2SP tlog-checkpoint: the note text a log signs to commit to a tree head.
//!
//! ```text
//! example.com/behind-the-sofa          origin
//! 20852163                             tree size, decimal, no leading zeros
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=   RFC 6962 root hash, standard base64
//! [extension lines]
//! ```
//!
//! Parsing is strict, because two parsers that disagree on what a checkpoint says are a way
//! to show different histories to different readers: exactly one text form per value (no
//! leading zeros, canonical padded base64 of exactly 32 bytes, no empty lines, text ends in
//! a newline). Extension lines are kept verbatim so that a re-formatted checkpoint signs to
//! the same bytes. This module does not sign or verify; see [`crate::note`].

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Error, Result};
use crate::hash::Hash;

/// Longest accepted tree-size line: `u64::MAX` has 20 digits.
const MAX_SIZE_DIGITS: usize = 20;

/// A parsed checkpoint body (C2SP tlog-checkpoint "Note text").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `entente.example/log`. Non-empty.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// The RFC 6962 / RFC 9162 tree head at `size`.
    pub root: Hash,
    /// Extension lines, each non-empty, without their newline (NOT RECOMMENDED by the spec,
    /// preserved when present).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Parses a checkpoint body: the note text, including its final newline, without the
    /// blank line and signatures.
    pub fn parse(text: &str) -> Result<Self> {
        let body = text
            .strip_suffix('\n')
            .ok_or(Error::MalformedCheckpoint("text does not end in a newline"))?;
        if body.bytes().any(|b| b < b' ' && b != b'\n') {
            // C2SP signed-note: no control characters other than newline.
            return Err(Error::MalformedCheckpoint("control character"));
        }
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(Error::MalformedCheckpoint("empty origin line"));
        }
        let size = parse_size(lines.next().unwrap_or_default())?;
        let root = parse_hash(lines.next().unwrap_or_default()).ok_or(
            Error::MalformedCheckpoint("root hash is not base64 of 32 bytes"),
        )?;
        let mut extensions = Vec::new();
        for line in lines {
            if line.is_empty() {
                // C2SP tlog-checkpoint: extension lines MUST be non-empty.
                return Err(Error::MalformedCheckpoint("empty line"));
            }
            extensions.push(line.to_owned());
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Checks that the fields can be written as a checkpoint that parses back to `self`:
    /// a non-empty origin and non-empty extension lines, without newlines or other
    /// control characters.
    pub fn validate(&self) -> Result<()> {
        let bad_line = |s: &str| s.is_empty() || s.bytes().any(|b| b < b' ');
        if bad_line(&self.origin) {
            return Err(Error::MalformedCheckpoint(
                "origin is empty or has a control character",
            ));
        }
        if self.extensions.iter().any(|e| bad_line(e)) {
            return Err(Error::MalformedCheckpoint(
                "extension line is empty or has a control character",
            ));
        }
        Ok(())
    }

    /// The body as text (what [`Display`](fmt::Display) writes), after [`Self::validate`].
    pub fn to_text(&self) -> Result<String> {
        self.validate()?;
        Ok(self.to_string())
    }
}

impl fmt::Display for Checkpoint {
    /// Writes the body, each line newline-terminated. Use [`Checkpoint::to_text`] when
    /// the fields come from outside and may not form a valid checkpoint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )?;
        for e in &self.extensions {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Parses a tree size: ASCII decimal, no sign, no leading zeros except `0` itself.
fn parse_size(line: &str) -> Result<u64> {
    if line.is_empty() || line.len() > MAX_SIZE_DIGITS || !line.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(Error::MalformedCheckpoint(
            "tree size is not a decimal number",
        ));
    }
    if line.len() > 1 && line.starts_with('0') {
        return Err(Error::MalformedCheckpoint("tree size has a leading zero"));
    }
    line.parse()
        .map_err(|_| Error::MalformedCheckpoint("tree size does not fit in 64 bits"))
}

/// Decodes a hash from canonical standard base64 (padded, no stray bits), or `None`.
pub fn parse_hash(text: &str) -> Option<Hash> {
    // The STANDARD engine requires canonical padding and rejects non-zero trailing bits,
    // so each hash has exactly one accepted text form.
    let bytes = STANDARD.decode(text).ok()?;
    bytes.try_into().ok()
}

/// Encodes a hash as standard base64, as checkpoints and the JSON proof endpoints use it.
pub fn format_hash(hash: &Hash) -> String {
    STANDARD.encode(hash)
}

/// Verifies a signed checkpoint note against `verifiers` (C2SP signed-note rules, see
/// [`crate::note::open`]) and parses its text as a checkpoint.
///
/// The caller still checks that the origin is the log it expects: the key name SHOULD
/// equal the origin, but a verifier is configured with both.
pub fn open_checkpoint(
    msg: &[u8],
    verifiers: &[&dyn crate::note::NoteVerifier],
) -> Result<(Checkpoint, crate::note::VerifiedNote)> {
    let note = crate::note::open(msg, verifiers)?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    Ok((checkpoint, note))
}
