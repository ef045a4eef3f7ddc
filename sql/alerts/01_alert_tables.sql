-- Makes: alert_state, alert_events and alert_hours, if missing (tables; a database loaded before
-- storemon kept alerts gets them empty, and its state is made at its next batch: 32_alert_state.sql;
-- one loaded before storemon kept alert_hours gets that empty, which it may be).
-- Rules: "Alerts" (sql/README.md): a store is down now when its last K evidence polls up to
-- now are all inactive.
--   alert_state: per store with polls, what the next batch needs to tell whether the
--     store is down now without reading its history again: its latest evidence poll (last_us),
--     (NULL: none yet), how many inactive evidence polls end its history (run_polls: 0 when the last is active),
--     the first of them (run_first_us) and the evidence poll before them (prior_us, NULL: none);
--     `down` is whether the store is in the down-now set as the events say (NULL: not decided
--     yet, as after a full load: decided with the first batch's K), `started_us` the first
--     instant of its outage's down time once it is down.
--   alert_events: the events, `seq` increasing from 1; `id` is stable (the batch and the store),
--     for receivers to count an event once.
--   alert_hours: a store's business time on a UTC day (`day`: epoch_us // 86400000000), as
--     the merged business intervals cut to that day, one row each (NULL, NULL: none that day),
--     for the days the alerts have asked for so far. A day is there with all its rows or not
--     at all. It is made by the report's files (sql/alerts/14_alert_hours_add.sql), and its rows
--     go when what they come from changes (sql/alerts/07_alert_hours_changed.sql: a batch of
--     hours, zones or special hours; a full load empties it), so what is there is true: the
--     alerts read a store's business time from it, by day, without converting its hours again.
-- Needs: nothing.

CREATE TABLE IF NOT EXISTS alert_state (
    store_key INTEGER PRIMARY KEY,
    last_us BIGINT,
    run_polls BIGINT NOT NULL,
    run_first_us BIGINT,
    prior_us BIGINT,
    down BOOLEAN,
    started_us BIGINT
);

CREATE TABLE IF NOT EXISTS alert_events (
    seq BIGINT PRIMARY KEY,
    id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,              -- 'down' or 'up'
    store_id VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL,
    "at" TIMESTAMPTZ NOT NULL,          -- the store's poll that made it (a keyword: quoted)
    started_at TIMESTAMPTZ NOT NULL,    -- the outage's first instant of down time
    polls BIGINT NOT NULL,              -- the outage's evidence polls so far
    down_hours DOUBLE,                  -- 'up' only: the outage's whole down time, in hours
    timezone VARCHAR NOT NULL,
    at_local VARCHAR NOT NULL,          -- `at` in the store's zone: '2023-01-22 09:15:00-06:00'
    started_local VARCHAR NOT NULL,
    groups VARCHAR[] NOT NULL,          -- the store's groups when the event was made
    created_at TIMESTAMPTZ NOT NULL     -- when the batch was committed
);

CREATE TABLE IF NOT EXISTS alert_hours (
    store_key INTEGER NOT NULL,
    day BIGINT NOT NULL,                -- the UTC day: epoch_us // 86400000000
    open_us BIGINT,                     -- [open_us, close_us) inside the day; NULL: closed all day
    close_us BIGINT
);
