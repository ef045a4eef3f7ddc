-- Makes: alert_next.started_us — where the down time of each outage whose start is looked for
-- (finds_start) starts. (storemon/alerts/events.py runs this only when there is one.)
-- Rules: "Alerts" (sql/README.md): an outage's down time starts at the first business instant at
-- or after `start_from_us` (the midpoint with the evidence poll before its first poll, or a week
-- before it); it is no later than the outage's first poll, which is evidence. The business time
-- is alert_hours' (it holds every day from there to the first poll:
-- sql/alerts/21_alert_outage_days.sql asked for them).
-- Needs: alert_next (sql/alerts/20_alert_next_state.sql), alert_hours.

UPDATE alert_next
SET started_us = starts.started_us
FROM (
    SELECT store_key, min(greatest(open_us, start_from_us)) AS started_us
    FROM (  -- (by day: alert_hours' rows of those days alone are read)
        SELECT
            store_key,
            start_from_us,
            next_run_first_us,
            unnest(range(start_from_us // 86400000000, next_run_first_us // 86400000000 + 1))
                AS day
        FROM alert_next
        WHERE finds_start
    ) AS wanted
    JOIN alert_hours USING (store_key, day)
    WHERE alert_hours.close_us > wanted.start_from_us
      AND alert_hours.open_us <= wanted.next_run_first_us
    GROUP BY store_key
) AS starts
WHERE alert_next.store_key = starts.store_key;
