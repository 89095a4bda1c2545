//! A validating scan of an observed-data document's text, for the quick pre-probe.
//!
//! `entente hunt` over STIX NDJSON spent most of its time building a `serde_json::Value` of
//! every line and the evaluator's model of it (~9 µs per 1 KB line), although about 99 % of
//! lines propose no indicator at all. [`Scanner::scan_bytes`] reads the text once, without
//! allocating (its buffers are reused), and records only what the pre-probe needs: every
//! object of the document with its `type`, `id` and the byte spans of its top-level members,
//! and the observation windows. `index::Index::quick_text` then walks the indexed paths over
//! those spans. Only when that proposes nothing is the line never parsed into JSON values.
//!
//! **Exactness.** A scan answers "nothing can match" only when it is sure of what the full
//! path (`serde_json::from_str::<Value>` and `Observations::from_json`) would do with the
//! text: the text is JSON that serde_json accepts, the document loads without error, and it
//! has at least one observation. So the scanner *bails* (returns `None`, and the caller
//! loads the document the ordinary way, which reports any error) on anything it does not
//! fully model:
//!
//! * a backslash anywhere (a string escape would need decoding to compare keys and values;
//!   outside a string it is an error) and control characters in strings (serde_json refuses
//!   them);
//! * numbers with an exponent (serde_json refuses the ones out of `f64` range), and nesting
//!   deeper than [`MAX_DEPTH`] (serde_json stops at 128);
//! * an `objects` member anywhere but in a top-level bundle (a STIX 2.0 observed-data, or a
//!   2.0 container with its own type), a duplicate `objects`, an object without a string
//!   `type`, a bundle in a bundle;
//! * an observed-data whose `first_observed`/`last_observed` are not STIX timestamps in
//!   order, whose `number_observed` is not an integer of at least 1, or without an
//!   `object_refs` list of strings.
//!
//! JSON with a duplicate member is read as serde_json's map reads it (the last value wins).
//! A text that is not UTF-8 is not vouched for either: the prescan tells ASCII (every byte
//! below 0x80) in passing, and only a text with other bytes is checked with `str::from_utf8`
//! ([`Scanner::scan_bytes`]), so the reader need not check every line before the scan. The
//! scanner's acceptance is tested against serde_json and the model in this module's tests
//! and fuzzed (`fuzz/fuzz_targets/hunt_readers.rs` through the hunt reader).
//!
//! **Speed.** This scan is most of the cost of a quiet line (`entente hunt` over the
//! generated workload, `scripts/bench-hunt.sh`), and on ~1 KB lines its cost was mostly
//! mispredicted branches, so it is written to have few data-dependent ones: one pass first
//! looks for backslashes and control characters over the whole line and makes a bitmap of
//! its quotes (loops the compiler turns into SIMD compares, no branch on the text), after
//! which a string's end is its next `"`, two bitmap words away at most;
//! member names are told apart by length and one 16-byte comparison, never hashed or
//! matched through a jump table; the values of the names of interest go into slots indexed
//! by name; and a `last_observed` equal to `first_observed` is not parsed twice. Over 20,000
//! generated lines (`valgrind --branch-sim`, the whole reader loop): ~163 simulated
//! mispredictions per line before, ~113 after; instructions per line 16,000 -> 13,200.
//! The event loop of `entente hunt` at 1,000,000 indicators went from ~483,000 to
//! ~559,000 events per CPU-second (with the reader's and the index's changes made with it;
//! `scripts/bench-hunt.sh` has the measurement).
//!
//! After that, most members of a compact line were still read token by token, each a chain
//! of two bitmap look-ups that waited on each other: a member `"key":"value"` followed by
//! `,` or `}` is now read from one 64-bit window of the bitmap ([`Cur::compact_string_member`];
//! any other shape, or whitespace, takes the token path); names are compared as two masked
//! 64-bit words; a timestamp on the day of the one before is read as a time of day
//! ([`Scanner::timestamp`]); and timestamps and day prefixes are compared without `memcmp`
//! calls. callgrind over the first 20,000 generated lines (the hunt loop alone): 13,580 ->
//! 12,680 instructions per line; the loop went from ~711,000 to ~749,000 events per
//! CPU-second on the same machine (`scripts/bench-hunt.sh`).
//!
//! Then the scan took bytes not yet known to be UTF-8 ([`Scanner::scan_bytes`]: the prescan
//! tells ASCII in passing, so the reader no longer checks every line), the values it finds
//! are looked up as bytes (`index::Index::lookup_text`: converting each to `&str` cost ~130
//! instructions), and nested members ([`Scanner::member_of`]) are read with the bitmap. With
//! the index's /16 sets for addresses, callgrind over the first 20,000 generated lines
//! (their first 20,000 indicators, the hunt loop alone): 11,269 -> 10,100 instructions per
//! line; the loop at 1,000,000 indicators from ~850,000 to ~1,000,000 events per CPU-second
//! (`scripts/bench-hunt.sh`). What is left of a line, by callgrind: the objects' reading
//! ~55 % (the observed-data's checks and timestamps included), the prescan ~18 % (the quote
//! bitmap's bytes gathered by multiplications: no `movemask` without intrinsics), the walk
//! of the indexed paths and the look-ups ~20 %, the reader's newline search ~3 %.

use jiff::Timestamp;

/// Deepest nesting the scanner follows (serde_json's own limit is 128).
const MAX_DEPTH: u32 = 64;

/// A byte range of the scanned text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        // The scanner refuses texts of 4 GiB or more, so both fit.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The text of the span.
    #[cfg(test)]
    pub fn of(self, text: &str) -> &str {
        text.get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }

    /// The bytes of the span.
    #[inline]
    pub fn bytes(self, b: &[u8]) -> &[u8] {
        b.get(self.start as usize..self.end as usize).unwrap_or(&[])
    }

    /// The content of a string token (the span without its quotes), when it is one.
    #[cfg(test)]
    pub fn string(self, text: &str) -> Option<&str> {
        let t = self.of(text);
        t.strip_prefix('"').and_then(|t| t.strip_suffix('"'))
    }

    /// The bytes of a string token's content (the span without its quotes), when it is one.
    #[inline]
    pub fn string_bytes(self, b: &[u8]) -> Option<&[u8]> {
        self.bytes(b)
            .strip_prefix(b"\"")
            .and_then(|t| t.strip_suffix(b"\""))
    }

    /// [`Span::string_bytes`] as text. In a text the scan vouched for (UTF-8, see
    /// [`Scanner::scan_bytes`]) a string's content lies between two quotes, on character
    /// boundaries, so this is `None` only when the span is no string.
    #[inline]
    pub fn string_str(self, b: &[u8]) -> Option<&str> {
        std::str::from_utf8(self.string_bytes(b)?).ok()
    }
}

/// One member of an object: the key's content (without quotes) and the value's token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member {
    pub key: Span,
    pub value: Span,
}

