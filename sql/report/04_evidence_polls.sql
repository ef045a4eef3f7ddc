-- Makes: evidence_polls — the polls that say something: taken while the store was open.
-- Spec: "From polls to minutes", rule 1: only polls with open <= t < close are evidence, and only
-- up to now. Rule 2: polls of one store at one instant count once; if they disagree, inactive wins.
-- Needs: report_window, polls, business_intervals.

CREATE OR REPLACE TEMP TABLE evidence_polls AS
WITH
polls_until_now AS (
    SELECT store_key, epoch_us(timestamp_utc) AS at_us, active
    FROM polls, report_window
    WHERE polls.timestamp_utc <= report_window.as_of
),
-- Merged intervals are disjoint, so the last one opened at or before the poll is the only one
-- that can hold it.
in_hours AS (
    SELECT polls_until_now.*
    FROM polls_until_now
    ASOF JOIN business_intervals
      ON business_intervals.store_key = polls_until_now.store_key
     AND business_intervals.open_us <= polls_until_now.at_us
    WHERE polls_until_now.at_us < business_intervals.close_us
),
final AS (
    SELECT store_key, at_us, bool_and(active) AS active
    FROM in_hours
    GROUP BY store_key, at_us
)
SELECT * FROM final ORDER BY store_key, at_us;
