"""The cursors store weeks are read on: up to CURSORS, kept, each answering one call at a time
(a cursor is not for threads; DuckDB runs several cursors' reads in parallel). Each keeps what
it has made, so that the next answer on it need not make it again."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from storemon.database import run_all
from storemon.report import report_files

# Store weeks answered at once, each on a cursor of its own.
CURSORS = 4


class Cursor:
    """A cursor kept for store weeks, with what it has made: its macros and views, and the
    report_window of which report and data."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.cur = cur
        self.window: tuple[str, str | None] | None = None  # (report_id, batch) it was made for
        self.views_made = False  # the views of sql/report, sql/store and its rows, once made, stay
        self.prepared: set[str] = set()  # the kept databases it has prepared its read of


class Cursors:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._idle: queue.LifoQueue[Cursor] = queue.LifoQueue()
        self._free = threading.BoundedSemaphore(CURSORS)
        self._lock = threading.Lock()  # making and closing cursors
        self._closed = False

    @contextmanager
    def cursor(self) -> Iterator[Cursor]:
        """A kept cursor of its own for the caller; made at first need, up to CURSORS, with the
        report's macros."""
        with self._free:
            try:
                kept = self._idle.get_nowait()
            except queue.Empty:
                with self._lock:
                    if self._closed:
                        raise RuntimeError("the service is closing") from None
                    cur = self._con.cursor()
                run_all(cur, report_files("00", "01"))
                kept = Cursor(cur)
            try:
                yield kept
            finally:
                with self._lock:
                    if self._closed:
                        kept.cur.close()
                    else:
                        self._idle.put(kept)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            while True:
                try:
                    self._idle.get_nowait().cur.close()
                except queue.Empty:
                    break
