-- Makes: store_timezones — one IANA zone per store that has a usable time-zone row.
-- Rules: 2 (defaults): a store without one is in America/Chicago (the report applies the default).
-- Needs: timezone_rows (conflicting zones are already rejected there), stores.

CREATE OR REPLACE TABLE store_timezones AS
SELECT DISTINCT stores.store_key, timezone_rows.timezone
FROM timezone_rows
JOIN stores USING (store_id)
WHERE timezone_rows.reason IS NULL
ORDER BY ALL;
