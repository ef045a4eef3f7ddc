-- Makes: status_spans — the store's business time in the last week, cut into spans that each
-- have one status and lie wholly inside or outside each window.
-- Spec: "From polls to minutes", rule 3: the time inside both the window and the business
-- intervals, covered by active polls (up) or inactive polls (down). Rule 4: a store without
-- evidence has no spans.
-- How: one sweep per store over the sorted cut points: where business intervals open and close
-- (clipped to the week), where each poll's span begins, and where the day and hour windows
-- begin. Between two cut points nothing changes; the last open/close seen says whether the store
-- is open, the last span begun says the status.
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
-- The poll spans tile all time; only those reaching into the week matter, and the one that
-- began before the week begins at the week's start.
spans_in_week AS (
    SELECT store_key, greatest(coalesce(from_us, week_start_us), week_start_us) AS from_us, active
    FROM poll_spans, report_window
    WHERE coalesce(to_us, now_us) > week_start_us AND coalesce(from_us, week_start_us) < now_us
),
cuts AS (
    SELECT store_key, open_us AS at_us, true AS is_open, NULL::BOOLEAN AS active FROM open_in_week
    UNION ALL
    SELECT store_key, close_us, false, NULL FROM open_in_week
    UNION ALL
    SELECT store_key, from_us, NULL, active FROM spans_in_week
    UNION ALL
    SELECT DISTINCT store_key, unnest([day_start_us, hour_start_us]), NULL, NULL
    FROM open_in_week, report_window
),
-- Cut points at the same instant are peers: the default RANGE frame lets each see the others,
-- and the zero-length spans between them are dropped below.
swept AS (
    SELECT
        store_key,
        at_us AS start_us,
        lead(at_us) OVER by_time AS end_us,
        last_value(is_open IGNORE NULLS) OVER by_time AS is_open,
        last_value(active IGNORE NULLS) OVER by_time AS active
    FROM cuts
    WINDOW by_time AS (PARTITION BY store_key ORDER BY at_us)
),
final AS (
    SELECT store_key, start_us, end_us, active
    FROM swept
    WHERE is_open AND active IS NOT NULL AND end_us > start_us
)
SELECT * FROM final;
