-- Rollups by the quarter hour instead of the hour. Every time zone's
-- midnight falls on a quarter hour (India's on :30 UTC, Nepal's on :15), so
-- a day in the campaign's time zone is a whole number of quarter hours;
-- an hourly rollup put the first half hour of an Indian day on the day
-- before. The `hour` column now holds the start of a quarter hour. The
-- triggers read the view, so a new view is all they need; the rollup is
-- rebuilt from the log.

DROP VIEW log_rollup_keys;
CREATE VIEW log_rollup_keys AS
SELECT i.id                                            AS inbound_id,
       i.received_at                                   AS received_at,
       (i.received_at / 900000) * 900000               AS hour,
       i.decision                                      AS decision,
       i.locale                                        AS locale,
       COALESCE(i.country, 'none')                     AS country,
       COALESCE(n.kind, 'none')                        AS kind,
       COALESCE(n.phase, 'none')                       AS phase,
       COALESCE(n.status, 'none')                      AS status,
       CASE WHEN n.delivered_at IS NULL THEN 0 ELSE 1 END AS delivered,
       CASE WHEN n.clicks > 0 THEN 1 ELSE 0 END        AS clicked
FROM inbound i LEFT JOIN notices n ON n.inbound_id = i.id;

DELETE FROM log_rollup;
INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, COUNT(*)
FROM log_rollup_keys
GROUP BY hour, decision, locale, country, kind, phase, status, delivered, clicked;
