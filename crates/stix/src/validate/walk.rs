//! Walking one object along its property tables: kinds, references, vocabularies,
//! embedded types, custom properties and extensions.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::formats::{
    hash_hex_len, is_custom_property_name, is_cve_suffix, is_dictionary_key, is_hex,
    is_language_tag, resolve_selector,
};
use super::{
    BASE64, Seg, Severity, Validator, bit, describe_targets, diag, json_kind, name_eq,
    render_pointer, target_ok,
};
use crate::ids::{self, parse_identifier};
use crate::spec::{self, Category, Kind, PropSpec, Scalar, Targets, TypeSpec};
use crate::timestamp::Timestamp;
use crate::vocab::{self, Vocab};

impl<'o> Validator<'o, '_, '_> {
    pub(super) fn report(
        &mut self,
        severity: Severity,
        rule: &'static str,
        message: impl Into<String>,
    ) {
        let pointer = render_pointer(&self.path);
        self.out
            .push(diag(self.obj, severity, rule, pointer, message.into()));
    }

    pub(super) fn error(&mut self, rule: &'static str, message: impl Into<String>) {
        self.report(Severity::Error, rule, message);
    }

    pub(super) fn warn(&mut self, rule: &'static str, message: impl Into<String>) {
        self.report(Severity::Warning, rule, message);
    }

    /// Reports at `self.path` + `key`.
    pub(super) fn report_at(
        &mut self,
        severity: Severity,
        key: &'o str,
        rule: &'static str,
        message: impl Into<String>,
    ) {
        self.path.push(Seg::Key(key));
        self.report(severity, rule, message);
        self.path.pop();
    }

    pub(super) fn object(&mut self) {
        let obj = self.obj;
        let json = obj.json();
        let spec = obj.spec();

        // STIX 2.1 §3.1: `type` names the object kind.
        let type_name = match json.get("type") {
            None => {
                self.report_at(
                    Severity::Error,
                    "type",
                    "required-property",
                    "required property type is missing",
                );
                None
            }
            Some(Value::String(t)) => {
                if !ids::is_valid_type_name(t) {
                    self.report_at(
                        Severity::Error,
                        "type",
                        "type-invalid",
                        format!("{t:?} is not a valid type name (a-z, 0-9, '-', 3-250 characters)"),
                    );
                }
                Some(t.as_str())
            }
            Some(other) => {
                self.report_at(
                    Severity::Error,
                    "type",
                    "property-type",
                    format!("must be a string, not {}", json_kind(other)),
                );
                None
            }
        };

        let declares = |ext_type: &str| -> bool {
            obj.extensions().is_some_and(|e| {
                e.values()
                    .any(|v| v.get("extension_type").and_then(Value::as_str) == Some(ext_type))
            })
        };
        let category = spec.map(|s| s.category).unwrap_or(if declares("new-sco") {
            Category::Sco
        } else if declares("new-sro") {
            Category::Sro
        } else {
            Category::Sdo
        });

        self.check_id(type_name, category);

        let common = spec::common_props(category, type_name.unwrap_or(""));
        let own: &[PropSpec] = spec.map(|s| s.props).unwrap_or(&[]);

        // One walk over the properties; which table rows were seen is kept in bit masks
        // so the required-property check needs no further lookups.
        let (mut seen_own, mut seen_common) = (0u64, 0u64);
        for (key, value) in json {
            let key = key.as_str();
            if key == "type" || key == "id" {
                continue;
            }
            self.path.push(Seg::Key(key));
            if key == "extensions" {
                self.extensions(value, type_name.unwrap_or(""));
            } else if let Some(i) = own.iter().position(|p| name_eq(p.name, key)) {
                seen_own |= bit(i);
                self.value(value, own[i].kind);
            } else if let Some(i) = common.iter().position(|p| name_eq(p.name, key)) {
                seen_common |= bit(i);
                self.value(value, common[i].kind);
                self.common_value(key, value);
            } else {
                self.custom_property(key, value);
            }
            self.path.pop();
        }

        let missing = own
            .iter()
            .enumerate()
            .filter(|(i, _)| seen_own & bit(*i) == 0)
            .chain(
                common
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| seen_common & bit(*i) == 0),
            )
            .map(|(_, p)| p)
            .filter(|p| p.required && p.name != "type" && p.name != "id" && p.name != "extensions");
        for p in missing {
            self.report_at(
                Severity::Error,
                p.name,
                "required-property",
                format!("required property {} is missing", p.name),
            );
        }

