//! Turning a POSTed envelope into objects to store and per-object failures (TAXII 2.1
//! §5.4), before the store sees anything.
//!
//! Each object is checked on its own, so one bad object never costs the others their
//! place (issue 5: "invalid ones are listed as failures with the reason, the valid ones in
//! the same envelope are stored"):
//!
//! 1. it must parse as a STIX object (strict JSON: no duplicate keys, RFC 7493 §2.3);
//! 2. it must pass the `stix` validator's MUST rules, indicator patterns included (checked
//!    by the `pattern` crate under [`Limits::max_pattern_len`]);
//! 3. its TLP level must be allowed in the collection (DESIGN.md "Access"); a marking the
//!    server does not recognise counts as TLP:RED, the most careful reading. A `statement`
//!    marking-definition (copyright, terms of use — MITRE ATT&CK marks every object with
//!    one) is recognised when it is defined in the same envelope or already stored in the
//!    collection ([`StatementMarkings`]): it says nothing about who may see an object, so it
//!    does not narrow its audience.
//!
//! What goes wrong with the envelope as a whole (not JSON, not an envelope, too many
//! objects) is an [`ApiError`] and nothing is stored. This module is synchronous and
//! CPU-bound; the handler runs it on the blocking pool.

use stix::{Severity, StixObject, TlpLevel, ValidateOptions};
use store::{CollectionFlags, NewObject, StatusDetail, tlp_policy};
use taxii::envelope::RawEnvelope;

use crate::config::Limits;
use crate::error::ApiError;

/// The fate of one posted object before the store is asked.
#[derive(Debug)]
pub enum Slot {
    /// Refused here; the detail carries the reason.
    Failed(StatusDetail),
    /// To be stored: index into [`Prepared::to_store`].
    Store(usize),
}

/// A checked envelope.
#[derive(Debug, Default)]
pub struct Prepared {
    /// One slot per posted object, in order.
    pub slots: Vec<Slot>,
    /// The objects that passed every check, in order.
    pub to_store: Vec<NewObject>,
    /// Ids of the `statement` marking-definitions among `to_store` (the queue makes them
    /// known to later envelopes before they are stored, `crate::queue`).
    pub statements: Vec<String>,
}

impl Prepared {
    /// The objects refused here, each with why, in the order posted.
    pub fn failures(&self) -> Vec<StatusDetail> {
        self.slots
            .iter()
            .filter_map(|slot| match slot {
                Slot::Failed(detail) => Some(detail.clone()),
                Slot::Store(_) => None,
            })
            .collect()
    }
}

/// Ids of `statement` marking-definitions (STIX 2.1 §7.2.1.3) the server knows: markings
/// that carry a statement such as a copyright, not an audience.
#[derive(Debug, Clone, Default)]
pub struct StatementMarkings(std::collections::HashSet<String>);

impl StatementMarkings {
    /// Records `object` when it is a marking-definition whose `definition_type` is
    /// `statement`; returns whether it was one.
    pub fn record(&mut self, object: &StixObject) -> bool {
        let is_statement = object.type_name() == Some("marking-definition")
            && object.get("definition_type").and_then(|v| v.as_str()) == Some("statement");
        if is_statement && let Some(id) = object.id() {
            self.0.insert(id.to_owned());
        }
        is_statement
    }

    /// Records the ids of statement markings known from elsewhere (e.g. envelopes queued
    /// but not stored yet, `crate::queue`).
    pub fn extend(&mut self, ids: impl IntoIterator<Item = String>) {
        self.0.extend(ids);
    }

    /// Whether `id` is a known statement marking.
    pub fn contains(&self, id: &str) -> bool {
        self.0.contains(id)
    }

