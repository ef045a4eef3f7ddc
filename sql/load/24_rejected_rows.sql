-- Makes: rejected_rows — every input row that could not be used, with where it came from and why.
-- Spec: "Inputs": a row that cannot be read is not used and is not lost: it is kept with its
-- file, line number, raw text and a reason, where a person can query it.
-- Needs: poll_rows, hours_rows, timezone_rows; variables `status_file`, `hours_file`,
-- `timezones_file`.

CREATE OR REPLACE TABLE rejected_rows AS
WITH
rejected AS (
    SELECT 'polls' AS source, getvariable('status_file') AS file, line, raw, reason, detail
    FROM poll_rows WHERE reason IS NOT NULL
    UNION ALL
    SELECT 'business_hours', getvariable('hours_file'), line, raw, reason, detail
    FROM hours_rows WHERE reason IS NOT NULL
    UNION ALL
    SELECT 'timezones', getvariable('timezones_file'), line, raw, reason, detail
    FROM timezone_rows WHERE reason IS NOT NULL
)
SELECT * FROM rejected ORDER BY source, line;
