//! Warninglist suppression with the real MISP lists.

use hunt::warninglist::Warninglists;
use serde_json::json;

use crate::support::data;

#[test]
fn misp_lists_suppress_benign_indicators() {
    let w = Warninglists::load_dir(&data("misp-warninglists/lists")).unwrap();
    assert_eq!(w.list_count(), 136);
    assert!(w.entry_count() > 500_000, "{}", w.entry_count());
    // Public resolvers and popular domains are listed; a maltrail C2 is not.
    assert!(w.lookup("8.8.8.8").is_some());
    assert!(w.lookup("1.1.1.1").is_some());
    assert!(w.lookup("www.google.com").is_some());
    assert!(w.lookup("zzqx-not-a-listed-name.invalid").is_none());

    let ind = |i: u32, pattern: &str| {
        json!({"type": "indicator", "spec_version": "2.1",
               "id": format!("indicator--00000000-0000-4000-8000-{i:012}"),
               "created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-01T00:00:00.000Z",
               "pattern": pattern, "pattern_type": "stix", "valid_from": "2020-01-01T00:00:00Z"})
    };
    let doc = json!([
        ind(1, "[ipv4-addr:value = '8.8.8.8']"),
        ind(2, "[domain-name:value = 'www.google.com']"),
        ind(3, "[domain-name:value = 'zzqx-not-a-listed-name.invalid']"),
        ind(4, "[url:value = 'https://www.google.com/search']"),
        ind(5, "[ipv4-addr:value IN ('203.0.113.9', '1.1.1.1')]"),
    ]);
    let (kept, report) = hunt::indicators::load(doc.to_string().as_bytes(), "t", Some(&w)).unwrap();
    assert_eq!(report.suppressed, 4, "{report:?}");
    assert_eq!(kept.len(), 1);
    assert!(kept[0].pattern.contains("zzqx"));
}