    /// How many are known.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is known.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The statement marking-definitions stored in a collection (at most the newest 10,000),
/// for [`prepare_with`]: a producer that defined its statement in an earlier envelope may
/// refer to it in later ones.
///
/// Asked through [`store::Store::search_objects`], whose type filter is a range of a
/// `(collection, type, date_added)` index, so the cost is that of the marking-definitions
/// stored. The TAXII query (`query_objects` with `match[type]`) walks the collection in
/// date_added order and filters the type: every POST that carried a marking paid a scan of
/// the whole collection (~0.5 s per envelope at 1,000,000 objects).
pub async fn stored_statement_markings(
    store: &dyn store::Store,
    collection_id: &str,
) -> Result<StatementMarkings, ApiError> {
    let mut known = StatementMarkings::default();
    let query = store::SearchQuery {
        types: vec!["marking-definition".to_owned()],
        limit: 10_000,
        max_tlp: TlpLevel::Red,
        ..store::SearchQuery::default()
    };
    let page = store.search_objects(collection_id, &query).await?;
    for stored in &page.items {
        if let Ok(object) = StixObject::from_json_str(&stored.raw_json) {
            known.record(&object);
        }
    }
    Ok(known)
}

/// Parses and checks an envelope for a collection with `flags`; statement markings are
/// recognised when the envelope defines them.
pub fn prepare(body: &[u8], flags: CollectionFlags, limits: &Limits) -> Result<Prepared, ApiError> {
    prepare_with(body, flags, limits, StatementMarkings::default())
}

/// [`prepare`], also recognising the statement markings in `known` (e.g. those stored in
/// the collection, [`stored_statement_markings`]).
pub fn prepare_with(
    body: &[u8],
    flags: CollectionFlags,
    limits: &Limits,
    mut known: StatementMarkings,
) -> Result<Prepared, ApiError> {
    let objects = envelope_objects(body, limits)?;
    let pattern_options = pattern_options(limits);
    let checker = |text: &str, version: &str| check_pattern(text, version, &pattern_options);
    let options = validate_options(&checker);
    let mut prepared = Prepared {
        slots: Vec::with_capacity(objects.len()),
        to_store: Vec::with_capacity(objects.len()),
        statements: Vec::new(),
    };
    // The envelope's own statement markings first: ATT&CK defines its copyright marking
    // after objects that carry it. Only objects that name the type are parsed here.
    let mut defined_here = Vec::new();
    for raw in &objects {
        if raw.get().contains("\"statement\"")
            && let Ok(object) = StixObject::from_json_str(raw.get())
            && known.record(&object)
            && let Some(id) = object.id()
        {
            defined_here.push(id.to_owned());
        }
    }
    for (index, raw) in objects.into_iter().enumerate() {
        let slot = match check_object(raw.get(), index, flags, &options, &known) {
            Ok(object) => {
                prepared.to_store.push(object);
                Slot::Store(prepared.to_store.len() - 1)
            }
            Err(detail) => Slot::Failed(detail),
        };
        prepared.slots.push(slot);
    }
    // Only the definitions that passed their own checks will be stored.
    prepared.statements = defined_here
        .into_iter()
        .filter(|id| prepared.to_store.iter().any(|o| &o.id == id))
        .collect();
    Ok(prepared)
}

/// The objects of an envelope, each its JSON text; what is wrong with the envelope as a
/// whole (not JSON, no `objects` list, more objects than the limit) is the error.
fn envelope_objects<'a>(
    body: &'a [u8],
    limits: &Limits,
) -> Result<Vec<&'a serde_json::value::RawValue>, ApiError> {
    let envelope = RawEnvelope::from_slice(body).map_err(|e| {
        if e.is_data() {
            ApiError::Unprocessable(format!("not a TAXII envelope: {e}"))
        } else {
            ApiError::BadRequest(format!("the request body is not JSON: {e}"))
        }
    })?;
    let objects = envelope.objects.ok_or_else(|| {
        ApiError::Unprocessable("the envelope has no \"objects\" list (TAXII 2.1 §3.7)".into())
    })?;
    if objects.len() > limits.max_objects_per_envelope {
        return Err(ApiError::TooLarge(format!(
            "the envelope holds {} objects; at most {} are accepted per request",
            objects.len(),
            limits.max_objects_per_envelope
        )));
    }
    Ok(objects)
}

/// The pattern checks the server applies: STIX 2.1 patterns up to the configured length.
fn pattern_options(limits: &Limits) -> pattern::Options {
    pattern::Options {
        version: pattern::StixVersion::V21,
        limits: pattern::Limits {
            max_len: limits.max_pattern_len,
            ..pattern::Limits::default()
        },
    }
}

/// The validator's options on the ingest path, with `checker` for indicator patterns.
fn validate_options<'a>(
    checker: &'a dyn Fn(&str, &str) -> Result<(), String>,
) -> ValidateOptions<'a> {
    ValidateOptions {
        pattern_checker: Some(checker),
        // A warning, not a MUST; skip the hashing work on the ingest path.
        check_deterministic_ids: false,
        ..ValidateOptions::default()
    }
}

