//! The outbox side of the SQLite store: claims and attempts.

use crate::store::{AttemptOutcome, DueNotice, Rendered, StoreError, millis, rows};
use jiff::{SignedDuration, Timestamp};
use sqlx::{Sqlite, SqliteConnection, Transaction};

pub(super) async fn claim(
    tx: &mut Transaction<'static, Sqlite>,
    now: Timestamp,
    lease: SignedDuration,
    pair_spacing: SignedDuration,
    limit: u32,
) -> Result<Vec<DueNotice>, StoreError> {
    // A `sending` notice whose lease ran out belonged to a box that died
    // mid-send: it is due again.
    let rows = sqlx::query(
        "SELECT n.id, n.phone_number_id, n.kind, n.locale, n.attempts, u.wa_id, u.bsuid, u.pseudonym, u.country,
                COALESCE(u.last_message_at, n.created_at) AS last_message_at
         FROM notices n JOIN users u ON u.id = n.user_id
         WHERE n.status IN ('queued', 'sending') AND n.due_at <= $1
           AND (n.lease_until IS NULL OR n.lease_until <= $1)
           AND NOT EXISTS (SELECT 1 FROM paused_numbers p WHERE p.phone_number_id IN (n.phone_number_id, '*'))
           AND NOT EXISTS (SELECT 1 FROM notices o WHERE o.user_id = n.user_id AND o.id <> n.id
                 AND ((o.status = 'sending' AND o.lease_until > $1) OR (o.status = 'queued' AND o.id < n.id)
                      OR o.sent_at > $1 - $3))
         ORDER BY n.due_at, n.id LIMIT $2",
    )
    .bind(millis(now))
    .bind(i64::from(limit))
    .bind(i64::try_from(pair_spacing.as_millis()).unwrap_or(i64::MAX))
    .fetch_all(&mut **tx)
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
    .execute(&mut **tx)
    .await?;
    Ok(claimed)
}

pub(super) async fn finish(
    connection: &mut SqliteConnection,
    id: i64,
    outcome: &AttemptOutcome,
    now: Timestamp,
) -> Result<(), StoreError> {
    let now = millis(now);
    let query = match outcome {
        // A delivery report may have overtaken the Graph API's answer (it
        // carries our id in biz_opaque_callback_data): never move back.
        AttemptOutcome::Sent { outbound_message_id, rendered } => with_rendered(
            sqlx::query(
                "UPDATE notices SET status = CASE WHEN status = 'sending' THEN 'sent' ELSE status END,
                        outbound_message_id = $1, sent_at = $2, lease_until = NULL, error_code = NULL,
                        error_title = NULL, body = $3, phase = $4, days_left = $5, template_version = $6
                 WHERE id = $7",
            )
            .bind(outbound_message_id)
            .bind(now),
            Some(rendered),
        ),
        AttemptOutcome::DryRun { rendered } => with_rendered(
            sqlx::query(
                "UPDATE notices SET status = 'dry_run', sent_at = $1, lease_until = NULL,
                        body = $2, phase = $3, days_left = $4, template_version = $5 WHERE id = $6",
            )
            .bind(now),
            Some(rendered),
        ),
        AttemptOutcome::Retry { at, error } => sqlx::query(
            "UPDATE notices SET status = 'queued', due_at = $1, lease_until = NULL,
                    error_code = $2, error_title = $3 WHERE id = $4",
        )
        .bind(millis(*at))
        .bind(error.as_ref().map(|e| e.code))
        .bind(error.as_ref().map(|e| e.title.clone())),
        AttemptOutcome::Failed { error, rendered } => with_rendered(
            sqlx::query(
                "UPDATE notices SET status = 'failed', lease_until = NULL, error_code = $1, error_title = $2,
                        body = COALESCE($3, body), phase = COALESCE($4, phase), days_left = COALESCE($5, days_left),
                        template_version = COALESCE($6, template_version) WHERE id = $7",
            )
            .bind(error.code)
            .bind(error.title.clone()),
            rendered.as_ref(),
        ),
        AttemptOutcome::Expired => sqlx::query("UPDATE notices SET status = 'expired', lease_until = NULL WHERE id = $1"),
        AttemptOutcome::Requeue => sqlx::query(
            "UPDATE notices SET status = 'queued', lease_until = NULL, attempts = MAX(attempts - 1, 0) WHERE id = $1",
        ),
    };
    query.bind(id).execute(connection).await?;
    Ok(())
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>;

fn with_rendered<'q>(query: SqliteQuery<'q>, rendered: Option<&Rendered>) -> SqliteQuery<'q> {
    query
        .bind(rendered.map(|r| r.text.clone()))
        .bind(rendered.map(|r| r.phase.as_str()))
        .bind(rendered.map(|r| r.days_left))
        .bind(rendered.map(|r| r.template_version.clone()))
}
