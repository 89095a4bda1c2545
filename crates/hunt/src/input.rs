//! Opening inputs: plain or gzip (told by the magic bytes, not the name), read line by line.
//!
//! gzip is recognised by its two magic bytes `1f 8b` (RFC 1952 §2.3.1) so that a `.log`
//! that is really compressed, or a `.gz` that is not, is read correctly. A
//! `MultiGzDecoder` reads every member, because rotated logs are often concatenated `.gz`
//! files (RFC 1952 §2.2 allows several members).
//!
//! Reading (the kernel's copy of the file, and gzip's inflation) runs on a thread of its own
//! a few chunks ahead ([`ReadAhead`]), so the thread that matches spends its time matching:
//! the copy alone was ~12 % of the event loop's CPU over STIX lines (`perf`, 2026-11-27),
//! and inflating a gzip log costs more than matching it.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

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

/// The whole of `path`, inflated when it is gzip: for a file read at once (an indicator
/// source), where a reading thread would only add a copy. A plain file is read straight
/// into a buffer of its size.
pub fn read_all(path: &Path) -> Result<Vec<u8>, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut inflated = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut inflated)
        .map_err(io)?;
    Ok(inflated)
}

/// Wraps any reader the same way as [`open`] (gzip detected from the first bytes).
pub fn from_reader(inner: Box<dyn Read + Send>) -> std::io::Result<Box<dyn BufRead + Send>> {
    let mut buffered = BufReader::with_capacity(256 * 1024, inner);
    let head = buffered.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let decoder = flate2::bufread::MultiGzDecoder::new(buffered);
        Ok(Box::new(ReadAhead::spawn(Box::new(decoder), CHUNK)?))
    } else {
        Ok(Box::new(ReadAhead::spawn(Box::new(buffered), CHUNK)?))
    }
}

/// Bytes per chunk the reading thread hands over. Lines that cross a chunk's end are
/// copied by [`Lines`]: one in ~1,000 lines of 1 KB.
const CHUNK: usize = 1 << 20;
/// Chunks read ahead, at most: memory stays at a few MiB whatever the input's size.
const AHEAD: usize = 4;

/// A [`BufRead`] whose bytes are read by another thread, [`AHEAD`] chunks ahead at most.
///
/// An error of the underlying reader is returned once, after the bytes read before it; then
/// the input ends. Dropping it ends the thread as soon as that thread's current read returns.
pub struct ReadAhead {
    chunks: Receiver<std::io::Result<Vec<u8>>>,
    /// Chunks consumed, sent back so the thread reuses them instead of allocating.
    spare: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    /// Bytes of `current` consumed.
    pos: usize,
    done: bool,
}

