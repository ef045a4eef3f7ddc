-- Makes: report_stores — here the stores of alert_days_needed, with the report's columns (their
-- zone, whether they have weekly hours), so that sql/report/03_business_dates.sql, run next,
-- makes its views (weekly_hours, special_days, business_special_rows) over them alone.
-- Rules: 2 (defaults): no zone row, America/Chicago; no hours row, open 24x7.
-- Needs: alert_days_needed (sql/alerts/11_alert_days_needed.sql or 20_alert_next_state.sql),
-- stores, store_timezones, business_hours.

CREATE OR REPLACE TEMP TABLE report_stores AS
WITH
needing AS (
    SELECT DISTINCT store_key FROM alert_days_needed
),
with_hours AS (
    SELECT DISTINCT store_key FROM business_hours SEMI JOIN needing USING (store_key)
),
final AS (
    SELECT
        store_key,
        stores.store_id,
        coalesce(store_timezones.timezone, 'America/Chicago') AS timezone,
        with_hours.store_key IS NOT NULL AS has_hours
    FROM needing
    JOIN stores USING (store_key)
    LEFT JOIN store_timezones USING (store_key)
    LEFT JOIN with_hours USING (store_key)
)
SELECT * FROM final;
