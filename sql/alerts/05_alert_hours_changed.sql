-- Makes: alert_hours without the days a batch of hours, zones or special hours changes (its rows
-- are deleted; the alerts make them again when they next ask for them).
-- Rules: "Alerts" (sql/README.md): a batch of hours or zones replaces all the hours (the zone) of
-- the stores it names, so every day of theirs goes. One of special hours replaces the rows of
-- each (store, local date D) it names: the intervals that open on D lie within the UTC days
-- D - 1 to D + 2 (zones are 14 hours from UTC at most, an interval lasts at most to D + 2
-- 00:00 local), so the store's UTC days D - 2 to D + 3 go (a margin: a day more on each side).
-- Needs: alert_batch (the batch's usable rows: store_id, and in one of special hours its
-- local_date, else NULL), stores, alert_hours.

DELETE FROM alert_hours
WHERE (store_key, day) IN (
    SELECT (stores.store_key, days.day)
    FROM alert_batch
    JOIN stores USING (store_id),
    LATERAL (SELECT unnest(range(epoch_us(local_date::TIMESTAMP) // 86400000000 - 2,
                                 epoch_us(local_date::TIMESTAMP) // 86400000000 + 4)) AS day)
        AS days
    WHERE alert_batch.local_date IS NOT NULL
)
   OR store_key IN (
    SELECT stores.store_key
    FROM alert_batch
    JOIN stores USING (store_id)
    WHERE alert_batch.local_date IS NULL
);
