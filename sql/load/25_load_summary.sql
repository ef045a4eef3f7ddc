-- Makes: load_summary — what the last load read, kept and rejected, one row per input file.
-- Rules: the load's inputs: the load says how many rows were rejected and why (reasons:
-- rejected_rows). `duplicates` are usable rows identical to an earlier one: they count once.
-- `encoding` says how the file was read: 'utf-8', or 'utf-16 (transcoded)' for a file that starts
-- with a UTF-16 byte order mark (read from its UTF-8 transcoding; `file` is still the file named).
-- The special-hours and store-groups files are optional: each one's row is there when its
-- variable (`special_file`, `groups_file`) is set.
-- Needs: poll_rows, hours_rows, timezone_rows, special_hours_rows, group_rows, polls,
-- business_hours, store_timezones, special_hours, store_groups; variables `status_file`,
-- `hours_file`, `timezones_file`, `special_file`, `groups_file`; optionally `*_encoding` (default 'utf-8'), and
-- `load_time` (loaded_at; default now()).

CREATE OR REPLACE TABLE load_summary AS
WITH
counted AS (
    SELECT 'polls' AS source, getvariable('status_file') AS file,
           count(*) AS data_rows, count(*) FILTER (reason IS NULL) AS usable_rows,
           (SELECT count(*) FROM polls) AS kept_rows,
           coalesce(getvariable('status_encoding'), 'utf-8') AS encoding
    FROM poll_rows
    UNION ALL
    SELECT 'business_hours', getvariable('hours_file'),
           count(*), count(*) FILTER (reason IS NULL), (SELECT count(*) FROM business_hours),
           coalesce(getvariable('hours_encoding'), 'utf-8')
    FROM hours_rows
    UNION ALL
    SELECT 'timezones', getvariable('timezones_file'),
           count(*), count(*) FILTER (reason IS NULL), (SELECT count(*) FROM store_timezones),
           coalesce(getvariable('timezones_encoding'), 'utf-8')
    FROM timezone_rows
    UNION ALL
    SELECT 'special_hours', getvariable('special_file'),
           count(*), count(*) FILTER (reason IS NULL), (SELECT count(*) FROM special_hours),
           coalesce(getvariable('special_encoding'), 'utf-8')
    FROM special_hours_rows
    HAVING getvariable('special_file') IS NOT NULL
    UNION ALL
    SELECT 'store_groups', getvariable('groups_file'),
           count(*), count(*) FILTER (reason IS NULL), (SELECT count(*) FROM store_groups),
           coalesce(getvariable('groups_encoding'), 'utf-8')
    FROM group_rows
    HAVING getvariable('groups_file') IS NOT NULL
),
final AS (
    SELECT
        source,
        file,
        data_rows,
        kept_rows,
        usable_rows - kept_rows AS duplicates,
        data_rows - usable_rows AS rejected,
        coalesce(getvariable('load_time'), now()) AS loaded_at,
        encoding
    FROM counted
)
SELECT * FROM final;
