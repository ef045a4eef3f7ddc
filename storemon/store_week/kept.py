"""Every store's week of the finished reports read last, kept in memory: a store's week is then
one keyed read (sql/store_weeks/10_store_weeks.sql), about 1 ms, where computing it takes 30.

Each report's weeks go into an in-memory database of their own, made in the background as the
report finishes or at its first store week, in one transaction that reads the data the report
read; they are read only while the data's last batch is still the report's. The report read
least recently goes beyond `keep_at_most`. As a report finishes, its weeks are kept only if a
store week of the report that finished before it was read (`keep_as_finished`): where reports
come often and nobody opens their stores, each one's keeping (a few seconds of both cores)
would be for nobody; the weeks of the others are kept at their first store week. A report
that starts computing interrupts the making (`give_way`): a report comes first; the weeks are
made at their next store week.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb
import msgspec

from storemon.database import rollback, scalar, sql_files, statements
from storemon.report import report_files
from storemon.store_week.computed import latest_batch, rows_file
from storemon.store_week.cursors import Cursor
from storemon.store_week.shapes import INTERVAL_US, POLL_US, StoreWeek, intervals, polls

log = logging.getLogger("storemon.service")

# Reports whose every store's week is kept, the last ones read.
KEPT_WEEKS = 2
# Weeks are kept only for data of at most this many polls (at 1x, 2.3 M polls take ~130 MB).
KEPT_POLLS_MAX = 5_000_000

# One store's week from a kept report's database ({kept}): one keyed read of the store named by
# the variable `kept_store`. Each cursor prepares it once per database (its planning was most of
# the read) and executes it with the variable set.
KEPT_WEEK = (
    "SELECT week, intervals, polls FROM {kept}.weeks WHERE store_id = getvariable('kept_store')"
)


class _GaveWay(Exception):
    """The making stopped between statements: a report started computing."""


class _Statements:
    """The making's statements, run on its cursor unless a report started meanwhile (DuckDB's
    interrupt lands only on a statement already running)."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, giving_way: threading.Event) -> None:
        self._cur, self._giving_way = cur, giving_way

    def run(self, statement: str | duckdb.Statement, parameters: list | None = None) -> None:
        if self._giving_way.is_set():
            raise _GaveWay
        self._cur.execute(statement, parameters)

    def run_files(self, files: list[Path]) -> None:
        for path in files:
            for statement in statements(self._cur, path):
                self.run(statement)


@dataclass(frozen=True)
class _Kept:
    """A report whose stores' weeks are kept: the data it read, and where they are."""

    batch: str | None
    database: str  # the in-memory database attached for it


