-- Makes: alert_days_needed — the UTC days the outages of alert_next read the business time of,
-- that alert_hours lacks (for sql/alerts/12_alert_hours_stores.sql to 14_alert_hours_add.sql,
-- run next when there is one): from where an outage's start is looked for to its first poll,
-- and from an ended outage's start to its end. (storemon/alerts/events.py runs this only when
-- an outage starts or ends.)
-- Rules: "Alerts" (sql/README.md): an outage's start is the first business instant of its first
-- poll's span; an `up` event's down time is the business time from its start to its end.
-- Needs: alert_next (sql/alerts/20_alert_next_state.sql), alert_hours.

CREATE OR REPLACE TEMP TABLE alert_days_needed AS
WITH
spans AS (
    SELECT store_key, start_from_us AS from_us, next_run_first_us AS to_us
    FROM alert_next
    WHERE finds_start
    UNION ALL
    SELECT store_key, started_before_us, ended_us
    FROM alert_next
    WHERE ended_us IS NOT NULL
),
days AS (
    SELECT DISTINCT store_key, unnest(range(from_us // 86400000000, to_us // 86400000000 + 1)) AS day
    FROM spans
)
SELECT * FROM days ANTI JOIN alert_hours USING (store_key, day);
