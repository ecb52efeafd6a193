//! How the PostgreSQL store writes a group, safely while other boxes write
//! to the same database: new senders are created first, on their own; the
//! group's users are then locked in id order, so a second box deciding a
//! message from the same person waits, then sees what this one stored.

use crate::store::batch::{self, FreeIds, Job, Plan, UserRecord};
use crate::store::progress::{self, Finish, NoticeProgress, PROGRESS_COLUMNS};
use crate::store::writer::{Group, GroupOutcome, GroupWrite};
use crate::store::{StatusUpdate, StoreError, rows};
use async_trait::async_trait;
use sqlx::{PgConnection, PgPool};
use std::collections::HashSet;

/// The pool the group writer takes a connection from for each group.
pub(super) struct PgGroup(pub PgPool);

#[async_trait]
impl GroupWrite for PgGroup {
    async fn write(&mut self, group: &Group<'_>) -> Result<GroupOutcome, StoreError> {
        if !group.jobs.is_empty() {
            create_senders(&self.0, &group.jobs).await?;
        }
        // Claims and send slots never come here: on PostgreSQL they take
        // their own short transactions.
        let mut tx = self.0.begin().await?;
        let mut outcome = GroupOutcome::default();
        if !group.jobs.is_empty() {
            outcome.decided = ingest(&mut tx, &group.jobs).await?;
        }
        if !group.reports.is_empty() || !group.finishes.is_empty() {
            outcome.unknown = progress(&mut tx, &group.reports, &group.finishes).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }
}

/// Creates a record for every sender no record matches yet, committed at
/// once: an empty record is harmless, and the group's transaction then
/// only locks rows that exist.
async fn create_senders(pool: &PgPool, jobs: &[&Job]) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (phone_number_id, bsuid, wa_id, pseudonym, country, profile_name, created_at)
         SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, (value->>6)::BIGINT
         FROM jsonb_array_elements($1::JSONB)
         ON CONFLICT DO NOTHING",
    )
    .bind(rows::senders(jobs))
    .execute(pool)
    .await?;
    Ok(())
}

