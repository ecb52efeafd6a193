//! How the SQLite store writes a group: the one write connection, in one
//! `BEGIN IMMEDIATE` transaction, with rows passed as JSON arrays.
//!
//! Each call to the connection is a round trip to sqlx's worker thread, so
//! a group makes as few as it can, however many messages it holds: it
//! reads everything it needs in one call (message ids seen, the senders'
//! records, the next free ids, the notices its reports and outcomes name),
//! decides in memory, and writes every row in a second call. Both calls are
//! several statements in one query text: SQLite's driver runs them one
//! after another in its worker, binding each `$N` to the same arguments.

use super::{WriteTurn, log, outbox};
use crate::store::batch::{self, Plan, USER_COLUMNS};
use crate::store::progress::{self, NoticeProgress, PROGRESS_COLUMNS};
use crate::store::stored::Stored;
use crate::store::writer::{Claim, Group, GroupOutcome, GroupWrite, Reservation};
use crate::store::{StoreError, rows};
use async_trait::async_trait;
use sqlx::SqliteConnection;
use std::sync::LazyLock;

/// The connection the group writer owns.
pub(super) struct SqliteGroup {
    pub connection: SqliteConnection,
    pub write_turn: WriteTurn,
}

#[async_trait]
impl GroupWrite for SqliteGroup {
    async fn write(&mut self, group: &Group<'_>) -> Result<GroupOutcome, StoreError> {
        let _turn = self.write_turn.take().await;
        let written = write_group(&mut self.connection, group).await;
        if written.is_err()
            && let Err(error) = sqlx::query("ROLLBACK").execute(&mut self.connection).await
        {
            // The failure may have ended the transaction already.
            tracing::debug!(%error, "nothing to roll back");
        }
        written
    }
}

/// The group in one transaction, opened and closed by the calls that do
/// the work: under load, every call to the worker thread waits for two
/// threads to be scheduled, longer than most statements take (a third of
/// a millisecond each on 2 busy cores), so `BEGIN` goes with the reads and
/// `COMMIT` with the writes whenever nothing comes between.
///
/// `BEGIN IMMEDIATE` takes the write lock up front: a read-then-write
/// transaction that upgrades later fails with "database is locked".
async fn write_group(
    connection: &mut SqliteConnection,
    group: &Group<'_>,
) -> Result<GroupOutcome, StoreError> {
    let mut outcome = GroupOutcome::default();
    let commits_after = !group.claims.is_empty() || !group.reservations.is_empty();
    let mut committed = false;
    if !group.jobs.is_empty() || !group.reports.is_empty() || !group.finishes.is_empty() {
        let stored = read(connection, group).await?;
        let free = stored.next_ids.into_iter().collect();
        let plan = batch::plan(&group.jobs, &stored.seen, stored.users, free)?;
        let (changed, unknown) = progress::apply(&group.reports, &group.finishes, stored.notices);
        committed = write(connection, &plan, &changed, !commits_after).await?;
        outcome.decided = plan.outcomes;
        outcome.unknown = unknown;
    } else {
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *connection)
            .await?;
    }
    // Claims come after the group's new notices and finished attempts,
    // so they see both.
    for claim in &group.claims {
        let Claim {
            now,
            lease,
            pair_spacing,
            limit,
        } = **claim;
        let claimed = outbox::claim(connection, now, lease, pair_spacing, limit).await?;
        outcome.claimed.push(claimed);
    }
    for wanted in &group.reservations {
        let Reservation {
            phone_number_id,
            count,
            interval,
            now,
        } = wanted;
        let first =
            log::reserve_sends(connection, phone_number_id, *count, *interval, *now).await?;
        outcome.slots.push(first);
    }
    if !committed {
        sqlx::query("COMMIT").execute(&mut *connection).await?;
    }
    Ok(outcome)
}

/// Each statement tags its rows with the part of [`Stored`] they fill.
/// One writer holds the write lock, so the ids after the largest ones are
/// free: one user id and one inbound id per message id, as on PostgreSQL.
static READ: LazyLock<String> = LazyLock::new(|| {
    format!(
        "BEGIN IMMEDIATE;
         SELECT 'seen' AS part, message_id FROM inbound WHERE message_id IN (SELECT value FROM json_each($1))
         UNION ALL
         SELECT 'seen', message_id FROM forgotten_messages WHERE message_id IN (SELECT value FROM json_each($1));
         SELECT 'user' AS part, id, {USER_COLUMNS} FROM users WHERE id IN (
             SELECT u.id FROM json_each($2) k JOIN users u
                 ON u.phone_number_id = k.value->>0 AND u.bsuid = k.value->>1
             UNION
             SELECT u.id FROM json_each($3) k JOIN users u
                 ON u.phone_number_id = k.value->>0 AND u.wa_id = k.value->>1);
         SELECT 'next' AS part, f.users + m.key AS users, f.inbound + m.key AS inbound
         FROM json_each($1) m, (SELECT (SELECT COALESCE(MAX(id), 0) + 1 FROM users) AS users,
                                       (SELECT COALESCE(MAX(id), 0) + 1 FROM inbound) AS inbound) f;
         SELECT 'notice' AS part, id, {PROGRESS_COLUMNS} FROM notices
         WHERE outbound_message_id IN (SELECT value FROM json_each($4))
         UNION
         SELECT 'notice' AS part, id, {PROGRESS_COLUMNS} FROM notices WHERE id IN (SELECT value FROM json_each($5))"
    )
});

