-- Makes: business_intervals — when each store is open, as merged [open_us, close_us) intervals
-- in UTC epoch microseconds, over the local dates that can touch the week or one of its polls up
-- to now (not the dates in between: the work grows with the polls and the week, never with the
-- distance from the first poll to now).
-- Rules: 3 (business intervals): for each local date D and each row for D's weekday, open from
-- D + start to D + end local time; end < start runs past midnight to D + 1 day + end; end = start
-- lasts until D + 1 day + start (24 hours on the wall clock). Local times become UTC through the
-- store's zone with that date's rules: a repeated local time is the later instant, a skipped one
-- is read with the offset before the jump (both are how DuckDB's ICU `timezone()` resolves them).
-- An interval that ends up empty (e.g. 02:30-03:00 on a spring-forward night) is dropped.
-- Overlapping or touching intervals are merged, so no time counts twice.
-- Rule 2 (defaults): a store with no hours is open 00:00 to 00:00 every day, which merges to 24x7.
-- Special hours: on a store's local date with special rows (`special_days`), its weekly rows do
-- not apply; the intervals starting that date are those of its special rows with times, by the
-- same rules (a closed row adds none). Every other date keeps its weekly intervals, including one
-- that runs past midnight into a special date; a store with special rows and no weekly rows is
-- open 24x7 on every other date. Special rows are few, so every one up to the day after now goes
-- in (not only those of the dates below): business_intervals holds true business time only, and
-- store_outages finds the special time before the week there.
-- Also makes, for store_outages to look further back for a few stores, `weekly_hours` (a view:
-- each report store's weekly rows, the 24x7 default included) and `special_days` (a view: each
-- report store's special dates, on which weekly_hours does not apply).
-- Needs: report_window, report_stores (and its variable report_store_key), polls,
-- business_hours, special_hours, the macros of 00_report_macros.sql.

CREATE OR REPLACE TEMP VIEW weekly_hours AS
SELECT business_hours.store_key, day_of_week, start_local, end_local
FROM business_hours
SEMI JOIN report_stores USING (store_key)
WHERE getvariable('report_store_key') IS NULL OR store_key = getvariable('report_store_key')
UNION ALL
SELECT store_key, unnest(range(7))::TINYINT, TIME '00:00', TIME '00:00'
FROM report_stores
WHERE NOT has_hours;

CREATE OR REPLACE TEMP VIEW special_days AS
SELECT DISTINCT special_hours.store_key, local_date
FROM special_hours
SEMI JOIN report_stores USING (store_key)
WHERE getvariable('report_store_key') IS NULL OR store_key = getvariable('report_store_key');

CREATE OR REPLACE TEMP TABLE business_intervals AS
WITH
-- An interval that holds an instant opens on a local date from the instant's UTC date - 2 (every
-- zone's offset, and intervals that began the evening before) to its UTC date + 1. So the local
-- dates needed are those of the week's UTC dates, and those around each UTC date before the
-- week that holds a poll up to now (polls inside the week are covered by the week's dates).
week_dates AS (
    SELECT unnest(generate_series(
        make_timestamp(week_start_us)::DATE - 2,
        make_timestamp(now_us)::DATE + 1,
        INTERVAL 1 DAY))::DATE AS local_date
    FROM report_window
),
earlier_poll_dates AS (
    SELECT DISTINCT store_key, make_timestamp(epoch_us(timestamp_utc))::DATE AS poll_date
    FROM polls, report_window
    WHERE epoch_us(timestamp_utc) < week_start_us
      AND (getvariable('report_store_key') IS NULL OR store_key = getvariable('report_store_key'))
),
earlier_dates AS (
    SELECT DISTINCT
        store_key,
        unnest(generate_series(poll_date - 2, poll_date + 1, INTERVAL 1 DAY))::DATE AS local_date
    FROM earlier_poll_dates
),
local_dates AS (
    SELECT store_key, timezone, local_date
    FROM report_stores, week_dates
    UNION ALL
    SELECT store_key, timezone, local_date
    FROM earlier_dates
    JOIN report_stores USING (store_key)
    WHERE local_date < (SELECT min(local_date) FROM week_dates)
),
-- the weekly rows apply on the dates that are not special; the special rows with times on theirs
weekly_rows AS (
    SELECT local_dates.store_key, timezone, local_date, start_local, end_local
    FROM (SELECT * FROM local_dates ANTI JOIN special_days USING (store_key, local_date))
        AS local_dates
    JOIN weekly_hours
      ON weekly_hours.store_key = local_dates.store_key
     AND weekly_hours.day_of_week = isodow(local_dates.local_date) - 1
),
special_rows AS (
    SELECT special_hours.store_key, timezone, local_date, start_local, end_local
    FROM special_hours
    JOIN report_stores USING (store_key), report_window
    WHERE start_local IS NOT NULL
      AND local_date <= make_timestamp(now_us)::DATE + 1
      AND (getvariable('report_store_key') IS NULL
           OR special_hours.store_key = getvariable('report_store_key'))
),
-- MATERIALIZED: computed once; otherwise the filter below repeats both conversions (0.13 s ->
-- 0.09 s on 14,000 stores). Weekly and special rows are converted apart: through one UNION of
-- the rows this file took about 10 ms more at 1x with special hours for 30% of the stores.
weekly_utc AS MATERIALIZED (
    SELECT
        store_key,
        opens_us(timezone, local_date, start_local) AS open_us,
        closes_us(timezone, local_date, start_local, end_local) AS close_us
    FROM weekly_rows
),
special_utc AS MATERIALIZED (
    SELECT
        store_key,
        opens_us(timezone, local_date, start_local) AS open_us,
        closes_us(timezone, local_date, start_local, end_local) AS close_us
    FROM special_rows
),
nonempty AS (
    SELECT * FROM weekly_utc WHERE close_us > open_us
    UNION ALL
    SELECT * FROM special_utc WHERE close_us > open_us
),
-- Gaps and islands: an interval starts a new island when it begins after every earlier one ended.
reach AS (
    SELECT
        *,
        max(close_us) OVER (
            PARTITION BY store_key ORDER BY open_us, close_us
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS earlier_close_us
    FROM nonempty
),
islands AS (
    SELECT
        *,
        sum(CASE WHEN earlier_close_us IS NULL OR open_us > earlier_close_us THEN 1 ELSE 0 END)
            OVER (PARTITION BY store_key ORDER BY open_us, close_us ROWS UNBOUNDED PRECEDING)
            AS island
    FROM reach
),
final AS (
    SELECT store_key, min(open_us) AS open_us, max(close_us) AS close_us
    FROM islands
    GROUP BY store_key, island
)
SELECT * FROM final;
