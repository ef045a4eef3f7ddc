-- Makes: alert_days_needed — the UTC days of alert_polls whose business time alert_hours does
-- not hold yet (store_key, day), for sql/alerts/12_alert_hours_stores.sql to
-- 14_alert_hours_add.sql to add (storemon/alerts/events.py runs them only when there is one).
-- Rules: a poll is evidence when it lies inside its store's business time (rule 4), which
-- alert_hours holds by UTC day.
-- Needs: alert_polls (sql/alerts/10_alert_stores.sql), alert_hours.

CREATE OR REPLACE TEMP TABLE alert_days_needed AS
SELECT DISTINCT store_key, at_us // 86400000000 AS day
FROM alert_polls
ANTI JOIN alert_hours
  ON alert_hours.store_key = alert_polls.store_key
 AND alert_hours.day = alert_polls.at_us // 86400000000;
