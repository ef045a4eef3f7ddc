"""The service's writes to the data: a full load, a batch, the retentions that follow a batch
(the polls no report reads, sql/append/50_poll_retention.sql; the batch log's,
sql/append/60_batch_retention.sql), the analysts' copies rewritten a little after a burst of
batches, and what the data holds (for /health). One load or batch at a time (`loader`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import duckdb
import msgspec

from storemon.alerts import DEFAULT_ALERT_AFTER
from storemon.append import (
    append_batch,
    apply_poll_retention,
    as_csv,
    forget_old_batches,
    refresh_quality_of,
)
from storemon.backends import Backend, Batch
from storemon.database import has_table, one, rollback, table_names
from storemon.ingest import QUALITY_COLUMNS, ingest
from storemon.instants import ISO
from storemon.limits import Limits
from storemon.results import BatchAnswer, IngestResult
from storemon.snapshots import write_inputs

log = logging.getLogger("storemon.service")

SNAPSHOT_DELAY = 2.0  # seconds: a burst of batches rewrites the analysts' copies once


class DataInfo(msgspec.Struct, frozen=True):
    """What data is loaded, read once at start and after every load (for /health)."""

    polls: int
    stores: int
    first_poll: str | None
    latest_poll: str | None
    loaded_at: str | None
    """When the last full load was."""
    last_batch_at: str | None
    """When the last batch (a load or an append) came in: how fresh the data is."""
    last_batch_id: str | None
    batches_remembered: int = 0
    """Appended batches in the batch log (bounded by limits.keep_batches, keep_batch_days)."""
    rejected_rows: int = 0
    """Rejected rows kept: the load's, and those of the batches remembered."""


