-- Makes: alert_events — adds the batch's events. (storemon/alerts/events.py runs this only when
-- there is one.)
-- Rules: "Alerts" (sql/README.md): one event per store of alert_next with an event_kind. A
-- `down` event's outage starts where sql/alerts/30_alert_starts.sql found (or as it was before,
-- when its start was not looked for again); an `up` event gives its start as before the batch,
-- and its down time is the business time from there to `ended_us` (alert_hours' rows never
-- overlap, and hold every day between: sql/alerts/21_alert_outage_days.sql asked for them).
-- `at` is the store's last evidence poll for `down`, the poll that ended the outage for `up`
-- (its last evidence poll if none did).
-- Variables: batch_id.
-- Needs: alert_next (sql/alerts/20_alert_next_state.sql, 30_alert_starts.sql), alert_hours,
-- alert_events, stores, store_timezones (rule 2: none, America/Chicago), store_groups, the macros
-- of sql/report/00_report_macros.sql.

INSERT INTO alert_events
WITH
changed AS (
    SELECT
        alert_next.*,
        stores.store_id,
        coalesce(store_timezones.timezone, 'America/Chicago') AS timezone,
        event_kind AS kind,
        if(down_after, coalesce(started_us, started_before_us), started_before_us)
            AS event_started_us
    FROM alert_next
    JOIN stores USING (store_key)
    LEFT JOIN store_timezones USING (store_key)
    WHERE event_kind IS NOT NULL
),
down_time AS (
    SELECT
        store_key,
        sum(greatest(least(close_us, ended_us) - greatest(open_us, event_started_us), 0))
            AS down_us
    FROM (  -- (by day: alert_hours' rows of those days alone are read)
        SELECT
            store_key,
            event_started_us,
            ended_us,
            unnest(range(event_started_us // 86400000000, ended_us // 86400000000 + 1)) AS day
        FROM changed
        WHERE kind = 'up'
    ) AS wanted
    JOIN alert_hours USING (store_key, day)
    WHERE alert_hours.close_us > wanted.event_started_us
      AND alert_hours.open_us < wanted.ended_us
    GROUP BY store_key
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
