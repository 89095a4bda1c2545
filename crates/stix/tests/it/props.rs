//! Property tests: parsing and validating never panic, whatever the input.

use proptest::prelude::*;
use stix::{ValidateOptions, parse_document, validate_document};

const SEED: &str = r#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","granular_markings":[{"selectors":["pattern"],"marking_ref":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"}],"external_references":[{"source_name":"capec","external_id":"CAPEC-1"}]},{"type":"file","id":"file--7cdc1fbe-5cfd-5e09-8e87-648a1cf1080c","hashes":{"SHA-256":"ceafbfd424be2ca4a5f0402cae090dda2fb0526cf521b60b60077c0f622b285a"},"name":"qwerty.dll","extensions":{"archive-ext":{"contains_refs":["file--7cdc1fbe-5cfd-5e09-8e87-648a1cf1080c"]}}}]}"#;

fn run(bytes: &[u8]) {
    if let Ok(objs) = parse_document(bytes) {
        let _ = validate_document(&objs, &ValidateOptions::default());
        for o in &objs {
            let _ = stix::deterministic_sco_id(o);
            let _ = o.view();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        run(&bytes);
    }

    #[test]
    fn mutated_json_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = SEED.as_bytes().to_vec();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        run(&bytes);
    }

    #[test]
    fn spliced_json_never_panics(cut in any::<prop::sample::Index>(), insert in "[\\[\\]{}\",:0-9a-z_\\-. ]{0,40}") {
        let i = cut.index(SEED.len());
        if SEED.is_char_boundary(i) {
            let doc = format!("{}{}{}", &SEED[..i], insert, &SEED[i..]);
            run(doc.as_bytes());
        }
    }

    #[test]
    fn any_property_value_validates_without_panic(value in any_json(), key in "[a-z_]{1,12}|type|id|created|hashes|extensions|granular_markings|object_refs") {
        let mut obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
            r#"{"type":"malware","spec_version":"2.1","id":"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","is_family":true,"name":"x"}"#,
        ).expect("seed");
        obj.insert(key, value);
        let text = serde_json::to_string(&obj).expect("serialise");
        run(text.as_bytes());
    }
}

fn any_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9:\\-_.\\[\\] ]{0,20}".prop_map(Value::String),
        Just(Value::String("2016-04-06T20:03:48.000Z".into())),
        Just(Value::String(
            "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f".into()
        )),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_\\-]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
