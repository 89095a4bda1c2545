//! Index keys: values and constants in a canonical form whose equality is implied by the
//! evaluator's equality.
//!
//! The evaluator decides `=` and `IN` with `value::equals` (STIX 2.1 §9.6.1–§9.6.4): numbers
//! numerically (`12` equals `12.0`), strings by code point, binary properties as decoded octets
//! (with a string constant read as octets when all its code points are below U+0100), `t'…'`
//! constants against the property read as a timestamp. A [`KeyRef`] is built so that
//! `equals(v, c) == Some(true)` implies `key(v) == key(c)`: an equality index then never
//! misses a match, and the evaluator confirms every candidate it proposes.
//!
//! Keys may be *coarser* than that equality, which costs only a few extra candidates. Two
//! coarsenings are applied on purpose, per object path (the same on both sides):
//! * hash values (`…:hashes.'SHA-256'`) compare without ASCII case, since producers write hex
//!   in either case (the evaluator itself compares case-sensitively, as the spec says);
//! * `…:value` strings that are IP addresses compare as addresses (`01.2.3.4` and `1.2.3.4`,
//!   or two spellings of one IPv6 address, get one key).
//!
//! So if the evaluator ever adopts either as an extension, the index needs no change.

use std::hash::{Hash, Hasher};

use crate::value::{Const, Num, Val, latin1_bytes};

/// How text values on one path are canonicalised (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// As is.
    Plain,
    /// ASCII lower case (hash values).
    Hash,
    /// IP addresses as addresses.
    Ip,
}

/// An owned key, as stored in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    /// A string's UTF-8 bytes (as bytes so that a scanned value's bytes, UTF-8 already,
    /// need no conversion to `&str` to be looked up).
    Text(Box<[u8]>),
    Octets(Box<[u8]>),
    Int(i128),
    Float(u64),
    Bool(bool),
    Time(i128),
    Ip(bool, u128),
}

/// A borrowed key, as computed from an event's values without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum KeyRef<'a> {
    Text(&'a [u8]),
    Octets(&'a [u8]),
    Int(i128),
    Float(u64),
    Bool(bool),
    Time(i128),
    Ip(bool, u128),
}

impl Key {
    pub fn as_ref(&self) -> KeyRef<'_> {
        match self {
            Key::Text(s) => KeyRef::Text(s),
            Key::Octets(b) => KeyRef::Octets(b),
            Key::Int(i) => KeyRef::Int(*i),
            Key::Float(f) => KeyRef::Float(*f),
            Key::Bool(b) => KeyRef::Bool(*b),
            Key::Time(t) => KeyRef::Time(*t),
            Key::Ip(v6, a) => KeyRef::Ip(*v6, *a),
        }
    }
}

/// Hashes a path id and a key; owned and borrowed keys hash alike.
pub(crate) fn hash_key(state: &impl std::hash::BuildHasher, pid: u32, k: KeyRef<'_>) -> u64 {
    let mut h = state.build_hasher();
    pid.hash(&mut h);
    k.hash(&mut h);
    h.finish()
}

/// The canonical number: an integral float is the integer it equals (so `12` and `12.0`
/// share a key, as `Num::cmp` makes them equal); other floats keep their bits.
pub(crate) fn num(n: Num) -> KeyRef<'static> {
    match n {
        Num::Int(i) => KeyRef::Int(i),
        // 1e38 < 2^127: the cast is exact for every integral float below it.
        Num::Float(f) if f.trunc() == f && f.abs() < 1e38 => KeyRef::Int(f as i128),
        Num::Float(f) => KeyRef::Float(f.to_bits()),
    }
}

/// Canonical text under `mode`; `buf` holds a lower-cased copy when one is needed.
pub(crate) fn text<'a>(mode: Mode, s: &'a str, buf: &'a mut Vec<u8>) -> KeyRef<'a> {
    let ip = if mode == Mode::Ip {
        super::addr::parts(s)
    } else {
        None
    };
    text_parsed(mode, s.as_bytes(), ip, buf)
}

/// [`text`] of a text's UTF-8 bytes when the caller already read it as an address: `ip`
/// must be `addr::parts(s)` under [`Mode::Ip`] (it is ignored under the other modes).
pub(crate) fn text_parsed<'a>(
    mode: Mode,
    s: &'a [u8],
    ip: Option<(bool, u128, u8)>,
    buf: &'a mut Vec<u8>,
) -> KeyRef<'a> {
    match mode {
        Mode::Plain => KeyRef::Text(s),
        Mode::Hash => {
            if has_ascii_uppercase(s) {
                buf.clear();
                buf.extend_from_slice(s);
                buf.make_ascii_lowercase();
                KeyRef::Text(buf)
            } else {
                KeyRef::Text(s)
            }
        }
        Mode::Ip => match ip {
            Some((v6, addr, prefix)) if prefix == if v6 { 128 } else { 32 } => KeyRef::Ip(v6, addr),
            _ => KeyRef::Text(s),
        },
    }
}

