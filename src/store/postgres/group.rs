//! How the PostgreSQL store writes a group, safely while other boxes write
//! to the same database: new senders are created first, on their own; the
//! group's users, then its notices, are locked in id order, so a second box
//! deciding a message from the same person, or moving the same notice,
//! waits, then sees what this one stored.
//!
//! Every statement is a round trip to the server and a plan and an
//! executor of its own there, however few rows it touches, so a group
//! makes as few as its order allows: it locks and reads its users in one
//! statement; reads the message ids already seen, its new ids and its
//! notices (locked) in a second, after the users' locks, to see another
//! box's commit for the same people; decides in memory; and writes every
//! row in a third.

use crate::store::batch::{self, Job, Plan, USER_COLUMNS, UserRecord};
use crate::store::progress::{self, NoticeProgress, PROGRESS_COLUMNS};
use crate::store::stored::Stored;
use crate::store::writer::{Group, GroupOutcome, GroupWrite};
use crate::store::{StoreError, rows};
use async_trait::async_trait;
use sqlx::{PgConnection, PgPool};
use std::sync::LazyLock;

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
        let users = if group.jobs.is_empty() {
            vec![]
        } else {
            take_log_turn(&mut tx).await?;
            lock_users(&mut tx, &group.jobs).await?
        };
        let stored = read(&mut tx, group).await?;
        let free = stored.next_ids.into_iter().collect();
        let plan = batch::plan(&group.jobs, &stored.seen, users, free)?;
        let (changed, unknown) = progress::apply(&group.reports, &group.finishes, stored.notices);
        write(&mut tx, &plan, &changed).await?;
        tx.commit().await?;
        Ok(GroupOutcome {
            decided: plan.outcomes,
            unknown,
            ..GroupOutcome::default()
        })
    }
}

/// Any fixed number, the same on every box.
const LOG_TURN: i64 = 0x6c6f_675f_7475_726e;

/// Waits until no other group that writes log rows is between taking its
/// ids and committing, on any box: log ids then become visible in the
/// order they were taken, so a reader following `next_cursor` never steps
/// past a row that commits later with a smaller id. Taken first, before
/// any row lock, so no two groups ever wait for each other in a circle.
async fn take_log_turn(tx: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOG_TURN)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Creates a record for every sender no record matches yet, committed at
/// once: an empty record is harmless, and the group's transaction then
/// only locks rows that exist. A retry of a forgotten person's message
/// makes none: that person is not to be stored again.
async fn create_senders(pool: &PgPool, jobs: &[&Job]) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (phone_number_id, bsuid, wa_id, pseudonym, country, profile_name, created_at)
         SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, (value->>6)::BIGINT
         FROM jsonb_array_elements($1::JSONB)
         WHERE NOT EXISTS (SELECT 1 FROM forgotten_messages WHERE message_id = value->>7)
         ON CONFLICT DO NOTHING",
    )
    .bind(rows::senders(jobs))
    .execute(pool)
    .await?;
    Ok(())
}

/// Each pair of arrays is (business number, id) pairs, looked up one by
/// one in the unique index of that id.
static LOCK_USERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT id, {USER_COLUMNS} FROM users WHERE id IN (
             SELECT u.id FROM unnest($1::TEXT[], $2::TEXT[]) AS k (number, bsuid)
             JOIN users u ON u.phone_number_id = k.number AND u.bsuid = k.bsuid
             UNION ALL
             SELECT u.id FROM unnest($3::TEXT[], $4::TEXT[]) AS k (number, wa_id)
             JOIN users u ON u.phone_number_id = k.number AND u.wa_id = k.wa_id)
         ORDER BY id FOR UPDATE"
    )
});

/// Locks and reads the records the group's senders may be, in id order.
///
/// The keys come as arrays: the server plans the statement once for any
/// group (an array's length is not part of the plan), where a plan for
/// the keys themselves took it a third of a millisecond each time.
async fn lock_users(tx: &mut PgConnection, jobs: &[&Job]) -> Result<Vec<UserRecord>, StoreError> {
    let (bsuids, wa_ids) = batch::sender_keys(jobs);
    let (bsuid_numbers, bsuids): (Vec<&str>, Vec<&str>) = bsuids.into_iter().unzip();
    let (wa_id_numbers, wa_ids): (Vec<&str>, Vec<&str>) = wa_ids.into_iter().unzip();
    sqlx::query(sqlx::AssertSqlSafe(LOCK_USERS.as_str()))
        .bind(bsuid_numbers)
        .bind(bsuids)
        .bind(wa_id_numbers)
        .bind(wa_ids)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(UserRecord::from_row)
        .collect()
}

