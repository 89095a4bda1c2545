//! Focused semantic tests, each naming the rule it pins.

use matcher::{Binding, CompiledPattern, Error, EvalOptions, Observations};
use pattern::ast::StixVersion;
use serde_json::{Value, json};

fn eval_with(text: &str, data: &Value, options: &EvalOptions) -> Result<Option<Binding>, Error> {
    let p = pattern::parse(text, StixVersion::V21).unwrap_or_else(|e| panic!("{text}: {e}"));
    let c = CompiledPattern::new(&p)?;
    c.evaluate_with(&Observations::from_json(data)?, options)
}

fn eval(text: &str, data: &Value) -> Result<Option<Binding>, Error> {
    eval_with(text, data, &EvalOptions::default())
}

fn matches(text: &str, data: &Value) -> bool {
    eval(text, data)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .is_some()
}

/// A 2.0-style observed-data with one window and embedded objects.
fn od(first: &str, last: &str, n: u64, objects: Value) -> Value {
    json!({"type": "observed-data", "first_observed": first, "last_observed": last,
           "number_observed": n, "objects": objects})
}

fn t(sec: u32) -> String {
    format!("2024-01-01T00:{:02}:{:02}Z", sec / 60, sec % 60)
}

fn person(name: &str, at: u32) -> Value {
    od(
        &t(at),
        &t(at),
        1,
        json!({"0": {"type": "person", "name": name}}),
    )
}

#[test]
fn binding_names_observations_and_root_objects() {
    let data = json!([person("alice", 0), person("bob", 5)]);
    let b = eval("[person:name = 'bob'] AND [person:name = 'alice']", &data)
        .unwrap()
        .unwrap();
    assert_eq!(b.entries.len(), 2);
    // Entries are in pattern order; observations are indexed in time order.
    assert_eq!(b.entries[0].observation, 1);
    assert_eq!(b.entries[1].observation, 0);
    assert_eq!(b.entries[0].roots, vec!["0".to_owned()]);
    assert_eq!(b.entries[0].expression.start, 0);
}

#[test]
fn number_observed_counts_observations() {
    // §9.1: one observed-data with number_observed n is n observations.
    let twice = json!([od(&t(0), &t(0), 2, json!({"0": {"type": "x", "a": 1}}))]);
    assert!(matches("[x:a = 1] REPEATS 2 TIMES", &twice));
    assert!(matches("[x:a = 1] AND [x:a = 1]", &twice));
    assert!(!matches("[x:a = 1] REPEATS 3 TIMES", &twice));
    // Two SCOs in one observation are still one observation.
    let two_scos = json!([od(
        &t(0),
        &t(0),
        1,
        json!({"0": {"type": "x", "a": 1}, "1": {"type": "x", "a": 1}})
    )]);
    assert!(!matches("[x:a = 1] REPEATS 2 TIMES", &two_scos));
}

#[test]
fn within_is_strict() {
    // §9.5.1: the latest timestamp MUST NOT be equal to the earliest plus the window.
    let data = json!([person("alice", 0), person("bob", 5)]);
    assert!(!matches(
        "([person:name = 'alice'] AND [person:name = 'bob']) WITHIN 5 SECONDS",
        &data
    ));
    assert!(matches(
        "([person:name = 'alice'] AND [person:name = 'bob']) WITHIN 5.001 SECONDS",
        &data
    ));
    // A single long observation fits any window: some instant inside it can be chosen.
    let long = json!([od(&t(0), &t(300), 1, json!({"0": {"type": "x", "a": 1}}))]);
    assert!(matches("[x:a = 1] WITHIN 1 SECONDS", &long));
}

#[test]
fn followedby_uses_observation_windows() {
    // §9.5.2: b's timestamp ≥ a's; with windows, two overlapping long observations can be
    // ordered either way, and equal instants count.
    let data = json!([
        od(&t(0), &t(100), 1, json!({"0": {"type": "x", "a": 1}})),
        od(&t(50), &t(150), 1, json!({"0": {"type": "x", "a": 2}})),
        person("carol", 200),
        person("dave", 200),
    ]);
    assert!(matches("[x:a = 1] FOLLOWEDBY [x:a = 2]", &data));
    assert!(matches("[x:a = 2] FOLLOWEDBY [x:a = 1]", &data));
    assert!(matches(
        "[person:name = 'dave'] FOLLOWEDBY [person:name = 'carol']",
        &data
    ));
    assert!(!matches(
        "[person:name = 'carol'] FOLLOWEDBY [x:a = 1]",
        &data
    ));
}

