//! The lexer: pattern text to tokens, one at a time, without allocating.
//!
//! Tokens carry only their kind and byte span; the parser decodes literal text from the span
//! when it builds the tree. Literal *shapes* (hex digit count, base64 alphabet and padding,
//! timestamp layout and ranges) are checked here, so that a malformed literal is reported
//! under the literal itself, as the grammar's lexer rules do (STIX 2.1 §9, "Constants").
//!
//! Measured (`cargo bench -p entente-pattern --bench parse`, shared 2-core VM): parse +
//! validate of `[ipv4-addr:value = '1.2.3.4']` takes ~445 ns, 2.25 M patterns/s, against a
//! target of 1 M/s; the only allocations are the strings and vectors the tree keeps.

use crate::ast::Span;
use crate::error::{ErrorCode, PatternError};

/// Reserved words. They are upper-case only: `within` is an identifier, not a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kw {
    And,
    Or,
    Not,
    FollowedBy,
    Like,
    Matches,
    IsSuperset,
    IsSubset,
    Last,
    In,
    Start,
    Stop,
    Seconds,
    Within,
    Repeats,
    Times,
    Exists,
}

impl Kw {
    fn from_ident(s: &str) -> Option<Kw> {
        Some(match s {
            "AND" => Kw::And,
            "OR" => Kw::Or,
            "NOT" => Kw::Not,
            "FOLLOWEDBY" => Kw::FollowedBy,
            "LIKE" => Kw::Like,
            "MATCHES" => Kw::Matches,
            "ISSUPERSET" => Kw::IsSuperset,
            "ISSUBSET" => Kw::IsSubset,
            "LAST" => Kw::Last,
            "IN" => Kw::In,
            "START" => Kw::Start,
            "STOP" => Kw::Stop,
            "SECONDS" => Kw::Seconds,
            "WITHIN" => Kw::Within,
            "REPEATS" => Kw::Repeats,
            "TIMES" => Kw::Times,
            "EXISTS" => Kw::Exists,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kw::And => "AND",
            Kw::Or => "OR",
            Kw::Not => "NOT",
            Kw::FollowedBy => "FOLLOWEDBY",
            Kw::Like => "LIKE",
            Kw::Matches => "MATCHES",
            Kw::IsSuperset => "ISSUPERSET",
            Kw::IsSubset => "ISSUBSET",
            Kw::Last => "LAST",
            Kw::In => "IN",
            Kw::Start => "START",
            Kw::Stop => "STOP",
            Kw::Seconds => "SECONDS",
            Kw::Within => "WITHIN",
            Kw::Repeats => "REPEATS",
            Kw::Times => "TIMES",
            Kw::Exists => "EXISTS",
        }
    }
}

/// Whether `s` is a reserved word or boolean, which a bare property name cannot be.
pub(crate) fn is_reserved(s: &str) -> bool {
    Kw::from_ident(s).is_some() || s == "true" || s == "false"
}

/// Token kinds. Literal values are decoded later from the span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    LBracket,
    RBracket,
    LParen,
    RParen,
    Colon,
    Dot,
    Comma,
    Star,
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    Kw(Kw),
    /// `[a-zA-Z_][a-zA-Z0-9_-]*` that is not a keyword or boolean.
    Ident,
    /// `'…'`, quotes included in the span.
    Str,
    /// `[+-]?(0|[1-9][0-9]*)`.
    Int,
    /// `[+-]?[0-9]*\.[0-9]+`.
    Float,
    Bool(bool),
    /// `t'…'`, already checked to be a valid timestamp.
    Timestamp,
    /// `h'…'`, already checked to be an even number of hex digits.
    Hex,
    /// `b'…'`, already checked to be valid base64.
    Binary,
    Eof,
}

