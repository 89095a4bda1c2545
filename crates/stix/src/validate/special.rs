//! Rules specific to one object type that the property tables cannot express:
//! co-constraints, value formats, marking definitions and deterministic SCO ids.

use serde_json::Value;

use super::formats::{
    is_abbreviated_hive, is_cpe23, is_domain_name, is_email, is_ip_value, is_language_tag, is_mac,
    is_mime_type, is_url,
};
use super::{Seg, Severity, Validator};
use crate::ids::{self, parse_identifier};
use crate::spec::TypeSpec;
use crate::tlp::{self, TlpLevel};

impl Validator<'_, '_, '_> {
    /// Rules specific to one object type that the tables cannot express.
    pub(super) fn type_rules(&mut self, spec: &'static TypeSpec) {
        let obj = self.obj;
        let json = obj.json();
        let has = |k: &str| json.contains_key(k);
        let boolean = |k: &str| json.get(k).and_then(Value::as_bool);
        match spec.name {
            // STIX 2.1 §4.7: a STIX pattern is checked by the pattern crate via the hook.
            "indicator" => {
                if let (Some(check), Some("stix"), Some(pattern)) =
                    (self.opts.pattern_checker, obj.pattern_type(), obj.pattern())
                    && let Err(msg) = check(pattern, obj.pattern_version().unwrap_or("2.1"))
                {
                    self.report_at(Severity::Error, "pattern", "pattern-invalid", msg);
                }
            }
            // STIX 2.1 §4.10: latitude and longitude come together; precision needs both.
            "location" => {
                if has("latitude") != has("longitude") {
                    let missing = if has("latitude") {
                        "longitude"
                    } else {
                        "latitude"
                    };
                    self.report_at(
                        Severity::Error,
                        missing,
                        "location-coordinates",
                        "latitude and longitude must be given together",
                    );
                }
                if has("precision") && !(has("latitude") && has("longitude")) {
                    self.report_at(
                        Severity::Error,
                        "precision",
                        "location-precision",
                        "precision requires latitude and longitude",
                    );
                }
            }
            // STIX 2.1 §4.11: a malware family must have a name.
            "malware" if boolean("is_family") == Some(true) && !has("name") => {
                self.report_at(
                    Severity::Error,
                    "name",
                    "malware-family-name",
                    "name is required when is_family is true",
                );
            }
            // STIX 2.1 §4.14: objects is deprecated; one of objects and object_refs.
            "observed-data" => {
                if has("objects") == has("object_refs") {
                    self.error(
                        "observed-data-objects",
                        "exactly one of object_refs and objects must be present",
                    );
                }
                if has("objects") {
                    self.report_at(
                        Severity::Warning,
                        "objects",
                        "deprecated-property",
                        "objects is deprecated in STIX 2.1; use object_refs",
                    );
                }
            }
            // STIX 2.1 §5.1: relationship_type is ASCII a-z, 0-9 and '-'.
            "relationship" => {
                if let Some(rt) = obj.str_prop("relationship_type")
                    && (rt.is_empty()
                        || !rt
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
                {
                    self.report_at(
                        Severity::Error,
                        "relationship_type",
                        "relationship-type-format",
                        "must contain only a-z, 0-9 and '-'",
                    );
                }
            }
            // STIX 2.1 §6.1: payload_bin or url, not both; url needs hashes; a key needs an algorithm.
            "artifact" => {
                if has("payload_bin") && has("url") {
                    self.report_at(
                        Severity::Error,
                        "url",
                        "artifact-payload-or-url",
                        "payload_bin and url must not both be present",
                    );
                }
                if has("url") && !has("hashes") {
                    self.report_at(
                        Severity::Error,
                        "hashes",
                        "artifact-url-hashes",
                        "hashes must be present when url is present",
                    );
                }
                if has("decryption_key") && !has("encryption_algorithm") {
                    self.report_at(
                        Severity::Error,
                        "decryption_key",
                        "artifact-decryption-key",
                        "decryption_key requires encryption_algorithm",
                    );
                }
            }
            // STIX 2.1 §6.6: body only when not multipart, body_multipart only when multipart.
            "email-message" => match boolean("is_multipart") {
                Some(true) if has("body") => {
                    self.report_at(
                        Severity::Error,
                        "body",
                        "email-message-multipart",
                        "body must not be present when is_multipart is true",
                    );
                }
                Some(false) if has("body_multipart") => self.report_at(
                    Severity::Error,
                    "body_multipart",
                    "email-message-multipart",
                    "body_multipart must not be present when is_multipart is false",
                ),
                _ => {}
            },
            // STIX 2.1 §6.8 / §6.9: one address or a CIDR block.
            "ipv4-addr" | "ipv6-addr" => {
                if let Some(v) = obj.str_prop("value")
                    && !is_ip_value(v, spec.name == "ipv4-addr")
                {
                    self.report_at(
                        Severity::Error,
                        "value",
                        "ip-address-format",
                        format!("{v:?} is not an address or CIDR block"),
                    );
                }
            }
            // STIX 2.1 §6.14: cpe is a CPE 2.3 formatted string; languages are RFC 5646.
            "software" => {
                if let Some(cpe) = obj.str_prop("cpe")
                    && !is_cpe23(cpe)
                {
                    self.report_at(
                        Severity::Error,
                        "cpe",
                        "cpe-format",
                        format!(
                            "{cpe:?} is not a CPE 2.3 formatted string (cpe:2.3:part:vendor:...)"
                        ),
                    );
                }
                let bad: Vec<(usize, String)> = obj
                    .get("languages")
                    .and_then(Value::as_array)
                    .map(|langs| {
                        langs
                            .iter()
                            .enumerate()
                            .filter_map(|(i, l)| l.as_str().map(|l| (i, l)))
                            .filter(|(_, l)| !is_language_tag(l))
                            .map(|(i, l)| (i, l.to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                for (i, lang) in bad {
                    self.path.push(Seg::Key("languages"));
                    self.path.push(Seg::Index(i));
                    self.error(
                        "lang-invalid",
                        format!("{lang:?} is not an RFC 5646 language tag"),
                    );
                    self.path.pop();
                    self.path.pop();
                }
            }
            // STIX 2.1 §6.17: the hive is spelled out (HKEY_LOCAL_MACHINE, not HKLM).
            "windows-registry-key" => {
                if let Some(key) = obj.str_prop("key")
                    && is_abbreviated_hive(key)
                {
                    self.report_at(
                        Severity::Error,
                        "key",
                        "registry-key-hive",
                        "the hive must be fully expanded (e.g. HKEY_LOCAL_MACHINE, not HKLM)",
                    );
                }
            }
            // STIX 2.1 §6.10: lowercase, colon-delimited, zero-padded.
            "mac-addr" => {
                if let Some(v) = obj.str_prop("value")
                    && !is_mac(v)
                {
                    self.report_at(
                        Severity::Error,
                        "value",
                        "mac-addr-format",
                        "must be lowercase, colon-delimited, e.g. 00:00:ab:cd:ef:01",
                    );
                }
            }
            // STIX 2.1 §6.12: an active flow has no end.
            "network-traffic" if boolean("is_active") == Some(true) && has("end") => {
                self.report_at(
                    Severity::Error,
                    "end",
                    "network-traffic-active-end",
                    "end must not be present when is_active is true",
                );
            }
            // STIX 2.1 §6.15 (RFC 3986), §6.5 (RFC 5322 addr-spec), §6.4 (RFC 1034/5890).
            // Defanged values are deliberately broken, so they are not checked.
            "url" | "email-addr" | "domain-name" if !obj.defanged() => {
                if let Some(v) = obj.str_prop("value") {
                    let (ok, rule, what) = match spec.name {
                        "url" => (is_url(v), "url-format", "an absolute URL (RFC 3986)"),
                        "email-addr" => (is_email(v), "email-addr-format", "an email address"),
                        _ => (is_domain_name(v), "domain-name-format", "a domain name"),
                    };
                    if !ok {
                        self.report_at(
                            Severity::Error,
                            "value",
                            rule,
                            format!("{v:?} is not {what}"),
                        );
                    }
                }
            }
            "marking-definition" => self.marking_definition(),
            // STIX 2.1 §7.1: contents maps RFC 5646 language tags to dictionaries of
            // translated properties.
            "language-content" => {
                if let Some(contents) = json.get("contents").and_then(Value::as_object) {
                    for (tag, translated) in contents {
                        if !is_language_tag(tag) {
                            self.path.push(Seg::Key("contents"));
                            self.report_at(
                                Severity::Error,
                                tag,
                                "lang-invalid",
                                format!("{tag:?} is not an RFC 5646 language tag"),
                            );
                            self.path.pop();
                        } else if !translated.is_object() {
                            self.path.push(Seg::Key("contents"));
                            self.path.push(Seg::Key(tag));
                            self.type_error("an object of translated properties", translated);
                            self.path.pop();
                            self.path.pop();
                        }
                    }
                }
            }
            // STIX 2.1 §7.3: extension_properties only for toplevel-property-extension.
            "extension-definition"
                if has("extension_properties")
                    && !obj
                        .str_list("extension_types")
                        .any(|t| t == "toplevel-property-extension") =>
            {
                self.report_at(
                    Severity::Error,
                    "extension_properties",
                    "extension-properties-without-toplevel",
                    "extension_properties requires extension_types to include toplevel-property-extension",
                );
            }
            _ => {}
        }
        // STIX 2.1 §6.1, §6.7: MIME types SHOULD come from the IANA registry; at least
        // the type/subtype shape is checked.
        if matches!(spec.name, "artifact" | "file")
            && let Some(m) = obj.str_prop("mime_type")
            && !is_mime_type(m)
        {
            self.report_at(
                Severity::Warning,
                "mime_type",
                "mime-type-format",
                format!("{m:?} SHOULD be a type/subtype MIME type"),
            );
        }
    }

    /// STIX 2.1 §7.2.1 marking definitions, TLP 1.0 (§7.2.1.4) and TLP 2.0.
    pub(super) fn marking_definition(&mut self) {
        let obj = self.obj;
        let json = obj.json();
        // Marking definitions cannot be versioned (§7.2.1).
        for key in ["modified", "revoked"] {
            if json.contains_key(key) {
                self.report_at(
                    Severity::Error,
                    key,
                    "marking-definition-versioned",
                    "marking definitions cannot be versioned",
                );
            }
        }
        let has_ext = json.contains_key("extensions");
        if !has_ext {
            for key in ["definition_type", "definition"] {
                if !json.contains_key(key) {
                    self.report_at(
                        Severity::Error,
                        key,
                        "required-property",
                        format!("required property {key} is missing (no extensions given)"),
                    );
                }
            }
        }
        let id = obj.id().unwrap_or("");
        match obj.str_prop("definition_type") {
            Some("tlp") => {
                let level = json
                    .get("definition")
                    .and_then(|d| d.get("tlp"))
                    .and_then(Value::as_str);
                let expected = match level {
                    Some(l @ ("white" | "green" | "amber" | "red")) => l.parse::<TlpLevel>().ok(),
                    _ => None,
                };
                match expected {
                    None => self.report_at(
                        Severity::Error,
                        "definition",
                        "tlp-definition-invalid",
                        "a tlp definition must be {\"tlp\": \"white\"|\"green\"|\"amber\"|\"red\"}",
                    ),
                    Some(level) => {
                        let canonical = tlp::TLP1_IDS
                            .iter()
                            .find(|(l, _)| *l == level)
                            .map(|(_, i)| *i);
                        if canonical != Some(id) {
                            self.report_at(
                                Severity::Error,
                                "id",
                                "tlp-id-nonstandard",
                                format!(
                                    "TLP 1.0 markings must use the predefined id {}",
                                    canonical.unwrap_or("")
                                ),
                            );
                        }
                    }
                }
            }
            Some("statement")
                if !json
                    .get("definition")
                    .and_then(|d| d.get("statement"))
                    .is_some_and(Value::is_string) =>
            {
                self.report_at(
                    Severity::Error,
                    "definition",
                    "statement-definition-invalid",
                    "a statement definition must be {\"statement\": \"...\"}",
                );
            }
            Some("statement") => {}
            Some(other) => {
                let msg = format!("definition_type {other:?} SHOULD be \"statement\" or \"tlp\"");
                self.report_at(
                    Severity::Warning,
                    "definition_type",
                    "marking-definition-type",
                    msg,
                );
            }
            None => {}
        }
        if let Some(ext) = obj.extensions().and_then(|e| e.get(tlp::TLP2_EXTENSION_ID)) {
            let value = ext.get("tlp_2_0").and_then(Value::as_str);
            match value.and_then(|v| v.parse::<TlpLevel>().ok().filter(|l| l.as_str() == v)) {
                None => {
                    self.path.push(Seg::Key("extensions"));
                    self.path.push(Seg::Key(tlp::TLP2_EXTENSION_ID));
                    self.report_at(
                        Severity::Error,
                        "tlp_2_0",
                        "tlp2-value-invalid",
                        "must be clear, green, amber, amber+strict or red",
                    );
                    self.path.pop();
                    self.path.pop();
                }
                Some(level) => {
                    if level.tlp2_id() != id {
                        self.report_at(
                            Severity::Error,
                            "id",
                            "tlp2-id-mismatch",
                            format!(
                                "the {} marking must have id {}",
                                level.label(),
                                level.tlp2_id()
                            ),
                        );
                    }
                    if obj.name() != Some(level.label()) {
                        self.report_at(
                            Severity::Warning,
                            "name",
                            "tlp2-name-mismatch",
                            format!("SHOULD be {:?}", level.label()),
                        );
                    }
                }
            }
        }
    }

    /// STIX 2.1 §2.9: SCOs with ID contributing properties SHOULD use the deterministic id.
    /// Without ID contributing properties an SCO SHOULD use a UUIDv4 instead.
    pub(super) fn deterministic_id(&mut self) {
        let obj = self.obj;
        let Some(id) = obj.id() else { return };
        let Some(expected) = ids::deterministic_sco_id(obj) else {
            let version = parse_identifier(id).map(|p| p.uuid.get_version_num());
            if obj.spec().is_some() && version.is_ok_and(|v| v != 4) {
                self.report_at(
                    Severity::Warning,
                    "id",
                    "sco-id-uuidv4",
                    "SHOULD use a UUIDv4: no ID contributing properties are present",
                );
            }
            return;
        };
        if !id.eq_ignore_ascii_case(&expected) {
            self.report_at(
                Severity::Warning,
                "id",
                "sco-id-not-deterministic",
                format!("SHOULD be the deterministic id {expected}"),
            );
        }
    }
}
