-- Makes: store_groups — a batch's usable rows replace all the groups of the stores they name;
-- other stores keep theirs.
-- Rules: "Updates": a batch of store groups replaces all the groups of the stores it names
-- with usable rows.
-- Needs: group_rows (the batch, parsed by sql/load/14_group_rows.sql), stores, store_groups.

DELETE FROM store_groups
WHERE store_key IN (
    SELECT stores.store_key FROM group_rows JOIN stores USING (store_id)
    WHERE group_rows.reason IS NULL
);

INSERT INTO store_groups
SELECT DISTINCT stores.store_key, group_rows.group_name
FROM group_rows
JOIN stores USING (store_id)
WHERE group_rows.reason IS NULL;
