-- Makes: report_notes — why a report's numbers may not be what a reader expects, one row per
-- finding (every finding, with 0 stores when there is none): `finding`, `stores`, up to 5
-- `examples` (store ids) and `meaning`; from report_note_stores, also made here: every store of
-- each finding (`finding`, `store_id`).
-- Rules: 6 (sums: no evidence, zeros): a store with no evidence poll (no poll inside its
-- business hours up to now) gets zeros; rule 3: a store with evidence but no business time in
-- the week gets zeros too. Rule 3a: stores with special hours on a local date of the week (from
-- its start to now, in the store's zone) are named, since their week is not their weekly hours.
-- A store has evidence exactly when it has a piece in status_spans (there, the piece of no length
-- of its last evidence poll).
-- Needs: report_window, report_stores, business_intervals, status_spans, special_hours.

CREATE OR REPLACE TEMP TABLE report_note_stores AS
WITH
without_evidence AS (
    SELECT store_key, store_id FROM report_stores ANTI JOIN status_spans USING (store_key)
),
open_in_week AS (
    SELECT DISTINCT store_key
    FROM business_intervals, report_window
    WHERE close_us > week_start_us AND open_us < now_us
),
never_open AS (
    SELECT store_key, store_id
    FROM report_stores
    SEMI JOIN status_spans USING (store_key)
    ANTI JOIN open_in_week USING (store_key)
),
with_special_days AS (
    SELECT DISTINCT report_stores.store_key, store_id
    FROM report_stores
    JOIN special_hours USING (store_key), report_window
    WHERE special_hours.local_date
          BETWEEN timezone(report_stores.timezone, make_timestamptz(week_start_us))::DATE
              AND timezone(report_stores.timezone, make_timestamptz(now_us))::DATE
),
final AS (
    SELECT 'no poll inside business hours' AS finding, store_id FROM without_evidence
    UNION ALL
    SELECT 'no business time in the week', store_id FROM never_open
    UNION ALL
    SELECT 'special hours in the week', store_id FROM with_special_days
)
SELECT * FROM final ORDER BY finding, store_id;

CREATE OR REPLACE TEMP TABLE report_notes AS
WITH
meanings (finding, meaning) AS (
    VALUES
    ('no poll inside business hours',
     'zeros in every column: none of these stores'' polls up to now fell inside their '
     'business hours, so nothing says whether they were up or down'),
    ('no business time in the week',
     'zeros in every column: these stores were never open in the week before now'),
    ('special hours in the week',
     'on some dates of the week these stores kept their special hours (closed, or other '
     'hours), not their weekly ones; each store''s page lists those dates')
),
final AS (
    SELECT
        finding,
        count(store_id) AS stores,
        coalesce((list(store_id ORDER BY store_id) FILTER (WHERE store_id IS NOT NULL))[:5], [])
            AS examples,
        meaning
    FROM meanings
    LEFT JOIN report_note_stores USING (finding)
    GROUP BY finding, meaning
)
SELECT * FROM final ORDER BY finding;
