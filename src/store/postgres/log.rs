//! The analyst and housekeeping queries of the PostgreSQL store.

crate::store::shared::shared_queries!(
    pool = sqlx::PgPool,
    connection = sqlx::PgConnection,
    begin = "BEGIN",
    kept_opt_outs = "NOT opted_out",
    json_rows =
        "COALESCE(json_agg(json_build_array({fields}) ORDER BY sort_key {direction})::text, '[]')"
);
