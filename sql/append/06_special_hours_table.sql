-- Makes: special_hours, empty, in a database loaded before storemon took special hours (what
-- sql/load/22_special_hours.sql makes at every load now). Does nothing to a database that has it.
-- Needs: nothing.

CREATE TABLE IF NOT EXISTS special_hours (
    store_key INTEGER,
    local_date DATE,
    start_local TIME,
    end_local TIME
);