/// What a queued POST answers before its envelope is validated (`crate::queue`): each
/// object that names an id and a type is pending, listed with that id and its version
/// (`modified`, else `created`); one that does not is a failure at once, with the reason
/// validation gives it. Only these few members are read, so the request's answer does not
/// wait for the full checks, which [`prepare_with`] makes afterwards.
#[derive(Debug, Default)]
pub struct Outline {
    /// Objects refused already, in the order posted.
    pub failures: Vec<StatusDetail>,
    /// Objects to validate and store, in the order posted.
    pub pendings: Vec<StatusDetail>,
}

/// The members of an object an [`Outline`] reads; the others are skipped unparsed.
#[derive(serde::Deserialize)]
struct Head {
    id: Option<String>,
    #[serde(rename = "type")]
    type_name: Option<String>,
    modified: Option<String>,
    created: Option<String>,
}

/// Outlines an envelope: the same envelope-level errors as [`prepare_with`], then each
/// object pending or failed (see [`Outline`]).
pub fn outline(body: &[u8], flags: CollectionFlags, limits: &Limits) -> Result<Outline, ApiError> {
    let objects = envelope_objects(body, limits)?;
    let mut outline = Outline {
        failures: Vec::new(),
        pendings: Vec::with_capacity(objects.len()),
    };
    for (index, raw) in objects.iter().enumerate() {
        let head = serde_json::from_str::<Head>(raw.get())
            .ok()
            .and_then(|head| {
                head.type_name.as_ref()?;
                Some((head.id?, head.modified.or(head.created)))
            });
        let Some((id, version)) = head else {
            // Rare: the full checks say why, in the words the complete status will use.
            let pattern_options = pattern_options(limits);
            let checker =
                |text: &str, version: &str| check_pattern(text, version, &pattern_options);
            let known = StatementMarkings::default();
            match check_object(raw.get(), index, flags, &validate_options(&checker), &known) {
                Err(detail) => outline.failures.push(detail),
                Ok(object) => outline.pendings.push(StatusDetail::pending(&object)),
            }
            continue;
        };
        let version = version
            .map(|text| match stix::Timestamp::parse(&text) {
                Ok(parsed) => parsed.to_string(),
                Err(_) => text,
            })
            .unwrap_or_default();
        outline.pendings.push(StatusDetail {
            id,
            version,
            message: None,
        });
    }
    Ok(outline)
}

/// The statement markings an envelope's checks need from the store: the collection's
/// stored ones when the envelope names a marking other than TLP
/// ([`names_other_markings`]), else none.
pub async fn stored_statements_for(
    store: &dyn store::Store,
    collection_id: &str,
    body: &[u8],
) -> Result<StatementMarkings, ApiError> {
    if names_other_markings(body) {
        stored_statement_markings(store, collection_id).await
    } else {
        Ok(StatementMarkings::default())
    }
}

/// Whether an envelope names a marking-definition that is not a TLP marking (any scheme
/// `stix::tlp` knows): only then can the collection's stored statement markings
/// ([`stored_statement_markings`]) change how its objects are judged, so only then are
/// they looked up. The ids are found in the bytes; one spelled with JSON escapes is missed
/// here, and then counts as an unknown marking (TLP:RED), the careful side.
pub fn names_other_markings(bytes: &[u8]) -> bool {
    const PREFIX: &[u8] = b"marking-definition--";
    const UUID_LEN: usize = 36;
    memchr::memmem::find_iter(bytes, PREFIX).any(|at| {
        let id = bytes.get(at..at + PREFIX.len() + UUID_LEN);
        match id.and_then(|id| std::str::from_utf8(id).ok()) {
            Some(id) => TlpLevel::from_marking_id(id).is_none(),
            None => true,
        }
    })
}