impl Tok {
    /// How the token is named in "expected …, found …" messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Tok::LBracket => "'['",
            Tok::RBracket => "']'",
            Tok::LParen => "'('",
            Tok::RParen => "')'",
            Tok::Colon => "':'",
            Tok::Dot => "'.'",
            Tok::Comma => "','",
            Tok::Star => "'*'",
            Tok::Eq => "'='",
            Tok::Neq => "'!='",
            Tok::Lt => "'<'",
            Tok::Le => "'<='",
            Tok::Gt => "'>'",
            Tok::Ge => "'>='",
            Tok::Kw(k) => k.as_str(),
            Tok::Ident => "identifier",
            Tok::Str => "string literal",
            Tok::Int => "integer literal",
            Tok::Float => "float literal",
            Tok::Bool(_) => "boolean literal",
            Tok::Timestamp => "timestamp literal",
            Tok::Hex => "hex literal",
            Tok::Binary => "binary literal",
            Tok::Eof => "end of pattern",
        }
    }
}

/// One token: its kind and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Span,
}

/// A cursor over the pattern text.
pub(crate) struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Lexer {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn err(
        &self,
        code: ErrorCode,
        start: usize,
        end: usize,
        msg: impl Into<String>,
    ) -> PatternError {
        PatternError::new(code, Span::new(start, end), msg, self.text)
    }

    fn peek_byte(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    /// Skips whitespace and comments. The whitespace set and the `/* */` and `//` comments
    /// are those of the reference grammar's skipped tokens.
    fn skip_trivia(&mut self) -> Result<(), PatternError> {
        loop {
            let Some(b) = self.peek_byte(0) else {
                return Ok(());
            };
            match b {
                b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c => self.pos += 1,
                b'/' if self.peek_byte(1) == Some(b'*') => {
                    let start = self.pos;
                    match self.text[self.pos + 2..].find("*/") {
                        Some(i) => self.pos += 2 + i + 2,
                        None => {
                            return Err(self.err(
                                ErrorCode::UnexpectedEnd,
                                start,
                                self.text.len(),
                                "unterminated comment",
                            ));
                        }
                    }
                }
                b'/' if self.peek_byte(1) == Some(b'/') => {
                    self.pos = self.text[self.pos..]
                        .find(['\r', '\n'])
                        .map_or(self.text.len(), |i| self.pos + i);
                }
                0x80.. => {
                    let c = self.text[self.pos..].chars().next().unwrap_or('\0');
                    if is_unicode_space(c) {
                        self.pos += c.len_utf8();
                    } else {
                        return Ok(());
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    /// The next token, or the first lexical error.
    pub(crate) fn next_token(&mut self) -> Result<Token, PatternError> {
        self.skip_trivia()?;
        let start = self.pos;
        let Some(b) = self.peek_byte(0) else {
            return Ok(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
            });
        };
        let single = |tok| (tok, 1);
        let (tok, len) = match b {
            b'[' => single(Tok::LBracket),
            b']' => single(Tok::RBracket),
            b'(' => single(Tok::LParen),
            b')' => single(Tok::RParen),
            b':' => single(Tok::Colon),
            b',' => single(Tok::Comma),
            b'*' => single(Tok::Star),
            b'=' if self.peek_byte(1) == Some(b'=') => (Tok::Eq, 2),
            b'=' => single(Tok::Eq),
            b'!' if self.peek_byte(1) == Some(b'=') => (Tok::Neq, 2),
            b'<' if self.peek_byte(1) == Some(b'>') => (Tok::Neq, 2),
            b'<' if self.peek_byte(1) == Some(b'=') => (Tok::Le, 2),
            b'<' => single(Tok::Lt),
            b'>' if self.peek_byte(1) == Some(b'=') => (Tok::Ge, 2),
            b'>' => single(Tok::Gt),
            b'.' if self.peek_byte(1).is_some_and(|c| c.is_ascii_digit()) => return self.number(),
            b'.' => single(Tok::Dot),
            b'0'..=b'9' => return self.number(),
            b'+' | b'-' => match self.peek_byte(1) {
                Some(b'0'..=b'9') => return self.number(),
                Some(b'.') if self.peek_byte(2).is_some_and(|c| c.is_ascii_digit()) => {
                    return self.number();
                }
                _ => {
                    return Err(self.err(
                        ErrorCode::UnexpectedChar,
                        start,
                        start + 1,
                        format!("unexpected '{}'", b as char),
                    ));
                }
            },
            b'\'' => return self.string(),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => return self.word(),
            b'"' => {
                return Err(self.err(
                    ErrorCode::UnexpectedChar,
                    start,
                    start + 1,
                    "strings use single quotes",
                ));
            }
            _ => {
                let c = self.text[start..].chars().next().unwrap_or('\0');
                return Err(self.err(
                    ErrorCode::UnexpectedChar,
                    start,
                    start + c.len_utf8(),
                    format!("unexpected character {c:?}"),
                ));
            }
        };
        self.pos += len;
        Ok(Token {
            tok,
            span: Span::new(start, self.pos),
        })
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while self.peek_byte(0).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - from
    }

    /// `[+-]?(0|[1-9][0-9]*)` or `[+-]?[0-9]*\.[0-9]+`. `1.` is the integer `1` followed by
    /// a dot, as in the reference grammar; `01` is an error because the grammar has no
    /// leading zeros.
    fn number(&mut self) -> Result<Token, PatternError> {
        let start = self.pos;
        if matches!(self.peek_byte(0), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        let int_start = self.pos;
        let int_len = self.digits();
        if self.peek_byte(0) == Some(b'.') && self.peek_byte(1).is_some_and(|c| c.is_ascii_digit())
        {
            self.pos += 1;
            self.digits();
            return Ok(Token {
                tok: Tok::Float,
                span: Span::new(start, self.pos),
            });
        }
        if int_len > 1 && self.bytes[int_start] == b'0' {
            return Err(self.err(
                ErrorCode::InvalidNumber,
                start,
                self.pos,
                "integers cannot have leading zeros",
            ));
        }
        Ok(Token {
            tok: Tok::Int,
            span: Span::new(start, self.pos),
        })
    }

    /// A quoted run starting at the quote at `self.pos`; returns the index one past the
    /// closing quote. `escapes` allows `\\` and `\'` (string literals); the prefixed literals
    /// have no escapes.
    fn quoted(&mut self, lit_start: usize, escapes: bool) -> Result<usize, PatternError> {
        let mut i = self.pos + 1;
        loop {
            match self.bytes.get(i) {
                None => {
                    return Err(self.err(
                        ErrorCode::UnterminatedString,
                        lit_start,
                        self.text.len(),
                        "unterminated literal: missing closing quote",
                    ));
                }
                Some(b'\'') => return Ok(i + 1),
                Some(b'\\') if escapes => match self.bytes.get(i + 1) {
                    Some(b'\\' | b'\'') => i += 2,
                    _ => {
                        let len = self.text[i + 1..].chars().next().map_or(0, char::len_utf8);
                        return Err(self.err(
                            ErrorCode::InvalidEscape,
                            i,
                            i + 1 + len,
                            "invalid escape: only \\\\ and \\' are allowed in strings",
                        ));
                    }
                },
                Some(_) => i += 1,
            }
        }
    }

    fn string(&mut self) -> Result<Token, PatternError> {
        let start = self.pos;
        let end = self.quoted(start, true)?;
        self.pos = end;
        Ok(Token {
            tok: Tok::Str,
            span: Span::new(start, end),
        })
    }

    fn word(&mut self) -> Result<Token, PatternError> {
        let start = self.pos;
        self.pos += 1;
        while self
            .peek_byte(0)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            self.pos += 1;
        }
        let word = &self.text[start..self.pos];
        if self.peek_byte(0) == Some(b'\'') && matches!(word, "t" | "h" | "b") {
            return self.prefixed(start, word.as_bytes()[0]);
        }
        let tok = match word {
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            _ => Kw::from_ident(word).map_or(Tok::Ident, Tok::Kw),
        };
        Ok(Token {
            tok,
            span: Span::new(start, self.pos),
        })
    }

    /// `t'…'`, `h'…'` or `b'…'`, with the content's shape checked.
    fn prefixed(&mut self, start: usize, prefix: u8) -> Result<Token, PatternError> {
        let end = self.quoted(start, false)?;
        self.pos = end;
        let body = &self.text[start + 2..end - 1];
        let span = Span::new(start, end);
        let tok = match prefix {
            b't' => {
                if let Err(why) = parse_timestamp(body) {
                    return Err(PatternError::new(
                        ErrorCode::InvalidTimestamp,
                        span,
                        format!("invalid timestamp literal: {why}"),
                        self.text,
                    ));
                }
                Tok::Timestamp
            }
            b'h' => {
                if !body.len().is_multiple_of(2) || !body.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return Err(PatternError::new(
                        ErrorCode::InvalidHex,
                        span,
                        "hex literal must be an even number of hex digits",
                        self.text,
                    ));
                }
                Tok::Hex
            }
            _ => {
                // The grammar's BinaryLiteral needs at least one 4-character group, so
                // `b''` is not a literal.
                if body.is_empty() || decode_base64(body).is_none() {
                    return Err(PatternError::new(
                        ErrorCode::InvalidBase64,
                        span,
                        "binary literal must be non-empty, padded base64",
                        self.text,
                    ));
                }
                Tok::Binary
            }
        };
        Ok(Token { tok, span })
    }
}

/// The Unicode whitespace the reference grammar skips besides ASCII.
fn is_unicode_space(c: char) -> bool {
    matches!(
        c,
        '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// Decodes standard, padded base64 (RFC 4648 §4), the encoding of STIX binary values.
pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// Decodes an even-length run of hex digits.
pub(crate) fn decode_hex(s: &str) -> Vec<u8> {
    fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            // The lexer only lets hex digits through.
            _ => 0,
        }
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| (nibble(p[0]) << 4) | nibble(p[1]))
        .collect()
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
///
/// STIX timestamps are RFC 3339 in UTC with a literal `Z` (STIX 2.1 §3.2, §9 "Constants").
/// RFC 3339 §5.7 bounds the day by the month and year, so `2024-02-30` is rejected here,
/// although the reference validator only checks field ranges (see DEVIATIONS.md). A leap
/// second (`60`) is allowed and folded onto `59`.
pub(crate) fn parse_timestamp(s: &str) -> Result<jiff::Timestamp, &'static str> {
    let b = s.as_bytes();
    let layout = "expected YYYY-MM-DDTHH:MM:SS[.fraction]Z";
    if b.len() < 20 {
        return Err(layout);
    }
    let num = |r: std::ops::Range<usize>| -> Result<i32, &'static str> {
        let mut v = 0i32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return Err(layout);
            }
            v = v * 10 + i32::from(c - b'0');
        }
        Ok(v)
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return Err(layout);
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut nanos = 0i32;
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let from = i;
        while i < b.len() && b[i].is_ascii_digit() {
            // Digits past nanoseconds are accepted (matcher #71) but cannot be represented.
            if i - from < 9 {
                nanos = nanos * 10 + i32::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == from {
            return Err(layout);
        }
        for _ in (i - from)..9 {
            nanos *= 10;
        }
    }
    if i + 1 != b.len() || b[i] != b'Z' {
        return Err("timestamp must end with 'Z' (UTC)");
    }
    if !(1..=12).contains(&month) {
        return Err("month out of range");
    }
    if !(1..=31).contains(&day) {
        return Err("day out of range");
    }
    if hour > 23 {
        return Err("hour out of range");
    }
    if minute > 59 {
        return Err("minute out of range");
    }
    if second > 60 {
        return Err("second out of range");
    }
    // The ranges were checked above, so the narrowing casts cannot truncate.
    let date = jiff::civil::Date::new(year as i16, month as i8, day as i8)
        .map_err(|_| "day does not exist in that month")?;
    let time = jiff::civil::Time::new(hour as i8, minute as i8, second.min(59) as i8, nanos)
        .map_err(|_| "time out of range")?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(date.to_datetime(time))
        .map_err(|_| "timestamp out of range")
}