/// Opens the transaction and reads what the group needs.
async fn read(tx: &mut SqliteConnection, group: &Group<'_>) -> Result<Stored, StoreError> {
    let (bsuids, wa_ids) = batch::sender_keys(&group.jobs);
    let (outbound, ids) = progress::keys(&group.reports, &group.finishes);
    let found = sqlx::query(sqlx::AssertSqlSafe(READ.as_str()))
        .bind(rows::json(&batch::message_ids(&group.jobs)))
        .bind(rows::json(&bsuids))
        .bind(rows::json(&wa_ids))
        .bind(rows::json(&outbound))
        .bind(rows::json(&ids))
        .fetch_all(&mut *tx)
        .await?;
    Stored::from_rows(&found)
}

/// Every row a group writes, in one call; an empty array writes nothing.
/// The text sent is written once, when the attempt that rendered it ends.
static WRITE_AND_COMMIT: LazyLock<String> = LazyLock::new(|| format!("{WRITE}; COMMIT"));
const WRITE: &str = "
    INSERT INTO users (id, phone_number_id, bsuid, wa_id, pseudonym, country, profile_name, chosen_locale,
                       opted_out, last_message_at, last_notice_at, last_notice_phase, last_notice_locale,
                       flood_window_start, flood_count, created_at)
    SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7,
           value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, value->>14, value->>15
    FROM json_each($1);
    UPDATE users SET bsuid = j.value->>2, wa_id = j.value->>3, profile_name = j.value->>6,
           chosen_locale = j.value->>7, opted_out = j.value->>8, last_message_at = j.value->>9,
           last_notice_at = j.value->>10, last_notice_phase = j.value->>11,
           last_notice_locale = j.value->>12, flood_window_start = j.value->>13,
           flood_count = j.value->>14
    FROM json_each($2) AS j WHERE users.id = j.value->>0;
    INSERT INTO inbound (id, message_id, received_at, message_sent_at, phone_number_id, user_id,
                         inbound_type, country, locale, locale_source, decision)
    SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7,
           value->>8, value->>9, value->>10
    FROM json_each($3);
    INSERT INTO notices (id, inbound_id, user_id, phone_number_id, kind, locale, status, due_at, created_at)
    SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, 'queued', value->>6, value->>6
    FROM json_each($4);
    UPDATE notices SET status = j.value->>1, due_at = j.value->>2, lease_until = j.value->>3,
           attempts = j.value->>4, outbound_message_id = j.value->>5, sent_at = j.value->>6,
           delivered_at = j.value->>7, read_at = j.value->>8, error_code = j.value->>9,
           error_title = j.value->>10, body = COALESCE(j.value->>11, notices.body),
           phase = COALESCE(j.value->>12, notices.phase),
           days_left = COALESCE(j.value->>13, notices.days_left),
           template_version = COALESCE(j.value->>14, notices.template_version)
    FROM json_each($5) AS j WHERE notices.id = j.value->>0";

/// Forgets, as their user's last notice, the notices that never reached
/// them: a notice that failed or expired does not coalesce the next message.
const FORGET_UNREACHED: &str = "
    UPDATE users SET last_notice_at = NULL, last_notice_phase = NULL, last_notice_locale = NULL
    FROM notices n
    WHERE n.id IN (SELECT value FROM json_each($1)) AND users.id = n.user_id
      AND users.last_notice_at = n.created_at";

/// Frees the phones of records merged into others or whose number went
/// to someone else, before any row takes them.
const RELEASE_PHONES: &str =
    "UPDATE users SET wa_id = NULL WHERE id IN (SELECT value FROM json_each($1))";

/// Moves merged records' messages, notices and link to the record they
/// went into, then deletes them.
const MERGE: &str = "
    UPDATE inbound SET user_id = m.value->>'into'
    FROM json_each($1) AS m WHERE inbound.user_id = m.value->>'from';
    UPDATE notices SET user_id = m.value->>'into'
    FROM json_each($1) AS m WHERE notices.user_id = m.value->>'from';
    UPDATE users SET linked_at = COALESCE(users.linked_at, gone.linked_at)
    FROM json_each($1) AS m JOIN users AS gone ON gone.id = m.value->>'from'
    WHERE users.id = m.value->>'into';
    DELETE FROM users WHERE id IN (SELECT value->>'from' FROM json_each($1))";

/// Writes the plan and the notices' progress; with `commit`, commits in
/// the same call when nothing else is left to write. Returns whether it
/// committed.
async fn write(
    tx: &mut SqliteConnection,
    plan: &Plan,
    changed: &[NoticeProgress],
    commit: bool,
) -> Result<bool, StoreError> {
    if plan.is_empty() && changed.is_empty() {
        return Ok(false);
    }
    let merges = (!plan.merges.is_empty()).then(|| rows::json(&plan.merges));
    let unreached = progress::ended_unreached(changed);
    if !plan.phones_freed.is_empty() {
        sqlx::query(RELEASE_PHONES)
            .bind(rows::json(&plan.phones_freed))
            .execute(&mut *tx)
            .await?;
    }
    let commit = commit && merges.is_none() && unreached.is_empty();
    let statements = if commit {
        WRITE_AND_COMMIT.as_str()
    } else {
        WRITE
    };
    sqlx::query(sqlx::AssertSqlSafe(statements))
        .bind(rows::users(&plan.new_users))
        .bind(rows::users(&plan.changed_users))
        .bind(rows::inbound(&plan.inbound))
        .bind(rows::notices(&plan.notices))
        .bind(rows::progress(changed))
        .execute(&mut *tx)
        .await?;
    if let Some(merges) = &merges {
        sqlx::query(MERGE).bind(merges).execute(&mut *tx).await?;
    }
    if !unreached.is_empty() {
        sqlx::query(FORGET_UNREACHED)
            .bind(rows::json(&unreached))
            .execute(&mut *tx)
            .await?;
    }
    Ok(commit)
}
