-- Makes: stores — every store named by a usable row of any input, with a small integer key; and
-- beside it control_character_ids, the ids that name no store (20_stores_rejected.sql rejects
-- their rows).
-- Rules: the load's inputs: store_id is opaque text (19-digit numbers, UUIDs) and is never parsed;
-- it survives byte for byte. store_key numbers the ids in text order, so ordering by store_key is
-- ordering by store_id, and joins inside the pipeline compare integers instead of strings. A
-- store_id with control characters (NUL, \x01-\x1f, \x7f; a tab inside counts, blanks around were
-- trimmed) is not a store. The check runs once per distinct id rather than once per row: on 2 M
-- polls a per-row regexp costs 0.12 s, a tenth of the whole load.
-- This file only reads the rows (a cluster's report task runs it on rows read in place from
-- Parquet, storemon/cluster.py, whose ingest rejected such ids already).
-- Needs: the macros of 00_parse_macros.sql; poll_rows (10), ids_beside_polls (15).

CREATE OR REPLACE TEMP TABLE usable_ids AS
SELECT store_id FROM poll_rows WHERE reason IS NULL
UNION
SELECT store_id FROM ids_beside_polls;

CREATE OR REPLACE TEMP TABLE control_character_ids AS
SELECT store_id, control_characters_detail(store_id) AS detail
FROM usable_ids
WHERE has_control_characters(store_id);

CREATE OR REPLACE TABLE stores AS
WITH
ids AS (
    SELECT store_id FROM usable_ids
    WHERE store_id NOT IN (SELECT store_id FROM control_character_ids)
),
final AS (
    SELECT (row_number() OVER (ORDER BY store_id))::INTEGER AS store_key, store_id
    FROM ids
)
SELECT * FROM final ORDER BY store_key;
