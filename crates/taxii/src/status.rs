//! The status resource (TAXII 2.1 §4.3): the outcome of one POST to an objects endpoint.
//!
//! Invariant kept by the server: `total_count = success_count + failure_count +
//! pending_count` (§4.3.1), and an object is listed in `successes` only once the
//! transaction that stored it has committed.

use serde::{Deserialize, Serialize};

/// Whether every object of the request has been processed (TAXII 2.1 §4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusState {
    /// Every object is a success or a failure.
    Complete,
    /// Some objects are still being processed.
    Pending,
}

/// `GET /{api_root}/status/{status_id}/` (TAXII 2.1 §4.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The status resource's identifier (required).
    pub id: String,
    /// `complete` or `pending` (required).
    pub status: StatusState,
    /// When the request was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timestamp: Option<String>,
    /// How many objects the request carried (required).
    pub total_count: u64,
    /// How many were added (required).
    pub success_count: u64,
    /// The objects that were added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub successes: Vec<StatusDetails>,
    /// How many were refused (required).
    pub failure_count: u64,
    /// The objects that were refused, each with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<StatusDetails>,
    /// How many are still being processed (required).
    pub pending_count: u64,
    /// The objects still being processed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pendings: Vec<StatusDetails>,
}

/// One object in a status resource (TAXII 2.1 §4.3.1, `status-details`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetails {
    /// The object's STIX id (required); empty when the object had none.
    pub id: String,
    /// The object's version, `modified` or `created` (required); empty when it had none.
    pub version: String,
    /// Why the object failed, or other information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Status {
    /// Whether the counts add up, as TAXII 2.1 §4.3.1 requires.
    pub fn counts_consistent(&self) -> bool {
        self.success_count
            .checked_add(self.failure_count)
            .and_then(|n| n.checked_add(self.pending_count))
            == Some(self.total_count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_state_lowercase() {
        let s = Status {
            id: "s".into(),
            status: StatusState::Complete,
            request_timestamp: None,
            total_count: 1,
            success_count: 0,
            successes: vec![],
            failure_count: 1,
            failures: vec![StatusDetails {
                id: "indicator--x".into(),
                version: "2024-01-01T00:00:00.000Z".into(),
                message: Some("bad".into()),
            }],
            pending_count: 0,
            pendings: vec![],
        };
        assert!(s.counts_consistent());
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["status"], "complete");
        assert!(v.get("successes").is_none());
        assert_eq!(serde_json::from_value::<Status>(v).unwrap(), s);
    }
}
