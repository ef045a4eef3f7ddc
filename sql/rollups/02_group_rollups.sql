-- Makes: group_rollups — the report's roll-ups, one row per group with at least one of its
-- stores, ordered by group, with exactly these columns: group, stores, stores_with_evidence,
-- uptime_last_hour, uptime_last_day, uptime_last_week, downtime_last_hour, downtime_last_day,
-- downtime_last_week (minutes for the hour, hours for the day and the week, summed exactly in
-- microseconds, then rounded to 2 decimals as the report is), outages_last_hour,
-- outages_last_day, outages_last_week, down_now, uptime_ratio_last_hour, uptime_ratio_last_day,
-- uptime_ratio_last_week (uptime / (uptime + downtime) to 4 decimals, empty when both are 0).
-- Rules: "Groups: roll-ups" (sql/README.md, rule 10).
-- Needs: group_sums (01_group_sums.sql: a row per group; on a cluster, the tasks' rows, a row
-- per group and task, which add up here), uptime_ratio (sql/report/00_report_macros.sql).

CREATE OR REPLACE TEMP TABLE group_rollups AS
WITH
sums AS (
    SELECT
        group_name,
        sum(stores) AS stores,
        sum(stores_with_evidence) AS stores_with_evidence,
        sum(up_hour_us) AS up_hour_us,
        sum(up_day_us) AS up_day_us,
        sum(up_week_us) AS up_week_us,
        sum(down_hour_us) AS down_hour_us,
        sum(down_day_us) AS down_day_us,
        sum(down_week_us) AS down_week_us,
        sum(outages_last_hour) AS outages_last_hour,
        sum(outages_last_day) AS outages_last_day,
        sum(outages_last_week) AS outages_last_week,
        sum(down_now) AS down_now
    FROM group_sums
    GROUP BY group_name
),
final AS (
    SELECT
        group_name AS "group",
        stores::BIGINT AS stores,
        stores_with_evidence::BIGINT AS stores_with_evidence,
        round(up_hour_us / 60e6, 2)::DECIMAL(18, 2) AS uptime_last_hour,
        round(up_day_us / 3600e6, 2)::DECIMAL(18, 2) AS uptime_last_day,
        round(up_week_us / 3600e6, 2)::DECIMAL(18, 2) AS uptime_last_week,
        round(down_hour_us / 60e6, 2)::DECIMAL(18, 2) AS downtime_last_hour,
        round(down_day_us / 3600e6, 2)::DECIMAL(18, 2) AS downtime_last_day,
        round(down_week_us / 3600e6, 2)::DECIMAL(18, 2) AS downtime_last_week,
        outages_last_hour::BIGINT AS outages_last_hour,
        outages_last_day::BIGINT AS outages_last_day,
        outages_last_week::BIGINT AS outages_last_week,
        down_now::BIGINT AS down_now,
        uptime_ratio(up_hour_us, down_hour_us) AS uptime_ratio_last_hour,
        uptime_ratio(up_day_us, down_day_us) AS uptime_ratio_last_day,
        uptime_ratio(up_week_us, down_week_us) AS uptime_ratio_last_week
    FROM sums
)
SELECT * FROM final ORDER BY "group";
