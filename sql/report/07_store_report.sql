-- Makes: store_report — the report: uptime and downtime per store over the last hour (minutes),
-- day and week (hours), rounded to 2 decimals.
-- Spec: "From polls to minutes", rules 3-4, and "Output": one row per store with at least one
-- poll up to now, ordered by store_id; a store without evidence gets zeros.
-- Needs: report_window, report_stores, status_spans.

CREATE OR REPLACE TEMP TABLE store_report AS
WITH
-- Each span lies in the week; the day and the hour take the part of it after their start.
totals AS (
    SELECT
        store_key,
        sum(greatest(end_us - greatest(start_us, hour_start_us), 0)) FILTER (active) AS up_hour_us,
        sum(greatest(end_us - greatest(start_us, day_start_us), 0)) FILTER (active) AS up_day_us,
        sum(end_us - start_us) FILTER (active) AS up_week_us,
        sum(greatest(end_us - greatest(start_us, hour_start_us), 0)) FILTER (NOT active)
            AS down_hour_us,
        sum(greatest(end_us - greatest(start_us, day_start_us), 0)) FILTER (NOT active)
            AS down_day_us,
        sum(end_us - start_us) FILTER (NOT active) AS down_week_us
    FROM status_spans, report_window
    GROUP BY store_key
),
final AS (
    SELECT
        report_stores.store_id,
        round(coalesce(up_hour_us, 0) / 60e6, 2)::DECIMAL(10, 2) AS uptime_last_hour,
        round(coalesce(up_day_us, 0) / 3600e6, 2)::DECIMAL(10, 2) AS uptime_last_day,
        round(coalesce(up_week_us, 0) / 3600e6, 2)::DECIMAL(10, 2) AS uptime_last_week,
        round(coalesce(down_hour_us, 0) / 60e6, 2)::DECIMAL(10, 2) AS downtime_last_hour,
        round(coalesce(down_day_us, 0) / 3600e6, 2)::DECIMAL(10, 2) AS downtime_last_day,
        round(coalesce(down_week_us, 0) / 3600e6, 2)::DECIMAL(10, 2) AS downtime_last_week
    FROM report_stores
    LEFT JOIN totals USING (store_key)
)
SELECT * FROM final ORDER BY store_id;
