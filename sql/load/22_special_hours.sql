-- Makes: special_hours — the usable special-hours rows, one per distinct (store, local_date,
-- start_local, end_local), in the store's local time; a closed day has NULL times.
-- Rules: "Special hours": on a store's local date with at least one row here, these rows (those
-- with times) are its intervals starting that date and its weekly rows do not apply (the report
-- builds intervals from these, sql/report/03_business_intervals.sql).
-- Needs: special_hours_rows, stores.

CREATE OR REPLACE TABLE special_hours AS
SELECT DISTINCT stores.store_key, rows.local_date, rows.start_local, rows.end_local
FROM special_hours_rows AS rows
JOIN stores USING (store_id)
WHERE rows.reason IS NULL
ORDER BY ALL;
