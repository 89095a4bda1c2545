//! Successful answers: TAXII 2.1 JSON with the exact media type, and the
//! `X-TAXII-Date-Added-First` / `-Last` headers of the paged endpoints (TAXII 2.1 §3.4.3,
//! §5.3–§5.8), and entente's `X-Entente-Log-Index` (the transparency log's leaf index of
//! the one object version answered).

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use stix::Timestamp;

/// `X-TAXII-Date-Added-First`: the date_added of the first item of the page.
pub static DATE_ADDED_FIRST: HeaderName = HeaderName::from_static("x-taxii-date-added-first");
/// `X-TAXII-Date-Added-Last`: the date_added of the last item of the page.
pub static DATE_ADDED_LAST: HeaderName = HeaderName::from_static("x-taxii-date-added-last");
/// `X-Entente-Log-Index`: the index of the transparency log's `add` entry of the one object
/// version in the answer, so a holder can ask `/log/proof/inclusion` for it.
pub static LOG_INDEX: HeaderName = HeaderName::from_static("x-entente-log-index");

/// A serialised TAXII 2.1 body plus its status and optional date_added range.
#[derive(Debug)]
pub struct Taxii {
    status: StatusCode,
    body: Vec<u8>,
    date_added: Option<(Timestamp, Timestamp)>,
    log_index: Option<u64>,
}

impl Taxii {
    /// A 200 answer with an already-serialised body.
    pub fn raw(body: Vec<u8>) -> Taxii {
        Taxii {
            status: StatusCode::OK,
            body,
            date_added: None,
            log_index: None,
        }
    }

    /// A 200 answer serialising `value`.
    pub fn json(value: &impl Serialize) -> Taxii {
        // Serialising our own resource types cannot fail (string keys, no maps of
        // non-string keys); an empty object is the harmless fallback.
        Taxii::raw(serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec()))
    }

    /// Sets the status code.
    pub fn status(mut self, status: StatusCode) -> Taxii {
        self.status = status;
        self
    }

    /// Adds the date_added headers for a page whose items span `first..=last`; nothing for
    /// an empty page (`None`).
    pub fn date_added(mut self, range: Option<(Timestamp, Timestamp)>) -> Taxii {
        self.date_added = range;
        self
    }

    /// Adds the `X-Entente-Log-Index` header (nothing for `None`).
    pub fn log_index(mut self, index: Option<u64>) -> Taxii {
        self.log_index = index;
        self
    }
}

impl IntoResponse for Taxii {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(taxii::TAXII_21),
        );
        if let Some((first, last)) = self.date_added {
            for (name, ts) in [(&DATE_ADDED_FIRST, first), (&DATE_ADDED_LAST, last)] {
                if let Ok(value) = HeaderValue::from_str(&ts.to_string()) {
                    headers.insert(name.clone(), value);
                }
            }
        }
        if let Some(index) = self.log_index {
            headers.insert(LOG_INDEX.clone(), HeaderValue::from(index));
        }
        response
    }
}

/// A TAXII 2.1 JSON response with `status`; used by the error mapping too.
pub fn taxii_body(status: StatusCode, value: &impl Serialize) -> Response {
    Taxii::json(value).status(status).into_response()
}

/// The first and last date_added of a page, for the headers.
pub fn range_of<T>(
    items: &[T],
    date_added: impl Fn(&T) -> Timestamp,
) -> Option<(Timestamp, Timestamp)> {
    Some((date_added(items.first()?), date_added(items.last()?)))
}
