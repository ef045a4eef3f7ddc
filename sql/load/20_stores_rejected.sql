-- Makes: nothing new — it marks the rows of ids with control characters (control_character_ids,
-- 20_stores.sql) rejected, in poll_rows, hours_rows, timezone_rows, special_hours_rows and
-- group_rows: `store_id has control characters`, with the characters shown in its detail.
-- Rules: the load's inputs: a store_id with control characters is not a store, and every row
-- naming it, in every input, is rejected (24_rejected_rows.sql lists them).
-- Needs: the macros of 00_parse_macros.sql; control_character_ids (20_stores.sql); the rows of
-- 10-14; the variables of 10_poll_rows.sql (it may read the status file again).

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
