-- Makes: alert_days_needed — the UTC days of alert_polls whose business time alert_hours does
-- not hold yet (store_key, day), for sql/alerts/12_alert_hours_stores.sql to
-- 14_alert_hours_add.sql to add (storemon/alerts/events.py runs them only when there is one).
-- Rules: a poll is evidence when it lies inside its store's business time (rule 4), which
-- alert_hours holds by UTC day. A store with no evidence poll yet: if its first one is inactive,
-- its outage's start is looked for up to a week before it (sql/alerts/20_alert_next_state.sql),
-- so the week before its polls' days is asked for now, with them: added once, with the rest,
-- rather than again for each such outage (sql/alerts/21_alert_outage_days.sql).
-- Needs: alert_polls, alert_stores (sql/alerts/10_alert_stores.sql), alert_hours.

CREATE OR REPLACE TEMP TABLE alert_days_needed AS
WITH
poll_days AS (
    SELECT DISTINCT store_key, at_us // 86400000000 AS day
    FROM alert_polls
),
wanted AS (
    SELECT DISTINCT
        store_key,
        unnest(range(day - if(alert_stores.last_us IS NULL, 7, 0), day + 1)) AS day
    FROM poll_days
    JOIN alert_stores USING (store_key)
)
SELECT * FROM wanted ANTI JOIN alert_hours USING (store_key, day);
