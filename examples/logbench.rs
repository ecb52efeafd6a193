//! The analysts' side at scale: `/api/stats` counts and the CSV export
//! over a notification log of 1,000,000 rows on SQLite.
//!
//!     cargo run --release --example logbench -- [ROWS]
//!
//! Seeds a fresh database with generated rows (inside SQLite, in seconds),
//! then times the store's stats query (whole log, and a range that cuts
//! hours), full CSV and JSON Lines exports to a sink, with the process's
//! peak memory before and after, and what the rollup triggers add to the
//! writes of one message.

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Instant;
use sunset::commands::export::{self, Format};
use sunset::startup::open_store;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// The seeded rows arrive every `STEP_MS` from `FIRST_MS` on.
const FIRST_MS: i64 = 1_780_000_000_000;
const STEP_MS: i64 = 2000;

const SEED: &str = "
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $users)
INSERT INTO users (phone_number_id, wa_id, pseudonym, country, created_at, linked_at)
SELECT '100000000000001', '2010' || (1000000 + x), 'u_' || printf('%016x', x),
       CASE x % 4 WHEN 0 THEN 'EG' WHEN 1 THEN 'US' WHEN 2 THEN 'BR' ELSE 'PK' END,
       1780000000000, CASE WHEN x % 50 = 0 THEN 1780000500000 END
FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $rows)
INSERT INTO inbound (message_id, received_at, message_sent_at, phone_number_id, user_id, inbound_type,
                     country, locale, locale_source, decision)
SELECT 'wamid.BENCH' || x, 1780000000000 + x * 2000, 1780000000000 + x * 2000, '100000000000001',
       1 + x % $users, 'text',
       CASE x % 4 WHEN 0 THEN 'EG' WHEN 1 THEN 'US' WHEN 2 THEN 'BR' ELSE 'PK' END,
       CASE x % 4 WHEN 0 THEN 'ar' WHEN 1 THEN 'en' WHEN 2 THEN 'pt-BR' ELSE 'ur' END,
       'country', CASE WHEN x % 10 < 7 THEN 'notified' WHEN x % 10 < 9 THEN 'coalesced' ELSE 'ignored' END
FROM n;
INSERT INTO notices (inbound_id, user_id, phone_number_id, kind, locale, status, due_at, attempts, phase,
                     days_left, template_version, body, outbound_message_id, created_at, sent_at, delivered_at,
                     read_at, clicks)
SELECT id, user_id, phone_number_id, 'notice', locale,
       CASE id % 5 WHEN 0 THEN 'sent' WHEN 1 THEN 'delivered' WHEN 2 THEN 'read' WHEN 3 THEN 'read' ELSE 'failed' END,
       received_at, 1, 'countdown', 100, 'bench', 'Acme Assistant is leaving WhatsApp.', 'wamid.OUT' || id,
       received_at, received_at + 1000, received_at + 2000, CASE WHEN id % 5 IN (2, 3) THEN received_at + 3000 END,
       CASE WHEN id % 7 = 0 THEN 1 ELSE 0 END
FROM inbound WHERE decision = 'notified';
";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let users = (rows / 10).max(1);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let store = open_store(&url).await?;
    let seeding = Instant::now();
    // As the service connects: WAL, commits not waiting for the disk.
    let options = SqliteConnectOptions::from_str(&url)?.synchronous(SqliteSynchronous::Normal);
    let pool = sqlx::SqlitePool::connect_with(options).await?;
    let script = SEED
        .replace("$users", &users.to_string())
        .replace("$rows", &rows.to_string());
    sqlx::raw_sql(sqlx::AssertSqlSafe(script))
        .execute(&pool)
        .await
        .context("seeding")?;
    sqlx::query("ANALYZE").execute(&pool).await?;
    println!(
        "seeded {rows} log rows ({users} users) in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let first = Timestamp::from_millisecond(FIRST_MS)?;
    let last = Timestamp::from_millisecond(FIRST_MS + rows as i64 * STEP_MS)?;
    let cut = SignedDuration::from_mins(90);
    for (label, since, until) in [
        ("", None, None),
        (
            " from +1.5 h to -1.5 h",
            Some(first + cut),
            Some(last - cut),
        ),
    ] {
        let mut timings = vec![];
        for _ in 0..5 {
            let started = Instant::now();
            let stats = store.stats(since, until).await?;
            timings.push(started.elapsed().as_secs_f64() * 1000.0);
            assert!(stats.funnel.inbound as u64 <= rows);
        }
        timings.sort_by(f64::total_cmp);
        println!(
            "stats over {rows} rows{label}: median {:.1} ms, best {:.1} ms (5 runs)",
            timings[2], timings[0]
        );
    }

    for format in [Format::Csv, Format::Jsonl] {
        let rss_before = peak_rss_mib();
        let started = Instant::now();
        let written = export::run(
            store.as_ref(),
            format,
            None,
            None,
            false,
            &mut std::io::sink(),
        )
        .await?;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{format:?} export: {written} rows in {seconds:.2} s = {:.0} rows/s; peak RSS {rss_before:.0} MiB before, {:.0} MiB after",
            written as f64 / seconds,
            peak_rss_mib()
        );
    }

    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await?;
    let with = write_path_micros(&pool, "with").await?;
    for trigger in sqlx::query_scalar::<_, String>(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'log_rollup%'",
    )
    .fetch_all(&pool)
    .await?
    {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TRIGGER {trigger}")))
            .execute(&pool)
            .await?;
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await?;
    let without = write_path_micros(&pool, "without").await?;
    println!(
        "one message's writes (inbound, notice, 3 statuses; a transaction each): {with:.0} µs with the rollup triggers, {without:.0} µs without (+{:.0}%)",
        (with / without - 1.0) * 100.0
    );
    Ok(())
}

/// The rows a message leaves, written the way the service writes them:
/// the inbound row and its notice in one transaction, then three status
/// changes, one transaction each. Returns the median µs per message.
async fn write_path_micros(pool: &sqlx::SqlitePool, tag: &str) -> anyhow::Result<f64> {
    const MESSAGES: usize = 2000;
    let mut timings = Vec::with_capacity(MESSAGES);
    for n in 0..MESSAGES {
        let at = FIRST_MS + n as i64 * STEP_MS;
        let started = Instant::now();
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let inbound: i64 = sqlx::query_scalar(
            "INSERT INTO inbound (message_id, received_at, message_sent_at, phone_number_id, user_id, inbound_type,
                                  country, locale, locale_source, decision)
             VALUES ($1, $2, $2, '100000000000001', 1, 'text', 'EG', 'ar', 'country', 'notified') RETURNING id",
        )
        .bind(format!("wamid.WRITE.{tag}.{n}"))
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let notice: i64 = sqlx::query_scalar(
            "INSERT INTO notices (inbound_id, user_id, phone_number_id, kind, locale, status, due_at, created_at)
             VALUES ($1, 1, '100000000000001', 'notice', 'ar', 'queued', $2, $2) RETURNING id",
        )
        .bind(inbound)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        for status in ["sent", "delivered", "read"] {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            sqlx::query("UPDATE notices SET status = $1, phase = 'countdown',
                        delivered_at = CASE WHEN $1 = 'delivered' THEN $2 ELSE delivered_at END WHERE id = $3")
                .bind(status)
                .bind(at)
                .bind(notice)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        timings.push(started.elapsed().as_secs_f64() * 1e6);
    }
    timings.sort_by(f64::total_cmp);
    Ok(timings[MESSAGES / 2])
}
