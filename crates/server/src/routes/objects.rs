//! `GET` and `POST /{api_root}/collections/{id}/objects/`: reading a collection's objects
//! page by page (TAXII 2.1 §5.3) and adding an envelope of objects (§5.4).

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use store::{Envelope, Status, StatusState};
use taxii::QueryKind;

use super::{Params, next_token, store_query};
use crate::access::resolve;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ingest;
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

/// Bodies up to this size are outlined on the async worker that received them: ~0.3 ms for
/// 500 indicators (~300 KB), less than handing the work to the blocking pool and waking
/// the request again costs a loaded 2-core machine. Larger ones go to the blocking pool.
const OUTLINE_INLINE_BYTES: usize = 1 << 20;

/// Adds an envelope; answers 202 with the status resource (§5.4). Without an ingest queue
/// the envelope is validated and stored before the answer, which is complete: every
/// success listed has been committed. With one the answer is pending as soon as the
/// envelope is outlined (`ingest::outline`), and complete once the queue validated and
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
    let collection_id = resolved.collection.id;
    if let Some(queue) = &state.ingest {
        let outline = if bytes.len() <= OUTLINE_INLINE_BYTES {
            ingest::outline(&bytes, flags, &limits)?
        } else {
            // Outlining a 10 MiB envelope is milliseconds of CPU: keep it off the async
            // workers so reads stay responsive meanwhile.
            let (body, limits) = (bytes.clone(), limits.clone());
            tokio::task::spawn_blocking(move || ingest::outline(&body, flags, &limits))
                .await
                .map_err(|e| ApiError::Internal(format!("the envelope task failed: {e}")))??
        };
        let status = Status::pending_listed(
            owner,
            collection_id.clone(),
            request_timestamp,
            outline.failures,
            outline.pendings,
        );
        if status.pendings.is_empty() {
            return complete_at_once(&state, status).await;
        }
        let view = super::status::view(&status);
        queue
            .enqueue(collection_id, flags, bytes, status)
            .await
            .map_err(|e| ApiError::Unavailable(e.to_string()))?;
        return Ok(Taxii::json(&view).status(StatusCode::ACCEPTED));
    }
    // Statement markings (copyright) defined in earlier envelopes restrict nobody.
    let statements =
        ingest::stored_statements_for(state.store.as_ref(), &collection_id, &bytes).await?;
    let mut prepared = tokio::task::spawn_blocking(move || {
        ingest::prepare_with(&bytes, flags, &limits, statements)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("validation task failed: {e}")))??;
    let objects = std::mem::take(&mut prepared.to_store);
    let status = Status::pending(
        owner,
        collection_id,
        request_timestamp,
        prepared.failures(),
        &objects,
    );
    if objects.is_empty() {
        return complete_at_once(&state, status).await;
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

/// Answers for an envelope of which nothing is to be stored (empty, or every object
/// refused): its status is complete as it is.
async fn complete_at_once(state: &AppState, status: Status) -> Result<Taxii, ApiError> {
    let status = Status {
        status: StatusState::Complete,
        ..status
    };
    state.store.create_status(&status).await?;
    Ok(Taxii::json(&super::status::view(&status)).status(StatusCode::ACCEPTED))
}
