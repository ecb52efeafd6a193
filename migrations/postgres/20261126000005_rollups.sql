-- Rollups for /api/stats: inbound messages counted per UTC hour and per
-- everything the stats group or filter by, kept by triggers so that every
-- writer (ingest, statuses, clicks, purge, forget) keeps them exact.
--
-- `log_rollup_keys` gives each inbound row its rollup key. A change that
-- moves a row to another key takes 1 from the key before it (BEFORE
-- trigger) and adds 1 to the key after it (AFTER trigger). NULLs are
-- stored as 'none', the key /api/stats shows for them.
--
-- Many boxes write at once, and most messages of an hour share a key: the
-- triggers only append to `log_rollup_changes`, so concurrent transactions
-- never wait on, or deadlock over, one hot rollup row. The store folds the
-- changes into `log_rollup` before it reads the stats, and every minute.

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
    hour      BIGINT NOT NULL,
    decision  TEXT   NOT NULL,
    locale    TEXT   NOT NULL,
    country   TEXT   NOT NULL,
    kind      TEXT   NOT NULL,
    phase     TEXT   NOT NULL,
    status    TEXT   NOT NULL,
    delivered BIGINT NOT NULL,
    clicked   BIGINT NOT NULL,
    count     BIGINT NOT NULL,
    PRIMARY KEY (hour, decision, locale, country, kind, phase, status, delivered, clicked)
);

CREATE TABLE log_rollup_changes (
    hour      BIGINT NOT NULL,
    decision  TEXT   NOT NULL,
    locale    TEXT   NOT NULL,
    country   TEXT   NOT NULL,
    kind      TEXT   NOT NULL,
    phase     TEXT   NOT NULL,
    status    TEXT   NOT NULL,
    delivered BIGINT NOT NULL,
    clicked   BIGINT NOT NULL,
    count     BIGINT NOT NULL
);

INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, COUNT(*)
FROM log_rollup_keys
GROUP BY hour, decision, locale, country, kind, phase, status, delivered, clicked;

-- Before the change the row leaves its key, after it the row joins its new
-- one; the inbound row is the one changed, or the one the notice belongs to.
CREATE FUNCTION log_rollup_note() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta    BIGINT := CASE WHEN TG_WHEN = 'BEFORE' THEN -1 ELSE 1 END;
    changed  RECORD;
    row_id   BIGINT;
BEGIN
    IF (TG_WHEN = 'BEFORE' AND TG_OP <> 'INSERT') OR (TG_WHEN = 'AFTER' AND TG_OP = 'DELETE') THEN
        changed := OLD;
    ELSE
        changed := NEW;
    END IF;
    IF TG_TABLE_NAME = 'inbound' THEN
        row_id := changed.id;
    ELSE
        row_id := changed.inbound_id;
    END IF;
    INSERT INTO log_rollup_changes (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, delta
    FROM log_rollup_keys WHERE inbound_id = row_id;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER log_rollup_inbound_insert AFTER INSERT ON inbound
    FOR EACH ROW EXECUTE FUNCTION log_rollup_note();
CREATE TRIGGER log_rollup_inbound_update_before BEFORE UPDATE OF received_at, decision, locale, country ON inbound
    FOR EACH ROW EXECUTE FUNCTION log_rollup_note();
CREATE TRIGGER log_rollup_inbound_update_after AFTER UPDATE OF received_at, decision, locale, country ON inbound
    FOR EACH ROW EXECUTE FUNCTION log_rollup_note();
CREATE TRIGGER log_rollup_inbound_delete BEFORE DELETE ON inbound
    FOR EACH ROW EXECUTE FUNCTION log_rollup_note();

CREATE TRIGGER log_rollup_notice_insert_before BEFORE INSERT ON notices
    FOR EACH ROW EXECUTE FUNCTION log_rollup_note();
CREATE TRIGGER log_rollup_notice_insert_after AFTER INSERT ON notices
    FOR EACH ROW EXECUTE FUNCTION log_rollup_note();
-- Leases, attempts, bodies and ids change often and move no count.
CREATE TRIGGER log_rollup_notice_update_before
    BEFORE UPDATE OF inbound_id, kind, phase, status, delivered_at, clicks ON notices
    FOR EACH ROW
    WHEN (OLD.inbound_id IS DISTINCT FROM NEW.inbound_id OR OLD.kind IS DISTINCT FROM NEW.kind
          OR OLD.phase IS DISTINCT FROM NEW.phase OR OLD.status IS DISTINCT FROM NEW.status
          OR (OLD.delivered_at IS NULL) <> (NEW.delivered_at IS NULL) OR (OLD.clicks > 0) <> (NEW.clicks > 0))
    EXECUTE FUNCTION log_rollup_note();
CREATE TRIGGER log_rollup_notice_update_after
    AFTER UPDATE OF inbound_id, kind, phase, status, delivered_at, clicks ON notices
    FOR EACH ROW
    WHEN (OLD.inbound_id IS DISTINCT FROM NEW.inbound_id OR OLD.kind IS DISTINCT FROM NEW.kind
          OR OLD.phase IS DISTINCT FROM NEW.phase OR OLD.status IS DISTINCT FROM NEW.status
          OR (OLD.delivered_at IS NULL) <> (NEW.delivered_at IS NULL) OR (OLD.clicks > 0) <> (NEW.clicks > 0))
    EXECUTE FUNCTION log_rollup_note();
CREATE TRIGGER log_rollup_notice_delete_before BEFORE DELETE ON notices
    FOR EACH ROW EXECUTE FUNCTION log_rollup_note();
CREATE TRIGGER log_rollup_notice_delete_after AFTER DELETE ON notices
    FOR EACH ROW EXECUTE FUNCTION log_rollup_note();

-- The funnel's last step counts linked users among those who wrote in the
-- range: one probe per linked user.
CREATE INDEX users_linked ON users (id) WHERE linked_at IS NOT NULL;
DROP INDEX inbound_by_user;
CREATE INDEX inbound_by_user ON inbound (user_id, received_at);
