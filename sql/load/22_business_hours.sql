-- Makes: business_hours — the usable weekly opening rows, one per distinct
-- (store, day_of_week, start_local, end_local), in the store's local time.
-- Rules: the load's inputs and rule 2 (defaults): day 0 = Monday ... 6 = Sunday. A store with no
-- row here is open 24x7; a store with rows is open only during them (the report builds intervals
-- from these).
-- Needs: hours_rows, stores.

CREATE OR REPLACE TABLE business_hours AS
SELECT DISTINCT stores.store_key, hours_rows.day_of_week, hours_rows.start_local, hours_rows.end_local
FROM hours_rows
JOIN stores USING (store_id)
WHERE hours_rows.reason IS NULL
ORDER BY ALL;
