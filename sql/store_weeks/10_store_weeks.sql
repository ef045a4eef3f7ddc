-- Makes: store_weeks.weeks — the week of every store of one finished report (the variable
-- `store_weeks_report`), a row per store, by store_id: the week as JSON, all but its business
-- intervals and polls (the report and its week, the store's zone, its report row, outage
-- summary and outages of store_week_rows, its special dates), and those two as lists of epoch
-- microseconds with the zone's offsets, which the service writes out (storemon/store_week/), so
-- that one store's week is one keyed read with nothing to convert in SQL.
-- Rules: none of its own: the same views as one store's week (sql/store/), for all stores.
-- Needs: the report's files 00-05, sql/store/ and 05_store_week_rows.sql run with the variable
-- `as_of` (the report's now) and no `report_store` (every store), in the snapshot of the data
-- the report read; an empty database attached as `store_weeks` (in the duckdb shell: ATTACH
-- ':memory:' AS store_weeks).

CREATE TABLE store_weeks.weeks AS
WITH
-- (Each list is sorted once whole, by its first field, then split: one ORDER BY per list
-- aggregate sorted the polls six times, a second more.)
intervals AS (
    SELECT
        store_key,
        list_sort(list(struct_pack(open_us, close_us, open_offset_us, close_offset_us))) AS each
    FROM store_week_intervals
    GROUP BY store_key
),
week_polls AS (
    SELECT
        store_key,
        list_sort(list(struct_pack(at_us, offset_us, active, evidence, from_us, to_us))) AS each
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
        store_id,
        to_json(struct_pack(
            report_id,
            store_id,
            as_of := strftime(report_window.as_of, '%Y-%m-%dT%H:%M:%S.%fZ'),
            week_start := strftime(make_timestamptz(week_start_us), '%Y-%m-%dT%H:%M:%S.%fZ'),
            timezone,
            timezone_is_default := store_key NOT IN (SELECT store_key FROM store_timezones),
            open_all_week := NOT has_hours,
            report,
            summary,
            outages,
            business_intervals := [],
            polls := [],
            special_days := coalesce(special_days, []),
            data_changed := false
        ))::VARCHAR AS week,
        struct_pack(
            open_us := list_transform(coalesce(intervals.each, []), lambda i: i.open_us),
            close_us := list_transform(coalesce(intervals.each, []), lambda i: i.close_us),
            open_offset_us := list_transform(coalesce(intervals.each, []), lambda i: i.open_offset_us),
            close_offset_us := list_transform(coalesce(intervals.each, []), lambda i: i.close_offset_us)
        ) AS intervals,
        struct_pack(
            at_us := list_transform(coalesce(week_polls.each, []), lambda p: p.at_us),
            offset_us := list_transform(coalesce(week_polls.each, []), lambda p: p.offset_us),
            active := list_transform(coalesce(week_polls.each, []), lambda p: p.active),
            evidence := list_transform(coalesce(week_polls.each, []), lambda p: p.evidence),
            from_us := list_transform(coalesce(week_polls.each, []), lambda p: p.from_us),
            to_us := list_transform(coalesce(week_polls.each, []), lambda p: p.to_us)
        ) AS polls
    FROM store_week_rows
    JOIN report_stores USING (store_id)
    LEFT JOIN intervals USING (store_key)
    LEFT JOIN week_polls USING (store_key)
    LEFT JOIN special_days USING (store_key),
    report_window
)
SELECT * FROM final ORDER BY store_id;

-- a store's row by its id, without scanning its neighbours'
CREATE INDEX weeks_by_store ON store_weeks.weeks (store_id);
