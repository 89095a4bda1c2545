//! Opaque pagination tokens (TAXII 2.1 §3.5: `next` is a server-chosen string).
//!
//! A token wraps whatever position the store needs to resume a listing (for entente, the
//! last `date_added` served, which is strictly increasing per collection, so resuming
//! "after it" never skips or repeats an object while writes go on; DESIGN.md). The bytes
//! are base64url without padding behind a one-character scheme tag, so a token needs no
//! percent-encoding in a query string and a future layout can be told apart from this one.
//! Opaque does not mean trusted: whoever decodes a token must still validate what is in
//! it, because clients can send anything.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::Error;

/// The tag of the current token layout.
const SCHEME: char = 'a';

/// Longest token accepted, in characters: cursors are small, and this bounds the work a
/// hostile `next` can cause.
const MAX_TOKEN_LEN: usize = 512;

/// A decoded `next` token: the resume position as bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageToken(Vec<u8>);

impl PageToken {
    /// A token for a resume position.
    pub fn new(position: impl Into<Vec<u8>>) -> PageToken {
        PageToken(position.into())
    }

    /// The resume position.
    pub fn position(&self) -> &[u8] {
        &self.0
    }

    /// The text to send as `next`.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(1 + self.0.len() * 4 / 3 + 4);
        out.push(SCHEME);
        URL_SAFE_NO_PAD.encode_string(&self.0, &mut out);
        out
    }

    /// Reads a `next` parameter; [`Error::InvalidToken`] if this server could not have
    /// issued it.
    pub fn decode(text: &str) -> Result<PageToken, Error> {
        if text.len() > MAX_TOKEN_LEN {
            return Err(Error::InvalidToken);
        }
        let body = text.strip_prefix(SCHEME).ok_or(Error::InvalidToken)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| Error::InvalidToken)?;
        if bytes.is_empty() {
            return Err(Error::InvalidToken);
        }
        Ok(PageToken(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let t = PageToken::new(b"2024-01-01T00:00:00.123456Z".to_vec());
        let s = t.encode();
        assert!(
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(PageToken::decode(&s).unwrap(), t);
    }

    #[test]
    fn refuses_foreign_tokens() {
        for bad in ["", "a", "b AAAA", "zAAAA", "a***", &"a".repeat(600)] {
            assert_eq!(PageToken::decode(bad), Err(Error::InvalidToken), "{bad}");
        }
    }
}
