-- Makes: business_dates — the local dates whose intervals can touch the week or one of its polls
-- up to now (store_key, timezone, local_date; not the dates in between: the work grows with the
-- polls and the week, never with the distance from the first poll to now), and beside it the
-- other inputs of 03_business_intervals.sql (views): `business_special_rows` (the special rows
-- with times of the report's stores up to the day after now, with the store's zone), and, also
-- for store_outages to look further back for a few stores, `weekly_hours` (each report store's
-- weekly rows, the 24x7 default included) and `special_days` (each report store's special
-- dates, on which weekly_hours does not apply).
-- Rules: 2 (defaults): a store with no hours is open 00:00 to 00:00 every day, which merges to
-- 24x7. Special hours: every special row up to the day after now goes in (not only those of the
-- dates below): business_intervals holds true business time only, and store_outages finds the
-- special time before the week there.
-- Needs: report_window, report_stores (and its variable report_store_key), polls,
-- business_hours, special_hours.

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


CREATE OR REPLACE TEMP VIEW business_dates AS
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
final AS (
    SELECT store_key, timezone, local_date
    FROM report_stores, week_dates
    UNION ALL
    SELECT store_key, timezone, local_date
    FROM earlier_dates
    JOIN report_stores USING (store_key)
    WHERE local_date < (SELECT min(local_date) FROM week_dates)
)
SELECT * FROM final;

CREATE OR REPLACE TEMP VIEW business_special_rows AS
SELECT special_hours.store_key, timezone, local_date, start_local, end_local
FROM special_hours
JOIN report_stores USING (store_key), report_window
WHERE start_local IS NOT NULL
  AND local_date <= make_timestamp(now_us)::DATE + 1
  AND (getvariable('report_store_key') IS NULL
       OR special_hours.store_key = getvariable('report_store_key'));
