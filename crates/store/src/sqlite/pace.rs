//! When the work that follows commits (full-text indexing in `fulltext.rs`, WAL checkpoints
//! in `mod.rs`) runs: after a burst of writes, not in its middle, unless enough piled up.
//!
//! **Why.** Both are done by threads of their own, beside the writer. On a machine with
//! as many busy threads as cores they are not free: during a burst of TAXII POSTs the
//! client, the request tasks and the writer already use both cores of a small machine,
//! and indexing and checkpointing every 100-250 ms took ~25 % of the server's CPU in that
//! window (`perf`, 20,000 objects in 40 envelopes). Their work loses nothing by waiting a
//! little: a search asks the indexer to catch up first ([`Pending::hurry`]), and the WAL
//! keeps every commit durable whoever copies it later.
//!
//! **The rule** ([`Pending::due_in`]): work is due once [`QUIET`] passed without a commit,
//! or once [`BACKLOG_ROWS`] rows were written since the last round (an import's batch, or
//! a long stream of envelopes: the work then keeps pace on the other core), or once the
//! oldest commit waited [`LONGEST`] (a steady trickle of small writes), or at once when
//! something waits for it.

use std::sync::{Condvar, MutexGuard};
use std::time::{Duration, Instant};

/// Time without a commit after which the waiting work runs.
pub(super) const QUIET: Duration = Duration::from_millis(200);
/// Rows written since the last round that make the work due at once.
pub(super) const BACKLOG_ROWS: u64 = 50_000;
/// Longest a commit waits for its round when writes never pause.
pub(super) const LONGEST: Duration = Duration::from_secs(2);

/// Commits since the last round: how many rows, and when the first and last came.
#[derive(Debug, Default)]
pub(super) struct Pending {
    rows: u64,
    first: Option<Instant>,
    last: Option<Instant>,
    hurry: bool,
}

impl Pending {
    /// Records a commit of `rows` rows at `now`.
    pub(super) fn add(&mut self, rows: u64, now: Instant) {
        self.rows = self.rows.saturating_add(rows);
        self.first.get_or_insert(now);
        self.last = Some(now);
    }

    /// Makes the work due at once, commits or not (a search waits for the index).
    pub(super) fn hurry(&mut self) {
        self.hurry = true;
    }

    /// Whether anything asked for a round.
    pub(super) fn is_empty(&self) -> bool {
        self.first.is_none() && !self.hurry
    }

    /// `None` when nothing is pending, `Some(Duration::ZERO)` when the round is due now,
    /// else how long until it is (unless more commits come). Unless hurried, a round is
    /// never due sooner than `fold` after the first commit, so that commits close together
    /// share it (`Duration::ZERO`: no fold).
    pub(super) fn due_in(&self, now: Instant, fold: Duration) -> Option<Duration> {
        if self.hurry {
            return Some(Duration::ZERO);
        }
        let (first, last) = (self.first?, self.last?);
        let folded = (first + fold).saturating_duration_since(now);
        if self.rows >= BACKLOG_ROWS {
            return Some(folded);
        }
        let quiet = (last + QUIET).saturating_duration_since(now);
        let longest = (first + LONGEST).saturating_duration_since(now);
        Some(quiet.min(longest).max(folded))
    }

    /// Starts a round: what was pending is now its work.
    pub(super) fn take(&mut self) {
        *self = Pending::default();
    }
}

