-- Makes: business_intervals — when each store is open, as merged [open_us, close_us) intervals
-- in UTC epoch microseconds (over the local dates of `business_dates`).
-- Rules: 3 (business intervals): overlapping or touching intervals are merged, so no time
-- counts twice.
-- Needs: business_rows_utc (sql/report/03_business_hours_utc.sql).

CREATE OR REPLACE TEMP TABLE business_intervals AS
WITH
nonempty AS (
    SELECT * FROM business_rows_utc
),
-- Gaps and islands: an interval starts a new island when it begins after every earlier one ended.
reach AS (
    SELECT
        *,
        max(close_us) OVER (
            PARTITION BY store_key ORDER BY open_us, close_us
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS earlier_close_us
    FROM nonempty
),
islands AS (
    SELECT
        *,
        sum(CASE WHEN earlier_close_us IS NULL OR open_us > earlier_close_us THEN 1 ELSE 0 END)
            OVER (PARTITION BY store_key ORDER BY open_us, close_us ROWS UNBOUNDED PRECEDING)
            AS island
    FROM reach
),
final AS (
    SELECT store_key, min(open_us) AS open_us, max(close_us) AS close_us
    FROM islands
    GROUP BY store_key, island
)
SELECT * FROM final;
