-- Makes: data_quality — what the loaded data can and cannot mean, one row per check (every check,
-- with 0 when it found nothing): `finding`, `source`, `count` (rows or stores, as `unit` says),
-- up to 5 `examples` (store ids as the file spells them) and `meaning`: what it does to the
-- numbers. Nothing here changes the data: ids stay opaque text, nothing is "repaired".
-- Rules: the load's inputs (store_id is opaque), rule 2 (24x7, America/Chicago), rule 1 (now and
-- the windows". Whether a store's polls ever fall inside its business hours is known only once its
-- hours are laid out in time, by a report: see report_notes (sql/report/08_report_notes.sql).
-- Needs: stores, polls, business_hours, store_timezones, special_hours, store_groups,
-- rejected_rows.

CREATE OR REPLACE TABLE data_quality AS
WITH
polled AS (
    SELECT DISTINCT store_key FROM polls
),
with_hours AS (
    SELECT DISTINCT store_key FROM business_hours
),
-- The local dates of the week before the latest poll (its UTC date and the six before).
latest_week AS (
    SELECT unnest(generate_series(latest - 6, latest, INTERVAL 1 DAY))::DATE AS local_date
    FROM (SELECT max(timestamp_utc)::DATE AS latest FROM polls)
),
special_in_week AS (
    SELECT store_key, count(DISTINCT local_date) AS special_days
    FROM special_hours SEMI JOIN latest_week USING (local_date)
    GROUP BY store_key
),
weekly_in_week AS (
    SELECT store_key, count(DISTINCT latest_week.local_date) AS weekly_days
    FROM business_hours
    JOIN latest_week ON business_hours.day_of_week = isodow(latest_week.local_date) - 1
    GROUP BY store_key
),
-- A spreadsheet that took an id for a number shows it as 2.57E+14 or 257000000000000.0: the
-- digits past the 15th are gone, and the same store's id differs from file to file.
damaged AS (
    SELECT store_key, store_id
    FROM stores
    WHERE regexp_full_match(store_id, '[0-9](\.[0-9]+)?[eE][+-]?[0-9]+|[0-9]+\.0+')
),
damaged_ids AS (
    SELECT 'polls' AS source, store_id FROM damaged SEMI JOIN polled USING (store_key)
    UNION ALL
    SELECT 'business_hours', store_id FROM damaged SEMI JOIN with_hours USING (store_key)
    UNION ALL
    SELECT 'timezones', store_id FROM damaged SEMI JOIN store_timezones USING (store_key)
),
-- A spreadsheet that showed an id in full after rounding it keeps 15 significant digits and
-- fills the rest with zeros: 8139926242460185114 becomes 8139926242460180000. One real id ends
-- in such zeros by chance (1 in 10,000 for four of them); a damaged column has them all. So a
-- file's ids of 16 or more digits are said to be rounded when at least half of them end in
-- zeros past the 15th digit.
long_ids AS (
    SELECT store_key, store_id, regexp_full_match(store_id, '[1-9][0-9]{14}0+') AS rounded
    FROM stores
    WHERE regexp_full_match(store_id, '[1-9][0-9]{15,}')
),
long_ids_by_source AS (
    SELECT 'polls' AS source, * FROM long_ids SEMI JOIN polled USING (store_key)
    UNION ALL
    SELECT 'business_hours', * FROM long_ids SEMI JOIN with_hours USING (store_key)
    UNION ALL
    SELECT 'timezones', * FROM long_ids SEMI JOIN store_timezones USING (store_key)
),
rounded_ids AS (
    SELECT source, store_id
    FROM long_ids_by_source
    WHERE rounded AND source IN (
        SELECT source FROM long_ids_by_source
        GROUP BY source
        HAVING count(*) FILTER (rounded) * 2 >= count(*)
    )
),
-- Each kind of damage a spreadsheet does to ids, checked in each file.
id_damage AS (
    SELECT 'lost digits' AS damage, source, store_id FROM damaged_ids
    UNION ALL
    SELECT 'rounded', source, store_id FROM rounded_ids
),
damages AS (
    SELECT * FROM (VALUES
        ('lost digits', 'ids in the {} file damaged by a spreadsheet',
         'these ids have lost digits (scientific notation or a trailing .0): they cannot match the '
         'same store in the other files; export the store_id column as text and load again'),
        ('rounded', 'ids in the {} file rounded by a spreadsheet',
         'these ids end in zeros past their 15th digit, as ids do that a spreadsheet rounded to 15 '
         'digits and wrote out in full (8139926242460185114 becomes 8139926242460180000): the true '
         'ids are lost, and they cannot match the same stores in the other files; export the '
         'store_id column as text and load again')
    ) AS damages (damage, finding, meaning)
),
found AS (
    SELECT
        'business-hours rows of stores without polls' AS finding, 'business_hours' AS source, 'rows' AS unit,
        count(*) AS count, list(DISTINCT stores.store_id ORDER BY stores.store_id)[:5] AS examples,
        'not used: a report has a row only for a store with polls; check that these ids are '
        'spelled as in the polls file' AS meaning
    FROM business_hours
    JOIN stores USING (store_key)
    ANTI JOIN polled USING (store_key)
    UNION ALL
    SELECT
        'time-zone rows of stores without polls', 'timezones', 'rows', count(*),
        list(stores.store_id ORDER BY stores.store_id)[:5],
        'not used: a report has a row only for a store with polls; check that these ids are '
        'spelled as in the polls file'
    FROM store_timezones
    JOIN stores USING (store_key)
    ANTI JOIN polled USING (store_key)
    UNION ALL
    SELECT
        'polled stores without business hours', 'polls', 'stores', count(*),
        list(stores.store_id ORDER BY stores.store_id)[:5],
        'counted as open 24 hours a day, 7 days a week'
    FROM polled
    JOIN stores USING (store_key)
    ANTI JOIN with_hours USING (store_key)
    UNION ALL
    SELECT
        'polled stores without a time zone', 'polls', 'stores', count(*),
        list(stores.store_id ORDER BY stores.store_id)[:5],
        'their business hours are read as America/Chicago time'
    FROM polled
    JOIN stores USING (store_key)
    ANTI JOIN store_timezones USING (store_key)
    UNION ALL
    SELECT
        format(damages.finding, files.label), files.source, 'ids', count(id_damage.store_id),
        list(id_damage.store_id ORDER BY id_damage.store_id)
            FILTER (id_damage.store_id IS NOT NULL)[:5],
        damages.meaning
    FROM damages
    CROSS JOIN (VALUES ('polls', 'polls'), ('business_hours', 'business hours'),
                       ('timezones', 'time zones')) AS files (source, label)
    LEFT JOIN id_damage USING (damage, source)
    GROUP BY ALL
    UNION ALL
    SELECT
        'business-hours rows of days numbered 1-7', 'business_hours', 'rows', count(*),
        list(DISTINCT file ORDER BY file)[:5],
        'rejected as day 7, in files whose days look numbered 1 (Monday) to 7 (Sunday) (a day 7, '
        'no day 0): their rows of days 1-6 are read one day late (day 1 as Tuesday); number the '
        'days 0 (Monday) to 6 (Sunday) and load again'
    FROM rejected_rows
    WHERE source = 'business_hours' AND reason = 'day outside 0-6'
      AND contains(detail, 'look numbered 1 (Monday) to 7 (Sunday)')
    UNION ALL
    -- A format character (Unicode category Cf: a direction override or isolate, a zero-width
    -- space or joiner, a byte-order mark) is invisible, and a direction override reorders what
    -- follows it: `123<U+202E>654` reads as "123456". Such an id stays as spelled (it is not
    -- the same id without it); the pages show each such character as ⟨U+XXXX⟩.
    SELECT
        'polled stores whose id has invisible or direction characters', 'polls', 'stores',
        count(*), list(stores.store_id ORDER BY stores.store_id)[:5],
        'each is its own id, as spelled (without those characters it would be another store): '
        'the pages show them as ⟨U+202E⟩ and so on, so that no id reads as another; check where '
        'these ids come from'
    FROM polled
    JOIN stores USING (store_key)
    WHERE regexp_matches(stores.store_id, '\p{Cf}')
    UNION ALL
    -- A CSV cell beginning with =, +, - or @ is run as a formula by a spreadsheet that opens the
    -- file. The report's CSV keeps such ids as they are (sql/README.md, rule 7); this says so.
    SELECT
        'polled stores whose id a spreadsheet would run as a formula', 'polls', 'stores',
        count(*), list(stores.store_id ORDER BY stores.store_id)[:5],
        'the report''s CSV has these ids exactly as spelled, as any program reading it needs; a '
        'spreadsheet that opens the CSV directly runs them as formulas: import it with the '
        'store_id column as text, or open the Parquet file'
    FROM polled
    JOIN stores USING (store_key)
    WHERE regexp_matches(stores.store_id, '^[=+\-@]')
    UNION ALL
    SELECT
        'special-hours rows of stores without polls', 'special_hours', 'rows', count(*),
        list(DISTINCT stores.store_id ORDER BY stores.store_id)[:5],
        'not used: a report has a row only for a store with polls; check that these ids are '
        'spelled as in the polls file'
    FROM special_hours
    JOIN stores USING (store_key)
    ANTI JOIN polled USING (store_key)
    UNION ALL
    SELECT
        'special dates far from the polls', 'special_hours', 'rows', count(*),
        list(DISTINCT stores.store_id ORDER BY stores.store_id)[:5],
        'more than 60 days before the first poll or after the latest: no report is likely to '
        'read them; check the year (and that the dates are YYYY-MM-DD)'
    FROM special_hours
    JOIN stores USING (store_key),
         (SELECT min(timestamp_utc)::DATE AS first, max(timestamp_utc)::DATE AS latest FROM polls)
    WHERE local_date < first - 60 OR local_date > latest + 60
    UNION ALL
    SELECT
        'stores with more special than weekly days in the latest week', 'special_hours',
        'stores', count(*), list(stores.store_id ORDER BY stores.store_id)[:5],
        'in the week before the latest poll these stores keep more special days than days of '
        'weekly hours: is their weekly file missing? (a store without weekly rows is open 24 '
        'hours on every day that is not special)'
    FROM special_in_week
    JOIN stores USING (store_key)
    SEMI JOIN polled USING (store_key)
    LEFT JOIN weekly_in_week USING (store_key)
    WHERE special_days > coalesce(weekly_days, 0)
    UNION ALL
    SELECT
        'groups of stores without polls', 'store_groups', 'rows', count(*),
        list(DISTINCT stores.store_id ORDER BY stores.store_id)[:5],
        'not used: a roll-up adds up the stores of a report, which has a row only for a store '
        'with polls; check that these ids are spelled as in the polls file'
    FROM store_groups
    JOIN stores USING (store_key)
    ANTI JOIN polled USING (store_key)
    UNION ALL
    SELECT
        'polled stores in no group', 'store_groups', 'stores', count(*),
        list(stores.store_id ORDER BY stores.store_id)[:5],
        'where groups are loaded, these stores are in no roll-up, and no key of a group reads '
        'them (only an admin key does)'
    FROM polled
    JOIN stores USING (store_key)
    ANTI JOIN store_groups USING (store_key)
    WHERE EXISTS (SELECT 1 FROM store_groups)
    UNION ALL
    SELECT
        'polls before the latest week', 'polls', 'polls', count(*), [],
        'outside the week of a report as of the latest poll: they decide only which status a '
        'store has when that week begins'
    FROM polls
    WHERE timestamp_utc < (SELECT max(timestamp_utc) FROM polls) - INTERVAL 168 HOUR
),
final AS (
    SELECT finding, source, unit, count, coalesce(examples, []) AS examples, meaning
    FROM found
)
SELECT * FROM final ORDER BY finding, source;
