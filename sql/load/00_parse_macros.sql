-- Makes: the text-parsing macros the loader uses (no table).
--   csv_fields(line)          one CSV record (RFC 4180 quoting) -> list of field texts, or NULL
--                             when its quotes do not balance (a line break may only be quoted)
--   parse_utc_timestamp(text) the load's inputs: `YYYY-MM-DD HH:MM:SS[.f{1,9}]` with suffix ` UTC`,
--                             `Z`, `+00:00` or none -> TIMESTAMPTZ (kept to the microsecond:
--                             digits past the 6th are dropped), else NULL
--   parse_local_time(text)    the load's inputs: `HH:MM` or `HH:MM:SS[.ffffff]` -> TIME, else NULL
--                             (24:00 parses; the hours loader allows it only as an end time)
--   csv_records(lines, width, newline)  the data records in a table (or view) of numbered
--                             lines (line, raw) (line 2 on, blank lines skipped; a record whose
--                             quoted field holds line breaks is one record, numbered by its first
--                             line): line, last_line, raw text, fields, and `problem` and
--                             `problem_detail` when the record is not one of `width` fields
--   load_time()               the load's instant: variable `load_time` when set (the loader
--                             sets it: it parses before its transaction), else now()
--   file_lines(path, newline[, longest])  every line of a file (`raw`), in the file's order
--                             (blank lines come back NULL); newline is E'\n' or E'\r\n' spelled
--                             with backslashes, as read_csv takes it; `longest`: the longest line
--                             read, in bytes (default 1 GiB). Stored in a table: see below.
--   numbered_lines(path, newline[, longest])  the same lines with their 1-based number, `line`
--                             (the header is line 1); numbered on one thread
-- Needs: nothing. Runs on its own in the duckdb shell; the loader runs it first.

CREATE OR REPLACE TEMP MACRO load_time() AS coalesce(getvariable('load_time'), now());

-- Written with if() rather than CASE: twice as fast for the common line without quotes.
CREATE OR REPLACE TEMP MACRO csv_fields(line) AS
    if(NOT contains(line, '"'), string_split(line, ','), CASE
        WHEN regexp_full_match(line, '("(?:[^"]|"")*"|[^,"\n]*)(?:,("(?:[^"]|"")*"|[^,"\n]*))*')
            THEN list_transform(
                regexp_extract_all(line, '(?:^|,)("(?:[^"]|"")*"|[^,"]*)', 1),
                lambda f: CASE WHEN starts_with(f, '"') THEN replace(f[2:-2], '""', '"') ELSE f END)
    END);

-- Surrounding spaces and tabs removed. trim(text, characters) is slow (0.5 s on 2 M short
-- strings), so only the rare text that starts or ends with a blank pays for it.
CREATE OR REPLACE TEMP MACRO strip_blanks(text) AS
    if(text[1] IN (' ', E'\t') OR text[-1] IN (' ', E'\t'), trim(text, E' \t'), text);

-- A line of nothing but blanks (or a lone carriage return); NULL and '' are blank too.
CREATE OR REPLACE TEMP MACRO is_blank(text) AS
    coalesce(text, '') = ''
    OR (text[1] IN (' ', E'\t', E'\r') AND regexp_full_match(text, '[ \t\r]*'));

-- Checked by one match, then read by DuckDB's own cast, which takes every accepted spelling but
-- `UTC` without its space, `z` and tabs; only those rare rows pay for a second try. (Capturing
-- the parts with regexp_extract instead costs ten times as much.) The cast keeps microseconds
-- and drops further digits, and make_timestamptz(epoch_us(...)) reads the text as UTC whatever
-- the session's TimeZone setting is.
CREATE OR REPLACE TEMP MACRO parse_utc_timestamp(text) AS
    CASE WHEN regexp_full_match(
                text,
                '[ \t]*\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?: ?(?i:utc)|[zZ]|\+00:?00)?[ \t]*')
         THEN make_timestamptz(epoch_us(coalesce(
                try_cast(text AS TIMESTAMP),
                try_cast(regexp_replace(strip_blanks(text), '(?i) ?utc$|z$', '') AS TIMESTAMP))))
    END;

CREATE OR REPLACE TEMP MACRO parse_local_time(text) AS
    CASE WHEN regexp_full_match(strip_blanks(text), '\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?')
         THEN try_cast(strip_blanks(text) AS TIME) END;

