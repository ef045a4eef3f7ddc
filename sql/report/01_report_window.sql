-- Makes: report_window — the report's `now` and the three rolling windows, as one row.
-- Rules: 1 (now and the windows): now is the latest poll, or the `as of` instant when one is
-- given (polls after it are ignored); windows are [now - 1 h, now), [now - 24 h, now) and
-- [now - 168 h, now) in absolute time. Instants inside the pipeline are epoch microseconds.
-- An `as of` must lie from the first poll to the latest poll + 7 days (168 h), both included;
-- any other (or any, when no poll is loaded) stops the report with an error naming that range.
-- Set `as_of` first for a report as of another instant (the offset matters):
--     SET VARIABLE as_of = TIMESTAMPTZ '2023-01-25 12:00:00+00';
-- Optional: variable `as_of_checked` true: the caller checked the range over all of the data,
-- of which `polls` holds a part (a cluster's bucket, storemon/cluster.py), so it is not checked
-- again here.
-- Needs: polls; the macros of 00_report_macros.sql.

CREATE OR REPLACE TEMP TABLE report_window AS
WITH
loaded_polls AS (
    SELECT
        max(timestamp_utc) AS latest_poll,
        epoch_us(min(timestamp_utc)) AS first_us,
        epoch_us(max(timestamp_utc)) + as_of_reach_hours() * 3600000000 AS reach_us
    FROM polls
),
asked AS (
    SELECT getvariable('as_of')::TIMESTAMPTZ AS as_of
),
-- Instants in the message are shown in UTC whatever the session's TimeZone is.
report_now AS (
    SELECT CASE
        WHEN as_of IS NULL THEN latest_poll
        WHEN epoch_us(as_of) BETWEEN first_us AND reach_us THEN as_of
        WHEN coalesce(getvariable('as_of_checked'), false) THEN as_of
        WHEN first_us IS NULL THEN error(format(
            'as_of {}+00 cannot be used: no polls are loaded', make_timestamp(epoch_us(as_of))))
        ELSE error(format(
            'as_of {}+00 is outside the loaded polls: choose an instant from {}+00 to {}+00 (UTC)',
            make_timestamp(epoch_us(as_of)), make_timestamp(first_us), make_timestamp(reach_us)))
    END AS as_of
    FROM loaded_polls, asked
),
final AS (
    SELECT
        as_of,
        epoch_us(as_of) AS now_us,
        epoch_us(as_of) - 3600000000 AS hour_start_us,
        epoch_us(as_of) - 24 * 3600000000 AS day_start_us,
        epoch_us(as_of) - 168 * 3600000000 AS week_start_us
    FROM report_now
)
SELECT * FROM final;
