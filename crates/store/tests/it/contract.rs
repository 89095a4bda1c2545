//! The backend-agnostic contract every [`Store`] implementation must pass.
//!
//! Each test is an async function taking a fresh, empty `Arc<dyn Store>`; a backend module
//! (`sqlite.rs`, later `postgres.rs`) runs all of them through its own `contract_tests!`
//! invocation. Failures are panics with a message naming the broken rule.

use std::collections::HashSet;
use std::sync::Arc;
use store::*;

/// A fresh store for one test.
pub type S = Arc<dyn Store>;

/// Every contract test, by name, for the backend modules' macro.
#[macro_export]
macro_rules! contract_tests {
    ($make:path) => {
        $crate::contract_tests!(@each $make;
            accounts_and_names,
            tokens_are_secret_and_revocable,
            collections_grants_and_access,
            add_and_read_back_exact_bytes,
            digested_objects_store_as_plain_ones,
            duplicates_are_kept_once,
            unversioned_objects_dedupe_by_content,
            date_added_strictly_increasing_under_concurrent_writers,
            paging_never_skips_or_repeats_while_writing,
            version_matching,
            filters,
            manifest_and_versions,
            deletion,
            tlp_storage_rule_refuses_and_stores_nothing,
            reads_filter_by_audience_before_paging,
            status_lifecycle,
            envelopes_store_with_their_statuses,
            log_entries_follow_writes,
            bad_next_token_is_invalid,
            unknown_collection_is_not_found,
            latest_versions_of_many_ids,
            latest_version_marks_follow_every_write,
        );
    };
    (@each $make:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let (store, _guard) = $make();
                $crate::contract::$name(store).await;
            }
        )*
    };
}

/// An indicator's JSON with a chosen id suffix and `modified`.
pub fn indicator_json(n: u64, modified: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{n:012}","created":"2020-01-01T00:00:00.000Z","modified":"{modified}","pattern":"[ipv4-addr:value = '10.0.0.{}']","pattern_type":"stix","valid_from":"2020-01-01T00:00:00Z"}}"#,
        n % 256
    )
}

/// The id [`indicator_json`] gives object `n`.
pub fn indicator_id(n: u64) -> String {
    format!("indicator--00000000-0000-4000-8000-{n:012}")
}

/// A `NewObject` for indicator `n` at `modified`, marked `tlp`.
pub fn indicator(n: u64, modified: &str, tlp: TlpLevel) -> NewObject {
    NewObject {
        id: indicator_id(n),
        type_name: "indicator".into(),
        spec_version: "2.1".into(),
        version: Some(Timestamp::parse(modified).expect("test timestamp")),
        raw_json: indicator_json(n, modified),
        tlp,
        revoked: false,
    }
}

const T1: &str = "2021-01-01T00:00:00.000Z";
const T2: &str = "2021-06-01T00:00:00.000Z";
const T3: &str = "2022-01-01T00:00:00.000Z";

/// An org `acme` with a user `alice`, a root `r` and a collection granted to `acme` with
/// `grant`; returns the collection and alice's principal.
async fn setup(store: &S, flags: CollectionFlags, grant: Grant) -> (Collection, Principal) {
    if store.org("acme").await.unwrap().is_none() {
        store.create_org("acme").await.unwrap();
        store.create_user("alice", "acme", false).await.unwrap();
        store
            .create_api_root(&NewApiRoot {
                name: "r".into(),
                title: "R".into(),
                description: None,
            })
            .await
            .unwrap();
    }
    let c = store
        .create_collection(&NewCollection {
            api_root: "r".into(),
            title: "c".into(),
            flags,
            ..Default::default()
        })
        .await
        .unwrap();
    if grant != Grant::NONE {
        if flags.restricted {
            store.grant_user(&c.id, "alice", grant).await.unwrap();
        } else {
            store.grant_org(&c.id, "acme", grant).await.unwrap();
        }
    }
    let token = store.create_token("alice").await.unwrap();
    let p = store.authenticate(&token.secret).await.unwrap().unwrap();
    (c, p)
}

