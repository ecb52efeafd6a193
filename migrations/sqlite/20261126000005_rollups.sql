-- Rollups for /api/stats: inbound messages counted per UTC hour and per
-- everything the stats group or filter by, kept by triggers so that every
-- writer (ingest, statuses, clicks, purge, forget) keeps them exact.
--
-- `log_rollup_keys` gives each inbound row its rollup key. A change that
-- moves a row to another key takes 1 from the key before it (BEFORE
-- trigger) and adds 1 to the key after it (AFTER trigger). NULLs are
-- stored as 'none', the key /api/stats shows for them.

CREATE VIEW log_rollup_keys AS
SELECT i.id                                            AS inbound_id,
       i.received_at                                   AS received_at,
       (i.received_at / 3600000) * 3600000             AS hour,
       i.decision                                      AS decision,
       i.locale                                        AS locale,
       COALESCE(i.country, 'none')                     AS country,
       COALESCE(n.kind, 'none')                        AS kind,
       COALESCE(n.phase, 'none')                       AS phase,
       COALESCE(n.status, 'none')                      AS status,
       CASE WHEN n.delivered_at IS NULL THEN 0 ELSE 1 END AS delivered,
       CASE WHEN n.clicks > 0 THEN 1 ELSE 0 END        AS clicked
FROM inbound i LEFT JOIN notices n ON n.inbound_id = i.id;

CREATE TABLE log_rollup (
    hour      INTEGER NOT NULL,
    decision  TEXT    NOT NULL,
    locale    TEXT    NOT NULL,
    country   TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    phase     TEXT    NOT NULL,
    status    TEXT    NOT NULL,
    delivered INTEGER NOT NULL,
    clicked   INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (hour, decision, locale, country, kind, phase, status, delivered, clicked)
) WITHOUT ROWID;

INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, COUNT(*)
FROM log_rollup_keys
GROUP BY hour, decision, locale, country, kind, phase, status, delivered, clicked;

CREATE TRIGGER log_rollup_inbound_insert AFTER INSERT ON inbound
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, 1
    FROM log_rollup_keys WHERE inbound_id = NEW.id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

CREATE TRIGGER log_rollup_inbound_update_before
BEFORE UPDATE OF received_at, decision, locale, country ON inbound
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, -1
    FROM log_rollup_keys WHERE inbound_id = OLD.id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

CREATE TRIGGER log_rollup_inbound_update_after
AFTER UPDATE OF received_at, decision, locale, country ON inbound
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, 1
    FROM log_rollup_keys WHERE inbound_id = NEW.id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

CREATE TRIGGER log_rollup_inbound_delete BEFORE DELETE ON inbound
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, -1
    FROM log_rollup_keys WHERE inbound_id = OLD.id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

CREATE TRIGGER log_rollup_notice_insert_before BEFORE INSERT ON notices
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, -1
    FROM log_rollup_keys WHERE inbound_id = NEW.inbound_id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

CREATE TRIGGER log_rollup_notice_insert_after AFTER INSERT ON notices
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, 1
    FROM log_rollup_keys WHERE inbound_id = NEW.inbound_id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

-- Leases, attempts, bodies and ids change often and move no count.
CREATE TRIGGER log_rollup_notice_update_before
BEFORE UPDATE OF inbound_id, kind, phase, status, delivered_at, clicks ON notices
WHEN OLD.inbound_id IS NOT NEW.inbound_id OR OLD.kind IS NOT NEW.kind OR OLD.phase IS NOT NEW.phase
  OR OLD.status IS NOT NEW.status OR (OLD.delivered_at IS NULL) <> (NEW.delivered_at IS NULL)
  OR (OLD.clicks > 0) <> (NEW.clicks > 0)
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, -1
    FROM log_rollup_keys WHERE inbound_id = OLD.inbound_id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

CREATE TRIGGER log_rollup_notice_update_after
AFTER UPDATE OF inbound_id, kind, phase, status, delivered_at, clicks ON notices
WHEN OLD.inbound_id IS NOT NEW.inbound_id OR OLD.kind IS NOT NEW.kind OR OLD.phase IS NOT NEW.phase
  OR OLD.status IS NOT NEW.status OR (OLD.delivered_at IS NULL) <> (NEW.delivered_at IS NULL)
  OR (OLD.clicks > 0) <> (NEW.clicks > 0)
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, 1
    FROM log_rollup_keys WHERE inbound_id = NEW.inbound_id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

CREATE TRIGGER log_rollup_notice_delete_before BEFORE DELETE ON notices
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, -1
    FROM log_rollup_keys WHERE inbound_id = OLD.inbound_id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

CREATE TRIGGER log_rollup_notice_delete_after AFTER DELETE ON notices
BEGIN
    INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, 1
    FROM log_rollup_keys WHERE inbound_id = OLD.inbound_id
    ON CONFLICT (hour, decision, locale, country, kind, phase, status, delivered, clicked)
    DO UPDATE SET count = count + excluded.count;
END;

-- The funnel's last step counts linked users among those who wrote in the
-- range: one probe per linked user.
CREATE INDEX users_linked ON users (id) WHERE linked_at IS NOT NULL;
DROP INDEX inbound_by_user;
CREATE INDEX inbound_by_user ON inbound (user_id, received_at);
