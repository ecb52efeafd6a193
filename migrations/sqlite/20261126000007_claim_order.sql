-- The sender claims the due notices in (due_at, id) order. SQLite's index
-- on due_at already ends with the rowid, which is the id: this only keeps
-- the two schemas alike.
DROP INDEX notices_due;
CREATE INDEX notices_due ON notices (due_at, id) WHERE status IN ('queued', 'sending');
