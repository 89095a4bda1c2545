//! `GET` and `POST /{api_root}/collections/{id}/objects/`: reading a collection's objects
//! page by page (TAXII 2.1 §5.3) and adding an envelope of objects (§5.4).

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use store::{Envelope, Status, StatusDetail, StatusState};
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
    // The joined texts where the backend has them (no object per row), else the page.
    let Some(page) = state
        .store
        .query_objects_joined(&resolved.collection.id, &query)
        .await?
    else {
        let page = state
            .store
            .query_objects(&resolved.collection.id, &query)
            .await?;
        return Ok(envelope_page(page));
    };
    let next = next_token(page.next);
    let mut body = Vec::with_capacity(page.objects.len() + 64);
    taxii::envelope::write_joined(&mut body, &page.objects, page.more, next.as_deref());
    Ok(Taxii::raw(body).date_added(page.date_added))
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
    let mut prepared = tokio::task::spawn_blocking(move || {
        ingest::prepare_with(&bytes, flags, &limits, statements)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("validation task failed: {e}")))??;
    let collection_id = resolved.collection.id;
    let objects = std::mem::take(&mut prepared.to_store);
    let status = pending_status(
        &prepared,
        &objects,
        owner,
        &collection_id,
        request_timestamp,
    );
    if objects.is_empty() {
        // Nothing passed validation: the status is complete as it is.
        let status = Status {
            status: StatusState::Complete,
            ..status
        };
        state.store.create_status(&status).await?;
        return Ok(Taxii::json(&super::status::view(&status)).status(StatusCode::ACCEPTED));
    }
    if let Some(queue) = &state.ingest {
        let view = super::status::view(&status);
        queue
            .enqueue(collection_id, objects, status, prepared.statements)
            .await
            .map_err(|e| ApiError::Unavailable(e.to_string()))?;
        return Ok(Taxii::json(&view).status(StatusCode::ACCEPTED));
    }
    // The objects and their status in one transaction: one commit per envelope.
    let status = state
        .store
        .store_envelopes(vec![Envelope { objects, status }])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal("the store returned no status".into()))?;
    tracing::info!(
        collection = %status.collection_id,
        total = status.total_count,
        failed = status.failures.len(),
        "envelope stored"
    );
    Ok(Taxii::json(&super::status::view(&status)).status(StatusCode::ACCEPTED))
}

/// The pending status of an envelope: the objects validation refused as failures, the
/// `objects` to store as pending.
fn pending_status(
    prepared: &ingest::Prepared,
    objects: &[store::NewObject],
    owner: store::UserId,
    collection_id: &str,
    request_timestamp: stix::Timestamp,
) -> Status {
    let failures: Vec<StatusDetail> = prepared
        .slots
        .iter()
        .filter_map(|slot| match slot {
            Slot::Failed(detail) => Some(detail.clone()),
            Slot::Store(_) => None,
        })
        .collect();
    Status::pending(
        owner,
        collection_id.to_owned(),
        request_timestamp,
        failures,
        objects,
    )
}

/// Whether an envelope's bytes mention markings at all (`object_marking_refs` or a
/// granular `marking_ref`).
fn memchr_marking_refs(bytes: &[u8]) -> bool {
    bytes
        .windows(b"marking_ref".len())
        .any(|w| w == b"marking_ref")
}
