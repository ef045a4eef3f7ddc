-- Makes: business_dates — here the local dates whose business intervals can touch one of the
-- UTC days of alert_days_needed (replacing the report's view of the same name, so that
-- sql/report/03_business_hours_utc.sql and 03_business_intervals.sql, run next, make the
-- intervals those days need).
-- Rules: as sql/report/03_business_dates.sql: an interval that holds an instant opens on a
-- local date from the instant's UTC date - 2 to its UTC date + 1.
-- Needs: report_stores (sql/alerts/12_alert_hours_stores.sql: each store's zone), alert_days_needed.

CREATE OR REPLACE TEMP VIEW business_dates AS
WITH
final AS (
    SELECT DISTINCT
        store_key,
        timezone,
        unnest(generate_series(
            make_timestamp(day * 86400000000)::DATE - 2,
            make_timestamp(day * 86400000000)::DATE + 1,
            INTERVAL 1 DAY
        ))::DATE AS local_date
    FROM alert_days_needed
    JOIN report_stores USING (store_key)
)
SELECT * FROM final;
