-- Makes: alert_events — adds the batch's events; alert_state — the state of the stores in
-- alert_next replaced by their state after, or added (last_us NULL: a store with no evidence
-- poll).
-- At a full load (variable alert_baseline) the state is made and no event: it is the baseline.
-- Rules: "Alerts" (sql/README.md): a store down now after the batch and not before gets one
-- `down` event, one down before and not after one `up` event. An outage's down time starts at
-- the first business instant at or after `start_from_us` (it is no later than the outage's
-- first poll, which is evidence); an `up` event's down time is the business time from the
-- outage's start to `ended_us`. `at` is the store's last evidence poll for `down`, the poll
-- that ended the outage for `up` (its last evidence poll if none did).
-- Variables: batch_id, alert_baseline.
-- The business time is alert_hours' (its rows never overlap, and hold every day these spans
-- touch: sql/alerts/20_alert_next_state.sql asked for them).
-- Needs: alert_next (sql/alerts/20_alert_next_state.sql), alert_hours, alert_state,
-- alert_events, stores, store_timezones (rule 2: none, America/Chicago), store_groups, the macros
-- of sql/report/00_report_macros.sql.

CREATE OR REPLACE TEMP TABLE alert_starts AS
SELECT alert_next.store_key, min(greatest(open_us, start_from_us)) AS started_us
FROM alert_next
JOIN alert_hours
  ON alert_hours.store_key = alert_next.store_key
 AND alert_hours.close_us > alert_next.start_from_us
 AND alert_hours.open_us <= alert_next.next_run_first_us
WHERE alert_next.finds_start
GROUP BY alert_next.store_key;

INSERT INTO alert_events
WITH
changed AS (
    SELECT
        alert_next.*,
        stores.store_id,
        coalesce(store_timezones.timezone, 'America/Chicago') AS timezone,
        if(down_after, 'down', 'up') AS kind,
        if(down_after, coalesce(alert_starts.started_us, started_before_us), started_before_us)
            AS event_started_us
    FROM alert_next
    JOIN stores USING (store_key)
    LEFT JOIN store_timezones USING (store_key)
    LEFT JOIN alert_starts USING (store_key)
    WHERE down_after IS DISTINCT FROM down_before AND NOT getvariable('alert_baseline')
),
down_time AS (
    SELECT
        changed.store_key,
        sum(greatest(least(close_us, ended_us) - greatest(open_us, event_started_us), 0))
            AS down_us
    FROM changed
    JOIN alert_hours
      ON alert_hours.store_key = changed.store_key
     AND alert_hours.close_us > changed.event_started_us
     AND alert_hours.open_us < changed.ended_us
    WHERE kind = 'up'
    GROUP BY changed.store_key
),
groups AS (
    SELECT store_key, list(group_name ORDER BY group_name) AS groups
    FROM store_groups
    SEMI JOIN changed USING (store_key)
    GROUP BY store_key
),
final AS (
    SELECT
        changed.*,
        if(kind = 'down', next_last_us, coalesce(end_poll_us, next_last_us, last_us)) AS at_us,
        if(kind = 'down', next_run_polls, coalesce(end_polls, run_polls)) AS polls,
        if(kind = 'up', round(coalesce(down_time.down_us, 0) / 3600000000, 4), NULL)
            AS down_hours,
        coalesce(groups.groups, []::VARCHAR[]) AS groups
    FROM changed
    LEFT JOIN down_time USING (store_key)
    LEFT JOIN groups USING (store_key)
)
SELECT
    (SELECT coalesce(max(seq), 0) FROM alert_events)
        + row_number() OVER (ORDER BY store_id, kind) AS seq,
    'evt_' || md5(getvariable('batch_id') || '/' || kind || '/' || store_id) AS id,
    kind,
    store_id,
    getvariable('batch_id') AS batch_id,
    make_timestamptz(at_us) AS "at",
    make_timestamptz(event_started_us) AS started_at,
    polls,
    down_hours,
    timezone,
    local_text(at_us, timezone) AS at_local,
    local_text(event_started_us, timezone) AS started_local,
    groups,
    get_current_timestamp() AS created_at
FROM final;

INSERT INTO alert_state
SELECT
    alert_next.store_key,
    next_last_us,
    next_run_polls,
    next_run_first_us,
    next_prior_us,
    if(getvariable('alert_baseline'), NULL, down_after),
    if(next_run_polls > 0, coalesce(alert_starts.started_us, started_before_us), NULL)
FROM alert_next
LEFT JOIN alert_starts USING (store_key)
ON CONFLICT DO UPDATE SET
    last_us = excluded.last_us,
    run_polls = excluded.run_polls,
    run_first_us = excluded.run_first_us,
    prior_us = excluded.prior_us,
    down = excluded.down,
    started_us = excluded.started_us;
