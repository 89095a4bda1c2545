//! The compiled multi-indicator matcher against the single-pattern evaluator.
//!
//! The property: on generated workloads (indicators over a small value universe with `=`,
//! `IN`, `LIKE`, `MATCHES`, `ISSUBSET`, unanchored operators, AND/OR inside and between
//! observations, `WITHIN`, `FOLLOWEDBY`, `REPEATS`; random event streams), a [`Stream`]
//! reports exactly the hits of an oracle that runs every indicator through the evaluator:
//! single-event patterns on every event, multi-event patterns over the retained window as
//! the `compiled` module docs define it (events satisfying one of its observation
//! expressions, expired by the overall `WITHIN` against the stream's high-water mark, at most
//! `max_retained`, a hit when the binding differs from the last one reported). A second
//! property checks the window rule itself: with a large count bound, a multi-event indicator
//! hits at some point exactly when the evaluator matches it over the whole stream.

use std::sync::Arc;

use jiff::Timestamp;
use matcher::compiled::{
    CompileOptions, CompiledMatcher, Event, Hit, Indicator, SkipReason, Stream, StreamOptions,
};
use matcher::{CompiledPattern, Observations};
use pattern::ast::{ObservationExpr, Pattern, Qualifier, StixVersion};
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// workload generation

const IPS: &[&str] = &[
    "10.0.0.1",
    "10.0.0.2",
    "10.0.1.5",
    "192.168.1.1",
    "1.2.3.4",
    "01.2.3.4",
    // IPv6: one address in two spellings, and one in another /16 block.
    "2001:db8::1",
    "2001:0db8:0:0::1",
    "2002::5",
];
const DOMAINS: &[&str] = &[
    "a.example",
    "b.example",
    "evil.test",
    "x.evil.test",
    // Non-ASCII, in NFC and in NFD (the evaluator's LIKE and MATCHES see both as NFC).
    "\u{e9}vil.test",
    "e\u{301}vil.test",
];
const URLS: &[&str] = &[
    "http://a.example/x",
    "http://evil.test/login",
    "https://b.example/",
];
const HASHES: &[&str] = &["AAAA", "aaaa", "bbbb"];

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn pick(list: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop::sample::select(list)
}

