//! The planner's statistics of the `objects` table, kept current by the store itself.
//!
//! Page plans depend on them. A database that never analysed `objects` (autovacuum off, as
//! on the development machine, or a bulk load faster than autovacuum's minute-long naps)
//! gives the planner default selectivities: it took `collection = $1` to keep 0.5% of the
//! rows and, for the first page of a 300,000-version collection, chose a bitmap scan of
//! every row, an anti-join per row and a sort — 7.5 s — instead of walking 1,001 entries of
//! the primary key (40 ms once analysed; EXPLAIN ANALYZE, load 10). So every store runs a
//! small task: every [`CHECK_EVERY`] it reads how many rows changed since the last
//! ANALYZE (`pg_stat_user_tables`) and analyses the table when that exceeds
//! [`MIN_CHANGED`] plus [`CHANGED_FRACTION`] of the rest — the rule of autovacuum's
//! analyse threshold, run by the application so it holds whatever the server's
//! configuration. Replicas take a transaction-scoped advisory lock first, so one of them
//! analyses at a time and the others skip the round.
//!
//! The task holds the pool weakly (it ends with the store), takes a connection only when
//! one is idle (it never makes a request wait), and does not count towards
//! [`super::PgStore::statements_executed`].

use deadpool_postgres::{Timeouts, WeakPool};
use std::time::Duration;

/// How often the task looks at the table's change counter.
pub(super) const CHECK_EVERY: Duration = Duration::from_secs(10);
/// Changed rows below which the statistics are left alone (small tables plan well anyway).
pub(super) const MIN_CHANGED: i64 = 1000;
/// The share of the analysed rows that must have changed since (autovacuum's default is
/// 0.1; 0.2 halves the analyses of a growing table, and pages plan the same either way as
/// long as the statistics are not absent: the planner reads the newest date_added off the
/// index when a cursor lies beyond the histogram).
pub(super) const CHANGED_FRACTION: f64 = 0.2;

/// Starts the task on the current tokio runtime.
pub(super) fn spawn(pool: WeakPool, lock_key: i64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick completes at once; a store that was just opened waits a period.
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(pool) = pool.upgrade() else {
                return;
            };
            if let Err(e) = analyze_if_stale(&pool, lock_key).await {
                tracing::debug!(error = %e, "postgres statistics check");
            }
        }
    });
}

/// Whether `changed` rows since the last ANALYZE of a table of `live` rows call for
/// another.
pub(super) fn stale(changed: i64, live: i64) -> bool {
    let analysed = (live - changed).max(0) as f64;
    changed > MIN_CHANGED && changed as f64 > CHANGED_FRACTION * analysed
}

async fn analyze_if_stale(
    pool: &deadpool_postgres::Pool,
    lock_key: i64,
) -> Result<(), tokio_postgres::Error> {
    let mut client = match pool
        .timeout_get(&Timeouts {
            wait: Some(Duration::ZERO),
            ..Timeouts::new()
        })
        .await
    {
        Ok(c) => c,
        // Every connection is busy serving requests: try again next round.
        Err(_) => return Ok(()),
    };
    let row = client
        .query_opt(
            "SELECT n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables WHERE relid = 'objects'::regclass",
            &[],
        )
        .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let (changed, live): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    if !stale(changed, live) {
        return Ok(());
    }
    let tx = client.transaction().await?;
    let locked: bool = tx
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&lock_key])
        .await?
        .try_get(0)?;
    if locked {
        let start = std::time::Instant::now();
        tx.batch_execute("ANALYZE objects").await?;
        tracing::debug!(
            changed,
            live,
            ms = start.elapsed().as_millis() as u64,
            "analysed objects"
        );
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyses_after_growth_not_after_noise() {
        // Never analysed: every row counts as changed.
        assert!(!stale(500, 500));
        assert!(stale(1_500, 1_500));
        // 1,000,000 rows analysed: 150,000 more is 15%, 250,000 is 25%.
        assert!(!stale(150_000, 1_150_000));
        assert!(stale(250_000, 1_250_000));
        // Deletions count as changes too, and cannot make the analysed count negative.
        assert!(stale(5_000, 0));
    }
}
