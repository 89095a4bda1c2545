//! Differential test against the OASIS `stix2-validator` (see
//! `tests/data/oasis-validator/README.md`): on 1,703 valid and mutated objects, entente
//! reports an error exactly when the OASIS validator does, except for the disagreements
//! below, each with its reason.

use stix::{Severity, ValidateOptions, parse_document, validate_object};

use crate::read_maybe_gz;

/// The OASIS validator rejects these; entente accepts them (perhaps with warnings).
const ORACLE_STRICTER: &[(&str, &str)] = &[
    (
        "indicator: empty pattern",
        "patterns are checked through the pattern_checker hook",
    ),
    (
        "indicator: badts pattern",
        "patterns are checked through the pattern_checker hook",
    ),
    (
        "indicator: identity-ref pattern",
        "patterns are checked through the pattern_checker hook",
    ),
    (
        "artifact: empty mime_type",
        "IANA-registered MIME types are a SHOULD (§6.1): warning",
    ),
    (
        "artifact: badts mime_type",
        "IANA-registered MIME types are a SHOULD (§6.1): warning",
    ),
    (
        "artifact: identity-ref mime_type",
        "IANA-registered MIME types are a SHOULD (§6.1): warning",
    ),
    (
        "artifact: empty payload_bin",
        "the empty string is valid base64 for zero bytes (RFC 4648)",
    ),
    (
        "x509-certificate: delete serial_number",
        "UUIDv4 without contributing properties is a SHOULD (§2.9): warning",
    ),
];

/// Rules by which entente is stricter: the OASIS validator does not check reference
/// targets or identifier syntax of SCO reference properties.
const STRICTER_RULES: &[&str] = &["ref-target-type", "identifier-invalid"];

/// Single cases where entente is stricter, with the reason.
const ENTENTE_STRICTER: &[(&str, &str)] = &[
    (
        "marking-definition: bad custom name",
        "§11.1 custom property names apply to every object",
    ),
    (
        "extension-definition: delete created_by_ref",
        "§7.3 lists created_by_ref as required",
    ),
];

#[test]
fn verdicts_match_the_oasis_validator() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/oasis-validator");
    let corpus = read_maybe_gz(std::path::Path::new(&format!("{dir}/corpus.ndjson.gz")));
    let verdicts = std::fs::read_to_string(format!("{dir}/verdicts.tsv")).expect("verdicts");
    let verdicts: Vec<(&str, bool, &str)> = verdicts
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let mut cols = l.splitn(3, '\t');
            let case = cols.next().unwrap_or("");
            let valid = cols.next() == Some("1");
            (case, valid, cols.next().unwrap_or(""))
        })
        .collect();
    let objs = parse_document(&corpus).expect("corpus parses");
    assert_eq!(objs.len(), verdicts.len());
    assert_eq!(objs.len(), 1703);

    let opts = ValidateOptions::default();
    let mut mismatches = Vec::new();
    let mut agreed = 0;
    for (obj, (case, oasis_valid, oasis_error)) in objs.iter().zip(&verdicts) {
        let diags = validate_object(obj, &opts);
        let errors: Vec<_> = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        match (errors.is_empty(), *oasis_valid) {
            (true, true) | (false, false) => agreed += 1,
            (true, false) => {
                if !ORACLE_STRICTER.iter().any(|(c, _)| c == case) {
                    mismatches.push(format!(
                        "{case}: OASIS rejects ({oasis_error}), entente accepts"
                    ));
                }
            }
            (false, true) => {
                let explained = ENTENTE_STRICTER.iter().any(|(c, _)| c == case)
                    || errors.iter().all(|d| STRICTER_RULES.contains(&d.rule));
                if !explained {
                    mismatches.push(format!(
                        "{case}: entente rejects ({}), OASIS accepts",
                        errors[0]
                    ));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} unexplained disagreements:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(agreed >= 1660, "agreed on {agreed}");
}
