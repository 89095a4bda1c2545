//! TLP levels from the official marking-definition files and the three id schemes.

use stix::TlpLevel;
use stix::tlp::{OPENCTI_AMBER_STRICT_ID, TLP1_IDS, TLP2_IDS, TlpScheme};

use crate::{data_dir, read_maybe_gz};

#[test]
fn official_tlp2_files_declare_their_level() {
    for (file, level) in [
        ("tlp-clear.json", TlpLevel::Clear),
        ("tlp-green.json", TlpLevel::Green),
        ("tlp-amber.json", TlpLevel::Amber),
        ("tlp-amber+strict.json", TlpLevel::AmberStrict),
        ("tlp-red.json", TlpLevel::Red),
    ] {
        let bytes = read_maybe_gz(&data_dir().join("stix21-tlp2-markings").join(file));
        let objs = stix::parse_document(&bytes).expect("parse");
        let marking = objs
            .iter()
            .find(|o| o.type_name() == Some("marking-definition"))
            .expect("marking-definition in file");
        assert_eq!(
            TlpLevel::from_marking_definition(marking),
            Some(level),
            "{file}"
        );
        let id = marking.id().expect("id");
        assert_eq!(
            TlpLevel::from_marking_id(id),
            Some((level, TlpScheme::Tlp2))
        );
        assert_eq!(level.tlp2_id(), id);
    }
}

#[test]
fn all_schemes_map_to_one_level() {
    for (level, id) in TLP1_IDS {
        assert_eq!(
            TlpLevel::from_marking_id(id),
            Some((level, TlpScheme::Tlp1))
        );
    }
    for (level, id) in TLP2_IDS {
        assert_eq!(
            TlpLevel::from_marking_id(id),
            Some((level, TlpScheme::Tlp2))
        );
    }
    assert_eq!(
        TlpLevel::from_marking_id(OPENCTI_AMBER_STRICT_ID),
        Some((TlpLevel::AmberStrict, TlpScheme::OpenCti))
    );
    assert_eq!(
        TlpLevel::from_marking_id("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
        Some((TlpLevel::Clear, TlpScheme::Tlp1)),
        "TLP 1.0 WHITE is CLEAR"
    );
    assert_eq!(
        TlpLevel::from_marking_id("marking-definition--00000000-0000-4000-8000-000000000000"),
        None
    );
}

#[test]
fn names_and_order() {
    assert!(TlpLevel::Clear < TlpLevel::Green && TlpLevel::Amber < TlpLevel::AmberStrict);
    assert!(TlpLevel::AmberStrict < TlpLevel::Red);
    for l in TlpLevel::ALL {
        assert_eq!(l.label().parse::<TlpLevel>(), Ok(l));
        assert_eq!(l.as_str().parse::<TlpLevel>(), Ok(l));
    }
    assert_eq!("white".parse::<TlpLevel>(), Ok(TlpLevel::Clear));
    assert!("purple".parse::<TlpLevel>().is_err());
}

#[test]
fn most_restrictive_marking_of_an_object() {
    let doc = format!(
        r#"{{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","object_marking_refs":["{}","{}","marking-definition--00000000-0000-4000-8000-000000000000"]}}"#,
        TLP2_IDS[1].1, TLP1_IDS[2].1
    );
    let objs = stix::parse_document(doc.as_bytes()).expect("parse");
    assert_eq!(TlpLevel::of_object(&objs[0]), Some(TlpLevel::Amber));
}

#[test]
fn emitted_tlp2_markings_equal_the_official_objects() {
    for (file, level) in [
        ("tlp-clear.json", TlpLevel::Clear),
        ("tlp-green.json", TlpLevel::Green),
        ("tlp-amber.json", TlpLevel::Amber),
        ("tlp-amber+strict.json", TlpLevel::AmberStrict),
        ("tlp-red.json", TlpLevel::Red),
    ] {
        let bytes = read_maybe_gz(&data_dir().join("stix21-tlp2-markings").join(file));
        let official = stix::parse_document(&bytes)
            .expect("parse")
            .into_iter()
            .find(|o| o.type_name() == Some("marking-definition"))
            .expect("marking");
        let ours = level.tlp2_marking_definition();
        assert_eq!(ours.json(), official.json(), "{file}");
        assert_eq!(ours.raw(), level.tlp2_marking_definition_json());
        assert!(stix::validate_object(&ours, &stix::ValidateOptions::default()).is_empty());
    }
}
