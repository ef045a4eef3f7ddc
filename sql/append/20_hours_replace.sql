-- Makes: business_hours — a batch's usable rows replace all the hours of the stores they name;
-- other stores keep theirs.
-- Rules: "Updates": a batch of business hours replaces all the hours of the stores it names with
-- usable rows.
-- Needs: hours_rows (the batch, parsed by sql/load/11_hours_rows.sql), stores, business_hours.

DELETE FROM business_hours
WHERE store_key IN (
    SELECT stores.store_key FROM hours_rows JOIN stores USING (store_id)
    WHERE hours_rows.reason IS NULL
);

INSERT INTO business_hours
SELECT DISTINCT stores.store_key, hours_rows.day_of_week, hours_rows.start_local, hours_rows.end_local
FROM hours_rows
JOIN stores USING (store_id)
WHERE hours_rows.reason IS NULL;
