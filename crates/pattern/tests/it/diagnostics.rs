//! Error codes, spans and rendering, through one `check` helper with inline expectations.

use expect_test::{Expect, expect};
use pattern::{StixVersion, validate};

/// Validates `text` as 2.1 and compares the rendered errors (or `valid`) with `want`.
fn check(text: &str, want: Expect) {
    check_version(text, StixVersion::V21, want);
}

fn check_version(text: &str, version: StixVersion, want: Expect) {
    let got = match validate(text, version) {
        Ok(_) => "valid".to_string(),
        Err(errors) => errors
            .iter()
            .map(|e| e.render(text))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    want.assert_eq(&got);
}

#[test]
fn syntax_errors_point_at_the_token() {
    check(
        "[file:name MATCHES /.*\\.dll/]",
        expect![[r#"
            [file:name MATCHES /.*\.dll/]
                               ^
            error[unexpected_char]: unexpected character '/'"#]],
    );
    check(
        "[file.size = 1280]",
        expect![[r#"
            [file.size = 1280]
                 ^
            error[unexpected_token]: expected ':' between the object type and the property (type:property)"#]],
    );
    check(
        "[x:a = 'a\\b']",
        expect![[r#"
            [x:a = 'a\b']
                     ^^
            error[invalid_escape]: invalid escape: only \\ and \' are allowed in strings"#]],
    );
    check(
        "[x:a = 01]",
        expect![[r#"
            [x:a = 01]
                   ^^
            error[invalid_number]: integers cannot have leading zeros"#]],
    );
    check(
        "[x:a = 1] within 5 SECONDS",
        expect![[r#"
            [x:a = 1] within 5 SECONDS
                      ^^^^^^
            error[unexpected_token]: expected AND, OR, FOLLOWEDBY or a qualifier, found 'within' (keywords are upper-case: WITHIN)"#]],
    );
    check(
        "[x:a = 1",
        expect![[r#"
            [x:a = 1
                    ^
            error[unexpected_end]: expected ']', found end of pattern"#]],
    );
}

#[test]
fn semantic_errors_are_all_reported() {
    check(
        "[file:hashes.'SHA-256' = 'f00' AND file:name MATCHES '(?<=a)b'] REPEATS 0 TIMES",
        expect![[r#"
            [file:hashes.'SHA-256' = 'f00' AND file:name MATCHES '(?<=a)b'] REPEATS 0 TIMES
                                     ^^^^^
            error[invalid_hash]: 'f00' is not a valid SHA-256 hash (expected 64 hex digits)
            [file:hashes.'SHA-256' = 'f00' AND file:name MATCHES '(?<=a)b'] REPEATS 0 TIMES
                                                                 ^^^^^^^^^
            error[invalid_regex]: invalid regular expression: look-around is not supported (entente runs regexes in linear time)
            [file:hashes.'SHA-256' = 'f00' AND file:name MATCHES '(?<=a)b'] REPEATS 0 TIMES
                                                                            ^^^^^^^^^^^^^^^
            error[invalid_qualifier_value]: REPEATS needs a positive count"#]],
    );
}

#[test]
fn qualifier_and_cidr_checks() {
    check(
        "[x:a = 1] START t'2024-02-01T00:00:00Z' STOP t'2024-01-01T00:00:00Z'",
        expect![[r#"
            [x:a = 1] START t'2024-02-01T00:00:00Z' STOP t'2024-01-01T00:00:00Z'
                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
            error[start_not_before_stop]: START 2024-02-01T00:00:00Z is not earlier than STOP 2024-01-01T00:00:00Z, so the window is empty"#]],
    );
    check(
        "[ipv4-addr:value ISSUBSET '10.0.0.0/33']",
        expect![[r#"
            [ipv4-addr:value ISSUBSET '10.0.0.0/33']
                                      ^^^^^^^^^^^^^
            error[invalid_cidr]: '10.0.0.0/33' is not a CIDR network such as '192.168.0.0/16' or '2001:db8::/32'"#]],
    );
    check(
        "[ipv4-addr:value ISSUBSET '2001:db8::/32']",
        expect![[r#"
            [ipv4-addr:value ISSUBSET '2001:db8::/32']
                                      ^^^^^^^^^^^^^^^
            error[invalid_cidr]: ipv4-addr holds IPv4 addresses but '2001:db8::/32' is IPv6"#]],
    );
    check(
        "[network-traffic:dst_ref.value ISSUBSET '2001:db8::/32']",
        expect!["valid"],
    );
    check(
        "[x:a = 1] WITHIN 0 SECONDS",
        expect![[r#"
        [x:a = 1] WITHIN 0 SECONDS
                  ^^^^^^^^^^^^^^^^
        error[invalid_qualifier_value]: WITHIN needs a positive number of seconds"#]],
    );
}

#[test]
fn dialects_differ() {
    check_version(
        "[x:a = 1] START '2024-01-01T00:00:00Z' STOP '2024-02-01T00:00:00Z'",
        StixVersion::V20,
        expect!["valid"],
    );
    check(
        "[x:a = 1] START '2024-01-01T00:00:00Z' STOP '2024-02-01T00:00:00Z'",
        expect![[r#"
            [x:a = 1] START '2024-01-01T00:00:00Z' STOP '2024-02-01T00:00:00Z'
                            ^^^^^^^^^^^^^^^^^^^^^^
            error[unexpected_token]: expected a timestamp literal t'…', found ''2024-01-01T00:00:00Z''"#]],
    );
    check("[EXISTS x:a]", expect!["valid"]);
    check("[NOT EXISTS x:a AND x:b = 1]", expect!["valid"]);
    check(
        "[NOT x:a = 1]",
        expect![[r#"
            [NOT x:a = 1]
                 ^
            error[unexpected_token]: expected EXISTS after a leading NOT, found 'x'"#]],
    );
    check_version(
        "[EXISTS x:a]",
        StixVersion::V20,
        expect![[r#"
            [EXISTS x:a]
             ^^^^^^
            error[unsupported_in_version]: EXISTS is not part of STIX 2.0 patterning"#]],
    );
}

#[test]
fn limits_hold() {
    let deep = format!("{}[x:a = 1]{}", "(".repeat(100), ")".repeat(100));
    let err = validate(&deep, StixVersion::V21).unwrap_err();
    assert_eq!(err[0].code, pattern::ErrorCode::NestingTooDeep);
    let long = format!("[x:a = '{}']", "a".repeat(70_000));
    let err = validate(&long, StixVersion::V21).unwrap_err();
    assert_eq!(err[0].code, pattern::ErrorCode::PatternTooLong);
    let long = format!("[x:a = '{}']", "€".repeat(30_000));
    let err = validate(&long, StixVersion::V21).unwrap_err();
    assert_eq!(err[0].code, pattern::ErrorCode::PatternTooLong);
    assert!(long.is_char_boundary(err[0].span.start));
    let _ = err[0].render(&long);
    let err = validate("[x:a = 1] REPEATS 5000 TIMES", StixVersion::V21).unwrap_err();
    assert_eq!(err[0].code, pattern::ErrorCode::InvalidQualifierValue);
}

#[test]
fn json_form_is_stable() {
    let text = "[x:a = 1]\nWITHIN ] SECONDS";
    let err = validate(text, StixVersion::V21).unwrap_err();
    let json = serde_json::to_string(&err[0]).unwrap();
    expect![[r#"{"code":"unexpected_token","message":"expected a positive number of seconds, found ']'","span":{"start":17,"end":18},"line":2,"column":8}"#]]
        .assert_eq(&json);
}

#[test]
fn literal_types_of_known_properties() {
    check("[file:size = '371712']", expect!["valid"]);
    check("[file:size IN (1, 2.5)]", expect!["valid"]);
    check("[x-custom:size = true]", expect!["valid"]);
    check(
        "[file:size = true]",
        expect![[r#"
            [file:size = true]
                         ^^^^
            error[literal_type_mismatch]: file:size is an integer but the literal is a boolean"#]],
    );
    check(
        "[network-traffic:is_active = 1]",
        expect![[r#"
            [network-traffic:is_active = 1]
                                         ^
            error[literal_type_mismatch]: network-traffic:is_active is a boolean but the literal is an integer"#]],
    );
}

/// The PCRE subset `MATCHES` accepts (documented on `pattern::validate::check_regex`).
#[test]
fn regex_subset() {
    let limits = pattern::Limits::default();
    for ok in [
        r"^.+\@example\.com$",
        r"123\d+",
        r"(?i)final report.+\.exe$",
        r"(?:a|b){2,5}?",
        r"(?P<name>x)(?<other>y)",
        r"[[:alpha:]]\p{L}\b\B\A\z",
        r"\/\-\#\ ",
    ] {
        assert!(
            pattern::validate::check_regex(ok, &limits).is_ok(),
            "{ok}: {:?}",
            pattern::validate::check_regex(ok, &limits)
        );
    }
    for bad in [
        r"(?=a)", r"(?!a)", r"(?<=a)b", r"(a)\1", r"(?>a)", r"a++", r"a*+", r"(", r"[z-a]",
        r"\Qa\E", r"a\Z",
    ] {
        assert!(
            pattern::validate::check_regex(bad, &limits).is_err(),
            "{bad}"
        );
    }
    let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
    assert!(pattern::validate::check_regex(&deep, &limits).is_err());
}

#[test]
fn pattern_version_names_the_grammar() {
    use pattern::StixVersion;
    assert_eq!(
        StixVersion::from_pattern_version(None),
        Some(StixVersion::V21)
    );
    assert_eq!(
        StixVersion::from_pattern_version(Some("2.1")),
        Some(StixVersion::V21)
    );
    assert_eq!(
        StixVersion::from_pattern_version(Some("2.0")),
        Some(StixVersion::V20)
    );
    assert_eq!(StixVersion::from_pattern_version(Some("2.2")), None);
    assert_eq!(StixVersion::from_pattern_version(Some("")), None);
}
