//! The queries both stores run with the same SQL, written once. Each
//! backend instantiates them with its pool type, the statement that opens a
//! write transaction, how it spells "not opted out", and how it gathers log
//! rows into one JSON array (`{fields}` and `{direction}` filled in).

/// Defines the shared query functions in the calling module.
macro_rules! shared_queries {
    (
        pool = $pool:ty,
        connection = $connection:ty,
        begin = $begin:literal,
        kept_opt_outs = $kept_opt_outs:literal,
        json_rows = $json_rows:literal
    ) => {
        use crate::store::log_page::LOG_ROW_FIELDS;
        use crate::store::stats::{STATS_SQL, StatsRange, stats_from_rows};
        use crate::store::{
            ALL_NUMBERS, HeldNotice, LogEntry, LogPage, LogQuery, PausedNumber, PublishedLocales, QueueStats, SendSlots, SlowedNumber,
            Stats, StoreError, bound_millis, from_millis, millis,
        };
        use jiff::{SignedDuration, Timestamp};
        use sqlx::Row;

        /// The log rows matching `filter`, the first `limit` by `sort_key`,
        /// as one JSON page. Only a single entry carries the notice's text:
        /// pages and exports never show it, and it is the longest column.
        fn log_rows_sql(with_body: bool, filter: &str, sort_key: &str, direction: &str, limit: &str) -> String {
            let body = if with_body { "n.body" } else { "NULL AS body" };
            let rows = format!($json_rows, fields = LOG_ROW_FIELDS, direction = direction);
            format!(
                "SELECT {rows} FROM (
                    SELECT i.id, i.received_at, i.phone_number_id, u.pseudonym, u.wa_id, u.bsuid, u.profile_name,
                        i.country, i.locale, i.locale_source, i.message_id, i.inbound_type, i.decision, n.kind, n.phase,
                        n.days_left, n.template_version, n.status, {body}, n.outbound_message_id, n.attempts, n.error_code,
                        n.error_title, n.sent_at, n.delivered_at, n.read_at, COALESCE(n.clicks, 0) AS clicks, u.linked_at,
                        {sort_key} AS sort_key
                    FROM inbound i JOIN users u ON u.id = i.user_id LEFT JOIN notices n ON n.inbound_id = i.id
                    WHERE {filter} ORDER BY sort_key {direction} LIMIT {limit}
                ) AS page"
            )
        }

        pub(super) async fn entry(
            pool: &$pool,
            message_id: &str,
        ) -> Result<Option<LogEntry>, StoreError> {
            let sql = log_rows_sql(true, "i.message_id = $1", "i.id", "ASC", "1");
            let json = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(message_id)
                .fetch_one(pool)
                .await?;
            Ok(LogPage::new(json).entries()?.pop())
        }

        pub(super) async fn page(pool: &$pool, q: &LogQuery) -> Result<LogPage, StoreError> {
            let sql = log_rows_sql(
                false,
                "i.id > $1 AND ($2 IS NULL OR i.received_at >= $2) AND ($3 IS NULL OR i.received_at < $3)
                   AND ($4 IS NULL OR lower(i.locale) = lower($4)) AND ($5 IS NULL OR COALESCE(i.country, 'none') = $5)
                   AND ($6 IS NULL OR i.decision = $6) AND ($7 IS NULL OR COALESCE(n.status, 'none') = $7)",
                "i.id",
                "ASC",
                "$8",
            );
            let json = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(q.after_id)
                .bind(q.since.map(bound_millis))
                .bind(q.until.map(bound_millis))
                .bind(&q.locale)
                .bind(&q.country)
                .bind(&q.decision)
                .bind(&q.status)
                .bind(i64::from(q.limit))
                .fetch_one(pool)
                .await?;
            Ok(LogPage::new(json))
        }

        pub(super) async fn stats(
            pool: &$pool,
            since: Option<Timestamp>,
            until: Option<Timestamp>,
        ) -> Result<Stats, StoreError> {
            let range = StatsRange::new(since.map(bound_millis), until.map(bound_millis));
            let rows = sqlx::query(STATS_SQL)
                .bind(range.whole_quarters.0)
                .bind(range.whole_quarters.1)
                .bind(range.edges[0].0)
                .bind(range.edges[0].1)
                .bind(range.edges[1].0)
                .bind(range.edges[1].1)
                .bind(range.rows.0)
                .bind(range.rows.1)
                .fetch_all(pool)
                .await?;
            let failures_sql = log_rows_sql(false, "n.status = 'failed'", "n.id", "DESC", "10");
            let failures = sqlx::query_scalar(sqlx::AssertSqlSafe(failures_sql))
                .fetch_one(pool)
                .await?;
            Ok(Stats {
                latest_failures: LogPage::new(failures).entries()?,
                ..stats_from_rows(&rows)?
            })
        }

        pub(super) async fn mark_linked(
            pool: &$pool,
            number: &str,
            user_key: &str,
            at: Timestamp,
        ) -> Result<bool, StoreError> {
            let done = sqlx::query(
                "UPDATE users SET linked_at = COALESCE(linked_at, $3)
                 WHERE phone_number_id = $1 AND (bsuid = $2 OR wa_id = $2)",
            )
            .bind(number)
            .bind(user_key)
            .bind(millis(at))
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        }

        pub(super) async fn purge(pool: &$pool, before: Timestamp) -> Result<u64, StoreError> {
            let before = millis(before);
            let mut tx = pool.begin_with($begin).await?;
            // Opt-outs keep their ids: forgetting them would let notices start again.
            let users = sqlx::query(concat!(
                "UPDATE users SET wa_id = NULL, bsuid = NULL, profile_name = NULL WHERE ",
                $kept_opt_outs,
                " AND (wa_id IS NOT NULL OR bsuid IS NOT NULL OR profile_name IS NOT NULL)
                   AND COALESCE(last_message_at, created_at) < $1 AND created_at < $1",
            ))
            .bind(before)
            .execute(&mut *tx)
            .await?;
            // An opt-out needs the ids that recognise the person, not the name.
            sqlx::query(
                "UPDATE users SET profile_name = NULL WHERE profile_name IS NOT NULL
                   AND COALESCE(last_message_at, created_at) < $1 AND created_at < $1",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?;
            // Forgotten people's message ids, once Meta has stopped retrying.
            sqlx::query("DELETE FROM forgotten_messages WHERE received_at < $1")
                .bind(before)
                .execute(&mut *tx)
                .await?;
            // And the texts of notices that are done.
            sqlx::query("UPDATE notices SET body = NULL WHERE created_at < $1 AND status NOT IN ('queued', 'sending')")
                .bind(before)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(users.rows_affected())
        }

        /// Erases every record of the person: by id, and, for records
        /// `purge` left with only their pseudonym, by the pseudonym the
        /// signing key gives the id on each business number. The message
        /// ids Meta may still retry are kept, alone, so that a retry is not
        /// answered again.
        pub(super) async fn forget(
            pool: &$pool,
            user_key: &str,
            signing_key: &str,
            now: Timestamp,
        ) -> Result<u64, StoreError> {
            let mut tx = pool.begin_with($begin).await?;
            let found = sqlx::query("SELECT id, wa_id, bsuid FROM users WHERE wa_id = $1 OR bsuid = $1")
                .bind(user_key)
                .fetch_all(&mut *tx)
                .await?;
            // The person's other id too: a record `purge` left may carry the
            // pseudonym of their BSUID when they are asked for by phone.
            let mut keys = vec![user_key.to_owned()];
            let mut records = vec![];
            for row in &found {
                records.push(row.try_get::<i64, _>("id")?);
                for id in ["wa_id", "bsuid"] {
                    keys.extend(row.try_get::<Option<String>, _>(id)?);
                }
            }
            keys.sort_unstable();
            keys.dedup();
            let numbers: Vec<String> = sqlx::query_scalar("SELECT DISTINCT phone_number_id FROM users")
                .fetch_all(&mut *tx)
                .await?;
            for number in &numbers {
                for key in &keys {
                    let pseudonym = crate::signing::pseudonym(signing_key, number, key);
                    records.extend(
                        sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE phone_number_id = $1 AND pseudonym = $2")
                            .bind(number)
                            .bind(pseudonym)
                            .fetch_all(&mut *tx)
                            .await?,
                    );
                }
            }
            records.sort_unstable();
            records.dedup();
            let mut removed = 0;
            for record in records {
                sqlx::query(
                    "INSERT INTO forgotten_messages (message_id, received_at)
                     SELECT message_id, received_at FROM inbound WHERE user_id = $1 AND received_at >= $2
                     ON CONFLICT DO NOTHING",
                )
                .bind(record)
                .bind(millis(now - crate::store::META_RETRIES))
                .execute(&mut *tx)
                .await?;
                for sql in [
                    "DELETE FROM notices WHERE user_id = $1",
                    "DELETE FROM inbound WHERE user_id = $1",
                    "DELETE FROM users WHERE id = $1",
                ] {
                    removed += sqlx::query(sql).bind(record).execute(&mut *tx).await?.rows_affected();
                }
            }
            tx.commit().await?;
            Ok(removed)
        }

        pub(super) async fn quarantine(pool: &$pool, body: &[u8], reason: &str, at: Timestamp) -> Result<(), StoreError> {
            sqlx::query("INSERT INTO quarantine (received_at, reason, body) VALUES ($1, $2, $3)")
                .bind(millis(at))
                .bind(reason)
                .bind(body)
                .execute(pool)
                .await?;
            Ok(())
        }

        pub(super) async fn pause_number(pool: &$pool, paused: &PausedNumber) -> Result<(), StoreError> {
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
            .execute(pool)
            .await?;
            Ok(())
        }

        pub(super) async fn resume_numbers(pool: &$pool, phone_number_id: Option<&str>) -> Result<u64, StoreError> {
            let done = sqlx::query("DELETE FROM paused_numbers WHERE $1 IS NULL OR phone_number_id = $1")
                .bind(phone_number_id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        }

        pub(super) async fn held_notice(pool: &$pool, notice_id: i64) -> Result<Option<HeldNotice>, StoreError> {
            let row = sqlx::query(
                "SELECT u.opted_out,
                        EXISTS (SELECT 1 FROM paused_numbers p
                                WHERE p.phone_number_id = n.phone_number_id OR p.phone_number_id = $2) AS paused
                 FROM notices n JOIN users u ON u.id = n.user_id WHERE n.id = $1",
            )
            .bind(notice_id)
            .bind(ALL_NUMBERS)
            .fetch_optional(pool)
            .await?;
            row.map(|row| {
                Ok(HeldNotice {
                    opted_out: row.try_get("opted_out")?,
                    paused: row.try_get("paused")?,
                })
            })
            .transpose()
        }

        pub(super) async fn paused_numbers(pool: &$pool) -> Result<Vec<PausedNumber>, StoreError> {
            let rows = sqlx::query(
                "SELECT phone_number_id, error_code, reason, paused_at, next_probe_at FROM paused_numbers ORDER BY phone_number_id",
            )
            .fetch_all(pool)
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

        pub(super) async fn count_click(pool: &$pool, notice_id: i64) -> Result<(), StoreError> {
            sqlx::query("UPDATE notices SET clicks = clicks + 1 WHERE id = $1")
                .bind(notice_id)
                .execute(pool)
                .await?;
            Ok(())
        }

        pub(super) async fn queue_stats(pool: &$pool, now: Timestamp) -> Result<QueueStats, StoreError> {
            let row = sqlx::query("SELECT COUNT(*), MIN(created_at) FROM notices WHERE status IN ('queued', 'sending')")
                .fetch_one(pool)
                .await?;
            let oldest: Option<i64> = row.try_get(1)?;
            let oldest_age = match oldest {
                Some(ms) => now.duration_since(from_millis(ms)?),
                None => SignedDuration::ZERO,
            };
            Ok(QueueStats { depth: row.try_get(0)?, oldest_age })
        }

        pub(super) async fn quarantined(pool: &$pool) -> Result<i64, StoreError> {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM quarantine").fetch_one(pool).await?)
        }

        pub(super) async fn publish_locales(pool: &$pool, version: &str, files_json: &str, at: Timestamp) -> Result<i64, StoreError> {
            let id = sqlx::query_scalar("INSERT INTO locale_sets (version, published_at, files) VALUES ($1, $2, $3) RETURNING id")
                .bind(version)
                .bind(millis(at))
                .bind(files_json)
                .fetch_one(pool)
                .await?;
            Ok(id)
        }

        pub(super) async fn latest_locales(pool: &$pool) -> Result<Option<PublishedLocales>, StoreError> {
            let row = sqlx::query("SELECT id, version, published_at, files FROM locale_sets ORDER BY id DESC LIMIT 1")
                .fetch_optional(pool)
                .await?;
            row.map(|row| {
                Ok(PublishedLocales {
                    id: row.try_get("id")?,
                    version: row.try_get("version")?,
                    published_at: from_millis(row.try_get("published_at")?)?,
                    files_json: row.try_get("files")?,
                })
            })
            .transpose()
        }

        pub(super) async fn reserve_sends(
            connection: &mut $connection,
            phone_number_id: &str,
            count: u32,
            interval: SignedDuration,
            now: Timestamp,
        ) -> Result<SendSlots, StoreError> {
            let interval = i64::try_from(interval.as_micros()).unwrap_or(i64::MAX);
            let span = interval.saturating_mul(i64::from(count));
            // One statement both reads and moves the number's next free slot,
            // so boxes sharing the database never take the same slots. A
            // slowed number's slots are twice as far apart.
            let row = sqlx::query(
                "INSERT INTO send_budget (phone_number_id, next_slot_us) VALUES ($1, $2 + $3)
                 ON CONFLICT (phone_number_id) DO UPDATE
                 SET next_slot_us = CASE WHEN send_budget.next_slot_us > $2 THEN send_budget.next_slot_us ELSE $2 END
                     + CASE WHEN send_budget.slowed_until_us > $2 THEN 2 ELSE 1 END * $3
                 RETURNING next_slot_us, CASE WHEN slowed_until_us > $2 THEN 2 ELSE 1 END AS factor",
            )
            .bind(phone_number_id)
            .bind(now.as_microsecond())
            .bind(span)
            .fetch_one(connection)
            .await?;
            let (end, factor): (i64, i32) = (row.try_get("next_slot_us")?, row.try_get("factor")?);
            let factor = i64::from(factor);
            let first = Timestamp::from_microsecond(end - span.saturating_mul(factor))
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(SendSlots { first, interval: SignedDuration::from_micros(interval.saturating_mul(factor)) })
        }

        pub(super) async fn slow_down(pool: &$pool, phone_number_id: &str, until: Timestamp) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO send_budget (phone_number_id, next_slot_us, slowed_until_us) VALUES ($1, 0, $2)
                 ON CONFLICT (phone_number_id) DO UPDATE
                 SET slowed_until_us = CASE WHEN send_budget.slowed_until_us > $2 THEN send_budget.slowed_until_us ELSE $2 END",
            )
            .bind(phone_number_id)
            .bind(until.as_microsecond())
            .execute(pool)
            .await?;
            Ok(())
        }

        pub(super) async fn slowed_numbers(pool: &$pool, now: Timestamp) -> Result<Vec<SlowedNumber>, StoreError> {
            let rows = sqlx::query(
                "SELECT phone_number_id, slowed_until_us FROM send_budget WHERE slowed_until_us > $1 ORDER BY phone_number_id",
            )
            .bind(now.as_microsecond())
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    let until = Timestamp::from_microsecond(row.try_get("slowed_until_us")?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    Ok(SlowedNumber { phone_number_id: row.try_get("phone_number_id")?, until })
                })
                .collect()
        }

        pub(super) async fn ping(pool: &$pool) -> Result<(), StoreError> {
            sqlx::query("SELECT 1").execute(pool).await?;
            Ok(())
        }
    };
}

pub(crate) use shared_queries;
