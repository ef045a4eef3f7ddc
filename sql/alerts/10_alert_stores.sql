-- Makes: report_stores — here the stores whose down-now state is decided again: those
-- `alert_batch` names (a batch's usable rows; at a full load, every store with polls); with each
-- store's state before (alert_state's columns, NULL for a store without one) and whether it can
-- go the fast way. Also `alert_polls`: the polls to read for them.
-- Rules: "Alerts" (sql/README.md): only the stores a batch names can change state (the others'
-- polls, hours and zone are unchanged, and so are their last K evidence polls). A store goes the
-- fast way when the batch is of polls and all of them are later than its latest evidence poll
-- (the hourly case; a store with polls and no state has no polls yet): its state then follows
-- from its state before and the batch's polls alone. Any other store's state is computed again from all its polls: a batch of
-- hours, zones or special hours, a poll at or before its latest evidence poll, a store without
-- state, every store at a full load.
-- Named report_stores (with the report's columns first) so that sql/report/03_business_dates.sql
-- makes its views (weekly_hours, special_days, business_special_rows) over these stores.
-- Variables: alert_baseline (true at a full load), alert_after (K).
-- Needs: alert_state, alert_batch (the batch's usable rows: store_id, and in a batch of polls
-- the poll's timestamp_utc and active, else NULL), polls, stores, store_timezones, business_hours.

CREATE OR REPLACE TEMP TABLE report_stores AS
WITH
named AS (
    SELECT
        stores.store_key,
        min(epoch_us(alert_batch.timestamp_utc)) AS first_us,
        bool_and(alert_batch.timestamp_utc IS NOT NULL) AS of_polls
    FROM alert_batch
    JOIN stores USING (store_id)
    GROUP BY ALL
),
with_hours AS (
    SELECT DISTINCT store_key FROM business_hours SEMI JOIN named USING (store_key)
),
final AS (
    SELECT
        store_key,
        stores.store_id,
        coalesce(store_timezones.timezone, 'America/Chicago') AS timezone,
        with_hours.store_key IS NOT NULL AS has_hours,
        coalesce(named.of_polls AND NOT getvariable('alert_baseline')
                 AND (state.last_us IS NULL OR named.first_us > state.last_us), false) AS fast,
        state.last_us,
        coalesce(state.run_polls, 0) AS run_polls,
        state.run_first_us,
        state.prior_us,
        coalesce(state.down, state.run_polls >= getvariable('alert_after'), false) AS down_before,
        state.started_us AS started_before_us
    FROM named
    JOIN stores USING (store_key)
    LEFT JOIN store_timezones USING (store_key)
    LEFT JOIN with_hours USING (store_key)
    LEFT JOIN alert_state AS state USING (store_key)  -- (emptied first at a full load)
)
SELECT * FROM final;

-- The polls to read: a fast store's are the batch's (its earlier polls after last_us, if any,
-- were taken while it was closed, and its hours have not changed), any other's all its polls.
CREATE OR REPLACE TEMP TABLE alert_polls AS
SELECT stores.store_key, epoch_us(alert_batch.timestamp_utc) AS at_us,
    bool_and(alert_batch.active) AS active
FROM alert_batch
JOIN report_stores AS stores USING (store_id)
WHERE stores.fast
GROUP BY ALL
UNION ALL
SELECT polls.store_key, epoch_us(polls.timestamp_utc), polls.active
FROM polls
SEMI JOIN (SELECT store_key FROM report_stores WHERE NOT fast) USING (store_key);
