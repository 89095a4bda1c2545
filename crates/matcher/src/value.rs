//! Comparison semantics between a property value and a pattern constant (STIX 2.1 §9.2,
//! §9.6.1–§9.6.4).
//!
//! The rules, in the order the specification gives them:
//!
//! * integers and floats compare numerically with the full value, never truncated (§9.2,
//!   "integer": comparing `1` with `1.5` is not equal);
//! * strings compare by code point, without Unicode normalisation (§9.6.2);
//! * binary values (properties whose name ends in `_bin` or `_hex`, decoded per §9.6.4, and
//!   `b'…'`/`h'…'` constants) compare as unsigned octets, the longer value greater when one is
//!   a prefix of the other (§9.6.3);
//! * a string compared with a binary value is converted to octets when every code point is
//!   below U+0100, and is incompatible otherwise (§9.2 "string", §9.6.4);
//! * a `t'…'` constant makes the property a timestamp: a JSON string property must then be a
//!   valid STIX timestamp (§9.2 "timestamp" is comparable only with the timestamp type); one
//!   that is not is reported as invalid input, as the reference matcher does;
//! * everything else is an incompatible pair: the comparison is false, except `!=`, which
//!   is true (§9.6.1).
//!
//! Functions here return `Ok(None)` for "incompatible types" and leave the `!=`/`NOT`
//! handling to the caller.

use std::borrow::Cow;
use std::cmp::Ordering;

use base64::Engine as _;
use jiff::Timestamp;
use serde_json::Value;

use crate::timestamp;

/// A number from a pattern or from JSON.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    /// Any JSON integer fits in `i128` (serde_json yields `i64` or `u64`).
    Int(i128),
    /// A float; JSON has no NaN or infinities.
    Float(f64),
}

impl Num {
    /// Exact numeric comparison (STIX 2.1 §9.2: "the full value must be compared").
    pub fn cmp(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (Num::Float(a), Num::Float(b)) => a.partial_cmp(&b),
            (Num::Int(a), Num::Float(b)) => int_float_cmp(a, b),
            (Num::Float(a), Num::Int(b)) => int_float_cmp(b, a).map(Ordering::reverse),
        }
    }
}

/// Compares an integer with a float without rounding either.
fn int_float_cmp(i: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // `as` saturates, and i128's range exceeds every JSON integer, so a saturated
    // truncation still orders correctly against `i`.
    let t = f.trunc() as i128;
    if i != t {
        return Some(i.cmp(&t));
    }
    let frac = f - f.trunc();
    Some(if frac > 0.0 {
        Ordering::Less
    } else if frac < 0.0 {
        Ordering::Greater
    } else {
        Ordering::Equal
    })
}

/// A pattern constant, in the form comparisons need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Const {
    /// Integer or float literal.
    Num(Num),
    /// String literal.
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `b'…'` or `h'…'`, decoded.
    Bytes(Vec<u8>),
    /// `t'…'`.
    Time(Timestamp),
}

impl Const {
    /// The literal kind that §9.6.1's "homogeneous data type" rule for `IN` sets groups by:
    /// integers and floats together (as the reference matcher does), binary and hex together
    /// (both are octets, §9.2).
    pub fn set_kind(&self) -> &'static str {
        match self {
            Const::Num(_) => "number",
            Const::Str(_) => "string",
            Const::Bool(_) => "boolean",
            Const::Bytes(_) => "binary",
            Const::Time(_) => "timestamp",
        }
    }
}

/// How a property holds binary data, decided by its name (STIX 2.1 §9.6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinKind {
    /// `*_bin`: base64.
    Base64,
    /// `*_hex`: hexadecimal.
    Hex,
}

impl BinKind {
    /// The binary encoding a property name implies, if any.
    pub fn of_name(name: &str) -> Option<BinKind> {
        if name.ends_with("_bin") {
            Some(BinKind::Base64)
        } else if name.ends_with("_hex") {
            Some(BinKind::Hex)
        } else {
            None
        }
    }
}

/// A property value, seen the way comparisons need it.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    /// A JSON number.
    Num(Num),
    /// A JSON string of a non-binary property.
    Str(&'a str),
    /// A JSON boolean.
    Bool(bool),
    /// The decoded octets of a `*_bin` / `*_hex` property.
    Bytes(Cow<'a, [u8]>),
    /// Objects and lists: comparable with nothing.
    Other,
}

/// Views a JSON value as a comparison operand. Fails (with the reason) when a binary
/// property does not hold valid base64 or hex: §9.6.4 requires comparing the decoded octets,
/// so an undecodable value is invalid input rather than a mismatch.
pub(crate) fn view(value: &Value, bin: Option<BinKind>) -> Result<Val<'_>, String> {
    Ok(match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Val::Num(Num::Int(i128::from(i)))
            } else if let Some(u) = n.as_u64() {
                Val::Num(Num::Int(i128::from(u)))
            } else {
                Val::Num(Num::Float(n.as_f64().unwrap_or(f64::NAN)))
            }
        }
        Value::String(s) => view_str(s, bin)?,
        Value::Bool(b) => Val::Bool(*b),
        Value::Null | Value::Array(_) | Value::Object(_) => Val::Other,
    })
}