class DataWriter:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        limits: Limits,
        backend: Backend,
        *,
        alert_after: int = DEFAULT_ALERT_AFTER,
        on_batch: Callable[[BatchAnswer, float], None] = lambda _answer, _seconds: None,
    ) -> None:
        """`alert_after`: K of the alerts (storemon/alerts/); `on_batch` is told of each batch
        committed and how long it took (the service wakes its deliveries and counts it)."""
        self.con = con
        self.alert_after = alert_after
        self.on_batch = on_batch
        self.limits = limits
        self.backend = backend
        self.loader = threading.Lock()  # one load at a time
        self._timer_lock = threading.Lock()  # guards the two below
        self._snapshot_timer: threading.Timer | None = None
        self._stale = False  # batches came in since data_quality and the copies were made
        self._closed = False  # (guarded by `loader`) a timer that fires now writes nothing
        self._retained_day: int | None = None  # the UTC day of the last retention's cutoff
        # (guarded by `loader`) the cursor batches are appended on: its parsing macros are made
        # once (ingest.parse_macros), and every variable a batch reads, the batch sets
        self._appender: duckdb.DuckDBPyConnection | None = None
        # What is loaded (for /health, the pages and a report's data version): read again when
        # asked after a load or batch changed it, not in the batch's answer (8 ms of it).
        self._data_lock = threading.Lock()
        self._data_changed = False
        self._data = self._read_data_info()

    @property
    def data(self) -> DataInfo | None:
        with self._data_lock:
            if self._data_changed:
                self._data_changed = False  # first: a batch committed while reading marks it again
                self._data = self._read_data_info()
            return self._data

    def _changed(self) -> None:
        with self._data_lock:
            self._data_changed = True

    def close(self) -> None:
        """Write the analysts' copies now if batches came in since they were last written; a
        rewrite already under way (its timer fired) ends first, and none starts after."""
        with self._timer_lock:
            pending, self._snapshot_timer = self._snapshot_timer, None
        if pending is not None:
            pending.cancel()
        with self.loader:
            self._closed = True
            self._rewrite_snapshots()
            if self._appender is not None:
                self._appender.close()

    def quality(self) -> tuple[list[tuple], list[tuple]]:
        """The last load's files (load_summary) and findings (data_quality), the findings as
        of the latest batch."""
        with self._timer_lock:
            stale = self._stale
        if stale:
            with self.loader, self.con.cursor() as cur:
                cur.execute("BEGIN TRANSACTION")
                refresh_quality_of(cur)
                cur.execute("COMMIT")
        with self.con.cursor() as cur:
            if not has_table(cur, "data_quality"):
                return [], []
            return (
                cur.execute(
                    "SELECT source, file, data_rows, kept_rows, duplicates, rejected "
                    "FROM load_summary ORDER BY source"
                ).fetchall(),
                cur.execute(f"SELECT {QUALITY_COLUMNS} FROM data_quality").fetchall(),
            )

    def forget_old_batches(self) -> None:
        """The batch log's retention on its own (at start); after that, with each batch."""
        with self.loader, self.con.cursor() as cur:
            if not has_table(cur, "batches"):
                return
            cur.execute("BEGIN TRANSACTION")
            forgotten = forget_old_batches(cur, self.limits.batch_retention())
            cur.execute("COMMIT")
        if forgotten:
            log.info("the batch log forgot %d old batch(es)", forgotten)

    def load(
        self,
        status: Path,
        hours: Path,
        timezones: Path,
        *,
        quote_files: bool = True,
        allow_empty: bool = False,
        special_hours: Path | None = None,
        groups: Path | None = None,
    ) -> IngestResult:
        """Replace the loaded data; running reports keep reading the data they started with."""
        self.backend.refuse_writes()
        with self.loader, self.con.cursor() as cur:
            result = ingest(
                cur,
                status,
                hours,
                timezones,
                log=log.info,
                quote_files=quote_files,
                allow_empty=allow_empty,
                special_hours=special_hours,
                groups=groups,
            )
        self._changed()
        log.info("loaded %d stores in %.2f s", result.stores, result.seconds)
        return result

    def append(
        self,
        kind: str,
        path: Path,
        *,
        shown: str,
        idempotency_key: str | None,
        media: str,
        allow_empty: bool = False,
    ) -> BatchAnswer:
        """Append one batch, durably (committed before this returns); reports already running
        keep the data they started with, reports triggered after see it."""
        started = time.perf_counter()
        with ExitStack() as scratch:
            csv_path, offset = as_csv(path, media, kind, scratch)
            elsewhere = self.backend.append(
                Batch(kind, csv_path, shown, idempotency_key, offset, allow_empty)
            )
            if elsewhere is not None:  # the reports' data is not in this database
                self.on_batch(elsewhere, time.perf_counter() - started)
                return elsewhere
            with self.loader:
                if self._appender is None:
                    self._appender = self.con.cursor()
                result = append_batch(
                    self._appender,
                    kind,
                    csv_path,
                    shown=shown,
                    idempotency_key=idempotency_key,
                    batch_retention=self.limits.batch_retention(),
                    line_offset=offset,
                    quote_files=False,
                    refresh_quality=False,  # once for a burst: _write_snapshots
                    allow_empty=allow_empty,
                    alert_after=self.alert_after,
                    log=log.info,
                )
        self.on_batch(result, time.perf_counter() - started)
        if not result.repeated:
            self._retain_polls()
            self._changed()
            self._snapshots_soon()
        return result

    def _retain_polls(self) -> None:
        """--keep-days: drop the polls no report reads any more (sql/append/50_poll_retention.sql)
        once a day of data, in a transaction of its own after the batch's: it changes no report,
        and hourly batches then pay for it once in 24. So the database holds at most N + 1 days
        of polls (and those reports still read)."""
        keep_days = self.limits.keep_days
        if keep_days is None:
            return
        with self.loader, self.con.cursor() as cur:
            (latest_us,) = one(cur, "SELECT epoch_us(max(timestamp_utc)) FROM polls")
            day = None if latest_us is None else (latest_us // 86_400_000_000) - keep_days
            if day is None or day == self._retained_day:
                return
            cur.execute("BEGIN TRANSACTION")
            try:
                apply_poll_retention(cur, keep_days)
                cur.execute("COMMIT")
            except Exception:  # the batch is committed and answered; the next one tries again
                rollback(cur)
                log.exception("retention of polls failed; the next batch tries again")
                return
            self._retained_day = day

    def _snapshots_soon(self) -> None:
        """Rewrite the analysts' Parquet copies a little later, once for a burst of batches."""
        with self._timer_lock:
            self._stale = True
            if self._snapshot_timer is not None:
                return
            self._snapshot_timer = threading.Timer(SNAPSHOT_DELAY, self._write_snapshots)
            self._snapshot_timer.daemon = True
            self._snapshot_timer.start()

    def _write_snapshots(self) -> None:
        """The timer's: after a burst of batches (unless the service closed meanwhile)."""
        with self._timer_lock:
            self._snapshot_timer = None
        with self.loader:
            if not self._closed:
                self._rewrite_snapshots()

    def _rewrite_snapshots(self) -> None:
        """data_quality made again, and the analysts' copies, if batches came in since they
        were; the caller holds `loader`."""
        with self._timer_lock:
            if not self._stale:
                return
            self._stale = False
        try:
            with self.con.cursor() as cur:
                cur.execute("BEGIN TRANSACTION")
                refresh_quality_of(cur)
                cur.execute("COMMIT")
                write_inputs(cur)
        except Exception:  # the copies are a convenience; the next batch tries again
            log.exception("could not rewrite the analysts' copies of the data")

    def _read_data_info(self) -> DataInfo | None:
        with self.con.cursor() as cur:
            tables = table_names(cur)  # asked once: it lists the catalog (after every batch)
            if "polls" not in tables:
                return None
            polls, stores, first, latest, loaded = one(
                cur,
                f"SELECT (SELECT count(*) FROM polls), (SELECT count(*) FROM stores), "
                f"(SELECT strftime(min(timestamp_utc), '{ISO}') FROM polls), "
                f"(SELECT strftime(max(timestamp_utc), '{ISO}') FROM polls), "
                f"(SELECT strftime(max(loaded_at), '{ISO}') FROM load_summary)",
            )
            last_at, last_id, remembered = (
                cur.execute(
                    f"SELECT strftime(received_at, '{ISO}'), batch_id, "
                    "(SELECT count(*) FROM batches WHERE kind = 'append') FROM batches "
                    "ORDER BY received_at DESC, batch_id LIMIT 1"
                ).fetchone()
                if "batches" in tables
                else None
            ) or (None, None, 0)
            (rejected,) = one(cur, "SELECT count(*) FROM rejected_rows")
            return DataInfo(
                polls, stores, first, latest, loaded, last_at, last_id, remembered, rejected
            )
