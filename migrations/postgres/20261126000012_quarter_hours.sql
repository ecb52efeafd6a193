-- Rollups by the quarter hour instead of the hour. Every time zone's
-- midnight falls on a quarter hour (India's on :30 UTC, Nepal's on :15), so
-- a day in the campaign's time zone is a whole number of quarter hours;
-- an hourly rollup put the first half hour of an Indian day on the day
-- before. The `hour` columns now hold the start of a quarter hour. The
-- rollup is rebuilt from the log.

CREATE OR REPLACE VIEW log_rollup_keys AS
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

CREATE OR REPLACE FUNCTION log_rollup_inbound_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO log_rollup_changes (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT (received_at / 900000) * 900000, decision, locale, COALESCE(country, 'none'),
           'none', 'none', 'none', 0, 0, COUNT(*)
    FROM new_rows
    GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION log_rollup_notices_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO log_rollup_changes (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT (i.received_at / 900000) * 900000, i.decision, i.locale, COALESCE(i.country, 'none'),
           k.kind, k.phase, k.status, k.delivered, k.clicked, SUM(k.delta)
    FROM new_rows n
    CROSS JOIN LATERAL (
        VALUES ('none', 'none', 'none', 0, 0, -1),
               (n.kind, COALESCE(n.phase, 'none'), n.status, (n.delivered_at IS NOT NULL)::INT,
                (n.clicks > 0)::INT, 1)
    ) AS k (kind, phase, status, delivered, clicked, delta)
    CROSS JOIN LATERAL (
        SELECT received_at, decision, locale, country FROM inbound WHERE id = n.inbound_id OFFSET 0
    ) AS i
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    HAVING SUM(k.delta) <> 0;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION log_rollup_notices_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO log_rollup_changes (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT (i.received_at / 900000) * 900000, i.decision, i.locale, COALESCE(i.country, 'none'),
           k.kind, k.phase, k.status, k.delivered, k.clicked, SUM(k.delta)
    FROM (
        SELECT inbound_id, kind, phase, status, delivered, clicked, SUM(delta) AS delta
        FROM (
            SELECT inbound_id, kind, COALESCE(phase, 'none') AS phase, status,
                   (delivered_at IS NOT NULL)::INT AS delivered, (clicks > 0)::INT AS clicked, -1 AS delta
            FROM old_rows
            UNION ALL
            SELECT inbound_id, kind, COALESCE(phase, 'none'), status,
                   (delivered_at IS NOT NULL)::INT, (clicks > 0)::INT, 1
            FROM new_rows
        ) AS counted
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING SUM(delta) <> 0
    ) AS k
    CROSS JOIN LATERAL (
        SELECT received_at, decision, locale, country FROM inbound WHERE id = k.inbound_id OFFSET 0
    ) AS i
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
    HAVING SUM(k.delta) <> 0;
    RETURN NULL;
END;
$$;

DELETE FROM log_rollup_changes;
DELETE FROM log_rollup;
INSERT INTO log_rollup (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
SELECT hour, decision, locale, country, kind, phase, status, delivered, clicked, COUNT(*)
FROM log_rollup_keys
GROUP BY hour, decision, locale, country, kind, phase, status, delivered, clicked;
