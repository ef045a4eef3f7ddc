-- Makes: timezone_rows — every data line of the time-zone file (timezones.csv), parsed, with the
-- reason it cannot be used (`reason` NULL when it can).
-- Uses timezone_lines: the file's lines in order (line n is its row n: see file_lines), stored
-- so the parsing runs on all cores, and dropped once timezone_rows is made (the whole
-- file's text).
-- Rules: the load's inputs, time zones: an IANA zone name, matched without regard to case and
-- stored in its canonical spelling: one of the variable `zone_names` (storemon/zones.py: the IANA
-- database's names) that ICU knows. Names ICU alone takes (CST, SystemV/AST4, ...) are rejected,
-- saying so. A store given two different valid zones is ambiguous: all its rows are rejected as
-- `conflicting time zones`, and the store falls back to the default zone.
-- Needs: 00_parse_macros.sql; variables `zone_names`, `timezones_file` (path),
-- `timezones_newline` (\n or \r\n) and `timezones_columns`
-- ({store_id, timezone_str: 1-based positions, fields: header width}).
-- Optional: `timezones_read_from`, the file the bytes are read from when it is not
-- `timezones_file` (the UTF-8 transcoding of a UTF-16 file); rows name `timezones_file`.
-- Optional: `timezones_max_line_size`, the longest line read in bytes (default 1 GiB; see
-- file_lines).

CREATE OR REPLACE TEMP TABLE timezone_lines AS
SELECT raw FROM file_lines(
    coalesce(getvariable('timezones_read_from'), getvariable('timezones_file')),
    getvariable('timezones_newline'),
    longest := coalesce(getvariable('timezones_max_line_size'), 1073741824)
);

-- line numbers (see file_lines), the first rowid held as a constant
SET VARIABLE timezones_first_rowid = (SELECT min(rowid) FROM timezone_lines);
CREATE OR REPLACE TEMP VIEW timezone_numbered AS
SELECT rowid - getvariable('timezones_first_rowid') + 1 AS line, raw FROM timezone_lines;

CREATE OR REPLACE TEMP TABLE timezone_rows AS
WITH
records AS (
    SELECT *
    FROM csv_records('timezone_numbered', getvariable('timezones_columns').fields,
                     getvariable('timezones_newline'))
),
picked AS (
    SELECT
        line,
        raw,
        problem,
        problem_detail,
        strip_blanks(fields[getvariable('timezones_columns').store_id]) AS store_id,
        fields[getvariable('timezones_columns').timezone_str] AS zone_text
    FROM records
),
known_zones AS (
    SELECT lower(name) AS folded, min(name) AS name
    FROM pg_timezone_names()
    WHERE list_contains(getvariable('zone_names'), name)
    GROUP BY ALL
),
-- Names ICU takes that are no IANA zone (CST, IST, SystemV/AST4, ...): said apart.
icu_only AS (
    SELECT DISTINCT lower(name) AS folded FROM pg_timezone_names()
    WHERE lower(name) NOT IN (SELECT folded FROM known_zones)
),
parsed AS (
    SELECT
        picked.*,
        known_zones.name AS timezone,
        lower(strip_blanks(picked.zone_text)) IN (SELECT folded FROM icu_only) AS icu_only
    FROM picked
    LEFT JOIN known_zones ON known_zones.folded = lower(strip_blanks(picked.zone_text))
),
zones_per_store AS (
    SELECT store_id, count(DISTINCT timezone) AS zones
    FROM parsed
    WHERE timezone IS NOT NULL AND problem IS NULL
    GROUP BY store_id
),
-- the reason first, then its detail (a detail naming the reason's alias in the same SELECT
-- would copy its whole expression)
reasons AS (
    SELECT
        parsed.*,
        zones,
        CASE
            WHEN problem IS NOT NULL THEN problem
            WHEN store_id_problem(parsed.store_id) IS NOT NULL THEN store_id_problem(parsed.store_id)
            WHEN timezone IS NULL THEN 'unknown time zone'
            WHEN zones > 1 THEN 'conflicting time zones'
        END AS reason
    FROM parsed
    LEFT JOIN zones_per_store USING (store_id)
),
final AS (
    SELECT
        line,
        raw,
        store_id,
        timezone,
        reason,
        coalesce(problem_detail, CASE reason
            WHEN 'missing store_id' THEN store_id_detail(store_id)
            WHEN 'store_id too long' THEN store_id_detail(store_id)
            WHEN 'unknown time zone' THEN if(icu_only,
                format('"{}" is not an IANA time zone name but an abbreviation or a retired name, '
                       'which tools read differently (IST: India, Ireland or Israel); give the '
                       'IANA name (e.g. America/Chicago for CST)', strip_blanks(zone_text)),
                format('"{}" is not an IANA time zone name (e.g. America/New_York)', zone_text))
            WHEN 'conflicting time zones'
                THEN format('store {} is given {} different zones; using America/Chicago', store_id, zones)
        END) AS detail
    FROM reasons
)
SELECT * FROM final;

DROP VIEW timezone_numbered;
DROP TABLE timezone_lines;
