-- Makes: report_stores — here the stores whose down-now state is decided again: those
-- `alert_batch` names (a batch's usable rows; at a full load, every store with polls); with each
-- store's state before (alert_state's columns, NULL for a store without one) and whether it can
-- go the fast way. Also `alert_polls`: the polls to read for them.
-- Rules: "Alerts" (sql/README.md): only the stores a batch names can change state (the others'
-- polls, hours and zone are unchanged, and so are their last K evidence polls). A store goes the
-- fast way when the batch is of polls each later than its latest evidence poll (the hourly
-- case; a store with polls and no state has no polls yet) or older than its last active one
-- (a late poll that cannot change its tail): its state then follows from its state before and
-- the batch's later polls alone. Any other store's state is computed again from all its polls: a batch of
-- hours, zones or special hours, a poll at or before its latest evidence poll, a store without
-- state, every store at a full load.
-- Named report_stores (with the report's columns first) so that sql/report/03_business_dates.sql
-- makes its views (weekly_hours, special_days, business_special_rows) over these stores.
-- Variables: alert_baseline (true at a full load), alert_after (K).
-- Needs: alert_state, alert_batch (the batch's usable rows: store_id, and in a batch of polls
-- the poll's timestamp_utc and active, in one of special hours its local_date, else NULL), polls, stores, store_timezones, business_hours.

CREATE OR REPLACE TEMP TABLE report_stores AS
WITH
-- A batch of special hours changes only the intervals of the dates it names: a store's state
-- can change only if it has a poll near one of them (an interval opening on local date D lies
-- within D - 1 day and D + 3 days in UTC), or if its outage's start is looked for across one.
-- Holidays sent weeks ahead change nobody's state, and no store's polls are read for them.
special_dates AS (
    SELECT store_id, epoch_us(local_date::TIMESTAMP) AS date_us
    FROM alert_batch
    WHERE local_date IS NOT NULL
),
near_special AS (
    SELECT DISTINCT stores.store_key
    FROM special_dates
    JOIN stores USING (store_id)
    JOIN polls
      ON polls.store_key = stores.store_key
     AND epoch_us(polls.timestamp_utc) BETWEEN date_us - 2 * 86400000000
                                           AND date_us + 3 * 86400000000
    WHERE polls.timestamp_utc
          >= make_timestamptz((SELECT min(date_us) FROM special_dates) - 2 * 86400000000)
    UNION
    SELECT state.store_key
    FROM special_dates
    JOIN stores USING (store_id)
    JOIN alert_state AS state
      ON state.store_key = stores.store_key
     AND state.run_polls > 0
     AND date_us BETWEEN coalesce((state.prior_us + state.run_first_us) // 2,
                                  state.run_first_us - 168 * 3600000000) - 3 * 86400000000
                     AND state.run_first_us + 3 * 86400000000
),
-- A poll older than the store's last active evidence poll (its last evidence poll, when that is
-- active) cannot change its tail; one later than its last evidence poll extends it (the fast
-- way). Any other (between the two, or at either instant) sends it the slow way.
late AS (
    SELECT DISTINCT state.store_key
    FROM alert_batch
    JOIN stores USING (store_id)
    JOIN alert_state AS state USING (store_key)
    WHERE epoch_us(alert_batch.timestamp_utc)
          BETWEEN coalesce(if(state.run_polls > 0, state.prior_us, state.last_us),
                           -9223372036854775807)
              AND state.last_us
),
named AS (
    SELECT
        stores.store_key,
        bool_and(alert_batch.timestamp_utc IS NOT NULL) AS of_polls
    FROM alert_batch
    JOIN stores USING (store_id)
    WHERE alert_batch.local_date IS NULL
       OR stores.store_key IN (SELECT store_key FROM near_special)
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
                 AND store_key NOT IN (SELECT store_key FROM late), false) AS fast,
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

-- The polls to read: a fast store's are the batch's after its last evidence poll (its earlier
-- polls after that one, if any, were taken while it was closed, and its hours have not
-- changed), any other's all its polls.
CREATE OR REPLACE TEMP TABLE alert_polls AS
SELECT stores.store_key, epoch_us(alert_batch.timestamp_utc) AS at_us,
    bool_and(alert_batch.active) AS active
FROM alert_batch
JOIN report_stores AS stores USING (store_id)
WHERE stores.fast
  AND (stores.last_us IS NULL OR epoch_us(alert_batch.timestamp_utc) > stores.last_us)
GROUP BY ALL
UNION ALL
SELECT polls.store_key, epoch_us(polls.timestamp_utc), polls.active
FROM polls
SEMI JOIN (SELECT store_key FROM report_stores WHERE NOT fast) USING (store_key);

-- A fast store with no poll to read keeps its state (its polls were all late ones, older than
-- its last active evidence poll): nothing more is asked of it.
DELETE FROM report_stores
WHERE fast AND store_key NOT IN (SELECT store_key FROM alert_polls);
