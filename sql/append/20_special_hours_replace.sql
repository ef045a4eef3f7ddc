-- Makes: special_hours — a batch's usable rows replace, for each (store, local date) they name,
-- that store's special rows for that date; other dates and stores keep theirs.
-- Rules: "Updates": a batch of special hours replaces, for each (store, date) it names with a
-- usable row, that store's special rows for that date.
-- Needs: special_hours_rows (the batch, parsed by sql/load/13_special_hours_rows.sql), stores,
-- special_hours.

CREATE OR REPLACE TEMP TABLE batch_special_hours AS
SELECT DISTINCT stores.store_key, rows.local_date, rows.start_local, rows.end_local
FROM special_hours_rows AS rows
JOIN stores USING (store_id)
WHERE rows.reason IS NULL;

DELETE FROM special_hours
USING (SELECT DISTINCT store_key, local_date FROM batch_special_hours) AS named
WHERE special_hours.store_key = named.store_key AND special_hours.local_date = named.local_date;

INSERT INTO special_hours SELECT * FROM batch_special_hours;

DROP TABLE batch_special_hours;