/// One object of the document that is not a bundle or an observed-data: a possible SCO.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// The `type` (content of the string).
    pub ty: Span,
    /// The `id`, when it is a string.
    pub id: Option<Span>,
    /// Its members, as a range of [`Scanner::members`].
    pub members: std::ops::Range<usize>,
}

/// What a successful scan found about the observations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Windows {
    /// The earliest `first_observed`.
    pub earliest: Timestamp,
    /// The latest `first_observed`.
    pub latest: Timestamp,
}

/// The reusable scanner (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Scanner {
    pub members: Vec<Member>,
    pub items: Vec<Item>,
    windows: Option<Windows>,
    /// The quote bitmap of the text being scanned (see [`prescan`]).
    quotes: Vec<u64>,
    /// The text scanned last has control characters (its strings are read byte-wise).
    control: bool,
    /// The date part (`YYYY-MM-DDT`) of the last timestamp read and the second its day
    /// starts at (see [`Scanner::timestamp`]).
    day: Option<([u8; 11], i64)>,
}

/// The scan cannot vouch for the text: load it the ordinary way.
struct Bail;

type R<T> = Result<T, Bail>;

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Bytes that end the fast run of a string: `"`, `\` and control characters.
#[inline]
fn specials(x: u64) -> u64 {
    let q = x ^ (LO * u64::from(b'"'));
    let bs = x ^ (LO * u64::from(b'\\'));
    // The classic "has zero byte" / "has byte less than n" tests: each mask's lowest set bit
    // marks its first such byte exactly (false positives only sit above a true one), so the
    // lowest bit of their union is the first special byte.
    ((q.wrapping_sub(LO) & !q) | (bs.wrapping_sub(LO) & !bs) | (x.wrapping_sub(LO * 0x20) & !x))
        & HI
}

/// One pass over the text for what the scan must know before it starts: `None` when it has
/// a backslash (the scan bails), else whether it has a control character; and in `quotes`
/// a bitmap of its `"` bytes (bit `i % 64` of word `i / 64` for byte `i`) with two zero
/// words past its end, so that [`Cur::next_quote`] reads two words anywhere in the text
/// without a bounds branch. Without backslashes and control characters a string ends at its
/// next `"`; with control characters (whitespace between the tokens of a pretty-printed
/// line, or an error) strings are read byte-wise and checked for them instead.
///
/// Written for the compiler to vectorise the comparisons (see [`block`]); the only branch
/// that depends on the text is the one per 64 bytes that stops at a backslash. Finding each
/// string's end by scanning for it cost a mispredicted loop exit per string, which
/// `valgrind --branch-sim` counted as the largest share of the scan's mispredictions.
fn prescan(b: &[u8], quotes: &mut Vec<u64>) -> Option<Prescan> {
    quotes.clear();
    let (mut control, mut high) = (false, false);
    let mut chunks = b.chunks_exact(64);
    for c in &mut chunks {
        let mut x = [0u8; 64];
        x.copy_from_slice(c);
        let (word, backslash, ctl, hi) = block(&x);
        if backslash {
            return None;
        }
        control |= ctl;
        high |= hi;
        quotes.push(word);
    }
    // The tail, padded with spaces (neither quotes nor anything that bails).
    let mut last = [b' '; 64];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    let (word, backslash, ctl, hi) = block(&last);
    if backslash {
        return None;
    }
    quotes.extend_from_slice(&[word, 0, 0]);
    Some(Prescan {
        control: control | ctl,
        ascii: !(high | hi),
    })
}

/// What [`prescan`] found besides the quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Prescan {
    /// The text has a control character (a byte below 0x20).
    control: bool,
    /// Every byte is below 0x80: the text is ASCII, so UTF-8.
    ascii: bool,
}

