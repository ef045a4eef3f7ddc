"""One store's week, explained: what a person opens when a number looks wrong.

A finished report keeps its rows, outages and summary (the service's tables). The material
behind them, the store's business intervals and polls in the week, is computed again for that
store alone by the same SQL (sql/report/00-05 with the variable `report_store`, then
sql/store/), as of the report's `now`: a few milliseconds. If data came in since the report, the
answer says so: the material is then the data's as it is now.
"""

from __future__ import annotations

import functools
import queue
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import msgspec

from storemon.backends import Backend
from storemon.database import one, run_all, sql_files
from storemon.instants import ISO
from storemon.report import COLUMNS, report_files

SUMMARY = (
    "outages_last_hour",
    "outages_last_day",
    "outages_last_week",
    "longest_outage_last_day",
    "longest_outage_last_week",
    "down_now",
    "last_outage_started_at",
)


class Outage(msgspec.Struct):
    """One row of the report's outages file, without its store_id."""

    started_at: str
    ended_at: str
    started_at_local: str
    ended_at_local: str
    down_hours: float
    polls: int
    ongoing: bool
    began_before_week: bool
    down_us: int
    down_us_last_day: int
    down_us_last_hour: int


class Interval(msgspec.Struct):
    opens_at: str
    closes_at: str
    opens_at_local: str
    closes_at_local: str


class WeekPoll(msgspec.Struct):
    taken_at: str
    taken_at_local: str
    active: bool
    evidence: bool
    """Taken while the store was open: only these say anything (sql/README.md, rule 4)."""
    stands_from: str | None
    """The stretch of the week this poll stands for (sql/README.md, rule 5; null: not
    evidence)."""
    stands_to: str | None


class SpecialDay(msgspec.Struct):
    """A special date of the store in the week (sql/README.md, rule 3a)."""

    date: str
    closed: bool
    """No special row with times: closed all day."""
    hours: list[str]
    """Its special hours, HH:MM-HH:MM, local time."""


class StoreWeek(msgspec.Struct):
    report_id: str
    store_id: str
    as_of: str
    week_start: str
    timezone: str
    timezone_is_default: bool
    """No usable time-zone row: America/Chicago (sql/README.md, rule 2 (defaults))."""
    open_all_week: bool
    """No usable business-hours row: open 24 hours, 7 days (sql/README.md, rule 2 (defaults))."""
    report: dict[str, float]
    """The store's row of the report."""
    summary: dict[str, float | int | bool | str | None]
    """How often it went down: its row of the outage summary."""
    outages: list[Outage]
    business_intervals: list[Interval]
    """Its merged business intervals that overlap the week, whole."""
    polls: list[WeekPoll]
    """Its polls taken in the week, and evidence polls before it whose span reaches into it."""
    special_days: list[SpecialDay]
    """Its special dates in the week: its weekly hours did not apply on them."""
    data_changed: bool
    """Data came in after the report: intervals and polls are from the data as it is now."""


