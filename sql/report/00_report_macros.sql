-- Makes: macros — the report's helpers for local time (no table):
--   opens_us(zone, local_date, start_local)            the UTC instant (epoch us) a weekly row's
--   closes_us(zone, local_date, start_local, end_local) interval opens / closes on a local date
--                             (rule 3: end <= start closes the next day; a
--                             repeated local time is the later instant, a skipped one is read with
--                             the offset before the jump: DuckDB's ICU `timezone()` does both)
--   offset_text(offset_us)    a zone's offset as text: '+05:30', '-06:00'
--   wall_text(wall_us)        a wall-clock instant (epoch us of the local TIMESTAMP) as text, to
--                             the second: '2023-01-22 09:15:00'
--   zone_offset_us(at_us, zone)  the zone's offset from UTC at an instant, in us (ICU)
--   local_text(at_us, zone)   an instant as the zone's wall clock, to the second, with its offset
--                             then: '2023-01-22 09:15:00-06:00' (ICU conversions per call: for a
--                             few rows; store_outages converts many a faster way). The service
--                             writes a store's week the same way in Python from at_us and
--                             zone_offset_us (storemon/instants.py, local_text; a test holds the
--                             two alike)
--   as_of_reach_hours()       how far past the latest poll an `as of` may lie: 168 (rule 1;
--                             storemon reads the number from here)
--   uptime_ratio(up_us, down_us)  uptime / (uptime + downtime), to 4 decimals; NULL when both
--                             are 0 ("Groups: roll-ups": a group's, and a store's own, per window)
-- Needs: nothing. Runs on its own in the duckdb shell; the report runs it first.

CREATE OR REPLACE TEMP MACRO as_of_reach_hours() AS 168;

CREATE OR REPLACE TEMP MACRO uptime_ratio(up_us, down_us) AS
    CASE WHEN up_us + down_us > 0 THEN round(up_us / (up_us + down_us), 4)::DECIMAL(5, 4) END;

-- A zone's offset (local minus UTC, us) through a local date and the next (48 hours from its
-- midnight: every interval opening on the date closes within them), or NULL if it changes
-- there: the same at the three midnights. Where it holds, a local time becomes UTC by
-- subtraction, the same instant ICU gives, and far faster than a conversion per row.
CREATE OR REPLACE TEMP MACRO steady_offset_us(zone, local_date) AS
    CASE WHEN epoch_us(local_date::TIMESTAMP) - epoch_us(timezone(zone, local_date::TIMESTAMP))
              = epoch_us((local_date + 1)::TIMESTAMP)
                - epoch_us(timezone(zone, (local_date + 1)::TIMESTAMP))
          AND epoch_us(local_date::TIMESTAMP) - epoch_us(timezone(zone, local_date::TIMESTAMP))
              = epoch_us((local_date + 2)::TIMESTAMP)
                - epoch_us(timezone(zone, (local_date + 2)::TIMESTAMP))
         THEN epoch_us(local_date::TIMESTAMP) - epoch_us(timezone(zone, local_date::TIMESTAMP))
    END;

CREATE OR REPLACE TEMP MACRO opens_us(zone, local_date, start_local) AS
    epoch_us(timezone(zone, local_date + start_local));

CREATE OR REPLACE TEMP MACRO closes_us(zone, local_date, start_local, end_local) AS
    epoch_us(timezone(zone, CASE WHEN end_local > start_local THEN local_date + end_local
                                 ELSE local_date + 1 + end_local END));

-- opens_us and closes_us given the date's steady offset (NULL: they convert)
CREATE OR REPLACE TEMP MACRO opens_at_us(zone, local_date, start_local, steady_us) AS
    CASE WHEN steady_us IS NULL THEN opens_us(zone, local_date, start_local)
         ELSE epoch_us(local_date + start_local) - steady_us END;

CREATE OR REPLACE TEMP MACRO closes_at_us(zone, local_date, start_local, end_local, steady_us) AS
    CASE WHEN steady_us IS NULL THEN closes_us(zone, local_date, start_local, end_local)
         ELSE epoch_us(CASE WHEN end_local > start_local THEN local_date + end_local
                            ELSE local_date + 1 + end_local END) - steady_us END;

-- (Casts and concatenation: twice as fast as strftime() and format() on many rows.)
CREATE OR REPLACE TEMP MACRO offset_text(offset_us) AS
    if(offset_us < 0, '-', '+') || lpad((abs(offset_us) // 3600000000)::VARCHAR, 2, '0') || ':'
    || lpad((abs(offset_us) // 60000000 % 60)::VARCHAR, 2, '0');

CREATE OR REPLACE TEMP MACRO wall_text(wall_us) AS
    date_trunc('second', make_timestamp(wall_us))::VARCHAR;

CREATE OR REPLACE TEMP MACRO zone_offset_us(at_us, zone) AS
    epoch_us(timezone(zone, make_timestamptz(at_us))) - at_us;

CREATE OR REPLACE TEMP MACRO local_text(at_us, zone) AS
    wall_text(at_us + zone_offset_us(at_us, zone)) || offset_text(zone_offset_us(at_us, zone));
