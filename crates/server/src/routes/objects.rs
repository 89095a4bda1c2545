//! `GET` and `POST /{api_root}/collections/{id}/objects/`: reading a collection's objects
//! page by page (TAXII 2.1 §5.3) and adding an envelope of objects (§5.4).

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use store::{AddResult, Status, StatusDetail, StatusState};
use taxii::QueryKind;

use super::{Params, next_token, store_query};
use crate::access::resolve;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ingest::{self, Slot};
use crate::negotiate::read_envelope_body;
use crate::response::{Taxii, range_of};
use crate::state::AppState;

/// One page of objects, each exactly as it was posted, in date_added order, with only the
/// versions the reader's TLP audience admits.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Params((root, id)): Params<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Taxii, ApiError> {
    let resolved = resolve(&state, &caller, &root, &id).await?;
    resolved.require_read(&caller)?;
    let query = store_query(
        query.as_deref(),
        QueryKind::Objects,
        resolved.access.max_tlp,
        &state.config.limits,
    )?;
    let page = state
        .store
        .query_objects(&resolved.collection.id, &query)
        .await?;
    Ok(envelope_page(page))
}

/// Writes a page of stored objects as an envelope with the date_added headers; shared
/// with the single-object endpoint, which answers with an envelope too (§5.6).
pub fn envelope_page(page: store::Page<store::StoredObject>) -> Taxii {
    let next = next_token(page.next);
    let size: usize = page.items.iter().map(|o| o.raw_json.len() + 1).sum();
    let mut body = Vec::with_capacity(size + 64);
    taxii::envelope::write_raw(
        &mut body,
        page.items.iter().map(|o| o.raw_json.as_str()),
        page.more,
        next.as_deref(),
    );
    Taxii::raw(body).date_added(range_of(&page.items, |o| o.date_added))
}

/// Validates and stores an envelope; answers 202 with the status resource (§5.4). Without
/// an ingest queue it is complete, because the work is done before answering: every success
/// listed has been committed. With one it is pending, and complete once the queue's writer
/// stored the objects.
pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    Params((root, id)): Params<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Taxii, ApiError> {
    let request_timestamp = crate::now();
    let resolved = resolve(&state, &caller, &root, &id).await?;
    resolved.require_write(&caller)?;
    let owner = caller.require()?.user_id;
    let limits = state.config.limits.clone();
    let bytes = read_envelope_body(&headers, body, limits.max_body_bytes).await?;
    let flags = resolved.collection.flags;
    // Parsing and validating a 10 MiB envelope is milliseconds of CPU: keep it off the
    // async workers so reads stay responsive meanwhile.
    // Statement markings (copyright) defined in earlier envelopes restrict nobody; only
    // envelopes that carry markings at all pay for looking them up.
    let statements = if memchr_marking_refs(&bytes) {
        let mut known =
            ingest::stored_statement_markings(state.store.as_ref(), &resolved.collection.id)
                .await?;
        if let Some(queue) = &state.ingest {
            known.extend(queue.queued_statements(&resolved.collection.id));
        }
        known
    } else {
        ingest::StatementMarkings::default()
    };
    let prepared = tokio::task::spawn_blocking(move || {
        ingest::prepare_with(&bytes, flags, &limits, statements)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("validation task failed: {e}")))??;
    if let Some(queue) = &state.ingest
        && !prepared.to_store.is_empty()
    {
        return queue_envelope(
            queue,
            prepared,
            owner,
            resolved.collection.id,
            request_timestamp,
        )
        .await;
    }
    let outcomes = if prepared.to_store.is_empty() {
        Vec::new()
    } else {
        let expected = prepared.to_store.len();
        let outcomes = state
            .store
            .add_objects(&resolved.collection.id, prepared.to_store)
            .await?;
        if outcomes.len() != expected {
            return Err(ApiError::Internal(format!(
                "store returned {} outcomes for {expected} objects",
                outcomes.len()
            )));
        }
        outcomes
    };
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    for slot in prepared.slots {
        match slot {
            Slot::Failed(detail) => failures.push(detail),
            Slot::Store(i) => {
                let o = &outcomes[i];
                let detail = StatusDetail {
                    id: o.id.clone(),
                    version: o.version.clone(),
                    message: None,
                };
                match &o.result {
                    AddResult::Added { .. } | AddResult::Duplicate { .. } => successes.push(detail),
                    AddResult::Failed { reason } => failures.push(StatusDetail {
                        message: Some(reason.clone()),
                        ..detail
                    }),
                }
            }
        }
    }
    let status = Status {
        id: uuid::Uuid::new_v4().to_string(),
        owner,
        collection_id: resolved.collection.id.clone(),
        status: StatusState::Complete,
        request_timestamp,
        total_count: (successes.len() + failures.len()) as u64,
        successes,
        failures,
        pendings: Vec::new(),
    };
    state.store.create_status(&status).await?;
    tracing::info!(
        collection = %status.collection_id,
        total = status.total_count,
        failed = status.failures.len(),
        "envelope stored"
    );
    Ok(Taxii::json(&super::status::view(&status)).status(StatusCode::ACCEPTED))
}

/// Queued ingest (`crate::queue`): answers 202 with a `pending` status that lists the
/// objects refused by validation as failures and the others as pending; the writer task
/// stores them and then the complete status.
async fn queue_envelope(
    queue: &crate::queue::IngestQueue,
    prepared: ingest::Prepared,
    owner: store::UserId,
    collection_id: String,
    request_timestamp: stix::Timestamp,
) -> Result<Taxii, ApiError> {
    let mut failures = Vec::new();
    for slot in prepared.slots {
        if let Slot::Failed(detail) = slot {
            failures.push(detail);
        }
    }
    let pendings: Vec<StatusDetail> = prepared
        .to_store
        .iter()
        .map(|o| StatusDetail {
            id: o.id.clone(),
            version: o
                .version
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            message: None,
        })
        .collect();
    let status = Status {
        id: uuid::Uuid::new_v4().to_string(),
        owner,
        collection_id: collection_id.clone(),
        status: StatusState::Pending,
        request_timestamp,
        total_count: (failures.len() + pendings.len()) as u64,
        successes: Vec::new(),
        failures,
        pendings,
    };
    let view = super::status::view(&status);
    queue
        .enqueue(
            collection_id,
            prepared.to_store,
            status,
            prepared.statements,
        )
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Taxii::json(&view).status(StatusCode::ACCEPTED))
}

/// Whether an envelope's bytes mention markings at all (`object_marking_refs` or a
/// granular `marking_ref`).
fn memchr_marking_refs(bytes: &[u8]) -> bool {
    bytes
        .windows(b"marking_ref".len())
        .any(|w| w == b"marking_ref")
}
