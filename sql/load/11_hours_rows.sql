-- Makes: hours_rows — every data line of the business-hours file (menu_hours.csv), parsed,
-- with the reason it cannot be used (`reason` NULL when it can).
-- Uses hours_lines: the file's lines in order (line n is its row n: see file_lines), stored
-- so the parsing runs on all cores, and dropped once hours_rows is made (the whole
-- file's text).
-- Rules: the load's inputs, business hours: dayOfWeek (or day) 0 = Monday ... 6 = Sunday; times
-- `HH:MM` or `HH:MM:SS[.ffffff]`, local to the store. storemon also reads an end time of 24:00 as
-- the end of the day. Unreadable rows are kept with file, line, raw text and reason.
-- Needs: 00_parse_macros.sql; variables `hours_file` (path), `hours_newline` (\n or \r\n)
-- and `hours_columns`
-- ({store_id, day, start_time_local, end_time_local: 1-based positions, fields: header width}).
-- Optional: `hours_read_from`, the file the bytes are read from when it is not
-- `hours_file` (the UTF-8 transcoding of a UTF-16 file); rows name `hours_file`.
-- Optional: `hours_max_line_size`, the longest line read in bytes (default 1 GiB; see
-- file_lines).

CREATE OR REPLACE TEMP TABLE hours_lines AS
SELECT raw FROM file_lines(
    coalesce(getvariable('hours_read_from'), getvariable('hours_file')),
    getvariable('hours_newline'),
    longest := coalesce(getvariable('hours_max_line_size'), 1073741824)
);

-- line numbers (see file_lines), the first rowid held as a constant
SET VARIABLE hours_first_rowid = (SELECT min(rowid) FROM hours_lines);
CREATE OR REPLACE TEMP VIEW hours_numbered AS
SELECT rowid - getvariable('hours_first_rowid') + 1 AS line, raw FROM hours_lines;

CREATE OR REPLACE TEMP TABLE hours_rows AS
WITH
records AS (
    SELECT *
    FROM csv_records('hours_numbered', getvariable('hours_columns').fields,
                     getvariable('hours_newline'))
),
picked AS (
    SELECT
        line,
        raw,
        problem,
        problem_detail,
        strip_blanks(fields[getvariable('hours_columns').store_id]) AS store_id,
        fields[getvariable('hours_columns').day] AS day_text,
        fields[getvariable('hours_columns').start_time_local] AS start_text,
        fields[getvariable('hours_columns').end_time_local] AS end_text
    FROM records
),
parsed AS (
    SELECT
        *,
        CASE WHEN regexp_full_match(strip_blanks(day_text), '[0-6]')
             THEN strip_blanks(day_text)::TINYINT END AS day_of_week,
        parse_local_time(start_text) AS start_local,
        parse_local_time(end_text) AS end_local
    FROM picked
),
-- Days numbered 1 (Monday) to 7 (Sunday), as many tools count them: a row of day 7, and no row
-- of day 0 in the file. The day-7 rows are rejected like any day outside 0-6, and their detail
-- says what the numbering does to the other rows (data_quality counts them).
numbering AS (
    SELECT
        *,
        strip_blanks(day_text) = '7' AND NOT coalesce(bool_or(day_of_week = 0) OVER (), false)
            AS numbered_from_1
    FROM parsed
),
-- the reason first, then its detail (a detail naming the reason's alias in the same SELECT
-- would copy its whole expression)
reasons AS (
    SELECT
        *,
        CASE
            WHEN problem IS NOT NULL THEN problem
            WHEN store_id_problem(store_id) IS NOT NULL THEN store_id_problem(store_id)
            WHEN day_of_week IS NULL THEN 'day outside 0-6'
            WHEN start_local IS NULL OR start_local = TIME '24:00:00' OR end_local IS NULL
                THEN 'bad time'
        END AS reason
    FROM numbering
),
final AS (
    SELECT
        line,
        raw,
        store_id,
        day_of_week,
        start_local,
        end_local,
        reason,
        coalesce(problem_detail, CASE reason
            WHEN 'missing store_id' THEN store_id_detail(store_id)
            WHEN 'store_id too long' THEN store_id_detail(store_id)
            WHEN 'day outside 0-6'
                THEN format('day "{}" is not a whole number from 0 (Monday) to 6 (Sunday)', day_text)
                     || if(numbered_from_1, '; no row of this file has day 0: its days look numbered 1 (Monday) to 7 (Sunday), '
                        'so the rows of days 1-6 are read one day late (day 1 as Tuesday); number '
                        'the days 0 (Monday) to 6 (Sunday) and load again', '')
            WHEN 'bad time'
                THEN format('start "{}" / end "{}": times are HH:MM or HH:MM:SS[.ffffff], '
                            'start before 24:00', start_text, end_text)
        END) AS detail
    FROM reasons
)
SELECT * FROM final;

DROP VIEW hours_numbered;
DROP TABLE hours_lines;
