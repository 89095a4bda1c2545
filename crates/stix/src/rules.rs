//! The catalogue of diagnostic rule codes.
//!
//! Every [`crate::Diagnostic`] carries one of these stable codes. The catalogue gives each
//! its default severity, the STIX 2.1 section it enforces and a one-line summary, so the
//! CLI and the API can explain a code without reading this crate's source. In debug
//! builds the validator asserts that it only emits codes listed here.

use crate::validate::Severity;

/// One rule code and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable kebab-case code.
    pub code: &'static str,
    /// The severity the validator reports it with.
    pub severity: Severity,
    /// The STIX 2.1 section (or other source) that states the rule.
    pub section: &'static str,
    /// What the rule requires.
    pub summary: &'static str,
}

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;

macro_rules! rules {
    ($(($code:literal, $sev:ident, $sec:literal, $sum:literal)),* $(,)?) => {
        /// All rule codes, grouped by family.
        pub static RULES: &[Rule] = &[$(Rule { code: $code, severity: $sev, section: $sec, summary: $sum }),*];
    };
}

rules![
    // Object identity and shape.
    (
        "type-invalid",
        E,
        "§3.1",
        "type is ASCII a-z, 0-9 and '-', 3-250 characters"
    ),
    ("id-invalid", E, "§2.9", "id is <type>--<RFC 4122 UUID>"),
    (
        "id-type-mismatch",
        E,
        "§2.9",
        "the type in id equals the object's type"
    ),
    (
        "id-not-uuidv4",
        W,
        "§2.9",
        "SDOs, SROs and meta objects SHOULD use UUIDv4"
    ),
    ("spec-version-invalid", E, "§3.2", "spec_version is \"2.1\""),
    (
        "required-property",
        E,
        "§3.2, §4-§7",
        "a required property is present"
    ),
    (
        "at-least-one-property",
        E,
        "§2.5, §4-§6",
        "at least one of a group of properties is present"
    ),
    (
        "property-type",
        E,
        "§2",
        "a property has the JSON type its kind demands"
    ),
    ("empty-list", E, "§2.12", "lists are not empty"),
    ("empty-dictionary", E, "§2.3", "dictionaries are not empty"),
    (
        "value-out-of-range",
        E,
        "§2.6, §2.10, §3.2, §4-§6",
        "a number lies in its allowed range"
    ),
    (
        "dictionary-key-invalid",
        E,
        "§2.3",
        "dictionary keys are 1-250 ASCII letters, digits, '_' or '-'"
    ),
    ("binary-invalid", E, "§2.1", "binary values are base64"),
    (
        "hex-invalid",
        E,
        "§2.8",
        "hex values are an even number of hex digits"
    ),
    (
        "deprecated-property",
        W,
        "§4.14",
        "a deprecated property SHOULD NOT be used"
    ),
    // Timestamps.
    (
        "timestamp-invalid",
        E,
        "§2.16",
        "timestamps are RFC 3339 in UTC with 'Z'"
    ),
    (
        "timestamp-millisecond-precision",
        E,
        "§3.2",
        "created and modified are precise to the millisecond"
    ),
    (
        "modified-after-created",
        E,
        "§3.2",
        "modified is not earlier than created"
    ),
    (
        "valid-until-after-valid-from",
        E,
        "§4.7",
        "valid_until is later than valid_from"
    ),
    (
        "last-seen-after-first-seen",
        E,
        "§4, §5.2",
        "last_seen is not earlier than first_seen"
    ),
    (
        "last-observed-after-first-observed",
        E,
        "§4.14",
        "last_observed is not earlier than first_observed"
    ),
    (
        "stop-time-after-start-time",
        E,
        "§5.1",
        "stop_time is later than start_time"
    ),
    (
        "end-after-start",
        E,
        "§6.12",
        "network-traffic end is not earlier than start"
    ),
    // References and vocabularies.
    (
        "identifier-invalid",
        E,
        "§2.9",
        "a reference is a valid identifier"
    ),
    (
        "ref-target-type",
        E,
        "§3.2, §4-§7",
        "a reference points to an allowed object type"
    ),
    (
        "custom-ref-invalid",
        W,
        "§3.1",
        "custom *_ref / *_refs properties SHOULD hold identifiers"
    ),
    (
        "vocab-closed-value",
        E,
        "§10",
        "an enumeration value is one the specification lists"
    ),
    (
        "vocab-open-value",
        W,
        "§10",
        "an open-vocabulary value SHOULD be one the specification lists"
    ),
    // Common embedded types.
    (
        "external-id-missing",
        E,
        "§2.5",
        "capec and cve references carry an external_id"
    ),
    (
        "external-id-format",
        E,
        "§2.5",
        "external_id is CAPEC-<n> or CVE-YYYY-NNNN"
    ),
    (
        "kill-chain-phase-format",
        W,
        "§2.11",
        "kill chain and phase names SHOULD be lowercase with hyphens"
    ),
    (
        "hash-value-invalid",
        E,
        "§2.7",
        "known hashes have their exact hex length"
    ),
    (
        "hash-key-invalid",
        E,
        "§2.7, §2.5",
        "hash names are valid (only hashing-algorithm-ov in external references)"
    ),
    (
        "hash-algorithm-name",
        W,
        "§2.7",
        "hash names SHOULD be spelled as in hashing-algorithm-ov"
    ),
    (
        "hash-algorithm-custom",
        W,
        "§2.7",
        "custom hash algorithms are allowed but not interoperable"
    ),
    (
        "lang-invalid",
        E,
        "§3.2",
        "lang is an RFC 5646 language tag"
    ),
    // Customisation and extensions.
    (
        "custom-property-name",
        E,
        "§11.1",
        "custom property names are a-z, 0-9, '_', 3-250 characters"
    ),
    (
        "extension-key-invalid",
        E,
        "§3.2",
        "extension keys are extension-definition ids or predefined extension names"
    ),
    (
        "extension-key-deprecated",
        W,
        "§11",
        "custom *-ext extensions are deprecated"
    ),
    (
        "extension-type-missing",
        W,
        "§7.3",
        "an extension SHOULD state its extension_type"
    ),
    (
        "extension-type-mismatch",
        E,
        "§7.3",
        "an extension is used as its definition declares"
    ),
    (
        "extension-properties-without-toplevel",
        E,
        "§7.3",
        "extension_properties only with toplevel-property-extension"
    ),
    // Markings.
    (
        "granular-marking-ref-or-lang",
        E,
        "§7.2.3",
        "a granular marking has exactly one of marking_ref and lang"
    ),
    (
        "granular-selector-unresolved",
        E,
        "§7.2.3.1",
        "a granular-marking selector names content of the object"
    ),
    (
        "marking-definition-versioned",
        E,
        "§7.2.1",
        "marking definitions are not versioned"
    ),
    (
        "marking-definition-type",
        W,
        "§7.2.1",
        "definition_type SHOULD be statement or tlp"
    ),
    (
        "statement-definition-invalid",
        E,
        "§7.2.1.3",
        "a statement marking has a statement string"
    ),
    (
        "tlp-definition-invalid",
        E,
        "§7.2.1.4",
        "a TLP 1.0 marking names white, green, amber or red"
    ),
    (
        "tlp-id-nonstandard",
        E,
        "§7.2.1.4",
        "TLP 1.0 markings use the predefined ids"
    ),
    (
        "tlp2-value-invalid",
        E,
        "TLP 2.0 extension",
        "tlp_2_0 is clear, green, amber, amber+strict or red"
    ),
    (
        "tlp2-id-mismatch",
        E,
        "TLP 2.0 extension",
        "TLP 2.0 markings use the common-objects ids"
    ),
    (
        "tlp2-name-mismatch",
        W,
        "TLP 2.0 extension",
        "a TLP 2.0 marking SHOULD be named TLP:<LEVEL>"
    ),
    // Object-specific co-constraints.
    (
        "pattern-invalid",
        E,
        "§4.7, §9",
        "a STIX pattern is valid (checked by the pattern hook)"
    ),
    (
        "location-coordinates",
        E,
        "§4.10",
        "latitude and longitude come together"
    ),
    (
        "location-precision",
        E,
        "§4.10",
        "precision requires latitude and longitude"
    ),
    (
        "malware-family-name",
        E,
        "§4.11",
        "a malware family has a name"
    ),
    (
        "observed-data-objects",
        E,
        "§4.14",
        "exactly one of object_refs and objects"
    ),
    (
        "relationship-type-format",
        E,
        "§5.1",
        "relationship_type is a-z, 0-9 and '-'"
    ),
    (
        "artifact-payload-or-url",
        E,
        "§6.1",
        "payload_bin and url are not both present"
    ),
    (
        "artifact-url-hashes",
        E,
        "§6.1",
        "an artifact given by url has hashes"
    ),
    (
        "artifact-decryption-key",
        E,
        "§6.1",
        "decryption_key requires encryption_algorithm"
    ),
    (
        "mime-type-format",
        W,
        "§6.1, §6.7",
        "MIME types SHOULD be IANA type/subtype"
    ),
    (
        "email-message-multipart",
        E,
        "§6.6",
        "body only when not multipart, body_multipart only when multipart"
    ),
    (
        "mime-part-body",
        E,
        "§6.6",
        "a MIME part has exactly one of body and body_raw_ref"
    ),
    (
        "domain-name-format",
        E,
        "§6.4",
        "domain-name value is a domain name"
    ),
    (
        "email-addr-format",
        E,
        "§6.5",
        "email-addr value is an addr-spec"
    ),
    (
        "ip-address-format",
        E,
        "§6.8, §6.9",
        "IP values are addresses or CIDR blocks"
    ),
    (
        "mac-addr-format",
        E,
        "§6.10",
        "MAC addresses are lowercase, colon-delimited"
    ),
    (
        "network-traffic-active-end",
        E,
        "§6.12",
        "an active flow has no end"
    ),
    (
        "url-format",
        E,
        "§6.15",
        "url value is an absolute URL (RFC 3986)"
    ),
    (
        "cpe-format",
        E,
        "§6.14",
        "software cpe is a CPE 2.3 formatted string"
    ),
    (
        "registry-key-hive",
        E,
        "§6.17",
        "registry keys spell out the hive (HKEY_LOCAL_MACHINE)"
    ),
    (
        "sco-id-not-deterministic",
        W,
        "§2.9",
        "SCOs SHOULD use their deterministic UUIDv5 id"
    ),
    (
        "sco-id-uuidv4",
        W,
        "§2.9",
        "SCOs without ID contributing properties SHOULD use UUIDv4"
    ),
    // Across objects of one document.
    (
        "duplicate-object",
        W,
        "§3.6",
        "the same object version appears twice"
    ),
    (
        "duplicate-object-version",
        E,
        "§3.6",
        "one id and modified with two different contents"
    ),
];

/// Looks a rule code up.
pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.code), "duplicate {}", r.code);
            assert!(
                r.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                r.code
            );
        }
    }
}
