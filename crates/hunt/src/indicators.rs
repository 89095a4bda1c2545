//! Loading STIX indicators for a hunt.
//!
//! From any document `stix::parse_document` accepts (one object, an array, a bundle,
//! NDJSON), every `indicator` (STIX 2.1 §4.7) is considered:
//! * only `pattern_type: "stix"` is hunted; others are skipped and counted;
//! * of several versions of one id the latest `modified` wins (§3.6: versions share the id;
//!   the newest is the current one), and a latest version that is `revoked` is skipped
//!   (§3.6.3: a revoked object must no longer be used) — an older, unrevoked version does not
//!   come back;
//! * the pattern is parsed (`pattern_version` `2.0` or `2.1`, default 2.1) and compiled by
//!   the `matcher` crate; a pattern that does not compile is skipped and counted;
//! * an indicator whose equality constants are on a MISP warninglist is suppressed and
//!   counted (see [`crate::warninglist`]);
//! * `valid_from` / `valid_until` are kept and applied per event by [`Indicator::valid_at`].

use std::collections::HashMap;

use crate::Error;
use crate::warninglist::Warninglists;
use pattern::ast::{ComparisonExpr, Literal, ObservationExpr, Op, Rhs};

/// One indicator ready to hunt with: what an engine needs to compile it and an alert needs
/// to name it. The compiled form lives in the engine, so that a million loaded indicators
/// cost their text only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// The indicator's id.
    pub id: String,
    /// Its `name`, when it has one.
    pub name: Option<String>,
    /// The pattern text.
    pub pattern: String,
    /// `pattern_version` (`2.0` or `2.1`; `None` means 2.1).
    pub pattern_version: Option<String>,
    /// `valid_from` as written (STIX 2.1 §4.7), inclusive.
    pub valid_from: Option<String>,
    /// `valid_until` as written; exclusive: "no longer considered valid" from then.
    pub valid_until: Option<String>,
}

impl Indicator {
    /// The pattern grammar that applies.
    pub fn version(&self) -> pattern::StixVersion {
        // Loading refused versions the pattern crate does not implement.
        pattern::StixVersion::from_pattern_version(self.pattern_version.as_deref())
            .unwrap_or_default()
    }

    /// The validity window as instants (unparseable bounds were refused at loading).
    pub fn window(&self) -> (Option<jiff::Timestamp>, Option<jiff::Timestamp>) {
        let t = |s: &Option<String>| {
            s.as_deref()
                .and_then(|v| stix::Timestamp::parse(v).ok())
                .map(|t| t.instant())
        };
        (t(&self.valid_from), t(&self.valid_until))
    }
}

/// What loading kept and what it skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Indicators kept.
    pub loaded: u64,
    /// Indicators whose `pattern_type` is not `stix`.
    pub not_stix: u64,
    /// Indicators whose latest version is revoked.
    pub revoked: u64,
    /// Older versions dropped for a newer one.
    pub superseded: u64,
    /// Patterns that do not parse or compile.
    pub invalid: u64,
    /// Indicators suppressed because a value is on a warninglist.
    pub suppressed: u64,
    /// Suppressions per warninglist name.
    pub suppressed_by: HashMap<String, u64>,
    /// Objects of other types (ignored).
    pub other_objects: u64,
}

