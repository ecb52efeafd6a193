//! The counts behind `/api/stats`, read from the rollups by the quarter
//! hour that the database's triggers keep (see the `rollups` and
//! `quarter_hours` migrations). Whole quarter hours come from `log_rollup`;
//! the partial ones at the edges of a range are counted from the rows
//! themselves, so every count is what the rows say. Every time zone's
//! midnight falls on a quarter hour, so each quarter hour belongs to one
//! day of the campaign's time zone.

use super::log::StoredRow;
use super::{Count, Funnel, Stats, StoreError};

/// The rollup's step: a quarter of an hour, in ms.
pub(crate) const QUARTER_MS: i64 = 900_000;

/// Where a stats call counts `[since, until)` (Unix ms) from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StatsRange {
    /// The range itself, open ends as `i64::MIN` / `i64::MAX`.
    pub rows: (i64, i64),
    /// Whole quarter hours, read from the rollup.
    pub whole_quarters: (i64, i64),
    /// The partial quarter hours before and after them, read from the rows.
    pub edges: [(i64, i64); 2],
}

impl StatsRange {
    pub(crate) fn new(since: Option<i64>, until: Option<i64>) -> Self {
        let rows = (since.unwrap_or(i64::MIN), until.unwrap_or(i64::MAX));
        let first = since.map_or(i64::MIN, |s| {
            let quarters = s.div_euclid(QUARTER_MS) + i64::from(s.rem_euclid(QUARTER_MS) != 0);
            quarters.saturating_mul(QUARTER_MS)
        });
        let last = until.map_or(i64::MAX, |u| u.div_euclid(QUARTER_MS) * QUARTER_MS);
        if first < last {
            Self {
                rows,
                whole_quarters: (first, last),
                edges: [(rows.0, first), (last, rows.1)],
            }
        } else {
            Self {
                rows,
                whole_quarters: (0, 0),
                edges: [rows, (0, 0)],
            }
        }
    }
}

/// Every count of a stats call in one statement (so in one snapshot), as
/// `(dimension, hour, key, total)` rows, largest first within each
/// dimension. `slice` is the range in the rollup's shape, `totals` the same
/// without the quarter hour: a few dozen rows that every count but the
/// daily one reads. Binds: whole quarter hours `$1..$2`, edges `$3..$4` and `$5..$6`, the
/// whole range `$7..$8`.
///
/// The funnel: every inbound message; those answered with a notice; sent
/// (or further); delivered (a `delivered_at`, or `read` without it); read;
/// clicked at least once; and the linked users among those who wrote.
pub(crate) const STATS_SQL: &str = "
WITH slice AS (
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, count
    FROM log_rollup WHERE hour >= $1 AND hour < $2
    UNION ALL
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, 1
    FROM log_rollup_keys
    WHERE (received_at >= $3 AND received_at < $4) OR (received_at >= $5 AND received_at < $6)
),
totals AS (
    SELECT decision, locale, country, kind, phase, status, delivered, clicked, SUM(count) AS count
    FROM slice GROUP BY decision, locale, country, kind, phase, status, delivered, clicked
),
counted AS (
    SELECT 'hour' AS dimension, hour, decision AS key, SUM(count) AS total FROM slice GROUP BY hour, decision
    UNION ALL SELECT 'locale', 0, locale, SUM(count) FROM totals GROUP BY locale
    UNION ALL SELECT 'country', 0, country, SUM(count) FROM totals GROUP BY country
    UNION ALL SELECT 'phase', 0, phase, SUM(count) FROM totals GROUP BY phase
    UNION ALL SELECT 'decision', 0, decision, SUM(count) FROM totals GROUP BY decision
    UNION ALL SELECT 'status', 0, status, SUM(count) FROM totals GROUP BY status
    UNION ALL SELECT 'funnel', 0, 'inbound', SUM(count) FROM totals
    UNION ALL SELECT 'funnel', 0, 'notified', SUM(count) FROM totals WHERE kind = 'notice'
    UNION ALL SELECT 'funnel', 0, 'sent', SUM(count) FROM totals
        WHERE kind = 'notice' AND status IN ('sent', 'delivered', 'read')
    UNION ALL SELECT 'funnel', 0, 'delivered', SUM(count) FROM totals
        WHERE kind = 'notice' AND (status IN ('delivered', 'read') OR delivered = 1)
    UNION ALL SELECT 'funnel', 0, 'read', SUM(count) FROM totals WHERE kind = 'notice' AND status = 'read'
    UNION ALL SELECT 'funnel', 0, 'clicked', SUM(count) FROM totals WHERE kind = 'notice' AND clicked = 1
    UNION ALL SELECT 'funnel', 0, 'linked', COUNT(*) FROM users u
        WHERE u.linked_at IS NOT NULL AND EXISTS (
            SELECT 1 FROM inbound i WHERE i.user_id = u.id AND i.received_at >= $7 AND i.received_at < $8)
)
SELECT dimension, hour, key, CAST(total AS BIGINT) AS total FROM counted WHERE total > 0
ORDER BY dimension, hour, total DESC, key";

