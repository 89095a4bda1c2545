//! IOC lists: maltrail's trail files accounted for line by line and valid STIX.

use feeds::ioc::{ListImporter, Options};

use crate::{assert_valid, read, shared};

/// Data lines of a list, counted independently of the importer.
fn data_lines(text: &str) -> u64 {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count() as u64
}

fn import_dir(dir: &str, every: usize) -> (u64, u64) {
    let path = shared().join("maltrail/static").join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut importer = ListImporter::new();
    let (mut lines, mut indicators) = (0, 0);
    let mut reasons = std::collections::BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let bytes = read(file);
        let family = file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .split('.')
            .next()
            .unwrap_or_default()
            .to_owned();
        let options = Options {
            name: Some(family.clone()),
            labels: vec![format!("maltrail:{dir}")],
            ..Options::default()
        };
        let m = importer.import(&bytes, &file.to_string_lossy(), &options);
        let expected = data_lines(&String::from_utf8_lossy(&bytes));
        assert_eq!(
            m.accepted + m.duplicates + m.refused.len() as u64,
            expected,
            "{}: every line accounted for",
            file.display()
        );
        for r in &m.refused {
            assert!(!r.reason.is_empty());
            let why = r.reason.rsplit(": ").next().unwrap_or_default().to_owned();
            *reasons.entry(why).or_insert(0u64) += 1;
        }
        // Validate a sample of each list (the whole set is slow in a debug build).
        let sample: Vec<_> = m.objects.iter().step_by(29).cloned().collect();
        assert_valid(&sample);
        for o in &m.objects {
            assert!(o.json.contains(&format!(
                "\"name\":{}",
                serde_json::to_string(&family).unwrap()
            )));
        }
        lines += expected;
        indicators += m.accepted + m.duplicates;
    }
    eprintln!("{dir}: refusals {reasons:?}");
    (lines, indicators)
}

#[test]
fn maltrail_malicious_and_suspicious_lists_sampled() {
    for dir in ["malicious", "suspicious"] {
        let (lines, indicators) = import_dir(dir, 3);
        assert!(lines > 1000, "{dir}: {lines}");
        // Almost everything in maltrail is an observable; a few path-only trails are not.
        assert!(
            indicators * 100 > lines * 95,
            "{dir}: {indicators} of {lines}"
        );
    }
}

#[test]
fn maltrail_malware_families_sampled() {
    let (lines, indicators) = import_dir("malware", 25);
    assert!(lines > 2_000, "{lines}");
    assert!(indicators * 100 > lines * 90, "{indicators} of {lines}");
}

#[test]
fn mass_scanner_cidr_list() {
    let bytes = read(&shared().join("maltrail/static/mass_scanner_cidr.txt"));
    let m = ListImporter::new().import(&bytes, "mass_scanner_cidr.txt", &Options::default());
    assert!(
        m.refused.is_empty(),
        "{:?}",
        &m.refused[..m.refused.len().min(5)]
    );
    let cidr = m
        .objects
        .iter()
        .filter(|o| o.json.contains("/24']"))
        .count();
    // 817 of the list's /24 blocks (the rest are other prefixes and single addresses).
    assert_eq!(cidr, 817, "CIDR values kept");
    assert!(
        m.objects
            .iter()
            .all(|o| o.json.contains("[ipv4-addr:value = '"))
    );
    assert_valid(&m.objects);
}