/// Checks one object; the failure detail says why it was refused.
fn check_object(
    raw: &str,
    index: usize,
    flags: CollectionFlags,
    options: &ValidateOptions<'_>,
    statements: &StatementMarkings,
) -> Result<NewObject, StatusDetail> {
    let object = StixObject::from_json_str(raw).map_err(|e| StatusDetail {
        id: id_in_raw(raw),
        version: String::new(),
        message: Some(format!("/objects/{index}: not a STIX object: {e}")),
    })?;
    let fail = |message: String| StatusDetail {
        id: object.id().unwrap_or_default().to_owned(),
        version: object.version().map(|v| v.to_string()).unwrap_or_default(),
        message: Some(message),
    };
    let errors: Vec<String> = stix::validate_object(&object, options)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(fail(errors.join("; ")));
    }
    let level = tlp_level_with(&object, statements);
    if let Some(reason) = tlp_policy::refusal_reason(level, flags) {
        return Err(fail(reason));
    }
    NewObject::from_stix(&object, level)
        .ok_or_else(|| fail("the object has no id or no type".into()))
}

/// The object's TLP level: the most restrictive of its markings, object-level and
/// granular; unmarked objects are TLP:CLEAR. A marking-definition id that is not a known
/// TLP id (any scheme, see `stix::tlp`) counts as TLP:RED: the server cannot tell who may
/// see it, so it treats it as the narrowest audience (issue 5, item 3).
pub fn tlp_level(object: &StixObject) -> TlpLevel {
    tlp_level_with(object, &StatementMarkings::default())
}

/// [`tlp_level`], where the known statement markings restrict nothing (TLP:CLEAR).
pub fn tlp_level_with(object: &StixObject, statements: &StatementMarkings) -> TlpLevel {
    object
        .all_marking_refs()
        .map(|id| match TlpLevel::from_marking_id(id) {
            Some((level, _)) => level,
            None if statements.contains(id) => TlpLevel::Clear,
            None => TlpLevel::Red,
        })
        .max()
        .unwrap_or(TlpLevel::Clear)
}

/// The `pattern` crate's validator in the shape `stix::ValidateOptions` wants. The stix
/// crate calls it only for `pattern_type: "stix"`; an unknown `pattern_version` is checked
/// as 2.1, which STIX 2.1 §4.7 says to assume when none is given.
fn check_pattern(text: &str, version: &str, base: &pattern::Options) -> Result<(), String> {
    let options = pattern::Options {
        version: version.parse().unwrap_or(pattern::StixVersion::V21),
        limits: base.limits.clone(),
    };
    pattern::validate_with(text, &options)
        .map(drop)
        .map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("{} at column {} ({})", e.message, e.column, e.code))
                .collect::<Vec<_>>()
                .join("; ")
        })
}

