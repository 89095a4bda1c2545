//! A validating scan of an observed-data document's text, for the quick pre-probe.
//!
//! `entente hunt` over STIX NDJSON spent most of its time building a `serde_json::Value` of
//! every line and the evaluator's model of it (~9 µs per 1 KB line), although about 99 % of
//! lines propose no indicator at all. [`Scanner::scan`] reads the text once, without
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
//! * string escapes (`\`) anywhere and control characters in strings (serde_json refuses
//!   the latter; the former would need decoding to compare keys and values);
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
//! The text is `&str`, so UTF-8 is already valid. The scanner's acceptance is tested against
//! serde_json and the model in this module's tests and fuzzed (`fuzz/fuzz_targets/
//! hunt_readers.rs` through the hunt reader).

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
    pub fn of(self, text: &str) -> &str {
        text.get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }

    /// The content of a string token (the span without its quotes), when it is one.
    pub fn string(self, text: &str) -> Option<&str> {
        let t = self.of(text);
        t.strip_prefix('"').and_then(|t| t.strip_suffix('"'))
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
}

/// The scan cannot vouch for the text: load it the ordinary way.
struct Bail;

type R<T> = Result<T, Bail>;

/// Bytes that end the fast run of a string: `"`, `\` and control characters.
#[inline]
fn specials(x: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let q = x ^ (LO * u64::from(b'"'));
    let bs = x ^ (LO * u64::from(b'\\'));
    // The classic "has zero byte" / "has byte less than n" tests: each mask's lowest set bit
    // marks its first such byte exactly (false positives only sit above a true one), so the
    // lowest bit of their union is the first special byte.
    ((q.wrapping_sub(LO) & !q) | (bs.wrapping_sub(LO) & !bs) | (x.wrapping_sub(LO * 0x20) & !x))
        & HI
}

struct Cur<'t> {
    b: &'t [u8],
    pos: usize,
}

