//! `LIKE` and `MATCHES` (STIX 2.1 §9.6.1).
//!
//! **LIKE** is SQL's: `%` is zero or more characters, `_` exactly one, the match is anchored
//! at both ends, and there is no escape character (the spec's own example
//! `'C:\\Windows\\%\\foo'` uses the backslash as a path separator right before `%`). The
//! constant and the value are NFC-normalised first (§9.6.1, §9.6.2). "Character" means
//! any character, line breaks included, and the end anchor is the true end of the value.
//!
//! **MATCHES** is a PCRE search (unanchored) with the DOTALL option (§9.6.1). entente runs it
//! on the `regex` crate's engine (`regex_automata::meta`, configured as `regex` configures it,
//! see `build`), which guarantees time linear in the value's length; patterns that
//! need backtracking (backreferences, lookaround, atomic groups, possessive quantifiers,
//! recursion) are rejected when the pattern is compiled, with the engine's message. PCRE's
//! `$` and `\Z` also match before a final line break; they are rewritten so that they keep
//! that meaning. String values and the regex are NFC-normalised (§9.6.1). For binary
//! properties the value's octets become code points U+0000–U+00FF and, as the spec forbids
//! the UNICODE flag there, `\w`, `\d`, `\s` and their negations are restricted to ASCII.

use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use std::borrow::Cow;

/// Size bound for one compiled regex (NFA and lazy-DFA cache), so that a hostile pattern
/// cannot take unbounded memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// NFC form of `s`, borrowing when it already is NFC.
pub(crate) fn nfc(s: &str) -> Cow<'_, str> {
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => Cow::Borrowed(s),
        _ => Cow::Owned(s.nfc().collect()),
    }
}

/// Builds `source` as `regex::RegexBuilder` with both size limits at [`REGEX_SIZE_LIMIT`]
/// would (same syntax and engine configuration, so the same regexes are accepted and they
/// match the same strings), except that no full DFA is built. The `regex` crate builds one
/// for small regexes when any crate in the build enables `regex-automata`'s `dfa-build`
/// (`tracing-subscriber` does, in the `entente` binary): about half of the ~90 us a typical
/// `MATCHES` regex took to build, which loading 1,000,000 indicators with 20,000 regexes
/// paid 30,000 times (`scripts/bench-hunt.sh`). A failing full DFA never fails the build
/// (the engine falls back to the lazy DFA), so leaving it out changes no answer.
fn build(source: &str) -> Result<Regex, String> {
    let config = meta::Config::new()
        .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
        .hybrid_cache_capacity(REGEX_SIZE_LIMIT)
        .match_kind(regex_automata::MatchKind::LeftmostFirst)
        .utf8_empty(true)
        .dfa(false);
    meta::Builder::new()
        .configure(config)
        .syntax(syntax::Config::new().utf8(true))
        .build(source)
        .map_err(|e| {
            // The messages `regex::Error` gives for the same failures.
            if let Some(limit) = e.size_limit() {
                format!("Compiled regex exceeds size limit of {limit} bytes.")
            } else if let Some(syntax) = e.syntax_error() {
                syntax.to_string()
            } else {
                e.to_string()
            }
        })
}

/// A compiled `LIKE` pattern.
#[derive(Debug, Clone)]
pub(crate) struct Like {
    regex: Regex,
    /// The regex `regex` was built from.
    source: String,
    /// Whether the pattern can apply to binary values: all its code points are below U+0100.
    binary_ok: bool,
}

impl Like {
    /// Compiles a LIKE pattern.
    pub fn new(pattern: &str) -> Result<Like, String> {
        let pattern = nfc(pattern);
        let mut source = String::with_capacity(pattern.len() + 16);
        source.push_str("(?s)\\A");
        let mut buf = [0u8; 4];
        for c in pattern.chars() {
            match c {
                '%' => source.push_str(".*"),
                '_' => source.push('.'),
                _ => source.push_str(&regex_syntax::escape(c.encode_utf8(&mut buf))),
            }
        }
        source.push_str("\\z");
        let regex = build(&source).map_err(|e| format!("LIKE pattern too large: {e}"))?;
        Ok(Like {
            regex,
            source,
            binary_ok: pattern.chars().all(|c| u32::from(c) < 0x100),
        })
    }

    /// The regex this pattern was translated to; the compiled multi-indicator matcher
    /// extracts its required literals from it.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Tests a string value.
    pub fn is_match_str(&self, value: &str) -> bool {
        self.regex.is_match(nfc(value).as_bytes())
    }