-- One column that never splits: the delimiter is the unit separator, quoting is off. DuckDB
-- reads the file on every core and keeps its order (preserve_insertion_order, on by default):
-- stored by CREATE TABLE AS, line n is the table's row n. A row's rowid is its place in the
-- table, counted from 0 (or, in a transaction that made the table, from a large number), so
-- line = rowid - min(rowid) + 1: the parsing files number lines so, with no row_number() (whose
-- streaming runs on one thread) and no stored `line` column.
-- longest: the longest line read, in bytes (max_line_size); a longer one fails the whole read
-- with an engine error ("Maximum line size ... exceeded"). DuckDB reads the file through buffers
-- a little larger than that, and holds a buffer's worth of the file in memory: the default,
-- 1 GiB, reads every line csv_records can reject as too long (those over 1 MiB) but holds up to
-- 1.2 GB of the file; the loader reads with 2 MiB first, and again with 1 GiB only when a file
-- has a longer line (storemon/ingest.py, SHORT_LINES).
CREATE OR REPLACE TEMP MACRO file_lines(path, newline, longest := 1073741824) AS TABLE
    SELECT raw
    FROM read_csv(path, columns = {'raw': 'VARCHAR'}, header = false, delim = E'\x1f', quote = '',
                  escape = '', new_line = newline, auto_detect = false, strict_mode = false,
                  max_line_size = longest);

CREATE OR REPLACE TEMP MACRO numbered_lines(path, newline, longest := 1073741824) AS TABLE
    SELECT row_number() OVER () AS line, raw FROM file_lines(path, newline, longest := longest);

-- The longest record the loader parses, in bytes (1 MiB); a longer one is `line too long`.
CREATE OR REPLACE TEMP MACRO max_record_bytes() AS 1048576;

-- What a store_id may be: not empty, and at most store_id_max_length() characters, so that the
-- link to its page in a report (its id URL-encoded, up to 12 bytes a character) fits any
-- server's request line. store_id_problem gives the reason a row's id names no store (NULL: it
-- does), store_id_detail what was wrong.
CREATE OR REPLACE TEMP MACRO store_id_max_length() AS 512;
-- What a group label may be (store_groups.csv): not empty, at most group_max_length()
-- characters, no control characters (sql/load/14_group_rows.sql).
CREATE OR REPLACE TEMP MACRO group_max_length() AS 200;
CREATE OR REPLACE TEMP MACRO store_id_problem(id) AS CASE
    WHEN id = '' THEN 'missing store_id'
    WHEN length(id) > store_id_max_length() THEN 'store_id too long'
END;
CREATE OR REPLACE TEMP MACRO store_id_detail(id) AS CASE
    WHEN id = '' THEN 'store_id is empty'
    WHEN length(id) > store_id_max_length() THEN format(
        'store_id is {} characters long; an id has at most {} (its report links to its page by '
        'it): "{}..."', length(id), store_id_max_length(), left(id, 40))
