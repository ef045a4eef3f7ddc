-- Makes: store_week_intervals (a view) — when one store was open during a report's week: its merged
-- business intervals that overlap [now - 168 h, now), whole (not cut at the week's ends), as
-- TIMESTAMPTZ and as text in its zone with the offset then.
-- Rules: 3 (business intervals) (what business_intervals holds), for the page of one store's week.
-- Needs: the report's files 00-05 run with the variables `as_of` (the report's now) and
-- `report_store` (the store_id), so that report_stores holds that store alone.

CREATE OR REPLACE TEMP VIEW store_week_intervals AS
WITH
final AS (
    SELECT
        make_timestamptz(open_us) AS opens_at,
        make_timestamptz(close_us) AS closes_at,
        local_text(open_us, timezone) AS opens_at_local,
        local_text(close_us, timezone) AS closes_at_local
    FROM business_intervals
    JOIN report_stores USING (store_key), report_window
    WHERE close_us > week_start_us AND open_us < now_us
)
SELECT * FROM final ORDER BY opens_at;
