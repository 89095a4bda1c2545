//! The TAXII 2.1 routes, one module per resource (mini-redis style: each module has the
//! handler(s) for its resource and nothing else), and the helpers they share: path
//! extraction with TAXII errors, and the mapping from a parsed [`taxii::ObjectQuery`] to the
//! store's query.

pub mod api_root;
pub mod collections;
pub mod discovery;
pub mod log;
pub mod manifest;
pub mod object;
pub mod objects;
pub mod status;
pub mod versions;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use stix::TlpLevel;
use store::VersionMatch;
use taxii::{ObjectQuery, PageToken, QueryKind};

use crate::config::Limits;
use crate::error::ApiError;

/// Path parameters, with a TAXII error (400) instead of axum's plain-text rejection when a
/// segment does not decode.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| Params(t))
            .map_err(|e| ApiError::BadRequest(format!("bad URL path: {e}")))
    }
}

/// Parses a raw query string for an endpoint and turns it into the store's query, with the
/// page size clamped to the configured bounds (TAXII 2.1 §3.5.1 lets a server return fewer
/// objects than asked) and the reader's TLP ceiling applied in the store query itself, so
/// that `more` and `next` count only what the reader may see.
pub fn store_query(
    raw: Option<&str>,
    kind: QueryKind,
    max_tlp: TlpLevel,
    limits: &Limits,
) -> Result<store::ObjectQuery, ApiError> {
    let q = ObjectQuery::parse(raw, kind)?;
    let mut versions = Vec::new();
    if q.versions.all {
        versions.push(VersionMatch::All);
    } else {
        if q.versions.first {
            versions.push(VersionMatch::First);
        }
        if q.versions.last {
            versions.push(VersionMatch::Last);
        }
        versions.extend(q.versions.at.iter().copied().map(VersionMatch::At));
    }
    let next = match q.next {
        Some(token) => Some(
            String::from_utf8(token.position().to_vec())
                .map_err(|_| ApiError::from(taxii::Error::InvalidToken))?,
        ),
        None => None,
    };
    let limit = q.limit.map_or(limits.default_page_size, |n| {
        usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(limits.max_page_size)
    });
    Ok(store::ObjectQuery {
        ids: q.ids,
        types: q.types,
        versions,
        spec_versions: q.spec_versions,
        added_after: q.added_after,
        limit,
        next,
        max_tlp,
    })
}

/// The `next` token a client sees for the store's resume position.
pub fn next_token(position: Option<String>) -> Option<String> {
    position.map(|p| PageToken::new(p.into_bytes()).encode())
}
