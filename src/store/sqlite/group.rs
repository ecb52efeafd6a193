//! How the SQLite store writes a group: the one write connection, in one
//! `BEGIN IMMEDIATE` transaction, with rows passed as JSON arrays.

use super::{WriteTurn, log, outbox};
use crate::store::batch::{self, FreeIds, Job, Plan, UserRecord};
use crate::store::progress::{self, Finish, NoticeProgress, PROGRESS_COLUMNS};
use crate::store::writer::{Group, GroupOutcome, GroupWrite, store_group};
use crate::store::{Ingested, StatusUpdate, StoreError, rows};
use async_trait::async_trait;
use sqlx::{Connection, SqliteConnection};
use std::collections::HashSet;

/// The connection the group writer owns.
pub(super) struct SqliteGroup {
    pub connection: SqliteConnection,
    pub write_turn: WriteTurn,
}

#[async_trait]
impl GroupWrite for SqliteGroup {
    async fn write(&mut self, group: &Group<'_>) -> Result<GroupOutcome, StoreError> {
        // IMMEDIATE takes the write lock up front: a read-then-write
        // transaction that upgrades later fails with "database is locked".
        let _turn = self.write_turn.take().await;
        let mut tx = self.connection.begin_with("BEGIN IMMEDIATE").await?;
        store_group!(tx, group)
    }
}

async fn ingest(
    tx: &mut SqliteConnection,
    jobs: &[&Job],
) -> Result<Vec<Vec<Ingested>>, StoreError> {
    let seen: HashSet<String> = sqlx::query_scalar(
        "SELECT message_id FROM inbound WHERE message_id IN (SELECT value FROM json_each($1))",
    )
    .bind(rows::json(&batch::message_ids(jobs)))
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let (bsuids, wa_ids) = batch::sender_keys(jobs);
    let users = sqlx::query(
        "SELECT id, phone_number_id, bsuid, wa_id, pseudonym, country, profile_name, chosen_locale, opted_out,
                last_message_at, last_notice_at, last_notice_phase, last_notice_locale, flood_window_start,
                flood_count, created_at
         FROM users WHERE id IN (
             SELECT u.id FROM json_each($1) k JOIN users u
                 ON u.phone_number_id = k.value->>0 AND u.bsuid = k.value->>1
             UNION
             SELECT u.id FROM json_each($2) k JOIN users u
                 ON u.phone_number_id = k.value->>0 AND u.wa_id = k.value->>1)",
    )
    .bind(rows::json(&bsuids))
    .bind(rows::json(&wa_ids))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(UserRecord::from_row)
    .collect::<Result<Vec<_>, _>>()?;
    // One writer holds the write lock: the next ids are ours to take.
    let next: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COALESCE(MAX(id), 0) + 1 FROM users), (SELECT COALESCE(MAX(id), 0) + 1 FROM inbound),
                (SELECT COALESCE(MAX(id), 0) + 1 FROM notices)",
    )
    .fetch_one(&mut *tx)
    .await?;
    let count = jobs.iter().map(|job| job.messages.len()).sum();
    let Plan {
        new_users,
        changed_users,
        inbound,
        notices,
        outcomes,
    } = batch::plan(jobs, &seen, users, FreeIds::after(next, count))?;
    if !new_users.is_empty() {
        sqlx::query(
            "INSERT INTO users (id, phone_number_id, bsuid, wa_id, pseudonym, country, profile_name, chosen_locale,
                                opted_out, last_message_at, last_notice_at, last_notice_phase, last_notice_locale,
                                flood_window_start, flood_count, created_at)
             SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7,
                    value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, value->>14, value->>15
             FROM json_each($1)",
        )
        .bind(rows::users(&new_users))
        .execute(&mut *tx)
        .await?;
    }
    if !changed_users.is_empty() {
        sqlx::query(
            "UPDATE users SET bsuid = j.value->>2, wa_id = j.value->>3, profile_name = j.value->>6,
                    chosen_locale = j.value->>7, opted_out = j.value->>8, last_message_at = j.value->>9,
                    last_notice_at = j.value->>10, last_notice_phase = j.value->>11,
                    last_notice_locale = j.value->>12, flood_window_start = j.value->>13,
                    flood_count = j.value->>14
             FROM json_each($1) AS j WHERE users.id = j.value->>0",
        )
        .bind(rows::users(&changed_users))
        .execute(&mut *tx)
        .await?;
    }
    if !inbound.is_empty() {
        sqlx::query(
            "INSERT INTO inbound (id, message_id, received_at, message_sent_at, phone_number_id, user_id,
                                  inbound_type, country, locale, locale_source, decision)
             SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7,
                    value->>8, value->>9, value->>10
             FROM json_each($1)",
        )
        .bind(rows::inbound(&inbound))
        .execute(&mut *tx)
        .await?;
    }
    if !notices.is_empty() {
        sqlx::query(
            "INSERT INTO notices (id, inbound_id, user_id, phone_number_id, kind, locale, status, due_at, created_at)
             SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, 'queued', value->>6,
                    value->>6
             FROM json_each($1)",
        )
        .bind(rows::notices(&notices))
        .execute(&mut *tx)
        .await?;
    }
    Ok(outcomes)
}

async fn progress(
    tx: &mut SqliteConnection,
    reports: &[&[StatusUpdate]],
    finishes: &[&Finish],
) -> Result<Vec<usize>, StoreError> {
    let (outbound, ids) = progress::keys(reports, finishes);
    let loaded = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PROGRESS_COLUMNS} FROM notices WHERE outbound_message_id IN (SELECT value FROM json_each($1))
         UNION
         SELECT {PROGRESS_COLUMNS} FROM notices WHERE id IN (SELECT value FROM json_each($2))"
    )))
    .bind(rows::json(&outbound))
    .bind(rows::json(&ids))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(NoticeProgress::from_row)
    .collect::<Result<Vec<_>, _>>()?;
    let (changed, unknown) = progress::apply(reports, finishes, loaded);
    if !changed.is_empty() {
        // The text sent is written once, when the attempt that rendered it ends.
        sqlx::query(
            "UPDATE notices SET status = j.value->>1, due_at = j.value->>2, lease_until = j.value->>3,
                    attempts = j.value->>4, outbound_message_id = j.value->>5, sent_at = j.value->>6,
                    delivered_at = j.value->>7, read_at = j.value->>8, error_code = j.value->>9,
                    error_title = j.value->>10, body = COALESCE(j.value->>11, notices.body),
                    phase = COALESCE(j.value->>12, notices.phase),
                    days_left = COALESCE(j.value->>13, notices.days_left),
                    template_version = COALESCE(j.value->>14, notices.template_version)
             FROM json_each($1) AS j WHERE notices.id = j.value->>0",
        )
        .bind(rows::progress(&changed))
        .execute(&mut *tx)
        .await?;
    }
    Ok(unknown)
}
