-- Makes: stores — every store named by a usable row of any input, with a small integer key.
-- Rules: the load's inputs: store_id is opaque text (19-digit numbers, UUIDs) and is never parsed;
-- it survives byte for byte. store_key numbers the ids in text order, so ordering by store_key is
-- ordering by store_id, and joins inside the pipeline compare integers instead of strings. A
-- store_id with control characters (NUL, \x01-\x1f, \x7f; a tab inside counts, blanks around were
-- trimmed) is not a store: every row naming it, in every input, is rejected as `store_id has
-- control characters` (poll_rows, hours_rows, timezone_rows, special_hours_rows and group_rows
-- are updated here). The check runs
-- once per distinct id rather than once per row: on 2 M polls a per-row regexp costs 0.12 s, a
-- tenth of the whole load.
-- Needs: the macros of 00_parse_macros.sql; poll_rows, hours_rows, timezone_rows,
-- special_hours_rows, group_rows (10-14); the variables of 10_poll_rows.sql (it may read the status file
-- again).

CREATE OR REPLACE TEMP TABLE usable_ids AS
SELECT store_id FROM poll_rows WHERE reason IS NULL
UNION
SELECT store_id FROM hours_rows WHERE reason IS NULL
UNION
SELECT store_id FROM timezone_rows WHERE reason IS NULL
UNION
SELECT store_id FROM special_hours_rows WHERE reason IS NULL
UNION
SELECT store_id FROM group_rows WHERE reason IS NULL;

CREATE OR REPLACE TEMP TABLE control_character_ids AS
SELECT store_id, control_characters_detail(store_id) AS detail
FROM usable_ids
WHERE has_control_characters(store_id);

-- poll_rows keeps the text of rejected rows (and of records across lines) only, and the file's
-- lines are not kept (10_poll_rows.sql): the text of a usable single line rejected here is read
-- from the file again, on every core, numbered as 10_poll_rows.sql numbers lines (see
-- file_lines), keeping only lines with a control character. The file is read only when there is
-- such a line: with the variable false, the scan is planned away.
SET VARIABLE status_reread = (
    SELECT count(*) > 0
    FROM poll_rows SEMI JOIN control_character_ids USING (store_id)
    WHERE reason IS NULL AND raw IS NULL
);

CREATE OR REPLACE TEMP TABLE status_control_lines AS
SELECT if(has_control_characters(raw), raw, NULL) AS raw
FROM file_lines(
    coalesce(getvariable('status_read_from'), getvariable('status_file')),
    getvariable('status_newline'),
    longest := coalesce(getvariable('status_max_line_size'), 1073741824)
)
WHERE getvariable('status_reread');

SET VARIABLE status_control_first_rowid = (SELECT min(rowid) FROM status_control_lines);

UPDATE poll_rows
SET raw = if(ends_with(lines.raw, E'\r'), lines.raw[:-2], lines.raw)
FROM (
    SELECT rowid - getvariable('status_control_first_rowid') + 1 AS line, raw
    FROM status_control_lines
    WHERE raw IS NOT NULL
) AS lines
WHERE poll_rows.line = lines.line AND poll_rows.reason IS NULL AND poll_rows.raw IS NULL
  AND poll_rows.store_id IN (SELECT store_id FROM control_character_ids);

DROP TABLE status_control_lines;

UPDATE poll_rows
SET reason = 'store_id has control characters', detail = ids.detail
FROM control_character_ids AS ids
WHERE poll_rows.reason IS NULL AND poll_rows.store_id = ids.store_id;

UPDATE hours_rows
SET reason = 'store_id has control characters', detail = ids.detail
FROM control_character_ids AS ids
WHERE hours_rows.reason IS NULL AND hours_rows.store_id = ids.store_id;

UPDATE timezone_rows
SET reason = 'store_id has control characters', detail = ids.detail
FROM control_character_ids AS ids
WHERE timezone_rows.reason IS NULL AND timezone_rows.store_id = ids.store_id;

UPDATE special_hours_rows
SET reason = 'store_id has control characters', detail = ids.detail
FROM control_character_ids AS ids
WHERE special_hours_rows.reason IS NULL AND special_hours_rows.store_id = ids.store_id;

UPDATE group_rows
SET reason = 'store_id has control characters', detail = ids.detail
FROM control_character_ids AS ids
WHERE group_rows.reason IS NULL AND group_rows.store_id = ids.store_id;

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
