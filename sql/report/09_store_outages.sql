-- Makes: store_outages — one row per outage with down time in the week: when it started and
-- ended (UTC, and in the store's zone with its offset), its down time in the week (and in the
-- last day and hour), its inactive evidence polls, whether it is still going on at now and
-- whether it began before the week.
-- Rules: 8 (outages): an outage is a maximal run of consecutive inactive evidence polls
-- (no active evidence poll between them), seen through the whole history up to now; its down
-- time is the business time its polls' spans cover, and only down time inside [now - 168 h, now)
-- counts. It starts at the first instant of that down time and ends at the last (an outage that
-- began before the week starts, for the report, at its first business instant in the week). It
-- is ongoing when its last poll is the store's last evidence poll up to now; `began_before_week`
-- when its polls cover business time before the week starts. Looking back for that business
-- time stops 14 days before the week (any store that opens at all opens within 14 days).
-- How: the down time of the week is status_spans' inactive pieces (so an outage's down time adds
-- up to the report's downtime exactly, window by window); gaps and islands group them: a piece
-- belongs to the outage opened by the latest poll at or before it that opens one (a running max).
-- Pieces before a store's first opening poll in the week belong to an outage whose opening poll
-- stands for no time in the week: it began before the week, and its earlier polls are counted
-- from evidence_polls, for those stores only.
-- Columns: store_id, started_at, ended_at
-- (TIMESTAMPTZ), started_at_local, ended_at_local (text, to the second, e.g.
-- '2023-01-22 09:15:00-06:00'), down_hours (in the week, 2 decimals), polls, ongoing,
-- began_before_week, and the exact down time in microseconds: down_us (week), down_us_last_day,
-- down_us_last_hour (0 when the outage has none in that window).
-- Needs: report_window, report_stores, polls, business_intervals, status_spans, weekly_hours,
-- special_days (the weekly rows apply on other dates only; special time is in
-- business_intervals), the macros of 00_report_macros.sql.

