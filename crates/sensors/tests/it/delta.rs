//! Deltas between two exports' states.

use sensors::delta::{State, StateError, delta};
use sensors::{Kind, Observable};

fn obs(kind: Kind, value: &str) -> Observable {
    Observable {
        kind,
        value: value.to_owned(),
    }
}

#[test]
fn added_and_removed_are_the_set_differences() {
    let old = State::new(
        "zeek-intel",
        "2026-01-01T00:00:00Z".into(),
        &[
            obs(Kind::Ip, "198.51.100.7"),
            obs(Kind::Domain, "old.example"),
            obs(Kind::Domain, "kept.example"),
        ],
    );
    let new = State::new(
        "zeek-intel",
        "2026-01-02T00:00:00Z".into(),
        &[
            obs(Kind::Domain, "kept.example"),
            obs(Kind::Domain, "new.example"),
            obs(Kind::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
        ],
    );
    let d = delta(&old, &new);
    assert_eq!(
        d.added,
        vec![
            obs(Kind::Domain, "new.example"),
            obs(Kind::Md5, "d41d8cd98f00b204e9800998ecf8427e")
        ]
    );
    assert_eq!(
        d.removed,
        vec![
            obs(Kind::Ip, "198.51.100.7"),
            obs(Kind::Domain, "old.example")
        ]
    );
    assert_eq!(delta(&new, &new), Default::default());
}

#[test]
fn state_files_round_trip_and_refuse_another_format() {
    let state = State::new(
        "suricata-dataset",
        "2026-01-01T00:00:00Z".into(),
        &[obs(Kind::Url, "http://a.example/x")],
    );
    let json = state.to_json();
    assert_eq!(
        State::from_json(&json, "suricata-dataset").expect("reads back"),
        state
    );
    assert!(matches!(
        State::from_json(&json, "zeek-intel"),
        Err(StateError::Format { .. })
    ));
    assert!(matches!(
        State::from_json(b"{\"x\":1}", "zeek-intel"),
        Err(StateError::Json(_))
    ));
}
