-- Makes: business_rows_utc — each business-hours row's interval on each local date of
-- `business_dates`, as [open_us, close_us) in UTC epoch microseconds, not merged (a view: the
-- report merges them in 03_business_intervals.sql; the alerts, which only ask whether a poll
-- is inside one, read them as they are).
-- Rules: 3 (business intervals): for each local date D and each row for D's weekday, open from
-- D + start to D + end local time; end < start runs past midnight to D + 1 day + end; end = start
-- lasts until D + 1 day + start (24 hours on the wall clock). Local times become UTC through the
-- store's zone with that date's rules: a repeated local time is the later instant, a skipped one
-- is read with the offset before the jump (both are how DuckDB's ICU `timezone()` resolves them).
-- An interval that ends up empty (e.g. 02:30-03:00 on a spring-forward night) is dropped.
-- Special hours: on a store's local date with special rows (`special_days`), its weekly rows do
-- not apply; the intervals starting that date are those of its special rows with times
-- (`business_special_rows`), by the same rules (a closed row adds none). Every other date keeps
-- its weekly intervals, including one that runs past midnight into a special date.
-- The report makes its inputs in 03_business_dates.sql; the alerts (sql/alerts/) make their own,
-- for the few dates a batch needs, and run this same file.
-- Needs: business_dates (store_key, timezone, local_date), weekly_hours (store_key,
-- day_of_week, start_local, end_local), special_days (store_key, local_date),
-- business_special_rows (store_key, timezone, local_date, start_local, end_local), the macros
-- of sql/report/00_report_macros.sql.

CREATE OR REPLACE TEMP VIEW business_rows_utc AS
WITH
-- the weekly rows apply on the dates that are not special; the special rows with times on theirs
weekly_rows AS (
    SELECT business_dates.store_key, timezone, local_date, start_local, end_local
    FROM (SELECT * FROM business_dates ANTI JOIN special_days USING (store_key, local_date))
        AS business_dates
    JOIN weekly_hours
      ON weekly_hours.store_key = business_dates.store_key
     AND weekly_hours.day_of_week = isodow(business_dates.local_date) - 1
),
special_rows AS (
    SELECT * FROM business_special_rows
),
-- each zone's dates: converted once, not once per store (steady_offset_us)
zone_days AS MATERIALIZED (
    SELECT timezone, local_date, steady_offset_us(timezone, local_date) AS steady_us
    FROM (SELECT DISTINCT timezone, local_date FROM business_dates
          UNION SELECT DISTINCT timezone, local_date FROM special_rows)
),
-- MATERIALIZED: computed once; otherwise the filter below repeats both conversions (0.13 s ->
-- 0.09 s on 14,000 stores). Weekly and special rows are converted apart: through one UNION of
-- the rows this file took about 10 ms more at 1x with special hours for 30% of the stores.
weekly_utc AS MATERIALIZED (
    SELECT
        store_key,
        opens_at_us(timezone, local_date, start_local, steady_us) AS open_us,
        closes_at_us(timezone, local_date, start_local, end_local, steady_us) AS close_us
    FROM weekly_rows
    JOIN zone_days USING (timezone, local_date)
),
special_utc AS MATERIALIZED (
    SELECT
        store_key,
        opens_at_us(timezone, local_date, start_local, steady_us) AS open_us,
        closes_at_us(timezone, local_date, start_local, end_local, steady_us) AS close_us
    FROM special_rows
    JOIN zone_days USING (timezone, local_date)
),
final AS (
    SELECT * FROM weekly_utc WHERE close_us > open_us
    UNION ALL
    SELECT * FROM special_utc WHERE close_us > open_us
)
SELECT * FROM final;
