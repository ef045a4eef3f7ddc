-- Makes: stores — adds the store ids a batch names in a usable row that no earlier row named,
-- numbered after the last store_key (keys only join; the report orders by store_id).
-- Rules: the load's inputs: store_id is opaque text.
-- Needs: batch_rows (the batch's parsed rows: a view over poll_rows, hours_rows or
-- timezone_rows), stores.

INSERT INTO stores
SELECT
    (SELECT coalesce(max(store_key), 0) FROM stores)
        + (row_number() OVER (ORDER BY store_id))::INTEGER AS store_key,
    store_id
FROM (SELECT DISTINCT store_id FROM batch_rows WHERE reason IS NULL)
ANTI JOIN stores USING (store_id);
