-- Makes: poll_rows — every data line of the polls file (store_status.csv), parsed, with the
-- reason it cannot be used (`reason` NULL when it can).
-- Uses status_lines: the file's lines in order (line n is its row n: see file_lines), stored
-- so the parsing runs on all cores, and dropped once poll_rows is made (the whole file's text:
-- 1.5 GB at 10x the bench data).
-- Rules: the load's inputs, polls: status `active`/`inactive` in any case, surrounding blanks
-- ignored; timestamps in UTC with 0-9 fraction digits and suffix ` UTC`, `Z`, `+00:00` or none;
-- store_id is opaque text. A poll dated more than 5 minutes after the load time (load_time(): the
-- variable `load_time`, else the transaction's now()) is rejected as `timestamp in the future`.
-- Unreadable rows are kept with file, line, raw text and reason.
-- Needs: 00_parse_macros.sql; variables `status_file` (path), `status_newline` (\n or \r\n)
-- and `status_columns`
-- ({store_id, status, timestamp_utc: 1-based field positions, fields: header width}).
-- Optional: `status_read_from`, the file the bytes are read from when it is not
-- `status_file` (the UTF-8 transcoding of a UTF-16 file); rows name `status_file`.
-- Optional: `status_max_line_size`, the longest line read in bytes (default 1 GiB; see
-- file_lines).

CREATE OR REPLACE TEMP TABLE status_lines AS
SELECT raw FROM file_lines(
    coalesce(getvariable('status_read_from'), getvariable('status_file')),
    getvariable('status_newline'),
    longest := coalesce(getvariable('status_max_line_size'), 1073741824)
);

-- line numbers (see file_lines), the first rowid held as a constant
SET VARIABLE status_first_rowid = (SELECT min(rowid) FROM status_lines);
CREATE OR REPLACE TEMP VIEW status_numbered AS
SELECT rowid - getvariable('status_first_rowid') + 1 AS line, raw FROM status_lines;

CREATE OR REPLACE TEMP TABLE poll_rows AS
WITH
records AS (
    SELECT *
    FROM csv_records('status_numbered', getvariable('status_columns').fields,
                     getvariable('status_newline'))
),
picked AS (
    SELECT
        line,
        last_line,
        raw,
        problem,
        problem_detail,
        strip_blanks(fields[getvariable('status_columns').store_id]) AS store_id,
        fields[getvariable('status_columns').status] AS status_text,
        fields[getvariable('status_columns').timestamp_utc] AS timestamp_text
    FROM records
),
parsed AS (
    SELECT
        *,
        CASE lower(strip_blanks(status_text))
            WHEN 'active' THEN true
            WHEN 'inactive' THEN false
        END AS active,
        parse_utc_timestamp(timestamp_text) AS timestamp_utc
    FROM picked
),
-- the reason first, then its detail: a detail that named the reason's alias in the same SELECT
-- would copy its whole expression (and plan it twice)
reasons AS (
    SELECT
        *,
        CASE
            WHEN problem IS NOT NULL THEN problem
            WHEN store_id_problem(store_id) IS NOT NULL THEN store_id_problem(store_id)
            WHEN active IS NULL THEN 'unknown status'
            WHEN timestamp_utc IS NULL THEN 'bad timestamp'
            WHEN epoch_us(timestamp_utc) > epoch_us(load_time()) + 5 * 60000000
                THEN 'timestamp in the future'
        END AS reason
    FROM parsed
),
judged AS (
    SELECT
        line,
        last_line,
        raw,
        store_id,
        active,
        timestamp_utc,
        reason,
        coalesce(problem_detail, CASE reason
            WHEN 'missing store_id' THEN store_id_detail(store_id)
            WHEN 'store_id too long' THEN store_id_detail(store_id)
            WHEN 'unknown status' THEN format('status "{}" is neither active nor inactive', status_text)
            WHEN 'bad timestamp'
                THEN format('timestamp_utc "{}" is not YYYY-MM-DD HH:MM:SS[.ffffff] in UTC '
                            '(suffix UTC, Z, +00:00 or none)', timestamp_text)
            WHEN 'timestamp in the future'
                THEN format('timestamp_utc "{}" is more than 5 minutes after the load time ({})',
                            strip_blanks(timestamp_text),
                            strftime(make_timestamp(epoch_us(load_time())),
                                     '%Y-%m-%d %H:%M:%S UTC'))
        END) AS detail
    FROM reasons
),
final AS (
    -- only a rejected row needs its text, which is most of the table's size (and a record
    -- across lines, which 20_stores.sql may still reject: it reads single lines again)
    SELECT * REPLACE (if(reason IS NULL AND last_line = line, NULL, raw) AS raw) FROM judged
)
SELECT * EXCLUDE (last_line) FROM final;

DROP VIEW status_numbered;
DROP TABLE status_lines;
