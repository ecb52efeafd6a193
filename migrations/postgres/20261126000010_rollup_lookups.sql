-- The statement triggers of migration 9 joined a statement's notices to
-- `inbound`, and their old rows to their new ones, in plans made once per
-- connection. The planner takes a transition table for a row or two and
-- an `inbound` freshly filled for a few pages: it joined old and new rows
-- in a nested loop (64 notices claimed at once compared 4,096 pairs) and
-- read `inbound` whole for a hash join, on every statement, as the table
-- grew.
--
-- Now no plan depends on those guesses. Old rows count -1 and new rows +1
-- at their keys, so a notice whose counted columns did not change cancels
-- out without a join; and each remaining (inbound row, key) looks its
-- inbound row up by id. `OFFSET 0` keeps the lookup a subquery of its own,
-- which the planner cannot turn into a scan of the whole table.

CREATE OR REPLACE FUNCTION log_rollup_notices_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO log_rollup_changes (hour, decision, locale, country, kind, phase, status, delivered, clicked, count)
    SELECT (i.received_at / 3600000) * 3600000, i.decision, i.locale, COALESCE(i.country, 'none'),
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
    SELECT (i.received_at / 3600000) * 3600000, i.decision, i.locale, COALESCE(i.country, 'none'),
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
