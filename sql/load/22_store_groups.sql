-- Makes: store_groups — the groups of each store (owner, brand, region, ...), one row per
-- distinct (store, group).
-- Rules: "Groups" (sql/README.md): a store may be in several groups; the report's roll-ups
-- (sql/rollups/) add up the stores of each group.
-- Needs: group_rows, stores.

CREATE OR REPLACE TABLE store_groups AS
SELECT DISTINCT stores.store_key, rows.group_name
FROM group_rows AS rows
JOIN stores USING (store_id)
WHERE rows.reason IS NULL
ORDER BY ALL;