/// The statement's rows as [`Stats`], without the latest failures.
pub(crate) fn stats_from_rows<R: StoredRow>(rows: &[R]) -> Result<Stats, StoreError> {
    let mut stats = Stats::default();
    for row in rows {
        let key = row.text("key")?;
        let count = row.int("total")?;
        let by = match row.text("dimension")?.as_str() {
            "hour" => {
                stats
                    .quarter_hour_decisions
                    .push((row.int("hour")?, key, count));
                continue;
            }
            "funnel" => {
                set_funnel_step(&mut stats.funnel, &key, count)?;
                continue;
            }
            "locale" => &mut stats.by_locale,
            "country" => &mut stats.by_country,
            "phase" => &mut stats.by_phase,
            "decision" => &mut stats.by_decision,
            "status" => &mut stats.by_status,
            other => return Err(StoreError::Corrupt(format!("stats dimension `{other}`"))),
        };
        by.push(Count { key, count });
    }
    Ok(stats)
}

fn set_funnel_step(funnel: &mut Funnel, step: &str, count: i64) -> Result<(), StoreError> {
    let slot = match step {
        "inbound" => &mut funnel.inbound,
        "notified" => &mut funnel.notified,
        "sent" => &mut funnel.sent,
        "delivered" => &mut funnel.delivered,
        "read" => &mut funnel.read,
        "clicked" => &mut funnel.clicked,
        "linked" => &mut funnel.linked,
        other => return Err(StoreError::Corrupt(format!("funnel step `{other}`"))),
    };
    *slot = count;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn counted_times(range: &StatsRange, at: i64) -> u32 {
        let within = |(from, to): (i64, i64), t: i64| from <= t && t < to;
        let quarter = at.div_euclid(QUARTER_MS) * QUARTER_MS;
        u32::from(within(range.whole_quarters, quarter))
            + range
                .edges
                .iter()
                .map(|e| u32::from(within(*e, at)))
                .sum::<u32>()
    }

    #[test]
    fn an_open_range_is_all_rollup() {
        let range = StatsRange::new(None, None);
        assert_eq!(range.whole_quarters, (i64::MIN, i64::MAX));
        assert_eq!(range.edges, [(i64::MIN, i64::MIN), (i64::MAX, i64::MAX)]);
    }

    #[test]
    fn a_range_inside_one_quarter_hour_is_all_rows() {
        let range = StatsRange::new(Some(QUARTER_MS + 5), Some(QUARTER_MS + 9));
        assert_eq!(range.whole_quarters, (0, 0));
        assert_eq!(range.edges[0], (QUARTER_MS + 5, QUARTER_MS + 9));
    }

    #[test]
    fn every_zones_midnight_starts_a_quarter_hour() {
        for zone in [
            "Asia/Kolkata",
            "Asia/Kathmandu",
            "Asia/Tehran",
            "Australia/Eucla",
            "Pacific/Chatham",
            "America/St_Johns",
            "Pacific/Marquesas",
            "America/Sao_Paulo",
        ] {
            let zone = jiff::tz::TimeZone::get(zone).unwrap();
            for date in ["2026-01-15", "2026-07-15", "2027-06-30"] {
                let midnight = date
                    .parse::<jiff::civil::Date>()
                    .unwrap()
                    .to_zoned_datetime(zone.clone())
                    .unwrap()
                    .timestamp()
                    .as_millisecond();
                assert_eq!(midnight.rem_euclid(QUARTER_MS), 0, "{zone:?} {date}");
            }
        }
    }

    proptest! {
        #[test]
        fn every_instant_in_range_is_counted_once_and_no_other(
            since in proptest::option::of(0i64..40 * QUARTER_MS),
            until in proptest::option::of(0i64..40 * QUARTER_MS),
            at in 0i64..40 * QUARTER_MS,
        ) {
            let range = StatsRange::new(since, until);
            let inside = since.is_none_or(|s| s <= at) && until.is_none_or(|u| at < u);
            prop_assert_eq!(counted_times(&range, at), u32::from(inside));
        }
    }
}
