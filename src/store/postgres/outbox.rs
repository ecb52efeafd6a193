//! The outbox side of the PostgreSQL store: claims and attempts.

use crate::store::{DueNotice, StoreError, millis};
use jiff::{SignedDuration, Timestamp};
use sqlx::PgConnection;

pub(super) async fn claim(
    tx: &mut PgConnection,
    now: Timestamp,
    lease: SignedDuration,
    pair_spacing: SignedDuration,
    limit: u32,
) -> Result<Vec<DueNotice>, StoreError> {
    // A `sending` notice whose lease ran out belonged to a box that died
    // mid-send: it is due again. Other boxes claim at the same time: SKIP
    // LOCKED hands each of them different rows, and a row another box
    // leased meanwhile is re-checked against the WHERE clause and dropped.
    // `OF n` leaves the users alone, so ingest never waits on the sender.
    // The pause is checked once for '*' (under `sunset pause` the queue is
    // not read at all) and against the set of paused numbers: written as a
    // join with `paused_numbers`, the planner took it to remove all but one
    // row, so it sorted the whole queue instead of reading the due index in
    // order up to the limit (30 ms a claim with 2,000 due notices).
    let rows = sqlx::query(
        "SELECT n.id, n.phone_number_id, n.kind, n.locale, n.attempts, u.wa_id, u.bsuid, u.pseudonym, u.country, u.opted_out,
                COALESCE(u.last_message_at, n.created_at) AS last_message_at
         FROM notices n JOIN users u ON u.id = n.user_id
         WHERE n.status IN ('queued', 'sending') AND n.due_at <= $1
           AND (n.lease_until IS NULL OR n.lease_until <= $1)
           AND NOT EXISTS (SELECT 1 FROM paused_numbers WHERE phone_number_id = '*')
           AND n.phone_number_id NOT IN (SELECT phone_number_id FROM paused_numbers)
           AND NOT EXISTS (SELECT 1 FROM notices o WHERE o.user_id = n.user_id AND o.id <> n.id
                 AND ((o.status = 'sending' AND o.lease_until > $1) OR (o.status = 'queued' AND o.id < n.id)
                      OR o.sent_at > $1 - $3))
         ORDER BY n.due_at, n.id LIMIT $2
         FOR UPDATE OF n SKIP LOCKED",
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
    // One statement for the whole batch: the rows are already locked.
    let ids: Vec<i64> = claimed.iter().map(|notice| notice.id).collect();
    sqlx::query("UPDATE notices SET status = 'sending', lease_until = $1, attempts = attempts + 1 WHERE id = ANY($2)")
        .bind(millis(now + lease))
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    Ok(claimed)
}
