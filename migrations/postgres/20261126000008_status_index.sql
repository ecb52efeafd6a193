-- Every notice changes status four times on its way (queued, sending,
-- sent, delivered, read), and an index on the status moved an entry each
-- time. What reads by status is served otherwise: the queue by
-- notices_due, the recent failures by this small index of failures alone.
DROP INDEX notices_by_status;
CREATE INDEX notices_failed ON notices (id) WHERE status = 'failed';
