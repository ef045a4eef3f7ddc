-- Makes: polls — the usable polls, one row per distinct (store, instant, status).
-- Spec: "Inputs": identical duplicate rows count once. Two polls of one store at one instant
-- that disagree are both kept here; the report decides between them (inactive wins).
-- Needs: poll_rows, stores.

CREATE OR REPLACE TABLE polls AS
SELECT DISTINCT stores.store_key, poll_rows.timestamp_utc, poll_rows.active
FROM poll_rows
JOIN stores USING (store_id)
WHERE poll_rows.reason IS NULL
ORDER BY ALL;
