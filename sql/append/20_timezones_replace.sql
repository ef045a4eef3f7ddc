-- Makes: store_timezones — a batch's usable rows replace the zone of the stores they name;
-- other stores keep theirs.
-- Rules: "Updates": a batch of time zones replaces the zones of the stores it names with usable
-- rows. (Two different zones for one store in a batch are rejected when parsed.)
-- Needs: timezone_rows (the batch, parsed by sql/load/12_timezone_rows.sql), stores,
-- store_timezones.

DELETE FROM store_timezones
WHERE store_key IN (
    SELECT stores.store_key FROM timezone_rows JOIN stores USING (store_id)
    WHERE timezone_rows.reason IS NULL
);

INSERT INTO store_timezones
SELECT DISTINCT stores.store_key, timezone_rows.timezone
FROM timezone_rows
JOIN stores USING (store_id)
WHERE timezone_rows.reason IS NULL;
