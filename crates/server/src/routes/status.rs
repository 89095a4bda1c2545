//! `GET /{api_root}/status/{status_id}/`: the status resource (TAXII 2.1 §4.3).
//!
//! With queued ingest (`crate::queue`) a status is pending in memory until its envelope is
//! stored; asking for it then waits up to [`STATUS_WAIT`] for the writer, so a client that
//! polls right after posting gets the complete status at its first poll.
//!
//! A status is shown only to the user who made the request it describes, and only under
//! the API root of its collection; to anyone else it does not exist (404), because its
//! lists name object ids.

use axum::extract::State;
use taxii::{Status, StatusDetails, StatusState};

use super::Params;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::queue::STATUS_WAIT;
use crate::response::Taxii;
use crate::state::AppState;

/// The stored status, if it is the caller's and belongs to this API root.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Params((root, status_id)): Params<(String, String)>,
) -> Result<Taxii, ApiError> {
    let principal = caller.require()?;
    let queued = match &state.ingest {
        Some(queue) => {
            queue
                .pending_status(&status_id, principal.user_id, STATUS_WAIT)
                .await
        }
        None => None,
    };
    let status = match queued {
        Some(pending) => Some(pending),
        None => state.store.status(&status_id).await?,
    };
    let status = status
        .filter(|s| s.owner == principal.user_id)
        .ok_or(ApiError::NotFound("status"))?;
    let collection = state.store.collection(&status.collection_id).await?;
    if collection.is_none_or(|c| c.api_root != root) {
        return Err(ApiError::NotFound("status"));
    }
    Ok(Taxii::json(&view(&status)))
}

/// The TAXII form of a stored status (without its owner).
pub fn view(s: &store::Status) -> Status {
    let details = |list: &[store::StatusDetail]| {
        list.iter()
            .map(|d| StatusDetails {
                id: d.id.clone(),
                version: d.version.clone(),
                message: d.message.clone(),
            })
            .collect::<Vec<_>>()
    };
    Status {
        id: s.id.clone(),
        status: match s.status {
            store::StatusState::Complete => StatusState::Complete,
            store::StatusState::Pending => StatusState::Pending,
        },
        request_timestamp: Some(s.request_timestamp.to_string()),
        total_count: s.total_count,
        success_count: s.successes.len() as u64,
        successes: details(&s.successes),
        failure_count: s.failures.len() as u64,
        failures: details(&s.failures),
        pending_count: s.pendings.len() as u64,
        pendings: details(&s.pendings),
    }
}
