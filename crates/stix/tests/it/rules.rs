//! One failing object per rule family, asserting the exact rule code and pointer.

use stix::{
    Diagnostic, Severity, ValidateOptions, parse_document, validate_document, validate_object,
};

const IND: &str = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}"#;

/// Validates `base` with the top-level properties of `patch` merged in (a `null` value
/// removes the property) and returns the diagnostics.
fn diags_of(base: &str, patch: &str) -> Vec<Diagnostic> {
    let mut obj: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(base).expect("base");
    let patch: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(patch).expect("patch");
    for (k, v) in patch {
        if v.is_null() {
            obj.remove(&k);
        } else {
            obj.insert(k, v);
        }
    }
    let text = serde_json::to_string(&obj).expect("serialise");
    let objs = parse_document(text.as_bytes()).expect("parse");
    validate_object(
        &objs[0],
        &ValidateOptions {
            check_deterministic_ids: false,
            ..Default::default()
        },
    )
}

/// Asserts that exactly the given `(severity, rule, pointer)` findings are reported.
#[track_caller]
fn check(base: &str, patch: &str, expected: &[(Severity, &str, &str)]) {
    let diags = diags_of(base, patch);
    let got: Vec<(Severity, &str, &str)> = diags
        .iter()
        .map(|d| (d.severity, d.rule, d.pointer.as_str()))
        .collect();
    assert_eq!(got, expected, "{diags:#?}");
}

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;

#[test]
fn valid_indicator_is_clean() {
    check(IND, "{}", &[]);
}