async fn ingest<'a>(
    tx: &mut PgConnection,
    jobs: &[&'a Job],
) -> Result<Vec<Vec<crate::store::Ingested>>, StoreError> {
    let (bsuids, wa_ids) = batch::sender_keys(jobs);
    let mut numbers: Vec<&str> = bsuids
        .iter()
        .chain(&wa_ids)
        .map(|(number, _)| *number)
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let second = |keys: &[(&str, &'a str)]| keys.iter().map(|(_, key)| *key).collect::<Vec<_>>();
    // Arrays, not joins with the JSON rows: the planner knows their length
    // and reads the two indexes; the few extra records a second number
    // brings in are locked, loaded and left alone.
    let users = sqlx::query(
        "SELECT id, phone_number_id, bsuid, wa_id, pseudonym, country, profile_name, chosen_locale, opted_out,
                last_message_at, last_notice_at, last_notice_phase, last_notice_locale, flood_window_start,
                flood_count, created_at
         FROM users WHERE phone_number_id = ANY($1) AND (bsuid = ANY($2) OR wa_id = ANY($3))
         ORDER BY id FOR UPDATE",
    )
    .bind(&numbers)
    .bind(second(&bsuids))
    .bind(second(&wa_ids))
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(UserRecord::from_row)
    .collect::<Result<Vec<_>, _>>()?;
    // Read after the locks: another box's commit for these users is seen.
    let seen: HashSet<String> =
        sqlx::query_scalar("SELECT message_id FROM inbound WHERE message_id = ANY($1)")
            .bind(batch::message_ids(jobs))
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let count: i64 = jobs.iter().map(|job| job.messages.len() as i64).sum();
    let ids: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT nextval('users_id_seq'), nextval('inbound_id_seq'), nextval('notices_id_seq')
         FROM generate_series(1, $1)",
    )
    .bind(count)
    .fetch_all(&mut *tx)
    .await?;
    let mut free = FreeIds::default();
    for (user, inbound, notice) in ids {
        free.users.push_back(user);
        free.inbound.push_back(inbound);
        free.notices.push_back(notice);
    }
    let Plan {
        new_users,
        changed_users,
        inbound,
        notices,
        outcomes,
    } = batch::plan(jobs, &seen, users, free)?;
    if !new_users.is_empty() {
        sqlx::query(
            "INSERT INTO users (id, phone_number_id, bsuid, wa_id, pseudonym, country, profile_name, chosen_locale,
                                opted_out, last_message_at, last_notice_at, last_notice_phase, last_notice_locale,
                                flood_window_start, flood_count, created_at)
             SELECT (value->>0)::BIGINT, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6,
                    value->>7, (value->>8)::INT <> 0, (value->>9)::BIGINT, (value->>10)::BIGINT, value->>11,
                    value->>12, (value->>13)::BIGINT, (value->>14)::BIGINT, (value->>15)::BIGINT
             FROM jsonb_array_elements($1::JSONB)",
        )
        .bind(rows::users(&new_users))
        .execute(&mut *tx)
        .await?;
    }
    if !changed_users.is_empty() {
        sqlx::query(
            "UPDATE users SET bsuid = j.value->>2, wa_id = j.value->>3, profile_name = j.value->>6,
                    chosen_locale = j.value->>7, opted_out = (j.value->>8)::INT <> 0,
                    last_message_at = (j.value->>9)::BIGINT, last_notice_at = (j.value->>10)::BIGINT,
                    last_notice_phase = j.value->>11, last_notice_locale = j.value->>12,
                    flood_window_start = (j.value->>13)::BIGINT, flood_count = (j.value->>14)::BIGINT
             FROM jsonb_array_elements($1::JSONB) AS j
             WHERE users.id = (j.value->>0)::BIGINT AND users.id = ANY($2)",
        )
        .bind(rows::users(&changed_users))
        .bind(changed_users.iter().map(|u| u.id).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    if !inbound.is_empty() {
        sqlx::query(
            "INSERT INTO inbound (id, message_id, received_at, message_sent_at, phone_number_id, user_id,
                                  inbound_type, country, locale, locale_source, decision)
             SELECT (value->>0)::BIGINT, value->>1, (value->>2)::BIGINT, (value->>3)::BIGINT, value->>4,
                    (value->>5)::BIGINT, value->>6, value->>7, value->>8, value->>9, value->>10
             FROM jsonb_array_elements($1::JSONB)",
        )
        .bind(rows::inbound(&inbound))
        .execute(&mut *tx)
        .await?;
    }
    if !notices.is_empty() {
        sqlx::query(
            "INSERT INTO notices (id, inbound_id, user_id, phone_number_id, kind, locale, status, due_at, created_at)
             SELECT (value->>0)::BIGINT, (value->>1)::BIGINT, (value->>2)::BIGINT, value->>3, value->>4,
                    value->>5, 'queued', (value->>6)::BIGINT, (value->>6)::BIGINT
             FROM jsonb_array_elements($1::JSONB)",
        )
        .bind(rows::notices(&notices))
        .execute(&mut *tx)
        .await?;
    }
    Ok(outcomes)
}

async fn progress(
    tx: &mut PgConnection,
    reports: &[&[StatusUpdate]],
    finishes: &[&Finish],
) -> Result<Vec<usize>, StoreError> {
    let (outbound, ids) = progress::keys(reports, finishes);
    // FOR UPDATE, in id order: reports for one notice may reach two boxes
    // at once, and the status read here must still hold when it is
    // written, or a late `delivered` could overwrite `read`.
    let loaded = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PROGRESS_COLUMNS} FROM notices WHERE outbound_message_id = ANY($1) OR id = ANY($2)
         ORDER BY id FOR UPDATE"
    )))
    .bind(outbound)
    .bind(ids)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(NoticeProgress::from_row)
    .collect::<Result<Vec<_>, _>>()?;
    let (changed, unknown) = progress::apply(reports, finishes, loaded);
    if !changed.is_empty() {
        // The text sent is written once, when the attempt that rendered it ends.
        sqlx::query(
            "UPDATE notices SET status = j.value->>1, due_at = (j.value->>2)::BIGINT,
                    lease_until = (j.value->>3)::BIGINT, attempts = (j.value->>4)::BIGINT,
                    outbound_message_id = j.value->>5, sent_at = (j.value->>6)::BIGINT,
                    delivered_at = (j.value->>7)::BIGINT, read_at = (j.value->>8)::BIGINT,
                    error_code = (j.value->>9)::BIGINT, error_title = j.value->>10,
                    body = COALESCE(j.value->>11, notices.body), phase = COALESCE(j.value->>12, notices.phase),
                    days_left = COALESCE((j.value->>13)::BIGINT, notices.days_left),
                    template_version = COALESCE(j.value->>14, notices.template_version)
             FROM jsonb_array_elements($1::JSONB) AS j
             WHERE notices.id = (j.value->>0)::BIGINT AND notices.id = ANY($2)",
        )
        .bind(rows::progress(&changed))
        .bind(changed.iter().map(|n| n.id).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    Ok(unknown)
}
