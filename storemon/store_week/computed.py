"""One store's week computed for that store alone, by the report's own SQL: sql/report/00-05
with the variable `report_store`, then sql/store/, as of the report's `now`, on the data as it
is now (so the answer says whether data came in since the report); its report row, summary and
outages from what the report kept (sql/store_weeks/05_store_week_rows.sql).

A cursor's macros are made once, its views once, its report_window again only for another
report or other data, so an answer takes a few SQL statements on one store's rows (about 30 ms
on 14,000 stores, most of it DuckDB planning them)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import duckdb
import msgspec

from storemon.backends import Backend
from storemon.database import one, run_all, sql_files
from storemon.instants import ISO
from storemon.report import report_files
from storemon.store_week.cursors import Cursor
from storemon.store_week.shapes import (
    INTERVAL_US,
    POLL_US,
    Outage,
    SpecialDay,
    StoreWeek,
    intervals,
    polls,
)


def latest_batch(cur: duckdb.DuckDBPyConnection) -> str | None:
    """The data's last batch: what names the data as it is now."""
    try:
        latest = cur.execute("SELECT batch_id FROM batches ORDER BY received_at DESC LIMIT 1")
        found = latest.fetchone()
    except duckdb.CatalogException:  # none kept: a cluster's bucket, or an old database
        return None
    return found[0] if found else None


def rows_file() -> Path:
    """The view of what a finished report kept of its stores, as a week shows it."""
    return next(path for path in sql_files("store_weeks") if path.name.startswith("05"))


def compute(
    kept: Cursor, backend: Backend, report_id: str, store_id: str
) -> tuple[StoreWeek, str | None] | None:
    """The store's week in finished report `report_id`, computed on `kept` (its material by
    `backend`, which computed the report), and the data's batch the report read; None when the
    report has no row for the store."""
    cur = kept.cur
    cur.execute("SET VARIABLE store_weeks_report = ?", [report_id])
    cur.execute("SET VARIABLE report_store = ?", [store_id])
    if not kept.views_made:
        run_all(cur, [rows_file()])
    found = cur.execute(
        "SELECT data_batch_id, to_json(struct_pack(report, summary, outages)) FROM store_week_rows"
    ).fetchone()
    if found is None:
        return None
    batch, shown = found[0], msgspec.json.decode(found[1])
    try:
        week = backend.store_material(cur, report_id, store_id, functools.partial(material, kept))
    except BaseException:
        kept.window, kept.views_made = None, False
        raise
    answer = StoreWeek(
        report_id=report_id,
        store_id=store_id,
        report=shown["report"],
        summary=shown["summary"],
        outages=[Outage(**outage) for outage in shown["outages"]],
        data_changed=week.pop("latest_batch") != batch,
        **week,
    )
    return answer, batch


def material(
    kept: Cursor,
    cur: duckdb.DuckDBPyConnection,
    report_id: str,
    store_id: str,
    fresh: bool = False,
) -> dict:
    """Inside the caller's transaction: the store's zone, intervals and polls in the week, on
    `cur`, which is `kept`'s cursor. `fresh`: `cur` is a connection of its own instead, whose
    variable `as_of` is set (nothing kept)."""
    batch = latest_batch(cur)
    if fresh:
        cur.execute("SET VARIABLE report_store = ?", [store_id])
        run_all(cur, report_files("01", "06") + sql_files("store"))
        return shown(cur, batch)
    cur.execute("SET VARIABLE report_store = ?", [store_id])
    files = report_files("02", "06") + sql_files("store")
    if kept.views_made:  # views read the tables under them anew at each use
        files = [path for path in files if not _makes_only_views(path)]
    if kept.window != (report_id, batch):
        cur.execute(
            "SET VARIABLE as_of = (SELECT as_of FROM report_runs WHERE report_id = ?)",
            [report_id],
        )
        files = report_files("01", "02") + files
        kept.window = None
    run_all(cur, files)
    kept.window = (report_id, batch)
    kept.views_made = True
    return shown(cur, batch)


def shown(cur: duckdb.DuckDBPyConnection, batch: str | None) -> dict:
    """The material the store files made, as the answer shows it."""
    window = one(
        cur,
        f"SELECT strftime(as_of, '{ISO}'), strftime(make_timestamptz(week_start_us), '{ISO}'), "
        "timezone, store_key NOT IN (SELECT store_key FROM store_timezones), NOT has_hours "
        "FROM report_window LEFT JOIN report_stores ON true",
    )
    return {
        "as_of": window[0],
        "week_start": window[1],
        "timezone": window[2] or "America/Chicago",
        "timezone_is_default": window[3] is not False,
        "open_all_week": window[4] is not False,
        "business_intervals": intervals(
            cur.execute(
                f"SELECT {', '.join(INTERVAL_US)} FROM store_week_intervals ORDER BY open_us"
            ).fetchall()
        ),
        "polls": polls(
            cur.execute(
                f"SELECT {', '.join(POLL_US)} FROM store_week_polls ORDER BY at_us"
            ).fetchall()
        ),
        "special_days": [
            SpecialDay(date, closed, hours)
            for date, closed, hours in cur.execute(
                "SELECT date, closed, hours FROM store_week_special_days ORDER BY date"
            ).fetchall()
        ],
        "latest_batch": batch,
    }


STATEMENT = re.compile(r"^(CREATE|SET|DROP|INSERT|UPDATE|DELETE|ALTER|COPY)\b.*", re.MULTILINE)


@functools.cache  # read once a process: asked on every store's week
def _makes_only_views(path) -> bool:
    """A SQL file whose statements (each starts a line) all make views: no table, no variable."""
    found = [m.group(0) for m in STATEMENT.finditer(path.read_text())]
    return bool(found) and all(s.startswith("CREATE OR REPLACE TEMP VIEW") for s in found)