#[test]
fn display_format() {
    let d = &diags_of(IND, r#"{"valid_until":"2015-01-01T00:00:00Z"}"#)[0];
    assert_eq!(
        d.to_string(),
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: /valid_until: must be later than valid_from [valid-until-after-valid-from]"
    );
}

#[test]
fn timestamp_orderings() {
    check(
        IND,
        r#"{"valid_until":"2016-01-01T00:00:00Z"}"#,
        &[(E, "valid-until-after-valid-from", "/valid_until")],
    );
    check(
        IND,
        r#"{"modified":"2016-04-06T20:03:47.999Z"}"#,
        &[(E, "modified-after-created", "/modified")],
    );
}

#[test]
fn open_vocabulary_is_a_warning() {
    check(
        IND,
        r#"{"indicator_types":["nasty"]}"#,
        &[(W, "vocab-open-value", "/indicator_types/0")],
    );
}

#[test]
fn duplicate_versions_in_a_document() {
    let changed = IND.replace("198.51.100.1", "198.51.100.2");
    let doc = format!("{IND}\n{IND}\n{changed}");
    let objs = parse_document(doc.as_bytes()).expect("parse");
    let got: Vec<(Severity, &str)> = validate_document(&objs, &ValidateOptions::default())
        .iter()
        .map(|d| (d.severity, d.rule))
        .collect();
    assert_eq!(
        got,
        [(W, "duplicate-object"), (E, "duplicate-object-version")]
    );
}

const U1: &str = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
const MAL: &str = r#"{"type":"malware","spec_version":"2.1","id":"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","is_family":true,"name":"Poison Ivy"}"#;
const LOC: &str = r#"{"type":"location","spec_version":"2.1","id":"location--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","country":"ch"}"#;
const OBS: &str = r#"{"type":"observed-data","spec_version":"2.1","id":"observed-data--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":50,"object_refs":["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"]}"#;
const REL: &str = r#"{"type":"relationship","spec_version":"2.1","id":"relationship--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","relationship_type":"indicates","source_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","target_ref":"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}"#;
const SIG: &str = r#"{"type":"sighting","spec_version":"2.1","id":"sighting--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","sighting_of_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}"#;
const FILE: &str = r#"{"type":"file","spec_version":"2.1","id":"file--7cdc1fbe-5cfd-5e09-8e87-648a1cf1080c","hashes":{"SHA-256":"ceafbfd424be2ca4a5f0402cae090dda2fb0526cf521b60b60077c0f622b285a"},"name":"qwerty.dll"}"#;
const NT: &str = r#"{"type":"network-traffic","spec_version":"2.1","id":"network-traffic--2c94c78d-4692-516e-806e-7c3a4703d03c","src_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","protocols":["tcp"]}"#;
const EMAIL: &str = r#"{"type":"email-message","spec_version":"2.1","id":"email-message--442518ed-d1a1-5a76-9ced-67472ef935bd","is_multipart":false,"body":"hi"}"#;
const ART: &str = r#"{"type":"artifact","spec_version":"2.1","id":"artifact--30db9816-3444-5ab6-8e93-f9262c146d34","payload_bin":"aGVsbG8="}"#;
const TLP1_GREEN: &str = r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:GREEN","definition":{"tlp":"green"}}"#;
const TLP2_AMBER: &str = r#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber"}}}"#;
const EXTDEF: &str = r#"{"type":"extension-definition","spec_version":"2.1","id":"extension-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created_by_ref":"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"x","schema":"https://example.com/s.json","version":"1.0.0","extension_types":["property-extension"]}"#;
const LC: &str = r#"{"type":"language-content","spec_version":"2.1","id":"language-content--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","object_ref":"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","contents":{"de":{"name":"Giftefeu"}}}"#;

#[test]
fn bases_are_clean() {
    for base in [
        IND, MAL, LOC, OBS, REL, SIG, FILE, NT, EMAIL, ART, TLP1_GREEN, TLP2_AMBER, EXTDEF, LC,
    ] {
        check(base, "{}", &[]);
    }
}

#[test]
fn identifiers_and_type() {
    check(IND, r#"{"id":null}"#, &[(E, "required-property", "/id")]);
    check(
        IND,
        r#"{"id":"indicator--123"}"#,
        &[(E, "id-invalid", "/id")],
    );
    check(
        IND,
        &format!(r#"{{"id":"malware--{U1}"}}"#),
        &[(E, "id-type-mismatch", "/id")],
    );
    check(
        IND,
        r#"{"id":"indicator--8e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f"}"#,
        &[(W, "id-not-uuidv4", "/id")],
    );
    check(
        IND,
        r#"{"type":"X_bad"}"#,
        &[(E, "type-invalid", "/type"), (E, "id-type-mismatch", "/id")],
    );
    check(
        IND,
        r#"{"type":null}"#,
        &[(E, "required-property", "/type")],
    );
    check(IND, r#"{"type":7}"#, &[(E, "property-type", "/type")]);
}

#[test]
fn spec_version_and_required() {
    check(
        IND,
        r#"{"spec_version":"2.0"}"#,
        &[(E, "spec-version-invalid", "/spec_version")],
    );
    check(
        IND,
        r#"{"spec_version":null}"#,
        &[(E, "required-property", "/spec_version")],
    );
    check(
        IND,
        r#"{"pattern":null}"#,
        &[(E, "required-property", "/pattern")],
    );
    check(
        FILE,
        r#"{"spec_version":"2.0"}"#,
        &[(E, "spec-version-invalid", "/spec_version")],
    );
    // SCOs may omit spec_version.
    check(FILE, r#"{"spec_version":null}"#, &[]);
}

#[test]
fn property_kinds() {
    check(IND, r#"{"name":5}"#, &[(E, "property-type", "/name")]);
    check(IND, r#"{"labels":"a"}"#, &[(E, "property-type", "/labels")]);
    check(IND, r#"{"labels":[]}"#, &[(E, "empty-list", "/labels")]);
    check(
        IND,
        r#"{"labels":["a",3]}"#,
        &[(E, "property-type", "/labels/1")],
    );
    check(
        IND,
        r#"{"revoked":"yes"}"#,
        &[(E, "property-type", "/revoked")],
    );
    check(
        IND,
        r#"{"confidence":101}"#,
        &[(E, "value-out-of-range", "/confidence")],
    );
    check(
        IND,
        r#"{"confidence":50.5}"#,
        &[(E, "property-type", "/confidence")],
    );
    check(
        IND,
        r#"{"confidence":-1}"#,
        &[(E, "value-out-of-range", "/confidence")],
    );
    check(
        IND,
        r#"{"lang":"english language"}"#,
        &[(E, "lang-invalid", "/lang")],
    );
}

#[test]
fn timestamps() {
    check(
        IND,
        r#"{"created":"2016-04-06T20:03:48Z","modified":"2016-04-06T20:03:48.1Z"}"#,
        &[
            (E, "timestamp-millisecond-precision", "/created"),
            (E, "timestamp-millisecond-precision", "/modified"),
        ],
    );
    check(
        IND,
        r#"{"valid_from":"2016-01-01T00:00:00+01:00"}"#,
        &[(E, "timestamp-invalid", "/valid_from")],
    );
    check(
        IND,
        r#"{"valid_from":"2016-13-01T00:00:00Z"}"#,
        &[(E, "timestamp-invalid", "/valid_from")],
    );
    check(IND, r#"{"modified":"2016-04-06T20:03:48.0001Z"}"#, &[]);
}

#[test]
fn references() {
    check(
        IND,
        &format!(r#"{{"created_by_ref":"malware--{U1}"}}"#),
        &[(E, "ref-target-type", "/created_by_ref")],
    );
    check(
        IND,
        r#"{"created_by_ref":"identity--x"}"#,
        &[(E, "identifier-invalid", "/created_by_ref")],
    );
    check(
        IND,
        &format!(r#"{{"object_marking_refs":["identity--{U1}"]}}"#),
        &[(E, "ref-target-type", "/object_marking_refs/0")],
    );
    check(
        REL,
        &format!(r#"{{"source_ref":"relationship--{U1}"}}"#),
        &[(E, "ref-target-type", "/source_ref")],
    );
    check(
        REL,
        &format!(r#"{{"target_ref":"marking-definition--{U1}"}}"#),
        &[(E, "ref-target-type", "/target_ref")],
    );
    // Custom object types and SCOs are fine as relationship endpoints.
    check(
        REL,
        &format!(r#"{{"target_ref":"x-acme-thing--{U1}"}}"#),
        &[],
    );
    check(
        REL,
        r#"{"target_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"}"#,
        &[],
    );
    check(
        SIG,
        &format!(r#"{{"sighting_of_ref":"relationship--{U1}"}}"#),
        &[(E, "ref-target-type", "/sighting_of_ref")],
    );
    check(
        SIG,
        &format!(r#"{{"where_sighted_refs":["malware--{U1}"]}}"#),
        &[(E, "ref-target-type", "/where_sighted_refs/0")],
    );
    check(
        OBS,
        &format!(r#"{{"object_refs":["malware--{U1}"]}}"#),
        &[(E, "ref-target-type", "/object_refs/0")],
    );
    check(
        FILE,
        r#"{"parent_directory_ref":"file--7cdc1fbe-5cfd-5e09-8e87-648a1cf1080c"}"#,
        &[(E, "ref-target-type", "/parent_directory_ref")],
    );
    check(
        EMAIL,
        r#"{"from_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"}"#,
        &[(E, "ref-target-type", "/from_ref")],
    );
    check(
        LC,
        &format!(r#"{{"object_ref":"language-content--{U1}"}}"#),
        &[(E, "ref-target-type", "/object_ref")],
    );
}

#[test]
fn vocabularies() {
    check(
        r#"{"type":"opinion","spec_version":"2.1","id":"opinion--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","opinion":"maybe","object_refs":["malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]}"#,
        "{}",
        &[(E, "vocab-closed-value", "/opinion")],
    );
    check(
        MAL,
        r#"{"malware_types":["trojan","evil"]}"#,
        &[(W, "vocab-open-value", "/malware_types/1")],
    );
    check(
        ART,
        r#"{"encryption_algorithm":"rot13","decryption_key":"k"}"#,
        &[(E, "vocab-closed-value", "/encryption_algorithm")],
    );
}

#[test]
fn external_references() {
    let er = |v: &str| format!(r#"{{"external_references":[{v}]}}"#);
    check(
        IND,
        &er(r#"{"source_name":"capec","external_id":"CAPEC-163"}"#),
        &[],
    );
    check(
        IND,
        &er(r#"{"source_name":"capec","external_id":"CAPEC-x"}"#),
        &[(
            E,
            "external-id-format",
            "/external_references/0/external_id",
        )],
    );
    check(
        IND,
        &er(r#"{"source_name":"cve","external_id":"CVE-16-1"}"#),
        &[(
            E,
            "external-id-format",
            "/external_references/0/external_id",
        )],
    );
    check(
        IND,
        &er(r#"{"source_name":"cve","description":"d"}"#),
        &[(E, "external-id-missing", "/external_references/0")],
    );
    check(
        IND,
        &er(r#"{"source_name":"x"}"#),
        &[(E, "at-least-one-property", "/external_references/0")],
    );
    check(
        IND,
        &er(r#"{"url":"https://example.com"}"#),
        &[(E, "required-property", "/external_references/0/source_name")],
    );
    check(
        IND,
        &er(r#"{"source_name":"x","url":"u","hashes":{"sha256":"ab"}}"#),
        &[(
            E,
            "hash-key-invalid",
            "/external_references/0/hashes/sha256",
        )],
    );
}

#[test]
fn kill_chain_phases() {
    check(
        MAL,
        r#"{"kill_chain_phases":[{"kill_chain_name":"Lockheed Martin","phase_name":"recon"}]}"#,
        &[(
            W,
            "kill-chain-phase-format",
            "/kill_chain_phases/0/kill_chain_name",
        )],
    );
    check(
        MAL,
        r#"{"kill_chain_phases":[{"kill_chain_name":"lockheed-martin-cyber-kill-chain"}]}"#,
        &[(E, "required-property", "/kill_chain_phases/0/phase_name")],
    );
}

#[test]
fn granular_markings() {
    let green = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
    check(
        IND,
        &format!(
            r#"{{"granular_markings":[{{"selectors":["pattern","valid_from"],"marking_ref":"{green}"}}]}}"#
        ),
        &[],
    );
    check(
        IND,
        r#"{"external_references":[{"source_name":"x","url":"u"}],"granular_markings":[{"selectors":["external_references.[0].url"],"lang":"de"}]}"#,
        &[],
    );
    check(
        IND,
        &format!(
            r#"{{"granular_markings":[{{"selectors":["pattern"],"marking_ref":"{green}","lang":"en"}}]}}"#
        ),
        &[(E, "granular-marking-ref-or-lang", "/granular_markings/0")],
    );
    check(
        IND,
        r#"{"granular_markings":[{"selectors":["pattern"]}]}"#,
        &[(E, "granular-marking-ref-or-lang", "/granular_markings/0")],
    );
    check(
        IND,
        &format!(
            r#"{{"granular_markings":[{{"selectors":["pattern","labels.[3]"],"marking_ref":"{green}"}}]}}"#
        ),
        &[(
            E,
            "granular-selector-unresolved",
            "/granular_markings/0/selectors/1",
        )],
    );
    check(
        IND,
        &format!(
            r#"{{"granular_markings":[{{"selectors":["pattern"],"marking_ref":"identity--{U1}"}}]}}"#
        ),
        &[(E, "ref-target-type", "/granular_markings/0/marking_ref")],
    );
}

#[test]
fn custom_properties() {
    check(
        IND,
        r#"{"x_acme_score":5,"x_acme_thing_ref":"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}"#,
        &[],
    );
    check(
        IND,
        r#"{"X-Bad":1}"#,
        &[(E, "custom-property-name", "/X-Bad")],
    );
    check(IND, r#"{"ab":1}"#, &[(E, "custom-property-name", "/ab")]);
    check(
        IND,
        r#"{"_abc":1}"#,
        &[(E, "custom-property-name", "/_abc")],
    );
    check(
        IND,
        r#"{"x_foo_ref":"nope"}"#,
        &[(W, "custom-ref-invalid", "/x_foo_ref")],
    );
    check(
        IND,
        r#"{"x_foo_refs":[]}"#,
        &[(W, "custom-ref-invalid", "/x_foo_refs")],
    );
}

#[test]
fn extensions() {
    let ext = format!("extension-definition--{U1}");
    check(
        IND,
        &format!(r#"{{"extensions":{{"{ext}":{{"extension_type":"property-extension","x":1}}}}}}"#),
        &[],
    );
    check(
        IND,
        &format!(r#"{{"extensions":{{"{ext}":{{"extension_type":"property-ext"}}}}}}"#),
        &[(
            E,
            "vocab-closed-value",
            &format!("/extensions/{ext}/extension_type"),
        )],
    );
    check(
        IND,
        &format!(r#"{{"extensions":{{"{ext}":{{"x":1}}}}}}"#),
        &[(W, "extension-type-missing", &format!("/extensions/{ext}"))],
    );
    check(
        IND,
        r#"{"extensions":{"foo":{"a":1}}}"#,
        &[(E, "extension-key-invalid", "/extensions/foo")],
    );
    check(
        IND,
        r#"{"extensions":{"acme-ext":{"a":1}}}"#,
        &[(W, "extension-key-deprecated", "/extensions/acme-ext")],
    );
    check(
        IND,
        r#"{"extensions":{"ntfs-ext":{"sid":"x"}}}"#,
        &[(E, "extension-key-invalid", "/extensions/ntfs-ext")],
    );
    check(
        IND,
        r#"{"extensions":{}}"#,
        &[(E, "empty-dictionary", "/extensions")],
    );
    check(FILE, r#"{"extensions":{"ntfs-ext":{"sid":"x"}}}"#, &[]);
    check(
        FILE,
        r#"{"extensions":{"archive-ext":{"comment":"c"}}}"#,
        &[(
            E,
            "required-property",
            "/extensions/archive-ext/contains_refs",
        )],
    );
    check(
        FILE,
        r#"{"extensions":{"ntfs-ext":{}}}"#,
        &[(E, "at-least-one-property", "/extensions/ntfs-ext")],
    );
    check(
        FILE,
        r#"{"extensions":{"windows-pebinary-ext":{"pe_type":"app"}}}"#,
        &[(
            W,
            "vocab-open-value",
            "/extensions/windows-pebinary-ext/pe_type",
        )],
    );
    check(
        NT,
        r#"{"extensions":{"socket-ext":{"address_family":"AF_FOO"}}}"#,
        &[(
            E,
            "vocab-closed-value",
            "/extensions/socket-ext/address_family",
        )],
    );
}

#[test]
fn hashes() {
    check(
        FILE,
        r#"{"hashes":{"MD5":"abc"}}"#,
        &[(E, "hash-value-invalid", "/hashes/MD5")],
    );
    check(
        FILE,
        r#"{"hashes":{"SHA-1":"zz23456789012345678901234567890123456789"}}"#,
        &[(E, "hash-value-invalid", "/hashes/SHA-1")],
    );
    check(
        FILE,
        r#"{"hashes":{"SSDEEP":"3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C"}}"#,
        &[],
    );
    check(
        FILE,
        r#"{"hashes":{"sha256":"ceafbfd424be2ca4a5f0402cae090dda2fb0526cf521b60b60077c0f622b285a"}}"#,
        &[(W, "hash-algorithm-name", "/hashes/sha256")],
    );
    check(
        FILE,
        r#"{"hashes":{"acme-hash":"1234"}}"#,
        &[(W, "hash-algorithm-custom", "/hashes/acme-hash")],
    );
    check(
        FILE,
        r#"{"hashes":{"a b":"1234"}}"#,
        &[(E, "hash-key-invalid", "/hashes/a b")],
    );
    check(
        FILE,
        r#"{"hashes":{}}"#,
        &[(E, "empty-dictionary", "/hashes")],
    );
    check(
        FILE,
        r#"{"hashes":{"MD5":5}}"#,
        &[(E, "property-type", "/hashes/MD5")],
    );
}

#[test]
fn sdo_rules() {
    check(
        MAL,
        r#"{"name":null}"#,
        &[(E, "malware-family-name", "/name")],
    );
    check(
        MAL,
        r#"{"is_family":null}"#,
        &[(E, "required-property", "/is_family")],
    );
    check(
        MAL,
        r#"{"first_seen":"2016-01-01T00:00:00Z","last_seen":"2015-01-01T00:00:00Z"}"#,
        &[(E, "last-seen-after-first-seen", "/last_seen")],
    );
    check(
        MAL,
        r#"{"first_seen":"2016-01-01T00:00:00Z","last_seen":"2016-01-01T00:00:00Z"}"#,
        &[],
    );
    check(
        LOC,
        r#"{"latitude":10}"#,
        &[(E, "location-coordinates", "/longitude")],
    );
    check(
        LOC,
        r#"{"latitude":100,"longitude":0}"#,
        &[(E, "value-out-of-range", "/latitude")],
    );
    check(
        LOC,
        r#"{"precision":5}"#,
        &[(E, "location-precision", "/precision")],
    );
    check(
        LOC,
        r#"{"country":null,"name":"x"}"#,
        &[(E, "at-least-one-property", "")],
    );
    check(
        OBS,
        r#"{"number_observed":0}"#,
        &[(E, "value-out-of-range", "/number_observed")],
    );
    check(
        OBS,
        r#"{"last_observed":"2015-12-21T18:59:59Z"}"#,
        &[(E, "last-observed-after-first-observed", "/last_observed")],
    );
    check(
        OBS,
        r#"{"objects":{"0":{"type":"ipv4-addr","value":"198.51.100.3"}}}"#,
        &[
            (E, "observed-data-objects", ""),
            (W, "deprecated-property", "/objects"),
        ],
    );
    check(
        REL,
        r#"{"relationship_type":"Uses"}"#,
        &[(E, "relationship-type-format", "/relationship_type")],
    );
    check(
        REL,
        r#"{"start_time":"2016-01-01T00:00:00Z","stop_time":"2016-01-01T00:00:00Z"}"#,
        &[(E, "stop-time-after-start-time", "/stop_time")],
    );
    check(
        SIG,
        r#"{"count":-1}"#,
        &[(E, "value-out-of-range", "/count")],
    );
    check(
        SIG,
        r#"{"first_seen":"2016-01-01T00:00:00Z","last_seen":"2015-01-01T00:00:00Z"}"#,
        &[(E, "last-seen-after-first-seen", "/last_seen")],
    );
    check(
        r#"{"type":"malware-analysis","spec_version":"2.1","id":"malware-analysis--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","product":"av","sample_ref":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"}"#,
        "{}",
        &[
            (E, "ref-target-type", "/sample_ref"),
            (E, "at-least-one-property", ""),
        ],
    );
}

#[test]
fn sco_rules() {
    check(
        FILE,
        r#"{"hashes":null,"name":null,"size":1}"#,
        &[(E, "at-least-one-property", "")],
    );
    check(
        FILE,
        r#"{"size":-1}"#,
        &[(E, "value-out-of-range", "/size")],
    );
    check(
        FILE,
        r#"{"magic_number_hex":"zz"}"#,
        &[(E, "hex-invalid", "/magic_number_hex")],
    );
    check(
        NT,
        r#"{"is_active":true,"end":"2016-01-01T00:00:00Z"}"#,
        &[(E, "network-traffic-active-end", "/end")],
    );
    check(
        NT,
        r#"{"src_ref":null}"#,
        &[(E, "at-least-one-property", "")],
    );
    check(
        NT,
        r#"{"src_port":70000}"#,
        &[(E, "value-out-of-range", "/src_port")],
    );
    check(
        NT,
        r#"{"start":"2016-01-01T00:00:01Z","end":"2016-01-01T00:00:00Z"}"#,
        &[(E, "end-after-start", "/end")],
    );
    check(
        EMAIL,
        r#"{"is_multipart":true}"#,
        &[(E, "email-message-multipart", "/body")],
    );
    check(
        EMAIL,
        r#"{"is_multipart":true,"body":null,"body_multipart":[{"body":"a","body_raw_ref":"artifact--30db9816-3444-5ab6-8e93-f9262c146d34"}]}"#,
        &[(E, "mime-part-body", "/body_multipart/0")],
    );
    check(
        ART,
        r#"{"url":"https://example.com/x"}"#,
        &[
            (E, "artifact-payload-or-url", "/url"),
            (E, "artifact-url-hashes", "/hashes"),
        ],
    );
    check(
        ART,
        r#"{"payload_bin":"!!!"}"#,
        &[(E, "binary-invalid", "/payload_bin")],
    );
    check(
        ART,
        r#"{"decryption_key":"k"}"#,
        &[(E, "artifact-decryption-key", "/decryption_key")],
    );
    let ip = r#"{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"}"#;
    check(
        ip,
        r#"{"value":"999.1.1.1"}"#,
        &[(E, "ip-address-format", "/value")],
    );
    check(
        ip,
        r#"{"value":"10.0.0.0/33"}"#,
        &[(E, "ip-address-format", "/value")],
    );
    check(ip, r#"{"value":"10.0.0.0/8"}"#, &[]);
    let ip6 = r#"{"type":"ipv6-addr","id":"ipv6-addr--85a85a8c-ee99-5722-946d-3c3a3270fc6f","value":"2001:db8::/32"}"#;
    check(ip6, "{}", &[]);
    check(
        ip6,
        r#"{"value":"2001:db8::g"}"#,
        &[(E, "ip-address-format", "/value")],
    );
    let mac = r#"{"type":"mac-addr","id":"mac-addr--757b1725-9903-54f5-a855-1240691d7659","value":"d2:fb:49:24:37:18"}"#;
    check(
        mac,
        r#"{"value":"D2:FB:49:24:37:18"}"#,
        &[(E, "mac-addr-format", "/value")],
    );
    let reg = r#"{"type":"windows-registry-key","id":"windows-registry-key--5f15b061-9c3d-5ea8-93b8-72468f206c1a","key":"hkey_local_machine\\system"}"#;
    check(
        reg,
        r#"{"values":[{"name":"a","data_type":"REG_FOO"}]}"#,
        &[(E, "vocab-closed-value", "/values/0/data_type")],
    );
    check(
        reg,
        r#"{"values":[{}]}"#,
        &[(E, "at-least-one-property", "/values/0")],
    );
    let proc_ =
        r#"{"type":"process","id":"process--f52a906a-0dfc-40bd-92f1-e7778ead38a9","pid":1}"#;
    check(
        proc_,
        r#"{"environment_variables":{"a b":"x"}}"#,
        &[(E, "dictionary-key-invalid", "/environment_variables/a b")],
    );
    check(
        proc_,
        r#"{"environment_variables":{}}"#,
        &[(E, "empty-dictionary", "/environment_variables")],
    );
    check(
        proc_,
        r#"{"id":"process--f52a906a-0dfc-50bd-92f1-e7778ead38a9"}"#,
        &[],
    );
}

#[test]
fn marking_definitions() {
    check(
        TLP1_GREEN,
        r#"{"modified":"2017-01-20T00:00:00.000Z"}"#,
        &[(E, "marking-definition-versioned", "/modified")],
    );
    check(
        TLP1_GREEN,
        &format!(r#"{{"id":"marking-definition--{U1}"}}"#),
        &[(E, "tlp-id-nonstandard", "/id")],
    );
    check(
        TLP1_GREEN,
        r#"{"definition":{"tlp":"purple"}}"#,
        &[(E, "tlp-definition-invalid", "/definition")],
    );
    check(
        TLP1_GREEN,
        &format!(
            r#"{{"id":"marking-definition--{U1}","definition_type":"statement","definition":{{"statement":"Copyright ACME"}}}}"#
        ),
        &[],
    );
    check(
        TLP1_GREEN,
        &format!(
            r#"{{"id":"marking-definition--{U1}","definition_type":"statement","definition":{{"text":"x"}}}}"#
        ),
        &[(E, "statement-definition-invalid", "/definition")],
    );
    check(
        TLP1_GREEN,
        &format!(
            r#"{{"id":"marking-definition--{U1}","definition_type":"acme","definition":{{"x":"y"}}}}"#
        ),
        &[(W, "marking-definition-type", "/definition_type")],
    );
    check(
        TLP1_GREEN,
        r#"{"definition_type":null,"definition":null}"#,
        &[
            (E, "required-property", "/definition_type"),
            (E, "required-property", "/definition"),
        ],
    );
    check(
        TLP2_AMBER,
        r#"{"id":"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"}"#,
        &[(E, "tlp2-id-mismatch", "/id")],
    );
    check(
        TLP2_AMBER,
        r#"{"name":"TLP:Amber"}"#,
        &[(W, "tlp2-name-mismatch", "/name")],
    );
    check(
        TLP2_AMBER,
        r#"{"extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"AMBER"}}}"#,
        &[(
            E,
            "tlp2-value-invalid",
            "/extensions/extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d/tlp_2_0",
        )],
    );
}

#[test]
fn extension_definitions() {
    check(
        EXTDEF,
        r#"{"extension_types":["new-thing"]}"#,
        &[(E, "vocab-closed-value", "/extension_types/0")],
    );
    check(
        EXTDEF,
        r#"{"extension_properties":["x_a"]}"#,
        &[(
            E,
            "extension-properties-without-toplevel",
            "/extension_properties",
        )],
    );
    check(
        EXTDEF,
        r#"{"extension_types":["toplevel-property-extension"],"extension_properties":["x_a"]}"#,
        &[],
    );
    check(
        EXTDEF,
        r#"{"created_by_ref":null}"#,
        &[(E, "required-property", "/created_by_ref")],
    );
    check(
        LC,
        r#"{"contents":null}"#,
        &[(E, "required-property", "/contents")],
    );
    check(
        LC,
        r#"{"contents":{"de_CH":{"name":"x"}}}"#,
        &[(E, "lang-invalid", "/contents/de_CH")],
    );
    check(
        LC,
        r#"{"contents":{"de":"x"}}"#,
        &[(E, "property-type", "/contents/de")],
    );
}

#[test]
fn custom_object_types() {
    let custom = r#"{"type":"x-acme-widget","spec_version":"2.1","id":"x-acme-widget--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","x_size":3}"#;
    check(custom, "{}", &[]);
    check(
        custom,
        r#"{"created":null}"#,
        &[(E, "required-property", "/created")],
    );
    // A custom SCO (declared through a new-sco extension) needs neither created nor v4.
    let sco = r#"{"type":"x-acme-obs","id":"x-acme-obs--8e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f","extensions":{"extension-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f":{"extension_type":"new-sco"}},"value":"v"}"#;
    check(sco, "{}", &[]);
}

#[test]
fn pattern_checker_hook() {
    let checker = |pattern: &str, version: &str| -> Result<(), String> {
        assert_eq!(version, "2.1");
        if pattern.starts_with('[') {
            Ok(())
        } else {
            Err("pattern must start with '['".into())
        }
    };
    let opts = ValidateOptions {
        pattern_checker: Some(&checker),
        ..Default::default()
    };
    let bad = IND.replace(
        "[ipv4-addr:value = '198.51.100.1']",
        "ipv4-addr:value = 'x'",
    );
    let objs = parse_document(bad.as_bytes()).expect("parse");
    let d = validate_object(&objs[0], &opts);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        (d[0].rule, d[0].pointer.as_str()),
        ("pattern-invalid", "/pattern")
    );
    assert_eq!(d[0].message, "pattern must start with '['");
    // Non-STIX patterns are not given to the checker.
    let yara = bad.replace("\"pattern_type\":\"stix\"", "\"pattern_type\":\"yara\"");
    let objs = parse_document(yara.as_bytes()).expect("parse");
    assert!(validate_object(&objs[0], &opts).is_empty());
    // Without a checker nothing is reported.
    let objs = parse_document(bad.as_bytes()).expect("parse");
    assert!(validate_object(&objs[0], &ValidateOptions::default()).is_empty());
}

#[test]
fn extension_type_must_match_definition_in_document() {
    let user = IND.replace(
        "\"valid_from\"",
        "\"extensions\":{\"extension-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\":{\"extension_type\":\"new-sdo\"}},\"valid_from\"",
    );
    let doc = format!("{EXTDEF}\n{user}");
    let objs = parse_document(doc.as_bytes()).expect("parse");
    let got: Vec<(&str, String)> = validate_document(&objs, &ValidateOptions::default())
        .into_iter()
        .map(|d| (d.rule, d.pointer))
        .collect();
    assert_eq!(
        got,
        [(
            "extension-type-mismatch",
            "/extensions/extension-definition--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/extension_type"
                .to_owned()
        )]
    );
}

#[test]
fn diagnostics_carry_location() {
    let doc = format!("{IND}\n\n{}", IND.replace("\"stix\"", "5"));
    let objs = parse_document(doc.as_bytes()).expect("parse");
    let d = validate_document(&objs, &ValidateOptions::default());
    let errors: Vec<&Diagnostic> = d.iter().filter(|d| d.rule == "property-type").collect();
    assert_eq!(errors.len(), 1, "{d:?}");
    assert_eq!(errors[0].pointer, "/pattern_type");
    assert_eq!(errors[0].location.line, 3);
    assert_eq!(errors[0].location.index, 1);
}

#[test]
fn observable_value_formats() {
    let url = r#"{"type":"url","id":"url--be22e93a-5e33-5678-b19f-8b4ea06df0bd","value":"https://example.com/"}"#;
    check(
        url,
        r#"{"value":"example.com/path"}"#,
        &[(E, "url-format", "/value")],
    );
    check(
        url,
        r#"{"value":"http://exa mple.com/"}"#,
        &[(E, "url-format", "/value")],
    );
    check(
        url,
        r#"{"value":"hxxp://example[.]com/ a","defanged":true}"#,
        &[],
    );
    let email = r#"{"type":"email-addr","id":"email-addr--8f5f7fba-cc24-5e3f-aca4-f7194112e042","value":"a@example.com"}"#;
    check(
        email,
        r#"{"value":"not-an-address"}"#,
        &[(E, "email-addr-format", "/value")],
    );
    check(
        email,
        r#"{"value":"@example.com"}"#,
        &[(E, "email-addr-format", "/value")],
    );
    let dom = r#"{"type":"domain-name","id":"domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7","value":"example.com"}"#;
    check(dom, r#"{"value":"xn--bcher-kva.example"}"#, &[]);
    check(dom, r#"{"value":"_dmarc.example.com."}"#, &[]);
    check(
        dom,
        r#"{"value":"example..com"}"#,
        &[(E, "domain-name-format", "/value")],
    );
    check(
        dom,
        r#"{"value":"https://example.com"}"#,
        &[(E, "domain-name-format", "/value")],
    );
    check(
        dom,
        r#"{"value":""}"#,
        &[(E, "domain-name-format", "/value")],
    );
    check(ART, r#"{"mime_type":"text/plain; charset=utf-8"}"#, &[]);
    check(
        ART,
        r#"{"mime_type":"plain text"}"#,
        &[(W, "mime-type-format", "/mime_type")],
    );
    check(
        ART,
        r#"{"payload_bin":null,"hashes":{"MD5":"1717b7fff97d37a1e1a0029d83492de1"}}"#,
        &[(E, "at-least-one-property", "")],
    );
}

#[test]
fn software_and_registry_formats() {
    let sw = r#"{"type":"software","id":"software--710b0b41-d4d0-5d6c-a400-fc9254554ffc","name":"Word","cpe":"cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*","languages":["en","de-CH"]}"#;
    check(sw, "{}", &[]);
    check(
        sw,
        r#"{"cpe":"cpe:/a:microsoft:word:2000"}"#,
        &[(E, "cpe-format", "/cpe")],
    );
    check(
        sw,
        r#"{"languages":["en","english (us)"]}"#,
        &[(E, "lang-invalid", "/languages/1")],
    );
    let reg = r#"{"type":"windows-registry-key","id":"windows-registry-key--5f15b061-9c3d-5ea8-93b8-72468f206c1a","key":"HKEY_LOCAL_MACHINE\\System"}"#;
    check(reg, "{}", &[]);
    check(
        reg,
        r#"{"key":"HKLM\\System"}"#,
        &[(E, "registry-key-hive", "/key")],
    );
}
