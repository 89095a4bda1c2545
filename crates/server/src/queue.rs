//! Queued ingest: a POSTed envelope is answered at once with a `pending` status resource
//! (TAXII 2.1 §4.3, §5.4), then validated by one task and stored by another, instead of
//! being validated and stored before the answer.
//!
//! Why: a client that posts envelope after envelope (every TAXII client does) otherwise
//! leaves the server idle while it builds and sends the next envelope, and leaves itself idle
//! while the server checks and stores the last one. Three stages overlap instead: the client
//! sends envelope n+2 while the validator checks n+1 and the writer stores n. Validation
//! used to run before the answer; moving it behind took the median POST of 500 objects
//! from ~5 ms to ~3 ms and raised ingest of 20,000-30,000 objects by ~10% on 2 cores
//! (`scripts/bench-taxii.sh` has the figures).
//!
//! What stays true:
//! - the answer already lists, as failures, the objects that are not STIX objects with an
//!   id and a type; the others are `pendings` (`crate::ingest::outline`). Validation then
//!   moves the objects it refuses, with the reason, to `failures` (a status read meanwhile
//!   shows them there), and the rest wait for the writer;
//! - an object is listed as a success only after its transaction committed: the writer
//!   stores the complete status in the objects' transaction, and only after that commit
//!   does the status resource say `complete`;
//! - envelopes waiting together are stored together: one transaction for the group
//!   (`Store::store_envelopes`), each envelope under its own savepoint, so one that fails
//!   stores nothing and leaves the others alone;
//! - envelopes are validated and stored in the order their requests were queued (one task
//!   per stage, FIFO channels), so a client's versions and date_added follow the order it
//!   posted them, and a `statement` marking defined in one envelope is known when the next
//!   one is validated;
//! - both channels are bounded ([`QUEUE_DEPTH`] envelopes each): a client faster than the
//!   server waits in its POST rather than filling memory;
//! - a graceful shutdown validates and stores every queued envelope before the process
//!   exits ([`IngestQueue::drain`], called by [`crate::run`]).
//!
//! What a crash costs: pending statuses live in this process's memory until their envelope
//! is stored, so after a SIGKILL a client asking for one gets 404, and those objects were
//! never reported as successes. That is also why queued ingest is for one server process on
//! its store (SQLite): behind a load balancer, another replica could not show the status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use store::{CollectionFlags, Envelope, Status, StatusDetail, StatusState, Store, StoreError};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::Limits;
use crate::ingest;

/// Envelopes waiting for each stage, at most. Four keep the stages busy while a client
/// posts the next one and bound memory to eight envelopes (four as bodies, four as
/// validated objects).
pub const QUEUE_DEPTH: usize = 4;

/// How long `GET status` waits for a pending envelope to be stored before it answers with
/// the pending status. A client polling right after its last POST then gets the complete
/// status in its first poll instead of sleeping through a poll interval.
pub const STATUS_WAIT: Duration = Duration::from_secs(2);

/// One posted envelope to validate: its body as received.
struct Posted {
    collection_id: String,
    flags: CollectionFlags,
    body: Bytes,
    /// The pending status shown to the client (`crate::ingest::outline`).
    status: Status,
}

/// One validated envelope to store.
struct Job {
    collection_id: String,
    objects: Vec<store::NewObject>,
    /// The pending status with validation's failures; its `pendings` are `objects`.
    status: Status,
    /// The `statement` marking-definitions among `objects` ([`queued_statements`]).
    statements: Vec<String>,
}

/// `statement` marking-definitions of queued envelopes, per collection, with how many queued
/// envelopes define each.
type QueuedStatements = HashMap<String, HashMap<String, usize>>;

/// A status the writer has not stored yet, and a way to wait for it.
struct Pending {
    status: Status,
    stored: watch::Receiver<bool>,
    signal: watch::Sender<bool>,
}

/// The pending statuses by id, shared by the request handlers and both stages.
type PendingMap = Arc<Mutex<HashMap<String, Pending>>>;

/// The queue and its two tasks; one per server process.
pub struct IngestQueue {
    sender: Mutex<Option<mpsc::Sender<Posted>>>,
    pending: PendingMap,
    /// The validator's task, then the writer's: [`IngestQueue::drain`] waits for both, in
    /// that order.
    tasks: tokio::sync::Mutex<Vec<JoinHandle<()>>>,
}

