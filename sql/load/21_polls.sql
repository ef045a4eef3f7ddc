-- Makes: polls — the usable polls, one row per (store, instant).
-- Rules: the load's inputs: identical duplicate rows count once. Rule 5 (nearest poll): polls
-- of one store at one instant count once, and if they disagree, inactive wins. Deciding this
-- once here, rather than in every report, spares each report a grouping of all its polls.
-- Needs: poll_rows, stores.

CREATE OR REPLACE TABLE polls AS
SELECT stores.store_key, poll_rows.timestamp_utc, bool_and(poll_rows.active) AS active
FROM poll_rows
JOIN stores USING (store_id)
WHERE poll_rows.reason IS NULL
GROUP BY stores.store_key, poll_rows.timestamp_utc
ORDER BY stores.store_key, poll_rows.timestamp_utc;
