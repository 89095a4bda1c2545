//! Opening inputs: plain or gzip (told by the magic bytes, not the name), read line by line.
//!
//! gzip is recognised by its two magic bytes `1f 8b` (RFC 1952 §2.3.1) so that a `.log`
//! that is really compressed, or a `.gz` that is not, is read correctly. A
//! `MultiGzDecoder` reads every member, because rotated logs are often concatenated `.gz`
//! files (RFC 1952 §2.2 allows several members).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::Error;

/// Opens `path` for buffered reading, decompressing gzip when its content starts with the
/// gzip magic bytes.
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    from_reader(Box::new(file)).map_err(io)
}

/// Wraps any reader the same way as [`open`] (gzip detected from the first bytes).
pub fn from_reader(inner: Box<dyn Read + Send>) -> std::io::Result<Box<dyn BufRead + Send>> {
    let mut buffered = BufReader::with_capacity(256 * 1024, inner);
    let head = buffered.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let decoder = flate2::bufread::MultiGzDecoder::new(buffered);
        Ok(Box::new(BufReader::with_capacity(256 * 1024, decoder)))
    } else {
        Ok(Box::new(buffered))
    }
}

/// Reads lines one at a time into a reused buffer, counting them from 1.
pub struct Lines<R> {
    inner: R,
    buf: Vec<u8>,
    line: u64,
}

/// One line: its number and its text, or the fact that it is not UTF-8.
#[derive(Debug)]
pub enum Line<'a> {
    /// A line of valid UTF-8, without its line terminator (`\n` or `\r\n`).
    Text(&'a str),
    /// A line that is not valid UTF-8.
    NotUtf8,
}

impl<R: BufRead> Lines<R> {
    /// Reads lines from `inner`.
    pub fn new(inner: R) -> Self {
        Lines {
            inner,
            buf: Vec::with_capacity(4096),
            line: 0,
        }
    }

    /// The number of the line last returned (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// The next line, `Ok(None)` at the end of the input.
    pub fn next_line(&mut self) -> std::io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        let n = self.inner.read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut bytes = self.buf.as_slice();
        if let Some(b) = bytes.strip_suffix(b"\n") {
            bytes = b;
        }
        if let Some(b) = bytes.strip_suffix(b"\r") {
            bytes = b;
        }
        let line = match std::str::from_utf8(bytes) {
            Ok(s) => Line::Text(s),
            Err(_) => Line::NotUtf8,
        };
        Ok(Some((self.line, line)))
    }
}