        if category != Category::Sco {
            self.common_timestamps();
        }
        if let Some(spec) = spec {
            self.table_rules(spec, json);
            self.type_rules(spec);
        }
        if category == Category::Sco && self.opts.check_deterministic_ids {
            self.deterministic_id();
        }
    }

    /// Rules on common properties beyond their kind, checked during the walk.
    pub(super) fn common_value(&mut self, key: &str, value: &Value) {
        match (key, value) {
            // STIX 2.1 §3.2: objects written to this specification say "2.1".
            ("spec_version", Value::String(sv)) if sv != "2.1" => {
                self.error(
                    "spec-version-invalid",
                    format!("must be \"2.1\", not {sv:?}"),
                );
            }
            // STIX 2.1 §3.2: lang is an RFC 5646 language tag.
            ("lang", Value::String(lang)) if !is_language_tag(lang) => {
                self.error(
                    "lang-invalid",
                    format!("{lang:?} is not an RFC 5646 language tag"),
                );
            }
            _ => {}
        }
    }

    /// A valid top-level timestamp property recorded during the walk.
    pub(super) fn stamp(&self, name: &str) -> Option<Timestamp> {
        self.stamps
            .iter()
            .flatten()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }

    /// STIX 2.1 §2.9: `id` MUST be `type--UUID` with an RFC 4122 UUID; non-SCOs SHOULD
    /// use UUIDv4.
    pub(super) fn check_id(&mut self, type_name: Option<&str>, category: Category) {
        match self.obj.json().get("id") {
            None => self.report_at(
                Severity::Error,
                "id",
                "required-property",
                "required property id is missing",
            ),
            Some(Value::String(id)) => match parse_identifier(id) {
                Err(e) => self.report_at(Severity::Error, "id", "id-invalid", e.to_string()),
                Ok(parsed) => {
                    if let Some(t) = type_name
                        && parsed.type_name != t
                    {
                        self.report_at(
                            Severity::Error,
                            "id",
                            "id-type-mismatch",
                            format!(
                                "id names type {:?} but the object is a {t:?}",
                                parsed.type_name
                            ),
                        );
                    }
                    // §2.9: SDOs, SROs, meta objects and bundles SHOULD use UUIDv4.
                    if category != Category::Sco && parsed.uuid.get_version_num() != 4 {
                        self.report_at(
                            Severity::Warning,
                            "id",
                            "id-not-uuidv4",
                            format!(
                                "SHOULD use a UUIDv4, not a version {} UUID",
                                parsed.uuid.get_version_num()
                            ),
                        );
                    }
                }
            },
            Some(other) => self.report_at(
                Severity::Error,
                "id",
                "property-type",
                format!("must be a string, not {}", json_kind(other)),
            ),
        }
    }

    /// STIX 2.1 §3.2: `created`/`modified` are precise to the millisecond, and
    /// `modified` is not before `created`.
    pub(super) fn common_timestamps(&mut self) {
        for name in ["created", "modified"] {
            if let Some(ts) = self.stamp(name)
                && !ts.has_millisecond_precision()
            {
                self.report_at(
                    Severity::Error,
                    name,
                    "timestamp-millisecond-precision",
                    "must be precise to at least the millisecond (3 fractional digits)",
                );
            }
        }
        if let (Some(c), Some(m)) = (self.stamp("created"), self.stamp("modified"))
            && m.cmp_instant(&c).is_lt()
        {
            self.report_at(
                Severity::Error,
                "modified",
                "modified-after-created",
                "must not be earlier than created",
            );
        }
    }

    /// Orderings and "at least one of" groups from the type's table.
    pub(super) fn table_rules(&mut self, spec: &'static TypeSpec, json: &Map<String, Value>) {
        for order in spec.order {
            let (Some(a), Some(b)) = (self.stamp(order.earlier), self.stamp(order.later)) else {
                continue;
            };
            let bad = if order.strict {
                b.cmp_instant(&a).is_le()
            } else {
                b.cmp_instant(&a).is_lt()
            };
            if bad {
                let relation = if order.strict {
                    "later than"
                } else {
                    "later than or equal to"
                };
                self.report_at(
                    Severity::Error,
                    order.later,
                    order.rule,
                    format!("must be {relation} {}", order.earlier),
                );
            }
        }
        self.one_of(spec.one_of, json);
    }

    pub(super) fn one_of(&mut self, groups: &[&[&str]], json: &Map<String, Value>) {
        for group in groups {
            if !group.iter().any(|p| json.contains_key(*p)) {
                self.error(
                    "at-least-one-property",
                    format!("at least one of {} must be present", group.join(", ")),
                );
            }
        }
    }

    /// Checks a value against its kind.
    pub(super) fn value(&mut self, value: &'o Value, kind: Kind) {
        match kind {
            Kind::One(s) => self.scalar(value, s),
            Kind::List(s) => match value {
                Value::Array(items) => {
                    // STIX 2.1 §2.12: empty lists are prohibited.
                    if items.is_empty() {
                        self.error("empty-list", "must not be an empty list");
                    }
                    for (i, item) in items.iter().enumerate() {
                        self.path.push(Seg::Index(i));
                        self.scalar(item, s);
                        self.path.pop();
                    }
                }
                other => self.error(
                    "property-type",
                    format!("must be a list, not {}", json_kind(other)),
                ),
            },
        }
    }

    pub(super) fn type_error(&mut self, expected: &str, value: &Value) {
        self.error(
            "property-type",
            format!("must be {expected}, not {}", json_kind(value)),
        );
    }

    pub(super) fn scalar(&mut self, value: &'o Value, scalar: Scalar) {
        match scalar {
            Scalar::Any => {}
            Scalar::String => {
                if !value.is_string() {
                    self.type_error("a string", value);
                }
            }
            Scalar::Boolean => {
                if !value.is_boolean() {
                    self.type_error("a boolean", value);
                }
            }
            Scalar::Integer { min, max } => match value {
                Value::Number(n) if n.is_i64() || n.is_u64() => {
                    let ok = n.as_i64().is_some_and(|i| (min..=max).contains(&i));
                    if !ok {
                        self.error(
                            "value-out-of-range",
                            format!("must be between {min} and {max}, not {n}"),
                        );
                    }
                }
                other => self.type_error("an integer", other),
            },
            Scalar::Float { min, max } => match value.as_f64() {
                Some(f) if (min..=max).contains(&f) => {}
                Some(f) => self.error(
                    "value-out-of-range",
                    format!("must be between {min} and {max}, not {f}"),
                ),
                None => self.type_error("a number", value),
            },
            Scalar::Timestamp => match value {
                Value::String(s) => match Timestamp::parse(s) {
                    Err(e) => self.error("timestamp-invalid", format!("{s:?}: {e}")),
                    Ok(ts) => {
                        if let [Seg::Key(name)] = self.path[..]
                            && let Some(slot) = self.stamps.iter_mut().find(|s| s.is_none())
                        {
                            *slot = Some((name, ts));
                        }
                    }
                },
                other => self.type_error("a timestamp string", other),
            },
            Scalar::Binary => match value {
                Value::String(s) => {
                    if BASE64.decode(s).is_err() {
                        self.error("binary-invalid", "must be base64 (RFC 4648 §4)");
                    }
                }
                other => self.type_error("a base64 string", other),
            },
            Scalar::Hex => match value {
                Value::String(s) => {
                    if !is_hex(s) {
                        self.error(
                            "hex-invalid",
                            "must be an even number of hexadecimal digits",
                        );
                    }
                }
                other => self.type_error("a hex string", other),
            },
            Scalar::Identifier(targets) => match value {
                Value::String(s) => self.identifier(s, targets),
                other => self.type_error("an identifier string", other),
            },
            Scalar::Vocab(v) => match value {
                Value::String(s) => self.vocab_value(s, v),
                other => self.type_error("a string", other),
            },
            Scalar::Hashes => self.hashes(value),
            Scalar::Dictionary => self.dictionary(value),
            Scalar::Object(props) => match value {
                Value::Object(map) => self.embedded(map, props),
                other => self.type_error("an object", other),
            },
        }
    }

    pub(super) fn identifier(&mut self, s: &str, targets: Targets) {
        match parse_identifier(s) {
            Err(e) => self.error("identifier-invalid", format!("{s:?}: {e}")),
            Ok(id) => {
                if !target_ok(targets, id.type_name) {
                    self.error(
                        "ref-target-type",
                        format!(
                            "must refer to {}, not a {}",
                            describe_targets(targets),
                            id.type_name
                        ),
                    );
                }
            }
        }
    }

    pub(super) fn vocab_value(&mut self, s: &str, v: &'static Vocab) {
        if v.contains(s) {
            return;
        }
        if v.closed {
            self.error(
                "vocab-closed-value",
                format!("{s:?} is not a value of {}", v.name),
            );
        } else {
            self.warn(
                "vocab-open-value",
                format!("{s:?} is not in {} (allowed, but SHOULD use it)", v.name),
            );
        }
    }

    /// STIX 2.1 §2.7 hashes, with algorithm names from hashing-algorithm-ov (§10).
    pub(super) fn hashes(&mut self, value: &'o Value) {
        let Value::Object(map) = value else {
            return self.type_error("a hashes dictionary", value);
        };
        if map.is_empty() {
            self.error("empty-dictionary", "must not be an empty dictionary");
        }
        for (alg, hash) in map {
            self.path.push(Seg::Key(alg));
            match hash {
                Value::String(h) => {
                    if let Some(len) = hash_hex_len(alg) {
                        if h.len() != len || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                            self.error(
                                "hash-value-invalid",
                                format!("{alg} must be {len} hexadecimal digits"),
                            );
                        }
                    } else if vocab::HASHING_ALGORITHM.contains(alg) {
                        // SSDEEP and TLSH have no fixed shape.
                    } else if self.in_external_ref {
                        // STIX 2.1 §2.5: external-reference hashes use only the
                        // hashing-algorithm-ov names.
                        self.error(
                            "hash-key-invalid",
                            format!("{alg:?} is not in hashing-algorithm-ov (required in external references)"),
                        );
                    } else if let Some(canon) = vocab::HASHING_ALGORITHM.values.iter().find(|k| {
                        k.replace('-', "")
                            .eq_ignore_ascii_case(&alg.replace('-', ""))
                    }) {
                        self.warn(
                            "hash-algorithm-name",
                            format!("{alg:?} SHOULD be written {canon:?}"),
                        );
                    } else if !(3..=250).contains(&alg.len()) || !is_dictionary_key(alg) {
                        self.error(
                            "hash-key-invalid",
                            format!("{alg:?} is not a valid custom hash name"),
                        );
                    } else {
                        self.warn(
                            "hash-algorithm-custom",
                            format!("{alg:?} is not in hashing-algorithm-ov"),
                        );
                    }
                }
                other => self.type_error("a string", other),
            }
            self.path.pop();
        }
    }

    /// STIX 2.1 §2.3 dictionary.
    pub(super) fn dictionary(&mut self, value: &'o Value) {
        let Value::Object(map) = value else {
            return self.type_error("a dictionary", value);
        };
        if map.is_empty() {
            self.error("empty-dictionary", "must not be an empty dictionary");
        }
        for key in map.keys() {
            if !is_dictionary_key(key) {
                self.path.push(Seg::Key(key));
                self.error(
                    "dictionary-key-invalid",
                    "dictionary keys are 1-250 ASCII letters, digits, '_' or '-'",
                );
                self.path.pop();
            }
        }
    }

    /// An embedded structured value (external reference, kill-chain phase, ...).
    pub(super) fn embedded(&mut self, map: &'o Map<String, Value>, props: &'static [PropSpec]) {
        let is_ext_ref = std::ptr::eq(props, spec::EXTERNAL_REFERENCE.as_slice());
        let outer = std::mem::replace(&mut self.in_external_ref, is_ext_ref);
        let mut seen = 0u64;
        for (key, value) in map {
            self.path.push(Seg::Key(key));
            match props.iter().position(|p| name_eq(p.name, key)) {
                Some(i) => {
                    seen |= bit(i);
                    self.value(value, props[i].kind);
                }
                None => self.custom_property(key, value),
            }
            self.path.pop();
        }
        self.in_external_ref = outer;
        for (i, p) in props.iter().enumerate() {
            if p.required && seen & bit(i) == 0 {
                self.report_at(
                    Severity::Error,
                    p.name,
                    "required-property",
                    format!("required property {} is missing", p.name),
                );
            }
        }
        if is_ext_ref {
            self.external_reference(map, seen);
        } else if std::ptr::eq(props, spec::GRANULAR_MARKING.as_slice()) {
            self.granular_marking(map);
        } else if std::ptr::eq(props, spec::KILL_CHAIN_PHASE.as_slice()) {
            self.kill_chain_phase(map);
        } else if std::ptr::eq(props, spec::EMAIL_MIME_PART.as_slice()) {
            // STIX 2.1 §6.6: exactly one of body and body_raw_ref.
            if map.contains_key("body") == map.contains_key("body_raw_ref") {
                self.error(
                    "mime-part-body",
                    "exactly one of body and body_raw_ref must be present",
                );
            }
        } else if std::ptr::eq(props, spec::WINDOWS_REGISTRY_VALUE.as_slice()) && map.is_empty() {
            self.error(
                "at-least-one-property",
                "at least one of name, data, data_type must be present",
            );
        }
    }

    /// STIX 2.1 §2.5 external-reference.
    pub(super) fn external_reference(&mut self, map: &'o Map<String, Value>, seen: u64) {
        // Rows 1, 2 and 4 of the table: description, url, external_id.
        if seen & (bit(1) | bit(2) | bit(4)) == 0 {
            self.error(
                "at-least-one-property",
                "at least one of description, url, external_id must be present",
            );
        }
        let source = map.get("source_name").and_then(Value::as_str);
        let (prefix, what) = match source {
            Some("capec") => ("CAPEC-", "CAPEC-[id]"),
            Some("cve") => ("CVE-", "CVE-YYYY-NNNN"),
            _ => return,
        };
        match map.get("external_id").and_then(Value::as_str) {
            None => self.error(
                "external-id-missing",
                format!(
                    "a {} reference must carry an external_id",
                    source.unwrap_or_default()
                ),
            ),
            Some(id) => {
                let ok = match id.strip_prefix(prefix) {
                    Some(rest) if prefix == "CAPEC-" => {
                        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())
                    }
                    Some(rest) => is_cve_suffix(rest),
                    None => false,
                };
                if !ok {
                    self.report_at(
                        Severity::Error,
                        "external_id",
                        "external-id-format",
                        format!("{id:?} is not of the form {what}"),
                    );
                }
            }
        }
    }

    /// STIX 2.1 §2.11: kill chain and phase names SHOULD be lowercase with hyphens.
    pub(super) fn kill_chain_phase(&mut self, map: &'o Map<String, Value>) {
        for key in ["kill_chain_name", "phase_name"] {
            if let Some(s) = map.get(key).and_then(Value::as_str)
                && !s
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                self.report_at(
                    Severity::Warning,
                    key,
                    "kill-chain-phase-format",
                    "SHOULD be lowercase with hyphens",
                );
            }
        }
    }

    /// STIX 2.1 §7.2.3: exactly one of marking_ref and lang; every selector resolves.
    pub(super) fn granular_marking(&mut self, map: &'o Map<String, Value>) {
        if map.contains_key("marking_ref") == map.contains_key("lang") {
            self.error(
                "granular-marking-ref-or-lang",
                "exactly one of marking_ref and lang must be present",
            );
        }
        if let Some(lang) = map.get("lang").and_then(Value::as_str)
            && !is_language_tag(lang)
        {
            self.report_at(
                Severity::Error,
                "lang",
                "lang-invalid",
                format!("{lang:?} is not an RFC 5646 language tag"),
            );
        }
        let Some(Value::Array(selectors)) = map.get("selectors") else {
            return;
        };
        for (i, sel) in selectors.iter().enumerate() {
            let Some(sel) = sel.as_str() else { continue };
            if resolve_selector(self.obj.json(), sel).is_none() {
                self.path.push(Seg::Key("selectors"));
                self.path.push(Seg::Index(i));
                self.error(
                    "granular-selector-unresolved",
                    format!("selector {sel:?} does not name content of this object"),
                );
                self.path.pop();
                self.path.pop();
            }
        }
    }

    /// A property no table knows: a custom property (STIX 2.1 §11.1).
    pub(super) fn custom_property(&mut self, key: &str, value: &'o Value) {
        if !is_custom_property_name(key) {
            self.error(
                "custom-property-name",
                format!("custom property name {key:?} must be 3-250 characters of a-z, 0-9 and '_', starting with a letter"),
            );
        }
        // STIX 2.1 §3.1: properties named *_ref / *_refs hold identifiers. For custom
        // properties this is reported as a warning: real feeds (MITRE ATT&CK ICS) carry
        // empty `x_mitre_data_source_ref` strings, and the value is opaque to STIX.
        let is_id = |v: &Value| v.as_str().is_some_and(|s| parse_identifier(s).is_ok());
        let ok = if key.ends_with("_ref") {
            is_id(value)
        } else if key.ends_with("_refs") {
            value
                .as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(is_id))
        } else {
            true
        };
        if !ok {
            self.warn(
                "custom-ref-invalid",
                "properties named *_ref / *_refs SHOULD hold identifiers",
            );
        }
    }

    /// STIX 2.1 §3.2 `extensions` and §7.3 extension definitions.
    pub(super) fn extensions(&mut self, value: &'o Value, type_name: &str) {
        let Value::Object(map) = value else {
            return self.type_error("an object", value);
        };
        if map.is_empty() {
            self.error("empty-dictionary", "must not be an empty dictionary");
        }
        for (key, ext) in map {
            self.path.push(Seg::Key(key));
            let Value::Object(body) = ext else {
                self.type_error("an object", ext);
                self.path.pop();
                continue;
            };
            if key.starts_with("extension-definition--") {
                if !parse_identifier(key).is_ok_and(|id| id.type_name == "extension-definition") {
                    self.error(
                        "extension-key-invalid",
                        format!("{key:?} is not an extension-definition id"),
                    );
                }
                match body.get("extension_type") {
                    None => self.warn(
                        "extension-type-missing",
                        "extension_type SHOULD say how the extension is used",
                    ),
                    Some(t) => {
                        self.path.push(Seg::Key("extension_type"));
                        self.scalar(t, Scalar::Vocab(&vocab::EXTENSION_TYPE));
                        self.path.pop();
                    }
                }
            } else if let Some(ext_spec) = spec::predefined_extension(type_name, key) {
                for (k, v) in body {
                    self.path.push(Seg::Key(k));
                    match ext_spec.props.iter().find(|p| p.name == k) {
                        Some(p) => self.value(v, p.kind),
                        None => self.custom_property(k, v),
                    }
                    self.path.pop();
                }
                for p in ext_spec.props {
                    if p.required && !body.contains_key(p.name) {
                        self.report_at(
                            Severity::Error,
                            p.name,
                            "required-property",
                            format!("required property {} is missing", p.name),
                        );
                    }
                }
                self.one_of(ext_spec.one_of, body);
            } else if spec::is_predefined_extension_name(key) {
                self.error(
                    "extension-key-invalid",
                    format!("{key} is not an extension of {type_name}"),
                );
            } else if key.ends_with("-ext") {
                self.warn(
                    "extension-key-deprecated",
                    "custom extensions named *-ext are deprecated; use an extension-definition",
                );
            } else {
                self.error(
                    "extension-key-invalid",
                    "extension keys must be extension-definition ids or predefined extension names",
                );
            }
            self.path.pop();
        }
    }
}
