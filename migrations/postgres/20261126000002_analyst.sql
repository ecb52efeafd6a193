-- The analyst's view: account linking on the user, and indexes for the log
-- filters and the funnel.

ALTER TABLE users ADD COLUMN linked_at BIGINT;
CREATE INDEX inbound_by_user ON inbound (user_id);
CREATE INDEX notices_by_status ON notices (status);
