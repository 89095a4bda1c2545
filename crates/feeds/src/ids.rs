//! Deterministic STIX ids for imported intelligence.
//!
//! STIX 2.1 §2.9 gives deterministic ids only to SCOs; for the SDOs and SROs an import
//! makes, entente derives UUIDv5s in its own namespace from what identifies the source
//! item (a MISP uuid, an IOC's type and value), so a re-import finds the same ids and the
//! store sees new versions, not new objects.

use uuid::Uuid;

/// The namespace of entente's import ids (a fixed random UUID; changing it would turn
/// every re-import into new objects).
pub const IMPORT_NAMESPACE: Uuid = Uuid::from_u128(0xfb63f1f0_a0ab_4908_959d_8790b1c84085);

/// `type--uuid5(IMPORT_NAMESPACE, "type:key")`.
pub fn derived(type_name: &str, key: &str) -> String {
    format!("{type_name}--{}", derived_uuid(type_name, key))
}

/// The UUID part of [`derived`]: 16 bytes to remember an id by, where a run keeps a
/// million of them.
pub fn derived_uuid(type_name: &str, key: &str) -> Uuid {
    let mut name = String::with_capacity(type_name.len() + 1 + key.len());
    name.push_str(type_name);
    name.push(':');
    name.push_str(key);
    Uuid::new_v5(&IMPORT_NAMESPACE, name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_id_other_key_other_id() {
        let a = derived("indicator", "ipv4-addr:198.51.100.1");
        assert_eq!(a, derived("indicator", "ipv4-addr:198.51.100.1"));
        assert_ne!(a, derived("indicator", "ipv4-addr:198.51.100.2"));
        let r = derived("report", "ipv4-addr:198.51.100.1");
        assert_ne!(a["indicator--".len()..], r["report--".len()..]);
        assert!(stix::parse_identifier(&a).is_ok());
        // UUIDv5: version nibble 5.
        assert_eq!(&a["indicator--".len() + 14..][..1], "5");
    }
}
