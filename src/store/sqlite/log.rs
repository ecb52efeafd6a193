//! The analyst and housekeeping queries of the SQLite store.

// BEGIN IMMEDIATE takes the write lock up front: a read-then-write
// transaction that upgrades later fails with "database is locked".
crate::store::shared::shared_queries!(
    pool = sqlx::SqlitePool,
    connection = sqlx::SqliteConnection,
    begin = "BEGIN IMMEDIATE",
    kept_opt_outs = "opted_out = 0",
    json_rows =
        "COALESCE(json_group_array(json_array({fields}) ORDER BY sort_key {direction}), '[]')"
);
