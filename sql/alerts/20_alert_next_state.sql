-- Makes: alert_next — the state after the batch (or load) of each store of alert_stores whose
-- state changes, beside its state before: whether it is down now before and after, its event
-- (if any), and what that needs.
-- Rules: "Alerts" (sql/README.md): a store is down now when its last K evidence polls are all
-- inactive (K: variable alert_after). Evidence (rule 4): open <= t < close, inside one of its
-- store's business intervals (alert_hours, by the poll's UTC day). A store's tail: its last
-- evidence poll (last_us), the inactive evidence polls after its last active one (run_polls, the
-- first run_first_us) and that active one (prior_us: the evidence poll before the run). The fast
-- way adds the polls after last_us to the state before: all inactive, the run grows; one active,
-- the tail is what follows it. An `up` event's outage ends at the first active evidence poll
-- after its first poll (`end_poll_us`, NULL if none: it then ends at its last poll before the
-- batch), its down time is counted up to the midpoint with the evidence poll before that one
-- (`ended_us`).
-- Variables: alert_after (K), alert_baseline (true at a full load).
-- Needs: alert_stores, alert_polls (sql/alerts/10_alert_stores.sql), alert_hours (with the days
-- of alert_polls: sql/alerts/11_alert_days_needed.sql to 14_alert_hours_add.sql).

CREATE OR REPLACE TEMP TABLE alert_next AS
WITH
-- (SEMI: a poll inside a store's business time is evidence; alert_hours' rows never overlap)
alert_evidence AS (
    SELECT alert_polls.*
    FROM alert_polls
    SEMI JOIN alert_hours
      ON alert_hours.store_key = alert_polls.store_key
     AND alert_hours.day = alert_polls.at_us // 86400000000
     AND alert_polls.at_us >= alert_hours.open_us
     AND alert_polls.at_us < alert_hours.close_us
),
-- per store: its last active evidence poll, and for an outage that ends, the first active one
-- after the outage's first poll (a GROUP BY and a join back: cheaper than a window here)
firsts AS (
    SELECT
        store_key,
        any_value(stores.run_first_us) AS run_first_us,
        max(at_us) FILTER (WHERE active) AS last_active_us,
        min(at_us) FILTER (WHERE active AND at_us > stores.run_first_us) AS end_poll_us
    FROM alert_evidence
    JOIN alert_stores AS stores USING (store_key)
    GROUP BY store_key
),
seen AS (
    SELECT
        store_key,
        max(at_us) AS last_us,
        any_value(last_active_us) AS last_active_us,
        count(*) FILTER (WHERE NOT active AND at_us > coalesce(last_active_us, at_us - 1))
            AS tail_polls,
        min(at_us) FILTER (WHERE NOT active AND at_us > coalesce(last_active_us, at_us - 1))
            AS tail_first_us,
        -- for an outage that ends: the evidence poll before its end poll, and its polls up to it
        any_value(end_poll_us) AS end_poll_us,
        max(at_us) FILTER (WHERE at_us < end_poll_us) AS end_prior_seen_us,
        count(*) FILTER (WHERE NOT active AND at_us >= run_first_us AND at_us < end_poll_us)
            AS end_polls_seen
    FROM alert_evidence
    JOIN firsts USING (store_key)
    GROUP BY store_key
),
next AS (
    SELECT
        stores.*,
        CASE
            WHEN seen.store_key IS NULL AND stores.fast THEN stores.last_us
            ELSE seen.last_us
        END AS next_last_us,
        CASE
            WHEN seen.store_key IS NULL AND stores.fast THEN stores.run_polls
            WHEN stores.fast AND seen.last_active_us IS NULL THEN stores.run_polls + seen.tail_polls
            ELSE coalesce(seen.tail_polls, 0)
        END AS next_run_polls,
        CASE
            WHEN seen.store_key IS NULL AND stores.fast THEN stores.run_first_us
            WHEN stores.fast AND seen.last_active_us IS NULL AND stores.run_polls > 0
                THEN stores.run_first_us
            ELSE seen.tail_first_us
        END AS next_run_first_us,
        CASE
            WHEN seen.store_key IS NULL AND stores.fast THEN stores.prior_us
            WHEN stores.fast AND seen.last_active_us IS NULL AND stores.run_polls > 0
                THEN stores.prior_us
            WHEN stores.fast AND seen.last_active_us IS NULL THEN stores.last_us
            WHEN seen.tail_polls > 0 THEN seen.last_active_us
        END AS next_prior_us,
        seen.end_poll_us,
        CASE WHEN seen.end_poll_us IS NOT NULL
             THEN greatest(if(stores.fast, stores.last_us, NULL), seen.end_prior_seen_us)
        END AS end_prior_us,
        CASE WHEN seen.end_poll_us IS NOT NULL
             THEN if(stores.fast, stores.run_polls, 0) + seen.end_polls_seen
        END AS end_polls
    FROM alert_stores AS stores
    LEFT JOIN seen USING (store_key)
),
final AS (
    SELECT
        *,
        coalesce(next_run_polls >= getvariable('alert_after'), false) AS down_after,
        -- where the outage's down time starts must be found (again) ...
        next_run_polls > 0 AND (
            NOT fast OR started_before_us IS NULL
            OR next_run_first_us IS DISTINCT FROM run_first_us
            OR next_prior_us IS DISTINCT FROM prior_us
        ) AS finds_start,
        -- ... from here: the midpoint with the poll before, or a week before its first poll
        coalesce((next_prior_us + next_run_first_us) // 2, next_run_first_us - 168 * 3600000000)
            AS start_from_us,
        (end_prior_us + end_poll_us) // 2 AS ended_at_poll_us
    FROM next
)
SELECT
    store_key,
    last_us,
    run_polls,
    down_before,
    started_before_us,
    next_last_us,
    next_run_polls,
    next_run_first_us,
    next_prior_us,
    end_poll_us,
    end_polls,
    down_after,
    finds_start,
    start_from_us,
    if(down_before AND NOT down_after, coalesce(ended_at_poll_us, last_us), NULL) AS ended_us,
    -- the event: a store down now after and not before goes `down`, one down before and not
    -- after `up` (none at a full load: it is the baseline)
    CASE WHEN down_after IS DISTINCT FROM down_before AND NOT getvariable('alert_baseline')
         THEN if(down_after, 'down', 'up')
    END AS event_kind,
    NULL::BIGINT AS started_us  -- (where the outage's down time starts: 30_alert_starts.sql)
FROM final
-- (a store whose state comes out as it was, with no start to find, makes no event and needs no
-- writing: most of an hourly batch's stores whose polls were all taken while closed)
WHERE NOT (
    has_state AND NOT getvariable('alert_baseline') AND NOT finds_start
    AND next_last_us IS NOT DISTINCT FROM last_us
    AND next_run_polls = run_polls
    AND next_run_first_us IS NOT DISTINCT FROM run_first_us
    AND next_prior_us IS NOT DISTINCT FROM prior_us
    AND down_after IS NOT DISTINCT FROM state_down
    AND (next_run_polls > 0 OR started_before_us IS NULL)
);