/// Why an envelope could not be queued.
#[derive(Debug, thiserror::Error)]
#[error("the server is shutting down and takes no more envelopes")]
pub struct Closed;

impl IngestQueue {
    /// Starts the validator and writer tasks on the current tokio runtime; envelopes are
    /// checked under `limits`.
    pub fn start(store: Arc<dyn Store>, limits: Limits) -> IngestQueue {
        let (posted, to_validate) = mpsc::channel(QUEUE_DEPTH);
        let (validated, to_store) = mpsc::channel(QUEUE_DEPTH);
        let pending: PendingMap = Arc::new(Mutex::new(HashMap::new()));
        let statements = Arc::new(Mutex::new(HashMap::new()));
        let validator = tokio::spawn(validate_all(
            store.clone(),
            limits,
            to_validate,
            validated,
            pending.clone(),
            statements.clone(),
        ));
        let writer = tokio::spawn(write_all(store, to_store, pending.clone(), statements));
        IngestQueue {
            sender: Mutex::new(Some(posted)),
            pending,
            tasks: tokio::sync::Mutex::new(vec![validator, writer]),
        }
    }

    /// Queues the envelope `body` for `collection_id` (with its `flags`); `status` is the
    /// pending status the client is shown, from [`ingest::outline`]. Waits while the queue
    /// is full.
    pub async fn enqueue(
        &self,
        collection_id: String,
        flags: CollectionFlags,
        body: Bytes,
        status: Status,
    ) -> Result<(), Closed> {
        let sender = lock(&self.sender).clone().ok_or(Closed)?;
        let (signal, stored) = watch::channel(false);
        let id = status.id.clone();
        lock(&self.pending).insert(
            id.clone(),
            Pending {
                status: status.clone(),
                stored,
                signal,
            },
        );
        let posted = Posted {
            collection_id,
            flags,
            body,
            status,
        };
        if sender.send(posted).await.is_err() {
            lock(&self.pending).remove(&id);
            return Err(Closed);
        }
        Ok(())
    }

    /// The status `id` of `owner` while its envelope waits to be stored, after waiting up
    /// to `wait` for the writer; `None` when it is not (or no longer) pending here, in which
    /// case the store has it if it exists. Another user's status is `None` at once: nobody
    /// else may learn that it exists, not even from how long the answer took.
    pub async fn pending_status(
        &self,
        id: &str,
        owner: store::UserId,
        wait: Duration,
    ) -> Option<Status> {
        let mut stored = {
            let map = lock(&self.pending);
            let pending = map.get(id).filter(|p| p.status.owner == owner)?;
            pending.stored.clone()
        };
        // Timing out is normal: the status is then still pending and shown as such.
        let _ = tokio::time::timeout(wait, stored.wait_for(|done| *done)).await;
        lock(&self.pending).get(id).map(|p| p.status.clone())
    }

    /// Takes no more envelopes and waits until every queued one was validated and stored.
    /// The validator ends once its channel is empty and closed, which closes the writer's.
    pub async fn drain(&self) {
        lock(&self.sender).take();
        let tasks = std::mem::take(&mut *self.tasks.lock().await);
        for task in tasks {
            if let Err(e) = task.await {
                tracing::error!("an ingest task stopped abnormally: {e}");
            }
        }
    }
}

impl std::fmt::Debug for IngestQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestQueue")
            .field("pending", &lock(&self.pending).len())
            .finish_non_exhaustive()
    }
}

/// The validator: checks each posted envelope in order (`crate::ingest::prepare_with`),
/// shows its refused objects in the pending status, and hands the rest to the writer. An
/// envelope with nothing left to store is complete here.
async fn validate_all(
    store: Arc<dyn Store>,
    limits: Limits,
    mut receiver: mpsc::Receiver<Posted>,
    writer: mpsc::Sender<Job>,
    pending: PendingMap,
    statements: Arc<Mutex<QueuedStatements>>,
) {
    while let Some(posted) = receiver.recv().await {
        let Some(job) = validate(store.as_ref(), &limits, posted, &pending, &statements).await
        else {
            continue;
        };
        if let Err(refused) = writer.send(job).await {
            // Only if the writer task died; the status says so rather than staying pending.
            let job = refused.0;
            forget_statements(&statements, &job.collection_id, &job.statements);
            let expected = job.objects.len();
            let error = StoreError::Backend("the ingest writer stopped".into());
            settle_failed(
                store.as_ref(),
                job.status.completed(Err(error), expected),
                &pending,
            )
            .await;
        }
    }
}