/// Loads the indicators of a STIX document (`source_name` names it in messages).
pub fn load(
    bytes: &[u8],
    source_name: &str,
    warninglists: Option<&Warninglists>,
) -> Result<(Vec<Indicator>, LoadReport), Error> {
    let objects = stix::parse_document(bytes).map_err(|e| Error::Indicators {
        source_name: source_name.to_owned(),
        message: e.to_string(),
    })?;
    let mut report = LoadReport::default();
    // Latest version per id, keeping first-seen order for deterministic output.
    let mut order: Vec<String> = Vec::new();
    let mut latest: HashMap<String, stix::StixObject> = HashMap::new();
    for o in objects {
        if o.type_name() != Some("indicator") {
            report.other_objects += 1;
            continue;
        }
        let Some(id) = o.id().map(str::to_owned) else {
            report.invalid += 1;
            continue;
        };
        match latest.get(&id) {
            None => {
                order.push(id.clone());
                latest.insert(id, o);
            }
            Some(prev) => {
                report.superseded += 1;
                let newer = match (o.modified(), prev.modified()) {
                    (Some(a), Some(b)) => a.cmp_instant(&b).is_gt(),
                    (Some(_), None) => true,
                    _ => false,
                };
                if newer {
                    latest.insert(id, o);
                }
            }
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for id in order {
        let Some(o) = latest.remove(&id) else {
            continue;
        };
        if o.revoked() {
            report.revoked += 1;
            continue;
        }
        if o.str_prop("pattern_type") != Some("stix") {
            report.not_stix += 1;
            tracing::warn!(indicator = %id, "pattern_type is not stix; skipped");
            continue;
        }
        let Some(text) = o.str_prop("pattern") else {
            report.invalid += 1;
            continue;
        };
        let Some(version) =
            pattern::StixVersion::from_pattern_version(o.str_prop("pattern_version"))
        else {
            report.invalid += 1;
            tracing::warn!(indicator = %id, "pattern_version is not 2.0 or 2.1; skipped");
            continue;
        };
        // Compiled here only to refuse what no engine could evaluate; engines compile again
        // in their own form.
        let checked = pattern::parse(text, version)
            .map_err(|e| e.to_string())
            .and_then(|ast| {
                matcher::compile(&ast)
                    .map(|_| ast)
                    .map_err(|e| e.to_string())
            });
        let bad_time = ["valid_from", "valid_until"]
            .into_iter()
            .find(|k| o.get(k).is_some() && o.timestamp(k).is_none());
        let checked = match bad_time {
            Some(k) => Err(format!("{k} is not a STIX timestamp")),
            None => checked,
        };
        let ast = match checked {
            Ok(x) => x,
            Err(why) => {
                report.invalid += 1;
                tracing::warn!(indicator = %id, "pattern not usable: {why}");
                continue;
            }
        };
        if let Some(w) = warninglists
            && let Some(list) = constants(&ast).iter().find_map(|c| w.lookup(c))
        {
            report.suppressed += 1;
            *report.suppressed_by.entry(list.to_owned()).or_default() += 1;
            tracing::debug!(indicator = %id, list, "on a warninglist; suppressed");
            continue;
        }
        let raw = |name: &str| o.str_prop(name).map(str::to_owned);
        out.push(Indicator {
            name: raw("name"),
            pattern: text.to_owned(),
            pattern_version: raw("pattern_version"),
            valid_from: raw("valid_from"),
            valid_until: raw("valid_until"),
            id,
        });
        report.loaded += 1;
    }
    Ok((out, report))
}

/// The string constants a pattern compares for equality (`=` and `IN`, not negated): the
/// values a warninglist is checked against.
pub fn constants(p: &pattern::Pattern) -> Vec<&str> {
    fn obs<'a>(e: &'a ObservationExpr, out: &mut Vec<&'a str>) {
        match e {
            ObservationExpr::Observation { expr, .. } => cmp(expr, out),
            ObservationExpr::And { lhs, rhs, .. }
            | ObservationExpr::Or { lhs, rhs, .. }
            | ObservationExpr::FollowedBy { lhs, rhs, .. } => {
                obs(lhs, out);
                obs(rhs, out);
            }
            ObservationExpr::Qualified { expr, .. } => obs(expr, out),
        }
    }
    fn cmp<'a>(e: &'a ComparisonExpr, out: &mut Vec<&'a str>) {
        match e {
            ComparisonExpr::And { lhs, rhs, .. } | ComparisonExpr::Or { lhs, rhs, .. } => {
                cmp(lhs, out);
                cmp(rhs, out);
            }
            ComparisonExpr::Comparison(c) if !c.negated => match (&c.op, &c.rhs) {
                (Op::Eq, Rhs::Literal(Literal::String(s))) => out.push(s),
                (Op::In, Rhs::Set(items)) => out.extend(items.iter().filter_map(|l| match l {
                    Literal::String(s) => Some(s.as_str()),
                    _ => None,
                })),
                _ => {}
            },
            _ => {}
        }
    }
    let mut out = Vec::new();
    obs(&p.root, &mut out);
    out
}
