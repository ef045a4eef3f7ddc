-- Makes: store_outage_summary — how often each report store went down: one row per store of the
-- report (ordered by store_id, as the report), zeros and NULLs when it had no outage.
-- Rules: 8 (outages): for each window, a store's number of outages is the count of its
-- outages with down time inside that window, and its longest outage is the largest down time
-- one outage has inside the window; those down times add up to the store's downtime there.
-- Columns: store_id, outages_last_hour, outages_last_day, outages_last_week,
-- longest_outage_last_day, longest_outage_last_week (hours, 2 decimals, 0 with no outage),
-- down_now (its last evidence poll up to now is inactive and stands for down time in the week:
-- an ongoing outage), last_outage_started_at (NULL with no outage in the week).
-- Needs: report_stores, store_outages.

CREATE OR REPLACE TEMP TABLE store_outage_summary AS
WITH
per_store AS (
    SELECT
        store_id,
        count(*) FILTER (WHERE down_us_last_hour > 0) AS outages_last_hour,
        count(*) FILTER (WHERE down_us_last_day > 0) AS outages_last_day,
        count(*) AS outages_last_week,
        max(down_us_last_day) AS longest_day_us,
        max(down_us) AS longest_week_us,
        bool_or(ongoing) AS down_now,
        max(started_at) AS last_outage_started_at
    FROM store_outages
    GROUP BY store_id
),
final AS (
    SELECT
        report_stores.store_id,
        coalesce(outages_last_hour, 0) AS outages_last_hour,
        coalesce(outages_last_day, 0) AS outages_last_day,
        coalesce(outages_last_week, 0) AS outages_last_week,
        round(coalesce(longest_day_us, 0) / 3600e6, 2)::DECIMAL(10, 2) AS longest_outage_last_day,
        round(coalesce(longest_week_us, 0) / 3600e6, 2)::DECIMAL(10, 2) AS longest_outage_last_week,
        coalesce(down_now, false) AS down_now,
        last_outage_started_at
    FROM report_stores
    LEFT JOIN per_store USING (store_id)
)
SELECT * FROM final ORDER BY store_id;
