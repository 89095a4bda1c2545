//! Validation of STIX 2.1 objects against the specification's rules.
//!
//! Almost everything is driven by the property tables in [`crate::spec`] and
//! [`crate::types`]: property kinds, required properties, reference targets, vocabularies,
//! timestamp orderings and "at least one of" groups. What the tables cannot express
//! (co-constraints such as "`body` only if not multipart", markings, hashes, external
//! references) is checked by small functions in `special.rs` and `walk.rs`, each citing
//! its section.
//!
//! A MUST that is broken is a [`Severity::Error`]; a SHOULD, an open-vocabulary value or
//! a deprecated construct is a [`Severity::Warning`]. Every diagnostic names the object,
//! a JSON pointer into it and a stable rule code.
//!
//! Code map: this file holds the public types and the document-level rules;
//! `walk.rs` walks one object along its tables; `special.rs` holds the per-type rules
//! the tables cannot express (and markings); `formats.rs` the pure string checks.

mod formats;
mod special;
mod walk;

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use crate::object::{Location, StixObject};
use crate::spec::{Category, Targets};
use crate::timestamp::Timestamp;
use crate::types;

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
}
