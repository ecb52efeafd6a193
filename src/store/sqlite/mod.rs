//! The embedded store: one SQLite file in WAL mode.

mod group;
mod log;
mod outbox;

use super::writer::Writer;
use super::{
    AttemptOutcome, DueNotice, HeldNotice, IngestContext, Ingested, LogEntry, LogPage, LogQuery,
    PausedNumber, PublishedLocales, QueueStats, SendSlots, SlowedNumber, Stats, StatusUpdate,
    Store, StoreError,
};
use crate::domain::message::InboundMessage;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, SqliteConnection};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The turn to write to the database file, within this process.
#[derive(Clone, Debug, Default)]
pub(super) struct WriteTurn(Arc<tokio::sync::Mutex<()>>);

impl WriteTurn {
    pub async fn take(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.0.lock().await
    }
}

/// How often the log is copied into the database file. Small copies, each
/// ending with a sync of the file, measured best under load: p99 12–16 ms
/// at 10 ms, 18–20 ms at 25 ms (BENCHMARKS.md).
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(10);
/// The log's size, in pages, at which the writer finishes a checkpoint and
/// the log starts over (SQLite's default is 1,000).
const WRITER_CHECKPOINT_PAGES: u32 = 8_000;

/// Copies what the writer committed into the database file, without
/// waiting for readers or the writer, until the pool closes.
async fn checkpoint_every(pool: SqlitePool, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        ticks.tick().await;
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(%error, "checkpoint failed");
        }
    }
}

/// Rows sqlx's worker may hand the writer before it waits for them to be
/// taken (sqlx's default is 50).
const WRITER_ROW_BUFFER: usize = 4_096;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLite behind the [`Store`] trait.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Inbound messages, delivery reports, send outcomes, claims and send
    /// slots: every busy write, grouped.
    writer: Writer,
    /// Taken by every frequent write, the writer's groups included: SQLite
    /// has one writer at a time, and waiting here, in order, is far cheaper
    /// than its busy handler's sleeps.
    write_turn: WriteTurn,
    /// The database file; `None` in memory.
    file: Option<std::path::PathBuf>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and migrates it.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL is durable across process crashes; only an OS
            // crash or power loss can lose the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        // A checkpoint copies the log into the database file and syncs
        // it, stalling every caller of the group that runs it. A task does
        // that work beside the writer; the writer checkpoints only now and
        // then, what little is left, so that the log can start over.
        // A group's read returns all its rows in one call: a channel wide
        // enough for them lets sqlx's worker hand them over without waiting.
        let connection = SqliteConnection::connect_with(
            &options
                .clone()
                .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string())
                .row_buffer_size(WRITER_ROW_BUFFER),
        )
        .await?;
        tokio::spawn(checkpoint_every(pool.clone(), CHECKPOINT_INTERVAL));
        let write_turn = WriteTurn::default();
        // One writer: SQLite writes one transaction at a time anyway.
        let writer = Writer::start([group::SqliteGroup {
            connection,
            write_turn: write_turn.clone(),
        }]);
        let file = Some(options.get_filename().to_path_buf())
            .filter(|file| file.as_os_str() != ":memory:");
        Ok(Self {
            pool,
            writer,
            write_turn,
            file,
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ingest(
        &self,
        messages: Vec<InboundMessage>,
        ctx: &IngestContext<'_>,
    ) -> Result<Vec<Ingested>, StoreError> {
        self.writer.ingest(messages, ctx).await
    }

    async fn quarantine(&self, body: &[u8], reason: &str, at: Timestamp) -> Result<(), StoreError> {
        let _turn = self.write_turn.take().await;
        log::quarantine(&self.pool, body, reason, at).await
    }

    async fn apply_statuses(&self, updates: &[StatusUpdate]) -> Result<usize, StoreError> {
        self.writer.apply_statuses(updates).await
    }

    async fn claim_due_notices(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        pair_spacing: SignedDuration,
        limit: u32,
    ) -> Result<Vec<DueNotice>, StoreError> {
        self.writer.claim(now, lease, pair_spacing, limit).await
    }

    fn single_box_file(&self) -> Option<&std::path::Path> {
        self.file.as_deref()
    }

    async fn release_stale_leases(&self) -> Result<u64, StoreError> {
        let done = sqlx::query("UPDATE notices SET lease_until = NULL WHERE status = 'sending'")
            .execute(&self.pool)
            .await?;
        // The send slots it had reserved went with it: sending starts again
        // a second from now, not after them (a second keeps the last one
        // it sent and the next one in different one-second windows).
        sqlx::query("UPDATE send_budget SET next_slot_us = MIN(next_slot_us, $1)")
            .bind((Timestamp::now() + SignedDuration::from_secs(1)).as_microsecond())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
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
        self.writer
            .reserve(phone_number_id, count, interval, now)
            .await
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
        let _turn = self.write_turn.take().await;
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
        log::stats(&self.pool, since, until).await
    }

    /// One writer at a time: the triggers update the rollup itself.
    async fn fold_rollups(&self) -> Result<u64, StoreError> {
        Ok(0)
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
