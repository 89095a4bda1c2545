//! The generated workload of `pattern_bench_gen.py`: its ground truth (`expected.json`, exact
//! by construction) against the alerts of both engines over the STIX reader.

use std::collections::BTreeSet;
use std::path::Path;

use hunt::engine::{Compiled, EachIndicator, Engine};
use hunt::hunt::Hunter;
use hunt::{Format, Reader};
use serde_json::Value;

/// (event index, indicator id) of every alert; `quiet`: with the engine's quiet filter on
/// the reader, as `entente hunt` runs.
fn alerts(engine: &mut dyn Engine, input: &Path, quiet: bool) -> BTreeSet<(u64, String)> {
    let mut hunter = Hunter::new(engine);
    let mut out = Vec::new();
    let mut reader = Reader::open(input, Format::Stix, None).unwrap();
    if quiet {
        reader.set_quiet_filter(hunter.quiet_filter());
    }
    let mut quiet_events = 0;
    for item in reader {
        let event = item.unwrap().unwrap();
        quiet_events += u64::from(event.quiet.is_some());
        hunter.event(&event, &mut out).unwrap();
    }
    assert_eq!(hunter.stats().unloadable_events, 0);
    if quiet {
        // Most generated events match nothing: the filter must have recognised them.
        assert!(
            quiet_events * 2 > hunter.stats().events,
            "{quiet_events} quiet"
        );
    }
    out.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let a: Value = serde_json::from_slice(l).unwrap();
            (
                a["source"]["line"].as_u64().unwrap() - 1,
                a["indicator"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn generated_workload_matches_its_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let shared = std::env::var("ENTENTE_SHARED").unwrap_or_else(|_| "/work/shared".into());
    let status = std::process::Command::new("python3")
        .arg(Path::new(&shared).join("bench/pattern_bench_gen.py"))
        .args([
            "--indicators",
            "200",
            "--events",
            "2000",
            "--seed",
            "11",
            "--out",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(dir.path().join("indicators.json")).unwrap();
    let (indicators, report) = hunt::indicators::load(&bytes, "generated", None).unwrap();
    assert_eq!(report.loaded, 200, "{report:?}");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("expected.json")).unwrap()).unwrap();
    let mut per_event: BTreeSet<(u64, String)> = BTreeSet::new();
    for (event, ids) in expected["per_event"].as_object().unwrap() {
        for id in ids.as_array().unwrap() {
            per_event.insert((event.parse().unwrap(), id.as_str().unwrap().to_owned()));
        }
    }
    assert!(!per_event.is_empty());
    let input = dir.path().join("observations.ndjson");

    // Each event alone through the evaluator: exactly the single-event ground truth.
    let each = alerts(&mut EachIndicator::new(indicators.clone()), &input, false);
    assert_eq!(each, per_event);

    // The compiled stream: the same single-event alerts, plus each planted chain completed
    // at its last event.
    let compiled = alerts(&mut Compiled::new(indicators.clone()), &input, true);
    // The quiet filter changes nothing but the cost: the same alerts without it.
    assert_eq!(
        compiled,
        alerts(&mut Compiled::new(indicators), &input, false)
    );
    let missing: Vec<_> = per_event.difference(&compiled).collect();
    assert!(missing.is_empty(), "{missing:?}");
    for chain in expected["stream"].as_array().unwrap() {
        let id = chain["indicator"].as_str().unwrap().to_owned();
        let last = chain["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_u64)
            .max();
        let last = last.unwrap();
        assert!(
            compiled.contains(&(last, id.clone())),
            "chain {chain} not alerted"
        );
    }
}

/// The quiet filter sees a line's bytes before they are known to be UTF-8: it vouches for
/// ASCII and for valid non-ASCII lines alike, leaves invalid UTF-8 to the reader (a bad
/// line, as without the filter), and changes no event, bad line or alert.
#[test]
fn quiet_filter_takes_bytes_as_the_reader_takes_text() {
    let indicators = r#"{"type":"bundle","id":"bundle--1","objects":[
        {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern_type":"stix","pattern":"[domain-name:value = 'évil.example']","valid_from":"2024-01-01T00:00:00Z"},
        {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000002","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern_type":"stix","pattern":"[ipv4-addr:value = '198.51.100.7']","valid_from":"2024-01-01T00:00:00Z"}]}"#;
    let line = |ty: &str, value: &str| {
        format!(
            r#"{{"type":"bundle","id":"bundle--2","objects":[{{"type":"observed-data","id":"observed-data--1","first_observed":"2024-03-01T00:00:00Z","last_observed":"2024-03-01T00:00:00Z","number_observed":1,"object_refs":["{ty}--1"]}},{{"type":"{ty}","id":"{ty}--1","value":"{value}"}}]}}"#
        )
        .into_bytes()
    };
    let mut input = Vec::new();
    for l in [
        line("domain-name", "good.example"),
        line("domain-name", "gööd.example"),
        line("domain-name", "évil.example"),
        line("domain-name", "\u{e9}vil.example\u{1f600}"),
        // Invalid UTF-8 inside a string (a lone continuation byte, a truncated sequence).
        line("domain-name", "bad\u{80}.example").replace_bytes("\u{80}", b"\x80"),
        line("domain-name", "bad\u{e9}.example").replace_bytes("\u{e9}", b"\xc3"),
        Vec::new(),
        line("ipv4-addr", "198.51.100.7"),
        line("ipv4-addr", "10.0.0.1"),
        // An escape: the scan leaves it to the full path.
        line("domain-name", "\\u00e9vil.example"),
    ] {
        input.extend_from_slice(&l);
        input.push(b'\n');
    }
    let run = |quiet: bool| {
        let (mut engine, _) = Compiled::load(indicators.as_bytes(), "test", None).unwrap();
        let mut hunter = Hunter::new(&mut engine);
        let mut reader = Reader::new(
            "input",
            Box::new(std::io::Cursor::new(input.clone())),
            Format::Stix,
            None,
        );
        if quiet {
            reader.set_quiet_filter(hunter.quiet_filter());
        }
        let (mut out, mut quiet_lines, mut bad) = (Vec::new(), Vec::new(), Vec::new());
        for item in reader {
            match item.unwrap() {
                Ok(event) => {
                    if event.quiet.is_some() {
                        quiet_lines.push(event.source.line);
                    }
                    hunter.event(&event, &mut out).unwrap();
                }
                Err(b) => bad.push((b.source.line, b.message)),
            }
        }
        let alerts: BTreeSet<(u64, String)> = out
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let a: Value = serde_json::from_slice(l).unwrap();
                (
                    a["source"]["line"].as_u64().unwrap(),
                    a["indicator"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        (alerts, quiet_lines, bad, hunter.stats().events)
    };
    let (alerts, quiet_lines, bad, events) = run(true);
    assert_eq!((alerts.clone(), bad.clone(), events), {
        let (a, _, b, e) = run(false);
        (a, b, e)
    });
    let lines: Vec<u64> = alerts.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![3, 8, 10]);
    assert_eq!(quiet_lines, vec![1, 2, 4, 9]);
    assert_eq!(
        bad,
        vec![(5, "not UTF-8".to_owned()), (6, "not UTF-8".to_owned())]
    );
    assert_eq!(events, 7);
}

/// `replace` for bytes (the test writes invalid UTF-8 into a line).
trait ReplaceBytes {
    fn replace_bytes(self, from: &str, to: &[u8]) -> Vec<u8>;
}

impl ReplaceBytes for Vec<u8> {
    fn replace_bytes(self, from: &str, to: &[u8]) -> Vec<u8> {
        let from = from.as_bytes();
        let at = self
            .windows(from.len())
            .position(|w| w == from)
            .expect("present");
        let mut out = self[..at].to_vec();
        out.extend_from_slice(to);
        out.extend_from_slice(&self[at + from.len()..]);
        out
    }
}

/// The compiled engine's alerts take the matched values from the pattern the stream
/// matched with (its cache): they equal the alerts that compile the pattern again.
#[test]
fn compiled_alerts_equal_alerts_compiled_again() {
    use hunt::alert::Alert;
    use hunt::engine::Engine;
    let indicators = r#"{"type":"bundle","id":"bundle--1","objects":[
        {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern_type":"stix","pattern":"[domain-name:value LIKE '%.evil.example' OR ipv4-addr:value = '198.51.100.7']","valid_from":"2024-01-01T00:00:00Z"},
        {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000002","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern_type":"stix","pattern":"[ipv4-addr:value ISSUBSET '198.51.100.0/24']","valid_from":"2024-01-01T00:00:00Z"},
        {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000003","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern_type":"stix","pattern":"[domain-name:value MATCHES '^a[.]'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.7'] WITHIN 60 SECONDS","valid_from":"2024-01-01T00:00:00Z"}]}"#;
    let (mut engine, _) = Compiled::load(indicators.as_bytes(), "test", None).unwrap();
    let mut input = String::new();
    for (i, (ty, value)) in [
        ("domain-name", "a.evil.example"),
        ("ipv4-addr", "198.51.100.7"),
        ("ipv4-addr", "198.51.100.9"),
        ("domain-name", "b.example"),
    ]
    .iter()
    .enumerate()
    {
        input.push_str(&format!(
            r#"{{"type":"bundle","id":"bundle--2","objects":[{{"type":"observed-data","id":"observed-data--1","first_observed":"2024-03-01T00:00:0{i}Z","last_observed":"2024-03-01T00:00:0{i}Z","number_observed":1,"object_refs":["{ty}--1"]}},{{"type":"{ty}","id":"{ty}--1","value":"{value}"}}]}}"#
        ));
        input.push('\n');
    }
    let reader = Reader::new(
        "input",
        Box::new(std::io::Cursor::new(input.into_bytes())),
        Format::Stix,
        None,
    );
    let mut checked = 0;
    for item in reader {
        let event = item.unwrap().unwrap();
        let (mut hits, mut failures) = (Vec::new(), Vec::new());
        engine.matches(&event, &mut hits, &mut failures).unwrap();
        assert!(failures.is_empty());
        for hit in &hits {
            let again = Alert::new(engine.indicator(hit.indicator), hit, &event);
            let alert = engine.alert(hit, &event);
            assert!(!alert.matched.is_empty(), "{alert:?}");
            assert_eq!(alert, again);
            checked += 1;
        }
    }
    // Both events of the first indicator, the CIDR twice, the chain once.
    assert_eq!(checked, 5);
}
