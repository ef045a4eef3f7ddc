-- Makes: poll_spans — the stretch of time each evidence poll stands for.
-- Rules: 5 (nearest poll): poll i covers from the midpoint with the previous poll
-- to the midpoint with the next one; the first covers all time before it (from_us NULL), the last
-- all time after it (to_us NULL). Midpoints are floored to the microsecond.
-- "Outages": `opens_outage` marks an inactive poll whose previous evidence poll is not inactive
-- (the first poll of an outage).
-- A view (see evidence_polls).
-- Needs: evidence_polls.

CREATE OR REPLACE TEMP VIEW poll_spans AS
WITH
final AS (
    SELECT
        store_key,
        at_us,
        active,
        (lag(at_us) OVER by_time + at_us) // 2 AS from_us,
        (at_us + lead(at_us) OVER by_time) // 2 AS to_us,
        NOT active AND coalesce(lag(active) OVER by_time, true) AS opens_outage
    FROM evidence_polls
    WINDOW by_time AS (PARTITION BY store_key ORDER BY at_us)
)
SELECT * FROM final;
