-- Makes: stores — every store named by a usable row of any input, with a small integer key.
-- Spec: "Inputs": store_id is opaque text (19-digit numbers, UUIDs) and is never parsed; it
-- survives byte for byte. store_key numbers the ids in text order, so ordering by store_key is
-- ordering by store_id, and joins inside the pipeline compare integers instead of strings.
-- Needs: poll_rows, hours_rows, timezone_rows (10-12).

CREATE OR REPLACE TABLE stores AS
WITH
usable_ids AS (
    SELECT store_id FROM poll_rows WHERE reason IS NULL
    UNION
    SELECT store_id FROM hours_rows WHERE reason IS NULL
    UNION
    SELECT store_id FROM timezone_rows WHERE reason IS NULL
),
final AS (
    SELECT (row_number() OVER (ORDER BY store_id))::INTEGER AS store_key, store_id
    FROM usable_ids
)
SELECT * FROM final ORDER BY store_key;