    /// Tests a binary value; `None` when the pattern has code points that octets cannot hold
    /// (an incompatible comparison, §9.6.4).
    pub fn is_match_bytes(&self, value: &[u8]) -> Option<bool> {
        self.binary_ok
            .then(|| self.regex.is_match(&crate::value::latin1_string(value)))
    }
}

/// A compiled `MATCHES` regex, in its string and (when possible and needed) binary forms.
#[derive(Debug, Clone)]
pub(crate) struct Matches {
    text: Regex,
    binary: Option<Regex>,
    /// The regexes `text` and `binary` were built from.
    sources: (String, Option<String>),
}

impl Matches {
    /// Compiles a MATCHES regex for a path whose values are binary when `binary`
    /// (`path::Path::binary`).
    ///
    /// The binary form is built only for such a path: no other ever hands it a value, and it
    /// was a third of the regexes built when loading indicators. The string form is always
    /// built, and first, so a pattern is refused with the same message as before. (The binary
    /// form only swaps `\w`, `\d`, `\s` and their negations for smaller ASCII classes, so
    /// where the string form builds it does too: a range bound such as `[a-\w]` fails both.)
    pub fn new(pattern: &str, binary: bool) -> Result<Matches, String> {
        let pattern = nfc(pattern);
        let explain = |e: String| {
            format!(
                "MATCHES regex not accepted: {e}\n(entente evaluates MATCHES with a \
                 linear-time engine; backreferences, lookaround, atomic groups, possessive \
                 quantifiers and recursion are not supported)"
            )
        };
        let text_source = translate(&pattern, false);
        let text = build(&text_source).map_err(explain)?;
        let (binary, binary_source) = if binary && pattern.chars().all(|c| u32::from(c) < 0x100) {
            let source = translate(&pattern, true);
            (Some(build(&source).map_err(explain)?), Some(source))
        } else {
            (None, None)
        };
        Ok(Matches {
            text,
            binary,
            sources: (text_source, binary_source),
        })
    }

    /// The translated regexes for string and (when there is one) binary values; the
    /// compiled multi-indicator matcher extracts its required literals from them.
    pub(crate) fn sources(&self) -> (&str, Option<&str>) {
        (&self.sources.0, self.sources.1.as_deref())
    }

    /// Searches a string value.
    pub fn is_match_str(&self, value: &str) -> bool {
        self.text.is_match(nfc(value).as_bytes())
    }

    /// Searches a binary value; `None` when the regex has code points octets cannot hold (or
    /// was compiled for a path that reaches no binary value).
    pub fn is_match_bytes(&self, value: &[u8]) -> Option<bool> {
        self.binary
            .as_ref()
            .map(|re| re.is_match(&crate::value::latin1_string(value)))
    }
}

/// Rewrites a PCRE-style regex into `regex` crate syntax with PCRE's defaults plus DOTALL:
/// `$` and `\Z` (outside classes) become "end, or before a final newline" unless the pattern
/// turns on multi-line mode itself; with `ascii`, the Perl classes become their ASCII sets.
fn translate(pattern: &str, ascii: bool) -> String {
    let multiline = has_inline_multiline(pattern);
    let mut out = String::with_capacity(pattern.len() + 8);
    out.push_str("(?s)");
    let mut chars = pattern.chars().peekable();
    let mut class_depth = 0usize;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        let at_class_start = std::mem::take(&mut class_start);
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let ascii_class = match e {
                    'w' => Some("[0-9A-Za-z_]"),
                    'W' => Some("[^0-9A-Za-z_]"),
                    'd' => Some("[0-9]"),
                    'D' => Some("[^0-9]"),
                    's' => Some("[\\t\\n\\x0B\\x0C\\r ]"),
                    'S' => Some("[^\\t\\n\\x0B\\x0C\\r ]"),
                    _ => None,
                };
                match (ascii, ascii_class) {
                    (true, Some(set)) => out.push_str(set),
                    _ if e == 'Z' && class_depth == 0 && !multiline => out.push_str("(?:\\n?\\z)"),
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' => {
                if class_depth > 0 && chars.peek() == Some(&':') {
                    // A POSIX class such as [:alpha:] inside a bracket expression.
                    out.push('[');
                    for p in chars.by_ref() {
                        out.push(p);
                        if p == ']' {
                            break;
                        }
                    }
                } else {
                    class_depth += 1;
                    class_start = true;
                    out.push('[');
                    if chars.peek() == Some(&'^') {
                        chars.next();
                        out.push('^');
                    }
                }
            }
            ']' if class_depth > 0 && !at_class_start => {
                class_depth -= 1;
                out.push(']');
            }
            '$' if class_depth == 0 && !multiline => out.push_str("(?:\\n?\\z)"),
            _ => out.push(c),
        }
    }
    out
}