/// The quote bits of 64 bytes, and whether they hold a backslash, a control character or a
/// byte of 0x80 or more (the last tells ASCII, which needs no UTF-8 check). The comparisons
/// are plain loops over a fixed-size array, which the compiler turns into 16-byte SIMD
/// compares; each eight 0/1 flags are then gathered into a byte by one multiplication (byte
/// `i`'s flag lands on bit `56 + i`, and no two partial products meet, so nothing carries).
#[inline(always)]
fn block(c: &[u8; 64]) -> (u64, bool, bool, bool) {
    let mut flags = [0u8; 64];
    let (mut backslash, mut control, mut high) = (false, false, false);
    for (f, &x) in flags.iter_mut().zip(c) {
        *f = u8::from(x == b'"');
        backslash |= x == b'\\';
        control |= x < 0x20;
        high |= x >= 0x80;
    }
    let mut word = 0u64;
    for (k, eight) in flags.chunks_exact(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(eight);
        word |= (u64::from_le_bytes(w).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    (word, backslash, control, high)
}

struct Cur<'t> {
    b: &'t [u8],
    pos: usize,
    /// The text has control characters (see [`prescan`]): strings are read byte by byte and
    /// checked for them. Otherwise `quotes` is the text's quote bitmap.
    control: bool,
    quotes: &'t [u64],
}

impl Cur<'_> {
    /// The byte at the cursor, 0 at the end (a 0 byte in the text is a control character,
    /// which no token starts with either).
    #[inline]
    fn at(&self) -> u8 {
        self.b.get(self.pos).copied().unwrap_or(0)
    }

    /// Skips whitespace. The usual case, no whitespace at all, is one load and one
    /// comparison: a byte above `' '` is none (whitespace bytes are all at or below it).
    #[inline]
    fn ws(&mut self) {
        if self.at() > b' ' {
            return;
        }
        while let b' ' | b'\n' | b'\r' | b'\t' = self.at() {
            self.pos += 1;
        }
    }

    #[inline]
    fn expect(&mut self, c: u8) -> R<()> {
        if self.at() == c {
            self.pos += 1;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// A string token at the cursor; returns its content's span.
    #[inline(always)]
    fn string(&mut self) -> R<Span> {
        self.expect(b'"')?;
        let start = self.pos;
        let end = if self.control {
            self.checked_end(start)?
        } else {
            self.next_quote(start)?
        };
        self.pos = end + 1;
        Ok(Span::new(start, end))
    }

    /// The first `"` at or after `from` (`from` <= the text's length), from the bitmap: with
    /// no backslash in the text, it ends the string whose content starts at `from`. Two
    /// words make a 64-bit window starting at `from`, so a string shorter than 64 bytes
    /// costs no loop.
    #[inline]
    fn next_quote(&self, from: usize) -> R<usize> {
        let (w, s) = (from / 64, (from % 64) as u32);
        let lo = self.quotes.get(w).copied().ok_or(Bail)?;
        let hi = self.quotes.get(w + 1).copied().unwrap_or(0);
        // `hi << (64 - s)`, which is 0 for s = 0.
        let window = lo >> s | (hi << 1) << (63 - s);
        if window != 0 {
            return Ok(from + window.trailing_zeros() as usize);
        }
        let mut w = w + 1;
        loop {
            let bits = self.quotes.get(w).copied().ok_or(Bail)?;
            if bits != 0 {
                return Ok(w * 64 + bits.trailing_zeros() as usize);
            }
            w += 1;
        }
    }

    /// A member `"key":"value"` written without whitespace and followed by `,` or `}`, at
    /// the cursor (on the key's opening quote): the spans of the key's content and of the
    /// value's token, and the byte after the value. `None` (nothing consumed) for any other
    /// shape, or when the text has control characters, or when the member's four quotes do
    /// not all lie in the 64 bytes from the cursor: the general path reads it then.
    ///
    /// Why: most members of a generated or compact line are this, and reading them token by
    /// token made each one a chain of two bitmap look-ups, each waiting for the position the
    /// one before found. Here the four quotes come from one 64-bit window by clearing its
    /// lowest bits, register operations only, and the checks of `:` and of the byte after
    /// the value are loads nothing else waits for.
    #[inline(always)]
    fn compact_string_member(&self) -> Option<(Span, Span, u8)> {
        if self.control {
            return None;
        }
        let p = self.pos;
        let (w, s) = (p / 64, (p % 64) as u32);
        let lo = self.quotes.get(w).copied()?;
        let hi = self.quotes.get(w + 1).copied().unwrap_or(0);
        // Bit i: byte p + i is a quote (`hi << (64 - s)`, 0 for s = 0).
        let window = lo >> s | (hi << 1) << (63 - s);
        // The key's opening quote, its closing one, the value's opening and closing ones.
        let w1 = window & window.wrapping_sub(1);
        let w2 = w1 & w1.wrapping_sub(1);
        let w3 = w2 & w2.wrapping_sub(1);
        let (k, v0, v) = (
            w1.trailing_zeros() as usize,
            w2.trailing_zeros() as usize,
            w3.trailing_zeros() as usize,
        );
        // `v < 64` implies `k < v0 < v` all lie in the window; `v0 == k + 2` with a `:`
        // between them is the compact `":"`.
        if window & 1 == 0 || v >= 64 || v0 != k + 2 || self.b.get(p + k + 1) != Some(&b':') {
            return None;
        }
        let next = self.b.get(p + v + 1).copied()?;
        if next != b',' && next != b'}' {
            return None;
        }
        Some((Span::new(p + 1, p + k), Span::new(p + v0, p + v + 1), next))
    }

    /// The closing quote of the string whose content starts at `start`, read byte-wise;
    /// a backslash or a control character (or the end of the text) first makes it bail.
    #[inline(never)]
    fn checked_end(&self, start: usize) -> R<usize> {
        let b = self.b;
        let mut p = start;
        while let Some(chunk) = b.get(p..p + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            let m = specials(u64::from_le_bytes(w));
            if m != 0 {
                p += (m.trailing_zeros() / 8) as usize;
                return if b.get(p) == Some(&b'"') {
                    Ok(p)
                } else {
                    Err(Bail)
                };
            }
            p += 8;
        }
        while let Some(&c) = b.get(p) {
            if c == b'"' {
                return Ok(p);
            }
            if c == b'\\' || c < 0x20 {
                break;
            }
            p += 1;
        }
        Err(Bail)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let b'0'..=b'9' = self.at() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A number per RFC 8259 §6, without an exponent.
    fn number(&mut self) -> R<()> {
        if self.at() == b'-' {
            self.pos += 1;
        }
        match self.at() {
            b'0' => {
                self.pos += 1;
                if let b'0'..=b'9' = self.at() {
                    return Err(Bail);
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return Err(Bail),
        }
        if self.at() == b'.' {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(Bail);
            }
        }
        if let b'e' | b'E' = self.at() {
            return Err(Bail);
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> R<()> {
        if self.b.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// Any value, validated and skipped.
    fn value(&mut self, depth: u32) -> R<()> {
        match self.at() {
            b'"' => self.string().map(|_| ()),
            b'{' => self.object(depth + 1, |_, _, _| Ok(())),
            b'[' => self.array(depth + 1, |c, d| c.value(d)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Bail),
        }
    }

    /// An array at the cursor, each element read by `element` (which starts at the element).
    fn array(&mut self, depth: u32, mut element: impl FnMut(&mut Self, u32) -> R<()>) -> R<()> {
        if depth > MAX_DEPTH {
            return Err(Bail);
        }
        self.expect(b'[')?;
        self.ws();
        if self.at() == b']' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            element(self, depth)?;
            self.ws();
            match self.at() {
                b',' => {
                    self.pos += 1;
                    self.ws();
                }
                b']' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Bail),
            }
        }
    }

    /// An object at the cursor; `member(cursor, key, depth)` is called at each value and
    /// must consume it.
    fn object(
        &mut self,
        depth: u32,
        mut member: impl FnMut(&mut Self, Span, u32) -> R<()>,
    ) -> R<()> {
        if depth > MAX_DEPTH {
            return Err(Bail);
        }
        self.expect(b'{')?;
        self.ws();
        if self.at() == b'}' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            let before = self.pos;
            member(self, key, depth)?;
            if self.pos == before {
                self.value(depth)?;
            }
            self.ws();
            match self.at() {
                b',' => {
                    self.pos += 1;
                    self.ws();
                }
                b'}' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Bail),
            }
        }
    }
}

/// Whether `a == b`, without a `memcmp` call for short slices: the compiler cannot expand a
/// comparison of a length known only at run time, and the library call (with its branches
/// on the length) was ~2 % of a quiet line, mostly for member names such as `value`.
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let half = |s: &[u8], at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_le_bytes(w)
    };
    match n {
        // Two overlapping loads cover the slice.
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        // Timestamps (20 to 30 bytes): four, without an early exit.
        17..=32 => {
            (word(a, 0) ^ word(b, 0))
                | (word(a, 8) ^ word(b, 8))
                | (word(a, n - 16) ^ word(b, n - 16))
                | (word(a, n - 8) ^ word(b, n - 8))
                == 0
        }
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

/// The member names an observed-data or a bundle needs, told apart without hashing; the
/// value is the member's slot in [`Special::slots`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Name {
    Type = 0,
    Id = 1,
    FirstObserved = 2,
    LastObserved = 3,
    NumberObserved = 4,
    Objects = 5,
    ObjectRefs = 6,
    Other = 7,
}

/// The one name of interest of each length below 16, by length: its first and its next
/// eight bytes as little-endian numbers, the masks of the bytes a name of that length
/// has in each, and its [`Name`].
const NAMES: [(u64, u64, u64, u64, Name); 16] = {
    const fn word(name: &[u8], from: usize) -> u64 {
        let mut w = 0u64;
        let mut i = name.len();
        while i > from {
            i -= 1;
            if i < from + 8 {
                w = w << 8 | name[i] as u64;
            }
        }
        w
    }
    const fn mask(len: usize) -> u64 {
        if len >= 8 {
            u64::MAX
        } else {
            (1u64 << (8 * len)) - 1
        }
    }
    const fn entry(name: &[u8], which: Name) -> (u64, u64, u64, u64, Name) {
        let len = name.len();
        let hi = if len > 8 { mask(len - 8) } else { 0 };
        (word(name, 0), word(name, 8), mask(len), hi, which)
    }
    let mut t = [(0, 0, 0, 0, Name::Other); 16];
    t[2] = entry(b"id", Name::Id);
    t[4] = entry(b"type", Name::Type);
    t[7] = entry(b"objects", Name::Objects);
    t[11] = entry(b"object_refs", Name::ObjectRefs);
    t[13] = entry(b"last_observed", Name::LastObserved);
    t[14] = entry(b"first_observed", Name::FirstObserved);
    t[15] = entry(b"number_observed", Name::NumberObserved);
    t
};

impl Name {
    /// The name of the key `key` of the text `b`. No two names of interest have the same
    /// length, so one table read by length and one comparison of (up to) sixteen bytes read
    /// at once tell a key: a `match` over lengths was a jump table whose target changed
    /// from key to key (an indirect misprediction most members), and comparing slices of a
    /// length known only at run time called `memcmp`. The sixteen bytes are compared as
    /// two masked 64-bit words: a 128-bit mask shifted by the length took ~30 instructions
    /// per member (callgrind), more than the rest of a compact member. Inlined into both
    /// of [`Scanner::item`]'s paths: as a call it cost a third more (callgrind).
    #[inline(always)]
    fn of(b: &[u8], key: Span) -> Name {
        let (start, len) = (
            key.start as usize,
            key.end.saturating_sub(key.start) as usize,
        );
        let Some(&(lo_word, hi_word, lo_mask, hi_mask, which)) = NAMES.get(len) else {
            return Name::Other;
        };
        let mut x = [0u8; 16];
        match b.get(start..start + 16) {
            Some(w) => x.copy_from_slice(w),
            // Near the end of the text (never for a key of a whole document).
            None => {
                let k = key.bytes(b);
                x[..k.len()].copy_from_slice(k);
            }
        }
        let (lo, hi) = x.split_at(8);
        let word = |h: &[u8]| {
            let mut w = [0u8; 8];
            w.copy_from_slice(h);
            u64::from_le_bytes(w)
        };
        let differ = (word(lo) & lo_mask) ^ lo_word | (word(hi) & hi_mask) ^ hi_word;
        if differ == 0 && which != Name::Other {
            which
        } else {
            Name::Other
        }
    }
}

/// The members of the object that an observed-data or a bundle needs, read as they come.
#[derive(Default)]
struct Special {
    /// The value of the last member of each [`Name`] (`type`, `id`, `first_observed`,
    /// `last_observed`, `number_observed`; the rest unused), stored without a branch.
    slots: [Option<Span>; 8],
    /// `Some(true)` when the last `object_refs` was a list of strings.
    refs: Option<bool>,
    objects: bool,
}

impl Scanner {
    /// Scans `text`; `Some` with the observation windows when the document is one the scan
    /// fully vouches for (see the module docs), with its objects in [`Scanner::items`].
    #[cfg(test)]
    pub fn scan(&mut self, text: &str) -> Option<Windows> {
        self.scan_bytes(text.as_bytes(), true)
    }

    /// Scans `b`; `Some` with the observation windows when it is a document the scan fully
    /// vouches for (see the module docs), with its objects in [`Scanner::items`]. The bytes
    /// may not be UTF-8 (`utf8`: the caller knows they are): the scan vouches only for
    /// UTF-8, which an ASCII text is, as the prescan tells in passing; only a text with
    /// bytes of 0x80 or more is checked whole. Checking every line before the scan was ~4 %
    /// of a quiet line's instructions (callgrind).
    pub fn scan_bytes(&mut self, b: &[u8], utf8: bool) -> Option<Windows> {
        self.members.clear();
        self.items.clear();
        self.windows = None;
        if u32::try_from(b.len()).is_err() {
            return None;
        }
        let pre = prescan(b, &mut self.quotes)?;
        if !utf8 && !pre.ascii && std::str::from_utf8(b).is_err() {
            return None;
        }
        let control = pre.control;
        self.control = control;
        let quotes = std::mem::take(&mut self.quotes);
        let mut cur = Cur {
            b,
            pos: 0,
            control,
            quotes: &quotes,
        };
        cur.ws();
        let ok = match cur.at() {
            b'{' => self.item(&mut cur, true, 0),
            b'[' => cur.array(1, |c, d| {
                if c.at() != b'{' {
                    return Err(Bail);
                }
                self.item(c, true, d)
            }),
            _ => Err(Bail),
        };
        let end = cur.pos;
        self.quotes = quotes;
        ok.ok()?;
        let mut cur = Cur {
            b,
            pos: end,
            control: true,
            quotes: &[],
        };
        cur.ws();
        if cur.pos != b.len() {
            return None;
        }
        self.windows
    }

    /// One STIX object at the cursor. `top`: not inside a bundle.
    fn item(&mut self, cur: &mut Cur<'_>, top: bool, depth: u32) -> R<()> {
        let depth = depth + 1;
        if depth > MAX_DEPTH {
            return Err(Bail);
        }
        let first_member = self.members.len();
        let mut sp = Special::default();
        cur.expect(b'{')?;
        cur.ws();
        if cur.at() == b'}' {
            cur.pos += 1;
        } else {
            loop {
                if let Some((key, value, next)) = cur.compact_string_member() {
                    let name = Name::of(cur.b, key);
                    // What the general path below makes of a string value for these.
                    match name {
                        Name::Objects => return Err(Bail),
                        Name::ObjectRefs => sp.refs = Some(false),
                        _ => {}
                    }
                    sp.slots[name as usize] = Some(value);
                    self.members.push(Member { key, value });
                    cur.pos = value.end as usize + 1;
                    if next == b'}' {
                        break;
                    }
                    cur.ws();
                    continue;
                }
                let key = cur.string()?;
                cur.ws();
                cur.expect(b':')?;
                cur.ws();
                let start = cur.pos;
                let name = Name::of(cur.b, key);
                match name {
                    Name::Objects => {
                        if !top || sp.objects || cur.at() != b'[' {
                            return Err(Bail);
                        }
                        sp.objects = true;
                        cur.array(depth + 1, |c, d| {
                            if c.at() != b'{' {
                                return Err(Bail);
                            }
                            self.item(c, false, d)
                        })?;
                    }
                    Name::ObjectRefs => {
                        let mut strings = cur.at() == b'[';
                        if strings {
                            cur.array(depth + 1, |c, d| {
                                if c.at() == b'"' {
                                    c.string().map(|_| ())
                                } else {
                                    strings = false;
                                    c.value(d)
                                }
                            })?;
                        } else {
                            cur.value(depth)?;
                        }
                        sp.refs = Some(strings);
                    }
                    // Most values are strings: read them here rather than through `value`.
                    _ if cur.at() == b'"' => {
                        cur.string()?;
                    }
                    _ => cur.value(depth)?,
                }
                let value = Span::new(start, cur.pos);
                sp.slots[name as usize] = Some(value);
                self.members.push(Member { key, value });
                cur.ws();
                match cur.at() {
                    b',' => {
                        cur.pos += 1;
                        cur.ws();
                    }
                    b'}' => {
                        cur.pos += 1;
                        break;
                    }
                    _ => return Err(Bail),
                }
            }
        }
        let b = cur.b;
        // A string token: its first byte is a quote (and then so is its last).
        let string = |s: Span| (b.get(s.start as usize) == Some(&b'"')).then_some(s);
        let content = |s: Span| Span::new(s.start as usize + 1, s.end as usize - 1);
        let ty = content(sp.slots[Name::Type as usize].and_then(string).ok_or(Bail)?);
        match ty.bytes(b) {
            b"bundle" if top && sp.objects => Ok(()),
            // A bundle in a bundle, a bundle without objects, or `objects` elsewhere (2.0).
            b"bundle" => Err(Bail),
            _ if sp.objects => Err(Bail),
            b"observed-data" => self.observed(b, &sp),
            _ => {
                self.items.push(Item {
                    ty,
                    id: sp.slots[Name::Id as usize].and_then(string).map(content),
                    members: first_member..self.members.len(),
                });
                Ok(())
            }
        }
    }

    /// The checks `Observations::from_json` makes of a 2.1 observed-data, and its window.
    fn observed(&mut self, b: &[u8], sp: &Special) -> R<()> {
        let slot = |n: Name| sp.slots[n as usize].ok_or(Bail);
        let (first_span, last_span) = (slot(Name::FirstObserved)?, slot(Name::LastObserved)?);
        let first = first_span
            .string_bytes(b)
            .and_then(|t| self.timestamp(t))
            .ok_or(Bail)?;
        // Producers mostly write one instant for both: parse it once.
        let last = if same(first_span.bytes(b), last_span.bytes(b)) {
            first
        } else {
            last_span
                .string_bytes(b)
                .and_then(|t| self.timestamp(t))
                .ok_or(Bail)?
        };
        if last < first || sp.refs != Some(true) {
            return Err(Bail);
        }
        // `as_u64` in the model: a non-negative integer without fraction.
        // Digits only, read as `str::parse::<u64>` reads them (an overflow bails).
        let n = slot(Name::NumberObserved)?.bytes(b);
        let count = n.iter().try_fold(0u64, |v, &d| {
            if !d.is_ascii_digit() {
                return None;
            }
            v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        });
        if !matches!(count, Some(1..)) {
            return Err(Bail);
        }
        self.windows = Some(match self.windows {
            None => Windows {
                earliest: first,
                latest: first,
            },
            Some(w) => Windows {
                earliest: w.earliest.min(first),
                latest: w.latest.max(first),
            },
        });
        Ok(())
    }

    /// What `crate::timestamp::parse(t)` returns, `None` for its errors. When `t` has the
    /// date of the timestamp read before, the date is known valid and its day's first
    /// second known, so only the time of day is read here, checked as `parse` checks it;
    /// anything else (another date, a leap second, any shape this does not take) goes
    /// through `parse`, which then remembers its date. Lines of one stream mostly share
    /// their day, and `parse`'s calendar arithmetic was ~300 instructions of a quiet line
    /// of ~13,000 (callgrind).
    fn timestamp(&mut self, t: &(impl AsRef<[u8]> + ?Sized)) -> Option<Timestamp> {
        let b = t.as_ref();
        if let Some((day, start)) = self.day
            // A fixed-size comparison, where a slice's would call `memcmp`.
            && b.get(..11).and_then(|p| <[u8; 11]>::try_from(p).ok()) == Some(day)
            && let Some(ts) = time_of_day(b, start)
        {
            return Some(ts);
        }
        let ts = crate::timestamp::parse(std::str::from_utf8(b).ok()?).ok()?;
        // `parse` took the date part: its first 11 bytes; the day starts at the whole
        // multiple of 86,400 s at or before the instant (UTC, no leap seconds in jiff).
        // Before 1970 jiff's whole seconds are rounded towards zero (its fraction is then
        // negative): floor them, or 23:59:59.5 would land on the next day.
        let mut day = [0u8; 11];
        day.copy_from_slice(b.get(..11)?);
        let floor = ts.as_second() - i64::from(ts.subsec_nanosecond() < 0);
        self.day = Some((day, floor.div_euclid(86_400) * 86_400));
        Some(ts)
    }

    /// The value of the last member named `name` of item `i`.
    pub fn member(&self, text: &(impl AsRef<[u8]> + ?Sized), i: usize, name: &str) -> Option<Span> {
        let item = self.items.get(i)?;
        let (b, name) = (text.as_ref(), name.as_bytes());
        self.members
            .get(item.members.clone())?
            .iter()
            .rev()
            .find(|m| same(m.key.bytes(b), name))
            .map(|m| m.value)
    }

    /// The value of the last member named `name` of the object token `span` of the text
    /// scanned last, `text` (validated by the scan), if `span` is an object. Its strings end
    /// at their next quote by the scan's bitmap, unless the text has control characters:
    /// read byte-wise and checked, they cost ~4 times as much (`file:hashes.'SHA-256'`,
    /// callgrind).
    pub fn member_of(
        &self,
        text: &(impl AsRef<[u8]> + ?Sized),
        span: Span,
        name: &str,
    ) -> Option<Span> {
        let b = text.as_ref();
        let mut cur = Cur {
            b: b.get(..span.end as usize)?,
            pos: span.start as usize,
            control: self.control,
            quotes: if self.control { &[] } else { &self.quotes },
        };
        if cur.at() != b'{' {
            return None;
        }
        let mut found = None;
        cur.object(0, |c, key, depth| {
            let start = c.pos;
            c.value(depth)?;
            if same(key.bytes(b), name.as_bytes()) {
                found = Some(Span::new(start, c.pos));
            }
            Ok(())
        })
        .ok()?;
        found
    }

    /// The first item whose `id` is `id` (the model's `scos` map keeps the first).
    pub fn by_id(
        &self,
        text: &(impl AsRef<[u8]> + ?Sized),
        id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Option<usize> {
        let (b, id) = (text.as_ref(), id.as_ref());
        self.items
            .iter()
            .position(|it| it.id.is_some_and(|s| s.bytes(b) == id))
    }
}

/// The instant `HH:MM:SS[.f+]Z` after the day that starts at second `day` (of the Unix
/// epoch), read from bytes 11 on of a timestamp whose first 11 are a date `parse` took;
/// `None` for any text `crate::timestamp::parse` would not read the same way (a leap second
/// included, which it folds), and for an instant out of jiff's range.
fn time_of_day(b: &[u8], day: i64) -> Option<Timestamp> {
    // `HH:MM:SS` as one little-endian word, XORed with `00:00:00`: the colons become zero
    // bytes and the digits bytes below ten; checked and read without a branch per byte
    // (byte-wise it was ~100 instructions a line, callgrind).
    let mut hms = [0u8; 8];
    hms.copy_from_slice(b.get(11..19)?);
    let z = u64::from_le_bytes(hms) ^ u64::from_le_bytes(*b"00:00:00");
    const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    // Every byte below 16, then below 10 (no carry crosses a byte below 16), colons zero.
    if z & HIGH != 0
        || z.wrapping_add(0x0606_0606_0606_0606) & HIGH != 0
        || z & 0x0000_ff00_00ff_0000 != 0
    {
        return None;
    }
    let byte = |i: u32| i64::from((z >> (8 * i)) as u8);
    let (hour, minute, second) = (
        byte(0) * 10 + byte(1),
        byte(3) * 10 + byte(4),
        byte(6) * 10 + byte(7),
    );
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut pos = 19;
    let mut nanos = 0i64;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while let Some(&c @ b'0'..=b'9') = b.get(pos) {
            if pos - start < 9 {
                nanos = nanos * 10 + i64::from(c - b'0');
            }
            pos += 1;
        }
        let n = pos - start;
        if n == 0 {
            return None;
        }
        // Scaled to nanoseconds (nine digits; further ones were not read).
        const SCALE: [i64; 10] = [
            1_000_000_000,
            100_000_000,
            10_000_000,
            1_000_000,
            100_000,
            10_000,
            1_000,
            100,
            10,
            1,
        ];
        nanos *= SCALE[n.min(9)];
    }
    if b.get(pos) != Some(&b'Z') || pos + 1 != b.len() {
        return None;
    }
    let nanos = i32::try_from(nanos).ok()?;
    Timestamp::new(day + hour * 3600 + minute * 60 + second, nanos).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_of_a_known_day_read_as_parse_reads_them() {
        let mut s = Scanner::default();
        let days = [
            "2024-03-01",
            "2024-02-29",
            "2023-02-29",
            "1970-01-01",
            "9999-12-30",
            "1969-12-31",
            "0001-01-01",
        ];
        let times = [
            "00:00:00Z",
            "23:59:59Z",
            "12:34:56.7Z",
            "12:34:56.123456789Z",
            "12:34:56.1234567891Z",
            "12:34:56.000Z",
            "23:59:60Z",
            "23:59:60.5Z",
            "24:00:00Z",
            "23:60:00Z",
            "12:34:56.Z",
            "12:34:56z",
            "12:34:56",
            "12:34:56ZZ",
            "12:34:56.5",
            "1:34:56Z",
            "12-34-56Z",
            "12:34:5éZ",
            "12:34:56+00:00",
            "21:59:59.999999999Z",
            "22:00:00Z",
            "23:00:00.5Z",
        ];
        for day in days {
            for first in times {
                for t in times {
                    // The day known from `first` (when it parsed), then `t` on it.
                    let a = format!("{day}T{first}");
                    assert_eq!(s.timestamp(&a), crate::timestamp::parse(&a).ok(), "{a}");
                    let b = format!("{day}T{t}");
                    assert_eq!(
                        s.timestamp(&b),
                        crate::timestamp::parse(&b).ok(),
                        "{a} then {b}"
                    );
                }
            }
        }
        // Another day's text is never read on the remembered day.
        assert!(s.timestamp("2024-03-01T01:00:00Z").is_some());
        assert_eq!(
            s.timestamp("2024-03-02T01:00:00Z"),
            crate::timestamp::parse("2024-03-02T01:00:00Z").ok()
        );
        assert_eq!(s.timestamp("2024-03-0"), None);
    }

    /// What the full path decides: `Some(earliest first_observed)` when the text is JSON that
    /// loads with at least one observation.
    fn full(text: &str) -> Option<Timestamp> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let obs = crate::Observations::from_json(&v).ok()?;
        obs.iter().map(|o| o.first_observed).min()
    }

    const GOOD: &str = r#"{"type":"bundle","id":"bundle--1","objects":[{"type":"observed-data","spec_version":"2.1","id":"observed-data--1","first_observed":"2024-03-01T00:00:00.298Z","last_observed":"2024-03-01T00:00:01Z","number_observed":1,"object_refs":["ipv4-addr--1","network-traffic--1"]},{"type":"ipv4-addr","id":"ipv4-addr--1","value":"10.0.0.1"},{"type":"network-traffic","id":"network-traffic--1","dst_ref":"ipv4-addr--1","dst_port":53,"protocols":["udp"],"x":{"a":[1,2.5,true,false,null]}}]}"#;

    #[test]
    fn reads_a_generated_line() {
        let mut s = Scanner::default();
        let w = s.scan(GOOD).expect("scanned");
        assert_eq!(Some(w.earliest), full(GOOD));
        assert_eq!(s.items.len(), 2);
        assert_eq!(s.items[1].ty.of(GOOD), "network-traffic");
        let port = s.member(GOOD, 1, "dst_port").unwrap();
        assert_eq!(port.of(GOOD), "53");
        let r = s.member(GOOD, 1, "dst_ref").unwrap();
        assert_eq!(s.by_id(GOOD, r.string(GOOD).unwrap()), Some(0));
        let x = s.member(GOOD, 1, "x").unwrap();
        assert_eq!(
            s.member_of(GOOD, x, "a").unwrap().of(GOOD),
            "[1,2.5,true,false,null]"
        );
        assert_eq!(s.member_of(GOOD, x, "b"), None);
    }

    #[test]
    fn bytes_are_vouched_for_only_when_utf8() {
        let mut s = Scanner::default();
        let want = s.scan(GOOD);
        assert!(want.is_some());
        assert_eq!(s.scan_bytes(GOOD.as_bytes(), false), want);
        // Non-ASCII anywhere in the blocks of the prescan, valid and not.
        for at in [0, 1, 63, 64, 65, 127, 128, 200] {
            let text = GOOD.replace("10.0.0.1", &format!("{}é{}", "x".repeat(at), "y"));
            let got = s.scan_bytes(text.as_bytes(), false);
            assert_eq!(got, s.scan(&text), "{text}");
            assert!(got.is_some(), "{text}");
            let value = s.member(&text, 0, "value").unwrap();
            assert_eq!(
                value.string_str(text.as_bytes()),
                Some(format!("{}é{}", "x".repeat(at), "y").as_str())
            );
            let mut bytes = text.clone().into_bytes();
            let e = bytes.iter().position(|&b| b >= 0x80).unwrap();
            // A lone continuation byte, then a truncated sequence.
            bytes[e] = 0x80;
            assert_eq!(s.scan_bytes(&bytes, false), None, "{text}");
            bytes[e] = 0xc3;
            bytes[e + 1] = b'y';
            assert_eq!(s.scan_bytes(&bytes, false), None, "{text}");
        }
    }

    #[test]
    fn nested_members_read_alike_with_and_without_control_characters() {
        // `member_of` reads strings by the bitmap, or byte-wise when the text has control
        // characters (pretty-printed): the same members either way, strings of any length
        // across the bitmap's words included.
        for len in [0, 1, 30, 63, 64, 65, 130] {
            let v = "h".repeat(len);
            let compact = GOOD.replace(
                r#""dst_port":53"#,
                &format!(r#""hashes":{{"SHA-256":"{v}","MD5":"m{v}","x":[1,{{"y":"{v}"}}]}},"dst_port":53"#),
            );
            let pretty = serde_json::to_string_pretty(
                &serde_json::from_str::<serde_json::Value>(&compact).unwrap(),
            )
            .unwrap();
            for text in [compact.as_str(), pretty.as_str()] {
                let mut s = Scanner::default();
                assert!(s.scan(text).is_some(), "{text}");
                let hashes = s.member(text, 1, "hashes").unwrap();
                let got = |name| s.member_of(text, hashes, name).map(|m| m.of(text));
                assert_eq!(got("SHA-256"), Some(format!("\"{v}\"").as_str()));
                assert_eq!(got("MD5"), Some(format!("\"m{v}\"").as_str()));
                assert_eq!(got("y"), None);
                assert_eq!(
                    got("x").map(|x| x.replace(char::is_whitespace, "")),
                    Some(format!("[1,{{\"y\":\"{v}\"}}]"))
                );
            }
        }
    }

    #[test]
    fn number_observed_is_read_as_the_model_reads_it() {
        for n in [
            "1",
            "7",
            "10",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "0",
            "00",
            "01",
            "-1",
            "1.0",
            "1e0",
            "\"1\"",
        ] {
            let text = format!(
                r#"{{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":{n},"object_refs":[]}}"#
            );
            let got = Scanner::default().scan(&text);
            assert_eq!(got.map(|w| w.earliest), full(&text), "{n}");
            assert_eq!(
                got.is_some(),
                !n.starts_with('0') && n.parse::<u64>().is_ok_and(|v| v >= 1),
                "{n}"
            );
        }
    }

    #[test]
    fn the_last_duplicate_wins_as_in_serde_json() {
        let text = r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","first_observed":"2024-01-02T00:00:00Z","last_observed":"2024-01-03T00:00:00Z","number_observed":1,"object_refs":[]}"#;
        let mut s = Scanner::default();
        assert_eq!(s.scan(text).map(|w| w.earliest), full(text));
        assert!(full(text).is_some());
    }

    #[test]
    fn bails_where_the_full_path_refuses_or_might() {
        for bad in [
            "",
            "   ",
            "[]",
            "{}",
            "null",
            r#"{"type":"bundle","objects":[]}"#,
            r#"{"type":"bundle","objects":[{"type":"bundle","objects":[]}]}"#,
            r#"{"type":"bundle"}"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2023-01-01T00:00:00Z","number_observed":1,"object_refs":[]}"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":0,"object_refs":[]}"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1.0,"object_refs":[]}"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[1]}"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1}"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"objects":{"0":{"type":"ipv4-addr","value":"1.2.3.4"}}}"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01 00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[]}"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[],"x":1e5}"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[],"x":"a\"b"}"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[],"x":01}"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[],}"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[]} x"#,
            r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[]"#,
            r#"{"type":1,"first_observed":"2024-01-01T00:00:00Z"}"#,
            r#"{"type":"bundle","objects":[{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[]},{"id":"x"}]}"#,
            r#"{"type":"bundle","objects":[{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[]},3]}"#,
        ] {
            let mut s = Scanner::default();
            assert_eq!(s.scan(bad), None, "{bad}");
        }
        let deep = format!(
            r#"{{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[],"x":{}1{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert_eq!(Scanner::default().scan(&deep), None);
    }

    #[test]
    fn specials_finds_the_first_special_byte() {
        for (chunk, want) in [
            (*b"abcdefgh", None),
            (*b"abc\"efgh", Some(3)),
            (*b"\\bcdefgh", Some(0)),
            (*b"abcdefg\x1f", Some(7)),
            (*b"ab\x00d\"f\\h", Some(2)),
            (*b"\xc3\xa9cdefgh", None),
            (*b"\xff\xfe\x7f ~!#$", None),
        ] {
            let m = specials(u64::from_le_bytes(chunk));
            let got = (m != 0).then(|| (m.trailing_zeros() / 8) as usize);
            assert_eq!(got, want, "{chunk:?}");
        }
    }

    #[test]
    fn same_is_slice_equality() {
        let texts: Vec<Vec<u8>> = (0..40)
            .flat_map(|n| {
                let base: Vec<u8> = (0..n).map(|i| b'a' + i as u8).collect();
                let mut out = vec![base.clone()];
                for i in 0..n {
                    let mut v = base.clone();
                    v[i] = b'#';
                    out.push(v);
                }
                out
            })
            .collect();
        for a in &texts {
            for b in &texts {
                assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn names_are_told_by_their_bytes() {
        for (key, want) in [
            ("id", Name::Id),
            ("type", Name::Type),
            ("objects", Name::Objects),
            ("object_refs", Name::ObjectRefs),
            ("first_observed", Name::FirstObserved),
            ("last_observed", Name::LastObserved),
            ("number_observed", Name::NumberObserved),
            ("ID", Name::Other),
            ("typ", Name::Other),
            ("types", Name::Other),
            ("objectz", Name::Other),
            ("number_observed_", Name::Other),
            ("first_observed__x", Name::Other),
            ("", Name::Other),
            ("dst_ref", Name::Other),
            // Differing in the second word only, or in its first byte, or in the first.
            ("number_observeD", Name::Other),
            ("last_observeb", Name::Other),
            ("object_ref5", Name::Other),
            ("first_observee", Name::Other),
            ("object_Refs", Name::Other),
            ("objecT_refs", Name::Other),
            ("Number_observed", Name::Other),
            ("created", Name::Other),
            ("xy", Name::Other),
        ] {
            // Far from the end of the text, and right at it.
            for text in [
                format!("\"{key}\":1,\"padding_padding\":2"),
                format!("\"{key}"),
            ] {
                let span = Span::new(1, 1 + key.len());
                assert_eq!(Name::of(text.as_bytes(), span), want, "{text}");
            }
        }
    }

    #[test]
    fn prescan_marks_exactly_the_quotes() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut out = Vec::new();
        for len in 0..300 {
            // Quotes, their neighbours in value and bytes that differ only in the high bit.
            let text: Vec<u8> = (0..len)
                .map(|_| [b'"', b'!', b'#', 0xa2, 0x22 ^ 0x80, b'a', 0, 0xff][next() as usize % 8])
                .collect();
            let pre = prescan(&text, &mut out);
            assert_eq!(
                pre,
                Some(Prescan {
                    control: text.contains(&0),
                    ascii: text.iter().all(u8::is_ascii),
                })
            );
            assert_eq!(out.len(), len / 64 + 3);
            for i in 0..out.len() * 64 {
                let want = text.get(i) == Some(&b'"');
                assert_eq!(out[i / 64] >> (i % 64) & 1 == 1, want, "byte {i} of {len}");
            }
        }
        for at in [0, 3, 63, 64, 70, 127, 128, 140] {
            let mut text = vec![b'a'; 141];
            text[at] = b'\\';
            assert_eq!(prescan(&text, &mut out), None, "backslash at {at}");
        }
    }

    #[test]
    fn strings_of_any_length_and_position() {
        for pad in 0..70 {
            for len in [0, 1, 7, 8, 62, 63, 64, 65, 127, 128, 129, 200] {
                let value = "v".repeat(len);
                let text = format!(
                    r#"{{"type":"observed-data","{}":"{value}","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":["x"]}}"#,
                    "k".repeat(pad)
                );
                let mut s = Scanner::default();
                assert_eq!(s.scan(&text).map(|w| w.earliest), full(&text), "{text}");
                assert!(s.scan(&text).is_some(), "{text}");
                let cut = &text[..text.len() - 1];
                assert_eq!(s.scan(cut), None, "{cut}");
            }
        }
    }

    /// What a scan records, by content rather than offsets (spaces outside strings, which
    /// the texts compared here differ by, removed from values).
    fn recorded(s: &Scanner, text: &str) -> Vec<String> {
        let mut out: Vec<String> = s
            .members
            .iter()
            .map(|m| format!("{}={}", m.key.of(text), m.value.of(text).replace(' ', "")))
            .collect();
        for it in &s.items {
            let id = it.id.map(|i| i.of(text));
            out.push(format!(
                "item {} {id:?} {}",
                it.ty.of(text),
                it.members.len()
            ));
        }
        out
    }

    #[test]
    fn compact_members_read_as_the_general_path_reads_them() {
        // Keys and values of lengths that put the member's four quotes on either side of
        // the 64-byte window and of the bitmap's words; a space after each `:` makes the
        // same document go through the general path.
        let mut checked = 0;
        for pad in 0..70 {
            for (klen, vlen) in [
                (1, 0),
                (1, 1),
                (3, 20),
                (10, 50),
                (20, 40),
                (30, 30),
                (60, 1),
                (1, 60),
                (2, 58),
                (40, 100),
            ] {
                let (k, v) = ("k".repeat(klen), "v".repeat(vlen));
                let text = format!(
                    r#"{{"type":"bundle","objects":[{{"type":"observed-data","{pad}":"{pad}","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":["x"]}},{{"type":"x-{v}","{k}":"{v}","{k}2":{{"a":"{v}"}},"id":"{k}","z":"{v}"}}]}}"#,
                    pad = "p".repeat(pad)
                );
                let spaced = text.replace("\":", "\": ");
                let (mut a, mut b) = (Scanner::default(), Scanner::default());
                let (wa, wb) = (a.scan(&text), b.scan(&spaced));
                assert!(wa.is_some(), "{text}");
                assert_eq!(wa, wb, "{text}");
                assert_eq!(wa.map(|w| w.earliest), full(&text));
                assert_eq!(recorded(&a, &text), recorded(&b, &spaced), "{text}");
                assert_eq!(
                    a.member(&text, 0, &k).unwrap().string(&text),
                    Some(v.as_str())
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 700);
        // String values where the general path wants something else, and members not
        // followed by `,` or `}`.
        for (text, vouched) in [
            (r#"{"type":"bundle","objects":"x"}"#, false),
            (
                r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":"x"}"#,
                false,
            ),
            (
                r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[],"a":"b"]"#,
                false,
            ),
            (
                r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[],"a":"b""c":"d"}"#,
                false,
            ),
            (
                r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[],"a":"b"}"#,
                true,
            ),
            (
                r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[],"a":"b" }"#,
                true,
            ),
            (
                r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[],"a":"b","#,
                false,
            ),
            (
                r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[],"a":"b"}}"#,
                false,
            ),
            (
                r#"{"type":"observed-data","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":1,"object_refs":[],"a":"é","b":"ü"}"#,
                true,
            ),
        ] {
            let got = Scanner::default().scan(text);
            assert_eq!(got.is_some(), vouched, "{text}");
            assert_eq!(
                got.map(|w| w.earliest),
                if vouched { full(text) } else { None },
                "{text}"
            );
            if !vouched {
                // Refused by the scan; the ones the full path takes are only a cost.
                assert!(
                    full(text).is_none() || text.contains("object_refs\":\"x"),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn whitespace_and_control_characters() {
        let compact = GOOD;
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(GOOD).unwrap())
                .unwrap();
        let tabbed = pretty.replace("  ", "\t").replace('\n', "\r\n");
        let mut s = Scanner::default();
        let want = s.scan(compact);
        assert!(want.is_some());
        for text in [pretty.as_str(), tabbed.as_str()] {
            assert_eq!(s.scan(text), want, "{text}");
            assert_eq!(s.items.len(), 2);
            assert_eq!(s.member(text, 0, "value").unwrap().of(text), "\"10.0.0.1\"");
        }
        // A control character inside a string is refused by serde_json: bail.
        for bad in ["\t", "\n", "\u{1}"] {
            let text = GOOD.replace("10.0.0.1", &format!("10.0{bad}.0.1"));
            assert_eq!(s.scan(&text), None, "{text:?}");
            assert_eq!(full(&text), None);
        }
    }

    proptest::proptest! {
        /// Whatever the text, a scan that vouches agrees with the full path.
        #[test]
        fn never_vouches_for_what_the_full_path_refuses(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "{", "}", "[", "]", ",", ":", " ", "\"type\"", "\"bundle\"", "\"objects\"",
                "\"observed-data\"", "\"first_observed\"", "\"last_observed\"",
                "\"2024-01-01T00:00:00Z\"", "\"2023-01-01T00:00:00Z\"", "\"number_observed\"",
                "1", "0", "-1", "1.5", "\"object_refs\"", "\"a\\\"\"", "null", "true", "\"id\"",
                "\"x\"", "\"ipv4-addr\"", "\"value\"", "\"é\"", "1e3", "\u{1}",
            ]), 0..60)
        ) {
            let text: String = parts.concat();
            if let Some(w) = Scanner::default().scan(&text) {
                proptest::prop_assert_eq!(Some(w.earliest), full(&text), "{}", text);
            }
        }

        /// Mutations of a generated line: the scan vouches only for what loads, with the
        /// same time.
        #[test]
        fn agrees_on_mutated_lines(at in 0usize..GOOD.len(), byte in proptest::sample::select(
            b"{}[],: \"\\0123456789.-eatfnul\x01".to_vec()), delete in proptest::bool::ANY) {
            let mut bytes = GOOD.as_bytes().to_vec();
            if delete {
                bytes.remove(at);
            } else {
                bytes.insert(at, byte);
            }
            if let Ok(text) = String::from_utf8(bytes)
                && let Some(w) = Scanner::default().scan(&text)
            {
                proptest::prop_assert_eq!(Some(w.earliest), full(&text), "{}", text);
            }
        }
    }
}
