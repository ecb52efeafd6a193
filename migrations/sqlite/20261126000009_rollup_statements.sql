-- On PostgreSQL this migration moves the busy rollup triggers to one
-- trigger per statement. SQLite has only row triggers, and one writer:
-- its triggers of migration 5 stay as they are.
SELECT 1;
