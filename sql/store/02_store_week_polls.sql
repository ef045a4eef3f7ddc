-- Makes: store_week_polls (a view) — each store's polls that say something about a report's
-- week: every poll taken in [now - 168 h, now], and each evidence poll whose span reaches into
-- the week, with its status, whether it is evidence (taken while open), and the stretch of the
-- week it stands for (NULL for a poll taken while closed), as epoch microseconds, with its zone
-- and the zone's offset when it was taken.
-- Rules: 4 (evidence) and 5 (nearest poll) (evidence_polls, poll_spans), for the page of one
-- store's week.
-- Needs: the report's files 00-05 run with the variables `as_of` and `report_store` (see
-- 01_store_week_intervals.sql).

CREATE OR REPLACE TEMP VIEW store_week_polls AS
WITH
spans AS (
    SELECT
        store_key,
        at_us,
        active,
        greatest(coalesce(from_us, week_start_us), week_start_us) AS from_us,
        least(coalesce(to_us, now_us), now_us) AS to_us
    FROM poll_spans, report_window
    WHERE coalesce(to_us, now_us) > week_start_us
),
taken AS (
    SELECT store_key, epoch_us(timestamp_utc) AS at_us, active
    FROM polls
    JOIN report_stores USING (store_key), report_window
    WHERE epoch_us(timestamp_utc) BETWEEN week_start_us AND now_us
),
final AS (
    SELECT
        store_key,
        at_us,
        coalesce(spans.active, taken.active) AS active,
        spans.at_us IS NOT NULL AS evidence,
        spans.from_us,
        spans.to_us
    FROM spans
    FULL JOIN taken USING (store_key, at_us)
)
SELECT final.*, report_stores.timezone, zone_offset_us(at_us, report_stores.timezone) AS offset_us
FROM final
JOIN report_stores USING (store_key);
