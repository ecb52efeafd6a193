//! The outbox side of the SQLite store: claims and attempts.

use crate::store::{DueNotice, StoreError, millis, rows};
use jiff::{SignedDuration, Timestamp};
use sqlx::SqliteConnection;

pub(super) async fn claim(
    tx: &mut SqliteConnection,
    now: Timestamp,
    lease: SignedDuration,
    pair_spacing: SignedDuration,
    limit: u32,
) -> Result<Vec<DueNotice>, StoreError> {
    // A `sending` notice whose lease ran out belonged to a box that died
    // mid-send: it is due again. The queue is read in due order from its
    // own index, so a claim stops at `limit`; left to itself the planner
    // takes the status index and sorts the whole backlog (16 ms for 5,000
    // queued notices, against 1 ms). The check of '*' names no row of the
    // queue, so it runs once: under `sunset pause` a claim reads nothing
    // (2 ms with 32,000 queued, where a check per row took 19 ms).
    let rows = sqlx::query(
        "SELECT n.id, n.phone_number_id, n.kind, n.locale, n.attempts, u.wa_id, u.bsuid, u.pseudonym, u.country, u.opted_out,
                COALESCE(u.last_message_at, n.created_at) AS last_message_at
         FROM notices n INDEXED BY notices_due JOIN users u ON u.id = n.user_id
         WHERE n.status IN ('queued', 'sending') AND n.due_at <= $1
           AND (n.lease_until IS NULL OR n.lease_until <= $1)
           AND NOT EXISTS (SELECT 1 FROM paused_numbers WHERE phone_number_id = '*')
           AND n.phone_number_id NOT IN (SELECT phone_number_id FROM paused_numbers)
           AND NOT EXISTS (SELECT 1 FROM notices o WHERE o.user_id = n.user_id AND o.id <> n.id
                 AND ((o.status = 'sending' AND o.lease_until > $1) OR (o.status = 'queued' AND o.id < n.id)
                      OR o.sent_at > $1 - $3))
         ORDER BY n.due_at, n.id LIMIT $2",
    )
    .bind(millis(now))
    .bind(i64::from(limit))
    .bind(i64::try_from(pair_spacing.as_millis()).unwrap_or(i64::MAX))
    .fetch_all(&mut *tx)
    .await?;
    let claimed = rows
        .iter()
        .map(DueNotice::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    if claimed.is_empty() {
        return Ok(claimed);
    }
    // One statement for the whole batch, inside the write lock.
    let ids: Vec<i64> = claimed.iter().map(|notice| notice.id).collect();
    sqlx::query(
        "UPDATE notices SET status = 'sending', lease_until = $1, attempts = attempts + 1
         WHERE id IN (SELECT value FROM json_each($2))",
    )
    .bind(millis(now + lease))
    .bind(rows::json(&ids))
    .execute(&mut *tx)
    .await?;
    Ok(claimed)
}