/// The message ids of the group already stored, one new user id and one
/// new inbound id per message (a notice takes its inbound row's), and the
/// notices the group's reports and outcomes name,
/// locked in id order; each part tags its rows, and the first names
/// and types the columns.
///
/// Read after the users' locks, so another box's commit for the same
/// people is seen. Notices are locked because reports for one notice may
/// reach two boxes at once, and the status read here must still hold when
/// it is written, or a late `delivered` could overwrite `read`.
static READ: LazyLock<String> = LazyLock::new(|| {
    let nulls = vec!["NULL"; PROGRESS_COLUMNS.split(", ").count()].join(", ");
    format!(
        "WITH locked AS (
             SELECT id, {PROGRESS_COLUMNS} FROM notices WHERE outbound_message_id = ANY($2) OR id = ANY($3)
             ORDER BY id FOR UPDATE
         )
         SELECT 'notice' AS part, NULL::TEXT AS message_id, NULL::BIGINT AS users, NULL::BIGINT AS inbound,
                id, {PROGRESS_COLUMNS}
         FROM locked
         UNION ALL
         SELECT 'seen', message_id, NULL, NULL, NULL, {nulls} FROM inbound WHERE message_id = ANY($1)
         UNION ALL
         SELECT 'seen', message_id, NULL, NULL, NULL, {nulls} FROM forgotten_messages WHERE message_id = ANY($1)
         UNION ALL
         SELECT 'next', NULL, nextval('users_id_seq'), nextval('inbound_id_seq'), NULL, {nulls}
         FROM unnest($1::TEXT[])",
    )
});

async fn read(tx: &mut PgConnection, group: &Group<'_>) -> Result<Stored, StoreError> {
    let (outbound, ids) = progress::keys(&group.reports, &group.finishes);
    let rows = sqlx::query(sqlx::AssertSqlSafe(READ.as_str()))
        .bind(batch::message_ids(&group.jobs))
        .bind(outbound)
        .bind(ids)
        .fetch_all(&mut *tx)
        .await?;
    Stored::from_rows(&rows)
}

/// Every row a group writes, in one statement; an empty array writes
/// nothing. The checks of foreign keys and the rollups' triggers run at
/// its end, when every part is written. The text sent is written once,
/// when the attempt that rendered it ends.
const WRITE: &str = "
    WITH new_users AS (
        INSERT INTO users (id, phone_number_id, bsuid, wa_id, pseudonym, country, profile_name, chosen_locale,
                           opted_out, last_message_at, last_notice_at, last_notice_phase, last_notice_locale,
                           flood_window_start, flood_count, created_at)
        SELECT (value->>0)::BIGINT, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6,
               value->>7, (value->>8)::INT <> 0, (value->>9)::BIGINT, (value->>10)::BIGINT, value->>11,
               value->>12, (value->>13)::BIGINT, (value->>14)::BIGINT, (value->>15)::BIGINT
        FROM jsonb_array_elements($1::JSONB)
    ), changed_users AS (
        UPDATE users SET bsuid = j.value->>2, wa_id = j.value->>3, profile_name = j.value->>6,
               chosen_locale = j.value->>7, opted_out = (j.value->>8)::INT <> 0,
               last_message_at = (j.value->>9)::BIGINT, last_notice_at = (j.value->>10)::BIGINT,
               last_notice_phase = j.value->>11, last_notice_locale = j.value->>12,
               flood_window_start = (j.value->>13)::BIGINT, flood_count = (j.value->>14)::BIGINT
        FROM jsonb_array_elements($2::JSONB) AS j
        WHERE users.id = (j.value->>0)::BIGINT AND users.id = ANY($3)
    ), new_inbound AS (
        INSERT INTO inbound (id, message_id, received_at, message_sent_at, phone_number_id, user_id,
                             inbound_type, country, locale, locale_source, decision)
        SELECT (value->>0)::BIGINT, value->>1, (value->>2)::BIGINT, (value->>3)::BIGINT, value->>4,
               (value->>5)::BIGINT, value->>6, value->>7, value->>8, value->>9, value->>10
        FROM jsonb_array_elements($4::JSONB)
    ), new_notices AS (
        INSERT INTO notices (id, inbound_id, user_id, phone_number_id, kind, locale, status, due_at, created_at)
        SELECT (value->>0)::BIGINT, (value->>1)::BIGINT, (value->>2)::BIGINT, value->>3, value->>4,
               value->>5, 'queued', (value->>6)::BIGINT, (value->>6)::BIGINT
        FROM jsonb_array_elements($5::JSONB)
    )
    UPDATE notices SET status = j.value->>1, due_at = (j.value->>2)::BIGINT,
           lease_until = (j.value->>3)::BIGINT, attempts = (j.value->>4)::BIGINT,
           outbound_message_id = j.value->>5, sent_at = (j.value->>6)::BIGINT,
           delivered_at = (j.value->>7)::BIGINT, read_at = (j.value->>8)::BIGINT,
           error_code = (j.value->>9)::BIGINT, error_title = j.value->>10,
           body = COALESCE(j.value->>11, notices.body), phase = COALESCE(j.value->>12, notices.phase),
           days_left = COALESCE((j.value->>13)::BIGINT, notices.days_left),
           template_version = COALESCE(j.value->>14, notices.template_version)
    FROM jsonb_array_elements($6::JSONB) AS j
    WHERE notices.id = (j.value->>0)::BIGINT AND notices.id = ANY($7)";