/// [`view`] of a JSON string.
pub(crate) fn view_str(s: &str, bin: Option<BinKind>) -> Result<Val<'_>, String> {
    Ok(match bin {
        None => Val::Str(s),
        Some(BinKind::Base64) => Val::Bytes(Cow::Owned(
            base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map_err(|e| format!("{s:?} is not valid base64: {e}"))?,
        )),
        Some(BinKind::Hex) => Val::Bytes(Cow::Owned(
            decode_hex(s).ok_or_else(|| format!("{s:?} is not valid hex"))?,
        )),
    })
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let nib = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    b.chunks(2)
        .map(|p| Some(nib(p[0])? << 4 | nib(p[1])?))
        .collect()
}

/// A string as octets when every code point is below U+0100 (STIX 2.1 §9.2, "string").
pub(crate) fn latin1_bytes(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Octets as a string of code points U+0000–U+00FF, the inverse of [`latin1_bytes`]; used to
/// run LIKE and MATCHES on binary values.
pub(crate) fn latin1_string(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

/// Orders a value against a constant, or `Ok(None)` when the pair is incompatible.
///
/// The `Err` case is a property string that a timestamp constant needs to read as a
/// timestamp but cannot.
pub(crate) fn compare(v: &Val<'_>, c: &Const) -> Result<Option<Ordering>, String> {
    Ok(match (v, c) {
        (Val::Num(a), Const::Num(b)) => a.cmp(*b),
        (Val::Str(a), Const::Str(b)) => Some((*a).cmp(b.as_str())),
        (Val::Bytes(a), Const::Bytes(b)) => Some(a.as_ref().cmp(b.as_slice())),
        (Val::Bytes(a), Const::Str(b)) => latin1_bytes(b).map(|b| a.as_ref().cmp(b.as_slice())),
        (Val::Str(a), Const::Bytes(b)) => latin1_bytes(a).map(|a| a.as_slice().cmp(b.as_slice())),
        (Val::Str(a), Const::Time(t)) => {
            let v = timestamp::parse(a).map_err(|why| {
                format!("invalid timestamp {a:?} compared with a t'…' constant: {why}")
            })?;
            Some(v.cmp(t))
        }
        _ => None,
    })
}

/// Equality of a value and a constant, or `Ok(None)` when incompatible. Booleans are only
/// ever compared for equality.
pub(crate) fn equals(v: &Val<'_>, c: &Const) -> Result<Option<bool>, String> {
    if let (Val::Bool(a), Const::Bool(b)) = (v, c) {
        return Ok(Some(a == b));
    }
    Ok(compare(v, c)?.map(|o| o == Ordering::Equal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_exactly() {
        assert_eq!(Num::Int(1).cmp(Num::Float(1.5)), Some(Ordering::Less));
        assert_eq!(Num::Int(12).cmp(Num::Float(12.0)), Some(Ordering::Equal));
        assert_eq!(Num::Int(-3).cmp(Num::Float(-2.5)), Some(Ordering::Less));
        assert_eq!(Num::Int(-2).cmp(Num::Float(-2.5)), Some(Ordering::Greater));
        assert_eq!(
            Num::Int(9_007_199_254_740_993).cmp(Num::Float(9_007_199_254_740_992.0)),
            Some(Ordering::Greater)
        );
        assert_eq!(Num::Float(5.1).cmp(Num::Int(5)), Some(Ordering::Greater));
    }

    #[test]
    fn binary_and_strings() {
        let json = Value::String("YWxpY2U=".into());
        let v = view(&json, Some(BinKind::Base64)).unwrap();
        assert_eq!(equals(&v, &Const::Str("alice".into())).unwrap(), Some(true));
        assert_eq!(equals(&v, &Const::Str("ălice".into())).unwrap(), None);
        let json = Value::String("alice".into());
        let v = view(&json, None).unwrap();
        assert_eq!(
            equals(&v, &Const::Bytes(b"alice".to_vec())).unwrap(),
            Some(true)
        );
        assert!(view(&Value::String("zz".into()), Some(BinKind::Hex)).is_err());
    }
}
