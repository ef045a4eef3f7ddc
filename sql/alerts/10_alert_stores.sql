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
-- batch of hours, zones or special hours, a poll at or before its latest evidence poll, every
-- store at a full load. (A store without state has had no polls: it goes the fast way.) A store
-- that would go the fast way with no poll to read (its polls were all late ones, older than its
-- last active evidence poll) keeps its state: it is not decided again.
-- Variables: alert_baseline (true at a full load), alert_after (K).
-- Needs: alert_named (sql/alerts/06_alert_named.sql, 08_alert_special_near.sql), alert_state,
-- polls.

CREATE OR REPLACE TEMP TABLE alert_stores AS
WITH
-- A poll older than the store's last active evidence poll (its last evidence poll, when that is
-- active) cannot change its tail; one later than its last evidence poll extends it (the fast
-- way). Any other (between the two, or at either instant) sends it the slow way.
named AS (
    SELECT
        named.store_key,
        bool_and(named.at_us IS NOT NULL) AS of_polls,
        coalesce(bool_or(named.at_us BETWEEN coalesce(if(state.run_polls > 0, state.prior_us,
                                                         state.last_us),
                                                      -9223372036854775807)
                                         AND state.last_us), false) AS late,
        coalesce(bool_or(named.at_us > state.last_us OR state.last_us IS NULL), false) AS later,
        -- (the store's state: one row, or none)
        any_value(state.store_key) IS NOT NULL AS has_state,
        any_value(state.last_us) AS last_us,
        coalesce(any_value(state.run_polls), 0) AS run_polls,
        any_value(state.run_first_us) AS run_first_us,
        any_value(state.prior_us) AS prior_us,
        any_value(state.down) AS state_down,
        any_value(state.started_us) AS started_before_us
    FROM alert_named AS named
    LEFT JOIN alert_state AS state USING (store_key)  -- (emptied first at a full load)
    GROUP BY named.store_key
),
final AS (
    SELECT
        store_key,
        of_polls AND NOT getvariable('alert_baseline') AND NOT late AS fast,
        last_us,
        run_polls,
        run_first_us,
        prior_us,
        coalesce(state_down, run_polls >= getvariable('alert_after'), false) AS down_before,
        started_before_us,
        has_state,
        state_down
    FROM named
    WHERE NOT (of_polls AND NOT getvariable('alert_baseline') AND NOT late) OR later
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
