"""The service's front: reports computed in the background, their state kept in the database.

One process holds the DuckDB file. Each report runs on a worker thread with its own cursor
(DuckDB releases the GIL), computed by the backend (storemon/backends.py: here, in one
transaction, so it reads one consistent snapshot even while new data is loaded; or on a
cluster). Its run's state is report_runs (storemon/runs.py), its files storemon/report_files.py,
its finished rows `report_rows` and beside; retention storemon/retention.py; the data's writes
storemon/data_writer.py.

Reports asked for the same data, as-of instant and SQL are computed once: a trigger that finds
such a report queued, running or complete gets its own id, and shares that computation (its
row names it in `computed_by`; its files are hard links to the same bytes).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import duckdb

from storemon import visible
from storemon.alerts import DEFAULT_ALERT_AFTER
from storemon.alerts.events import alert_tables
from storemon.alerts.reads import (
    AlertEvent,
    DownStore,
    down_counts,
    down_now,
    events_after,
    events_by_kind,
    store_events,
    stores_with_events,
)
from storemon.backends import Backend, Local
from storemon.client import service_file
from storemon.current import Current
from storemon.data_writer import DataInfo, DataWriter
from storemon.database import (
    connect,
    rollback,
    run_all,
    sql_files,
    sql_version,
)
from storemon.finished import Finished
from storemon.instants import instant, iso, micros
from storemon.keys import KeyInfo, KeyRing, add_key, list_keys, revoke_key
from storemon.limits import Limits
from storemon.metrics import Figures, Metrics
from storemon.notify import Notifier, Target
from storemon.notify.outbox import Delivery
from storemon.report import (
    AS_OF_REACH,
    FORMATS,
    refuse_as_of,
)
from storemon.report_files import ReportFiles
from storemon.results import BatchAnswer, IngestResult
from storemon.retention import retire, retire_now
from storemon.runs import (
    Busy,
    Run,
    RunStore,
    failure_reason,
    new_report_id,
)
from storemon.snapshots import inputs_missing, write_inputs, write_runs
from storemon.store_week import StoreWeek, StoreWeeks

log = logging.getLogger("storemon.service")

# A report of at least this many stores has its stores' weeks kept as it finishes, if a store
# week of the report that finished before it was read (storemon/store_week/kept.py); a smaller
# one's at the first store week asked (computing one is quick for it).
KEEP_AS_IT_FINISHES = 1000
T = TypeVar("T")
RECORD_ATTEMPTS = 5  # a report's failure, recorded on a disk that may be full for a moment


@dataclass(frozen=True)
class AsOfRange:
    earliest: datetime
    latest: datetime


class ReportService:
    def __init__(
        self,
        db: Path,
        workers: int = 2,
        url: str | None = None,
        limits: Limits | None = None,
        backend: Backend | None = None,
        token: str | None = None,
        alert_after: int = DEFAULT_ALERT_AFTER,
        notify: tuple[Target, ...] = (),
        notify_secret: str = "",
    ) -> None:
        """`backend`: where reports are computed (storemon/backends.py; default: here, on the
        database); the database keeps the reports' state and rows either way. `token`: the
        admin key, beside the keys of api_keys (storemon/keys.py)."""
        self.db = Path(db)
        self.backend = backend or Local()
        self.limits = limits or Limits()
        self.files = ReportFiles(self.db.parent / "reports")
        self.finished = Finished()  # what the pages read of finished reports (storemon/finished.py)
        self.current = Current()  # and of the data as it is now (storemon/current.py)
        self.con = connect(self.db)
        run_all(self.con, sql_files("service"))
        self.key_ring = KeyRing(self.con, token or "")
        self.workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="report")
        self.runs = threading.Lock()  # changes of report state that involve several rows
        self.store_weeks = StoreWeeks(self.con, self.backend)
        self.alert_after = alert_after
        self.metrics = Metrics()
        self.writer = DataWriter(
            self.con, self.limits, self.backend, alert_after=alert_after, on_batch=self._batched
        )
        self.url = url
        if url:
            service_file(self.db).write_text(json.dumps({"url": url, "pid": os.getpid()}))
        self._resume()
        with self.runs:
            self._removed(retire_now(self.con, self.limits))
        self.writer.forget_old_batches()
        if self.data is not None:
            alert_tables(self.con)  # (a database loaded before storemon kept alerts)
        if self.data is not None and inputs_missing(self.con):
            write_inputs(self.con)  # loaded before storemon kept copies (of every table)
        write_runs(self.con)
        if notify:  # the events' delivery (storemon/notify/), beside the batches, never on them
            self.notifier = Notifier(self.con, notify, notify_secret)
            self.notifier.start()
        self.metrics.read_data_with(
            Figures(
                down_now=self.down_now_counts,
                events_by_kind=lambda: self._read(events_by_kind),
                reports_by_status=lambda: self._read(RunStore.count_by_status),
                deliveries=self.delivery_summary,
                latest_poll_us=lambda: (self.poll_range() or (None, None))[1],
                last_batch_us=self._last_batch_us,
            )
        )

    # --- alerts --------------------------------------------------------------------------

    def _data_changed(self) -> None:
        """A load or a batch was committed: what was read of the data before is read again."""
        self.store_weeks.data_changed()
        self.current.changed()

    def _batched(self, answer: BatchAnswer, seconds: float) -> None:
        """A batch was committed: counted, and its events' delivery woken."""
        self._data_changed()
        if answer.repeated:
            return
        self.metrics.batch_seconds.labels(answer.kind).observe(seconds)
        if answer.events and self.notifier is not None:
            self.notifier.wake()

    def alerts(
        self, after: int, limit: int, groups: frozenset[str] | None = None
    ) -> tuple[list[AlertEvent], int]:
        """Events after `after`, oldest first (alerts.reads.events_after)."""
        return self._read(lambda cur: events_after(cur, after, limit, groups))

    def down_now(
        self, groups: frozenset[str] | None = None, limit: int | None = None
    ) -> tuple[list[DownStore], int]:
        """The stores down now (the first `limit`), and how many in all."""
        return self.current.get(
            ("down_now", groups, limit),
            lambda: self._read(lambda cur: down_now(cur, self.alert_after, groups, limit)),
        )

    def down_now_counts(self) -> tuple[int, dict[str, int]]:
        """Stores down now, in all and per group."""
        return self._read(lambda cur: down_counts(cur, self.alert_after))

    def store_events(self, store_id: str) -> list[AlertEvent]:
        with_events = self.current.get(
            ("stores_with_events",), lambda: self._read(stores_with_events)
        )
        if store_id not in with_events:  # most stores, most of the time
            return []
        return self.current.get(
            ("store_events", store_id), lambda: self._read(lambda cur: store_events(cur, store_id))
        )

    def delivery_summary(self) -> dict[str, dict[str, int]]:
        """Per target, how many deliveries are delivered, pending, failed (none: no target)."""
        notifier = self.notifier
        return notifier.summary() if notifier is not None else {}

    def deliveries(self, limit: int = 100) -> list[Delivery]:
        """The latest deliveries to the targets, newest event first (none: no target)."""
        return self.notifier.deliveries(limit) if self.notifier is not None else []

    notifier: Notifier | None = None
    """What delivers the events (storemon/notify/), when the service has targets."""

    def _read(self, read: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with self.con.cursor() as cur:
            return read(cur)

    def _last_batch_us(self) -> int | None:
        data = self.data
        if data is None or data.last_batch_at is None:
            return None
        return micros(datetime.fromisoformat(data.last_batch_at.replace("Z", "+00:00")))

    def close(self) -> None:
        if self.notifier is not None:
            self.notifier.close()
        self.workers.shutdown(wait=True, cancel_futures=True)
        self.writer.close()
        if self.url:
            service_file(self.db).unlink(missing_ok=True)
        self.store_weeks.close()
        self.backend.close()
        self.con.close()

    # --- reports -------------------------------------------------------------------------

    def poll_range(self) -> tuple[int, int] | None:
        """The first and latest poll of the data reports read (epoch us; None: no polls)."""
        data = self.data
        return self.backend.poll_range(
            data.first_poll if data else None, data.latest_poll if data else None
        )

    def as_of_range(self) -> AsOfRange | None:
        """The instants a report may be asked for: from the first poll to the latest + 7 days."""
        polls = self.poll_range()
        if polls is None:
            return None
        return AsOfRange(instant(polls[0]), instant(polls[1]) + AS_OF_REACH)

    def trigger(self, as_of: datetime | None = None) -> str:
        """Queue a report (or share one asked for the same thing); its id at once. An `as_of`
        the report would refuse is refused now, in the report's words (BadAsOf), before
        anything is queued."""
        if as_of is not None:
            refuse_as_of(as_of, self.poll_range())
        report_id = new_report_id()
        key = self._share_key(as_of)
        with self.runs, self.con.cursor() as cur:
            leader = RunStore.shareable(cur, key)
            if (
                leader is not None
                and leader[1] == "Complete"
                and not self.files.complete(leader[0])
            ):
                leader = None  # its files are gone: compute anew
            if leader is None:
                waiting = RunStore.waiting(cur)
                if waiting >= self.limits.max_waiting:
                    raise Busy(
                        f"{waiting} reports are already waiting to be computed (the limit, "
                        "--max-waiting): try again when they are done"
                    )
            cur.execute("BEGIN TRANSACTION")
            RunStore.queue(
                cur, report_id, as_of.isoformat() if as_of else None, key, leader and leader[0]
            )
            retired = []
            if leader is not None and leader[1] == "Complete":
                self._finish_followers(cur, leader[0], [report_id])
                retired = retire(cur, self.limits)
            elif leader is not None and leader[1] == "Running":
                RunStore.follow_running(cur, report_id)
            cur.execute("COMMIT")
            write_runs(cur)
        self._removed(retired)
        if leader is None:
            log.info("report %s triggered (as of %s)", report_id, as_of or "the latest poll")
            self.workers.submit(self._compute, report_id)
        else:
            log.info("report %s triggered: shares the computation of %s", report_id, leader[0])
        return report_id

    def get(self, report_id: str) -> Run | None:
        """The report's run; a Complete one is kept (it changes only when removed)."""

        def read() -> Run | None:
            with self.con.cursor() as cur:
                return RunStore.get(cur, report_id)

        return self.finished.get(
            report_id, ("run",), read, lambda run: run is not None and run.status == "Complete"
        )

    def recent(self, limit: int = 50) -> list[Run]:
        """The newest reports that were not removed, newest first."""
        with self.con.cursor() as cur:
            return RunStore.recent(cur, limit)

    def notes(self, report_id: str, groups: frozenset[str] | None = None) -> list[tuple]:
        """A finished report's notes: (finding, stores, examples, meaning); over the stores of
        `groups` alone when given."""
        with self.con.cursor() as cur:
            if groups is not None:
                return visible.visible_notes(cur, report_id, groups)
            return RunStore.notes(cur, report_id)

    def keys(self) -> list[KeyInfo]:
        with self.con.cursor() as cur:
            return list_keys(cur)

    def add_key(self, name: str, groups: list[str] | None, write: bool, admin: bool) -> str:
        """Make a key (storemon/keys.py); it works at once."""
        with self.con.cursor() as cur:
            key = add_key(cur, name, groups, write, admin)
        self.key_ring.reload()
        return key

    def revoke_key(self, name: str) -> bool:
        """Revoke a key; its requests and sessions are refused at once."""
        with self.con.cursor() as cur:
            revoked = revoke_key(cur, name)
        self.key_ring.reload()
        return revoked

    def visible_stores(self, report_id: str, groups: frozenset[str]) -> int:
        """How many of a finished report's stores `groups` see."""
        return len(self._visible(report_id, groups))

    def sees_store(self, report_id: str, store_id: str, groups: frozenset[str]) -> bool:
        """Whether `groups` see the store in finished report `report_id`."""
        return store_id in self._visible(report_id, groups)

    def _visible(self, report_id: str, groups: frozenset[str]) -> frozenset[str]:
        """The stores of finished report `report_id` that `groups` see (none before it is)."""

        def read() -> tuple[bool, frozenset[str]]:
            with self.con.cursor() as cur:
                cur.execute("BEGIN TRANSACTION")  # its state and its rows in one snapshot
                try:
                    run = RunStore.get(cur, report_id)
                    complete = run is not None and run.status == "Complete"
                    return complete, visible.stores_seen(cur, report_id, groups)
                finally:
                    rollback(cur)

        return self.finished.get(report_id, ("visible", groups), read, lambda seen: seen[0])[1]

    def visible_file(self, report_id: str, part: str, suffix: str, groups: frozenset[str]) -> Path:
        """The part of a finished report that `groups` see, as a new temporary file (the
        caller removes it)."""
        handle, name = tempfile.mkstemp(prefix="storemon-visible-", suffix=suffix)
        os.close(handle)
        path = Path(name)
        with self.con.cursor() as cur:
            visible.write_visible(cur, report_id, part, groups, path, FORMATS[suffix])
        return path

    def quality(self) -> tuple[list[tuple], list[tuple]]:
        """The last load's files and the findings as of the latest batch (DataWriter)."""
        return self.writer.quality()

    def load(self, status: Path, hours: Path, timezones: Path, **options) -> IngestResult:
        """Replace the loaded data (DataWriter.load)."""
        try:
            return self.writer.load(status, hours, timezones, **options)
        finally:
            self._data_changed()

    def append(self, kind: str, path: Path, **options) -> BatchAnswer:
        """Append one batch, durably (DataWriter.append)."""
        return self.writer.append(kind, path, **options)

    @property
    def data(self) -> DataInfo | None:
        """What data is loaded (for /health), as of the last load or batch."""
        return self.writer.data

    def store_week(self, report_id: str, store_id: str) -> StoreWeek | None:
        """One store's week in a finished report (None: the report has no row for it)."""
        return self.store_weeks.get(report_id, store_id)

    def file(self, report_id: str, suffix: str) -> Path:
        return self.files.file(report_id, suffix)

    def _share_key(self, as_of: datetime | None) -> str | None:
        """What makes two reports the same: the data they read, the instant, the SQL."""
        data = self.data
        version = self.backend.data_version(
            (data.last_batch_id or data.loaded_at) if data else None
        )
        polls = self.poll_range()
        if version is None or polls is None:
            return None
        now = iso(as_of) if as_of else iso(instant(polls[1]))
        return f"{version}|{now}|{sql_version()}"

    def _compute(self, report_id: str) -> None:
        with self.con.cursor() as cur:
            try:
                self._compute_with(cur, report_id)
            except Exception as error:  # any failure is the report's outcome, never the worker's
                self._fail(cur, report_id, error)

    def _compute_with(self, cur: duckdb.DuckDBPyConnection, report_id: str) -> None:
        with self.runs:
            started = RunStore.start(cur, report_id)
            if started is None:
                return  # already taken or finished
            write_runs(cur)
        log.info("report %s started", report_id)
        self.store_weeks.give_way()
        as_of = instant(started[0]) if started[0] is not None else None
        computed = self.backend.compute(cur, as_of, self.files.outputs(report_id))
        shared = self._complete(
            cur,
            report_id,
            lambda cur: computed.keep(cur, report_id),
            [
                computed.as_of_us,
                computed.stores,
                sql_version(),
                computed.seconds,
                computed.data_batch_at,
                computed.data_batch_id,
            ],
        )
        computed.done()
        if computed.stores >= KEEP_AS_IT_FINISHES:
            self.store_weeks.keep_as_finished(report_id, computed.data_batch_id)
        self.metrics.report_seconds.observe(computed.seconds)
        log.info(
            "report %s finished%s: %d stores in %.2f s%s",
            report_id,
            computed.said,
            computed.stores,
            computed.seconds,
            f" (and {shared} report(s) that shared it)" if shared else "",
        )

    def _complete(
        self,
        cur: duckdb.DuckDBPyConnection,
        report_id: str,
        keep: Callable[[duckdb.DuckDBPyConnection], None],
        facts: list,
    ) -> int:
        """In one commit: the finished report's rows (`keep` inserts them), its run Complete
        (`facts`: its now in epoch us, stores, sql_version, seconds, data_batch_at,
        data_batch_id), the reports that shared it, and retention (the client never sees
        N + 1). Returns how many reports shared it."""
        with self.runs:
            cur.execute("BEGIN TRANSACTION")
            RunStore.clear_rows(cur, report_id)
            keep(cur)
            followers = RunStore.complete(cur, report_id, facts)
            self._finish_followers(cur, report_id, followers)
            retired = retire(cur, self.limits)
            cur.execute("COMMIT")
            write_runs(cur)
        self._removed(retired)
        return len(followers)

    def _removed(self, report_ids: list[str]) -> None:
        """Retention removed these reports, or they failed: their files go, and what the pages
        kept of them."""
        self.files.remove(report_ids)
        self.finished.forget(report_ids)

    def _finish_followers(
        self, cur: duckdb.DuckDBPyConnection, leader: str, followers: list[str]
    ) -> None:
        """Complete `followers` with the finished `leader`'s rows and files (hard links)."""
        for follower in followers:
            self.files.share(leader, follower)
            RunStore.finish_follower(cur, leader, follower)

    def _fail(self, cur: duckdb.DuckDBPyConnection, report_id: str, error: Exception) -> None:
        """The report Failed, with a reason anyone may read (no path of this machine: the log
        has the whole error), and nothing of it left on disk."""
        with contextlib.suppress(duckdb.Error):  # when no transaction was open
            rollback(cur)
        self._removed([report_id])  # those written before the failure (first: a full
        # disk then has room for the run's new state)
        full = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        log.error("report %s failed: %s", report_id, full)
        for attempt in range(RECORD_ATTEMPTS):
            try:
                with self.runs:
                    RunStore.fail(cur, report_id, failure_reason(error))
                    write_runs(cur)
                return
            except Exception:  # the disk is too full even for that, for now: another
                # report's partial files may be about to go (two failing at once on a full
                # disk: the first could not commit its state while the second wrote)
                with contextlib.suppress(duckdb.Error):
                    rollback(cur)
                if attempt + 1 == RECORD_ATTEMPTS:  # the next start runs it again
                    log.exception("report %s: its failure could not be recorded", report_id)
                else:
                    time.sleep(0.25 * (attempt + 1))

    def _resume(self) -> None:
        """Reports cut off by a stop run again; one cut off too often fails with the reason."""
        with self.con.cursor() as cur:
            queued = RunStore.resume(cur)
        if queued:
            log.info("resuming %d report(s) left unfinished", len(queued))
        for report_id in queued:
            self.workers.submit(self._compute, report_id)
