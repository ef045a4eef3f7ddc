"""report_runs: each report's state and history, and the words for it.

A report's life: Queued -> Running -> Complete | Failed, and later Removed by retention
(storemon/retention.py). `RunStore` holds every statement on runs, each a named file of
sql/service/runs/ (one statement, `?` parameters), run inside the caller's transaction when it
has one.
"""

from __future__ import annotations

import re
import secrets
from functools import cache
from typing import Literal

import duckdb
import msgspec

from storemon.backends import KEPT_ROWS
from storemon.database import scalar, sql_dir
from storemon.errors import StoremonError, is_disk_full

MAX_ATTEMPTS = 3  # a report the service stopped under this often fails


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


@cache
def statement(name: str) -> str:
    """sql/service/runs/<name>.sql."""
    return (sql_dir() / "service" / "runs" / f"{name}.sql").read_text()


class RunStore:
    """The statements on report_runs, by name (sql/service/runs/)."""

    @staticmethod
    def get(cur: duckdb.DuckDBPyConnection, report_id: str) -> Run | None:
        row = cur.execute(statement("get"), [report_id]).fetchone()
        return Run(*row) if row else None

    @staticmethod
    def recent(cur: duckdb.DuckDBPyConnection, limit: int) -> list[Run]:
        return [Run(*row) for row in cur.execute(statement("recent"), [limit]).fetchall()]

    @staticmethod
    def notes(cur: duckdb.DuckDBPyConnection, report_id: str) -> list[tuple]:
        return cur.execute(statement("notes"), [report_id]).fetchall()

    @staticmethod
    def shareable(cur: duckdb.DuckDBPyConnection, key: str | None) -> tuple[str, str] | None:
        if key is None:
            return None
        return cur.execute(statement("shareable"), [key]).fetchone()

    @staticmethod
    def waiting(cur: duckdb.DuckDBPyConnection) -> int:
        return scalar(cur, statement("waiting"))

    @staticmethod
    def count_by_status(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
        return {status: int(n) for status, n in cur.execute(statement("by_status")).fetchall()}

    @staticmethod
    def queue(
        cur: duckdb.DuckDBPyConnection,
        report_id: str,
        as_of: str | None,
        key: str | None,
        leader: str | None,
    ) -> None:
        cur.execute(statement("queue"), [report_id, as_of, key, leader])

    @staticmethod
    def follow_running(cur: duckdb.DuckDBPyConnection, report_id: str) -> None:
        cur.execute(statement("follow_running"), [report_id])

    @staticmethod
    def start(cur: duckdb.DuckDBPyConnection, report_id: str) -> tuple[int | None] | None:
        """(its requested as-of, epoch us or None); None when it was taken already."""
        started = cur.execute(statement("start"), [report_id]).fetchone()
        if started is not None:
            cur.execute(statement("start_followers"), [report_id])
        return started

    @staticmethod
    def complete(cur: duckdb.DuckDBPyConnection, report_id: str, facts: list) -> list[str]:
        """Complete (`facts`: its now in epoch us, stores, sql_version, seconds, data_batch_at,
        data_batch_id); returns the reports waiting on its computation."""
        cur.execute(statement("complete"), [*facts, report_id])
        return [row[0] for row in cur.execute(statement("followers"), [report_id]).fetchall()]

    @staticmethod
    def finish_follower(cur: duckdb.DuckDBPyConnection, leader: str, follower: str) -> None:
        """The follower Complete with the leader's rows (its files: ReportFiles.share)."""
        for table in KEPT_ROWS:
            cur.execute(
                f"INSERT INTO {table} SELECT ?, * EXCLUDE (report_id) FROM {table} "
                "WHERE report_id = ?",
                [follower, leader],
            )
        cur.execute(statement("finish_follower"), [leader, follower])

    @staticmethod
    def clear_rows(cur: duckdb.DuckDBPyConnection, report_id: str) -> None:
        for table in KEPT_ROWS:
            cur.execute(f"DELETE FROM {table} WHERE report_id = ?", [report_id])

    @staticmethod
    def fail(cur: duckdb.DuckDBPyConnection, report_id: str, reason: str) -> None:
        cur.execute(statement("fail"), [reason, report_id, report_id])

    @staticmethod
    def resume(cur: duckdb.DuckDBPyConnection) -> list[str]:
        """At start: runs cut off by a stop queued again (or failed, when cut off too often);
        returns the computations to run, oldest first."""
        cur.execute(statement("resume_worn_out"), [MAX_ATTEMPTS])
        cur.execute(statement("resume_requeue"))
        cur.execute(statement("resume_followers"))
        return [row[0] for row in cur.execute(statement("queued")).fetchall()]