/// Whether `s` has a byte in `A`..=`Z`, eight bytes at a time: a hash value (64 bytes for a
/// SHA-256) was checked byte by byte, ~4 instructions each (callgrind).
fn has_ascii_uppercase(s: &[u8]) -> bool {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A byte above 0x40 and below 0x5b (the "hasbetween" test of a word): exact, as only
    // the low seven bits of a byte take part in its sums and bytes with the high bit are
    // ruled out by `!x`.
    let word = |x: u64| {
        let low = x & LOW7;
        (ONES * (127 + 0x5b)).wrapping_sub(low)
            & !x
            & low.wrapping_add(ONES * (127 - 0x40))
            & (ONES * 0x80)
            != 0
    };
    let mut chunks = s.chunks_exact(8);
    let mut any = false;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        any |= word(u64::from_le_bytes(w));
    }
    any || chunks.remainder().iter().any(u8::is_ascii_uppercase)
}

/// Which extra lookups a value on a path needs, because some constant there is of that kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Kinds {
    /// A binary constant meets non-binary strings (compared as octets).
    pub octets: bool,
    /// A timestamp constant (the value is read as a timestamp).
    pub time: bool,
}

/// The key of a constant on a path whose values are binary when `binary`, or `None` when no
/// value can ever equal it there.
pub(crate) fn of_const(c: &Const, binary: bool, mode: Mode) -> Option<Key> {
    Some(match c {
        // §9.6.4: a string constant meets binary values as octets when it can be.
        Const::Str(s) if binary => Key::Octets(latin1_bytes(s)?.into()),
        Const::Str(s) => {
            let mut buf = Vec::new();
            owned(text(mode, s, &mut buf))
        }
        Const::Num(n) => owned(num(*n)),
        Const::Bool(b) => Key::Bool(*b),
        Const::Bytes(b) => Key::Octets(b.clone().into()),
        Const::Time(t) => Key::Time(t.as_nanosecond()),
    })
}

fn owned(k: KeyRef<'_>) -> Key {
    match k {
        KeyRef::Text(s) => Key::Text(s.into()),
        KeyRef::Octets(b) => Key::Octets(b.into()),
        KeyRef::Int(i) => Key::Int(i),
        KeyRef::Float(f) => Key::Float(f),
        KeyRef::Bool(b) => Key::Bool(b),
        KeyRef::Time(t) => Key::Time(t),
        KeyRef::Ip(v6, a) => Key::Ip(v6, a),
    }
}

/// Calls `f` with every key under which a value seen as `v` could be equal to an indexed
/// constant. For a string under [`Mode::Ip`], `ip` must be `addr::parts` of it (the caller
/// reads it once for both this and the CIDR look-ups).
pub(crate) fn of_value(
    v: &Val<'_>,
    mode: Mode,
    kinds: Kinds,
    ip: Option<(bool, u128, u8)>,
    f: &mut impl FnMut(KeyRef<'_>),
) {
    match v {
        Val::Num(n) => f(num(*n)),
        Val::Bool(b) => f(KeyRef::Bool(*b)),
        Val::Bytes(b) => f(KeyRef::Octets(b)),
        Val::Str(s) => of_text(s.as_bytes(), mode, kinds, ip, f),
        Val::Other => {}
    }
}

/// [`of_value`] of a string value given as its UTF-8 bytes (as the evaluator views a JSON
/// string on a path without binary values): a value scanned from a line's text is looked up
/// without being converted to `&str` first, which `str::from_utf8` made ~130 instructions
/// a value (callgrind); only the rare paths with binary or timestamp constants convert it.
pub(crate) fn of_text(
    s: &[u8],
    mode: Mode,
    kinds: Kinds,
    ip: Option<(bool, u128, u8)>,
    f: &mut impl FnMut(KeyRef<'_>),
) {
    let mut buf = Vec::new();
    f(text_parsed(mode, s, ip, &mut buf));
    if (kinds.octets || kinds.time)
        && let Ok(s) = std::str::from_utf8(s)
    {
        if kinds.octets
            && let Some(b) = latin1_bytes(s)
        {
            f(KeyRef::Octets(&b));
        }
        if kinds.time
            && let Ok(t) = crate::timestamp::parse(s)
        {
            f(KeyRef::Time(t.as_nanosecond()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_share_keys_when_equal() {
        assert_eq!(num(Num::Int(12)), num(Num::Float(12.0)));
        assert_eq!(num(Num::Int(0)), num(Num::Float(-0.0)));
        assert_ne!(num(Num::Int(1)), num(Num::Float(1.5)));
    }

    #[test]
    fn uppercase_is_found_as_bytewise() {
        // Every byte value at every position of a word and of the tail, among neighbours
        // that are not upper case.
        for len in [1, 7, 8, 9, 16, 23, 64] {
            for at in 0..len {
                for b in 0..=255u8 {
                    for fill in [b'a', b'@', b'[', 0xc1, 0xda, b'0'] {
                        let mut s = vec![fill; len];
                        s[at] = b;
                        assert_eq!(
                            has_ascii_uppercase(&s),
                            s.iter().any(u8::is_ascii_uppercase),
                            "{s:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn coarsenings() {
        let mut b = Vec::new();
        assert_eq!(text(Mode::Hash, "AbC", &mut b), KeyRef::Text(b"abc"));
        let mut b2 = Vec::new();
        assert_eq!(
            text(Mode::Ip, "01.2.3.4", &mut b),
            text(Mode::Ip, "1.2.3.4", &mut b2)
        );
        assert_eq!(
            text(Mode::Ip, "example.com", &mut b),
            KeyRef::Text(b"example.com")
        );
    }
}
