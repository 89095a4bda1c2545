//! C2SP tlog-witness `add-checkpoint`: the request body and the witness's checks, pure.
//!
//! Request body: `old <size>\n`, at most 63 base64 consistency-proof lines, an empty line,
//! then the signed checkpoint note. [`check_add_checkpoint`] applies the spec's checks in
//! its order (signature, old ≤ new, old = the size the witness last cosigned, empty-tree
//! root, proof) and [`add_checkpoint_status`] names the HTTP status the spec assigns to
//! each failure.
//!
//! What it deliberately doesn't do: HTTP, state persistence (the spec requires the witness
//! to persist its new state atomically *before* replying — that is the caller's job), or
//! choosing which logs to trust (the caller looks up the verifiers by
//! [`AddCheckpoint::origin`] and answers 404 for an unknown origin).

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::checkpoint::{Checkpoint, parse_hash};
use crate::error::{Error, Result};
use crate::hash::{Hash, empty_root};
use crate::note::{Note, NoteVerifier, VerifiedNote, open};
use crate::proof::verify_consistency;

/// Most consistency-proof lines a request may carry (C2SP tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

/// A parsed `add-checkpoint` request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness last cosigned.
    pub old: u64,
    /// Consistency proof from `old` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, as sent.
    pub checkpoint: Vec<u8>,
}

impl AddCheckpoint {
    /// Parses a request body.
    pub fn parse(body: &[u8]) -> Result<Self> {
        let bad = Error::MalformedNote;
        let nl = body
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(bad("add-checkpoint: no old size line"))?;
        let old_line = std::str::from_utf8(&body[..nl])
            .map_err(|_| bad("add-checkpoint: old size line is not UTF-8"))?;
        let old_text = old_line
            .strip_prefix("old ")
            .ok_or(bad("add-checkpoint: first line is not `old <size>`"))?;
        let old = parse_decimal(old_text).ok_or(bad("add-checkpoint: bad old size"))?;
        let mut rest = &body[nl + 1..];
        let mut proof = Vec::new();
        loop {
            let nl = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or(bad("add-checkpoint: no empty line before the checkpoint"))?;
            let line = &rest[..nl];
            rest = &rest[nl + 1..];
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad("add-checkpoint: more than 63 proof lines"));
            }
            let hash = std::str::from_utf8(line)
                .ok()
                .and_then(parse_hash)
                .ok_or(bad("add-checkpoint: proof line is not base64 of 32 bytes"))?;
            proof.push(hash);
        }
        Ok(Self {
            old,
            proof,
            checkpoint: rest.to_vec(),
        })
    }

    /// The request body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!("old {}\n", self.old);
        for h in &self.proof {
            let _ = writeln!(head, "{}", STANDARD.encode(h));
        }
        head.push('\n');
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// The checkpoint's origin line, read *without* verifying anything, so the witness can
    /// look up the keys it trusts for that log.
    pub fn origin(&self) -> Result<String> {
        let note = Note::parse(&self.checkpoint)?;
        Ok(Checkpoint::parse(&note.text)?.origin)
    }
}

/// Decimal without leading zeros (except `0`).
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return None;
    }
    text.parse().ok()
}

/// Runs the C2SP tlog-witness checks on a request for a log whose trusted keys are
/// `log_verifiers`, given the size and root the witness last cosigned for this origin
/// (`None` if never). On success returns the checkpoint to cosign (and record, before
/// replying).
pub fn check_add_checkpoint(
    request: &AddCheckpoint,
    log_verifiers: &[&dyn NoteVerifier],
    latest: Option<(u64, Hash)>,
) -> Result<(Checkpoint, VerifiedNote)> {
    let note = open(&request.checkpoint, log_verifiers)?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    let new = checkpoint.size;
    if request.old > new {
        return Err(Error::OldSizeAboveNew {
            old: request.old,
            new,
        });
    }
    let (latest_size, latest_root) = latest.unwrap_or((0, empty_root()));
    if request.old != latest_size {
        return Err(Error::OldSizeMismatch {
            latest: latest_size,
        });
    }
    if new == 0 && checkpoint.root != empty_root() {
        // A tree of size zero has the empty-string hash as its root (RFC 6962 §2.1).
        return Err(Error::RootMismatch);
    }
    if request.old == 0 {
        // The empty tree is consistent with every tree: no proof may be sent.
        if !request.proof.is_empty() {
            return Err(Error::ProofLength {
                got: request.proof.len(),
                expected: 0,
            });
        }
    } else {
        verify_consistency(
            request.old,
            new,
            &latest_root,
            &checkpoint.root,
            &request.proof,
        )?;
    }
    Ok((checkpoint, note))
}

/// The HTTP status C2SP tlog-witness assigns to a failed [`check_add_checkpoint`] (or
/// [`AddCheckpoint::parse`]): 403 for signatures, 409 for a stale old size, 400 for a
/// malformed request or old > new, 422 for anything the proof or roots get wrong.
pub fn add_checkpoint_status(error: &Error) -> u16 {
    match error {
        Error::BadSignature { .. } | Error::NoVerifiedSignature | Error::AmbiguousKey { .. } => 403,
        Error::OldSizeMismatch { .. } => 409,
        Error::OldSizeAboveNew { .. }
        | Error::MalformedNote(_)
        | Error::MalformedCheckpoint(_)
        | Error::NoteTooLarge { .. }
        | Error::TooManySignatures { .. } => 400,
        _ => 422,
    }
}
