-- Makes: alert_stores — the stores whose down-now state is decided again: those of
-- `alert_named` (a batch's usable rows; at a full load, every store with polls); with each
-- store's state before (alert_state's columns, NULL for a store without one) and whether it goes
-- the fast way. Also `alert_polls`: the polls to read for them.
-- Rules: "Alerts" (sql/README.md): only the stores a batch names can change state (the others'
-- polls, hours and zone are unchanged, and so are their last K evidence polls). A store goes the
-- fast way when the batch is of polls each later than its latest evidence poll (the hourly
-- case; a store with polls and no state has no polls yet) or older than its last active one
-- (a late poll that cannot change its tail): its state then follows from its state before and
-- the batch's later polls alone. Any other store's state is computed again from all its polls: a
-- batch of hours, zones or special hours, a poll at or before its latest evidence poll, a store
-- without state, every store at a full load. A store that would go the fast way with no poll to
-- read (its polls were all late ones, older than its last active evidence poll) keeps its state:
-- it is not decided again.
-- Variables: alert_baseline (true at a full load), alert_after (K).
-- Needs: alert_named (sql/alerts/06_alert_named.sql, 08_alert_special_near.sql), alert_state,
-- polls, store_timezones.

CREATE OR REPLACE TEMP TABLE alert_stores AS
WITH
-- A poll older than the store's last active evidence poll (its last evidence poll, when that is
-- active) cannot change its tail; one later than its last evidence poll extends it (the fast
-- way). Any other (between the two, or at either instant) sends it the slow way.
named AS (
    SELECT
        named.store_key,
        any_value(named.store_id) AS store_id,
        bool_and(named.at_us IS NOT NULL) AS of_polls,
        coalesce(bool_or(named.at_us BETWEEN coalesce(if(state.run_polls > 0, state.prior_us,
                                                         state.last_us),
                                                      -9223372036854775807)
                                         AND state.last_us), false) AS late,
        coalesce(bool_or(named.at_us > state.last_us OR state.last_us IS NULL), false) AS later
    FROM alert_named AS named
    LEFT JOIN alert_state AS state USING (store_key)
    GROUP BY named.store_key
),
final AS (
    SELECT
        store_key,
        named.store_id,
        coalesce(store_timezones.timezone, 'America/Chicago') AS timezone,
        named.of_polls AND NOT getvariable('alert_baseline') AND NOT named.late AS fast,
        state.last_us,
        coalesce(state.run_polls, 0) AS run_polls,
        state.run_first_us,
        state.prior_us,
        coalesce(state.down, state.run_polls >= getvariable('alert_after'), false) AS down_before,
        state.started_us AS started_before_us
    FROM named
    LEFT JOIN store_timezones USING (store_key)
    LEFT JOIN alert_state AS state USING (store_key)  -- (emptied first at a full load)
    WHERE NOT (named.of_polls AND NOT getvariable('alert_baseline') AND NOT named.late)
       OR named.later
)
SELECT * FROM final;

-- The polls to read: a fast store's are the batch's after its last evidence poll (its earlier
-- polls after that one, if any, were taken while it was closed, and its hours have not
-- changed), any other's all its polls.
CREATE OR REPLACE TEMP TABLE alert_polls AS
SELECT named.store_key, named.at_us, bool_and(named.active) AS active
FROM alert_named AS named
JOIN alert_stores AS stores USING (store_key)
WHERE stores.fast
  AND (stores.last_us IS NULL OR named.at_us > stores.last_us)
GROUP BY ALL
UNION ALL
SELECT polls.store_key, epoch_us(polls.timestamp_utc), polls.active
FROM polls
SEMI JOIN (SELECT store_key FROM alert_stores WHERE NOT fast) USING (store_key);