CREATE OR REPLACE TEMP TABLE store_outages AS
WITH
down_pieces AS (
    SELECT store_key, start_us, end_us, at_us, opens_outage, poll_from_us, last_poll
    FROM status_spans
    WHERE NOT active
),
labelled AS (
    SELECT
        *,
        max(if(opens_outage, at_us, NULL)) OVER (
            PARTITION BY store_key ORDER BY start_us ROWS UNBOUNDED PRECEDING
        ) AS opened_us
    FROM down_pieces
),
-- MATERIALIZED: read three times below. The last evidence poll's piece of no length (at now)
-- counts its poll and makes its outage ongoing, but has no time: an outage starts and ends with
-- its down time, and one without down time in the week is not listed.
outages AS MATERIALIZED (
    SELECT
        store_key,
        opened_us,
        min(start_us) FILTER (WHERE end_us > start_us) AS start_us,
        max(end_us) FILTER (WHERE end_us > start_us) AS end_us,
        sum(end_us - start_us) AS down_us,
        sum(greatest(end_us - greatest(start_us, day_start_us), 0)) AS down_us_last_day,
        sum(greatest(end_us - greatest(start_us, hour_start_us), 0)) AS down_us_last_hour,
        count(DISTINCT at_us) AS polls_in_week,
        bool_or(last_poll) AS ongoing,
        -- the first poll with a piece in the week, and where its span begins (NULL: it is the
        -- store's first evidence poll, the only one whose span has no beginning)
        min(at_us) AS first_at_us,
        if(bool_or(poll_from_us IS NULL), NULL, min(poll_from_us)) AS first_from_us
    FROM labelled, report_window
    GROUP BY store_key, opened_us
    HAVING sum(end_us - start_us) > 0
),
-- An outage opened by a poll with a piece in the week began before the week when that poll's
-- span covers business time before the week starts (not looking back further than 14 days).
look_back AS (
    SELECT
        outages.store_key,
        outages.opened_us,
        report_stores.timezone,
        greatest(coalesce(first_from_us, 0), week_start_us - 14 * 86400000000) AS from_us,
        week_start_us
    FROM outages
    JOIN report_stores USING (store_key), report_window
    WHERE opened_us IS NOT NULL AND coalesce(first_from_us < week_start_us, true)
),
-- Most find it in business_intervals (the week's dates, and those around earlier polls) ...
open_in_intervals AS (
    SELECT DISTINCT look_back.store_key, look_back.opened_us
    FROM look_back
    JOIN business_intervals
      ON business_intervals.store_key = look_back.store_key
     AND business_intervals.open_us < look_back.week_start_us
     AND business_intervals.close_us > look_back.from_us
),
-- ... the others look at every local date back to their span's start (at most 14 days).
look_back_dates AS (
    SELECT
        *,
        unnest(generate_series(make_timestamp(from_us)::DATE - 2,
                               make_timestamp(week_start_us)::DATE + 1,
                               INTERVAL 1 DAY))::DATE AS local_date
    FROM look_back
    ANTI JOIN open_in_intervals USING (store_key, opened_us)
),
open_looking_back AS (
    SELECT DISTINCT store_key, opened_us
    FROM (
        SELECT
            look_back_dates.*,
            opens_us(timezone, local_date, start_local) AS open_us,
            closes_us(timezone, local_date, start_local, end_local) AS close_us
        FROM (SELECT * FROM look_back_dates ANTI JOIN special_days USING (store_key, local_date))
            AS look_back_dates
        JOIN weekly_hours
          ON weekly_hours.store_key = look_back_dates.store_key
         AND weekly_hours.day_of_week = isodow(look_back_dates.local_date) - 1
    )
    WHERE open_us < close_us AND open_us < week_start_us AND close_us > from_us
),
open_before_week AS (
    SELECT * FROM open_in_intervals
    UNION ALL
    SELECT * FROM open_looking_back
),
-- An outage whose first piece's poll does not open it: its opening poll came before the week.
-- Its polls before that first piece: the inactive ones after the store's last active poll.
unopened AS (
    SELECT store_key, first_at_us AS first_at_us FROM outages WHERE opened_us IS NULL
),
-- (evidence_polls' rule, open <= t < close, for these few stores: joining the view would run
-- it over every store's polls)
earlier_evidence AS (
    SELECT polls.store_key, epoch_us(polls.timestamp_utc) AS at_us, polls.active
    FROM unopened
    JOIN polls
      ON polls.store_key = unopened.store_key
     AND epoch_us(polls.timestamp_utc) < unopened.first_at_us
    SEMI JOIN business_intervals
      ON business_intervals.store_key = polls.store_key
     AND business_intervals.open_us <= epoch_us(polls.timestamp_utc)
     AND epoch_us(polls.timestamp_utc) < business_intervals.close_us
),
earlier_polls AS (
    SELECT store_key, count(*) FILTER (
        WHERE NOT active AND at_us > coalesce(last_up_us, -9223372036854775807)) AS polls
    FROM (
        SELECT *, max(at_us) FILTER (WHERE active) OVER (PARTITION BY store_key) AS last_up_us
        FROM earlier_evidence
    )
    GROUP BY store_key
),
with_zone AS (
    SELECT
        outages.*,
        report_stores.store_id,
        report_stores.timezone,
        coalesce(earlier_polls.polls, 0) AS earlier_polls,
        open_before_week.store_key IS NOT NULL AS open_before_week
    FROM outages
    JOIN report_stores USING (store_key)
    LEFT JOIN open_before_week USING (store_key, opened_us)
    LEFT JOIN earlier_polls ON earlier_polls.store_key = outages.store_key AND opened_us IS NULL
),
-- Wall-clock times, with few of ICU's slow conversions: a zone's offset is found at the start
-- and end of each UTC day an outage starts or ends on; only on a day where they differ (a clock
-- change) is each instant converted on its own.
zone_days AS (
    SELECT DISTINCT timezone, unnest([start_us, end_us]) // 86400000000 AS day FROM with_zone
),
day_offsets AS (
    SELECT
        timezone,
        day,
        epoch_us(timezone(timezone, make_timestamptz(day * 86400000000))) - day * 86400000000
            AS offset_us,
        epoch_us(timezone(timezone, make_timestamptz((day + 1) * 86400000000)))
            - (day + 1) * 86400000000 = offset_us AS all_day
    FROM zone_days
),
offsets AS (
    SELECT
        with_zone.*,
        if(starts.all_day, starts.offset_us,
           epoch_us(timezone(with_zone.timezone, make_timestamptz(start_us))) - start_us)
            AS start_offset_us,
        if(ends.all_day, ends.offset_us,
           epoch_us(timezone(with_zone.timezone, make_timestamptz(end_us))) - end_us)
            AS end_offset_us
    FROM with_zone
    JOIN day_offsets AS starts
      ON starts.timezone = with_zone.timezone AND starts.day = start_us // 86400000000
    JOIN day_offsets AS ends
      ON ends.timezone = with_zone.timezone AND ends.day = end_us // 86400000000
),
final AS (
    SELECT
        store_id,
        make_timestamptz(start_us) AS started_at,
        make_timestamptz(end_us) AS ended_at,
        wall_text(start_us + start_offset_us) || offset_text(start_offset_us) AS started_at_local,
        wall_text(end_us + end_offset_us) || offset_text(end_offset_us) AS ended_at_local,
        round(down_us / 3600e6, 2)::DECIMAL(10, 2) AS down_hours,
        polls_in_week + earlier_polls AS polls,
        ongoing,
        opened_us IS NULL OR open_before_week AS began_before_week,
        down_us::BIGINT AS down_us,
        down_us_last_day::BIGINT AS down_us_last_day,
        down_us_last_hour::BIGINT AS down_us_last_hour
    FROM offsets
)
SELECT * FROM final ORDER BY store_id, started_at;