def _rows(cur: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    result = cur.execute(sql, params or [])
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _instants(columns) -> str:
    """A SELECT list of `columns` that shows instants as ISO text in UTC, numbers as doubles."""
    shown = []
    for column in columns:
        if column.endswith(("_at", "_from", "_to")):
            shown.append(f"strftime({column}, '{ISO}') AS {column}")
        elif column.startswith(("down_hours", "longest")):
            shown.append(f"{column}::DOUBLE AS {column}")
        else:
            shown.append(column)
    return ", ".join(shown)


# Store weeks answered at once, each on a cursor of its own: DuckDB runs them in parallel.
CURSORS = 4


class _Cursor:
    """A cursor kept for store weeks, with what it has made: its macros and views, and the
    report_window of which report and data."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.cur = cur
        self.window: tuple[str, str | None] | None = None  # (report_id, batch) it was made for
        self.views_made = False  # the views of sql/report and sql/store, once made, stay


class StoreWeeks:
    """Answers store_week on up to CURSORS cursors of its own, kept, each answering one call at
    a time (a cursor is not for threads). A cursor's macros are made once; its report_window is
    made again only for another report or other data. So an answer takes a few SQL statements
    on one store's rows: about 30 ms on 14,000 stores, most of it DuckDB planning them."""

    def __init__(self, con: duckdb.DuckDBPyConnection, backend: Backend) -> None:
        """`backend`: where the reports were computed, which gives a store's material
        (storemon/backends.py)."""
        self._con = con
        self._backend = backend
        self._idle: queue.LifoQueue[_Cursor] = queue.LifoQueue()
        self._free = threading.BoundedSemaphore(CURSORS)
        self._lock = threading.Lock()  # making and closing cursors
        self._closed = False

    @contextmanager
    def _cursor(self) -> Iterator[_Cursor]:
        """A kept cursor of its own for the caller; made at first need, up to CURSORS."""
        with self._free:
            try:
                kept = self._idle.get_nowait()
            except queue.Empty:
                with self._lock:
                    if self._closed:
                        raise RuntimeError("the service is closing") from None
                    cur = self._con.cursor()
                run_all(cur, report_files("00", "01"))
                kept = _Cursor(cur)
            try:
                yield kept
            finally:
                with self._lock:
                    if self._closed:
                        kept.cur.close()
                    else:
                        self._idle.put(kept)

    def get(self, report_id: str, store_id: str) -> StoreWeek | None:
        """The store's week in finished report `report_id`, or None when the report has no row
        for that store."""
        with self._cursor() as kept:
            cur = kept.cur
            found = _rows(
                cur,
                f"SELECT report_rows.* EXCLUDE (report_id, store_id), {_instants(SUMMARY)}, "
                "report_runs.data_batch_id "
                "FROM report_rows JOIN report_runs USING (report_id) "
                "LEFT JOIN report_summary_rows USING (report_id, store_id) "
                "WHERE report_id = ? AND store_id = ?",
                [report_id, store_id],
            )
            if not found:
                return None
            outages = _rows(
                cur,
                f"SELECT {_instants(Outage.__struct_fields__)} FROM report_outages_rows "
                "WHERE report_id = ? AND store_id = ? ORDER BY started_at",
                [report_id, store_id],
            )
            try:
                week = self._backend.store_material(
                    cur,
                    report_id,
                    store_id,
                    functools.partial(self._material, kept),
                )
            except BaseException:
                kept.window, kept.views_made = None, False
                raise
        row = found[0]
        return StoreWeek(
            report_id=report_id,
            store_id=store_id,
            report={name: float(row[name]) for name in COLUMNS[1:]},
            summary={name: row[name] for name in SUMMARY},
            outages=[Outage(**outage) for outage in outages],
            data_changed=week.pop("latest_batch") != row["data_batch_id"],
            **week,
        )

    def _material(
        self,
        kept: _Cursor,
        cur: duckdb.DuckDBPyConnection,
        report_id: str,
        store_id: str,
        fresh: bool = False,
    ) -> dict:
        """Inside the caller's transaction: the store's zone, intervals and polls in the week,
        on `cur`, which is `kept`'s cursor. `fresh`: `cur` is a connection of its own instead,
        whose variable `as_of` is set (nothing kept)."""
        try:
            latest = cur.execute(
                "SELECT batch_id FROM batches ORDER BY received_at DESC LIMIT 1"
            ).fetchone()
        except duckdb.CatalogException:  # none kept: a cluster's bucket, or an old database
            latest = None
        latest_batch = latest[0] if latest else None
        if fresh:
            cur.execute("SET VARIABLE report_store = ?", [store_id])
            run_all(cur, report_files("01", "06") + sql_files("store"))
            return self._shown(cur, latest_batch)
        cur.execute("SET VARIABLE report_store = ?", [store_id])
        files = report_files("02", "06") + sql_files("store")
        if kept.views_made:  # views read the tables under them anew at each use
            files = [path for path in files if not _makes_only_views(path)]
        if kept.window != (report_id, latest_batch):
            cur.execute(
                "SET VARIABLE as_of = (SELECT as_of FROM report_runs WHERE report_id = ?)",
                [report_id],
            )
            files = report_files("01", "02") + files
            kept.window = None
        run_all(cur, files)
        kept.window = (report_id, latest_batch)
        kept.views_made = True
        return self._shown(cur, latest_batch)

    @staticmethod
    def _shown(cur: duckdb.DuckDBPyConnection, latest_batch: str | None) -> dict:
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
            "business_intervals": [
                Interval(**row)
                for row in _rows(
                    cur, f"SELECT {_instants(Interval.__struct_fields__)} FROM store_week_intervals"
                )
            ],
            "polls": [
                WeekPoll(**row)
                for row in _rows(
                    cur, f"SELECT {_instants(WeekPoll.__struct_fields__)} FROM store_week_polls"
                )
            ],
            "special_days": [
                SpecialDay(**row)
                for row in _rows(cur, "SELECT date, closed, hours FROM store_week_special_days")
            ],
            "latest_batch": latest_batch,
        }

    def close(self) -> None:
        with self._lock:
            self._closed = True
            while True:
                try:
                    self._idle.get_nowait().cur.close()
                except queue.Empty:
                    break


STATEMENT = re.compile(r"^(CREATE|SET|DROP|INSERT|UPDATE|DELETE|ALTER|COPY)\b.*", re.MULTILINE)


@functools.cache  # read once a process: asked on every store's week
def _makes_only_views(path) -> bool:
    """A SQL file whose statements (each starts a line) all make views: no table, no variable."""
    found = [m.group(0) for m in STATEMENT.finditer(path.read_text())]
    return bool(found) and all(s.startswith("CREATE OR REPLACE TEMP VIEW") for s in found)
