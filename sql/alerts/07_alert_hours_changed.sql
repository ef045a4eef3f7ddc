-- Makes: alert_hours without the days a batch of hours, zones or special hours changes (its rows
-- are deleted; the alerts make them again when they next ask for them).
-- Rules: "Alerts" (sql/README.md): a batch of hours or zones replaces all the hours (the zone) of
-- the stores it names, so every day of theirs goes. One of special hours replaces the rows of
-- each (store, local date D) it names: the intervals that open on D lie within the UTC days
-- D - 1 to D + 2 (zones are 14 hours from UTC at most, an interval lasts at most to D + 2
-- 00:00 local), so the store's UTC days D - 2 to D + 3 go (a margin: a day more on each side).
-- The dates alert_named leaves out are later than any day alert_hours holds.
-- Needs: alert_named (sql/alerts/06_alert_named.sql), alert_hours.

DELETE FROM alert_hours
USING alert_named AS named
WHERE alert_hours.store_key = named.store_key
  AND (named.date_us IS NULL
       OR alert_hours.day BETWEEN named.date_us // 86400000000 - 2
                              AND named.date_us // 86400000000 + 3);
