//! `GET /{api_root}/collections/{id}/manifest/`: the manifest resource (TAXII 2.1 §5.5),
//! one record per object version, filtered and paged like the objects endpoint.

use axum::extract::{RawQuery, State};
use taxii::{Manifest, ManifestRecord, QueryKind};

use super::{Params, next_token, store_query};
use crate::access::resolve;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::response::{Taxii, range_of};
use crate::state::AppState;

/// One page of manifest records the caller may see.
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
        QueryKind::Manifest,
        resolved.access.max_tlp,
        &state.config.limits,
    )?;
    let page = state
        .store
        .manifest(&resolved.collection.id, &query)
        .await?;
    let range = range_of(&page.items, |m| m.date_added);
    Ok(Taxii::json(&Manifest {
        more: page.more,
        next: next_token(page.next),
        objects: page
            .items
            .into_iter()
            .map(|m| ManifestRecord {
                id: m.id,
                date_added: m.date_added.to_string(),
                version: m.version,
                // §5.5.1: the media type of the stored object, by its STIX version.
                media_type: Some(format!("application/stix+json;version={}", m.spec_version)),
            })
            .collect(),
    })
    .date_added(range))
}
