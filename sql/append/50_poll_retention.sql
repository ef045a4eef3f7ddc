-- Makes: polls — drops the polls older than the cutoff, `latest poll - keep_days days`, except
-- those a report as of the latest poll still reads (retention: a service that runs for months
-- stays the size of its window, and its reports stay what they would be without it).
-- Rules: "Updates": retention, when set to N days (N >= 8), deletes a store's polls older than
-- `latest poll - N days`, except the store's latest evidence poll before that instant (by the
-- hours in force when retention runs): its span can reach into the week. storemon keeps, of
-- each store's polls before the cutoff:
--   * its latest evidence poll (the rule's exception), and when that one is inactive, the
--     inactive evidence polls of the outage it ends (from the latest active evidence poll on):
--     the outage's `polls` counts them, and its `began_before_week` reads their spans;
--   * its latest poll, evidence or not: a store has a report row when it has a poll up to now.
-- Needs: polls; the report's files 00-04 run as of the cutoff (variable `as_of`), so that
-- report_window's now is the cutoff and evidence_polls holds the evidence polls up to it, by
-- the hours in force (storemon/append.py runs them, only when a poll is older than the cutoff).

CREATE OR REPLACE TEMP TABLE retained_polls AS
WITH
before_cutoff AS (
    SELECT evidence_polls.*
    FROM evidence_polls, report_window
    WHERE at_us < now_us
),
last_up AS (
    SELECT store_key, max(at_us) FILTER (WHERE active) AS up_us
    FROM before_cutoff
    GROUP BY store_key
),
evidence_kept AS (
    SELECT store_key, at_us
    FROM before_cutoff
    LEFT JOIN last_up USING (store_key)
    WHERE at_us >= coalesce(up_us, at_us)
),
latest_kept AS (
    SELECT store_key, max(epoch_us(timestamp_utc)) AS at_us
    FROM polls, report_window
    WHERE epoch_us(timestamp_utc) < now_us
    GROUP BY store_key
),
final AS (
    SELECT * FROM evidence_kept
    UNION
    SELECT * FROM latest_kept
)
SELECT * FROM final;

DELETE FROM polls
WHERE epoch_us(timestamp_utc) < (SELECT now_us FROM report_window)
  AND NOT EXISTS (
      SELECT 1 FROM retained_polls
      WHERE retained_polls.store_key = polls.store_key
        AND retained_polls.at_us = epoch_us(polls.timestamp_utc)
  );

DROP TABLE retained_polls;
