//! Validation of STIX 2.1 objects against the specification's rules.
//!
//! Almost everything is driven by the property tables in [`crate::spec`] and
//! [`crate::types`]: property kinds, required properties, reference targets, vocabularies,
//! timestamp orderings and "at least one of" groups. What the tables cannot express
//! (co-constraints such as "`body` only if not multipart", markings, hashes, external
//! references) is checked by small functions below, each citing its section.
//!
//! A MUST that is broken is a [`Severity::Error`]; a SHOULD, an open-vocabulary value or
//! a deprecated construct is a [`Severity::Warning`]. Every diagnostic names the object,
//! a JSON pointer into it and a stable rule code.

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::ids::{self, parse_identifier};
use crate::object::{Location, StixObject};
use crate::spec::{self, Category, Kind, PropSpec, Scalar, Targets, TypeSpec};
use crate::timestamp::Timestamp;
use crate::tlp::{self, TlpLevel};
use crate::types;
use crate::vocab::{self, Vocab};

/// Standard-alphabet base64 (RFC 4648 §4) that accepts non-zero trailing bits and
/// optional padding: producers such as the stix2 library emit both, and the bytes are
/// still unambiguous.
static BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// The signature of a pattern checker: `(pattern, pattern_version)` to `Ok` or a message.
pub type PatternChecker<'a> = &'a dyn Fn(&str, &str) -> Result<(), String>;

/// Knobs for validation.
#[derive(Clone, Copy)]
pub struct ValidateOptions<'a> {
    /// Callers' flag for treating warnings as errors; the library reports both kinds
    /// either way and leaves the decision to the caller.
    pub strict: bool,
    /// Checks indicator patterns with `pattern_type: "stix"` (rule `pattern-invalid`).
    /// It is a hook because this crate must not depend on the pattern crate.
    pub pattern_checker: Option<PatternChecker<'a>>,
    /// Whether to warn about SCO ids that differ from their deterministic id
    /// (rule `sco-id-not-deterministic`). On by default.
    pub check_deterministic_ids: bool,
}

impl Default for ValidateOptions<'_> {
    fn default() -> Self {
        ValidateOptions {
            strict: false,
            pattern_checker: None,
            check_deterministic_ids: true,
        }
    }
}

impl fmt::Debug for ValidateOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidateOptions")
            .field("strict", &self.strict)
            .field("pattern_checker", &self.pattern_checker.is_some())
            .field("check_deterministic_ids", &self.check_deterministic_ids)
            .finish()
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// A MUST of the specification is broken; the object must be refused.
    Error,
    /// A SHOULD is not met, or an open vocabulary is extended; the object is acceptable.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One finding about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The object's `id`, or `<no id>`.
    pub object_id: String,
    /// RFC 6901 JSON pointer into the object; empty for the whole object.
    pub pointer: String,
    /// Stable kebab-case rule code, e.g. `valid-until-after-valid-from`.
    pub rule: &'static str,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// Where the object starts in its document.
    pub location: Location,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {} [{}]",
            self.object_id, self.pointer, self.message, self.rule
        )
    }
}

/// A step of a JSON pointer.
#[derive(Debug, Clone, Copy)]
enum Seg<'o> {
    Key(&'o str),
    Index(usize),
}

