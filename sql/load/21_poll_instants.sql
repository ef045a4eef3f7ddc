-- Makes: poll_instants — the usable polls, one row per (store, instant) (a view: 21_polls.sql
-- stores it, and a cluster's report task makes its polls from it, sql/cluster/20_bucket_polls.sql).
-- Rules: the load's inputs: identical duplicate rows count once. Rule 4 (evidence): polls
-- of one store at one instant count once, and if they disagree, inactive wins. Deciding this
-- once here, rather than in every report, spares each report a grouping of all its polls.
-- Needs: poll_rows, stores.

CREATE OR REPLACE TEMP VIEW poll_instants AS
SELECT stores.store_key, poll_rows.timestamp_utc, bool_and(poll_rows.active) AS active
FROM poll_rows
JOIN stores USING (store_id)
WHERE poll_rows.reason IS NULL
GROUP BY stores.store_key, poll_rows.timestamp_utc;
