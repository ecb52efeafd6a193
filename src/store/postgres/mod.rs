//! The shared store: one PostgreSQL database that many boxes use at once.

mod group;
mod log;
mod outbox;
mod rollup;

use super::writer::Writer;
use super::{
    AttemptOutcome, DueNotice, HeldNotice, IngestContext, Ingested, LogEntry, LogPage, LogQuery,
    PausedNumber, PublishedLocales, QueueStats, SendSlots, SlowedNumber, Stats, StatusUpdate,
    Store, StoreError,
};
use crate::domain::message::InboundMessage;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// Groups one box writes at once. Each takes its locks in one order
/// (senders' records by key, users by id, then notices by id), so they
/// wait for each other but never deadlock.
const WRITERS: usize = 2;

/// How often the busy tables' growth is checked.
const ANALYZE_CHECK: Duration = Duration::from_secs(2);

/// Refreshes the planner's statistics of the busy tables each time they
/// grew to twice their size (rows changed since, over half the rows they
/// hold: an insert counts in both). A campaign fills empty tables within
/// minutes, faster than autovacuum looks (every minute by default, then
/// only after 10%): until then the planner takes them for a few pages and
/// scans them whole, and every group slows down as they grow. Doubling is
/// enough for the plans, and keeps `ANALYZE` to a few runs while they grow
/// (at each fifth, it took a tenth of the server's time under load).
async fn analyze_as_tables_grow(pool: PgPool, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        ticks.tick().await;
        let stale: Vec<String> = match sqlx::query_scalar(
            "SELECT relname::TEXT FROM pg_stat_user_tables
             WHERE schemaname = current_schema() AND relname IN ('users', 'inbound', 'notices')
               AND n_mod_since_analyze > GREATEST(500, n_live_tup / 2)",
        )
        .fetch_all(&pool)
        .await
        {
            Ok(stale) => stale,
            Err(error) => {
                tracing::warn!(%error, "could not read the tables' statistics");
                continue;
            }
        };
        for table in stale {
            if let Err(error) = analyze(&pool, &table).await {
                tracing::warn!(%error, table, "could not refresh the table's statistics");
            }
        }
    }
}

/// `ANALYZE` from a sample of 3,000 rows (statistics target 10) instead
/// of 30,000: enough for the plans of the busy statements (lookups by
/// unique keys, the due queue), and a tenth of the work while the tables
/// grow. Autovacuum's own runs keep the server's default.
async fn analyze(pool: &PgPool, table: &str) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL default_statistics_target = 10")
        .execute(&mut *tx)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {table}")))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// PostgreSQL behind the [`Store`] trait.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// Inbound messages, delivery reports and send outcomes: the busy
    /// writes, grouped.
    writer: Writer,
}

impl PgStore {
    /// Connects to the database at `url` and migrates it. The migrator takes
    /// an advisory lock, so boxes starting together migrate once.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        // One connection first: the pool retries a refused one until its
        // timeout (30 s), then says only that it timed out.
        PgConnection::connect_with(&options).await?.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let writer = Writer::start((0..WRITERS).map(|_| group::PgGroup(pool.clone())));
        tokio::spawn(analyze_as_tables_grow(pool.clone(), ANALYZE_CHECK));
        Ok(Self { pool, writer })
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ingest(
        &self,
        messages: Vec<InboundMessage>,
        ctx: &IngestContext<'_>,
    ) -> Result<Vec<Ingested>, StoreError> {
        self.writer.ingest(messages, ctx).await
    }

    async fn quarantine(&self, body: &[u8], reason: &str, at: Timestamp) -> Result<(), StoreError> {
        log::quarantine(&self.pool, body, reason, at).await
    }

    async fn apply_statuses(&self, updates: &[StatusUpdate]) -> Result<usize, StoreError> {
        self.writer.apply_statuses(updates).await
    }

    /// Claims and send slots take their own short transactions: they lock
    /// nothing a group waits for (`SKIP LOCKED`, one budget row), and a
    /// sender that waited for a group's commit would hold its Graph API
    /// calls that much longer.
    async fn claim_due_notices(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        pair_spacing: SignedDuration,
        limit: u32,
    ) -> Result<Vec<DueNotice>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let claimed = outbox::claim(&mut tx, now, lease, pair_spacing, limit).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn release_stale_leases(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    async fn finish_attempt(
        &self,
        notice_id: i64,
        outcome: &AttemptOutcome,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.writer.finish(notice_id, outcome, now).await
    }

    async fn reserve_sends(
        &self,
        phone_number_id: &str,
        count: u32,
        interval: SignedDuration,
        now: Timestamp,
    ) -> Result<SendSlots, StoreError> {
        let mut connection = self.pool.acquire().await?;
        log::reserve_sends(&mut connection, phone_number_id, count, interval, now).await
    }

    async fn slow_down(&self, phone_number_id: &str, until: Timestamp) -> Result<(), StoreError> {
        log::slow_down(&self.pool, phone_number_id, until).await
    }

    async fn slowed_numbers(&self, now: Timestamp) -> Result<Vec<SlowedNumber>, StoreError> {
        log::slowed_numbers(&self.pool, now).await
    }

    async fn pause_number(&self, paused: &PausedNumber) -> Result<(), StoreError> {
        log::pause_number(&self.pool, paused).await
    }

    async fn resume_numbers(&self, phone_number_id: Option<&str>) -> Result<u64, StoreError> {
        log::resume_numbers(&self.pool, phone_number_id).await
    }

    async fn paused_numbers(&self) -> Result<Vec<PausedNumber>, StoreError> {
        log::paused_numbers(&self.pool).await
    }

    async fn held_notice(&self, notice_id: i64) -> Result<Option<HeldNotice>, StoreError> {
        log::held_notice(&self.pool, notice_id).await
    }

    async fn count_click(&self, notice_id: i64) -> Result<(), StoreError> {
        log::count_click(&self.pool, notice_id).await
    }

    async fn log_entry(&self, inbound_message_id: &str) -> Result<Option<LogEntry>, StoreError> {
        log::entry(&self.pool, inbound_message_id).await
    }

    async fn log_page(&self, query: &LogQuery) -> Result<LogPage, StoreError> {
        log::page(&self.pool, query).await
    }

    async fn stats(
        &self,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<Stats, StoreError> {
        rollup::fold(&self.pool).await?;
        log::stats(&self.pool, since, until).await
    }

    async fn fold_rollups(&self) -> Result<u64, StoreError> {
        rollup::fold(&self.pool).await
    }

    async fn mark_linked(
        &self,
        phone_number_id: &str,
        user_key: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        log::mark_linked(&self.pool, phone_number_id, user_key, at).await
    }

    async fn purge(&self, before: Timestamp) -> Result<u64, StoreError> {
        log::purge(&self.pool, before).await
    }

    async fn forget(
        &self,
        user_key: &str,
        signing_key: &str,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        log::forget(&self.pool, user_key, signing_key, now).await
    }

    async fn queue_stats(&self, now: Timestamp) -> Result<QueueStats, StoreError> {
        log::queue_stats(&self.pool, now).await
    }

    async fn quarantined(&self) -> Result<i64, StoreError> {
        log::quarantined(&self.pool).await
    }

    async fn publish_locales(
        &self,
        version: &str,
        files_json: &str,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        log::publish_locales(&self.pool, version, files_json, at).await
    }

    async fn latest_locales(&self) -> Result<Option<PublishedLocales>, StoreError> {
        log::latest_locales(&self.pool).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        log::ping(&self.pool).await
    }
}