END;
-- A store_id with control characters (NUL, \x01-\x1f, \x7f) names no store
-- (sql/load/20_stores.sql, and a batch's rows alike); the detail shows them as \xNN.
CREATE OR REPLACE TEMP MACRO has_control_characters(id) AS regexp_matches(id, '[\x00-\x1f\x7f]');
-- shown_controls: the text with each control character written as \xNN.
CREATE OR REPLACE TEMP MACRO shown_controls(text) AS
    array_to_string(list_transform(string_split(text, ''), lambda c: if(
        ord(c) < 32 OR ord(c) = 127, printf('\x%02x', ord(c)), c)), '');
CREATE OR REPLACE TEMP MACRO control_characters_detail(id) AS format(
    'store_id "{}" has control characters (shown as \xNN); they are not part of any id',
    shown_controls(id));

-- Records across lines (RFC 4180: a quoted field may hold line breaks). Only a line with an odd
-- number of quotes can open or close such a record, so only those lines are looked at (a file
-- without quotes pays one scan for `"`): each is paired with the next one, and the lines from
-- the first to the second, joined with the file's newline, are one record if they parse as a
-- record of `width` fields of at most max_record_bytes(). Pairs are taken in order, as a reader
-- going down the file would: when a pair does not parse, its first line stays a line of its own
-- (a `malformed CSV` row) and its second may open the next pair. So a stray quote in one line
-- never swallows the lines after it.
CREATE OR REPLACE TEMP MACRO csv_records(lines_table, width, newline) AS TABLE
    WITH
    odd_lines AS (
        SELECT line
        FROM query_table(lines_table)
        WHERE line > 1 AND contains(raw, '"')
          AND (strlen(raw) - strlen(replace(raw, '"', ''))) % 2 = 1
    ),
    pairs AS (
        SELECT row_number() OVER (ORDER BY line) AS k, line AS first_line,
               lead(line) OVER (ORDER BY line) AS last_line
        FROM odd_lines
    ),
    pair_lines AS (
        -- each line adds at least 2 bytes below (its text and a line break): a pair of more lines
        -- than max_record_bytes() / 2 is too long whatever they hold, and is not listed line by
        -- line (two stray quotes millions of lines apart would make a join of millions of rows)
        SELECT k, unnest(generate_series(first_line, last_line)) AS line
        FROM pairs
        WHERE last_line IS NOT NULL AND (last_line - first_line + 1) * 2 <= max_record_bytes()
    ),
    pair_texts AS (
        -- only pairs that could make a record short enough are joined into one text: a stray
        -- quote near the top and another near the end never become a whole file in memory
        SELECT k,
               string_agg(coalesce(lines.raw, ''),
                          if(newline = '\r\n', E'\r\n', E'\n') ORDER BY pair_lines.line) AS raw
        FROM pair_lines JOIN query_table(lines_table) AS lines USING (line)
        WHERE k IN (
            SELECT k FROM pair_lines JOIN query_table(lines_table) AS lines USING (line)
            GROUP BY k HAVING sum(strlen(coalesce(lines.raw, '')) + 2) <= max_record_bytes()
        )
        GROUP BY k
    ),
    pair_records AS (
        SELECT k, raw, csv_fields(raw) AS fields
        FROM (SELECT k, if(ends_with(raw, E'\r'), raw[:-2], raw) AS raw FROM pair_texts)
    ),
    judged_pairs AS (
        SELECT pairs.*, pair_records.raw, pair_records.fields,
               coalesce(len(pair_records.fields) = width
                        AND strlen(pair_records.raw) <= max_record_bytes(), false) AS parses
        FROM pairs LEFT JOIN pair_records USING (k)
    ),
    taken_pairs AS (
        -- In a run of pairs that parse, starting after one that does not, a reader takes the
        -- 1st, 3rd, 5th ...: the 2nd shares its first line with the end of the 1st.
        SELECT first_line, last_line, raw, fields
        FROM (
            SELECT *, k - coalesce(max(k) FILTER (WHERE NOT parses) OVER (
                           ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) - 1
                      AS into_run
            FROM judged_pairs
        )
        WHERE parses AND into_run % 2 = 0
    ),
    taken_lines AS (
        SELECT unnest(generate_series(first_line, last_line)) AS line FROM taken_pairs
    ),
    lines AS (
        SELECT line, if(ends_with(raw, E'\r'), raw[:-2], raw) AS raw
        FROM query_table(lines_table)
        WHERE line > 1 AND NOT is_blank(raw)  -- line 1 is the header
          AND line NOT IN (SELECT line FROM taken_lines)
    ),
    records AS (
        SELECT line, line AS last_line, raw, csv_fields(raw) AS fields FROM lines
        UNION ALL
        SELECT first_line, last_line, raw, fields FROM taken_pairs
    )
    SELECT
        line,
        last_line,
        if(strlen(raw) > max_record_bytes(), raw[:200] || ' ...', raw) AS raw,
        fields,
        CASE
            WHEN strlen(raw) > max_record_bytes() THEN 'line too long'
            WHEN fields IS NULL THEN 'malformed CSV'
            WHEN len(fields) <> width THEN 'wrong number of fields'
        END AS problem,
        CASE
            WHEN strlen(raw) > max_record_bytes()
                THEN format('the line is {:,} bytes; storemon reads lines of up to {:,} bytes '
                            '(raw shows its first 200 characters)', strlen(raw), max_record_bytes())
            WHEN fields IS NULL THEN 'a quote is not closed'
            WHEN len(fields) <> width
                THEN format('expected {} fields as in the header, found {}', width, len(fields))
        END AS problem_detail
    FROM records;