#[test]
fn start_stop_is_half_open() {
    // §9.5.1: observation time ≥ start and < stop.
    let data = json!([person("bob", 10)]);
    let q = |s: u32, e: u32| format!("[person:name = 'bob'] START t'{}' STOP t'{}'", t(s), t(e));
    assert!(matches(&q(10, 11), &data));
    assert!(!matches(&q(9, 10), &data));
    assert!(!matches(&q(11, 10), &data));
}

#[test]
fn comparison_and_needs_one_root_sco() {
    // §9.5: all comparisons of one observation expression start from the same SCO.
    let data = json!([od(
        &t(0),
        &t(0),
        1,
        json!({
        "0": {"type": "ipv4-addr", "value": "198.51.100.1"},
        "1": {"type": "domain-name", "value": "example.com", "resolves_to_refs": ["0"]}})
    )]);
    assert!(!matches(
        "[ipv4-addr:value = '198.51.100.1' AND domain-name:value = 'example.com']",
        &data
    ));
    assert!(matches(
        "[ipv4-addr:value = '198.51.100.1' OR domain-name:value = 'nope']",
        &data
    ));
    assert!(matches(
        "[domain-name:value = 'example.com' AND domain-name:resolves_to_refs[*].value = '198.51.100.1']",
        &data
    ));
    // A list needs an index step.
    assert!(!matches(
        "[domain-name:resolves_to_refs.value = '198.51.100.1']",
        &data
    ));
}

#[test]
fn refs_keep_their_positions_and_only_follow_object_refs() {
    // §9.7.2/§9.7.4: [n] is the n-th reference as written; a dangling one is "not found";
    // only SCOs listed in object_refs may be followed.
    let data = json!([{"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "observed-data", "id": "observed-data--1", "first_observed": t(0),
         "last_observed": t(0), "number_observed": 1, "object_refs": ["x--1", "y--1"]},
        {"type": "x", "id": "x--1", "r_refs": ["y--9", "y--1"], "o_ref": "y--2"},
        {"type": "y", "id": "y--1", "v": 1},
        {"type": "y", "id": "y--2", "v": 2}]}]);
    assert!(!matches("[x:r_refs[0].v = 1]", &data));
    assert!(matches("[x:r_refs[1].v = 1]", &data));
    assert!(!matches("[x:o_ref.v = 2]", &data));
    assert!(!matches("[y:v = 2]", &data));
}

#[test]
fn like_and_matches_follow_the_spec() {
    let data = json!([od(
        &t(0),
        &t(0),
        1,
        json!({"0": {"type": "x", "s": "ab\ncd", "p_bin": "aGVsbG8="}})
    )]);
    // §9.6.1 LIKE: '%' is 0 or more characters, line breaks included.
    assert!(matches("[x:s LIKE 'ab%']", &data));
    assert!(matches("[x:s LIKE 'ab_cd']", &data));
    // §9.6.1 MATCHES: a search with DOTALL.
    assert!(matches("[x:s MATCHES 'b.c']", &data));
    // Binary values: octets as U+0000–U+00FF (§9.6.4).
    assert!(matches("[x:p_bin MATCHES '^hel+o$']", &data));
    assert!(matches("[x:p_bin = 'hello']", &data));
    assert!(matches("[x:p_bin = h'68656c6c6f']", &data));
}

#[test]
fn cidr_v4_and_v6() {
    let data = json!([od(
        &t(0),
        &t(0),
        1,
        json!({
        "0": {"type": "ipv6-addr", "value": "2001:db8:dead:beef::1"},
        "1": {"type": "ipv4-addr", "value": "198.51.100.0/27"}})
    )]);
    assert!(matches(
        "[ipv6-addr:value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
        &data
    ));
    assert!(!matches(
        "[ipv6-addr:value ISSUBSET '2001:db8:dead:bee0::/64']",
        &data
    ));
    assert!(matches(
        "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
        &data
    ));
    assert!(matches(
        "[ipv4-addr:value ISSUPERSET '198.51.100.7']",
        &data
    ));
    assert!(!matches(
        "[ipv4-addr:value ISSUPERSET '198.51.100.0/24']",
        &data
    ));
    assert!(!matches("[ipv6-addr:value ISSUBSET '0.0.0.0/0']", &data));
}