/// Whether an inline flag group turns on multi-line mode, e.g. `(?m)` or `(?im:…)`.
fn has_inline_multiline(pattern: &str) -> bool {
    let mut rest = pattern;
    while let Some(i) = rest.find("(?") {
        let flags: String = rest[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic() || *c == '-')
            .collect();
        if flags.split('-').next().is_some_and(|on| on.contains('m')) {
            return true;
        }
        rest = &rest[i + 2..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_and_literals() {
        let l = Like::new("he%").unwrap();
        assert!(l.is_match_str("hello"));
        assert!(!l.is_match_str("ahello"));
        assert!(Like::new("he__o").unwrap().is_match_str("hello"));
        assert!(Like::new("a.b").unwrap().is_match_str("a.b"));
        assert!(!Like::new("a.b").unwrap().is_match_str("axb"));
        // No DOTALL quirk and no "$ before newline" quirk: % spans line breaks, the end is
        // the end.
        assert!(Like::new("ab%").unwrap().is_match_str("ab\ncd"));
        assert!(!Like::new("abc").unwrap().is_match_str("abc\n"));
        assert!(
            Like::new("C:\\Windows\\%\\foo")
                .unwrap()
                .is_match_str("C:\\Windows\\x\\foo")
        );
    }

    #[test]
    fn matches_is_a_dotall_search() {
        let m = Matches::new("l+", false).unwrap();
        assert!(m.is_match_str("hello"));
        assert!(Matches::new("a.b", false).unwrap().is_match_str("a\nb"));
        assert!(Matches::new("abc$", false).unwrap().is_match_str("abc\n"));
        assert!(!Matches::new("abc$", false).unwrap().is_match_str("abc\nx"));
        assert!(
            Matches::new("(?m)^x$", false)
                .unwrap()
                .is_match_str("a\nx\nb")
        );
        assert!(Matches::new("(a)\\1", false).is_err());
        assert!(Matches::new("a(?=b)", false).is_err());
    }

    /// `build` must accept, refuse and match exactly as the `regex` crate configured the same
    /// way (what the evaluator used before, and what users read the messages of).
    #[test]
    fn build_agrees_with_the_regex_crate() {
        let cases = [
            "(?s)\\A.*\\.zqc4io7li\\.ru\\z",
            "(?s)^[a-z]+[0-9]{1,2}\\.zq\\.(top|xyz)(?:\\n?\\z)",
            "(?s)a|b|cd",
            "(?s)\\w+\\d",
            "",
            "(a)\\1",
            "a(?=b)",
            "[z-a]",
            "(",
            "(?s)(?:\\w{50}){50}",
        ];
        let haystacks = ["", "abc", "ab\ncd", "x1.zq.top\n", "b", "\u{e9}\u{e9}1"];
        for case in cases {
            let want = regex::RegexBuilder::new(case)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build();
            match (build(case), want) {
                (Ok(got), Ok(want)) => {
                    for h in haystacks {
                        assert_eq!(got.is_match(h), want.is_match(h), "{case:?} on {h:?}");
                    }
                }
                (Err(got), Err(want)) => assert_eq!(got, want.to_string(), "{case:?}"),
                (got, want) => panic!("{case:?}: {:?} but regex gives {want:?}", got.err()),
            }
        }
        assert!(
            build("(?s)(?:\\w{50}){50}").is_err(),
            "the size limit applies"
        );
    }

    #[test]
    fn matches_on_binary() {
        let m = Matches::new("\\x61li[c\\x01]e", true).unwrap();
        assert_eq!(m.is_match_bytes(b"alice"), Some(true));
        assert_eq!(
            Matches::new("ălice", true)
                .unwrap()
                .is_match_bytes(b"alice"),
            None
        );
        let w = Matches::new("^\\w+$", true).unwrap();
        assert_eq!(w.is_match_bytes(&[0xe9]), Some(false));
        assert!(w.is_match_str("\u{e9}"));
        assert_eq!(
            Matches::new(".*\\x03", true)
                .unwrap()
                .is_match_bytes(&[1, 2, 3, 4]),
            Some(true)
        );
        assert_eq!(
            Matches::new("[\\w]", true).unwrap().is_match_bytes(b"a"),
            Some(true)
        );
        // Compiled for a path without binary values: no binary form is built.
        assert_eq!(Matches::new("a", false).unwrap().is_match_bytes(b"a"), None);
    }
}