/// Waits on `changed` (the condition variable of `state`'s mutex) until `due_in` says the
/// work is due (`Some(Duration::ZERO)`); `None` from it means nothing is pending, and the
/// wait lasts until the next notification. Returns the guard, so the caller takes the
/// work under the same lock.
pub(super) fn wait_until_due<'a, S>(
    mut state: MutexGuard<'a, S>,
    changed: &Condvar,
    due_in: impl Fn(&S, Instant) -> Option<Duration>,
) -> MutexGuard<'a, S> {
    loop {
        state = match due_in(&state, Instant::now()) {
            Some(wait) if wait.is_zero() => return state,
            Some(wait) => {
                changed
                    .wait_timeout(state, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => changed.wait(state).unwrap_or_else(|e| e.into_inner()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_pending_is_never_due() {
        assert_eq!(
            Pending::default().due_in(Instant::now(), Duration::ZERO),
            None
        );
        assert!(Pending::default().is_empty());
    }

    #[test]
    fn a_commit_waits_for_quiet() {
        let t0 = Instant::now();
        let mut p = Pending::default();
        p.add(500, t0);
        assert_eq!(p.due_in(t0, Duration::ZERO), Some(QUIET));
        // Another commit pushes the round back.
        p.add(500, t0 + Duration::from_millis(150));
        assert_eq!(
            p.due_in(t0 + Duration::from_millis(150), Duration::ZERO),
            Some(QUIET),
            "a commit restarts the quiet time"
        );
        assert_eq!(
            p.due_in(t0 + Duration::from_millis(350), Duration::ZERO),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn a_steady_trickle_still_gets_its_round() {
        let t0 = Instant::now();
        let mut p = Pending::default();
        let mut now = t0;
        while now < t0 + LONGEST {
            p.add(10, now);
            assert!(p.due_in(now, Duration::ZERO).unwrap() > Duration::ZERO);
            now += Duration::from_millis(100);
        }
        p.add(10, now);
        assert_eq!(p.due_in(now, Duration::ZERO), Some(Duration::ZERO));
    }

    #[test]
    fn a_large_backlog_or_a_hurry_is_due_at_once() {
        let t0 = Instant::now();
        let mut p = Pending::default();
        p.add(BACKLOG_ROWS - 1, t0);
        assert!(p.due_in(t0, Duration::ZERO).unwrap() > Duration::ZERO);
        p.add(1, t0);
        assert_eq!(p.due_in(t0, Duration::ZERO), Some(Duration::ZERO));

        let mut h = Pending::default();
        h.hurry();
        assert!(!h.is_empty());
        assert_eq!(h.due_in(t0, Duration::ZERO), Some(Duration::ZERO));
        h.take();
        assert!(h.is_empty());
        assert_eq!(h.due_in(t0, Duration::ZERO), None);
    }

    #[test]
    fn folding_holds_back_a_due_round_unless_hurried() {
        let t0 = Instant::now();
        let fold = Duration::from_millis(250);
        let mut p = Pending::default();
        assert_eq!(p.due_in(t0, fold), None);
        p.add(BACKLOG_ROWS, t0);
        assert_eq!(p.due_in(t0, Duration::ZERO), Some(Duration::ZERO));
        assert_eq!(p.due_in(t0, fold), Some(fold));
        assert_eq!(p.due_in(t0 + fold, fold), Some(Duration::ZERO));
        // Quiet longer than the fold: the quiet time decides.
        let mut q = Pending::default();
        q.add(1, t0);
        assert_eq!(q.due_in(t0, fold), Some(QUIET.max(fold)));
        q.hurry();
        assert_eq!(q.due_in(t0, fold), Some(Duration::ZERO));
    }

    #[test]
    fn a_waiter_wakes_when_the_work_becomes_due() {
        use std::sync::{Arc, Mutex};
        let shared = Arc::new((Mutex::new(Pending::default()), Condvar::new()));
        let theirs = shared.clone();
        let hurrier = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            theirs.0.lock().unwrap().hurry();
            theirs.1.notify_all();
        });
        let mut state = wait_until_due(shared.0.lock().unwrap(), &shared.1, |p, now| {
            p.due_in(now, Duration::ZERO)
        });
        assert!(!state.is_empty(), "woken with the work pending");
        state.take();
        drop(state);
        hurrier.join().unwrap();

        // A commit alone is due after the quiet time, without a notification.
        shared.0.lock().unwrap().add(1, Instant::now());
        let started = Instant::now();
        let state = wait_until_due(shared.0.lock().unwrap(), &shared.1, |p, now| {
            p.due_in(now, Duration::ZERO)
        });
        assert!(started.elapsed() >= QUIET);
        assert!(!state.is_empty());
    }
}
