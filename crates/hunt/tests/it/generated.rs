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
