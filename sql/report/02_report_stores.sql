-- Makes: report_stores — the stores the report has a row for, with the zone and hours it uses.
-- Rules: 7 (output): one row per store with at least one poll up to now. Rule 2: a store with
-- no usable time-zone row is in America/Chicago; `has_hours` is false for a store with no usable
-- business-hours row (it is open 24x7).
-- Optional: variable `report_store`, a store_id: the report (and what follows it) is about that
-- store alone (the service's page for one store's week). This file then sets the variable
-- `report_store_key` to its key (-1 for an unknown id; NULL: every store), which later files
-- compare polls with: a constant, so a scan of polls skips the other stores' row groups.
-- Needs: report_window, polls, stores, store_timezones, business_hours.

SET VARIABLE report_store_key = (
    SELECT if(getvariable('report_store') IS NULL, NULL, coalesce(
        (SELECT store_key FROM stores WHERE store_id = getvariable('report_store')), -1))
);

CREATE OR REPLACE TEMP TABLE report_stores AS
WITH
polled AS (
    SELECT DISTINCT store_key
    FROM polls, report_window
    WHERE polls.timestamp_utc <= report_window.as_of
      AND (getvariable('report_store_key') IS NULL
           OR store_key = getvariable('report_store_key'))
),
with_hours AS (
    SELECT DISTINCT store_key
    FROM business_hours
    WHERE getvariable('report_store_key') IS NULL OR store_key = getvariable('report_store_key')
),
final AS (
    SELECT
        polled.store_key,
        stores.store_id,
        coalesce(store_timezones.timezone, 'America/Chicago') AS timezone,
        with_hours.store_key IS NOT NULL AS has_hours
    FROM polled
    JOIN stores USING (store_key)
    LEFT JOIN store_timezones USING (store_key)
    LEFT JOIN with_hours USING (store_key)
)
SELECT * FROM final;
