-- Makes: timezone_rows — every data line of the time-zone file (timezones.csv), parsed, with the
-- reason it cannot be used (`reason` NULL when it can).
-- Spec: "Inputs", time zones: an IANA zone name (matched without regard to case, stored in its
-- canonical spelling). A store given two different valid zones is ambiguous: all its rows are
-- rejected as `conflicting time zones`, and the store falls back to the default zone.
-- Needs: 00_parse_macros.sql; variables `timezones_file`, `timezones_newline` and `timezones_columns`
-- ({store_id, timezone_str: 1-based positions, fields: header width}).

CREATE OR REPLACE TEMP TABLE timezone_rows AS
WITH
lines AS (
    SELECT line, rtrim(raw, E'\r') AS raw
    FROM numbered_lines(getvariable('timezones_file'), getvariable('timezones_newline'))
    WHERE line > 1 AND trim(raw, E' \t\r') <> ''  -- line 1 is the header; blank lines are no rows
),
split AS (
    SELECT line, raw, csv_fields(raw) AS fields FROM lines
),
picked AS (
    SELECT
        line,
        raw,
        len(fields) AS field_count,
        trim(fields[getvariable('timezones_columns').store_id], E' \t') AS store_id,
        fields[getvariable('timezones_columns').timezone_str] AS zone_text
    FROM split
),
known_zones AS (
    SELECT lower(name) AS folded, min(name) AS name FROM pg_timezone_names() GROUP BY ALL
),
parsed AS (
    SELECT picked.*, known_zones.name AS timezone
    FROM picked
    LEFT JOIN known_zones ON known_zones.folded = lower(trim(picked.zone_text, E' \t'))
),
zones_per_store AS (
    SELECT store_id, count(DISTINCT timezone) AS zones
    FROM parsed
    WHERE timezone IS NOT NULL AND field_count = getvariable('timezones_columns').fields
    GROUP BY store_id
),
final AS (
    SELECT
        line,
        raw,
        parsed.store_id,
        timezone,
        CASE
            WHEN field_count IS NULL THEN 'malformed CSV'
            WHEN field_count <> getvariable('timezones_columns').fields THEN 'wrong number of fields'
            WHEN parsed.store_id = '' THEN 'missing store_id'
            WHEN timezone IS NULL THEN 'unknown time zone'
            WHEN zones > 1 THEN 'conflicting time zones'
        END AS reason,
        CASE reason
            WHEN 'malformed CSV' THEN 'a quote is not closed'
            WHEN 'wrong number of fields'
                THEN format('expected {} fields as in the header, found {}',
                            getvariable('timezones_columns').fields, field_count)
            WHEN 'missing store_id' THEN 'store_id is empty'
            WHEN 'unknown time zone'
                THEN format('"{}" is not an IANA time zone name (e.g. America/New_York)', zone_text)
            WHEN 'conflicting time zones'
                THEN format('store {} is given {} different zones; using the default', parsed.store_id, zones)
        END AS detail
    FROM parsed
    LEFT JOIN zones_per_store USING (store_id)
)
SELECT * FROM final;
