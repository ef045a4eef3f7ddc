"""Run the report pipeline (sql/report/*.sql) and write its result (SPEC.md "Output")."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from storemon.database import copy_atomically, has_table, run_sql_files, sql_files
from storemon.errors import StoremonError

COLUMNS = (
    "store_id",
    "uptime_last_hour",
    "uptime_last_day",
    "uptime_last_week",
    "downtime_last_hour",
    "downtime_last_day",
    "downtime_last_week",
)


def parse_as_of(text: str) -> datetime:
    """`YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC (an explicit UTC suffix or offset is also fine)."""
    cleaned = text.strip().removesuffix("UTC").strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise StoremonError(
            f'--as-of "{text}" is not an instant: expected "YYYY-MM-DD HH:MM:SS" in UTC'
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class ReportRun:
    as_of: str | None  # ISO text in UTC; None when there are no polls at all
    stores: int
    steps: list[tuple[str, float]]  # (SQL file, seconds)
    seconds: float


def run_report(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> ReportRun:
    """Build the report's tables (TEMP, so they belong to this connection alone).

    `store_report` holds the result afterwards.
    """
    if not has_table(con, "polls"):
        raise StoremonError("no data loaded yet: run `storemon ingest` first")
    started = time.perf_counter()
    con.execute("SET VARIABLE as_of = ?::TIMESTAMPTZ", [as_of.isoformat() if as_of else None])
    steps = []
    step_started = started
    for done in run_sql_files(con, sql_files("report")):
        steps.append((done.stem, time.perf_counter() - step_started))
        log(f"  {done.stem:<22} {steps[-1][1]:6.2f} s")
        step_started = time.perf_counter()
    as_of_text, stores = con.execute(
        "SELECT strftime(as_of, '%Y-%m-%d %H:%M:%S.%f UTC'), (SELECT count(*) FROM store_report)"
        " FROM report_window"
    ).fetchone()
    return ReportRun(as_of_text, stores, steps, time.perf_counter() - started)


def write_report(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Write `store_report` as CSV or Parquet (by the file's suffix), atomically: a reader sees
    the old file or the whole new one, never a part."""
    path = Path(path)
    formats = {".csv": "FORMAT csv, HEADER", ".parquet": "FORMAT parquet"}
    if path.suffix not in formats:
        raise StoremonError(f"{path}: the report is written as .csv or .parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    copy_atomically(con, "store_report", path, formats[path.suffix])
