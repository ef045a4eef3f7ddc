-- Makes: ids_beside_polls (view) — the store ids named by a usable row of the inputs other than
-- the polls: business hours, zones, special hours, groups.
-- Rules: the load's inputs: every store named by a usable row of any input is a store. With the
-- polls' ids, these are a load's stores (20_stores.sql); a cluster's report task whose polls
-- were keyed by a compaction adds the ones named since to the compaction's stores
-- (sql/cluster/10_bucket_stores.sql).
-- Needs: hours_rows, timezone_rows, special_hours_rows, group_rows (11-14, or a cluster's
-- sql/cluster/02-05).

CREATE OR REPLACE TEMP VIEW ids_beside_polls AS
SELECT store_id FROM hours_rows WHERE reason IS NULL
UNION
SELECT store_id FROM timezone_rows WHERE reason IS NULL
UNION
SELECT store_id FROM special_hours_rows WHERE reason IS NULL
UNION
SELECT store_id FROM group_rows WHERE reason IS NULL;