/// Validates one posted envelope; the job for the writer, or `None` when nothing of it is
/// left to store (its complete status is then settled here).
async fn validate(
    store: &dyn Store,
    limits: &Limits,
    posted: Posted,
    pending: &Mutex<HashMap<String, Pending>>,
    statements: &Mutex<QueuedStatements>,
) -> Option<Job> {
    let Posted {
        collection_id,
        flags,
        body,
        status: shown,
    } = posted;
    // Statement markings (copyright) defined in earlier envelopes restrict nobody: those
    // stored, and those of envelopes validated but not stored yet.
    let prepared = match ingest::stored_statements_for(store, &collection_id, &body).await {
        Ok(mut known) => {
            known.extend(queued_statements(statements, &collection_id));
            let limits = limits.clone();
            tokio::task::spawn_blocking(move || {
                ingest::prepare_with(&body, flags, &limits, known).map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(format!("the validation task failed: {e}")))
        }
        Err(e) => Err(e.to_string()),
    };
    let mut prepared = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            // The outline read this envelope, so this is the store or the runtime failing:
            // every pending object fails with why, and nothing is stored.
            tracing::error!(status = %shown.id, "an envelope was not validated: {e}");
            let expected = shown.pendings.len();
            let error = StoreError::Backend(format!("not validated: {e}"));
            settle_failed(store, shown.completed(Err(error), expected), pending).await;
            return None;
        }
    };
    let objects = std::mem::take(&mut prepared.to_store);
    // The same objects as the outline counted: validation's slots cover every one.
    let status = Status {
        failures: prepared.failures(),
        pendings: objects.iter().map(StatusDetail::pending).collect(),
        ..shown
    };
    if objects.is_empty() {
        let status = Status {
            status: StatusState::Complete,
            ..status
        };
        settle_failed(store, status, pending).await;
        return None;
    }
    if let Some(p) = lock(pending).get_mut(&status.id) {
        p.status = status.clone();
    }
    remember_statements(statements, &collection_id, &prepared.statements);
    Some(Job {
        collection_id,
        objects,
        status,
        statements: prepared.statements,
    })
}

/// The `statement` marking-definitions defined in envelopes validated for `collection_id`
/// and not stored yet. A producer defines its copyright marking once and refers to it in
/// later envelopes, which may be validated before the first one is stored: without these
/// the reference would be an unknown marking, i.e. TLP:RED.
fn queued_statements(statements: &Mutex<QueuedStatements>, collection_id: &str) -> Vec<String> {
    lock(statements)
        .get(collection_id)
        .map(|known| known.keys().cloned().collect())
        .unwrap_or_default()
}

/// Makes one validated envelope's statement markings `ids` known to
/// [`queued_statements`] until the writer stored it.
fn remember_statements(statements: &Mutex<QueuedStatements>, collection_id: &str, ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    let mut queued = lock(statements);
    let known = queued.entry(collection_id.to_owned()).or_default();
    for id in ids {
        *known.entry(id.clone()).or_default() += 1;
    }
}

/// A poisoned lock only means another task panicked while holding it; the maps stay valid.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Drops one queued envelope's statement markings `ids` for `collection_id` from
/// [`IngestQueue::queued_statements`].
fn forget_statements(statements: &Mutex<QueuedStatements>, collection_id: &str, ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    let mut queued = lock(statements);
    if let Some(known) = queued.get_mut(collection_id) {
        for id in ids {
            if let Some(count) = known.get_mut(id) {
                *count -= 1;
                if *count == 0 {
                    known.remove(id);
                }
            }
        }
        if known.is_empty() {
            queued.remove(collection_id);
        }
    }
}

/// Objects the writer stores in one transaction, at most, when several envelopes are
/// queued: a group shares one commit and one fsync (measured: two commits per envelope, its
/// objects' and its status's, were a quarter of the writer's time), and the bound keeps one
/// transaction from holding the write lock for long.
const GROUP_OBJECTS: usize = 10_000;

