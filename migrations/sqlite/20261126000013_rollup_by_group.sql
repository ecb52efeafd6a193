-- The group writer keeps the rollup itself, a few statements per group:
-- it subtracts the keys of the rows its statements will change, writes,
-- and adds the keys they have then, each summed per key. Row triggers did
-- the same one row at a time, three upserts for each new message and two
-- for each delivery report. While the group writer holds the rollup, a
-- row in `log_rollup_held` (inside its transaction, seen by no one else)
-- turns off the triggers its statements would fire; every other writer
-- still has them.

CREATE TABLE log_rollup_held (held INTEGER NOT NULL);

DROP TRIGGER log_rollup_inbound_insert;
CREATE TRIGGER log_rollup_inbound_insert AFTER INSERT ON inbound
WHEN NOT EXISTS (SELECT 1 FROM log_rollup_held)
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, 1
    FROM log_rollup_keys WHERE inbound_id = NEW.id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

DROP TRIGGER log_rollup_notice_insert_before;
CREATE TRIGGER log_rollup_notice_insert_before BEFORE INSERT ON notices
WHEN NOT EXISTS (SELECT 1 FROM log_rollup_held)
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, -1
    FROM log_rollup_keys WHERE inbound_id = NEW.inbound_id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

DROP TRIGGER log_rollup_notice_insert_after;
CREATE TRIGGER log_rollup_notice_insert_after AFTER INSERT ON notices
WHEN NOT EXISTS (SELECT 1 FROM log_rollup_held)
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, 1
    FROM log_rollup_keys WHERE inbound_id = NEW.inbound_id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

DROP TRIGGER log_rollup_notice_update_before;
CREATE TRIGGER log_rollup_notice_update_before
BEFORE UPDATE OF inbound_id, kind, phase, status, delivered_at, clicks ON notices
WHEN NOT EXISTS (SELECT 1 FROM log_rollup_held) AND (OLD.inbound_id IS NOT NEW.inbound_id OR OLD.kind IS NOT NEW.kind OR OLD.phase IS NOT NEW.phase
  OR OLD.status IS NOT NEW.status OR (OLD.delivered_at IS NULL) <> (NEW.delivered_at IS NULL)
  OR (OLD.clicks > 0) <> (NEW.clicks > 0))
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, -1
    FROM log_rollup_keys WHERE inbound_id = OLD.inbound_id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

DROP TRIGGER log_rollup_notice_update_after;
CREATE TRIGGER log_rollup_notice_update_after
AFTER UPDATE OF inbound_id, kind, phase, status, delivered_at, clicks ON notices
WHEN NOT EXISTS (SELECT 1 FROM log_rollup_held) AND (OLD.inbound_id IS NOT NEW.inbound_id OR OLD.kind IS NOT NEW.kind OR OLD.phase IS NOT NEW.phase
  OR OLD.status IS NOT NEW.status OR (OLD.delivered_at IS NULL) <> (NEW.delivered_at IS NULL)
  OR (OLD.clicks > 0) <> (NEW.clicks > 0))
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, 1
    FROM log_rollup_keys WHERE inbound_id = NEW.inbound_id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;
