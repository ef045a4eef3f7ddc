-- Makes: rejected_rows — every input row that could not be used, with where it came from and why.
-- Rules: the load's inputs: a row that cannot be read is not used and is not lost: it is kept with
-- its file, line number, raw text and a reason, where a person can query it. `batch_id` names the
-- load (or, for rows added later by sql/append/, the batch) that brought the row.
-- Needs: poll_rows, hours_rows, timezone_rows, special_hours_rows, group_rows; variables
-- `status_file`, `hours_file`, `timezones_file`, `special_file`, `groups_file`, `batch_id`.

CREATE OR REPLACE TABLE rejected_rows AS
WITH
rejected AS (
    SELECT 'polls' AS source, getvariable('status_file') AS file, line, raw, reason, detail,
           getvariable('batch_id')::VARCHAR AS batch_id
    FROM poll_rows WHERE reason IS NOT NULL
    UNION ALL
    SELECT 'business_hours', getvariable('hours_file'), line, raw, reason, detail,
           getvariable('batch_id')
    FROM hours_rows WHERE reason IS NOT NULL
    UNION ALL
    SELECT 'timezones', getvariable('timezones_file'), line, raw, reason, detail,
           getvariable('batch_id')
    FROM timezone_rows WHERE reason IS NOT NULL
    UNION ALL
    SELECT 'special_hours', getvariable('special_file'), line, raw, reason, detail,
           getvariable('batch_id')
    FROM special_hours_rows WHERE reason IS NOT NULL
    UNION ALL
    SELECT 'store_groups', getvariable('groups_file'), line, raw, reason, detail,
           getvariable('batch_id')
    FROM group_rows WHERE reason IS NOT NULL
)
SELECT * FROM rejected ORDER BY source, line;