/// Renders a path as an RFC 6901 pointer (`~` as `~0`, `/` as `~1`).
fn render_pointer(path: &[Seg<'_>]) -> String {
    let mut s = String::new();
    for seg in path {
        s.push('/');
        match seg {
            Seg::Key(k) => {
                for c in k.chars() {
                    match c {
                        '~' => s.push_str("~0"),
                        '/' => s.push_str("~1"),
                        c => s.push(c),
                    }
                }
            }
            Seg::Index(i) => s.push_str(&i.to_string()),
        }
    }
    s
}

struct Validator<'o, 'r, 'p> {
    obj: &'o StixObject,
    opts: &'r ValidateOptions<'p>,
    out: &'r mut Vec<Diagnostic>,
    path: Vec<Seg<'o>>,
    /// Inside an external reference, whose hash names are a closed set (STIX 2.1 §2.5).
    in_external_ref: bool,
    /// Valid top-level timestamps seen while walking the object, so the ordering rules
    /// need neither a second lookup nor a second parse.
    stamps: [Option<(&'o str, Timestamp)>; MAX_STAMPS],
}

/// More top-level timestamps than any STIX 2.1 type has (network-traffic: start, end).
const MAX_STAMPS: usize = 8;

/// Property-name equality with a cheap first-byte test before the byte comparison: most
/// table rows differ from the key in length or first letter.
#[inline]
fn name_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// Bit `i` of a presence mask; tables have fewer than 64 rows (checked by a test).
#[inline]
fn bit(i: usize) -> u64 {
    1u64.checked_shl(i as u32).unwrap_or(0)
}

/// Validates one object on its own. Returns errors and warnings, errors first.
pub fn validate_object(obj: &StixObject, opts: &ValidateOptions<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    validate_into(obj, opts, &mut out);
    out.sort_by_key(|d| d.severity);
    out
}

/// Validates every object of a document, plus the rules that span objects: an object
/// version (`id` + `modified`) given twice with different content, and extensions used
/// with an `extension_type` their definition (in the same document) does not declare.
pub fn validate_document(objs: &[StixObject], opts: &ValidateOptions<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // TAXII 2.1 §3.4.1 / STIX 2.1 §3.6: an object version is identified by id and
    // modified; two different contents for one version cannot both be right. Checked in
    // the same pass as each object's own rules, while the object is still in cache
    // (a separate pass measured at a third of validation time).
    let mut seen: HashMap<(&str, Option<&str>), &StixObject> = HashMap::with_capacity(objs.len());
    let mut ext_defs: HashMap<&str, Vec<&str>> = HashMap::new();
    for obj in objs {
        validate_into(obj, opts, &mut out);
        let Some(id) = obj.id() else { continue };
        if obj.spec().is_some_and(|s| s.name == "extension-definition") {
            ext_defs.insert(id, obj.str_list("extension_types").collect());
        }
        let key = (id, obj.str_prop("modified"));
        if let Some(first) = seen.get(&key) {
            let (severity, rule, message) = if first.json() == obj.json() {
                (
                    Severity::Warning,
                    "duplicate-object",
                    format!(
                        "same object version appears again (first as object #{})",
                        first.location().index
                    ),
                )
            } else {
                (
                    Severity::Error,
                    "duplicate-object-version",
                    format!(
                        "same id and modified as object #{} but different content",
                        first.location().index
                    ),
                )
            };
            out.push(diag(obj, severity, rule, String::new(), message));
        } else {
            seen.insert(key, obj);
        }
    }
    // STIX 2.1 §7.3: an extension's use must match a type its definition declares.
    if !ext_defs.is_empty() {
        for obj in objs {
            let Some(exts) = obj.extensions() else {
                continue;
            };
            for (k, v) in exts {
                let (Some(declared), Some(used)) = (
                    ext_defs.get(k.as_str()),
                    v.get("extension_type").and_then(Value::as_str),
                ) else {
                    continue;
                };
                if !declared.contains(&used) {
                    out.push(diag(
                        obj,
                        Severity::Error,
                        "extension-type-mismatch",
                        render_pointer(&[
                            Seg::Key("extensions"),
                            Seg::Key(k),
                            Seg::Key("extension_type"),
                        ]),
                        format!("{used:?} is not among the extension_types of {k}"),
                    ));
                }
            }
        }
    }
    // Document order, and errors before warnings within one object.
    out.sort_by_key(|d| (d.location.index, d.severity));
    out
}

fn diag(
    obj: &StixObject,
    severity: Severity,
    rule: &'static str,
    pointer: String,
    message: String,
) -> Diagnostic {
    debug_assert!(
        crate::rules::rule(rule).is_some_and(|r| r.severity == severity),
        "rule {rule} missing from the catalogue or reported with another severity"
    );
    Diagnostic {
        severity,
        object_id: obj.id().unwrap_or("<no id>").to_owned(),
        pointer,
        rule,
        message,
        location: obj.location(),
    }
}

fn validate_into(obj: &StixObject, opts: &ValidateOptions<'_>, out: &mut Vec<Diagnostic>) {
    let mut v = Validator {
        obj,
        opts,
        out,
        path: Vec::with_capacity(8),
        in_external_ref: false,
        stamps: [None; MAX_STAMPS],
    };
    v.object();
}

/// What a JSON value is, for messages.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Category of an object type as named in an identifier; `None` for unknown types.
fn category_of(type_name: &str) -> Option<Category> {
    types::spec_for(type_name).map(|s| s.category)
}

/// Does an identifier of `type_name` satisfy `targets`?
fn target_ok(targets: Targets, type_name: &str) -> bool {
    let cat = category_of(type_name);
    match targets {
        Targets::Types(list) => list.contains(&type_name),
        Targets::Sdo => matches!(cat, Some(Category::Sdo) | None),
        Targets::Sco => matches!(cat, Some(Category::Sco) | None),
        Targets::SdoOrSco => matches!(cat, Some(Category::Sdo | Category::Sco) | None),
        Targets::ScoOrSro => matches!(cat, Some(Category::Sco | Category::Sro) | None),
        Targets::Any => type_name != "bundle",
        Targets::NotLanguageContent => type_name != "bundle" && type_name != "language-content",
    }
}

fn describe_targets(targets: Targets) -> String {
    match targets {
        Targets::Types(list) => list.join(" or "),
        Targets::Sdo => "an SDO".into(),
        Targets::Sco => "an SCO".into(),
        Targets::SdoOrSco => "an SDO or SCO".into(),
        Targets::ScoOrSro => "an SCO or SRO".into(),
        Targets::Any => "a STIX object".into(),
        Targets::NotLanguageContent => "a STIX object other than language-content".into(),
    }
}

/// RFC 5646 language tag, shape only: primary subtag of 2–8 letters, then subtags of
/// 1–8 letters or digits (STIX 2.1 §3.2 `lang`).
fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let Some(first) = parts.next() else {
        return false;
    };
    let first_ok = (2..=8).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_alphabetic());
    // "i-" and "x-" grandfathered/private-use forms start with a single letter.
    let first_ok = first_ok || (first.len() == 1 && matches!(first, "x" | "i" | "X" | "I"));
    first_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Custom property names (STIX 2.1 §11.1): ASCII `a-z`, `0-9`, `_`, 3–250 characters,
/// starting with a letter.
fn is_custom_property_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=250).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// Dictionary keys (STIX 2.1 §2.3): ASCII letters, digits, `_` and `-`, at most 250.
fn is_dictionary_key(key: &str) -> bool {
    key.len() <= 250
        && !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// Hex digits of the known fixed-length hashes (STIX 2.1 §10.5 hashing-algorithm-ov).
fn hash_hex_len(alg: &str) -> Option<usize> {
    Some(match alg {
        "MD5" => 32,
        "SHA-1" => 40,
        "SHA-256" | "SHA3-256" => 64,
        "SHA-512" | "SHA3-512" => 128,
        _ => return None,
    })
}

fn is_hex(s: &str) -> bool {
    s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl<'o> Validator<'o, '_, '_> {
    fn report(&mut self, severity: Severity, rule: &'static str, message: impl Into<String>) {
        let pointer = render_pointer(&self.path);
        self.out
            .push(diag(self.obj, severity, rule, pointer, message.into()));
    }

    fn error(&mut self, rule: &'static str, message: impl Into<String>) {
        self.report(Severity::Error, rule, message);
    }

    fn warn(&mut self, rule: &'static str, message: impl Into<String>) {
        self.report(Severity::Warning, rule, message);
    }

    /// Reports at `self.path` + `key`.
    fn report_at(
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

    fn object(&mut self) {
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
    fn common_value(&mut self, key: &str, value: &Value) {
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
    fn stamp(&self, name: &str) -> Option<Timestamp> {
        self.stamps
            .iter()
            .flatten()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }

    /// STIX 2.1 §2.9: `id` MUST be `type--UUID` with an RFC 4122 UUID; non-SCOs SHOULD
    /// use UUIDv4.
    fn check_id(&mut self, type_name: Option<&str>, category: Category) {
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
    fn common_timestamps(&mut self) {
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
    fn table_rules(&mut self, spec: &'static TypeSpec, json: &Map<String, Value>) {
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

    fn one_of(&mut self, groups: &[&[&str]], json: &Map<String, Value>) {
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
    fn value(&mut self, value: &'o Value, kind: Kind) {
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

    fn type_error(&mut self, expected: &str, value: &Value) {
        self.error(
            "property-type",
            format!("must be {expected}, not {}", json_kind(value)),
        );
    }

    fn scalar(&mut self, value: &'o Value, scalar: Scalar) {
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

    fn identifier(&mut self, s: &str, targets: Targets) {
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

    fn vocab_value(&mut self, s: &str, v: &'static Vocab) {
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
    fn hashes(&mut self, value: &'o Value) {
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
    fn dictionary(&mut self, value: &'o Value) {
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
    fn embedded(&mut self, map: &'o Map<String, Value>, props: &'static [PropSpec]) {
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
    fn external_reference(&mut self, map: &'o Map<String, Value>, seen: u64) {
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
    fn kill_chain_phase(&mut self, map: &'o Map<String, Value>) {
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
    fn granular_marking(&mut self, map: &'o Map<String, Value>) {
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
    fn custom_property(&mut self, key: &str, value: &'o Value) {
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
    fn extensions(&mut self, value: &'o Value, type_name: &str) {
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

    /// Rules specific to one object type that the tables cannot express.
    fn type_rules(&mut self, spec: &'static TypeSpec) {
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
    fn marking_definition(&mut self) {
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
    fn deterministic_id(&mut self) {
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

/// An absolute URI: a scheme (RFC 3986 §3.1), `:`, then no whitespace or controls.
fn is_url(v: &str) -> bool {
    let Some((scheme, rest)) = v.split_once(':') else {
        return false;
    };
    let mut sb = scheme.bytes();
    sb.next().is_some_and(|b| b.is_ascii_alphabetic())
        && sb.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && !rest.is_empty()
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An addr-spec in shape: non-empty local part, `@`, a domain; no whitespace.
fn is_email(v: &str) -> bool {
    match v.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !v.chars().any(|c| c.is_whitespace() || c.is_control())
                && !domain.contains(['@', '/', ':'])
        }
        None => false,
    }
}

/// A domain name in shape: dot-separated labels of 1–63 bytes, at most 253 bytes,
/// no whitespace or URL punctuation. Internationalised labels and `_` are accepted.
fn is_domain_name(v: &str) -> bool {
    let name = v.strip_suffix('.').unwrap_or(v);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| (1..=63).contains(&l.len()))
        && !name.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '/' | ':' | '@' | '?' | '#' | '[' | ']')
        })
}

/// `type/subtype` made of RFC 6838 token characters, optionally with parameters.
fn is_mime_type(v: &str) -> bool {
    let essence = v.split(';').next().unwrap_or("").trim();
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    essence
        .split_once('/')
        .is_some_and(|(t, s)| token(t) && token(s))
}

/// `CVE-YYYY-NNNN…` after the prefix: four-digit year, then 4+ digits (no leading zero
/// when longer than four).
fn is_cve_suffix(rest: &str) -> bool {
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|b| b.is_ascii_digit())
        && (num.len() == 4 || !num.starts_with('0'))
}

fn is_ip_value(v: &str, v4: bool) -> bool {
    let (addr, prefix) = match v.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (v, None),
    };
    let max = if v4 { 32 } else { 128 };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 3
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| n <= max)
    });
    let addr_ok = if v4 {
        addr.parse::<std::net::Ipv4Addr>().is_ok()
    } else {
        addr.parse::<std::net::Ipv6Addr>().is_ok()
    };
    prefix_ok && addr_ok
}

fn is_mac(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 17
        && b.iter().enumerate().all(|(i, &c)| {
            if i % 3 == 2 {
                c == b':'
            } else {
                c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
            }
        })
}

/// Resolves a granular-marking selector (STIX 2.1 §7.2.3.1): property names separated
/// by `.`, list positions written `[n]`.
fn resolve_selector<'v>(root: &'v Map<String, Value>, selector: &str) -> Option<&'v Value> {
    let mut parts = selector.split('.');
    let first = parts.next()?;
    let mut cur = root.get(first)?;
    for part in parts {
        cur = if let Some(idx) = part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            let i: usize = idx.parse().ok()?;
            cur.as_array()?.get(i)?
        } else {
            cur.as_object()?.get(part)?
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_escaping() {
        assert_eq!(
            render_pointer(&[Seg::Key("a/b"), Seg::Index(2), Seg::Key("~x")]),
            "/a~1b/2/~0x"
        );
    }

    #[test]
    fn language_tags() {
        for ok in ["en", "en-US", "zh-Hant-TW", "x-klingon", "de-CH-1996"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in ["", "e", "en_US", "englishlanguage", "-en"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }

    #[test]
    fn cve_ids() {
        assert!(is_cve_suffix("2016-1234"));
        assert!(is_cve_suffix("2021-44228"));
        assert!(!is_cve_suffix("2021-04228"));
        assert!(!is_cve_suffix("21-1234"));
    }
}