/// The `id` of an object that did not parse as STIX, if its JSON has one, so the failure
/// can still name it; empty otherwise.
fn id_in_raw(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORGS: CollectionFlags = CollectionFlags {
        public_read: false,
        restricted: false,
    };
    const PUBLIC: CollectionFlags = CollectionFlags {
        public_read: true,
        restricted: false,
    };

    fn indicator(id: &str, extra: &str) -> String {
        format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2024-05-01T00:00:00.000Z","modified":"2024-05-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-05-01T00:00:00Z"{extra}}}"#
        )
    }

    const ID1: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    const ID2: &str = "indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2";
    const GREEN: &str =
        r#","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]"#;
    const UNKNOWN: &str =
        r#","object_marking_refs":["marking-definition--0f0e0d0c-aed9-4cf5-a766-dfca5abac2bb"]"#;

    fn run(objects: &[String], flags: CollectionFlags) -> Prepared {
        let body = format!(r#"{{"objects":[{}]}}"#, objects.join(","));
        prepare(body.as_bytes(), flags, &Limits::default()).unwrap()
    }

    #[test]
    fn keeps_good_objects_and_lists_bad_ones() {
        let bad_pattern = indicator(ID2, "").replace("198.51.100.1']", "198.51.100.1'");
        let p = run(&[indicator(ID1, ""), bad_pattern], ORGS);
        assert_eq!(p.to_store.len(), 1);
        assert_eq!(p.to_store[0].raw_json, indicator(ID1, ""));
        match &p.slots[1] {
            Slot::Failed(d) => {
                assert_eq!(d.id, ID2);
                assert!(d.message.as_deref().unwrap().contains("pattern"), "{d:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tlp_refusals() {
        let p = run(&[indicator(ID1, GREEN)], PUBLIC);
        assert!(
            matches!(&p.slots[0], Slot::Failed(d) if d.message.as_deref().unwrap().contains("TLP:GREEN"))
        );
        let p = run(&[indicator(ID1, GREEN)], ORGS);
        assert_eq!(p.to_store[0].tlp, TlpLevel::Green);
        // An unknown marking is RED, refused outside restricted collections.
        let p = run(&[indicator(ID1, UNKNOWN)], ORGS);
        assert!(
            matches!(&p.slots[0], Slot::Failed(d) if d.message.as_deref().unwrap().contains("TLP:RED"))
        );
    }

    #[test]
    fn only_markings_other_than_tlp_need_the_stored_statements() {
        assert!(!names_other_markings(indicator(ID1, "").as_bytes()));
        // GREEN above is a TLP 2.0 id; every id of every scheme the server maps counts.
        assert!(!names_other_markings(indicator(ID1, GREEN).as_bytes()));
        for (_, id) in stix::tlp::TLP2_IDS.iter().chain(stix::tlp::TLP1_IDS.iter()) {
            let refs = format!(r#","object_marking_refs":["{id}"]"#);
            assert!(
                !names_other_markings(indicator(ID1, &refs).as_bytes()),
                "{id}"
            );
        }
        assert!(names_other_markings(indicator(ID1, UNKNOWN).as_bytes()));
        // A statement defined in the envelope, and an id cut short by the end of the body.
        assert!(names_other_markings(
            br#"{"objects":[{"type":"marking-definition","id":"marking-definition--0f0e0d0c-aed9-4cf5-a766-dfca5abac2bb"}]}"#
        ));
        assert!(names_other_markings(b"marking-definition--34098fce-860f"));
    }

    #[test]
    fn an_outline_lists_pendings_and_refuses_only_what_has_no_id_or_type() {
        let bad_pattern = indicator(ID2, "").replace("198.51.100.1']", "198.51.100.1'");
        let body = format!(
            r#"{{"objects":[{},{},{{"type":"indicator"}},{{"id":5,"type":"indicator"}},{}]}}"#,
            indicator(ID1, UNKNOWN),
            bad_pattern,
            r#"{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}"#
        );
        let outline = outline(body.as_bytes(), ORGS, &Limits::default()).unwrap();
        // Validation's business, later: the unknown marking, the broken pattern.
        let pending: Vec<(&str, &str)> = outline
            .pendings
            .iter()
            .map(|d| (d.id.as_str(), d.version.as_str()))
            .collect();
        assert_eq!(
            pending,
            vec![
                (ID1, "2024-05-01T00:00:00.000Z"),
                (ID2, "2024-05-01T00:00:00.000Z"),
                ("ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", ""),
            ]
        );
        assert_eq!(outline.failures.len(), 2, "{:?}", outline.failures);
        for failure in &outline.failures {
            assert!(
                failure.message.as_deref().unwrap().contains("id"),
                "{failure:?}"
            );
        }
        // The whole envelope is judged as prepare judges it.
        let limits = Limits {
            max_objects_per_envelope: 1,
            ..Limits::default()
        };
        assert!(matches!(
            ingest_outline_error(body.as_bytes(), &limits),
            ApiError::TooLarge(_)
        ));
        assert!(matches!(
            ingest_outline_error(b"[]", &Limits::default()),
            ApiError::Unprocessable(_)
        ));
    }

    fn ingest_outline_error(body: &[u8], limits: &Limits) -> ApiError {
        match outline(body, ORGS, limits) {
            Err(e) => e,
            Ok(o) => panic!("outlined: {o:?}"),
        }
    }

    #[test]
    fn envelope_level_errors() {
        let limits = Limits {
            max_objects_per_envelope: 1,
            ..Limits::default()
        };
        let two = format!(
            r#"{{"objects":[{},{}]}}"#,
            indicator(ID1, ""),
            indicator(ID2, "")
        );
        assert!(matches!(
            prepare(two.as_bytes(), ORGS, &limits),
            Err(ApiError::TooLarge(_))
        ));
        assert!(matches!(
            prepare(b"{nope", ORGS, &limits),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            prepare(b"{\"more\":false}", ORGS, &limits),
            Err(ApiError::Unprocessable(_))
        ));
        assert!(matches!(
            prepare(b"{\"objects\":3}", ORGS, &limits),
            Err(ApiError::Unprocessable(_))
        ));
        let p = prepare(br#"{"objects":[{"no":"id"}]}"#, ORGS, &limits).unwrap();
        assert!(matches!(&p.slots[0], Slot::Failed(_)));
    }
}
