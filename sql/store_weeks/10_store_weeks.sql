-- Makes: store_weeks.weeks — the week of every store of one finished report (the variable
-- `store_weeks_report`), a row per store, sorted by store_id: the report and its week, the
-- store's zone, its report row and outage summary, and as lists its outages and the material of sql/store/ (business intervals,
-- polls, special dates), so that one store's week is one keyed read. The service keeps an
-- in-memory database for each report whose weeks it keeps (storemon/store_week.py), and runs
-- this file with `store_weeks` naming that database.
-- Rules: none of its own: the same views as one store's week (sql/store/), for all stores.
-- Needs: the report's files 00-05 and sql/store/ run with the variable `as_of` (the report's
-- now) and no `report_store` (every store), in the snapshot of the data the report read; the
-- service's tables report_rows, report_summary_rows and report_outages_rows; an empty database
-- attached as `store_weeks` (in the duckdb shell: ATTACH ':memory:' AS store_weeks).

CREATE TABLE store_weeks.weeks AS
WITH
outages AS (
    SELECT
        store_id,
        list(struct_pack(
            started_at, ended_at, started_at_local, ended_at_local, down_hours, polls, ongoing,
            began_before_week, down_us, down_us_last_day, down_us_last_hour
        ) ORDER BY started_at) AS outages
    FROM report_outages_rows
    WHERE report_id = getvariable('store_weeks_report')
    GROUP BY store_id
),
intervals AS (
    SELECT store_key, list(struct_pack(open_us, close_us) ORDER BY open_us) AS intervals
    FROM store_week_intervals
    GROUP BY store_key
),
week_polls AS (
    SELECT
        store_key,
        list(struct_pack(at_us, active, evidence, from_us, to_us) ORDER BY at_us) AS polls
    FROM store_week_polls
    GROUP BY store_key
),
special_days AS (
    SELECT store_key, list(struct_pack(date, closed, hours) ORDER BY date) AS special_days
    FROM store_week_special_days
    GROUP BY store_key
),
final AS (
    SELECT
        report_id,
        store_id,
        store_key,
        report_window.as_of,
        week_start_us,
        timezone,
        store_key NOT IN (SELECT store_key FROM store_timezones) AS timezone_is_default,
        NOT has_hours AS open_all_week,
        report_rows.* EXCLUDE (report_id, store_id),
        report_summary_rows.* EXCLUDE (report_id, store_id),
        coalesce(outages, []) AS outages,
        coalesce(intervals, []) AS intervals,
        coalesce(week_polls.polls, []) AS polls,
        coalesce(special_days, []) AS special_days
    FROM report_rows
    LEFT JOIN report_summary_rows USING (report_id, store_id)
    JOIN report_stores USING (store_id)
    LEFT JOIN outages USING (store_id)
    LEFT JOIN intervals USING (store_key)
    LEFT JOIN week_polls USING (store_key)
    LEFT JOIN special_days USING (store_key),
    report_window
    WHERE report_id = getvariable('store_weeks_report')
)
SELECT * FROM final ORDER BY store_id;

-- a store's row by its id, without scanning its neighbours' lists
CREATE INDEX weeks_by_store ON store_weeks.weeks (store_id);
