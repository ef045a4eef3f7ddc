-- Makes: store_week_rows (a view) — what a finished report kept of each of its stores, as a
-- store's week shows it: its report row (numbers as doubles), its outage summary and its outages
-- (instants as ISO text in UTC), and the data's last batch the report read.
-- Rules: none of its own: the report's rows as the report made them (report/06-08), shown.
-- Needs: the service's tables report_runs, report_rows, report_summary_rows and
-- report_outages_rows; the variable `store_weeks_report` (a report_id), and `report_store` (a
-- store_id) for one store alone, or none for every store of the report.

CREATE OR REPLACE TEMP VIEW store_week_rows AS
WITH
outages AS (
    SELECT
        store_id,
        list(struct_pack(
            started_at := strftime(started_at, '%Y-%m-%dT%H:%M:%S.%fZ'),
            ended_at := strftime(ended_at, '%Y-%m-%dT%H:%M:%S.%fZ'),
            started_at_local,
            ended_at_local,
            down_hours := down_hours::DOUBLE,
            polls,
            ongoing,
            began_before_week,
            down_us,
            down_us_last_day,
            down_us_last_hour
        ) ORDER BY started_at) AS outages
    FROM report_outages_rows
    WHERE report_id = getvariable('store_weeks_report')
        AND store_id = coalesce(getvariable('report_store'), store_id)
    GROUP BY store_id
),
final AS (
    SELECT
        report_id,
        store_id,
        report_runs.data_batch_id,
        struct_pack(
            uptime_last_hour := uptime_last_hour::DOUBLE,
            uptime_last_day := uptime_last_day::DOUBLE,
            uptime_last_week := uptime_last_week::DOUBLE,
            downtime_last_hour := downtime_last_hour::DOUBLE,
            downtime_last_day := downtime_last_day::DOUBLE,
            downtime_last_week := downtime_last_week::DOUBLE
        ) AS report,
        struct_pack(
            outages_last_hour,
            outages_last_day,
            outages_last_week,
            longest_outage_last_day := longest_outage_last_day::DOUBLE,
            longest_outage_last_week := longest_outage_last_week::DOUBLE,
            down_now,
            last_outage_started_at := strftime(last_outage_started_at, '%Y-%m-%dT%H:%M:%S.%fZ')
        ) AS summary,
        coalesce(outages, []) AS outages
    FROM report_rows
    JOIN report_runs USING (report_id)
    LEFT JOIN report_summary_rows USING (report_id, store_id)
    LEFT JOIN outages USING (store_id)
    WHERE report_id = getvariable('store_weeks_report')
        AND store_id = coalesce(getvariable('report_store'), store_id)
)
SELECT * FROM final;
