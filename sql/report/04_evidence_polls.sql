-- Makes: evidence_polls — the polls that say something: taken while the store was open.
-- Rules: 4 (evidence): only polls with open <= t < close are evidence, and only
-- up to now. (Rule 2's "polls at one instant count once; inactive wins" is decided at load:
-- `polls` has one row per store and instant.)
-- A view, like poll_spans: status_spans computes both as part of its own query, which is faster
-- and holds a tenth of the memory compared with storing them (they have a row per poll).
-- Needs: report_window, polls, business_intervals (and report_stores' variable report_store_key).

CREATE OR REPLACE TEMP VIEW evidence_polls AS
WITH
-- Open time up to and including now: a poll after now then falls outside every interval.
open_until_now AS (
    SELECT store_key, open_us, least(close_us, now_us + 1) AS close_us
    FROM business_intervals, report_window
    WHERE open_us <= now_us
),
-- Each interval listed under every UTC day it touches, so that finding the interval that holds
-- a poll is an equality join on (store, day) plus a range check. Twice as fast as an ASOF join
-- here, and no slower as data grows: a poll meets only the few intervals of its own day.
open_days AS (
    SELECT *, unnest(range(open_us // 86400000000, (close_us - 1) // 86400000000 + 1)) AS day
    FROM open_until_now
),
polls_us AS (
    SELECT store_key, epoch_us(timestamp_utc) AS at_us, active
    FROM polls
    WHERE getvariable('report_store_key') IS NULL OR store_key = getvariable('report_store_key')
),
final AS (
    SELECT polls_us.*
    FROM polls_us
    JOIN open_days
      ON open_days.store_key = polls_us.store_key
     AND open_days.day = polls_us.at_us // 86400000000
     AND polls_us.at_us >= open_days.open_us
     AND polls_us.at_us < open_days.close_us
)
SELECT * FROM final;