fn value_path() -> impl Strategy<Value = (&'static str, &'static [&'static str])> {
    prop_oneof![
        Just(("ipv4-addr:value", IPS)),
        Just(("domain-name:value", DOMAINS)),
        Just(("url:value", URLS)),
        Just(("file:hashes.'SHA-256'", HASHES)),
        Just(("network-traffic:dst_ref.value", IPS)),
        Just(("domain-name:resolves_to_refs[*].value", IPS)),
    ]
}

fn comparison() -> BoxedStrategy<String> {
    prop_oneof![
        4 => value_path().prop_flat_map(|(p, vals)| pick(vals).prop_map(move |v| format!("{p} = {}", q(v)))),
        2 => value_path().prop_flat_map(|(p, vals)| {
            prop::collection::vec(pick(vals), 1..4)
                .prop_map(move |vs| format!("{p} IN ({})", vs.iter().map(|v| q(v)).collect::<Vec<_>>().join(", ")))
        }),
        2 => (
            prop_oneof![Just("domain-name:value"), Just("url:value")],
            pick(&["%.example", "evil%", "%evil%", "http://%", "%", "_.example", "%/login", "%.test%"]),
        )
            .prop_map(|(p, l)| format!("{p} LIKE {}", q(l))),
        2 => (
            prop_oneof![Just("domain-name:value"), Just("url:value")],
            pick(&["^a\\.", "evil", "(login|x)$", "[ab]\\.example", "^https?:", "(?i)EVIL", "e.*t"]),
        )
            .prop_map(|(p, r)| format!("{p} MATCHES {}", q(r))),
        2 => (
            prop_oneof![Just("ipv4-addr:value"), Just("network-traffic:dst_ref.value")],
            pick(&["10.0.0.0/24", "10.0.0.0/16", "1.2.3.0/24", "0.0.0.0/0", "192.168.1.1/32"]),
        )
            .prop_map(|(p, c)| format!("{p} ISSUBSET {}", q(c))),
        1 => pick(&["80", "443", "443.0", "22"]).prop_map(|n| format!("network-traffic:dst_port = {n}")),
        1 => pick(&[
            "network-traffic:dst_port > 100",
            "domain-name:value != 'a.example'",
            "url:value NOT LIKE 'http://%'",
            "ipv4-addr:value NOT = '10.0.0.1'",
            "file:size <= 1",
        ])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

fn comparison_expr() -> BoxedStrategy<String> {
    prop_oneof![
        3 => comparison(),
        1 => (comparison(), comparison()).prop_map(|(a, b)| format!("{a} AND {b}")),
        1 => (comparison(), comparison()).prop_map(|(a, b)| format!("{a} OR {b}")),
        1 => (comparison(), comparison(), comparison())
            .prop_map(|(a, b, c)| format!("({a} OR {b}) AND {c}")),
    ]
    .boxed()
}

fn observation() -> impl Strategy<Value = String> {
    comparison_expr().prop_map(|c| format!("[{c}]"))
}

fn pattern_text() -> BoxedStrategy<String> {
    let op = prop_oneof![Just("AND"), Just("OR"), Just("FOLLOWEDBY")];
    let qual = prop_oneof![
        2 => Just(String::new()),
        2 => (1u32..20).prop_map(|s| format!(" WITHIN {s} SECONDS")),
        1 => Just(" REPEATS 2 TIMES".to_owned()),
        1 => (1u32..20).prop_map(|s| format!(" REPEATS 2 TIMES WITHIN {s} SECONDS")),
    ];
    prop_oneof![
        3 => (observation(), qual.clone()).prop_map(|(o, q)| format!("{o}{q}")),
        3 => (observation(), op.clone(), observation(), qual.clone())
            .prop_map(|(a, op, b, q)| format!("({a} {op} {b}){q}")),
        1 => (observation(), op.clone(), observation(), op, observation(), qual)
            .prop_map(|(a, o1, b, o2, c, q)| format!("(({a} {o1} {b}) {o2} {c}){q}")),
    ]
    .boxed()
}

fn indicator(i: usize) -> impl Strategy<Value = Indicator> {
    (pattern_text(), prop::option::weighted(0.15, 0u32..30)).prop_map(move |(p, from)| {
        let mut ind = Indicator::new(format!("indicator--{i}"), p);
        ind.valid_from = from.map(|s| stamp(s * 1000));
        ind
    })
}

fn stamp(ms: u32) -> String {
    let t = Timestamp::from_millisecond(1_704_067_200_000 + i64::from(ms)).unwrap_or_default();
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// One SCO template: (type, its properties); refs are filled in when the event is built.
#[derive(Debug, Clone)]
enum Sco {
    Ip(&'static str),
    Domain(&'static str, Option<&'static str>),
    Url(&'static str),
    File(&'static str, i64),
    Traffic(&'static str, u16),
}

fn sco() -> BoxedStrategy<Sco> {
    prop_oneof![
        pick(IPS).prop_map(Sco::Ip),
        (pick(DOMAINS), prop::option::of(pick(IPS))).prop_map(|(d, ip)| Sco::Domain(d, ip)),
        pick(URLS).prop_map(Sco::Url),
        (pick(HASHES), 0i64..3).prop_map(|(h, s)| Sco::File(h, s)),
        (pick(IPS), prop_oneof![Just(80u16), Just(443), Just(22)])
            .prop_map(|(ip, port)| Sco::Traffic(ip, port)),
    ]
    .boxed()
}

#[derive(Debug, Clone)]
struct Ev {
    /// Milliseconds after the base time.
    at: u32,
    span: u32,
    number: u64,
    scos: Vec<Sco>,
}

fn events() -> impl Strategy<Value = Vec<Ev>> {
    prop::collection::vec(
        (
            0u32..6000,
            prop_oneof![4 => Just(0u32), 1 => 0u32..3000],
            prop_oneof![5 => Just(1u64), 1 => Just(2u64)],
            prop::collection::vec(sco(), 1..4),
        ),
        1..14,
    )
    .prop_map(|steps| {
        let mut at = 0;
        steps
            .into_iter()
            .map(|(gap, span, number, scos)| {
                at += gap;
                Ev {
                    at,
                    span,
                    number,
                    scos,
                }
            })
            .collect()
    })
}

fn document(ev: &Ev) -> Value {
    let mut objects = Vec::new();
    let mut n = 0;
    let mut id = |t: &str| {
        n += 1;
        format!("{t}--00000000-0000-4000-8000-{n:012}")
    };
    let ip = |objects: &mut Vec<Value>, id: String, v: &str| {
        objects.push(json!({"type": "ipv4-addr", "id": id, "value": v}));
    };
    for s in &ev.scos {
        match s {
            Sco::Ip(v) => ip(&mut objects, id("ipv4-addr"), v),
            Sco::Domain(d, target) => {
                let mut o = json!({"type": "domain-name", "id": id("domain-name"), "value": d});
                if let Some(t) = target {
                    let tid = id("ipv4-addr");
                    o["resolves_to_refs"] = json!([tid]);
                    ip(&mut objects, tid, t);
                }
                objects.push(o);
            }
            Sco::Url(u) => objects.push(json!({"type": "url", "id": id("url"), "value": u})),
            Sco::File(h, size) => objects.push(json!({"type": "file", "id": id("file"),
                "hashes": {"SHA-256": h}, "size": size})),
            Sco::Traffic(dst, port) => {
                let tid = id("ipv4-addr");
                ip(&mut objects, tid.clone(), dst);
                objects.push(
                    json!({"type": "network-traffic", "id": id("network-traffic"),
                    "dst_ref": tid, "dst_port": port, "protocols": ["tcp"]}),
                );
            }
        }
    }
    let refs: Vec<Value> = objects.iter().map(|o| o["id"].clone()).collect();
    let mut items = vec![json!({
        "type": "observed-data", "id": "observed-data--00000000-0000-4000-8000-000000000000",
        "first_observed": stamp(ev.at), "last_observed": stamp(ev.at + ev.span),
        "number_observed": ev.number, "object_refs": refs,
    })];
    items.extend(objects);
    Value::Array(items)
}

// ---------------------------------------------------------------------------------------
// the oracle: every indicator through the evaluator

struct OracleInd {
    compiled: CompiledPattern,
    leaves: Vec<CompiledPattern>,
    single: bool,
    horizon: Option<i128>,
    valid_from: Option<Timestamp>,
    ring: Vec<(u64, usize)>,
    last: Option<Vec<(u64, usize, usize)>>,
}

fn leaves(e: &ObservationExpr, out: &mut Vec<ObservationExpr>) {
    match e {
        ObservationExpr::Observation { .. } => out.push(e.clone()),
        ObservationExpr::And { lhs, rhs, .. }
        | ObservationExpr::Or { lhs, rhs, .. }
        | ObservationExpr::FollowedBy { lhs, rhs, .. } => {
            leaves(lhs, out);
            leaves(rhs, out);
        }
        ObservationExpr::Qualified { expr, .. } => leaves(expr, out),
    }
}

/// Whether every binding is one observation (so one event).
fn single(e: &ObservationExpr) -> bool {
    match e {
        ObservationExpr::Observation { .. } => true,
        ObservationExpr::Or { lhs, rhs, .. } => single(lhs) && single(rhs),
        ObservationExpr::And { .. } | ObservationExpr::FollowedBy { .. } => false,
        ObservationExpr::Qualified {
            expr, qualifier, ..
        } => match qualifier {
            Qualifier::Repeats { times } => *times == 1 && single(expr),
            _ => single(expr),
        },
    }
}

/// The retention horizon the module docs state: an overall WITHIN, through ORs.
fn horizon(e: &ObservationExpr) -> Option<i128> {
    if single(e) {
        return Some(0);
    }
    match e {
        ObservationExpr::Qualified {
            expr, qualifier, ..
        } => match qualifier {
            Qualifier::Within { seconds } => {
                let w = (seconds * 1e9).round() as i128;
                Some(horizon(expr).map_or(w, |h| h.min(w)))
            }
            Qualifier::StartStop { .. } => horizon(expr),
            Qualifier::Repeats { .. } => None,
        },
        ObservationExpr::Or { lhs, rhs, .. } => Some(horizon(lhs)?.max(horizon(rhs)?)),
        _ => None,
    }
}

fn oracle_ind(ind: &Indicator) -> Option<OracleInd> {
    let p = pattern::parse(&ind.pattern, StixVersion::V21).ok()?;
    let compiled = CompiledPattern::new(&p).ok()?;
    let mut ls = Vec::new();
    leaves(&p.root, &mut ls);
    let leaves = ls
        .into_iter()
        .filter_map(|root| {
            CompiledPattern::new(&Pattern {
                root,
                version: StixVersion::V21,
            })
            .ok()
        })
        .collect();
    Some(OracleInd {
        compiled,
        leaves,
        single: single(&p.root),
        horizon: horizon(&p.root),
        valid_from: ind.valid_from.as_deref().map(|s| s.parse().unwrap()),
        ring: Vec::new(),
        last: None,
    })
}

/// A hit reduced to what both sides must agree on.
type Flat = (usize, Vec<(usize, usize)>, Vec<u64>);

fn flat<S>(h: &Hit<S>) -> Flat {
    (
        h.indicator,
        h.binding
            .entries
            .iter()
            .map(|e| (e.expression.start, e.observation))
            .collect(),
        h.events.iter().map(|e| e.seq).collect(),
    )
}

/// Runs the oracle over the stream; one sorted list of hits per event.
fn oracle(inds: &mut [OracleInd], docs: &[Value], max_retained: usize) -> Vec<Vec<Flat>> {
    let mut out = Vec::new();
    let mut high_water: Option<Timestamp> = None;
    for (seq, doc) in docs.iter().enumerate() {
        let obs = Observations::from_json(doc).unwrap();
        let time = obs.iter().map(|o| o.first_observed).min().unwrap();
        high_water = high_water.max(obs.iter().map(|o| o.first_observed).max());
        let mut hits = Vec::new();
        for (i, ind) in inds.iter_mut().enumerate() {
            if ind.valid_from.is_some_and(|f| time < f) {
                continue;
            }
            if ind.single {
                if let Ok(Some(b)) = ind.compiled.evaluate(&obs) {
                    let entries = b
                        .entries
                        .iter()
                        .map(|e| (e.expression.start, e.observation))
                        .collect::<Vec<_>>();
                    let n = entries.len();
                    hits.push((i, entries, vec![seq as u64; n]));
                }
                continue;
            }
            let relevant = ind
                .leaves
                .iter()
                .any(|l| matches!(l.evaluate(&obs), Ok(Some(_))));
            if !relevant {
                continue;
            }
            ind.ring.push((seq as u64, seq));
            if let (Some(h), Some(hw)) = (ind.horizon, high_water) {
                ind.ring.retain(|&(_, d)| {
                    let last = Observations::from_json(&docs[d])
                        .unwrap()
                        .iter()
                        .map(|o| o.last_observed)
                        .max()
                        .unwrap();
                    hw.as_nanosecond() - last.as_nanosecond() < h
                });
            }
            while ind.ring.len() > max_retained {
                ind.ring.remove(0);
            }
            if ind.ring.is_empty() {
                continue;
            }
            // The window's observations in the evaluator's order, with their origin.
            let parts: Vec<Observations<'_>> = ind
                .ring
                .iter()
                .map(|&(_, d)| Observations::from_json(&docs[d]).unwrap())
                .collect();
            let mut origin = Vec::new();
            for (p, part) in parts.iter().enumerate() {
                for (k, o) in part.iter().enumerate() {
                    origin.push((o.first_observed, o.last_observed, p, k));
                }
            }
            origin.sort_by_key(|&(f, l, _, _)| (f, l));
            let all = Observations::concat(parts);
            if let Ok(Some(b)) = ind.compiled.evaluate(&all) {
                let mut entries = Vec::new();
                let mut seqs = Vec::new();
                let mut identity = Vec::new();
                for e in &b.entries {
                    let (_, _, p, k) = origin[e.observation];
                    let s = ind.ring[p].0;
                    entries.push((e.expression.start, k));
                    seqs.push(s);
                    identity.push((s, k, e.expression.start));
                }
                identity.sort_unstable();
                if ind.last.as_ref() != Some(&identity) {
                    ind.last = Some(identity);
                    hits.push((i, entries, seqs));
                }
            }
        }
        hits.sort();
        out.push(hits);
    }
    out
}

fn run_stream(m: Arc<CompiledMatcher>, docs: &[Value], options: StreamOptions) -> Vec<Vec<Flat>> {
    let mut stream = Stream::new(m, options);
    docs.iter()
        .map(|doc| {
            let time = Observations::from_json(doc)
                .unwrap()
                .iter()
                .map(|o| o.first_observed)
                .min()
                .unwrap();
            let mut hits: Vec<Flat> = stream
                .push(&Event {
                    document: doc,
                    time,
                    source: (),
                })
                .unwrap()
                .iter()
                .map(flat)
                .collect();
            hits.sort();
            hits
        })
        .collect()
}

/// [`run_stream`] as `entente hunt` feeds a stream: each document's text first through
/// `quiet_text`, and only the documents it does not vouch for pushed whole. Also returns how
/// many were quiet.
fn run_stream_quiet(
    m: Arc<CompiledMatcher>,
    docs: &[Value],
    options: StreamOptions,
) -> (Vec<Vec<Flat>>, usize) {
    let mut stream = Stream::new(m, options);
    let mut quiet = 0;
    let hits = docs
        .iter()
        .map(|doc| {
            let time = Observations::from_json(doc)
                .unwrap()
                .iter()
                .map(|o| o.first_observed)
                .min()
                .unwrap();
            // Compact and pretty text: whitespace must not change the answer.
            let compact = serde_json::to_string(doc).unwrap();
            let pretty = serde_json::to_string_pretty(doc).unwrap();
            let q = stream.quiet_text(&compact);
            assert_eq!(q, stream.quiet_text(&pretty));
            if let Some(q) = q {
                assert_eq!(q.earliest(), time);
                stream.push_quiet(&q);
                quiet += 1;
                return Vec::new();
            }
            let mut hits: Vec<Flat> = stream
                .push(&Event {
                    document: doc,
                    time,
                    source: (),
                })
                .unwrap()
                .iter()
                .map(flat)
                .collect();
            hits.sort();
            hits
        })
        .collect();
    (hits, quiet)
}

fn workload() -> impl Strategy<Value = (Vec<Indicator>, Vec<Ev>)> {
    (1usize..10)
        .prop_flat_map(|n| (0..n).map(indicator).collect::<Vec<_>>())
        .prop_flat_map(|inds| (Just(inds), events()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn stream_hits_equal_the_evaluator((inds, evs) in workload(), max_retained in 1usize..5) {
        let (m, report) = CompiledMatcher::compile(inds.clone(), &CompileOptions::default());
        let kept: Vec<Indicator> = inds
            .iter()
            .filter(|i| !report.skipped.iter().any(|(_, id, _)| id.as_deref() == Some(&i.id)))
            .cloned()
            .collect();
        let mut oracle_inds: Vec<OracleInd> = kept.iter().filter_map(oracle_ind).collect();
        prop_assert_eq!(oracle_inds.len(), m.len());
        for (i, o) in oracle_inds.iter().enumerate() {
            prop_assert_eq!(m.indicator(i).stateful, !o.single, "{}", m.indicator(i).pattern);
        }
        let docs: Vec<Value> = evs.iter().map(document).collect();
        let options = StreamOptions { max_retained, sweep_every: 3 };
        let got = run_stream(Arc::new(m), &docs, options);
        let want = oracle(&mut oracle_inds, &docs, max_retained);
        prop_assert_eq!(got, want, "indicators: {:#?}", kept.iter().map(|i| &i.pattern).collect::<Vec<_>>());
    }

    #[test]
    fn quiet_text_changes_no_hit((inds, evs) in workload(), max_retained in 1usize..5) {
        let (m, _) = CompiledMatcher::compile(inds, &CompileOptions::default());
        let m = Arc::new(m);
        let docs: Vec<Value> = evs.iter().map(document).collect();
        let options = StreamOptions { max_retained, sweep_every: 3 };
        let want = run_stream(Arc::clone(&m), &docs, options);
        let (got, _) = run_stream_quiet(m, &docs, options);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn window_loses_no_chain((inds, evs) in workload()) {
        let (m, _) = CompiledMatcher::compile(inds.clone(), &CompileOptions::default());
        let m = Arc::new(m);
        let docs: Vec<Value> = evs.iter().map(document).collect();
        let options = StreamOptions { max_retained: 1000, sweep_every: 2 };
        let got = run_stream(Arc::clone(&m), &docs, options);
        let parts: Vec<Observations<'_>> =
            docs.iter().map(|d| Observations::from_json(d).unwrap()).collect();
        let all = Observations::concat(parts);
        for i in 0..m.len() {
            let ind = m.indicator(i);
            let source = inds.iter().find(|x| x.id == ind.id).unwrap();
            if !ind.stateful || source.valid_from.is_some() {
                continue;
            }
            let p = pattern::parse(ind.pattern, StixVersion::V21).unwrap();
            let Ok(whole) = CompiledPattern::new(&p).unwrap().evaluate(&all) else {
                continue;
            };
            let hit = got.iter().flatten().any(|h| h.0 == i);
            prop_assert_eq!(hit, whole.is_some(), "{}", ind.pattern);
        }
    }

    #[test]
    fn match_event_equals_the_evaluator((inds, evs) in workload()) {
        let (m, _) = CompiledMatcher::compile(inds.clone(), &CompileOptions::default());
        let mut scratch = m.scratch();
        for ev in &evs {
            let doc = document(ev);
            let obs = Observations::from_json(&doc).unwrap();
            let time = obs.iter().map(|o| o.first_observed).min().unwrap();
            let mut got: Vec<Flat> = m
                .match_event(&Event { document: &doc, time, source: () }, &mut scratch)
                .unwrap()
                .iter()
                .map(flat)
                .collect();
            got.sort();
            let mut want = Vec::new();
            for i in 0..m.len() {
                let ind = m.indicator(i);
                let source = inds.iter().find(|x| x.id == ind.id).unwrap();
                if source.valid_from.as_deref().is_some_and(|f| time < f.parse::<Timestamp>().unwrap()) {
                    continue;
                }
                let p = pattern::parse(ind.pattern, StixVersion::V21).unwrap();
                if let Ok(Some(b)) = CompiledPattern::new(&p).unwrap().evaluate(&obs) {
                    let entries: Vec<(usize, usize)> =
                        b.entries.iter().map(|e| (e.expression.start, e.observation)).collect();
                    let n = entries.len();
                    want.push((i, entries, vec![0; n]));
                }
            }
            want.sort();
            prop_assert_eq!(got, want);
        }
    }
}

// ---------------------------------------------------------------------------------------
// focused cases

fn one(values: &[(&str, &str)], at: &str) -> Value {
    let mut items = vec![json!({"type": "observed-data", "id": "observed-data--1",
        "first_observed": at, "last_observed": at, "number_observed": 1,
        "object_refs": values.iter().enumerate().map(|(i, (t, _))| format!("{t}--{i}")).collect::<Vec<_>>()})];
    for (i, (t, v)) in values.iter().enumerate() {
        items.push(json!({"type": t, "id": format!("{t}--{i}"), "value": v}));
    }
    Value::Array(items)
}

#[test]
fn skips_are_counted_with_their_reason() {
    let objects = vec![
        json!({"type": "indicator", "id": "indicator--a", "pattern_type": "stix",
               "pattern": "[domain-name:value = 'x.test']", "valid_from": "2024-01-01T00:00:00Z"}),
        json!({"type": "indicator", "id": "indicator--b", "pattern_type": "sigma", "pattern": "x"}),
        json!({"type": "indicator", "id": "indicator--c", "pattern_type": "stix",
               "pattern": "[domain-name:value = 'y.test']", "revoked": true}),
        json!({"type": "indicator", "id": "indicator--d", "pattern_type": "stix",
               "pattern": "[domain-name:value = "}),
        json!({"type": "malware", "id": "malware--e"}),
        json!({"type": "indicator", "id": "indicator--f", "pattern_type": "stix",
               "pattern": "[x:y = 1] WITHIN 0 SECONDS"}),
    ];
    let (m, report) = CompiledMatcher::compile_json(&objects, &CompileOptions::default());
    assert_eq!((m.len(), report.compiled), (1, 1));
    let reasons: Vec<(usize, &SkipReason)> =
        report.skipped.iter().map(|(i, _, r)| (*i, r)).collect();
    assert!(matches!(reasons[0], (1, SkipReason::PatternType(_))));
    assert!(matches!(reasons[1], (2, SkipReason::Revoked)));
    assert!(matches!(reasons[2], (3, SkipReason::Syntax(_))));
    assert!(matches!(reasons[3], (4, SkipReason::NotIndicator)));
    assert!(matches!(reasons[4], (5, SkipReason::Semantics(_))));
}

#[test]
fn validity_window_is_honoured() {
    let mut ind = Indicator::new("indicator--v", "[domain-name:value = 'x.test']");
    ind.valid_from = Some("2024-01-01T00:00:00Z".into());
    ind.valid_until = Some("2024-02-01T00:00:00Z".into());
    let (m, _) = CompiledMatcher::compile([ind], &CompileOptions::default());
    let mut scratch = m.scratch();
    for (at, hits) in [
        ("2023-12-31T23:59:59Z", 0),
        ("2024-01-01T00:00:00Z", 1),
        ("2024-02-01T00:00:00Z", 0),
    ] {
        let doc = one(&[("domain-name", "x.test")], at);
        let ev = Event {
            document: &doc,
            time: at.parse().unwrap(),
            source: (),
        };
        assert_eq!(
            m.match_event(&ev, &mut scratch).unwrap().len(),
            hits,
            "{at}"
        );
    }
}

#[test]
fn hash_case_and_ip_spelling_reach_the_evaluator() {
    // The index folds hash case and IP spellings; the evaluator (case- and
    // spelling-sensitive, STIX 2.1 §9.6.2) still decides.
    let (m, _) = CompiledMatcher::compile(
        [
            Indicator::new("indicator--h", "[file:hashes.'SHA-256' = 'AB']"),
            Indicator::new("indicator--i", "[ipv4-addr:value = '1.2.3.4']"),
        ],
        &CompileOptions::default(),
    );
    let mut scratch = m.scratch();
    let doc = one(&[("ipv4-addr", "01.2.3.4")], "2024-01-01T00:00:00Z");
    let ev = Event {
        document: &doc,
        time: Timestamp::UNIX_EPOCH,
        source: (),
    };
    assert!(m.match_event(&ev, &mut scratch).unwrap().is_empty());
    assert_eq!(
        scratch.stats.evaluated, 1,
        "the coarse key proposed the candidate"
    );
}

#[test]
fn addresses_in_blocks_without_indicators_are_not_looked_up() {
    // Equality keys that are addresses are looked up only when some indicator on the same
    // path names an address of the same family in the same /16 block; hits stay the
    // evaluator's either way.
    let (m, _) = CompiledMatcher::compile(
        [
            Indicator::new("indicator--a", "[ipv4-addr:value = '198.51.100.7']"),
            Indicator::new(
                "indicator--b",
                "[ipv4-addr:value IN ('203.0.113.5', '1.2.3.4')]",
            ),
            Indicator::new("indicator--c", "[ipv6-addr:value = '2001:db8::1']"),
            Indicator::new("indicator--d", "[domain-name:value = '10.9.8.7']"),
        ],
        &CompileOptions::default(),
    );
    let at = "2024-01-01T00:00:00Z";
    // (type, value, look-ups, hits)
    for (ty, value, lookups, hits) in [
        ("ipv4-addr", "198.51.100.7", 1, 1),
        ("ipv4-addr", "198.051.100.7", 1, 0),
        ("ipv4-addr", "198.51.7.7", 1, 0),
        ("ipv4-addr", "1.2.3.4", 1, 1),
        ("ipv4-addr", "203.0.113.5", 1, 1),
        ("ipv4-addr", "10.1.2.3", 0, 0),
        ("ipv4-addr", "198.52.100.7", 0, 0),
        // An IPv4-mapped IPv6 address is IPv6 for the index as for the evaluator.
        ("ipv4-addr", "::ffff:198.51.100.7", 0, 0),
        ("ipv4-addr", "not an address", 1, 0),
        ("ipv6-addr", "2001:db8::1", 1, 1),
        ("ipv6-addr", "2001:db8:0:0::1", 1, 0),
        ("ipv6-addr", "2001:db8:ffff::1", 1, 0),
        ("ipv6-addr", "2002:db8::1", 0, 0),
        // No IPv4 key on the IPv6 path.
        ("ipv6-addr", "198.51.100.7", 0, 0),
        // A domain name that reads as an address is looked up as one on its own path.
        ("domain-name", "10.9.8.7", 1, 1),
        ("domain-name", "10.9.8.8", 1, 0),
        ("domain-name", "10.10.8.7", 0, 0),
    ] {
        let doc = one(&[(ty, value)], at);
        let ev = Event {
            document: &doc,
            time: at.parse().unwrap(),
            source: (),
        };
        let mut scratch = m.scratch();
        let got = m.match_event(&ev, &mut scratch).unwrap().len();
        assert_eq!(got, hits, "{ty} {value}");
        // One pass over the document's values (match_event probes twice when something
        // is proposed).
        let mut scratch = m.scratch();
        let quiet = m.quiet_text(&doc.to_string(), &mut scratch);
        // Not quiet when it hits (nor when the coarse key proposes a candidate).
        assert!(hits == 0 || quiet.is_none(), "{ty} {value}");
        assert_eq!(scratch.stats.lookups, lookups, "{ty} {value}: quiet_text");
    }
}

#[test]
fn scanned_values_are_looked_up_as_the_model_looks_them_up() {
    // `quiet_text` looks a scanned string up as its bytes; it must propose whatever the
    // model's look-up proposes: non-ASCII text (NFC for LIKE and MATCHES), upper-case
    // hashes, addresses, and values on paths with binary or timestamp constants.
    let (m, _) = CompiledMatcher::compile(
        [
            Indicator::new("indicator--1", "[domain-name:value LIKE '\u{e9}v%']"),
            Indicator::new("indicator--2", "[domain-name:value MATCHES '^\u{e9}vil']"),
            Indicator::new("indicator--3", "[file:hashes.'SHA-256' = 'abcd']"),
            Indicator::new(
                "indicator--4",
                "[url:value = 'http://\u{e9}.test/\u{1f600}']",
            ),
            Indicator::new("indicator--5", "[ipv4-addr:value = '10.0.0.7']"),
            Indicator::new("indicator--6", "[artifact:payload_bin = b'aGk=']"),
            Indicator::new("indicator--7", "[x-event:at = t'2024-01-01T00:00:00Z']"),
        ],
        &CompileOptions::default(),
    );
    let at = "2024-01-01T00:00:00Z";
    let doc = |ty: &str, prop: &str, value: Value| {
        json!([
            {"type": "observed-data", "id": "observed-data--1", "first_observed": at,
             "last_observed": at, "number_observed": 1, "object_refs": [format!("{ty}--1")]},
            {"type": ty, "id": format!("{ty}--1"), prop: value}
        ])
    };
    for (d, hits) in [
        (doc("domain-name", "value", json!("\u{e9}vil.test")), 2),
        (doc("domain-name", "value", json!("e\u{301}vil.test")), 2),
        (doc("domain-name", "value", json!("evil.test")), 0),
        (doc("file", "hashes", json!({"SHA-256": "abcd"})), 1),
        (doc("file", "hashes", json!({"SHA-256": "ABCD"})), 0),
        (
            doc("url", "value", json!("http://\u{e9}.test/\u{1f600}")),
            1,
        ),
        (doc("url", "value", json!("http://e.test/")), 0),
        (doc("ipv4-addr", "value", json!("10.0.0.7")), 1),
        (doc("ipv4-addr", "value", json!("010.0.0.7")), 0),
        (doc("artifact", "payload_bin", json!("aGk=")), 1),
        (doc("artifact", "payload_bin", json!("aGl=")), 0),
        (doc("x-event", "at", json!("2024-01-01T00:00:00.000Z")), 1),
        (doc("x-event", "at", json!("2024-01-01T00:00:01Z")), 0),
    ] {
        let mut scratch = m.scratch();
        let ev = Event {
            document: &d,
            time: at.parse().unwrap(),
            source: (),
        };
        assert_eq!(m.match_event(&ev, &mut scratch).unwrap().len(), hits, "{d}");
        // What the model's look-up proposes (match_event's pre-probe on the document).
        let proposed = scratch.stats.evaluated > 0;
        let mut scratch = m.scratch();
        let text = d.to_string();
        assert_eq!(
            m.quiet_text(&text, &mut scratch).is_none(),
            proposed,
            "{text}"
        );
        assert_eq!(
            m.quiet_bytes(text.as_bytes(), &mut scratch).is_none(),
            proposed,
            "{text}"
        );
    }
}

#[test]
fn scanned_objects_find_their_paths_among_many_types() {
    // Few types are compared one by one, many looked up in a map: the same answers.
    for types in [3, 40] {
        let inds = (0..types)
            .map(|t| Indicator::new(format!("indicator--{t}"), format!("[x-t{t}:v = 'a{t}']")));
        let (m, _) = CompiledMatcher::compile(inds, &CompileOptions::default());
        let at = "2024-01-01T00:00:00Z";
        for t in [0, types - 1, types] {
            for (value, hit) in [(format!("a{t}"), t < types), (format!("b{t}"), false)] {
                let doc = json!([
                    {"type": "observed-data", "id": "observed-data--1", "first_observed": at,
                     "last_observed": at, "number_observed": 1, "object_refs": ["x--1"]},
                    {"type": format!("x-t{t}"), "id": "x--1", "v": value}
                ]);
                let mut scratch = m.scratch();
                let quiet = m.quiet_text(&doc.to_string(), &mut scratch);
                assert_eq!(quiet.is_none(), hit, "{types} types: {doc}");
            }
        }
    }
}

#[test]
fn followedby_across_events_hits_once() {
    let (m, _) = CompiledMatcher::compile(
        [Indicator::new(
            "indicator--f",
            "([domain-name:value = 'a.test'] FOLLOWEDBY [ipv4-addr:value = '10.0.0.1']) WITHIN 60 SECONDS",
        )],
        &CompileOptions::default(),
    );
    let mut s = Stream::new(Arc::new(m), StreamOptions::default());
    let docs = [
        one(&[("domain-name", "a.test")], "2024-01-01T00:00:00Z"),
        one(&[("ipv4-addr", "10.0.0.1")], "2024-01-01T00:00:30Z"),
        one(&[("ipv4-addr", "10.0.0.1")], "2024-01-01T00:00:40Z"),
        one(&[("ipv4-addr", "10.0.0.1")], "2024-01-01T00:02:00Z"),
    ];
    let hits: Vec<usize> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            s.push(&Event {
                document: d,
                time: Timestamp::UNIX_EPOCH,
                source: i,
            })
            .unwrap()
            .len()
        })
        .collect();
    // The chain completes at the second event; the third repeats the same binding (the
    // evaluator picks the earliest candidates); the fourth is past the window.
    assert_eq!(hits, vec![0, 1, 0, 0]);
    assert!(s.retained() <= 2);
}

#[test]
fn quiet_text_vouches_only_when_nothing_can_match() {
    let (m, _) = CompiledMatcher::compile(
        vec![
            Indicator::new("indicator--1", "[domain-name:value = 'evil.example']"),
            Indicator::new(
                "indicator--2",
                "[network-traffic:dst_ref.value = '10.0.0.9']",
            ),
            Indicator::new("indicator--3", "[file:hashes.'SHA-256' = 'aa']"),
            Indicator::new("indicator--4", "[network-traffic:dst_port = 4444]"),
        ],
        &CompileOptions::default(),
    );
    let mut scratch = m.scratch();
    let at = "2024-01-01T00:00:00Z";
    let quiet = |doc: &Value, scratch: &mut _| m.quiet_text(&doc.to_string(), scratch);
    let q = quiet(&one(&[("domain-name", "good.example")], at), &mut scratch).unwrap();
    assert_eq!(q.earliest(), at.parse::<Timestamp>().unwrap());
    assert!(quiet(&one(&[("domain-name", "evil.example")], at), &mut scratch).is_none());
    let flow = |dst: &str, port: u64, hash: &str| {
        json!({"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "observed-data", "id": "observed-data--1", "first_observed": at,
             "last_observed": at, "number_observed": 1,
             "object_refs": ["ipv4-addr--1", "network-traffic--1", "file--1"]},
            {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": dst},
            {"type": "network-traffic", "id": "network-traffic--1", "dst_ref": "ipv4-addr--1",
             "dst_port": port, "protocols": ["tcp"]},
            {"type": "file", "id": "file--1", "hashes": {"SHA-256": hash, "MD5": "bb"}}
        ]})
    };
    assert!(quiet(&flow("10.0.0.8", 80, "ab"), &mut scratch).is_some());
    // Through the reference, the port and the nested hash key.
    assert!(quiet(&flow("10.0.0.9", 80, "ab"), &mut scratch).is_none());
    assert!(quiet(&flow("10.0.0.8", 4444, "ab"), &mut scratch).is_none());
    assert!(quiet(&flow("10.0.0.8", 80, "AA"), &mut scratch).is_none());
    // Text the scan does not vouch for goes the ordinary way.
    assert!(
        m.quiet_text("{\"type\": \"bundle\"", &mut scratch)
            .is_none()
    );
}
