//! Folding the rollup changes that the triggers append into `log_rollup`.

use crate::store::StoreError;
use sqlx::PgPool;

/// Any fixed number, the same on every box: one fold at a time.
const FOLD_LOCK: i64 = 0x726f_6c6c_7570;

/// Moves every committed change into the rollup; returns how many.
pub(super) async fn fold(pool: &PgPool) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(FOLD_LOCK)
        .execute(&mut *tx)
        .await?;
    let folded: i64 = sqlx::query_scalar(
        "WITH moved AS (DELETE FROM log_rollup_changes RETURNING *),
              summed AS (
                  INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
                  SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, SUM(count)
                  FROM moved GROUP BY hour, decision, locale, country, kind, phase, status, delivered, clicked
                  ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
                  DO UPDATE SET count = log_rollup.count + excluded.count
              )
         SELECT COUNT(*) FROM moved",
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(u64::try_from(folded).unwrap_or_default())
}
