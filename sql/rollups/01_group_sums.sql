-- Makes: group_sums — for each group with at least one of the report's stores, the exact sums
-- over those stores: stores, stores_with_evidence, up_*_us and down_*_us (microseconds, per
-- window: hour, day, week), outages_last_hour, outages_last_day, outages_last_week, down_now
-- (stores down now); from report_store_groups, also made here: the groups of the report's
-- stores (`store_id`, `group`), by which a key of some groups reads only their stores.
-- Rules: "Groups: roll-ups" (sql/README.md, rule 10): a group's figures are sums over the
-- report's stores in it; a store in two groups counts in both; a group none of whose stores is
-- in the report has no row. Beside the report, never inside it: nothing here changes a report
-- row.
-- Needs: the report's store_times (07) and store_outage_summary (10); store_groups.

CREATE OR REPLACE TEMP TABLE report_store_groups AS
SELECT times.store_id, groups.group_name AS "group"
FROM store_times AS times
JOIN store_groups AS groups USING (store_key)
ORDER BY ALL;

CREATE OR REPLACE TEMP TABLE group_sums AS
SELECT
    member."group" AS group_name,
    count(*) AS stores,
    count(*) FILTER (WHERE times.evidence) AS stores_with_evidence,
    sum(times.up_hour_us) AS up_hour_us,
    sum(times.up_day_us) AS up_day_us,
    sum(times.up_week_us) AS up_week_us,
    sum(times.down_hour_us) AS down_hour_us,
    sum(times.down_day_us) AS down_day_us,
    sum(times.down_week_us) AS down_week_us,
    sum(summary.outages_last_hour) AS outages_last_hour,
    sum(summary.outages_last_day) AS outages_last_day,
    sum(summary.outages_last_week) AS outages_last_week,
    count(*) FILTER (WHERE summary.down_now) AS down_now
FROM report_store_groups AS member
JOIN store_times AS times USING (store_id)
JOIN store_outage_summary AS summary USING (store_id)
GROUP BY member."group";