/// A root `r` with one collection; returns its id.
pub async fn collection(store: &dyn Store) -> String {
    store
        .create_api_root(&NewApiRoot {
            name: "r".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    store
        .create_collection(&NewCollection {
            api_root: "r".into(),
            title: "c".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .id
}

fn all_versions(max_tlp: TlpLevel) -> ObjectQuery {
    ObjectQuery {
        versions: vec![VersionMatch::All],
        limit: 100_000,
        max_tlp,
        ..Default::default()
    }
}

fn added(outcomes: &[AddOutcome]) -> usize {
    outcomes
        .iter()
        .filter(|o| matches!(o.result, AddResult::Added { .. }))
        .count()
}

pub async fn accounts_and_names(store: S) {
    let org = store.create_org("acme").await.unwrap();
    assert_eq!(org.name, "acme");
    assert!(matches!(
        store.create_org("acme").await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert!(matches!(
        store.create_org("").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_user("bob", "nope", false).await,
        Err(StoreError::NotFound { .. })
    ));
    let u = store.create_user("bob", "acme", true).await.unwrap();
    assert!(u.admin);
    assert_eq!(u.org_name, "acme");
    assert_eq!(store.user("bob").await.unwrap(), Some(u.clone()));
    assert_eq!(store.user("nobody").await.unwrap(), None);
    store.create_org("beta").await.unwrap();
    let names: Vec<_> = store
        .list_orgs()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["acme", "beta"]);
    assert_eq!(store.list_users().await.unwrap(), vec![u]);
    assert!(matches!(
        store
            .create_api_root(&NewApiRoot {
                name: "a/b".into(),
                ..Default::default()
            })
            .await,
        Err(StoreError::Invalid(_))
    ));
    let root = store
        .create_api_root(&NewApiRoot {
            name: "intel".into(),
            title: String::new(),
            description: Some("d".into()),
        })
        .await
        .unwrap();
    assert_eq!(root.title, "intel", "an empty title defaults to the name");
    assert_eq!(store.api_root("intel").await.unwrap(), Some(root.clone()));
    assert_eq!(store.list_api_roots().await.unwrap(), vec![root]);
}

pub async fn tokens_are_secret_and_revocable(store: S) {
    store.create_org("acme").await.unwrap();
    store.create_user("alice", "acme", false).await.unwrap();
    store.create_user("bob", "acme", false).await.unwrap();
    let t = store.create_token("alice").await.unwrap();
    assert_eq!(t.secret.len(), 64);
    let p = store
        .authenticate(&t.secret)
        .await
        .unwrap()
        .expect("token works");
    assert_eq!(
        (p.user_name.as_str(), p.org_name.as_str(), p.admin),
        ("alice", "acme", false)
    );
    // Basic auth: the token must belong to the named user.
    assert!(
        store
            .authenticate_basic("alice", &t.secret)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .authenticate_basic("bob", &t.secret)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.authenticate("wrong").await.unwrap().is_none());
    let mut flipped = t.secret.clone().into_bytes();
    flipped[0] = if flipped[0] == b'a' { b'b' } else { b'a' };
    assert!(
        store
            .authenticate(std::str::from_utf8(&flipped).unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let listed = store.list_tokens(Some("alice")).await.unwrap();
    assert_eq!(listed, vec![t.info.clone()]);
    assert!(store.list_tokens(Some("bob")).await.unwrap().is_empty());
    store.revoke_token(t.info.id).await.unwrap();
    assert!(
        store.authenticate(&t.secret).await.unwrap().is_none(),
        "revoked"
    );
    assert!(store.list_tokens(None).await.unwrap()[0].revoked);
    assert!(matches!(
        store.revoke_token(9999).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.create_token("nobody").await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn collections_grants_and_access(store: S) {
    let (orgs, alice) = setup(&store, CollectionFlags::default(), Grant::READ).await;
    assert_eq!(orgs.media_types, ["application/stix+json;version=2.1"]);
    assert!(uuid_like(&orgs.id));
    assert!(matches!(
        store
            .create_collection(&NewCollection {
                api_root: "r".into(),
                title: "x".into(),
                flags: CollectionFlags {
                    public_read: true,
                    restricted: true
                },
                ..Default::default()
            })
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .create_collection(&NewCollection {
                api_root: "missing".into(),
                title: "x".into(),
                ..Default::default()
            })
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let (_, a) = store.access(Some(&alice), &orgs.id).await.unwrap().unwrap();
    assert_eq!(
        a,
        Access {
            read: true,
            write: false,
            max_tlp: TlpLevel::AmberStrict
        }
    );
    store
        .grant_org(&orgs.id, "acme", Grant::READ_WRITE)
        .await
        .unwrap();
    assert!(
        store
            .access(Some(&alice), &orgs.id)
            .await
            .unwrap()
            .unwrap()
            .1
            .write
    );
    assert_eq!(
        store.grants(&orgs.id).await.unwrap(),
        vec![GrantEntry {
            grantee: Grantee::Org("acme".into()),
            grant: Grant::READ_WRITE
        }]
    );
    // Anonymous callers see nothing of a non-public collection.
    assert_eq!(
        store.access(None, &orgs.id).await.unwrap().unwrap().1,
        Access::NONE
    );
    assert!(store.access(None, "no-such-id").await.unwrap().is_none());

    let public = store
        .create_collection(&NewCollection {
            api_root: "r".into(),
            title: "public".into(),
            flags: CollectionFlags {
                public_read: true,
                restricted: false,
            },
            ..Default::default()
        })
        .await
        .unwrap();
    let restricted = store
        .create_collection(&NewCollection {
            api_root: "r".into(),
            title: "red".into(),
            flags: CollectionFlags {
                public_read: false,
                restricted: true,
            },
            ..Default::default()
        })
        .await
        .unwrap();
    // An organization grant does not open a restricted collection.
    store
        .grant_org(&restricted.id, "acme", Grant::READ_WRITE)
        .await
        .unwrap();
    assert_eq!(
        store
            .access(Some(&alice), &restricted.id)
            .await
            .unwrap()
            .unwrap()
            .1,
        Access::NONE
    );
    store
        .grant_user(&restricted.id, "alice", Grant::READ)
        .await
        .unwrap();
    assert_eq!(
        store
            .access(Some(&alice), &restricted.id)
            .await
            .unwrap()
            .unwrap()
            .1
            .max_tlp,
        TlpLevel::Red
    );
    let visible: Vec<_> = store
        .collections_for(Some(&alice), "r")
        .await
        .unwrap()
        .into_iter()
        .map(|(c, _)| c.id)
        .collect();
    assert_eq!(
        visible,
        [orgs.id.clone(), public.id.clone(), restricted.id.clone()]
    );
    let anon: Vec<_> = store
        .collections_for(None, "r")
        .await
        .unwrap()
        .into_iter()
        .map(|(c, _)| c.id)
        .collect();
    assert_eq!(anon, std::slice::from_ref(&public.id));
    // Removing a grant.
    store
        .grant_user(&restricted.id, "alice", Grant::NONE)
        .await
        .unwrap();
    assert!(
        !store
            .access(Some(&alice), &restricted.id)
            .await
            .unwrap()
            .unwrap()
            .1
            .any()
    );
    assert_eq!(store.list_collections(Some("r")).await.unwrap().len(), 3);
    assert_eq!(store.collection(&public.id).await.unwrap(), Some(public));
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.bytes().filter(|b| *b == b'-').count() == 4
}

pub async fn add_and_read_back_exact_bytes(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    // Odd spacing and key order must survive byte for byte.
    let raw = format!(
        "{{ \"spec_version\":\"2.1\" ,\"type\":\"indicator\", \"id\":\"{}\",\"modified\":\"{T1}\",\"created\":\"{T1}\",\"x\":1.50}}",
        indicator_id(1)
    );
    let mut o = indicator(1, T1, TlpLevel::Green);
    o.raw_json = raw.clone();
    let out = store.add_objects(&c.id, vec![o]).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].version, T1);
    let AddResult::Added { date_added } = out[0].result else {
        panic!("not added: {:?}", out[0]);
    };
    let page = store
        .query_objects(&c.id, &all_versions(TlpLevel::AmberStrict))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let got = &page.items[0];
    assert_eq!(got.raw_json, raw);
    assert_eq!(got.date_added, date_added);
    assert_eq!(
        (
            got.id.as_str(),
            got.type_name.as_str(),
            got.version.as_str()
        ),
        (indicator_id(1).as_str(), "indicator", T1)
    );
    assert_eq!(got.tlp, TlpLevel::Green);
    assert!(!page.more && page.next.is_none());
}

/// Objects hashed by the caller (`Digested`, as `entente import` hands them over) store as
/// plain ones do: the same outcomes, duplicates told apart, the log's entry committing to
/// the body's SHA-256.
pub async fn digested_objects_store_as_plain_ones(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    let out = store
        .add_digested(
            &c.id,
            vec![
                Digested::of(indicator(1, T1, TlpLevel::Clear)),
                Digested::of(indicator(2, T1, TlpLevel::Red)),
                Digested::of(indicator(1, T1, TlpLevel::Clear)),
            ],
        )
        .await
        .unwrap();
    assert!(
        matches!(out[0].result, AddResult::Added { .. }),
        "{:?}",
        out[0]
    );
    assert!(
        matches!(out[1].result, AddResult::Failed { .. }),
        "{:?}",
        out[1]
    );
    assert!(
        matches!(out[2].result, AddResult::Duplicate { .. }),
        "{:?}",
        out[2]
    );
    let again = store
        .add_objects(&c.id, vec![indicator(1, T1, TlpLevel::Clear)])
        .await
        .unwrap();
    assert!(matches!(again[0].result, AddResult::Duplicate { .. }));
    let (_, entry) = store
        .log_lookup(&c.id, &indicator_id(1), T1)
        .await
        .unwrap()
        .expect("logged");
    let sha = store::log_entry::content_hash(&indicator_json(1, T1));
    assert!(
        String::from_utf8(entry).unwrap().contains(&sha),
        "the entry commits to the body's hash"
    );
}

pub async fn duplicates_are_kept_once(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    let first = store
        .add_objects(&c.id, vec![indicator(1, T1, TlpLevel::Clear)])
        .await
        .unwrap();
    // Same (id, version) again, in a later envelope and twice in one envelope; a
    // different precision of the same instant is the same version.
    let again = store
        .add_objects(
            &c.id,
            vec![
                indicator(1, T1, TlpLevel::Clear),
                indicator(1, "2021-01-01T00:00:00Z", TlpLevel::Clear),
                indicator(2, T1, TlpLevel::Clear),
                indicator(2, T1, TlpLevel::Clear),
            ],
        )
        .await
        .unwrap();
    let AddResult::Added { date_added } = first[0].result else {
        panic!()
    };
    assert_eq!(again[0].result, AddResult::Duplicate { date_added });
    assert!(matches!(again[1].result, AddResult::Duplicate { .. }));
    assert!(matches!(again[2].result, AddResult::Added { .. }));
    assert!(matches!(again[3].result, AddResult::Duplicate { .. }));
    assert!(again.iter().all(|o| o.result.is_success()));
    let page = store
        .query_objects(&c.id, &all_versions(TlpLevel::Clear))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(
        store.log_size().await.unwrap(),
        2,
        "a duplicate is not logged"
    );
}

pub async fn unversioned_objects_dedupe_by_content(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    let sco = |value: &str| NewObject {
        id: "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd".into(),
        type_name: "ipv4-addr".into(),
        spec_version: "2.1".into(),
        version: None,
        raw_json: format!(
            r#"{{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"{value}"}}"#
        ),
        tlp: TlpLevel::Clear,
        revoked: false,
    };
    let a = store
        .add_objects(&c.id, vec![sco("198.51.100.3")])
        .await
        .unwrap();
    let AddResult::Added { date_added } = a[0].result else {
        panic!()
    };
    assert_eq!(
        a[0].version,
        date_added.to_string(),
        "version is the date_added"
    );
    let b = store
        .add_objects(&c.id, vec![sco("198.51.100.3")])
        .await
        .unwrap();
    assert_eq!(b[0].result, AddResult::Duplicate { date_added });
    assert_eq!(b[0].version, a[0].version);
    let d = store
        .add_objects(&c.id, vec![sco("198.51.100.4")])
        .await
        .unwrap();
    assert!(
        matches!(d[0].result, AddResult::Added { .. }),
        "new content, new version"
    );
}

pub async fn date_added_strictly_increasing_under_concurrent_writers(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    let writers = 6u64;
    let envelopes = 15u64;
    let per = 10u64;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        let id = c.id.clone();
        tasks.push(tokio::spawn(async move {
            let mut stamps = Vec::new();
            for e in 0..envelopes {
                let objs = (0..per)
                    .map(|i| indicator(w * 1_000_000 + e * 1000 + i, T1, TlpLevel::Clear))
                    .collect();
                let out = store.add_objects(&id, objs).await.unwrap();
                let mut prev = None;
                for o in out {
                    let AddResult::Added { date_added } = o.result else {
                        panic!("{o:?}")
                    };
                    // Within an envelope, in input order.
                    assert!(prev.is_none_or(|p| p < date_added));
                    prev = Some(date_added);
                    stamps.push(date_added);
                }
            }
            stamps
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let total = (writers * envelopes * per) as usize;
    assert_eq!(all.len(), total);
    let unique: HashSet<_> = all.iter().map(|t| t.to_string()).collect();
    assert_eq!(unique.len(), total, "two objects share a date_added");
    let page = store
        .query_objects(&c.id, &all_versions(TlpLevel::Clear))
        .await
        .unwrap();
    assert_eq!(page.items.len(), total);
    assert!(
        page.items
            .windows(2)
            .all(|w| w[0].date_added < w[1].date_added),
        "stored date_added not strictly increasing in read order"
    );
}

pub async fn paging_never_skips_or_repeats_while_writing(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    let total = 400u64;
    let writer = {
        let store = store.clone();
        let id = c.id.clone();
        tokio::spawn(async move {
            for e in 0..(total / 8) {
                let objs = (0..8)
                    .map(|i| indicator(e * 8 + i, T1, TlpLevel::Clear))
                    .collect();
                store.add_objects(&id, objs).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut added_after: Option<Timestamp> = None;
    let mut writer = Some(writer);
    loop {
        let q = ObjectQuery {
            limit: 7,
            next: next.clone(),
            added_after,
            ..Default::default()
        };
        let page = store.query_objects(&c.id, &q).await.unwrap();
        assert_eq!(page.more, page.next.is_some());
        seen.extend(page.items.iter().map(|o| o.id.clone()));
        if page.more {
            next = page.next;
            continue;
        }
        // Caught up with the writer: continue from the last item, as a polling client
        // would with added_after, until the writer has finished.
        next = None;
        if let Some(last) = page.items.last() {
            added_after = Some(last.date_added);
        }
        match writer.take() {
            Some(w) if !w.is_finished() => {
                writer = Some(w);
                tokio::task::yield_now().await;
            }
            Some(w) => {
                w.await.unwrap();
                // One more round after the writer finished.
            }
            None => break,
        }
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an object was repeated");
    assert_eq!(seen.len(), total as usize, "an object was skipped");
}

pub async fn version_matching(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    // Posted out of order: versions are ordered by modified, not by date_added.
    store
        .add_objects(
            &c.id,
            vec![
                indicator(1, T2, TlpLevel::Clear),
                indicator(1, T1, TlpLevel::Clear),
                indicator(1, T3, TlpLevel::Clear),
                indicator(2, T1, TlpLevel::Clear),
            ],
        )
        .await
        .unwrap();
    let versions_of = |vs: Vec<VersionMatch>| {
        let store = store.clone();
        let id = c.id.clone();
        async move {
            let q = ObjectQuery {
                versions: vs,
                ids: vec![indicator_id(1)],
                ..Default::default()
            };
            let mut v: Vec<String> = store
                .query_objects(&id, &q)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|o| o.version)
                .collect();
            v.sort();
            v
        }
    };
    assert_eq!(
        versions_of(vec![]).await,
        [T3],
        "default is last (TAXII 2.1 §3.4.2)"
    );
    assert_eq!(versions_of(vec![VersionMatch::Last]).await, [T3]);
    assert_eq!(versions_of(vec![VersionMatch::First]).await, [T1]);
    assert_eq!(versions_of(vec![VersionMatch::All]).await, [T1, T2, T3]);
    let at = |s: &str| VersionMatch::At(Timestamp::parse(s).unwrap());
    assert_eq!(versions_of(vec![at(T2)]).await, [T2]);
    // Precision does not matter for a timestamp match.
    assert_eq!(versions_of(vec![at("2021-06-01T00:00:00Z")]).await, [T2]);
    assert_eq!(
        versions_of(vec![VersionMatch::First, VersionMatch::Last]).await,
        [T1, T3]
    );
    assert_eq!(
        versions_of(vec![at(T1), VersionMatch::Last]).await,
        [T1, T3]
    );
    assert!(
        versions_of(vec![at("1999-01-01T00:00:00Z")])
            .await
            .is_empty()
    );
    // get_object applies the same rules to one id.
    let one = store
        .get_object(&c.id, &indicator_id(1), &ObjectQuery::default())
        .await
        .unwrap();
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.items[0].version, T3);
    assert_eq!(one.items[0].raw_json, indicator_json(1, T3));
    let none = store
        .get_object(&c.id, &indicator_id(99), &ObjectQuery::default())
        .await
        .unwrap();
    assert!(none.items.is_empty());
}

pub async fn filters(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    let first = store
        .add_objects(
            &c.id,
            vec![
                indicator(1, T1, TlpLevel::Clear),
                indicator(2, T1, TlpLevel::Green),
            ],
        )
        .await
        .unwrap();
    let mut other = indicator(3, T1, TlpLevel::Clear);
    other.type_name = "malware".into();
    other.id = "malware--00000000-0000-4000-8000-000000000003".into();
    let mut old_spec = indicator(4, T1, TlpLevel::Clear);
    old_spec.spec_version = "2.0".into();
    store
        .add_objects(&c.id, vec![other, old_spec])
        .await
        .unwrap();
    let ids = |q: ObjectQuery| {
        let store = store.clone();
        let id = c.id.clone();
        async move {
            store
                .query_objects(&id, &q)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|o| o.id)
                .collect::<Vec<_>>()
        }
    };
    let base = ObjectQuery {
        max_tlp: TlpLevel::AmberStrict,
        ..Default::default()
    };
    assert_eq!(ids(base.clone()).await.len(), 4);
    assert_eq!(
        ids(ObjectQuery {
            types: vec!["malware".into()],
            ..base.clone()
        })
        .await,
        ["malware--00000000-0000-4000-8000-000000000003"]
    );
    assert_eq!(
        ids(ObjectQuery {
            ids: vec![indicator_id(2), indicator_id(1), "x--y".into()],
            ..base.clone()
        })
        .await,
        [indicator_id(1), indicator_id(2)]
    );
    assert_eq!(
        ids(ObjectQuery {
            spec_versions: vec!["2.0".into()],
            ..base.clone()
        })
        .await,
        [indicator_id(4)]
    );
    let AddResult::Added { date_added } = first[1].result else {
        panic!()
    };
    assert_eq!(
        ids(ObjectQuery {
            added_after: Some(date_added),
            ..base.clone()
        })
        .await
        .len(),
        2,
        "added_after is strict"
    );
    assert_eq!(
        ids(ObjectQuery {
            max_tlp: TlpLevel::Clear,
            ..base.clone()
        })
        .await
        .len(),
        3,
        "GREEN hidden from a CLEAR audience"
    );
    // Paging with limit.
    let p = store
        .query_objects(
            &c.id,
            &ObjectQuery {
                limit: 3,
                ..base.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(p.items.len(), 3);
    assert!(p.more);
    let p2 = store
        .query_objects(
            &c.id,
            &ObjectQuery {
                limit: 3,
                next: p.next,
                ..base.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(p2.items.len(), 1);
    assert!(!p2.more && p2.next.is_none());
}

pub async fn manifest_and_versions(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    store
        .add_objects(
            &c.id,
            vec![
                indicator(1, T1, TlpLevel::Clear),
                indicator(1, T2, TlpLevel::Clear),
                indicator(2, T1, TlpLevel::Clear),
            ],
        )
        .await
        .unwrap();
    let m = store
        .manifest(&c.id, &ObjectQuery::default())
        .await
        .unwrap();
    let entries: Vec<_> = m
        .items
        .iter()
        .map(|e| (e.id.clone(), e.version.clone()))
        .collect();
    assert_eq!(
        entries,
        [
            (indicator_id(1), T2.to_owned()),
            (indicator_id(2), T1.to_owned())
        ]
    );
    assert!(m.items.iter().all(|e| e.spec_version == "2.1"));
    let all = store
        .manifest(
            &c.id,
            &ObjectQuery {
                versions: vec![VersionMatch::All],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 3);
    // Versions default to all, in date_added order, pageable.
    let v = store
        .versions(&c.id, &indicator_id(1), &ObjectQuery::default())
        .await
        .unwrap();
    let vs: Vec<_> = v.items.iter().map(|e| e.version.as_str()).collect();
    assert_eq!(vs, [T1, T2]);
    let v1 = store
        .versions(
            &c.id,
            &indicator_id(1),
            &ObjectQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(v1.items.len(), 1);
    assert!(v1.more);
    let v2 = store
        .versions(
            &c.id,
            &indicator_id(1),
            &ObjectQuery {
                limit: 1,
                next: v1.next,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(v2.items[0].version, T2);
    assert!(!v2.more);
}

pub async fn deletion(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    store
        .add_objects(
            &c.id,
            vec![
                indicator(1, T1, TlpLevel::Clear),
                indicator(1, T2, TlpLevel::Clear),
                indicator(1, T3, TlpLevel::Clear),
                indicator(2, T1, TlpLevel::Clear),
            ],
        )
        .await
        .unwrap();
    let log_before = store.log_size().await.unwrap();
    // One version by timestamp.
    let n = store
        .delete_object(
            &c.id,
            &indicator_id(1),
            &ObjectQuery {
                versions: vec![VersionMatch::At(Timestamp::parse(T2).unwrap())],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let left: Vec<_> = store
        .versions(&c.id, &indicator_id(1), &ObjectQuery::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(left, [T1, T3]);
    // A spec_version filter that matches nothing deletes nothing.
    let none = store
        .delete_object(
            &c.id,
            &indicator_id(1),
            &ObjectQuery {
                spec_versions: vec!["2.0".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(none, 0);
    // Without match[version], every version goes (TAXII 2.1 §5.7).
    assert_eq!(
        store
            .delete_object(&c.id, &indicator_id(1), &ObjectQuery::default())
            .await
            .unwrap(),
        2
    );
    assert!(
        store
            .get_object(&c.id, &indicator_id(1), &ObjectQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        store
            .query_objects(&c.id, &ObjectQuery::default())
            .await
            .unwrap()
            .items
            .len(),
        1,
        "other objects untouched"
    );
    // Each deleted version is a log entry.
    assert_eq!(store.log_size().await.unwrap(), log_before + 3);
    let leaves = store.log_leaves(log_before, 10).await.unwrap();
    assert!(
        leaves
            .iter()
            .all(|l| String::from_utf8_lossy(&l.entry).contains("\"op\":\"delete\""))
    );
    // After deleting the newest object, new objects still get later date_added.
    let before = store
        .query_objects(&c.id, &all_versions(TlpLevel::Clear))
        .await
        .unwrap();
    let last = before.items.last().unwrap().date_added;
    let out = store
        .add_objects(&c.id, vec![indicator(5, T1, TlpLevel::Clear)])
        .await
        .unwrap();
    let AddResult::Added { date_added } = out[0].result else {
        panic!()
    };
    assert!(date_added > last);
}

pub async fn tlp_storage_rule_refuses_and_stores_nothing(store: S) {
    let (public, _) = setup(
        &store,
        CollectionFlags {
            public_read: true,
            restricted: false,
        },
        Grant::READ_WRITE,
    )
    .await;
    let (orgs, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    let (red, _) = setup(
        &store,
        CollectionFlags {
            public_read: false,
            restricted: true,
        },
        Grant::READ_WRITE,
    )
    .await;
    // (collection, level, accepted) — DESIGN.md "Access".
    let table = [
        (&public, TlpLevel::Clear, true),
        (&public, TlpLevel::Green, false),
        (&public, TlpLevel::Amber, false),
        (&public, TlpLevel::AmberStrict, false),
        (&public, TlpLevel::Red, false),
        (&orgs, TlpLevel::Clear, true),
        (&orgs, TlpLevel::Green, true),
        (&orgs, TlpLevel::Amber, true),
        (&orgs, TlpLevel::AmberStrict, true),
        (&orgs, TlpLevel::Red, false),
        (&red, TlpLevel::Clear, true),
        (&red, TlpLevel::Green, true),
        (&red, TlpLevel::Amber, true),
        (&red, TlpLevel::AmberStrict, true),
        (&red, TlpLevel::Red, true),
    ];
    for (n, (c, level, accepted)) in table.into_iter().enumerate() {
        let log_before = store.log_size().await.unwrap();
        let out = store
            .add_objects(&c.id, vec![indicator(n as u64, T1, level)])
            .await
            .unwrap();
        assert_eq!(
            out[0].result.is_success(),
            accepted,
            "{level} in {}",
            c.title
        );
        let stored = store
            .get_object(
                &c.id,
                &indicator_id(n as u64),
                &ObjectQuery {
                    max_tlp: TlpLevel::Red,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(stored.items.len(), usize::from(accepted));
        assert_eq!(
            store.log_size().await.unwrap(),
            log_before + u64::from(accepted)
        );
        if let AddResult::Failed { reason } = &out[0].result {
            assert!(
                reason.contains(level.label()),
                "reason names the level: {reason}"
            );
        }
    }
    // A mixed envelope: the refused object is failed, the others stored.
    let out = store
        .add_objects(
            &public.id,
            vec![
                indicator(100, T1, TlpLevel::Clear),
                indicator(101, T1, TlpLevel::Red),
                indicator(102, T1, TlpLevel::Clear),
            ],
        )
        .await
        .unwrap();
    assert_eq!(added(&out), 2);
    assert!(matches!(out[1].result, AddResult::Failed { .. }));
    assert_eq!(out[1].id, indicator_id(101));
}

pub async fn reads_filter_by_audience_before_paging(store: S) {
    let (c, alice) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    let levels = [
        TlpLevel::Clear,
        TlpLevel::Green,
        TlpLevel::Amber,
        TlpLevel::AmberStrict,
    ];
    let objs: Vec<_> = (0..40u64)
        .map(|n| indicator(n, T1, levels[(n % 4) as usize]))
        .collect();
    store.add_objects(&c.id, objs).await.unwrap();
    // A newer AMBER version of a CLEAR object is invisible to a CLEAR audience, and the
    // CLEAR version stays their "last".
    store
        .add_objects(&c.id, vec![indicator(0, T2, TlpLevel::Amber)])
        .await
        .unwrap();
    let access = store.access(Some(&alice), &c.id).await.unwrap().unwrap().1;
    assert_eq!(access.max_tlp, TlpLevel::AmberStrict);
    for (max, expected) in [
        (TlpLevel::Clear, 10),
        (TlpLevel::Green, 20),
        (TlpLevel::AmberStrict, 40),
    ] {
        let mut got = Vec::new();
        let mut next = None;
        loop {
            let page = store
                .query_objects(
                    &c.id,
                    &ObjectQuery {
                        limit: 4,
                        next,
                        max_tlp: max,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert!(page.items.iter().all(|o| o.tlp <= max), "{max}: leak");
            // Full pages until the last one: filtering happened before the LIMIT.
            if page.more {
                assert_eq!(page.items.len(), 4);
            }
            got.extend(page.items);
            if !page.more {
                break;
            }
            next = page.next;
        }
        assert_eq!(got.len(), expected, "{max}");
        let zero = got.iter().find(|o| o.id == indicator_id(0)).unwrap();
        let want = if max >= TlpLevel::Amber { T2 } else { T1 };
        assert_eq!(zero.version, want, "{max}: last among visible versions");
    }
}

pub async fn status_lifecycle(store: S) {
    let (c, alice) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    let now = Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap();
    let mut s = Status {
        id: "2d086da7-4bdc-4f91-900e-d77486753710".into(),
        owner: alice.user_id,
        collection_id: c.id.clone(),
        status: StatusState::Pending,
        request_timestamp: now,
        total_count: 2,
        successes: vec![],
        failures: vec![],
        pendings: vec![
            StatusDetail {
                id: indicator_id(1),
                version: T1.into(),
                message: None,
            },
            StatusDetail {
                id: indicator_id(2),
                version: T1.into(),
                message: None,
            },
        ],
    };
    store.create_status(&s).await.unwrap();
    assert!(matches!(
        store.create_status(&s).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(store.status(&s.id).await.unwrap(), Some(s.clone()));
    let out = store
        .add_objects(
            &c.id,
            vec![
                indicator(1, T1, TlpLevel::Clear),
                indicator(2, T1, TlpLevel::Red),
            ],
        )
        .await
        .unwrap();
    let done = s.clone().completed(Ok(out), 2);
    assert_eq!(done.status, StatusState::Complete);
    assert_eq!(
        (
            done.successes.len(),
            done.failures.len(),
            done.pendings.len()
        ),
        (1, 1, 0)
    );
    assert!(
        done.failures[0]
            .message
            .as_deref()
            .unwrap_or("")
            .contains("TLP:RED")
    );
    store.update_status(&done).await.unwrap();
    assert_eq!(store.status(&s.id).await.unwrap(), Some(done));
    assert_eq!(store.status("nope").await.unwrap(), None);
    s.id = "missing".into();
    assert!(matches!(
        store.update_status(&s).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// A pending status naming `objects`, for [`Store::store_envelopes`].
fn pending(collection_id: &str, owner: UserId, objects: &[NewObject]) -> Status {
    let received = Timestamp::parse(T1).unwrap();
    Status::pending(owner, collection_id.into(), received, Vec::new(), objects)
}

pub async fn envelopes_store_with_their_statuses(store: S) {
    let (c, alice) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    let first = vec![
        indicator(1, T1, TlpLevel::Clear),
        indicator(2, T1, TlpLevel::Red),
    ];
    // An envelope for a collection that does not exist fails alone.
    let lost = vec![indicator(3, T1, TlpLevel::Clear)];
    let second = vec![
        indicator(4, T1, TlpLevel::Clear),
        indicator(1, T1, TlpLevel::Clear),
    ];
    let envelopes = vec![
        Envelope {
            status: pending(&c.id, alice.user_id, &first),
            objects: first,
        },
        Envelope {
            status: pending("no-such-collection", alice.user_id, &lost),
            objects: lost,
        },
        Envelope {
            status: pending(&c.id, alice.user_id, &second),
            objects: second,
        },
    ];
    let ids: Vec<String> = envelopes.iter().map(|e| e.status.id.clone()).collect();
    let statuses = store.store_envelopes(envelopes).await.unwrap();
    let counts: Vec<(usize, usize, usize)> = statuses
        .iter()
        .map(|s| (s.successes.len(), s.failures.len(), s.pendings.len()))
        .collect();
    // The TLP:RED indicator is refused; the repeated one is a success (kept once).
    assert_eq!(counts, vec![(1, 1, 0), (0, 1, 0), (2, 0, 0)]);
    assert!(statuses.iter().all(|s| s.status == StatusState::Complete));
    assert!(
        statuses[1].failures[0]
            .message
            .as_deref()
            .unwrap_or("")
            .contains("not stored")
    );
    for (id, status) in ids.iter().zip(&statuses) {
        assert_eq!(store.status(id).await.unwrap().as_ref(), Some(status));
    }
    let page = store
        .query_objects(&c.id, &ObjectQuery::default())
        .await
        .unwrap();
    let mut stored: Vec<&str> = page.items.iter().map(|o| o.id.as_str()).collect();
    stored.sort_unstable();
    assert_eq!(
        stored,
        vec![indicator_id(1).as_str(), indicator_id(4).as_str()]
    );
    assert_eq!(
        store.log_size().await.unwrap(),
        2,
        "one log entry per stored version"
    );
}

pub async fn log_entries_follow_writes(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    assert_eq!(store.log_size().await.unwrap(), 0);
    let out = store
        .add_objects(
            &c.id,
            vec![
                indicator(1, T1, TlpLevel::Clear),
                indicator(2, T2, TlpLevel::Green),
            ],
        )
        .await
        .unwrap();
    let leaves = store.log_leaves(0, 100).await.unwrap();
    assert_eq!(leaves.len(), 2);
    for (i, (leaf, o)) in leaves.iter().zip(&out).enumerate() {
        assert_eq!(leaf.index, i as u64);
        let AddResult::Added { date_added } = o.result else {
            panic!()
        };
        let raw = if i == 0 {
            indicator_json(1, T1)
        } else {
            indicator_json(2, T2)
        };
        let expected = store::log_entry::entry_bytes(
            LogOp::Add,
            &c.id,
            &o.id,
            &o.version,
            &date_added.to_string(),
            &store::log_entry::content_hash(&raw),
        );
        assert_eq!(
            leaf.entry, expected,
            "a holder of the object can recompute its entry"
        );
        assert_eq!(leaf.leaf_hash, store::log_entry::leaf_hash(&expected));
    }
    assert_eq!(store.log_leaves(1, 1).await.unwrap()[0].index, 1);
    assert!(store.log_leaves(5, 1).await.unwrap().is_empty());
}

pub async fn bad_next_token_is_invalid(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    let r = store
        .query_objects(
            &c.id,
            &ObjectQuery {
                next: Some("garbage".into()),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(r, Err(StoreError::Invalid(_))), "{r:?}");
}

pub async fn unknown_collection_is_not_found(store: S) {
    let r = store
        .add_objects("nope", vec![indicator(1, T1, TlpLevel::Clear)])
        .await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })));
    let r = store.query_objects("nope", &ObjectQuery::default()).await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })));
    assert!(store.collection("nope").await.unwrap().is_none());
    assert!(matches!(
        store.grant_org("nope", "x", Grant::READ).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn latest_versions_of_many_ids(store: S) {
    // Restricted, so that it may hold TLP:RED (DESIGN.md "Access").
    let restricted = CollectionFlags {
        public_read: false,
        restricted: true,
    };
    let (c, _) = setup(&store, restricted, Grant::READ_WRITE).await;
    let (other, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    // Versions added out of order: the newest version wins, not the last added; a RED
    // object is answered too (the importer holds the store).
    for (n, t, tlp) in [
        (1, T1, TlpLevel::Clear),
        (1, T3, TlpLevel::Clear),
        (1, T2, TlpLevel::Clear),
        (2, T2, TlpLevel::Red),
    ] {
        let out = store
            .add_objects(&c.id, vec![indicator(n, t, tlp)])
            .await
            .unwrap();
        assert_eq!(added(&out), 1, "indicator {n} at {t} stored");
    }
    store
        .add_objects(&other.id, vec![indicator(3, T1, TlpLevel::Clear)])
        .await
        .unwrap();
    let ids = [2, 1, 9, 1, 3].map(indicator_id).to_vec();
    let got = store.latest_versions(&c.id, &ids).await.unwrap();
    let summary: Vec<(String, String, TlpLevel)> = got
        .iter()
        .map(|o| (o.id.clone(), o.version.clone(), o.tlp))
        .collect();
    assert_eq!(
        summary,
        vec![
            (indicator_id(2), T2.to_owned(), TlpLevel::Red),
            (indicator_id(1), T3.to_owned(), TlpLevel::Clear),
        ],
        "newest version of each id held, in the order asked, each once, none of another collection"
    );
    assert_eq!(got[1].raw_json, indicator_json(1, T3), "exact bytes");
    assert_eq!(got[1].type_name, "indicator");
    assert!(
        store.latest_versions(&c.id, &[]).await.unwrap().is_empty(),
        "no ids, no objects"
    );
    assert!(matches!(
        store.latest_versions("no-such-collection", &ids).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// `newer_tlp` (SQLite migration 7, PostgreSQL migration 4) is what a page of latest
/// versions filters on; the writers keep it. Versions of a few ids arrive in random order
/// across envelopes, at random TLPs, some twice, and some are deleted: after every step the
/// latest versions a reader of each audience gets are the ones computed from all the
/// versions they may see, and the same as the `NOT EXISTS` form of the query (which a
/// `spec_version` filter still uses) answers; the UI's counts follow too.
pub async fn latest_version_marks_follow_every_write(store: S) {
    let (c, _) = setup(&store, CollectionFlags::default(), Grant::READ_WRITE).await;
    let c = c.id;
    let levels = [
        TlpLevel::Clear,
        TlpLevel::Green,
        TlpLevel::Amber,
        TlpLevel::AmberStrict,
    ];
    let stamp = |k: u64| format!("2021-01-{:02}T00:00:00.000Z", k + 1);
    // A fixed linear congruential sequence: the same run every time.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let query = |max_tlp: TlpLevel, versions: Vec<VersionMatch>, spec: bool| ObjectQuery {
        versions,
        spec_versions: if spec { vec!["2.1".into()] } else { Vec::new() },
        limit: 100_000,
        max_tlp,
        ..Default::default()
    };
    let ids = |page: Page<StoredObject>| {
        let mut v: Vec<(String, String)> =
            page.items.into_iter().map(|o| (o.id, o.version)).collect();
        v.sort();
        v
    };
    for step in 0..48u64 {
        if step % 4 == 3 {
            let (n, k) = (next(5), next(8));
            let at = VersionMatch::At(Timestamp::parse(&stamp(k)).unwrap());
            store
                .delete_object(
                    &c,
                    &indicator_id(n),
                    &ObjectQuery {
                        versions: vec![at],
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        } else {
            let objs = (0..1 + next(6))
                .map(|_| {
                    let tlp = levels[next(4) as usize];
                    indicator(next(5), &stamp(next(8)), tlp)
                })
                .collect();
            store.add_objects(&c, objs).await.unwrap();
        }
        for max in levels {
            let all = ids(store
                .query_objects(&c, &query(max, vec![VersionMatch::All], false))
                .await
                .unwrap());
            let mut expected: Vec<(String, String)> = Vec::new();
            for (id, version) in &all {
                match expected.last_mut() {
                    Some((last, v)) if last == id => *v = version.clone().max(v.clone()),
                    _ => expected.push((id.clone(), version.clone())),
                }
            }
            let latest = ids(store
                .query_objects(&c, &query(max, vec![], false))
                .await
                .unwrap());
            assert_eq!(
                latest, expected,
                "step {step}, {max}: latest visible versions"
            );
            let probed = ids(store
                .query_objects(&c, &query(max, vec![], true))
                .await
                .unwrap());
            assert_eq!(probed, expected, "step {step}, {max}: NOT EXISTS form");
            let stats = store.collection_stats(&c, max).await.unwrap();
            assert_eq!(
                stats.versions,
                all.len() as u64,
                "step {step}, {max}: count"
            );
        }
    }
}