#[test]
fn exists_and_not_exists() {
    let data = json!([{"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "observed-data", "id": "observed-data--1", "first_observed": t(0),
         "last_observed": t(0), "number_observed": 1, "object_refs": ["x--1"]},
        {"type": "x", "id": "x--1", "a": 1}]}]);
    assert!(matches("[EXISTS x:a]", &data));
    assert!(!matches("[EXISTS x:b]", &data));
    assert!(matches("[NOT EXISTS x:b]", &data));
    assert!(!matches("[NOT EXISTS y:b]", &data));
}

#[test]
fn invalid_input_is_reported_with_a_pointer() {
    let data = json!([od(
        &t(0),
        &t(0),
        1,
        json!({"0": {"type": "x", "ts": ["2024-01-01T00:00:00Z", "nope"]}})
    )]);
    assert!(matches("[x:ts[0] = t'2024-01-01T00:00:00.000Z']", &data));
    match eval("[x:ts[1] = t'2024-01-01T00:00:00Z']", &data) {
        Err(Error::Input { pointer, .. }) => assert_eq!(pointer, "/0/objects/0/ts/1"),
        other => panic!("{other:?}"),
    }
    let bad = json!([od(&t(5), &t(0), 1, json!({}))]);
    assert!(matches!(eval("[x:a = 1]", &bad), Err(Error::Input { .. })));
    let zero = json!([od(&t(0), &t(0), 0, json!({}))]);
    assert!(matches!(eval("[x:a = 1]", &zero), Err(Error::Input { .. })));
}

#[test]
fn pattern_errors_the_spec_defines() {
    let data = json!([person("alice", 0)]);
    for bad in [
        "[person:name IN ('a', 1)]",
        "[person:name IN (t'2024-01-01T00:00:00Z', 'a')]",
        "[person:name LIKE 1]",
        "[person:name ISSUBSET 'not-an-ip']",
    ] {
        let r = pattern::parse(bad, StixVersion::V21)
            .map_err(|_| ())
            .and_then(|p| CompiledPattern::new(&p).map_err(|_| ()));
        assert!(r.is_err(), "{bad}");
    }
    assert!(matches(
        "[person:name IN (1, 2.5)] OR [person:name = 'alice']",
        &data
    ));
}

/// Observations one second apart, each a person aged `i`.
fn people(n: u32) -> Value {
    Value::Array(
        (0..n)
            .map(|i| od(&t(i), &t(i), 1, json!({"0": {"type": "person", "age": i}})))
            .collect(),
    )
}

#[test]
fn combinatorial_cases_stay_fast() {
    let data = people(40);
    // 20 of 40 within 8 s is impossible; the capacity bound sees it without enumerating.
    assert!(!matches(
        "[person:age < 100] REPEATS 20 TIMES WITHIN 8 SECONDS",
        &data
    ));
    assert!(matches(
        "[person:age < 100] REPEATS 9 TIMES WITHIN 8.5 SECONDS",
        &data
    ));
    let and20 = vec!["[person:age < 100]"; 20].join(" AND ");
    assert!(matches(&and20, &data));
    let and41 = vec!["[person:age < 100]"; 41].join(" AND ");
    assert!(!matches(&and41, &data));
    assert!(matches(
        "([person:age < 40] FOLLOWEDBY [person:age > 5]) REPEATS 15 TIMES",
        &data
    ));
}

#[test]
fn and_without_time_constraints_is_decided_by_matching() {
    // Ten different expressions that every young person satisfies compete for nine young
    // persons; an eleventh accepts anyone. Enough observations in total, no binding: a
    // backtracking search needs ~9! steps to see it, the b-matching answers at once.
    let data = Value::Array(
        (0..9)
            .map(|i| od(&t(i), &t(i), 1, json!({"0": {"type": "person", "age": i}})))
            .chain((0..2).map(|i| {
                od(
                    &t(100 + i),
                    &t(100 + i),
                    1,
                    json!({"0": {"type": "person", "age": 500}}),
                )
            }))
            .collect(),
    );
    let ten = (0..10)
        .map(|i| format!("[person:age < {}]", 100 + i))
        .collect::<Vec<_>>()
        .join(" AND ");
    let tiny = EvalOptions {
        max_steps: 10,
        ..EvalOptions::default()
    };
    assert!(
        eval_with(&format!("{ten} AND [person:age < 1000]"), &data, &tiny)
            .unwrap()
            .is_none()
    );
    let nine = (0..9)
        .map(|i| format!("[person:age < {}]", 100 + i))
        .collect::<Vec<_>>()
        .join(" AND ");
    let b = eval_with(&format!("{nine} AND [person:age < 1000]"), &data, &tiny)
        .unwrap()
        .unwrap();
    assert_eq!(b.entries.len(), 10);
    let mut used: Vec<usize> = b.entries.iter().map(|e| e.observation).collect();
    used.sort_unstable();
    used.dedup();
    assert_eq!(used.len(), 10, "distinct observations");
}

