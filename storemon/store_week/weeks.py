"""StoreWeeks: a store's week from its report's kept weeks where they are kept and the data is
still the data the report read (storemon/store_week/kept.py), else computed for that store
alone (storemon/store_week/computed.py), each on a kept cursor of its own."""

from __future__ import annotations

import threading

import duckdb

from storemon.backends import Backend
from storemon.store_week.computed import compute, latest_batch
from storemon.store_week.cursors import Cursors
from storemon.store_week.kept import KEPT_WEEKS, KeptWeeks
from storemon.store_week.shapes import StoreWeek


class StoreWeeks:
    def __init__(
        self, con: duckdb.DuckDBPyConnection, backend: Backend, kept_weeks: int = KEPT_WEEKS
    ) -> None:
        """`backend`: where the reports were computed, which gives a store's material
        (storemon/backends.py); `kept_weeks`: how many reports' weeks to keep (0: none; only
        where the reports were computed from this database)."""
        self._backend = backend
        self._cursors = Cursors(con)
        self._kept = KeptWeeks(con, kept_weeks)
        self._keeps = backend.keeps_store_weeks and kept_weeks > 0
        self._lock = threading.Lock()  # the data's last batch, below
        self._latest: str | None = None  # the data's last batch, as last read ...
        self._latest_read = False  # ... if read since the data last changed
        self._changes = 0  # times the data changed (data_changed)

    def get(self, report_id: str, store_id: str) -> StoreWeek | None:
        """The store's week in finished report `report_id`, or None when the report has no row
        for that store."""
        with self._cursors.cursor() as kept:
            latest = self._latest_batch(kept.cur)
            if self._keeps:
                week = self._kept.read(kept, report_id, store_id, latest)
                if week is not None:
                    return week
            # (not kept, no such store, or its weeks gone since: computed, which says which)
            computed = compute(kept, self._backend, report_id, store_id)
        if computed is None:
            return None
        week, batch = computed
        if not week.data_changed:
            self.keep_later(report_id, batch)
        return week

    def keep_later(self, report_id: str, batch: str | None) -> None:
        """Keep the weeks of every store of finished report `report_id`, which read the data up
        to `batch`, in the background (storemon/store_week/kept.py), if weeks are kept here: as
        it finishes, and at the first store week asked of it."""
        if self._keeps:
            self._kept.keep_later(report_id, batch)

    def keep_as_finished(self, report_id: str, batch: str | None) -> None:
        """Keep the weeks of a report that just finished, if weeks are kept here and a store
        week of the report that finished before it was read (storemon/store_week/kept.py)."""
        if self._keeps:
            self._kept.keep_as_finished(report_id, batch)

    def give_way(self) -> None:
        """A report starts computing: the weeks being kept, if any, stop (a report comes
        first); they are kept again at their report's next store week."""
        self._kept.give_way()

    def kept(self) -> list[str]:
        """The reports whose weeks are kept, the one read least recently first."""
        return self._kept.reports()

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
        latest = latest_batch(cur)
        with self._lock:
            if self._changes == changes:  # no change came in while it was read
                self._latest, self._latest_read = latest, True
        return latest

    def close(self) -> None:
        self._kept.close()
        self._cursors.close()