async fn write(
    tx: &mut PgConnection,
    plan: &Plan,
    changed: &[NoticeProgress],
) -> Result<(), StoreError> {
    if plan.is_empty() && changed.is_empty() {
        return Ok(());
    }
    let unreached = progress::ended_unreached(changed);
    if !unreached.is_empty() {
        sqlx::query(FORGET_UNREACHED)
            .bind(&unreached)
            .execute(&mut *tx)
            .await?;
    }
    if !plan.phones_freed.is_empty() {
        // Before any row takes them: the phones of merged records, and of
        // those whose number went to someone else.
        sqlx::query("UPDATE users SET wa_id = NULL WHERE id = ANY($1)")
            .bind(&plan.phones_freed)
            .execute(&mut *tx)
            .await?;
    }
    write_rows(tx, plan, changed).await?;
    let from: Vec<i64> = plan.merges.iter().map(|m| m.from).collect();
    let into: Vec<i64> = plan.merges.iter().map(|m| m.into).collect();
    if from.is_empty() {
        return Ok(());
    }
    for statement in MERGE {
        sqlx::query(statement)
            .bind(&from)
            .bind(&into)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM users WHERE id = ANY($1)")
        .bind(&from)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Forgets, as their user's last notice, the notices that never reached
/// them: a notice that failed or expired does not coalesce the next
/// message. Before the group's rows: a statement updates a row once.
const FORGET_UNREACHED: &str = "
    UPDATE users SET last_notice_at = NULL, last_notice_phase = NULL, last_notice_locale = NULL
    FROM notices n
    WHERE n.id = ANY($1) AND users.id = n.user_id AND users.last_notice_at = n.created_at";

/// Moves merged records' messages, notices and link to the record they
/// went into.
const MERGE: [&str; 3] = [
    "UPDATE inbound SET user_id = m.into_id FROM unnest($1::BIGINT[], $2::BIGINT[]) AS m(from_id, into_id)
     WHERE inbound.user_id = m.from_id",
    "UPDATE notices SET user_id = m.into_id FROM unnest($1::BIGINT[], $2::BIGINT[]) AS m(from_id, into_id)
     WHERE notices.user_id = m.from_id",
    "UPDATE users SET linked_at = COALESCE(users.linked_at, gone.linked_at)
     FROM unnest($1::BIGINT[], $2::BIGINT[]) AS m(from_id, into_id) JOIN users AS gone ON gone.id = m.from_id
     WHERE users.id = m.into_id",
];

async fn write_rows(
    tx: &mut PgConnection,
    plan: &Plan,
    changed: &[NoticeProgress],
) -> Result<(), StoreError> {
    sqlx::query(WRITE)
        .bind(rows::users(&plan.new_users))
        .bind(rows::users(&plan.changed_users))
        .bind(plan.changed_users.iter().map(|u| u.id).collect::<Vec<_>>())
        .bind(rows::inbound(&plan.inbound))
        .bind(rows::notices(&plan.notices))
        .bind(rows::progress(changed))
        .bind(changed.iter().map(|n| n.id).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    Ok(())
}
