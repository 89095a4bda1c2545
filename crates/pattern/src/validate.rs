//! Semantic checks on a parsed pattern: what the grammar cannot say.
//!
//! Each check cites the rule it enforces. All problems are collected, not just the first,
//! so that a producer sees every mistake in one round trip. The checks are:
//!
//! * qualifier values: `WITHIN` and `REPEATS` take positive numbers, `REPEATS` is bounded by
//!   [`Limits::max_repeats`], and `START` must be earlier than `STOP`;
//! * `MATCHES` arguments must be regular expressions entente can run (see
//!   [`check_regex`] for the PCRE subset);
//! * `ISSUBSET`/`ISSUPERSET` on IP address properties take CIDR networks of the right family;
//! * hash values for known algorithms have the algorithm's length and alphabet, as the
//!   reference validator checks;
//! * `IN` sets hold literals of one type (integers and floats mix);
//! * literals compared with a known integer, timestamp or boolean property of a spec SCO are
//!   of a compatible type (a string is always allowed, as the reference allows it).
//!
//! Unknown object types and properties are *not* errors: STIX 2.1 §11 lets producers define
//! custom objects and properties, and the reference validator accepts any name the grammar
//! accepts (`[x:created = …]`, `[file:file_name = …]` are among its passing vectors).

use crate::Limits;
use crate::ast::*;
use crate::error::{ErrorCode, PatternError};

/// Runs every semantic check on `pattern`, which was parsed from `text`.
pub fn check(pattern: &Pattern, text: &str, limits: &Limits) -> Vec<PatternError> {
    let mut v = Checker {
        text,
        limits,
        errors: Vec::new(),
    };
    v.observation(&pattern.root);
    v.errors
}

struct Checker<'a> {
    text: &'a str,
    limits: &'a Limits,
    errors: Vec<PatternError>,
}

