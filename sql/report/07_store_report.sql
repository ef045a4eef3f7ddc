-- Makes: store_report — the report: uptime and downtime per store over the last hour (minutes),
-- day and week (hours), rounded to 2 decimals; from store_times, also made here: each report
-- store's exact figures in microseconds (up_hour_us, up_day_us, up_week_us, down_hour_us,
-- down_day_us, down_week_us) and whether it has evidence, which the roll-ups (sql/rollups/) add
-- up before they round.
-- Rules: 6 (sums) and 7 (output): one row per store with at least one
-- poll up to now, ordered by store_id; a store without evidence gets zeros.
-- Uptime is the store's business time in the window minus its downtime: for a store with
-- evidence, its poll spans cover all of its business time (status_spans).
-- Needs: report_window, report_stores, business_intervals, status_spans.

CREATE OR REPLACE TEMP TABLE store_times AS
WITH
-- Each piece lies in the week; the day and the hour take the part of it after their start.
-- A store has pieces exactly when it has evidence (its last evidence poll's piece of no length).
down AS (
    SELECT
        store_key,
        sum(greatest(end_us - greatest(start_us, hour_start_us), 0)) AS down_hour_us,
        sum(greatest(end_us - greatest(start_us, day_start_us), 0)) AS down_day_us,
        sum(end_us - start_us) AS down_week_us
    FROM status_spans, report_window
    GROUP BY store_key
),
business AS (
    SELECT
        store_key,
        sum(greatest(least(close_us, now_us) - greatest(open_us, hour_start_us), 0)) AS hour_us,
        sum(greatest(least(close_us, now_us) - greatest(open_us, day_start_us), 0)) AS day_us,
        sum(least(close_us, now_us) - greatest(open_us, week_start_us)) AS week_us
    FROM business_intervals, report_window
    WHERE close_us > week_start_us AND open_us < now_us
      AND store_key IN (SELECT store_key FROM down)
    GROUP BY store_key
),
totals AS (
    SELECT
        store_key,
        hour_us - coalesce(down_hour_us, 0) AS up_hour_us,
        day_us - coalesce(down_day_us, 0) AS up_day_us,
        week_us - coalesce(down_week_us, 0) AS up_week_us,
        down_hour_us,
        down_day_us,
        down_week_us
    FROM down
    JOIN business USING (store_key)
),
final AS (
    SELECT
        report_stores.store_key,
        report_stores.store_id,
        down.store_key IS NOT NULL AS evidence,
        coalesce(totals.up_hour_us, 0)::BIGINT AS up_hour_us,
        coalesce(totals.up_day_us, 0)::BIGINT AS up_day_us,
        coalesce(totals.up_week_us, 0)::BIGINT AS up_week_us,
        coalesce(totals.down_hour_us, 0)::BIGINT AS down_hour_us,
        coalesce(totals.down_day_us, 0)::BIGINT AS down_day_us,
        coalesce(totals.down_week_us, 0)::BIGINT AS down_week_us
    FROM report_stores
    LEFT JOIN totals USING (store_key)
    LEFT JOIN down USING (store_key)
)
SELECT * FROM final ORDER BY store_key;

CREATE OR REPLACE TEMP TABLE store_report AS
SELECT
    store_id,
    round(up_hour_us / 60e6, 2)::DECIMAL(10, 2) AS uptime_last_hour,
    round(up_day_us / 3600e6, 2)::DECIMAL(10, 2) AS uptime_last_day,
    round(up_week_us / 3600e6, 2)::DECIMAL(10, 2) AS uptime_last_week,
    round(down_hour_us / 60e6, 2)::DECIMAL(10, 2) AS downtime_last_hour,
    round(down_day_us / 3600e6, 2)::DECIMAL(10, 2) AS downtime_last_day,
    round(down_week_us / 3600e6, 2)::DECIMAL(10, 2) AS downtime_last_week
FROM store_times
ORDER BY store_id;
