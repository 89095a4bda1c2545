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

/// Reads lines one at a time, counting them from 1.
///
/// A line that lies whole in the reader's buffer (all but about one in 256 of 1 KB lines,
/// with [`open`]'s 256 KiB buffers) is handed out where it lies: no copy, and the newline is
/// found with `memchr`'s vectorised search. Copying every line into a `Vec` with
/// `read_until` (whose byte search is the standard library's slower generic one) was about
/// 10 % of a hunt over STIX lines that match nothing (`perf record`).
pub struct Lines<R> {
    inner: R,
    /// A line that went on past the end of the reader's buffer, copied out.
    buf: Vec<u8>,
    /// Bytes of the reader's buffer taken by the line last returned, consumed at the next
    /// call (the line borrows them until then).
    pending: usize,
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
            buf: Vec::new(),
            pending: 0,
            line: 0,
        }
    }

    /// The number of the line last returned (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// The next line, `Ok(None)` at the end of the input.
    pub fn next_line(&mut self) -> std::io::Result<Option<(u64, Line<'_>)>> {
        if self.pending > 0 {
            self.inner.consume(self.pending);
            self.pending = 0;
        }
        let (newline, available) = {
            let head = self.inner.fill_buf()?;
            (memchr::memchr(b'\n', head), head.len())
        };
        if available == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut bytes = match newline {
            Some(i) => {
                self.pending = i + 1;
                // `fill_buf` again without `consume` hands back the same buffer (the borrow
                // of the first call cannot be returned on one branch and ended on the other).
                let head = self.inner.fill_buf()?;
                &head[..i.min(head.len())]
            }
            None => {
                self.buf.clear();
                self.inner.read_until(b'\n', &mut self.buf)?;
                let b = self.buf.as_slice();
                b.strip_suffix(b"\n").unwrap_or(b)
            }
        };
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

#[cfg(test)]
mod tests {
    use std::io::BufReader;

    use super::*;

    fn all(input: &[u8], capacity: usize) -> Vec<(u64, Option<String>)> {
        let mut lines = Lines::new(BufReader::with_capacity(capacity, input));
        let mut out = Vec::new();
        while let Some((n, line)) = lines.next_line().unwrap() {
            out.push((
                n,
                match line {
                    Line::Text(t) => Some(t.to_owned()),
                    Line::NotUtf8 => None,
                },
            ));
            assert_eq!(lines.line_number(), n);
        }
        out
    }

    #[test]
    fn lines_across_buffer_ends_terminators_and_bad_utf8() {
        let input = b"first\r\nsecond line that is longer than the buffer\n\n\xff\xfe\nlast";
        for capacity in [1, 4, 7, 16, 64, 4096] {
            let got = all(input, capacity);
            let want = vec![
                (1, Some("first".to_owned())),
                (
                    2,
                    Some("second line that is longer than the buffer".to_owned()),
                ),
                (3, Some(String::new())),
                (4, None),
                (5, Some("last".to_owned())),
            ];
            assert_eq!(got, want, "buffer of {capacity}");
        }
        assert!(all(b"", 16).is_empty());
        assert_eq!(all(b"\n", 16), vec![(1, Some(String::new()))]);
    }
}
