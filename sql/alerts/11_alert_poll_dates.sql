-- Makes: business_dates — here the local dates whose business intervals can hold one of
-- alert_polls (replacing the report's view of the same name, so that
-- sql/report/03_business_hours_utc.sql, run next, makes the intervals the polls need).
-- Rules: as sql/report/03_business_dates.sql: an interval that holds an instant opens on a
-- local date from the instant's UTC date - 2 to its UTC date + 1.
-- Needs: report_stores (sql/alerts/10_alert_stores.sql), alert_polls.

CREATE OR REPLACE TEMP VIEW business_dates AS
WITH
poll_dates AS (
    SELECT DISTINCT store_key, make_timestamp(at_us)::DATE AS poll_date
    FROM alert_polls
),
final AS (
    SELECT DISTINCT
        store_key,
        timezone,
        unnest(generate_series(poll_date - 2, poll_date + 1, INTERVAL 1 DAY))::DATE AS local_date
    FROM poll_dates
    JOIN report_stores USING (store_key)
)
SELECT * FROM final;