impl ReadAhead {
    /// Starts the reading thread over `inner`, handing over chunks of `chunk` bytes (the
    /// last one shorter).
    pub fn spawn(mut inner: Box<dyn Read + Send>, chunk: usize) -> std::io::Result<ReadAhead> {
        let chunk = chunk.max(1);
        let (send, chunks) = sync_channel(AHEAD);
        let (spare, spares) = sync_channel::<Vec<u8>>(AHEAD + 2);
        std::thread::Builder::new()
            .name("hunt-read".into())
            .spawn(move || {
                loop {
                    // A chunk the consumer is done with, or a new one.
                    let mut buf = spares.try_recv().unwrap_or_default();
                    buf.resize(chunk, 0);
                    let mut filled = 0;
                    let read = loop {
                        match inner.read(&mut buf[filled..]) {
                            Ok(0) => break Ok(()),
                            Ok(n) => {
                                filled += n;
                                if filled == chunk {
                                    break Ok(());
                                }
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            Err(e) => break Err(e),
                        }
                    };
                    // A chunk that is not full was ended by the end of the input (or an
                    // error): send what it holds, then stop.
                    let last = filled < chunk;
                    buf.truncate(filled);
                    if filled > 0 && send.send(Ok(buf)).is_err() {
                        return;
                    }
                    if let Err(e) = read {
                        let _ = send.send(Err(e));
                        return;
                    }
                    if last {
                        return;
                    }
                }
            })?;
        Ok(ReadAhead {
            chunks,
            spare,
            current: Vec::new(),
            pos: 0,
            done: false,
        })
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ReadAhead {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.pos >= self.current.len() && !self.done {
            match self.chunks.recv() {
                Ok(Ok(next)) => {
                    let used = std::mem::replace(&mut self.current, next);
                    self.pos = 0;
                    // Full or gone: the thread then allocates, or has ended.
                    let _ = self.spare.try_send(used);
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => self.done = true,
            }
        }
        Ok(&self.current[self.pos.min(self.current.len())..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.current.len());
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
        Ok(self.next_bytes()?.map(|(number, bytes)| {
            let line = match std::str::from_utf8(bytes) {
                Ok(s) => Line::Text(s),
                Err(_) => Line::NotUtf8,
            };
            (number, line)
        }))
    }

    /// The next line's bytes, without its line terminator, not checked for UTF-8 (see
    /// [`Lines::next_line`]): for a caller that checks as it reads them anyway.
    pub fn next_bytes(&mut self) -> std::io::Result<Option<(u64, &[u8])>> {
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
        Ok(Some((self.line, bytes)))
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

    /// A reader that hands out at most `step` bytes per call, then fails at `fail_at`.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        step: usize,
        fail_at: Option<usize>,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.fail_at == Some(self.pos) {
                return Err(std::io::Error::other("disk on fire"));
            }
            let end = (self.pos + self.step)
                .min(self.data.len())
                .min(self.fail_at.unwrap_or(usize::MAX));
            let n = (end - self.pos).min(out.len());
            out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn numbered(count: usize) -> Vec<u8> {
        (0..count)
            .flat_map(|n| format!("line {n} {}\n", "x".repeat(n % 37)).into_bytes())
            .collect()
    }

    #[test]
    fn read_ahead_hands_over_every_byte_in_order() {
        let data = numbered(500);
        for (chunk, step) in [(1, 1), (7, 3), (64, 1000), (4096, 5), (1 << 20, 1 << 16)] {
            let source = Trickle {
                data: data.clone(),
                pos: 0,
                step,
                fail_at: None,
            };
            let mut ahead = ReadAhead::spawn(Box::new(source), chunk).unwrap();
            let mut got = Vec::new();
            ahead.read_to_end(&mut got).unwrap();
            assert_eq!(got, data, "chunk {chunk}, step {step}");
            // The end stays the end.
            assert!(ahead.fill_buf().unwrap().is_empty());
        }
    }

    #[test]
    fn read_ahead_lines_equal_plain_lines() {
        let data = numbered(300);
        let plain = all(&data, 4096);
        for chunk in [1, 5, 64, 1000] {
            let source = Trickle {
                data: data.clone(),
                pos: 0,
                step: 13,
                fail_at: None,
            };
            let mut lines = Lines::new(ReadAhead::spawn(Box::new(source), chunk).unwrap());
            let mut got = Vec::new();
            while let Some((n, line)) = lines.next_line().unwrap() {
                let Line::Text(t) = line else {
                    panic!("line {n} is UTF-8")
                };
                got.push((n, Some(t.to_owned())));
            }
            assert_eq!(got, plain, "chunk {chunk}");
        }
    }

    #[test]
    fn read_ahead_reports_an_error_after_the_bytes_before_it() {
        let data = numbered(50);
        let source = Trickle {
            data: data.clone(),
            pos: 0,
            step: 10,
            fail_at: Some(100),
        };
        let mut ahead = ReadAhead::spawn(Box::new(source), 64).unwrap();
        let mut got = vec![0; 100];
        ahead.read_exact(&mut got).unwrap();
        assert_eq!(got, data[..100]);
        let err = ahead.fill_buf().unwrap_err();
        assert_eq!(err.to_string(), "disk on fire");
        assert!(
            ahead.fill_buf().unwrap().is_empty(),
            "the input ends after its error"
        );
    }

    #[test]
    fn read_all_reads_plain_and_gzip_files() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let data = numbered(2000);
        let plain = dir.path().join("plain.json");
        std::fs::write(&plain, &data).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let packed = dir.path().join("packed.log");
        std::fs::write(&packed, gz.finish().unwrap()).unwrap();
        assert_eq!(read_all(&plain).unwrap(), data);
        assert_eq!(read_all(&packed).unwrap(), data);
        assert!(read_all(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn gzip_is_inflated_on_the_reading_thread() {
        use std::io::Write;
        let data = numbered(2000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let compressed = gz.finish().unwrap();
        let mut reader = from_reader(Box::new(std::io::Cursor::new(compressed))).unwrap();
        let mut got = Vec::new();
        reader.read_to_end(&mut got).unwrap();
        assert_eq!(got, data);
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
