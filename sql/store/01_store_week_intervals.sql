-- Makes: store_week_intervals (a view) — when each store of report_stores was open during a
-- report's week: its merged business intervals that overlap [now - 168 h, now), whole (not cut
-- at the week's ends), as epoch microseconds, with its zone and the zone's offset at each end
-- (the service shows them in UTC and in that zone).
-- Rules: 3 (business intervals) (what business_intervals holds), for the page of one store's week.
-- Needs: the report's files 00-05 run with the variable `as_of` (the report's now), and
-- `report_store` (a store_id) for one store alone, or none for every store of the report.

CREATE OR REPLACE TEMP VIEW store_week_intervals AS
WITH
final AS (
    SELECT
        store_key,
        open_us,
        close_us,
        timezone,
        zone_offset_us(open_us, timezone) AS open_offset_us,
        zone_offset_us(close_us, timezone) AS close_offset_us
    FROM business_intervals
    JOIN report_stores USING (store_key), report_window
    WHERE close_us > week_start_us AND open_us < now_us
)
SELECT * FROM final;
