"""One store's week, explained: what a person opens when a number looks wrong.

A finished report keeps its rows, outages and summary (the service's tables). The material
behind them, the store's business intervals and polls in the week, is computed again for that
store alone by the same SQL (sql/report/00-05 with the variable `report_store`, then
sql/store/), as of the report's `now`: a few milliseconds. If data came in since the report, the
answer says so: the material is then the data's as it is now.
"""

from __future__ import annotations

import functools
import logging
import queue
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import msgspec

from storemon.backends import Backend
from storemon.database import one, rollback, run_all, scalar, sql_files
from storemon.instants import ISO
from storemon.report import COLUMNS, report_files

log = logging.getLogger("storemon.service")

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


def _latest_batch(cur: duckdb.DuckDBPyConnection) -> str | None:
    """The data's last batch: what names the data as it is now."""
    try:
        latest = cur.execute("SELECT batch_id FROM batches ORDER BY received_at DESC LIMIT 1")
        found = latest.fetchone()
    except duckdb.CatalogException:  # none kept: a cluster's bucket, or an old database
        return None
    return found[0] if found else None


def _rows(cur: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    result = cur.execute(sql, params or [])
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _as_shown(columns, of: str = "") -> dict[str, str]:
    """Each of `columns` (of the struct `of`, if given) as shown: instants as ISO text in UTC,
    numbers as doubles."""
    shown = {}
    for column in columns:
        if column.endswith(("_at", "_from", "_to")):
            shown[column] = f"strftime({of}{column}, '{ISO}')"
        elif column.startswith(("down_hours", "longest")):
            shown[column] = f"{of}{column}::DOUBLE"
        else:
            shown[column] = f"{of}{column}"
    return shown


def _select(shown: dict[str, str]) -> str:
    """A SELECT list of expressions by name."""
    return ", ".join(f"{expression} AS {name}" for name, expression in shown.items())


def _struct(shown: dict[str, str]) -> str:
    """A STRUCT of expressions by name."""
    return "struct_pack(" + ", ".join(f"{n} := {e}" for n, e in shown.items()) + ")"


def _instants(columns) -> str:
    """A SELECT list of `columns` that shows instants as ISO text in UTC, numbers as doubles."""
    return _select(_as_shown(columns))


# Store weeks answered at once, each on a cursor of its own: DuckDB runs them in parallel.
CURSORS = 4
# Reports whose every store's week is kept in memory (sql/store_weeks/), the last ones read.
KEPT_WEEKS = 2


# How the material shows: instants in UTC (ISO) and in the store's zone; read from one store's
# views (sql/store/), or (`of`) from the lists of the kept weeks (sql/store_weeks/).
def _intervals(of: str = "") -> dict[str, str]:
    return {
        "opens_at": f"strftime(make_timestamptz({of}open_us), '{ISO}')",
        "closes_at": f"strftime(make_timestamptz({of}close_us), '{ISO}')",
        "opens_at_local": f"local_text({of}open_us, timezone)",
        "closes_at_local": f"local_text({of}close_us, timezone)",
    }


def _polls(of: str = "") -> dict[str, str]:
    return {
        "taken_at": f"strftime(make_timestamptz({of}at_us), '{ISO}')",
        "taken_at_local": f"local_text({of}at_us, timezone)",
        "active": f"{of}active",
        "evidence": f"{of}evidence",
        "stands_from": f"strftime(make_timestamptz({of}from_us), '{ISO}')",
        "stands_to": f"strftime(make_timestamptz({of}to_us), '{ISO}')",
    }


SPECIAL_DAYS = {"date": "date", "closed": "closed", "hours": "hours"}


def _each(name: str, shown: dict[str, str], of: str) -> str:
    """The list column `name` of the kept weeks, each element shown."""
    return f"list_transform({name}, lambda {of}: {_struct(shown)})"


# One store's week from a kept report's database ({kept}) as JSON (a StoreWeek): one keyed read of
# the store named by the variable `kept_store`. Each cursor prepares it once per database (its
# planning, about 3 ms, was most of a store's week) and executes it with the variable set.
KEPT_WEEK = (
    "SELECT to_json("
    + _struct(
        {
            "report_id": "report_id",
            "store_id": "store_id",
            "as_of": f"strftime(as_of, '{ISO}')",
            "week_start": f"strftime(make_timestamptz(week_start_us), '{ISO}')",
            "timezone": "timezone",
            "timezone_is_default": "timezone_is_default",
            "open_all_week": "open_all_week",
            "report": _struct({name: f"{name}::DOUBLE" for name in COLUMNS[1:]}),
            "summary": _struct(_as_shown(SUMMARY)),
            "outages": _each("outages", _as_shown(Outage.__struct_fields__, "o."), "o"),
            "business_intervals": _each("intervals", _intervals("i."), "i"),
            "polls": _each("polls", _polls("p."), "p"),
            "special_days": "special_days",
            "data_changed": "false",  # (kept only while the data is the report's)
        }
    )
    + ") FROM {kept}.weeks WHERE store_id = getvariable('kept_store')"
)


# Weeks are kept only for data of at most this many polls (at 1x, 2.3 M polls take ~75 MB).
KEPT_POLLS_MAX = 5_000_000


class _Cursor:
    """A cursor kept for store weeks, with what it has made: its macros and views, and the
    report_window of which report and data."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.cur = cur
        self.window: tuple[str, str | None] | None = None  # (report_id, batch) it was made for
        self.views_made = False  # the views of sql/report and sql/store, once made, stay
        self.prepared: set[str] = set()  # the kept databases it has prepared KEPT_WEEK for


@dataclass(frozen=True)
class _Kept:
    """A report whose stores' weeks are kept: the data it read, and where they are."""

    batch: str | None
    database: str  # the in-memory database attached for it


class StoreWeeks:
    """Answers store_week on up to CURSORS cursors of its own, kept, each answering one call at
    a time (a cursor is not for threads).

    The weeks of every store of the KEPT_WEEKS reports read last are kept, each report's in an
    in-memory database (sql/store_weeks/, made in the background as a report finishes or at its
    first store week, while the data is still the data it read): a store's week is then one
    keyed read. Otherwise, and whenever data came in since, it is computed for that store alone
    by the report's own SQL: a cursor's macros are made once, its report_window again only for
    another report or other data, so an answer takes a few SQL statements on one store's rows
    (about 30 ms on 14,000 stores, most of it DuckDB planning them)."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, backend: Backend, kept_weeks: int = KEPT_WEEKS
    ) -> None:
        """`backend`: where the reports were computed, which gives a store's material
        (storemon/backends.py); `kept_weeks`: how many reports' weeks to keep (0: none)."""
        self._con = con
        self._backend = backend
        self._idle: queue.LifoQueue[_Cursor] = queue.LifoQueue()
        self._free = threading.BoundedSemaphore(CURSORS)
        self._lock = threading.Lock()  # making and closing cursors; the kept weeks' books
        self._closed = False
        self._kept: OrderedDict[str, _Kept] = OrderedDict()  # report_id -> kept, oldest first
        self._making: str | None = None  # the report whose weeks are being made
        self._maker: threading.Thread | None = None  # and the thread that makes them
        self._making_on: duckdb.DuckDBPyConnection | None = None  # on its cursor
        self._keep_at_most = kept_weeks
        self._keeps = backend.keeps_store_weeks and kept_weeks > 0
        self._latest: str | None = None  # the data's last batch, as last read ...
        self._latest_read = False  # ... if read since the data last changed
        self._changes = 0  # times the data changed (data_changed)
        self._databases = 0  # in-memory databases attached for kept weeks so far
        self._detached: list[str] = []  # those of weeks no longer kept, to detach

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
            latest = self._latest_batch(cur)
            with self._lock:
                weeks = self._kept.get(report_id)
                if weeks is not None and weeks.batch == latest:
                    self._kept.move_to_end(report_id)
            if weeks is not None and weeks.batch == latest:
                cur.execute("BEGIN TRANSACTION")  # one snapshot of the kept weeks
                try:
                    answer = self._from_kept(kept, store_id, weeks)
                except duckdb.Error:  # gone since: a report read later made room
                    kept.prepared.discard(weeks.database)
                    answer = None
                finally:
                    rollback(cur)  # it only read
                if answer is not None:
                    return answer
                # (no such store, or its weeks gone since: computed, which says which)
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
        changed = week.pop("latest_batch") != row["data_batch_id"]
        if not changed:
            self.keep_later(report_id, row["data_batch_id"])
        return StoreWeek(
            report_id=report_id,
            store_id=store_id,
            report={name: float(row[name]) for name in COLUMNS[1:]},
            summary={name: row[name] for name in SUMMARY},
            outages=[Outage(**outage) for outage in outages],
            data_changed=changed,
            **week,
        )

    def data_changed(self) -> None:
        """Data came in (a batch, a load): the data's last batch is read again."""
        with self._lock:
            self._changes += 1
            self._latest_read = False

    def _latest_batch(self, cur: duckdb.DuckDBPyConnection) -> str | None:
        """The data's last batch, read once a change (data_changed)."""
        with self._lock:
            if self._latest_read:
                return self._latest
            changes = self._changes
        latest = _latest_batch(cur)
        with self._lock:
            if self._changes == changes:  # no change came in while it was read
                self._latest, self._latest_read = latest, True
        return latest

    def kept(self) -> list[str]:
        """The reports whose weeks are kept, the one read least recently first."""
        with self._lock:
            return list(self._kept)

    def _from_kept(self, kept: _Cursor, store_id: str, weeks: _Kept) -> StoreWeek | None:
        """The store's week from the kept weeks of its report: one keyed read, prepared."""
        cur, name = kept.cur, f"kept_week_{weeks.database}"
        if weeks.database not in kept.prepared:
            with self._lock:
                current = {each.database for each in self._kept.values()}
            for gone in kept.prepared - current:  # of weeks no longer kept
                cur.execute(f"DEALLOCATE kept_week_{gone}")
            kept.prepared &= current
            cur.execute(f"PREPARE {name} AS {KEPT_WEEK.format(kept=weeks.database)}")
            kept.prepared.add(weeks.database)
        cur.execute("SET VARIABLE kept_store = ?", [store_id])
        found = cur.execute(f"EXECUTE {name}").fetchone()
        if found is None:
            return None
        return msgspec.json.decode(found[0], type=StoreWeek)

    def keep_later(self, report_id: str, batch: str | None) -> None:
        """Make the weeks of every store of finished report `report_id`, which read the data
        up to `batch`, in the background, if weeks are kept here and no other report's are
        being made: as it finishes, and at the first store week asked of it."""
        if not self._keeps:
            return
        with self._lock:
            if self._closed or self._making is not None or report_id in self._kept:
                return
            self._making = report_id
            self._maker = threading.Thread(
                target=self._keep, args=(report_id, batch), name="store-weeks", daemon=True
            )
            self._maker.start()

    def _keep(self, report_id: str, batch: str | None) -> None:
        """The weeks of every store of `report_id` into an in-memory database of its own
        (sql/store_weeks/), in one transaction that reads the data the report read: none if
        data came in since, or if the data is too large to keep. The report least recently
        read goes, beyond `kept_weeks`."""
        database = ""
        try:
            with self._con.cursor() as cur:
                self._detach_gone(cur)
                with self._lock:
                    self._databases += 1
                    database = f"store_weeks_{self._databases}"
                    self._making_on = cur
                cur.execute(f"ATTACH ':memory:' AS {database}")
                run_all(cur, report_files("00", "01"))
                cur.execute("BEGIN TRANSACTION")
                try:
                    if _latest_batch(cur) != batch or scalar(
                        cur, "SELECT count(*) > ? FROM polls", [KEPT_POLLS_MAX]
                    ):
                        rollback(cur)
                        return
                    cur.execute(
                        "SET VARIABLE as_of = (SELECT as_of FROM report_runs WHERE report_id = ?)",
                        [report_id],
                    )
                    cur.execute("SET VARIABLE report_store = NULL")
                    cur.execute("SET VARIABLE store_weeks_report = ?", [report_id])
                    run_all(cur, report_files("01", "06") + sql_files("store"))
                    for path in sql_files("store_weeks"):
                        text = path.read_text().replace("store_weeks.", f"{database}.")
                        for statement in cur.extract_statements(text):
                            cur.execute(statement)
                    cur.execute("COMMIT")
                except BaseException:
                    rollback(cur)
                    raise
                with self._lock:
                    self._kept[report_id] = _Kept(batch, database)
                    database = ""  # kept: not to detach
                    while len(self._kept) > self._keep_at_most:
                        _, gone = self._kept.popitem(last=False)
                        self._detached.append(gone.database)
                self._detach_gone(cur)
        except duckdb.InterruptException:
            log.info("the weeks of report %s gave way to a report; kept when read", report_id)
        except Exception:
            log.exception("the weeks of report %s were not kept; they are computed each", report_id)
        finally:
            with self._lock:
                self._making, self._making_on = None, None
                if database:  # attached, and not kept: freed at the next keeping
                    self._detached.append(database)

    def give_way(self) -> None:
        """A report starts computing: the weeks being kept, if any, stop (a report comes
        first); they are kept again at their report's next store week."""
        with self._lock:
            if self._making_on is not None:
                self._making_on.interrupt()

    def _detach_gone(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Free the databases of weeks no longer kept (one a reader still reads waits for the
        next time)."""
        with self._lock:
            gone, self._detached = self._detached, []
        for database in gone:
            try:
                cur.execute(f"DETACH {database}")
            except duckdb.Error:
                with self._lock:
                    self._detached.append(database)

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
        latest_batch = _latest_batch(cur)
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
                    cur,
                    f"SELECT {_select(_intervals())} FROM store_week_intervals ORDER BY open_us",
                )
            ],
            "polls": [
                WeekPoll(**row)
                for row in _rows(
                    cur, f"SELECT {_select(_polls())} FROM store_week_polls ORDER BY at_us"
                )
            ],
            "special_days": [
                SpecialDay(**row)
                for row in _rows(
                    cur,
                    f"SELECT {_select(SPECIAL_DAYS)} FROM store_week_special_days ORDER BY date",
                )
            ],
            "latest_batch": latest_batch,
        }

    def close(self) -> None:
        with self._lock:
            self._closed = True
            maker = self._maker
        if maker is not None:
            maker.join()
        with self._lock:
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