class KeptWeeks:
    def __init__(self, con: duckdb.DuckDBPyConnection, keep_at_most: int = KEPT_WEEKS) -> None:
        self._con = con
        self._keep_at_most = keep_at_most
        self._lock = threading.Lock()  # the books below
        self._closed = False
        self._kept: OrderedDict[str, _Kept] = OrderedDict()  # report_id -> kept, oldest first
        self._making: str | None = None  # the report whose weeks are being made
        self._maker: threading.Thread | None = None  # and the thread that makes them
        self._making_on: duckdb.DuckDBPyConnection | None = None  # on its cursor
        self._giving_way = threading.Event()  # a report started: the making stops
        self._makings = 0  # makings begun so far (the one being made, if any, is the last)
        self._databases = 0  # in-memory databases attached for kept weeks so far
        self._detached: list[str] = []  # those of weeks no longer kept, to detach
        self._as_finished: str | None = None  # the report that finished last ...
        self._as_finished_read = True  # ... and whether any store week of it was read since

    def reports(self) -> list[str]:
        """The reports whose weeks are kept, the one read least recently first."""
        with self._lock:
            return list(self._kept)

    def read(
        self, kept: Cursor, report_id: str, store_id: str, latest: str | None
    ) -> StoreWeek | None:
        """The store's week from the kept weeks of `report_id`, if they are kept and read the
        data up to `latest` (the data's last batch), and the store is in them."""
        with self._lock:
            if report_id == self._as_finished:
                self._as_finished_read = True
            weeks = self._kept.get(report_id)
            if weeks is None or weeks.batch != latest:
                return None
            self._kept.move_to_end(report_id)
        try:
            found = self._read(kept, store_id, weeks)  # one statement: one snapshot
        except duckdb.Error:  # gone since: a report read later made room
            kept.prepared.discard(weeks.database)
            return None
        if found is None:
            return None
        week = msgspec.json.decode(found[0], type=StoreWeek)
        week.business_intervals = intervals(_rows(found[1], INTERVAL_US))
        week.polls = polls(_rows(found[2], POLL_US))
        return week

    def _read(self, kept: Cursor, store_id: str, weeks: _Kept) -> tuple | None:
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
        return cur.execute(f"EXECUTE {name}").fetchone()

    def keep_as_finished(self, report_id: str, batch: str | None) -> None:
        """keep_later for a report that just finished, if any store week of the one that
        finished before it was read."""
        with self._lock:
            wanted = self._as_finished_read
            self._as_finished, self._as_finished_read = report_id, False
        if wanted:
            self.keep_later(report_id, batch)

    def keep_later(self, report_id: str, batch: str | None) -> None:
        """Make the weeks of every store of finished report `report_id`, which read the data
        up to `batch`, in the background, unless another report's are being made."""
        with self._lock:
            if self._closed or self._making is not None or report_id in self._kept:
                return
            self._making = report_id
            self._makings += 1
            self._giving_way.clear()
            self._maker = threading.Thread(
                target=self._keep, args=(report_id, batch), name="store-weeks", daemon=True
            )
            self._maker.start()

    def _keep(self, report_id: str, batch: str | None) -> None:
        """The weeks of every store of `report_id` into an in-memory database of its own
        (sql/store_weeks/), in one transaction that reads the data the report read: none if
        data came in since, or if the data is too large to keep."""
        database = ""
        try:
            # (the ExitStack closes first: no interrupt reaches the cursor once it is closed)
            with self._con.cursor() as cur, ExitStack() as interruptible:
                self._detach_gone(cur)
                with self._lock:
                    self._databases += 1
                    database = f"store_weeks_{self._databases}"
                    self._making_on = cur
                interruptible.callback(self._not_interruptible)
                making = _Statements(cur, self._giving_way)
                making.run(f"ATTACH ':memory:' AS {database}")
                making.run_files(report_files("00", "01"))
                making.run("BEGIN TRANSACTION")
                try:
                    if latest_batch(cur) != batch or scalar(
                        cur, "SELECT count(*) > ? FROM polls", [KEPT_POLLS_MAX]
                    ):
                        rollback(cur)
                        return
                    making.run(
                        "SET VARIABLE as_of = (SELECT as_of FROM report_runs WHERE report_id = ?)",
                        [report_id],
                    )
                    making.run("SET VARIABLE report_store = NULL")
                    making.run("SET VARIABLE store_weeks_report = ?", [report_id])
                    rows = rows_file()
                    making.run_files(report_files("01", "06") + sql_files("store") + [rows])
                    for path in [path for path in sql_files("store_weeks") if path != rows]:
                        text = path.read_text().replace("store_weeks.", f"{database}.")
                        for statement in cur.extract_statements(text):
                            making.run(statement)
                    making.run("COMMIT")
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
        except (duckdb.InterruptException, _GaveWay):
            log.info("the weeks of report %s gave way to a report; kept when read", report_id)
        except Exception:
            log.exception("the weeks of report %s were not kept; they are computed each", report_id)
        finally:
            with self._lock:
                self._making, self._making_on = None, None
                if database:  # attached, and not kept: freed at the next keeping
                    self._detached.append(database)

    def give_way(self) -> None:
        """A report starts computing: the weeks being made, if any, stop (at once, or before
        their next statement)."""
        with self._lock:
            if self._making is None:
                return
            self._giving_way.set()
            making = self._makings
        self._interrupt(making, 0)

    def _not_interruptible(self) -> None:
        with self._lock:
            self._making_on = None

    def _interrupt(self, making: int, times: int) -> None:
        """Interrupt the statement running on the making's cursor, and again a moment later
        while the making goes on: DuckDB's interrupt lands only on a statement already running,
        and one that passed its check in _Statements.run may not have begun (at most 50 times
        in 5 s)."""
        with self._lock:
            if self._making is None or self._makings != making:
                return  # that making is over
            if self._making_on is not None:
                self._making_on.interrupt()
            if times >= 50:
                return
        again = threading.Timer(0.1, self._interrupt, args=(making, times + 1))
        again.daemon = True
        again.start()

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

    def close(self) -> None:
        """Wait for the weeks being made, if any; make no more."""
        with self._lock:
            self._closed = True
            maker = self._maker
        if maker is not None:
            maker.join()


def _rows(lists: dict[str, list], names: tuple[str, ...]) -> zip:
    """A struct of lists as its rows, each of `names` in order."""
    return zip(*(lists[name] for name in names), strict=True)
