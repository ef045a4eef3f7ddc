-- Makes: the text-parsing macros the loader uses (no table).
--   csv_fields(line)          one CSV record (RFC 4180 quoting) -> list of field texts, or NULL
--                             when its quotes do not balance
--   parse_utc_timestamp(text) SPEC "Inputs": `YYYY-MM-DD HH:MM:SS[.f{1,9}]` with suffix ` UTC`,
--                             `Z`, `+00:00` or none -> TIMESTAMPTZ (kept to the microsecond:
--                             digits past the 6th are dropped), else NULL
--   parse_local_time(text)    SPEC "Inputs": `HH:MM` or `HH:MM:SS[.ffffff]` -> TIME, else NULL
--                             (24:00 parses; the hours loader allows it only as an end time)
--   csv_records(lines, width) the data rows in a table of numbered_lines (line 2 on, blank
--                             lines skipped): line, raw text, fields, and `problem` and
--                             `problem_detail` when the row is not a record of `width` fields
--   numbered_lines(path, newline)  every line of a file with its 1-based number (the header is
--                             line 1; blank lines come back NULL); newline is E'\n' or E'\r\n'
-- Runs on its own in the duckdb shell; the loader runs it first.

-- Written with if() rather than CASE: twice as fast for the common line without quotes.
CREATE OR REPLACE TEMP MACRO csv_fields(line) AS
    if(NOT contains(line, '"'), string_split(line, ','), CASE
        WHEN regexp_full_match(line, '("(?:[^"]|"")*"|[^,"]*)(?:,("(?:[^"]|"")*"|[^,"]*))*')
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

-- One column that never splits: the delimiter is the unit separator, quoting is off. The
-- streaming row_number() keeps the file's order but runs on one thread: store its result in a
-- table before parsing, so the parsing runs on every core (twice as fast on 2 cores).
CREATE OR REPLACE TEMP MACRO numbered_lines(path, newline) AS TABLE
    SELECT row_number() OVER () AS line, raw
    FROM read_csv(path, columns = {'raw': 'VARCHAR'}, header = false, delim = E'\x1f', quote = '',
                  escape = '', new_line = newline, auto_detect = false, strict_mode = false);

CREATE OR REPLACE TEMP MACRO csv_records(lines_table, width) AS TABLE
    WITH
    lines AS (
        SELECT line, if(ends_with(raw, E'\r'), raw[:-2], raw) AS raw
        FROM query_table(lines_table)
        WHERE line > 1 AND NOT is_blank(raw)  -- line 1 is the header
    ),
    split AS (
        SELECT line, raw, csv_fields(raw) AS fields FROM lines
    )
    SELECT
        line,
        raw,
        fields,
        CASE
            WHEN fields IS NULL THEN 'malformed CSV'
            WHEN len(fields) <> width THEN 'wrong number of fields'
        END AS problem,
        CASE
            WHEN fields IS NULL THEN 'a quote is not closed'
            WHEN len(fields) <> width
                THEN format('expected {} fields as in the header, found {}', width, len(fields))
        END AS problem_detail
    FROM split;