impl Cur<'_> {
    #[inline]
    fn peek(&self) -> R<u8> {
        self.b.get(self.pos).copied().ok_or(Bail)
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline]
    fn expect(&mut self, c: u8) -> R<()> {
        if self.peek()? == c {
            self.pos += 1;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// A string token at the cursor; returns its content's span.
    #[inline]
    fn string(&mut self) -> R<Span> {
        self.expect(b'"')?;
        let start = self.pos;
        let b = self.b;
        loop {
            if let Some(chunk) = b.get(self.pos..self.pos + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(chunk);
                let m = specials(u64::from_le_bytes(w));
                if m == 0 {
                    self.pos += 8;
                    continue;
                }
                self.pos += (m.trailing_zeros() / 8) as usize;
            } else {
                while let Some(&c) = b.get(self.pos) {
                    if c == b'"' || c == b'\\' || c < 0x20 {
                        break;
                    }
                    self.pos += 1;
                }
            }
            return match b.get(self.pos) {
                Some(b'"') => {
                    let span = Span::new(start, self.pos);
                    self.pos += 1;
                    Ok(span)
                }
                // An escape, a control character, or the end of the text.
                _ => Err(Bail),
            };
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.b.get(self.pos) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A number per RFC 8259 §6, without an exponent.
    fn number(&mut self) -> R<()> {
        if self.peek()? == b'-' {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.b.get(self.pos) {
                    return Err(Bail);
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return Err(Bail),
        }
        if self.b.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(Bail);
            }
        }
        if let Some(b'e' | b'E') = self.b.get(self.pos) {
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
        match self.peek()? {
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
        if self.peek()? == b']' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            element(self, depth)?;
            self.ws();
            match self.peek()? {
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
        if self.peek()? == b'}' {
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
            match self.peek()? {
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

/// The value of the last member named `name` of the object token `span` (already
/// validated by a scan), if `span` is an object.
pub(crate) fn member_of(text: &str, span: Span, name: &str) -> Option<Span> {
    let mut cur = Cur {
        b: text.as_bytes().get(..span.end as usize)?,
        pos: span.start as usize,
    };
    if cur.peek().ok()? != b'{' {
        return None;
    }
    let mut found = None;
    cur.object(0, |c, key, depth| {
        let start = c.pos;
        c.value(depth)?;
        if key.of(text) == name {
            found = Some(Span::new(start, c.pos));
        }
        Ok(())
    })
    .ok()?;
    found
}

/// The members of the object that an observed-data or a bundle needs, read as they come.
#[derive(Default)]
struct Special {
    ty: Option<Span>,
    id: Option<Span>,
    first: Option<Span>,
    last: Option<Span>,
    number: Option<Span>,
    /// `Some(true)` when the last `object_refs` was a list of strings.
    refs: Option<bool>,
    objects: bool,
}

impl Scanner {
    /// Scans `text`; `Some` with the observation windows when the document is one the scan
    /// fully vouches for (see the module docs), with its objects in [`Scanner::items`].
    pub fn scan(&mut self, text: &str) -> Option<Windows> {
        self.members.clear();
        self.items.clear();
        self.windows = None;
        if u32::try_from(text.len()).is_err() {
            return None;
        }
        let mut cur = Cur {
            b: text.as_bytes(),
            pos: 0,
        };
        cur.ws();
        let ok = match cur.peek() {
            Ok(b'{') => self.item(&mut cur, text, true, 0),
            Ok(b'[') => cur.array(1, |c, d| {
                if c.peek()? != b'{' {
                    return Err(Bail);
                }
                self.item(c, text, true, d)
            }),
            _ => Err(Bail),
        };
        ok.ok()?;
        cur.ws();
        if cur.pos != text.len() {
            return None;
        }
        self.windows
    }

    /// One STIX object at the cursor. `top`: not inside a bundle.
    fn item(&mut self, cur: &mut Cur<'_>, text: &str, top: bool, depth: u32) -> R<()> {
        let first_member = self.members.len();
        let mut sp = Special::default();
        cur.object(depth + 1, |c, key, d| {
            let start = c.pos;
            match key.of(text) {
                "objects" => {
                    if !top || sp.objects || c.peek()? != b'[' {
                        return Err(Bail);
                    }
                    sp.objects = true;
                    c.array(d + 1, |c, d| {
                        if c.peek()? != b'{' {
                            return Err(Bail);
                        }
                        self.item(c, text, false, d)
                    })?;
                }
                "object_refs" => {
                    let mut strings = c.peek()? == b'[';
                    if strings {
                        c.array(d + 1, |c, d| {
                            if c.peek()? == b'"' {
                                c.string().map(|_| ())
                            } else {
                                strings = false;
                                c.value(d)
                            }
                        })?;
                    } else {
                        c.value(d)?;
                    }
                    sp.refs = Some(strings);
                }
                _ => c.value(d)?,
            }
            let value = Span::new(start, c.pos);
            match key.of(text) {
                "type" => sp.ty = Some(value),
                "id" => sp.id = Some(value),
                "first_observed" => sp.first = Some(value),
                "last_observed" => sp.last = Some(value),
                "number_observed" => sp.number = Some(value),
                _ => {}
            }
            self.members.push(Member { key, value });
            Ok(())
        })?;
        let ty = sp.ty.and_then(|s| s.string(text)).ok_or(Bail)?;
        match ty {
            "bundle" if top && sp.objects => Ok(()),
            // A bundle in a bundle, a bundle without objects, or `objects` elsewhere (2.0).
            _ if ty == "bundle" || sp.objects => Err(Bail),
            "observed-data" => self.observed(text, &sp),
            _ => {
                let content = |s: Span| Span::new(s.start as usize + 1, s.end as usize - 1);
                self.items.push(Item {
                    ty: content(sp.ty.ok_or(Bail)?),
                    id: sp.id.filter(|s| s.string(text).is_some()).map(content),
                    members: first_member..self.members.len(),
                });
                Ok(())
            }
        }
    }

    /// The checks `Observations::from_json` makes of a 2.1 observed-data, and its window.
    fn observed(&mut self, text: &str, sp: &Special) -> R<()> {
        let ts = |s: Option<Span>| {
            s.and_then(|s| s.string(text))
                .and_then(|t| crate::timestamp::parse(t).ok())
                .ok_or(Bail)
        };
        let first = ts(sp.first)?;
        let last = ts(sp.last)?;
        if last < first || sp.refs != Some(true) {
            return Err(Bail);
        }
        // `as_u64` in the model: a non-negative integer without fraction.
        let n = sp.number.ok_or(Bail)?.of(text);
        if !n.bytes().all(|b| b.is_ascii_digit()) || !matches!(n.parse::<u64>(), Ok(1..)) {
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

    /// The value of the last member named `name` of item `i`.
    pub fn member(&self, text: &str, i: usize, name: &str) -> Option<Span> {
        let item = self.items.get(i)?;
        self.members
            .get(item.members.clone())?
            .iter()
            .rev()
            .find(|m| m.key.of(text) == name)
            .map(|m| m.value)
    }

    /// The first item whose `id` is `id` (the model's `scos` map keeps the first).
    pub fn by_id(&self, text: &str, id: &str) -> Option<usize> {
        self.items
            .iter()
            .position(|it| it.id.is_some_and(|s| s.of(text) == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            member_of(GOOD, x, "a").unwrap().of(GOOD),
            "[1,2.5,true,false,null]"
        );
        assert_eq!(member_of(GOOD, x, "b"), None);
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
