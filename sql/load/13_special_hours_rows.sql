-- Makes: special_hours_rows — every data line of the special-hours file (special_hours.csv),
-- parsed, with the reason it cannot be used (`reason` NULL when it can).
-- Uses special_lines: the file's lines in order (line n is its row n: see file_lines), dropped
-- once special_hours_rows is made.
-- Rules: the load's inputs, special hours: `date` is a local calendar date YYYY-MM-DD (a date
-- that does not exist, such as 2023-02-30, is `bad date`); times as in business hours (`HH:MM`
-- or `HH:MM:SS[.ffffff]`, an end of 24:00 is the end of the day). Both times empty: the store is
-- closed that date (`closed` true, no times). One time empty and not the other is `half an
-- interval`; a time that does not parse (or a start of 24:00) is `bad time`. Unreadable rows are
-- kept with file, line, raw text and reason.
-- Needs: 00_parse_macros.sql. The file is optional: variables `special_file` (path),
-- `special_newline` (\n or \r\n, default \n) and `special_columns` ({store_id, date,
-- start_time_local, end_time_local: 1-based positions, fields: header width}; default the
-- columns in that order); without `special_file` there are no special hours (the variable
-- `status_file` names a file to plan the read on, which reads nothing).
-- Optional: `special_read_from`, the file the bytes are read from when it is not
-- `special_file` (the UTF-8 transcoding of a UTF-16 file); rows name `special_file`.
-- Optional: `special_max_line_size`, the longest line read in bytes (default 1 GiB; see
-- file_lines).

CREATE OR REPLACE TEMP TABLE special_lines AS
SELECT raw FROM file_lines(
    coalesce(getvariable('special_read_from'), getvariable('special_file'),
             getvariable('status_file')),
    coalesce(getvariable('special_newline'), '\n'),
    longest := coalesce(getvariable('special_max_line_size'), 1073741824)
)
WHERE getvariable('special_file') IS NOT NULL;  -- none: no lines (the scan is planned away)

SET VARIABLE special_layout = coalesce(
    getvariable('special_columns'),
    {'store_id': 1, 'date': 2, 'start_time_local': 3, 'end_time_local': 4, 'fields': 4}
);

-- line numbers (see file_lines), the first rowid held as a constant
SET VARIABLE special_first_rowid = (SELECT min(rowid) FROM special_lines);
CREATE OR REPLACE TEMP VIEW special_numbered AS
SELECT rowid - getvariable('special_first_rowid') + 1 AS line, raw FROM special_lines;

CREATE OR REPLACE TEMP TABLE special_hours_rows AS
WITH
records AS (
    SELECT *
    FROM csv_records('special_numbered', getvariable('special_layout').fields,
                     coalesce(getvariable('special_newline'), '\n'))
),
picked AS (
    SELECT
        line,
        raw,
        problem,
        problem_detail,
        strip_blanks(fields[getvariable('special_layout').store_id]) AS store_id,
        strip_blanks(fields[getvariable('special_layout').date]) AS date_text,
        fields[getvariable('special_layout').start_time_local] AS start_text,
        fields[getvariable('special_layout').end_time_local] AS end_text
    FROM records
),
parsed AS (
    SELECT
        *,
        CASE WHEN regexp_full_match(date_text, '\d{4}-\d{2}-\d{2}')
             THEN try_cast(date_text AS DATE) END AS local_date,
        strip_blanks(start_text) = '' AS no_start,
        strip_blanks(end_text) = '' AS no_end,
        parse_local_time(start_text) AS start_local,
        parse_local_time(end_text) AS end_local
    FROM picked
),
-- the reason first, then its detail (a detail naming the reason's alias in the same SELECT
-- would copy its whole expression)
reasons AS (
    SELECT
        *,
        CASE
            WHEN problem IS NOT NULL THEN problem
            WHEN store_id_problem(store_id) IS NOT NULL THEN store_id_problem(store_id)
            WHEN local_date IS NULL THEN 'bad date'
            WHEN no_start AND no_end THEN NULL
            WHEN no_start OR no_end THEN 'half an interval'
            WHEN start_local IS NULL OR start_local = TIME '24:00:00' OR end_local IS NULL
                THEN 'bad time'
        END AS reason
    FROM parsed
),
final AS (
    SELECT
        line,
        raw,
        store_id,
        local_date,
        if(no_start AND no_end, NULL, start_local) AS start_local,
        if(no_start AND no_end, NULL, end_local) AS end_local,
        coalesce(no_start AND no_end, false) AS closed,
        reason,
        coalesce(problem_detail, CASE reason
            WHEN 'missing store_id' THEN store_id_detail(store_id)
            WHEN 'store_id too long' THEN store_id_detail(store_id)
            WHEN 'bad date'
                THEN format('date "{}" is not a calendar date YYYY-MM-DD', date_text)
            WHEN 'half an interval'
                THEN format('start "{}" / end "{}": give both times, or neither for a day the '
                            'store is closed', start_text, end_text)
            WHEN 'bad time'
                THEN format('start "{}" / end "{}": times are HH:MM or HH:MM:SS[.ffffff], '
                            'start before 24:00', start_text, end_text)
        END) AS detail
    FROM reasons
)
SELECT * FROM final;

DROP VIEW special_numbered;
DROP TABLE special_lines;
