-- Makes: store_groups, empty, in a database loaded before storemon took store groups (what
-- sql/load/22_store_groups.sql makes at every load now). Does nothing to a database that has it.
-- Needs: nothing.

CREATE TABLE IF NOT EXISTS store_groups (
    store_key INTEGER,
    group_name VARCHAR
);