/// The writer: takes the queued envelopes (all that are waiting, up to [`GROUP_OBJECTS`]
/// objects), stores them with their complete statuses in one transaction, then forgets the
/// pending statuses.
async fn write_all(
    store: Arc<dyn Store>,
    mut receiver: mpsc::Receiver<Job>,
    pending: PendingMap,
    statements: Arc<Mutex<QueuedStatements>>,
) {
    while let Some(first) = receiver.recv().await {
        let mut objects = first.objects.len();
        let mut group = vec![first];
        while objects < GROUP_OBJECTS {
            match receiver.try_recv() {
                Ok(job) => {
                    objects += job.objects.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        store_group(store.as_ref(), group, &pending, &statements).await;
    }
}

/// Stores one group of envelopes and settles their pending statuses.
async fn store_group(
    store: &dyn Store,
    group: Vec<Job>,
    pending: &Mutex<HashMap<String, Pending>>,
    statements: &Mutex<QueuedStatements>,
) {
    let mut defined = Vec::with_capacity(group.len());
    let mut envelopes = Vec::with_capacity(group.len());
    for job in group {
        defined.push((job.collection_id, job.statements));
        envelopes.push(Envelope {
            objects: job.objects,
            status: job.status,
        });
    }
    let settled = store_each_on_error(store, envelopes).await;
    // Stored (or failed for good): later envelopes find these markings in the store.
    for (collection_id, ids) in &defined {
        forget_statements(statements, collection_id, ids);
    }
    for outcome in settled {
        match outcome {
            Settled::Stored(status) => {
                tracing::info!(
                    collection = %status.collection_id,
                    total = status.total_count,
                    failed = status.failures.len(),
                    "envelope stored"
                );
                // The complete status is in the store: a reader that misses it here finds
                // it there.
                if let Some(p) = lock(pending).remove(&status.id) {
                    let _ = p.signal.send(true);
                }
            }
            Settled::NotStored(failed) => settle_failed(store, failed, pending).await,
        }
    }
}

/// What became of one envelope of a group.
enum Settled {
    /// Its objects and complete status are stored.
    Stored(Status),
    /// Nothing of it is stored; this status lists every object as failed, with why.
    NotStored(Status),
}

/// Stores `envelopes` together; when that fails and there were several, tries them one at
/// a time, so an envelope that cannot be stored does not take the others down with it.
async fn store_each_on_error(store: &dyn Store, envelopes: Vec<Envelope>) -> Vec<Settled> {
    // The copies are for the retry, which is rare: only a group needs them.
    let retry = (envelopes.len() > 1).then(|| envelopes.clone());
    let shown: Vec<(Status, usize)> = envelopes
        .iter()
        .map(|e| (e.status.clone(), e.objects.len()))
        .collect();
    let error = match store.store_envelopes(envelopes).await {
        Ok(statuses) => return statuses.into_iter().map(Settled::Stored).collect(),
        Err(e) => e,
    };
    let Some(retry) = retry else {
        tracing::error!("an envelope was not stored: {error}");
        return shown
            .into_iter()
            .map(|(status, expected)| {
                let error = StoreError::Backend(error.to_string());
                Settled::NotStored(status.completed(Err(error), expected))
            })
            .collect();
    };
    tracing::warn!(
        envelopes = retry.len(),
        "storing queued envelopes together failed ({error}); storing them one by one"
    );
    let mut settled = Vec::with_capacity(retry.len());
    for (envelope, (status, expected)) in retry.into_iter().zip(shown) {
        match store.store_envelopes(vec![envelope]).await {
            Ok(mut one) if one.len() == 1 => settled.push(Settled::Stored(one.remove(0))),
            Ok(other) => settled.push(Settled::NotStored(status.completed(
                Err(StoreError::Backend(format!(
                    "the store returned {} statuses for one envelope",
                    other.len()
                ))),
                expected,
            ))),
            Err(e) => {
                tracing::error!(status = %status.id, "an envelope was not stored: {e}");
                settled.push(Settled::NotStored(status.completed(Err(e), expected)));
            }
        }
    }
    settled
}

/// Records the status of an envelope that was not stored; when even that fails, keeps
/// showing it from memory: the objects' fate is known, only its record is not.
async fn settle_failed(
    store: &dyn Store,
    failed: Status,
    pending: &Mutex<HashMap<String, Pending>>,
) {
    let id = failed.id.clone();
    let stored = match store.create_status(&failed).await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(status = %id, "cannot store a complete status: {e}");
            false
        }
    };
    let mut map = lock(pending);
    if stored {
        if let Some(p) = map.remove(&id) {
            let _ = p.signal.send(true);
        }
    } else if let Some(p) = map.get_mut(&id) {
        p.status = failed;
        let _ = p.signal.send(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::{NewObject, StatusState, Timestamp, TlpLevel};

    fn indicator(n: u64) -> NewObject {
        let id = format!("indicator--00000000-0000-4000-8000-{n:012}");
        let modified = "2024-01-01T00:00:00.000Z";
        NewObject {
            raw_json: format!(
                r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"{modified}","modified":"{modified}","pattern":"[ipv4-addr:value = '10.0.0.{n}']","pattern_type":"stix","valid_from":"{modified}"}}"#
            ),
            id,
            type_name: "indicator".into(),
            spec_version: "2.1".into(),
            version: Some(Timestamp::parse(modified).unwrap()),
            tlp: TlpLevel::Clear,
            revoked: false,
        }
    }

    fn pending(collection_id: &str, owner: store::UserId, objects: &[NewObject]) -> Status {
        let received = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
        Status::pending(owner, collection_id.into(), received, Vec::new(), objects)
    }

    /// Three envelopes queued while the writer waits for SQLite's write lock, the second
    /// with a status id that is taken, so storing it fails: the group it lands in is
    /// stored again envelope by envelope, and only the second fails.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_envelope_that_cannot_be_stored_does_not_take_its_group_down() {
        let dir = tempfile::tempdir().unwrap();
        let set_up = store::bootstrap::ensure_initialized(dir.path())
            .await
            .unwrap();
        let store = set_up.store;
        let admin = store.user("admin").await.unwrap().unwrap();
        let c = store
            .list_collections(Some("default"))
            .await
            .unwrap()
            .remove(0);
        let taken = pending(&c.id, admin.id, &[]);
        store.create_status(&taken).await.unwrap();

        let queue = IngestQueue::start(store.clone(), Limits::default());
        let blocker = rusqlite::Connection::open(&set_up.db_path).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let mut statuses = Vec::new();
        for n in 1..=3 {
            let objects = vec![indicator(n)];
            let mut status = pending(&c.id, admin.id, &objects);
            if n == 2 {
                status.id = taken.id.clone();
            }
            statuses.push(status.clone());
            let body = format!(r#"{{"objects":[{}]}}"#, objects[0].raw_json);
            queue
                .enqueue(c.id.clone(), c.flags, Bytes::from(body), status)
                .await
                .unwrap();
            if n == 1 {
                // The writer takes the first envelope and waits for the lock; the others
                // queue up behind it and are stored as one group.
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        blocker.execute_batch("COMMIT").unwrap();
        queue.drain().await;

        for n in [0, 2] {
            let stored = store.status(&statuses[n].id).await.unwrap().unwrap();
            assert_eq!(stored.status, StatusState::Complete);
            assert_eq!(stored.successes.len(), 1, "envelope {}", n + 1);
            assert!(stored.failures.is_empty());
        }
        let failed = queue
            .pending_status(&taken.id, admin.id, Duration::ZERO)
            .await
            .expect("the failed status is kept in memory: its id could not be stored");
        assert_eq!(failed.status, StatusState::Complete);
        assert!(failed.successes.is_empty());
        assert_eq!(failed.failures.len(), 1);
        assert!(
            failed.failures[0]
                .message
                .as_deref()
                .unwrap_or("")
                .starts_with("not stored"),
            "{failed:?}"
        );
        let page = store
            .query_objects(&c.id, &store::ObjectQuery::default())
            .await
            .unwrap();
        let mut ids: Vec<String> = page.items.into_iter().map(|o| o.id).collect();
        ids.sort();
        assert_eq!(ids, vec![indicator(1).id, indicator(3).id]);
    }
}
