//! The analysts' side at scale: `/api/stats` counts and the CSV export
//! over a notification log of 1,000,000 rows on SQLite.
//!
//!     cargo run --release --example logbench -- [ROWS]
//!
//! Seeds a fresh database with generated rows (inside SQLite, in seconds),
//! then times the store's stats query and a full CSV export to a sink, and
//! reports the process's peak memory before and after the export.

use anyhow::Context;
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
    let pool = sqlx::SqlitePool::connect(&url).await?;
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

    let mut timings = vec![];
    for _ in 0..5 {
        let started = Instant::now();
        let stats = store.stats(None, None).await?;
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(stats.funnel.inbound as u64, rows);
    }
    timings.sort_by(f64::total_cmp);
    println!(
        "stats over {rows} rows: median {:.0} ms, best {:.0} ms (5 runs)",
        timings[2], timings[0]
    );

    let rss_before = peak_rss_mib();
    let started = Instant::now();
    let written = export::run(
        store.as_ref(),
        Format::Csv,
        None,
        None,
        false,
        &mut std::io::sink(),
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "CSV export: {written} rows in {seconds:.2} s = {:.0} rows/s; peak RSS {rss_before:.0} MiB before, {:.0} MiB after",
        written as f64 / seconds,
        peak_rss_mib()
    );
    Ok(())
}