#[test]
fn the_search_bound_is_an_error_not_a_hang() {
    // Ten different expressions over observations one second apart, all within 8.5 s: only
    // nine observations fit any such window, and proving it takes permutations of nine.
    let data = people(20);
    let text = format!(
        "({}) WITHIN 8.5 SECONDS",
        (0..10)
            .map(|i| format!("[person:age < {}]", 100 + i))
            .collect::<Vec<_>>()
            .join(" AND ")
    );
    let small = EvalOptions {
        max_steps: 5_000,
        ..EvalOptions::default()
    };
    match eval_with(&text, &data, &small) {
        Err(Error::SearchLimit { limit }) => assert_eq!(limit, 5_000),
        other => panic!("{other:?}"),
    }
    let big = json!([od(&t(0), &t(0), 5000, json!({"0": {"type": "x", "a": 1}}))]);
    assert!(matches!(
        eval("[x:a = 1] REPEATS 1000 TIMES", &big),
        Err(Error::BindingTooLarge { needed: 1000, .. })
    ));
    let few = json!([od(&t(0), &t(0), 5, json!({"0": {"type": "x", "a": 1}}))]);
    assert!(
        eval("[x:a = 1] REPEATS 1000 TIMES", &few)
            .unwrap()
            .is_none()
    );
}

#[test]
fn reference_cycles_with_many_stars_are_bounded() {
    // Thirty objects that all reference each other; six [*] steps would reach 30^6 values
    // without the visited set.
    let ids: Vec<String> = (0..30).map(|i| i.to_string()).collect();
    let mut objects = serde_json::Map::new();
    for id in &ids {
        objects.insert(id.clone(), json!({"type": "n", "k": id, "next_refs": ids}));
    }
    let data = json!([od(&t(0), &t(0), 1, Value::Object(objects))]);
    let path = "n:next_refs[*].next_refs[*].next_refs[*].next_refs[*].next_refs[*].next_refs[*].k";
    assert!(!matches(&format!("[{path} = 'none']"), &data));
    assert!(matches(&format!("[{path} = '29']"), &data));
}

#[test]
fn matched_values_are_the_values_that_satisfied_a_comparison() {
    // One SCO with several values at the compared paths: only those that pass a comparison
    // (by the evaluator's own test; `LIKE 'z%'` finds nothing) are reported, each with its
    // path as written.
    let text = "[file:name = 'a.exe' OR file:name LIKE 'z%' OR file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']";
    let data = json!([od(
        &t(0),
        &t(0),
        1,
        json!({"0": {"type": "file", "name": "a.exe",
                     "hashes": {"MD5": "d41d8cd98f00b204e9800998ecf8427e"}}})
    )]);
    let p = pattern::parse(text, StixVersion::V21).unwrap();
    let c = CompiledPattern::new(&p).unwrap();
    let obs = Observations::from_json(&data).unwrap();
    let b = c.evaluate(&obs).unwrap().expect("matches");
    let entry = &b.entries[0];
    let found: Vec<(String, Value)> = entry
        .roots
        .iter()
        .flat_map(|r| c.matched_values(&obs, entry.expression, r).unwrap())
        .map(|(span, v)| (text[span.start..span.end].to_owned(), v))
        .collect();
    assert_eq!(
        found,
        vec![
            ("file:name".to_owned(), json!("a.exe")),
            (
                "file:hashes.MD5".to_owned(),
                json!("d41d8cd98f00b204e9800998ecf8427e")
            ),
        ]
    );
    // An unknown root or expression lists nothing.
    assert!(
        c.matched_values(&obs, entry.expression, "9")
            .unwrap()
            .is_empty()
    );
}
