"""Reports computed in the background, their state kept in the database.

One process holds the DuckDB file. Each report runs on a worker thread with its own cursor
(DuckDB releases the GIL), inside one transaction, so it reads one consistent snapshot even
while new data is loaded. A report's life: Queued -> Running -> Complete | Failed, and later
Removed by retention, recorded in `report_runs`; finished rows go to `report_rows` and to
`<reports>/<id>.csv` and `.parquet`.

Reports asked for the same data, as-of instant and SQL are computed once: a trigger that finds
such a report queued, running or complete gets its own id, and shares that computation (its
row names it in `computed_by`; its files are hard links to the same bytes).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import duckdb
import msgspec

from storemon.backends import KEPT_ROWS, Backend, Local
from storemon.data_writer import DataInfo, DataWriter
from storemon.database import (
    connect,
    rollback,
    run_all,
    scalar,
    sql_files,
    sql_version,
)
from storemon.errors import StoremonError, is_disk_full
from storemon.instants import ISO, instant, iso
from storemon.limits import Limits
from storemon.report import (
    AS_OF_REACH,
    NOTE_COLUMNS,
    refuse_as_of,
)
from storemon.report_files import ReportFiles
from storemon.results import BatchAnswer, IngestResult
from storemon.retention import retire
from storemon.snapshots import snapshot_dir, write_inputs, write_runs
from storemon.store_week import StoreWeek, StoreWeeks

log = logging.getLogger("storemon.service")

MAX_ATTEMPTS = 3
SNAPSHOT_DELAY = 2.0  # seconds: a burst of batches rewrites the analysts' copies once
RUN_COLUMNS = (
    "report_id, status, "
    f"strftime(requested_as_of, '{ISO}') AS requested_as_of, strftime(as_of, '{ISO}') AS as_of, "
    f"sql_version, strftime(created_at, '{ISO}') AS created_at, "
    f"strftime(started_at, '{ISO}') AS started_at, strftime(finished_at, '{ISO}') AS finished_at, "
    "seconds, stores, attempts, error, computed_by, "
    f"strftime(removed_at, '{ISO}') AS removed_at, "
    f"strftime(data_batch_at, '{ISO}') AS data_batch_at"
)


class Run(msgspec.Struct, frozen=True):
    """One row of report_runs, instants as ISO text in UTC (also the API's shape for it)."""

    report_id: str
    status: str
    requested_as_of: str | None
    as_of: str | None
    sql_version: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    seconds: float | None
    stores: int | None
    attempts: int
    error: str | None
    computed_by: str | None
    removed_at: str | None
    data_batch_at: str | None  # when the last batch in the data it read came in


Unready = Literal["unknown", "removed", "failed", "pending"]
# The HTTP status each kind of unready report is answered with, by the API and the pages alike.
UNREADY_STATUS: dict[Unready, int] = {"unknown": 404, "removed": 410, "failed": 500, "pending": 202}


def unready(run: Run | None) -> Unready | None:
    """Why a report has no files to give (None: it is Complete and has them)."""
    if run is None:
        return "unknown"
    if run.status == "Removed":
        return "removed"
    if run.status == "Failed":
        return "failed"
    if run.status != "Complete":
        return "pending"
    return None


class Busy(StoremonError):
    """Too many reports are waiting: try again later."""


def failure_reason(error: BaseException) -> str:
    """Why a report failed, for anyone who asks for it: storemon's own message, or the kind of
    error with every path of this machine left out (the log has the whole error)."""
    if is_disk_full(error):
        return (
            "no space left on the disk that holds the database and the reports: nothing of this "
            "report was kept; free some space and run it again"
        )
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if isinstance(error, StoremonError):
        return text
    return PATH.sub("<path>", text)


PATH = re.compile(r"(?<![\w:/.])(?:/[^\s\"'/]+)+/?")


def new_report_id() -> str:
    """128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def service_file(db: Path) -> Path:
    """Where a running service says how to reach it, for `storemon ingest` and `report`."""
    return db.with_name(db.name + ".service.json")


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
    ) -> None:
        """`backend`: where reports are computed (storemon/backends.py; default: here, on the
        database); the database keeps the reports' state and rows either way."""
        self.db = Path(db)
        self.backend = backend or Local()
        self.limits = limits or Limits()
        self.files = ReportFiles(self.db.parent / "reports")
        self.con = connect(self.db)
        run_all(self.con, sql_files("service"))
        self.workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="report")
        self.runs = threading.Lock()  # changes of report state that involve several rows
        self.store_weeks = StoreWeeks(self.con, self.backend)
        self.writer = DataWriter(self.con, self.limits, self.backend)
        self.url = url
        if url:
            service_file(self.db).write_text(json.dumps({"url": url, "pid": os.getpid()}))
        self._resume()
        self._apply_retention()
        self.writer.forget_old_batches()
        snapshots = snapshot_dir(self.con)
        if self.data is not None and snapshots and not (snapshots / "polls.parquet").exists():
            write_inputs(self.con)  # a database loaded before storemon kept snapshots
        write_runs(self.con)

    def close(self) -> None:
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
            leader = self._shareable(cur, key)
            if (
                leader is not None
                and leader[1] == "Complete"
                and not self.files.complete(leader[0])
            ):
                leader = None  # its files are gone: compute anew
            if leader is None:
                waiting = scalar(
                    cur,
                    "SELECT count(*) FROM report_runs "
                    "WHERE status IN ('Queued', 'Running') AND computed_by IS NULL",
                )
                if waiting >= self.limits.max_waiting:
                    raise Busy(
                        f"{waiting} reports are already waiting to be computed (the limit, "
                        "--max-waiting): try again when they are done"
                    )
            cur.execute("BEGIN TRANSACTION")
            cur.execute(
                "INSERT INTO report_runs (report_id, status, requested_as_of, created_at, "
                "share_key, computed_by) VALUES (?, 'Queued', ?::TIMESTAMPTZ, now(), ?, ?)",
                [report_id, as_of.isoformat() if as_of else None, key, leader and leader[0]],
            )
            retired = []
            if leader is not None and leader[1] == "Complete":
                self._finish_followers(cur, leader[0], [report_id])
                retired = retire(cur, self.limits)
            elif leader is not None and leader[1] == "Running":
                cur.execute(
                    "UPDATE report_runs SET status = 'Running', started_at = now() "
                    "WHERE report_id = ?",
                    [report_id],
                )
            cur.execute("COMMIT")
            write_runs(cur)
        self.files.remove(retired)
        if leader is None:
            log.info("report %s triggered (as of %s)", report_id, as_of or "the latest poll")
            self.workers.submit(self._compute, report_id)
        else:
            log.info("report %s triggered: shares the computation of %s", report_id, leader[0])
        return report_id

    def get(self, report_id: str) -> Run | None:
        with self.con.cursor() as cur:
            row = cur.execute(
                f"SELECT {RUN_COLUMNS} FROM report_runs WHERE report_id = ?", [report_id]
            ).fetchone()
        return Run(*row) if row else None

    def recent(self, limit: int = 50) -> list[Run]:
        """The newest reports that were not removed, newest first."""
        with self.con.cursor() as cur:
            rows = cur.execute(
                f"SELECT {RUN_COLUMNS} FROM report_runs WHERE status <> 'Removed' "
                "ORDER BY created_at DESC, report_id LIMIT ?",
                [limit],
            ).fetchall()
        return [Run(*row) for row in rows]

    def notes(self, report_id: str) -> list[tuple]:
        """A finished report's notes: (finding, stores, examples, meaning)."""
        with self.con.cursor() as cur:
            return cur.execute(
                f"SELECT {NOTE_COLUMNS} FROM report_notes_rows WHERE report_id = ? "
                "ORDER BY finding",
                [report_id],
            ).fetchall()

    def quality(self) -> tuple[list[tuple], list[tuple]]:
        """The last load's files and the findings as of the latest batch (DataWriter)."""
        return self.writer.quality()

    def load(self, status: Path, hours: Path, timezones: Path, **options) -> IngestResult:
        """Replace the loaded data (DataWriter.load)."""
        return self.writer.load(status, hours, timezones, **options)

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

    @staticmethod
    def _shareable(cur: duckdb.DuckDBPyConnection, key: str | None) -> tuple[str, str] | None:
        if key is None:
            return None
        return cur.execute(
            "SELECT report_id, status FROM report_runs WHERE share_key = ? "
            "AND computed_by IS NULL AND status IN ('Queued', 'Running', 'Complete') "
            "ORDER BY created_at DESC LIMIT 1",
            [key],
        ).fetchone()

    def _compute(self, report_id: str) -> None:
        with self.con.cursor() as cur:
            try:
                self._compute_with(cur, report_id)
            except Exception as error:  # any failure is the report's outcome, never the worker's
                self._fail(cur, report_id, error)

    def _compute_with(self, cur: duckdb.DuckDBPyConnection, report_id: str) -> None:
        with self.runs:
            started = cur.execute(
                "UPDATE report_runs SET status = 'Running', started_at = now(), "
                "attempts = attempts + 1, error = NULL "
                "WHERE report_id = ? AND status = 'Queued' RETURNING epoch_us(requested_as_of)",
                [report_id],
            ).fetchone()
            if started is None:
                return  # already taken or finished
            cur.execute(
                "UPDATE report_runs SET status = 'Running', started_at = now(), "
                "attempts = attempts + 1 WHERE computed_by = ? AND status = 'Queued'",
                [report_id],
            )
            write_runs(cur)
        log.info("report %s started", report_id)
        as_of = instant(started[0]) if started[0] is not None else None
        computed = self.backend.compute(cur, as_of, self.files.outputs(report_id))
        shared = self._complete(
            cur,
            report_id,
            lambda cur: computed.keep(cur, report_id),
            computed.as_of,
            [
                computed.stores,
                sql_version(),
                computed.seconds,
                computed.data_batch_at,
                computed.data_batch_id,
            ],
        )
        computed.done()
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
        as_of: tuple[str, list],
        facts: list,
    ) -> int:
        """In one commit: the finished report's rows (`keep` inserts them), its run Complete
        (`as_of`: an SQL expression and its parameters; `facts`: stores, sql_version, seconds,
        data_batch_at, data_batch_id), the reports that shared it, and retention (the client
        never sees N + 1). Returns how many reports shared it."""
        with self.runs:
            cur.execute("BEGIN TRANSACTION")
            for table in KEPT_ROWS:
                cur.execute(f"DELETE FROM {table} WHERE report_id = ?", [report_id])
            keep(cur)
            cur.execute(
                "UPDATE report_runs SET status = 'Complete', finished_at = now(), "
                f"as_of = {as_of[0]}, stores = ?, sql_version = ?, seconds = ?, "
                "data_batch_at = ?::TIMESTAMPTZ, data_batch_id = ? WHERE report_id = ?",
                [*as_of[1], *facts, report_id],
            )
            followers = [
                row[0]
                for row in cur.execute(
                    "SELECT report_id FROM report_runs "
                    "WHERE computed_by = ? AND status IN ('Queued', 'Running')",
                    [report_id],
                ).fetchall()
            ]
            self._finish_followers(cur, report_id, followers)
            retired = retire(cur, self.limits)
            cur.execute("COMMIT")
            write_runs(cur)
        self.files.remove(retired)
        return len(followers)

    def _finish_followers(
        self, cur: duckdb.DuckDBPyConnection, leader: str, followers: list[str]
    ) -> None:
        """Complete `followers` with the finished `leader`'s rows and files (hard links)."""
        for follower in followers:
            self.files.share(leader, follower)
            for table in KEPT_ROWS:
                cur.execute(
                    f"INSERT INTO {table} SELECT ?, * EXCLUDE (report_id) FROM {table} "
                    "WHERE report_id = ?",
                    [follower, leader],
                )
            cur.execute(
                "UPDATE report_runs AS follower SET status = 'Complete', "
                "started_at = coalesce(follower.started_at, now()), finished_at = now(), "
                "as_of = leader.as_of, stores = leader.stores, sql_version = leader.sql_version, "
                "seconds = leader.seconds, data_batch_at = leader.data_batch_at, "
                "data_batch_id = leader.data_batch_id, error = NULL "
                "FROM report_runs AS leader "
                "WHERE leader.report_id = ? AND follower.report_id = ?",
                [leader, follower],
            )

    def _fail(self, cur: duckdb.DuckDBPyConnection, report_id: str, error: Exception) -> None:
        """The report Failed, with a reason anyone may read (no path of this machine: the log
        has the whole error), and nothing of it left on disk."""
        with contextlib.suppress(duckdb.Error):  # when no transaction was open
            rollback(cur)
        self.files.remove([report_id])  # those written before the failure (first: a full
        # disk then has room for the run's new state)
        full = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        log.error("report %s failed: %s", report_id, full)
        try:
            with self.runs:
                cur.execute(
                    "UPDATE report_runs SET status = 'Failed', finished_at = now(), error = ? "
                    "WHERE report_id = ? OR (computed_by = ? AND status IN ('Queued', 'Running'))",
                    [failure_reason(error), report_id, report_id],
                )
                write_runs(cur)
        except Exception:  # the disk is too full even for that: the next start runs it again
            log.exception("report %s: its failure could not be recorded", report_id)

    def _resume(self) -> None:
        """Reports cut off by a stop run again; one cut off too often fails with the reason."""
        with self.con.cursor() as cur:
            cur.execute(
                "UPDATE report_runs SET status = 'Failed', finished_at = now(), "
                "error = format('the service stopped {} times while computing this report', "
                "attempts) WHERE status = 'Running' AND attempts >= ?",
                [MAX_ATTEMPTS],
            )
            cur.execute("UPDATE report_runs SET status = 'Queued' WHERE status = 'Running'")
            cur.execute(
                "UPDATE report_runs AS follower SET status = 'Failed', "
                "finished_at = now(), error = leader.error FROM report_runs AS leader "
                "WHERE follower.computed_by = leader.report_id AND leader.status = 'Failed' "
                "AND follower.status = 'Queued'"
            )
            queued = [
                row[0]
                for row in cur.execute(
                    "SELECT report_id FROM report_runs "
                    "WHERE status = 'Queued' AND computed_by IS NULL ORDER BY created_at"
                ).fetchall()
            ]
        if queued:
            log.info("resuming %d report(s) left unfinished", len(queued))
        for report_id in queued:
            self.workers.submit(self._compute, report_id)

    # --- retention -----------------------------------------------------------------------

    def _apply_retention(self) -> None:
        """Retention on its own (at start): storemon/retention.py."""
        with self.runs, self.con.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            doomed = retire(cur, self.limits)
            cur.execute("COMMIT")
            write_runs(cur)
        self.files.remove(doomed)
