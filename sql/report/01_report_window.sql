-- Makes: report_window — the report's `now` and the three rolling windows, as one row.
-- Spec: "Report time and windows": now is the latest poll, or the `as of` instant when one is
-- given (polls after it are ignored); windows are [now - 1 h, now), [now - 24 h, now) and
-- [now - 168 h, now) in absolute time. Instants inside the pipeline are epoch microseconds.
-- Set `as_of` first for a report as of another instant (the offset matters):
--     SET VARIABLE as_of = TIMESTAMPTZ '2023-01-25 12:00:00+00';
-- Needs: polls.

CREATE OR REPLACE TEMP TABLE report_window AS
WITH
latest_poll AS (
    SELECT max(timestamp_utc) AS timestamp_utc FROM polls
),
report_now AS (
    SELECT coalesce(getvariable('as_of')::TIMESTAMPTZ, timestamp_utc) AS as_of FROM latest_poll
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
