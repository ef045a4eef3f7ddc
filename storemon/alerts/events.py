"""The alert events a batch makes, in the batch's own transaction
(sql/README.md, "Alerts"; the SQL is sql/alerts/).

A full load makes every store's state (the baseline) and no event. After that each batch
decides the state of the stores it names again, from their state before and their new polls
(or all their polls, for a batch of hours, zones or special hours), and writes a `down` or `up`
event for each store that entered or left the down-now set. Because this happens inside the
batch's transaction, a batch and its events are committed together or not at all.
"""

from __future__ import annotations

import weakref
from pathlib import Path

import duckdb

from storemon.database import one, run_all, scalar, sql_dir

DEFAULT_ALERT_AFTER = 1
"""K: a store is down now when its last K evidence polls are all inactive."""

# groups change no store's state: a batch of them makes no event
KINDS_WITH_EVENTS = ("polls", "hours", "timezones", "special_hours")


def _alerts(name: str) -> Path:
    return sql_dir() / "alerts" / name


def _report(name: str) -> Path:
    return sql_dir() / "report" / name


# The connections this process made the report's macros on outside a transaction (a rollback
# cannot take those back): the alerts use local_text, and the days they add to alert_hours the
# conversions; making them takes ten statements, about 10 ms of a small batch.
_WITH_REPORT_MACROS: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


def report_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Make the report's macros (sql/report/00_report_macros.sql) on `con`, unless this process
    made them on it before. Call it outside a transaction, as ingest.parse_macros."""
    if con not in _WITH_REPORT_MACROS:
        run_all(con, [_report("00_report_macros.sql")])
        _WITH_REPORT_MACROS.add(con)


def _macros(con: duckdb.DuckDBPyConnection) -> None:
    """The report's macros, inside a transaction: made again unless report_macros made them."""
    if con not in _WITH_REPORT_MACROS:
        run_all(con, [_report("00_report_macros.sql")])


def alert_tables(con: duckdb.DuckDBPyConnection) -> None:
    """alert_state, alert_events and alert_hours, if missing (sql/alerts/01_alert_tables.sql)."""
    run_all(con, [_alerts("01_alert_tables.sql")])


def baseline(con: duckdb.DuckDBPyConnection) -> None:
    """Every store's state from the data as it is, and no event: after a full load (inside its
    transaction), or before the first batch of a database loaded before storemon kept alerts."""
    alert_tables(con)
    con.execute("DELETE FROM alert_state")
    con.execute("DELETE FROM alert_hours")  # (its stores' keys, hours and zones are new)
    con.execute(  # every store with polls, as a batch that names them all, not of polls
        "CREATE OR REPLACE TEMP VIEW alert_batch AS "
        "SELECT store_id, NULL::TIMESTAMPTZ AS timestamp_utc, NULL::BOOLEAN AS active, "
        "NULL::DATE AS local_date FROM stores SEMI JOIN polls USING (store_key)"
    )
    _decide(con, None, batch_id="", alert_after=DEFAULT_ALERT_AFTER)


def record_events(
    con: duckdb.DuckDBPyConnection, kind: str, batch_id: str, alert_after: int
) -> int:
    """The events of the batch just merged (inside its transaction: its parsed rows are
    `batch_rows`, `poll_rows` for polls, `special_hours_rows` for special hours); returns how
    many."""
    if kind not in KINDS_WITH_EVENTS:
        return 0
    if alert_after < 1:
        raise ValueError("alert_after must be at least 1")
    columns = {  # (the SQL asks of each row its store, and what it says of time)
        "polls": "timestamp_utc, active, NULL::DATE AS local_date",
        "special_hours": "NULL::TIMESTAMPTZ AS timestamp_utc, NULL::BOOLEAN AS active, local_date",
    }.get(
        kind,
        "NULL::TIMESTAMPTZ AS timestamp_utc, NULL::BOOLEAN AS active, NULL::DATE AS local_date",
    )
    rows = {"polls": "poll_rows", "special_hours": "special_hours_rows"}.get(kind, "batch_rows")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW alert_batch AS "
        f"SELECT store_id, {columns} FROM {rows} WHERE reason IS NULL"
    )
    return _decide(con, kind, batch_id=batch_id, alert_after=alert_after)


def _decide(
    con: duckdb.DuckDBPyConnection, kind: str | None, *, batch_id: str, alert_after: int
) -> int:
    """Decide again the state of the stores `alert_batch` names, and write their events (`kind`
    None: the baseline, every store and no event); returns how many."""
    for name, value in {
        "alert_baseline": kind is None,
        "alert_after": alert_after,
        "batch_id": batch_id,
    }.items():
        con.execute(f"SET VARIABLE {name} = ?", [value])
    run_all(con, [_alerts("06_alert_named.sql")])
    if not scalar(con, "SELECT count(*) FROM alert_named"):
        return 0  # (e.g. holidays sent ahead)
    if kind not in (None, "polls"):  # the business time the batch changes is no longer known
        run_all(con, [_alerts("07_alert_hours_changed.sql")])
    if kind == "special_hours":
        run_all(con, [_alerts("08_alert_special_near.sql")])
    run_all(con, [_alerts("10_alert_stores.sql")])
    if not scalar(con, "SELECT count(*) FROM alert_stores"):
        return 0  # no store's state can change: nothing more to do
    run_all(con, [_alerts("11_alert_days_needed.sql")])
    add_hours(con)  # the business time of the polls' days
    run_all(con, [_alerts("20_alert_next_state.sql")])
    changing, starts, ends, events = one(
        con,
        "SELECT count(*), count(*) FILTER (WHERE finds_start), "
        "count(*) FILTER (WHERE ended_us IS NOT NULL), "
        "count(*) FILTER (WHERE event_kind IS NOT NULL) FROM alert_next",
    )
    if not changing:
        return 0  # every store's state comes out as it was
    if starts or ends:  # the business time of the days where outages start, and of those ended
        run_all(con, [_alerts("21_alert_outage_days.sql")])
        add_hours(con)
    if starts:
        run_all(con, [_alerts("30_alert_starts.sql")])
    if events:
        _macros(con)
        run_all(con, [_alerts("31_alert_events.sql")])
    run_all(con, [_alerts("32_alert_state.sql")])
    return int(events)


def add_hours(con: duckdb.DuckDBPyConnection) -> None:
    """Add to alert_hours the days of alert_days_needed, when there are any, by the report's
    own files (most batches need none: their days are there already). (The property test,
    tests/test_alert_property.py, also makes the days alert_hours holds again by it.)"""
    if not scalar(con, "SELECT count(*) FROM alert_days_needed"):
        return
    con.execute("SET VARIABLE report_store_key = NULL")
    con.execute("RESET VARIABLE as_of")
    _macros(con)
    run_all(
        con,
        [
            _report("01_report_window.sql"),  # now, for special rows
            _alerts("12_alert_hours_stores.sql"),  # report_stores: the stores that need days
            _report("03_business_dates.sql"),  # weekly_hours, special_days, their rows
            _alerts("13_alert_hours_dates.sql"),
            _report("03_business_hours_utc.sql"),
            _report("03_business_intervals.sql"),
            _alerts("14_alert_hours_add.sql"),
        ],
    )
