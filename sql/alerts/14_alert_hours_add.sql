-- Makes: alert_hours — adds the days of alert_days_needed: each store's merged business
-- intervals cut to the day, or one row (NULL, NULL) for a day without business time.
-- Rules: 3 (business intervals, merged: no time twice), over the local dates around each day
-- (sql/alerts/13_alert_hours_dates.sql), which hold every interval that touches it. Cut to their
-- days, a store's rows never overlap: the business time between two instants is the sum of its
-- rows' pieces between them.
-- Needs: alert_days_needed, business_intervals (sql/report/03_business_intervals.sql), alert_hours.

INSERT INTO alert_hours
WITH
pieces AS (
    SELECT
        needed.store_key,
        needed.day,
        greatest(business_intervals.open_us, needed.day * 86400000000) AS open_us,
        least(business_intervals.close_us, (needed.day + 1) * 86400000000) AS close_us
    FROM alert_days_needed AS needed
    JOIN business_intervals
      ON business_intervals.store_key = needed.store_key
     AND business_intervals.close_us > needed.day * 86400000000
     AND business_intervals.open_us < (needed.day + 1) * 86400000000
),
final AS (
    SELECT * FROM pieces
    UNION ALL
    SELECT store_key, day, NULL, NULL
    FROM alert_days_needed
    ANTI JOIN pieces USING (store_key, day)
)
SELECT * FROM final;
