-- Makes: status_spans — the store's business time in the last week, cut into spans of one
-- status: where a poll span and a business interval overlap.
-- Spec: "From polls to minutes", rule 3: the time inside both the window and the business
-- intervals, covered by active polls (up) or inactive polls (down). Rule 4: a store without
-- evidence has no spans.
-- How: poll spans tile all time and merged business intervals are disjoint, so each overlap of
-- one with the other is a distinct piece of business time with one status. Both are clipped to
-- the week [week_start, now); store_report clips the pieces further to the day and the hour.
-- Needs: report_window, business_intervals, poll_spans.

CREATE OR REPLACE TEMP TABLE status_spans AS
WITH
open_in_week AS (
    SELECT
        store_key,
        greatest(open_us, week_start_us) AS open_us,
        least(close_us, now_us) AS close_us
    FROM business_intervals, report_window
    WHERE close_us > week_start_us AND open_us < now_us
),
-- The first poll span has no start and the last no end: they reach to the week's ends.
spans_in_week AS (
    SELECT
        store_key,
        greatest(coalesce(from_us, week_start_us), week_start_us) AS from_us,
        least(coalesce(to_us, now_us), now_us) AS to_us,
        active
    FROM poll_spans, report_window
    WHERE coalesce(to_us, now_us) > week_start_us AND coalesce(from_us, week_start_us) < now_us
),
-- Both listed under every UTC day they touch, so that overlapping pairs meet in an equality
-- join on (store, day): no range join, no sort.
open_days AS (
    SELECT *, unnest(range(open_us // 86400000000, (close_us - 1) // 86400000000 + 1)) AS day
    FROM open_in_week
),
span_days AS (
    SELECT *, unnest(range(from_us // 86400000000, (to_us - 1) // 86400000000 + 1)) AS day
    FROM spans_in_week
),
pairs AS (
    SELECT
        span_days.store_key,
        greatest(span_days.from_us, open_days.open_us) AS start_us,
        least(span_days.to_us, open_days.close_us) AS end_us,
        span_days.active,
        span_days.day
    FROM span_days
    JOIN open_days USING (store_key, day)
),
-- A pair that shares several days meets once per day: keep it on the day its overlap begins.
final AS (
    SELECT store_key, start_us, end_us, active
    FROM pairs
    WHERE start_us < end_us AND day = start_us // 86400000000
)
SELECT * FROM final;
