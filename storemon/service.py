"""Reports computed in the background, their state kept in the database.

One process holds the DuckDB file. Each report runs on a worker thread with its own cursor
(DuckDB releases the GIL), inside one transaction, so it reads one consistent snapshot even
while new data is loaded. A report's life: Queued -> Running -> Complete | Failed, recorded in
`report_runs`; finished rows go to `report_rows` and to `<reports>/<id>.csv` and `.parquet`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import msgspec

from storemon.database import connect, has_table, run_sql_files, sql_files, sql_version
from storemon.ingest import LoadResult, ingest
from storemon.report import run_report, write_report
from storemon.snapshots import snapshot_dir, write_inputs, write_runs

log = logging.getLogger("storemon.service")

MAX_ATTEMPTS = 3
ISO = "%Y-%m-%dT%H:%M:%S.%fZ"
RUN_COLUMNS = (
    "report_id, status, "
    f"strftime(requested_as_of, '{ISO}') AS requested_as_of, strftime(as_of, '{ISO}') AS as_of, "
    f"sql_version, strftime(created_at, '{ISO}') AS created_at, "
    f"strftime(started_at, '{ISO}') AS started_at, strftime(finished_at, '{ISO}') AS finished_at, "
    "seconds, stores, attempts, error"
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


class DataInfo(msgspec.Struct, frozen=True):
    """What data is loaded, read once at start and after every load (for /health)."""

    polls: int
    stores: int
    latest_poll: str | None
    loaded_at: str | None


def new_report_id() -> str:
    """128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def service_file(db: Path) -> Path:
    """Where a running service says how to reach it, for `storemon ingest` and `report`."""
    return db.with_name(db.name + ".service.json")


class ReportService:
    def __init__(self, db: Path, workers: int = 2, url: str | None = None) -> None:
        self.db = Path(db)
        self.reports_dir = self.db.parent / "reports"
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        self.con = connect(self.db)
        for _ in run_sql_files(self.con, sql_files("service")):
            pass
        self.workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="report")
        self.loader = threading.Lock()  # one load at a time
        self.data = self._read_data_info()
        self.url = url
        if url:
            service_file(self.db).write_text(json.dumps({"url": url, "pid": os.getpid()}))
        self._resume()
        if self.data is not None and not (snapshot_dir(self.con) / "polls.parquet").exists():
            write_inputs(self.con)  # a database loaded before storemon kept snapshots
        write_runs(self.con)

    def close(self) -> None:
        self.workers.shutdown(wait=True, cancel_futures=True)
        if self.url:
            service_file(self.db).unlink(missing_ok=True)
        self.con.close()

    # --- reports -------------------------------------------------------------------------

    def trigger(self, as_of: datetime | None = None) -> str:
        report_id = new_report_id()
        with self.con.cursor() as cur:
            cur.execute(
                "INSERT INTO report_runs (report_id, status, requested_as_of, created_at) "
                "VALUES (?, 'Queued', ?::TIMESTAMPTZ, now())",
                [report_id, as_of.isoformat() if as_of else None],
            )
            write_runs(cur)
        log.info("report %s triggered (as of %s)", report_id, as_of or "the latest poll")
        self.workers.submit(self._compute, report_id)
        return report_id

    def get(self, report_id: str) -> Run | None:
        with self.con.cursor() as cur:
            row = cur.execute(
                f"SELECT {RUN_COLUMNS} FROM report_runs WHERE report_id = ?", [report_id]
            ).fetchone()
        return Run(*row) if row else None

    def recent(self, limit: int = 50) -> list[Run]:
        with self.con.cursor() as cur:
            rows = cur.execute(
                f"SELECT {RUN_COLUMNS} FROM report_runs ORDER BY created_at DESC, report_id "
                "LIMIT ?",
                [limit],
            ).fetchall()
        return [Run(*row) for row in rows]

    def file(self, report_id: str, suffix: str) -> Path:
        return self.reports_dir / f"{report_id}{suffix}"

    def _compute(self, report_id: str) -> None:
        with self.con.cursor() as cur:
            try:
                self._compute_with(cur, report_id)
            except Exception as error:  # any failure is the report's outcome, never the worker's
                self._fail(cur, report_id, error)

    def _compute_with(self, cur: duckdb.DuckDBPyConnection, report_id: str) -> None:
        started = cur.execute(
            "UPDATE report_runs SET status = 'Running', started_at = now(), "
            "attempts = attempts + 1, error = NULL "
            "WHERE report_id = ? AND status = 'Queued' RETURNING epoch_us(requested_as_of)",
            [report_id],
        ).fetchone()
        if started is None:
            return  # already taken or finished
        write_runs(cur)
        log.info("report %s started", report_id)
        as_of = datetime.fromtimestamp(started[0] / 1e6, UTC) if started[0] is not None else None
        clock = time.perf_counter()
        cur.execute("BEGIN TRANSACTION")  # one snapshot of the data for the whole report
        run = run_report(cur, as_of)
        for suffix in (".parquet", ".csv"):
            write_report(cur, self.file(report_id, suffix))
        cur.execute("COMMIT")  # it only read; its TEMP tables stay with the cursor
        seconds = time.perf_counter() - clock
        cur.execute("BEGIN TRANSACTION")
        cur.execute("DELETE FROM report_rows WHERE report_id = ?", [report_id])
        cur.execute("INSERT INTO report_rows SELECT ?, * FROM store_report", [report_id])
        cur.execute(
            "UPDATE report_runs SET status = 'Complete', finished_at = now(), "
            "as_of = (SELECT as_of FROM report_window), stores = ?, sql_version = ?, "
            "seconds = ? WHERE report_id = ?",
            [run.stores, sql_version(), seconds, report_id],
        )
        cur.execute("COMMIT")
        write_runs(cur)
        log.info("report %s finished: %d stores in %.2f s", report_id, run.stores, seconds)

    def _fail(self, cur: duckdb.DuckDBPyConnection, report_id: str, error: Exception) -> None:
        with contextlib.suppress(duckdb.Error):  # when no transaction was open
            cur.execute("ROLLBACK")
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        cur.execute(
            "UPDATE report_runs SET status = 'Failed', finished_at = now(), error = ? "
            "WHERE report_id = ?",
            [message, report_id],
        )
        write_runs(cur)
        log.error("report %s failed: %s", report_id, message)

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
            queued = [
                row[0]
                for row in cur.execute(
                    "SELECT report_id FROM report_runs WHERE status = 'Queued' ORDER BY created_at"
                ).fetchall()
            ]
        if queued:
            log.info("resuming %d report(s) left unfinished", len(queued))
        for report_id in queued:
            self.workers.submit(self._compute, report_id)

    # --- data --------------------------------------------------------------------------

    def load(self, status: Path, hours: Path, timezones: Path) -> LoadResult:
        """Replace the loaded data; running reports keep reading the data they started with."""
        with self.loader, self.con.cursor() as cur:
            result = ingest(cur, status, hours, timezones, log=log.info)
        self.data = self._read_data_info()
        log.info("loaded %d stores in %.2f s", result.stores, result.seconds)
        return result

    def _read_data_info(self) -> DataInfo | None:
        with self.con.cursor() as cur:
            if not has_table(cur, "polls"):
                return None
            return DataInfo(
                *cur.execute(
                    f"SELECT (SELECT count(*) FROM polls), (SELECT count(*) FROM stores), "
                    f"(SELECT strftime(max(timestamp_utc), '{ISO}') FROM polls), "
                    f"(SELECT strftime(max(loaded_at), '{ISO}') FROM load_summary)"
                ).fetchone()
            )
