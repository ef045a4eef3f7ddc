-- Makes: report_notes — why a report's numbers may not be what a reader expects, one row per
-- finding (every finding, with 0 stores when there is none): `finding`, `stores`, up to 5
-- `examples` (store ids) and `meaning`.
-- Spec: "From polls to minutes", rule 4: a store with no evidence poll (no poll inside its
-- business hours up to now) gets zeros; rule 3: a store with evidence but no business time in
-- the week gets zeros too.
-- Needs: report_stores, evidence_polls, status_spans.

CREATE OR REPLACE TEMP TABLE report_notes AS
WITH
zero_stores AS (
    SELECT store_key, store_id FROM report_stores ANTI JOIN status_spans USING (store_key)
),
-- Only the stores with zeros are looked up: a filter the evidence view's scan of polls takes.
with_evidence AS (
    SELECT DISTINCT store_key
    FROM evidence_polls
    WHERE store_key IN (SELECT store_key FROM zero_stores)
),
found AS (
    SELECT
        'no poll inside business hours' AS finding, count(*) AS stores,
        list(store_id ORDER BY store_id)[:5] AS examples,
        'zeros in every column: none of these stores'' polls up to now fell inside their '
        'business hours, so nothing says whether they were up or down' AS meaning
    FROM zero_stores
    ANTI JOIN with_evidence USING (store_key)
    UNION ALL
    SELECT
        'no business time in the week', count(*), list(store_id ORDER BY store_id)[:5],
        'zeros in every column: these stores were never open in the week before now'
    FROM zero_stores
    SEMI JOIN with_evidence USING (store_key)
),
final AS (
    SELECT finding, stores, coalesce(examples, []) AS examples, meaning FROM found
)
SELECT * FROM final ORDER BY finding;
