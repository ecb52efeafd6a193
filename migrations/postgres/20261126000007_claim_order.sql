-- The sender claims the due notices in (due_at, id) order, LIMIT a batch:
-- with the index in that order a claim reads only the rows it takes, where
-- an index on due_at alone left the planner to sort the whole backlog.
DROP INDEX notices_due;
CREATE INDEX notices_due ON notices (due_at, id) WHERE status IN ('queued', 'sending');
