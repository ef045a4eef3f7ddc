-- Makes: status_spans — the store's down time in the last week, cut into pieces: where the span
-- of an inactive poll and a business interval overlap; and, for every store with evidence, one
-- piece of no length at now for its last evidence poll up to now, whatever its status.
-- Rules: 6 (sums): downtime is the time inside both the window and the
-- business intervals covered by inactive polls. Rule 4: a store without evidence has no pieces.
-- How: poll spans tile all time and merged business intervals are disjoint, so each overlap of
-- one with the other is a distinct piece of business time with one status. Both are clipped to
-- the week [week_start, now); store_report clips the pieces further to the day and the hour.
-- Uptime needs no pieces: for a store with evidence, the spans cover all its business time, so
-- uptime is business time - downtime, exactly (store_report). Keeping only down time (a tenth
-- of all pieces) makes this step three times cheaper (0.25 s -> 0.1 s on 14,000 stores).
-- The piece of no length (start_us = end_us = now) says that the store has evidence: its last
-- poll's span need not hold business time in the week. A poll at now on an opening instant
-- stands for [midpoint, now), which may be closed time throughout, and then none of the store's
-- pieces would say so. It also tells store_outages whether the outage it belongs to is ongoing.
-- Each piece keeps its poll (at_us), whether the poll opens an outage, where its span began
-- (poll_from_us, NULL: all time before it) and whether it is the store's last evidence poll up to
-- now (last_poll): store_outages reads them.
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
-- The first poll span has no start and the last no end: they reach to the week's ends. The
-- inactive polls' spans, and every store's last evidence poll (its span always reaches into the
-- week: it ends at now).
spans_in_week AS MATERIALIZED (
    SELECT
        store_key,
        greatest(coalesce(from_us, week_start_us), week_start_us) AS from_us,
        least(coalesce(to_us, now_us), now_us) AS to_us,
        active,
        at_us,
        opens_outage,
        from_us AS poll_from_us,
        to_us IS NULL AS last_poll
    FROM poll_spans, report_window
    WHERE coalesce(to_us, now_us) > week_start_us AND coalesce(from_us, week_start_us) < now_us
      AND (NOT active OR to_us IS NULL)
),
-- Both listed under every UTC day they touch, so that overlapping pairs meet in an equality
-- join on (store, day): no range join, no sort. (Most lie inside one day: a one-item list is
-- cheaper to unnest than a range, 20 ms less on 14,000 stores.)
open_days AS (
    SELECT *, unnest(if(open_us // 86400000000 = (close_us - 1) // 86400000000, [open_us // 86400000000],
                        range(open_us // 86400000000, (close_us - 1) // 86400000000 + 1))) AS day
    FROM open_in_week
),
span_days AS (
    SELECT *, unnest(if(from_us // 86400000000 = (to_us - 1) // 86400000000, [from_us // 86400000000],
                        range(from_us // 86400000000, (to_us - 1) // 86400000000 + 1))) AS day
    FROM spans_in_week
    WHERE NOT active
),
pairs AS (
    SELECT
        span_days.store_key,
        greatest(span_days.from_us, open_days.open_us) AS start_us,
        least(span_days.to_us, open_days.close_us) AS end_us,
        span_days.active,
        span_days.at_us,
        span_days.opens_outage,
        span_days.poll_from_us,
        span_days.last_poll,
        span_days.day
    FROM span_days
    JOIN open_days USING (store_key, day)
),
-- A pair that shares several days meets once per day: keep it on the day its overlap begins.
down_pieces AS (
    SELECT store_key, start_us, end_us, active, at_us, opens_outage, poll_from_us, last_poll
    FROM pairs
    WHERE start_us < end_us AND day = start_us // 86400000000
),
evidence_marks AS (
    SELECT store_key, now_us AS start_us, now_us AS end_us, active, at_us, opens_outage,
        poll_from_us, last_poll
    FROM spans_in_week, report_window
    WHERE last_poll
),
final AS (
    SELECT * FROM down_pieces
    UNION ALL
    SELECT * FROM evidence_marks
)
SELECT * FROM final;
