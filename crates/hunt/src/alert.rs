//! Alert lines: one JSON object per (event, indicator) match.
//!
//! ```json
//! {"indicator": "indicator--…", "name": "…", "source": {"file": "dns.log", "line": 12},
//!  "time": "2018-03-24T17:15:20.865716Z",
//!  "matched": [{"path": "domain-name:value", "value": "evil.example"}]}
//! ```
//!
//! `matched` is read off the matcher's binding: for every bound observation expression, the
//! comparisons inside it are resolved on the root SCOs that satisfied it, and the values found
//! are listed with the object path as written in the pattern. For `=` and `IN` only the
//! values that equal a constant are listed; for other operators every value at the path.

use pattern::ast::{ComparisonExpr, Literal, ObservationExpr, Op, PathStep, Rhs, Span};
use serde::Serialize;
use serde_json::Value;

use crate::engine::{Hit, IndicatorInfo};
use crate::event::Event;

/// Where the matched record is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertSource {
    /// The input file.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
}

/// One matched value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matched {
    /// The object path as written in the pattern, e.g. `domain-name:value`.
    pub path: String,
    /// The value found there in the event.
    pub value: Value,
}

/// One alert line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The indicator's id.
    pub indicator: String,
    /// The indicator's name (`null` without one).
    pub name: Option<String>,
    /// Where the record is.
    pub source: AlertSource,
    /// The record's time (STIX timestamp, UTC).
    pub time: String,
    /// The values that matched.
    pub matched: Vec<Matched>,
}

impl Alert {
    /// The alert for `hit` on `event`. Only SCOs of `event` are looked at: an entry of a
    /// binding across events that refers to an earlier event lists nothing.
    pub fn new(indicator: IndicatorInfo<'_>, hit: &Hit, event: &Event) -> Alert {
        let mut matched = Vec::new();
        // Hits are few; parsing the pattern again here keeps no tree per indicator.
        let ast = pattern::parse(indicator.pattern, pattern::StixVersion::V21)
            .or_else(|_| pattern::parse(indicator.pattern, pattern::StixVersion::V20))
            .ok();
        for entry in &hit.binding.entries {
            let Some(expr) = ast
                .as_ref()
                .and_then(|a| find_observation(&a.root, entry.expression))
            else {
                continue;
            };
            let mut comparisons = Vec::new();
            collect(expr, &mut comparisons);
            for root in &entry.roots {
                let Some(sco) = event.sco(root) else { continue };
                let sco_type = sco.get("type").and_then(Value::as_str).unwrap_or("");
                for c in &comparisons {
                    if c.path.object_type != sco_type {
                        continue;
                    }
                    let path_text = indicator
                        .pattern
                        .get(c.path.span.start..c.path.span.end)
                        .unwrap_or(&c.path.object_type)
                        .to_owned();
                    let mut values = Vec::new();
                    resolve(event, sco, &c.path.steps, &mut values);
                    for v in values {
                        if wanted(c, v) {
                            let m = Matched {
                                path: path_text.clone(),
                                value: v.clone(),
                            };
                            if !matched.contains(&m) {
                                matched.push(m);
                            }
                        }
                    }
                }
            }
        }
        Alert {
            indicator: indicator.id.to_owned(),
            name: indicator.name.map(str::to_owned),
            source: AlertSource {
                file: event.source.file.to_string(),
                line: event.source.line,
            },
            time: event.time.to_string(),
            matched,
        }
    }
}

/// The `[ … ]` expression with this span.
fn find_observation(e: &ObservationExpr, span: Span) -> Option<&ComparisonExpr> {
    match e {
        ObservationExpr::Observation { expr, span: s } => (*s == span).then_some(expr),
        ObservationExpr::And { lhs, rhs, .. }
        | ObservationExpr::Or { lhs, rhs, .. }
        | ObservationExpr::FollowedBy { lhs, rhs, .. } => {
            find_observation(lhs, span).or_else(|| find_observation(rhs, span))
        }
        ObservationExpr::Qualified { expr, .. } => find_observation(expr, span),
    }
}

/// The comparisons of a comparison expression.
fn collect<'a>(e: &'a ComparisonExpr, out: &mut Vec<&'a pattern::ast::Comparison>) {
    match e {
        ComparisonExpr::And { lhs, rhs, .. } | ComparisonExpr::Or { lhs, rhs, .. } => {
            collect(lhs, out);
            collect(rhs, out);
        }
        ComparisonExpr::Comparison(c) => out.push(c),
        ComparisonExpr::Exists { .. } => {}
    }
}

/// Whether `v` is worth listing for comparison `c`.
fn wanted(c: &pattern::ast::Comparison, v: &Value) -> bool {
    if c.negated {
        return matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    }
    let eq = |l: &Literal| match (l, v) {
        (Literal::String(s), Value::String(x)) => s == x,
        (Literal::Int(i), Value::Number(n)) => n.as_i64() == Some(*i),
        (Literal::Bool(b), Value::Bool(x)) => b == x,
        _ => false,
    };
    match (&c.op, &c.rhs) {
        (Op::Eq, Rhs::Literal(l)) => eq(l) || !matches!(l, Literal::String(_) | Literal::Int(_)),
        (Op::In, Rhs::Set(items)) => items.iter().any(eq),
        _ => !v.is_object() && !v.is_array(),
    }
}

/// The values at `steps` from `v`, following `*_ref(s)` within the event (STIX 2.1 §9.7.4).
fn resolve<'a>(event: &'a Event, v: &'a Value, steps: &[PathStep], out: &mut Vec<&'a Value>) {
    let Some((step, rest)) = steps.split_first() else {
        match v {
            Value::Array(items) => out.extend(items.iter().filter(|i| !i.is_array())),
            other => out.push(other),
        }
        return;
    };
    match step {
        PathStep::Property(name) => {
            let Some(next) = v.get(name) else { return };
            let is_ref = name.ends_with("_ref") || name.ends_with("_refs");
            if is_ref && !rest.is_empty() {
                match next {
                    Value::String(id) => {
                        if let Some(target) = event.sco(id) {
                            resolve(event, target, rest, out);
                        }
                    }
                    Value::Array(ids) => {
                        // `x_refs[0].value` / `x_refs[*].value`: the index applies to the
                        // list, then each id is followed.
                        let (first, after) = rest
                            .split_first()
                            .map_or((None, rest), |(f, a)| (Some(f), a));
                        let picked: Vec<&Value> = match first {
                            Some(PathStep::Index(i)) => ids.get(*i).into_iter().collect(),
                            Some(PathStep::AnyIndex) => ids.iter().collect(),
                            _ => Vec::new(),
                        };
                        for id in picked.into_iter().filter_map(Value::as_str) {
                            if let Some(target) = event.sco(id) {
                                resolve(event, target, after, out);
                            }
                        }
                    }
                    _ => {}
                }
            } else {
                resolve(event, next, rest, out);
            }
        }
        PathStep::Index(i) => {
            if let Some(item) = v.as_array().and_then(|a| a.get(*i)) {
                resolve(event, item, rest, out);
            }
        }
        PathStep::AnyIndex => {
            if let Some(items) = v.as_array() {
                for item in items {
                    resolve(event, item, rest, out);
                }
            }
        }
    }
}
