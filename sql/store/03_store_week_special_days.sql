-- Makes: store_week_special_days (a view) — each store's special dates in a report's week (its
-- local dates from the week's start to now): the date, whether it was closed all day (no
-- special row with times), and its special hours as `HH:MM-HH:MM` text, in the file's order of
-- times.
-- Rules: "Special hours" (sql/README.md, rule 3a): on these dates the weekly rows did not apply.
-- Needs: the report's files 00-05 run with the variables `as_of` (the report's now) and
-- `report_store` (see 01_store_week_intervals.sql); special_hours.

CREATE OR REPLACE TEMP VIEW store_week_special_days AS
WITH
week_dates AS (
    SELECT
        store_key,
        timezone(report_stores.timezone, make_timestamptz(week_start_us))::DATE AS first_date,
        timezone(report_stores.timezone, make_timestamptz(now_us))::DATE AS last_date
    FROM report_stores, report_window
),
final AS (
    SELECT
        store_key,
        strftime(local_date, '%Y-%m-%d') AS date,
        bool_and(start_local IS NULL) AS closed,
        coalesce(list(left(start_local::VARCHAR, 5) || '-' || left(end_local::VARCHAR, 5)
                      ORDER BY start_local, end_local)
                 FILTER (WHERE start_local IS NOT NULL), []) AS hours
    FROM special_hours
    JOIN week_dates USING (store_key)
    WHERE local_date BETWEEN first_date AND last_date
    GROUP BY store_key, local_date
)
SELECT * FROM final;
