//! The analyst and housekeeping queries of the PostgreSQL store.

crate::store::shared::shared_queries!(
    pool = sqlx::PgPool,
    begin = "BEGIN",
    kept_opt_outs = "NOT opted_out"
);
