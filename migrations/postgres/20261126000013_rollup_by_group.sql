-- On SQLite this migration lets the group writer keep the rollup with a
-- few statements per group instead of row triggers. PostgreSQL's
-- statement triggers of migration 9 do that already.
SELECT 1;