impl Checker<'_> {
    fn push(&mut self, code: ErrorCode, span: Span, msg: impl Into<String>) {
        self.errors
            .push(PatternError::new(code, span, msg, self.text));
    }

    fn observation(&mut self, e: &ObservationExpr) {
        match e {
            ObservationExpr::Observation { expr, .. } => self.comparison_expr(expr),
            ObservationExpr::And { lhs, rhs, .. }
            | ObservationExpr::Or { lhs, rhs, .. }
            | ObservationExpr::FollowedBy { lhs, rhs, .. } => {
                self.observation(lhs);
                self.observation(rhs);
            }
            ObservationExpr::Qualified {
                expr,
                qualifier,
                qualifier_span,
                ..
            } => {
                self.observation(expr);
                self.qualifier(qualifier, *qualifier_span);
            }
        }
    }

    fn qualifier(&mut self, q: &Qualifier, span: Span) {
        match q {
            // STIX 2.1 §9 "Qualifiers": the WITHIN value MUST be a positive number and the
            // REPEATS value a positive integer. The reference validator accepts 0 (its lexer's
            // IntPosLiteral includes 0) and the matcher then fails; see DEVIATIONS.md.
            Qualifier::Within { seconds } if *seconds <= 0.0 => self.push(
                ErrorCode::InvalidQualifierValue,
                span,
                "WITHIN needs a positive number of seconds",
            ),
            Qualifier::Repeats { times: 0 } => self.push(
                ErrorCode::InvalidQualifierValue,
                span,
                "REPEATS needs a positive count",
            ),
            Qualifier::Repeats { times } if *times > self.limits.max_repeats => self.push(
                ErrorCode::InvalidQualifierValue,
                span,
                format!(
                    "REPEATS {times} TIMES is above the limit of {}",
                    self.limits.max_repeats
                ),
            ),
            // STIX 2.1 §9 "Qualifiers": START/STOP bounds a time window, start inclusive and
            // stop exclusive, so an empty or reversed window can never match.
            Qualifier::StartStop { start, stop } if start.value >= stop.value => self.push(
                ErrorCode::StartNotBeforeStop,
                span,
                format!(
                    "START {} is not earlier than STOP {}, so the window is empty",
                    start.raw, stop.raw
                ),
            ),
            _ => {}
        }
    }

    fn comparison_expr(&mut self, e: &ComparisonExpr) {
        match e {
            ComparisonExpr::And { lhs, rhs, .. } | ComparisonExpr::Or { lhs, rhs, .. } => {
                self.comparison_expr(lhs);
                self.comparison_expr(rhs);
            }
            ComparisonExpr::Comparison(c) => self.comparison(c),
            ComparisonExpr::Exists { .. } => {}
        }
    }

    fn comparison(&mut self, c: &Comparison) {
        match (&c.op, &c.rhs) {
            (Op::Matches, Rhs::Literal(Literal::String(re))) => {
                if let Err(msg) = check_regex(re, self.limits) {
                    self.push(ErrorCode::InvalidRegex, c.rhs_span, msg);
                }
            }
            (Op::IsSubset | Op::IsSuperset, Rhs::Literal(Literal::String(net))) => {
                self.cidr(c, net);
            }
            (Op::In, Rhs::Set(items)) => self.set(items, c.rhs_span),
            _ => {}
        }
        self.hash(c);
        self.property_type(c);
    }

    /// A literal whose type can never equal or order against the property's values (STIX 2.1
    /// §9 "Comparison Operators": the operands of a comparison are of the property's type).
    /// Only top-level properties of the spec's SCOs with a non-string type are checked; a
    /// string literal is always accepted, since timestamps and numbers are often written as
    /// strings (the reference's passing vectors include `file:size = '371712'`).
    fn property_type(&mut self, c: &Comparison) {
        let [PathStep::Property(prop)] = c.path.steps.as_slice() else {
            return;
        };
        let Some(kind) = property_kind(&c.path.object_type, prop) else {
            return;
        };
        let fits = |l: &Literal| {
            matches!(
                (kind, l),
                (_, Literal::String(_))
                    | (PropKind::Integer, Literal::Int(_) | Literal::Float(_))
                    | (PropKind::Timestamp, Literal::Timestamp(_))
                    | (PropKind::Boolean, Literal::Bool(_))
            )
        };
        let bad = match &c.rhs {
            Rhs::Literal(l) => (!fits(l)).then_some(l),
            Rhs::Set(items) => items.iter().find(|l| !fits(l)),
        };
        if let Some(lit) = bad {
            self.push(
                ErrorCode::LiteralTypeMismatch,
                c.rhs_span,
                format!(
                    "{}:{prop} is {} but the literal is {} {}",
                    c.path.object_type,
                    kind.describe(),
                    article(lit.kind()),
                    lit.kind()
                ),
            );
        }
    }

    /// STIX 2.1 §9 "Comparison Operators": ISSUBSET/ISSUPERSET compare IP addresses with
    /// CIDR networks. Only paths that name an address are checked: `ipv4-addr:value`,
    /// `ipv6-addr:value`, and `….value` reached through a `*_ref` or `*_refs[…]` step (such as
    /// `network-traffic:dst_ref.value`); on other properties the operators stay opaque.
    fn cidr(&mut self, c: &Comparison, net: &str) {
        let family = match ip_family(&c.path) {
            Some(f) => f,
            None => return,
        };
        // ISSUBSET names the containing network; ISSUPERSET names what is contained, which
        // may be a single address.
        let parsed = match net.parse::<ipnet::IpNet>() {
            Ok(n) => Some(n),
            Err(_) if c.op == Op::IsSuperset => {
                net.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from)
            }
            Err(_) => None,
        };
        let Some(parsed) = parsed else {
            self.push(
                ErrorCode::InvalidCidr,
                c.rhs_span,
                format!(
                    "'{net}' is not a CIDR network such as '192.168.0.0/16' or '2001:db8::/32'"
                ),
            );
            return;
        };
        let mismatch = matches!(
            (family, parsed),
            (IpFamily::V4, ipnet::IpNet::V6(_)) | (IpFamily::V6, ipnet::IpNet::V4(_))
        );
        if mismatch {
            let (want, got) = match family {
                IpFamily::V4 => ("IPv4", "IPv6"),
                _ => ("IPv6", "IPv4"),
            };
            self.push(
                ErrorCode::InvalidCidr,
                c.rhs_span,
                format!(
                    "{} holds {want} addresses but '{net}' is {got}",
                    c.path.object_type
                ),
            );
        }
    }

    /// STIX 2.1 §9 "Comparison Operators" (IN): the set's literals are of one type; the
    /// reference matcher raises "Nonhomogenous set" otherwise. Integers and floats are one
    /// numeric type.
    fn set(&mut self, items: &[Literal], span: Span) {
        let class = |l: &Literal| match l {
            Literal::Int(_) | Literal::Float(_) => "number",
            other => other.kind(),
        };
        if let Some(first) = items.first() {
            let want = class(first);
            if let Some(odd) = items.iter().find(|l| class(l) != want) {
                self.push(
                    ErrorCode::LiteralTypeMismatch,
                    span,
                    format!("IN set mixes {want} and {} literals", class(odd)),
                );
            }
        }
    }

    /// Hash values for known algorithms must have the algorithm's digest length in hex (the
    /// reference validator's object check; STIX 2.1 §10.2 hash-algorithm-ov names them).
    fn hash(&mut self, c: &Comparison) {
        let n = c.path.steps.len();
        if n < 2 {
            return;
        }
        let (PathStep::Property(container), PathStep::Property(algo)) =
            (&c.path.steps[n - 2], &c.path.steps[n - 1])
        else {
            return;
        };
        if container != "hashes" {
            return;
        }
        let Some(rule) = hash_rule(algo) else { return };
        let values: Vec<&str> = match (&c.op, &c.rhs) {
            (Op::Eq | Op::Neq, Rhs::Literal(Literal::String(s))) => vec![s.as_str()],
            (Op::In, Rhs::Set(items)) => items
                .iter()
                .filter_map(|l| match l {
                    Literal::String(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            _ => return,
        };
        for value in values {
            if !rule.accepts(value) {
                self.push(
                    ErrorCode::InvalidHash,
                    c.rhs_span,
                    format!("'{value}' is not a valid {algo} hash ({})", rule.describe()),
                );
            }
        }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The type of a known, non-string SCO property.
#[derive(Clone, Copy)]
enum PropKind {
    Integer,
    Timestamp,
    Boolean,
}

impl PropKind {
    fn describe(self) -> &'static str {
        match self {
            PropKind::Integer => "an integer",
            PropKind::Timestamp => "a timestamp",
            PropKind::Boolean => "a boolean",
        }
    }
}

/// Non-string top-level properties of the STIX 2.1 SCOs (§6) that also exist with the same
/// type in 2.0 where the object exists there.
fn property_kind(object_type: &str, prop: &str) -> Option<PropKind> {
    use PropKind::*;
    Some(match (object_type, prop) {
        ("file", "size") => Integer,
        ("file", "ctime" | "mtime" | "atime" | "created" | "modified" | "accessed") => Timestamp,
        ("directory", "ctime" | "mtime" | "atime" | "created" | "modified" | "accessed") => {
            Timestamp
        }
        (
            "network-traffic",
            "src_port" | "dst_port" | "src_byte_count" | "dst_byte_count" | "src_packets"
            | "dst_packets",
        ) => Integer,
        ("network-traffic", "start" | "end") => Timestamp,
        ("network-traffic", "is_active") => Boolean,
        ("process", "pid") => Integer,
        ("process", "created" | "created_time") => Timestamp,
        ("process", "is_hidden") => Boolean,
        ("email-message", "date") => Timestamp,
        ("email-message", "is_multipart") => Boolean,
        (
            "user-account",
            "account_created"
            | "account_expires"
            | "credential_last_changed"
            | "account_first_login"
            | "account_last_login",
        ) => Timestamp,
        (
            "user-account",
            "is_service_account" | "is_privileged" | "can_escalate_privs" | "is_disabled",
        ) => Boolean,
        ("windows-registry-key", "modified" | "modified_time") => Timestamp,
        ("windows-registry-key", "number_of_subkeys") => Integer,
        ("x509-certificate", "validity_not_before" | "validity_not_after") => Timestamp,
        ("x509-certificate", "is_self_signed") => Boolean,
        ("autonomous-system", "number") => Integer,
        (_, "defanged") => Boolean,
        _ => return None,
    })
}

#[derive(Clone, Copy)]
enum IpFamily {
    V4,
    V6,
    Any,
}

fn ip_family(path: &ObjectPath) -> Option<IpFamily> {
    let steps = &path.steps;
    if !matches!(steps.last(), Some(PathStep::Property(p)) if p == "value") {
        return None;
    }
    if steps.len() == 1 {
        return match path.object_type.as_str() {
            "ipv4-addr" => Some(IpFamily::V4),
            "ipv6-addr" => Some(IpFamily::V6),
            _ => None,
        };
    }
    let before = &steps[steps.len() - 2];
    let via_ref = match before {
        PathStep::Property(p) => p.ends_with("_ref"),
        PathStep::Index(_) | PathStep::AnyIndex => {
            steps.len() >= 3
                && matches!(&steps[steps.len() - 3], PathStep::Property(p) if p.ends_with("_refs"))
        }
    };
    via_ref.then_some(IpFamily::Any)
}

/// What a known hash algorithm's value looks like.
enum HashRule {
    /// Hex digits, one of these lengths.
    Hex(&'static [usize]),
    /// SSDEEP: `[A-Za-z0-9/+:.]`, 1 to 128 characters.
    Ssdeep,
}

impl HashRule {
    fn accepts(&self, v: &str) -> bool {
        match self {
            HashRule::Hex(lens) => {
                lens.contains(&v.len()) && v.bytes().all(|b| b.is_ascii_hexdigit())
            }
            HashRule::Ssdeep => {
                (1..=128).contains(&v.len())
                    && v.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b':' | b'.')
                    })
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            HashRule::Hex([n]) => format!("expected {n} hex digits"),
            HashRule::Hex(lens) => format!("expected {lens:?} hex digits"),
            HashRule::Ssdeep => "expected 1 to 128 characters of [A-Za-z0-9/+:.]".into(),
        }
    }
}

/// The rule for an algorithm name, matched case-insensitively and ignoring `-` as the
/// reference does (so `sha-256`, `SHA256` and `SHA-256` are one algorithm).
fn hash_rule(algo: &str) -> Option<HashRule> {
    let mut key = [0u8; 16];
    let mut len = 0;
    for b in algo.bytes().filter(|&b| b != b'-') {
        if len == key.len() {
            return None;
        }
        key[len] = b.to_ascii_uppercase();
        len += 1;
    }
    Some(match &key[..len] {
        b"MD5" => HashRule::Hex(&[32]),
        b"MD6" => HashRule::Hex(&[32, 40, 56, 64, 96, 128]),
        b"RIPEMD160" | b"SHA1" => HashRule::Hex(&[40]),
        b"SHA224" | b"SHA3224" => HashRule::Hex(&[56]),
        b"SHA256" | b"SHA3256" => HashRule::Hex(&[64]),
        b"SHA384" | b"SHA3384" => HashRule::Hex(&[96]),
        b"SHA512" | b"SHA3512" | b"WHIRLPOOL" => HashRule::Hex(&[128]),
        b"SSDEEP" => HashRule::Ssdeep,
        _ => return None,
    })
}

/// Checks a `MATCHES` argument.
///
/// STIX 2.1 §9 says PCRE. entente runs regexes with the linear-time `regex` crate, so it
/// accepts the PCRE subset that crate's syntax shares: literals and escapes, classes
/// (`[…]`, `\d \w \s`, POSIX `[[:alpha:]]`, Unicode `\p{…}`), anchors `^ $ \A \z \b \B`,
/// groups `(…)`, `(?:…)`, `(?P<n>…)` and `(?<n>…)`, alternation, greedy and lazy
/// repetition, and inline flags `(?i) (?m) (?s) (?x) (?U)`. It rejects, with a message
/// naming the feature, look-around `(?=…) (?!…) (?<=…) (?<!…)` and back-references `\1`,
/// which need backtracking and unbounded time, and possessive quantifiers (`a++`), whose
/// PCRE meaning the crate cannot express; atomic groups, recursion, conditionals and
/// `\Q…\E` fail as syntax errors. `\Z` is not accepted; write `\z` or `$`.
pub fn check_regex(re: &str, limits: &Limits) -> Result<(), String> {
    if re.len() > limits.max_regex_len {
        return Err(format!(
            "regular expression is {} bytes long, more than the limit of {}",
            re.len(),
            limits.max_regex_len
        ));
    }
    // PCRE reads a quantifier after a quantifier as possessive (`a++`, `a*+`) or as an
    // error; regex-syntax reads it as a repeated repetition, which matches other strings.
    // Refuse it rather than change its meaning.
    if let Ok(ast) = regex_syntax::ast::parse::ParserBuilder::new()
        .nest_limit(limits.max_regex_nest)
        .build()
        .parse(re)
        && has_stacked_quantifier(&ast)
    {
        return Err(
            "invalid regular expression: possessive or stacked quantifiers (such as \
                    `a++`) are not supported"
                .into(),
        );
    }
    let mut parser = regex_syntax::ParserBuilder::new()
        .nest_limit(limits.max_regex_nest)
        .build();
    match parser.parse(re) {
        Ok(_) => Ok(()),
        Err(regex_syntax::Error::Parse(e)) => {
            use regex_syntax::ast::ErrorKind;
            let what = match e.kind() {
                ErrorKind::UnsupportedLookAround => {
                    "look-around is not supported (entente runs regexes in linear time)".to_string()
                }
                ErrorKind::UnsupportedBackreference => {
                    "back-references are not supported (entente runs regexes in linear time)"
                        .to_string()
                }
                ErrorKind::NestLimitExceeded(n) => {
                    format!("regular expression nests deeper than the limit of {n}")
                }
                other => other.to_string(),
            };
            Err(format!("invalid regular expression: {what}"))
        }
        Err(regex_syntax::Error::Translate(e)) => {
            Err(format!("invalid regular expression: {}", e.kind()))
        }
        Err(e) => Err(format!("invalid regular expression: {e}")),
    }
}

/// Whether a repetition applies directly to another repetition. Recursion depth is bounded
/// by the nest limit the AST parser enforced.
fn has_stacked_quantifier(ast: &regex_syntax::ast::Ast) -> bool {
    use regex_syntax::ast::Ast;
    match ast {
        Ast::Repetition(r) => {
            matches!(*r.ast, Ast::Repetition(_)) || has_stacked_quantifier(&r.ast)
        }
        Ast::Group(g) => has_stacked_quantifier(&g.ast),
        Ast::Alternation(a) => a.asts.iter().any(has_stacked_quantifier),
        Ast::Concat(c) => c.asts.iter().any(has_stacked_quantifier),
        _ => false,
    }
}
