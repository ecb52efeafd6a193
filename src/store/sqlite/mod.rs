//! The embedded store: one SQLite file in WAL mode.

mod ingest;
mod log;
mod outbox;

use super::{
    AttemptOutcome, DueNotice, IngestContext, Ingested, LogEntry, LogQuery, PausedNumber,
    PublishedLocales, QueueStats, Stats, StatusUpdate, Store, StoreError, from_millis, millis,
};
use crate::domain::message::InboundMessage;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLite behind the [`Store`] trait.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
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
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ingest(
        &self,
        messages: &[InboundMessage],
        ctx: &IngestContext<'_>,
    ) -> Result<Vec<Ingested>, StoreError> {
        // IMMEDIATE takes the write lock up front: a read-then-write
        // transaction that upgrades later fails with "database is locked".
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut outcomes = Vec::with_capacity(messages.len());
        for message in messages {
            outcomes.push(ingest::ingest_one(&mut tx, message, ctx).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn quarantine(&self, body: &[u8], reason: &str, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO quarantine (received_at, reason, body) VALUES ($1, $2, $3)")
            .bind(millis(at))
            .bind(reason)
            .bind(body)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn apply_statuses(&self, updates: &[StatusUpdate]) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut unknown = 0;
        for update in updates {
            if !outbox::apply_status(&mut tx, update).await? {
                unknown += 1;
            }
        }
        tx.commit().await?;
        Ok(unknown)
    }

    async fn claim_due_notices(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<DueNotice>, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let claimed = outbox::claim(&mut tx, now, lease, limit).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn release_stale_leases(&self) -> Result<u64, StoreError> {
        let done = sqlx::query("UPDATE notices SET lease_until = NULL WHERE status = 'sending'")
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
        outbox::finish(&self.pool, notice_id, outcome, now).await
    }

    async fn pause_number(&self, paused: &PausedNumber) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO paused_numbers (phone_number_id, error_code, reason, paused_at, next_probe_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (phone_number_id) DO UPDATE SET
                 error_code = excluded.error_code, reason = excluded.reason, next_probe_at = excluded.next_probe_at",
        )
        .bind(&paused.phone_number_id)
        .bind(paused.error_code)
        .bind(&paused.reason)
        .bind(millis(paused.paused_at))
        .bind(millis(paused.next_probe_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn resume_numbers(&self, phone_number_id: Option<&str>) -> Result<u64, StoreError> {
        let done =
            sqlx::query("DELETE FROM paused_numbers WHERE $1 IS NULL OR phone_number_id = $1")
                .bind(phone_number_id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    async fn paused_numbers(&self) -> Result<Vec<PausedNumber>, StoreError> {
        let rows = sqlx::query("SELECT phone_number_id, error_code, reason, paused_at, next_probe_at FROM paused_numbers ORDER BY phone_number_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(PausedNumber {
                    phone_number_id: row.try_get("phone_number_id")?,
                    error_code: row.try_get("error_code")?,
                    reason: row.try_get("reason")?,
                    paused_at: from_millis(row.try_get("paused_at")?)?,
                    next_probe_at: from_millis(row.try_get("next_probe_at")?)?,
                })
            })
            .collect()
    }

    async fn count_click(&self, notice_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE notices SET clicks = clicks + 1 WHERE id = $1")
            .bind(notice_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn log_entry(&self, inbound_message_id: &str) -> Result<Option<LogEntry>, StoreError> {
        log::entry(&self.pool, inbound_message_id).await
    }

    async fn log_page(&self, query: &LogQuery) -> Result<Vec<LogEntry>, StoreError> {
        log::page(&self.pool, query).await
    }

    async fn stats(
        &self,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<Stats, StoreError> {
        log::stats(&self.pool, since, until).await
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

    async fn forget(&self, user_key: &str) -> Result<u64, StoreError> {
        log::forget(&self.pool, user_key).await
    }

    async fn queue_stats(&self, now: Timestamp) -> Result<QueueStats, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*), MIN(created_at) FROM notices WHERE status IN ('queued', 'sending')",
        )
        .fetch_one(&self.pool)
        .await?;
        let oldest: Option<i64> = row.try_get(1)?;
        let oldest_age = match oldest {
            Some(ms) => now.duration_since(from_millis(ms)?),
            None => SignedDuration::ZERO,
        };
        Ok(QueueStats {
            depth: row.try_get(0)?,
            oldest_age,
        })
    }

    async fn quarantined(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM quarantine")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn publish_locales(
        &self,
        version: &str,
        files_json: &str,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar("INSERT INTO locale_sets (version, published_at, files) VALUES ($1, $2, $3) RETURNING id")
            .bind(version)
            .bind(millis(at))
            .bind(files_json)
            .fetch_one(&self.pool)
            .await?;
        Ok(id)
    }

    async fn latest_locales(&self) -> Result<Option<PublishedLocales>, StoreError> {
        let row =
            sqlx::query("SELECT id, version, files FROM locale_sets ORDER BY id DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| {
            Ok(PublishedLocales {
                id: row.try_get("id")?,
                version: row.try_get("version")?,
                files_json: row.try_get("files")?,
            })
        })
        .transpose()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
