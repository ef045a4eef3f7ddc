"""Load the three CSV files into the database, all or nothing (SPEC.md "Inputs")."""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from storemon.database import run_sql_files, sql_files
from storemon.errors import StoremonError
from storemon.snapshots import write_inputs


@dataclass(frozen=True)
class Source:
    """One input file: the SQL variable prefix, and each required column's accepted names."""

    prefix: str
    label: str
    columns: dict[str, tuple[str, ...]]


POLLS = Source(
    "status",
    "polls (store_status.csv)",
    {"store_id": ("store_id",), "status": ("status",), "timestamp_utc": ("timestamp_utc",)},
)
HOURS = Source(
    "hours",
    "business hours (menu_hours.csv)",
    {
        "store_id": ("store_id",),
        "day": ("dayOfWeek", "day"),
        "start_time_local": ("start_time_local",),
        "end_time_local": ("end_time_local",),
    },
)
TIMEZONES = Source(
    "timezones",
    "time zones (timezones.csv)",
    {"store_id": ("store_id",), "timezone_str": ("timezone_str",)},
)


def read_header(path: Path, source: Source, quote_files: bool = True) -> tuple[dict[str, int], str]:
    """Map each required column to its 1-based position, plus `fields`, the header's width;
    and say how the file ends its lines (CRLF or LF).

    Column names match without regard to case or surrounding blanks; extra columns are ignored.
    With `quote_files` false, no error quotes the file's content (the service's callers may not
    be allowed to read the file).
    """
    if not path.is_file():
        raise StoremonError(f"{source.label}: no such file: {path}")
    with path.open("rb") as handle:
        # DuckDB takes the newline spelled with backslashes
        newline = r"\r\n" if handle.readline().endswith(b"\r\n") else r"\n"
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        header = next(csv.reader(handle), None)
    if not header or not any(name.strip() for name in header):
        raise StoremonError(f"{source.label}: {path} is empty; expected a header row first")
    positions = {name.strip().lower(): i for i, name in reversed(list(enumerate(header, 1)))}
    found: dict[str, int] = {}
    for column, names in source.columns.items():
        position = next((positions[n.lower()] for n in names if n.lower() in positions), None)
        if position is None:
            spelled = " or ".join(repr(n) for n in names)
            seen = f" (line 1 has: {', '.join(repr(h) for h in header)})" if quote_files else ""
            raise StoremonError(f"{source.label}: {path} has no column {spelled}{seen}")
        found[column] = position
    found["fields"] = len(header)
    return found, newline


QUALITY_COLUMNS = "finding, source, unit, count, examples, meaning"


@dataclass(frozen=True)
class LoadResult:
    summary: list[tuple]  # (source, file, data_rows, kept_rows, duplicates, rejected)
    reasons: list[tuple]  # (source, reason, rows)
    stores: int
    seconds: float
    quality: list[tuple] = ()  # data_quality: (finding, source, unit, count, examples, meaning)


def ingest(
    con: duckdb.DuckDBPyConnection,
    status: Path,
    hours: Path,
    timezones: Path,
    log: Callable[[str], None] = lambda _: None,
    quote_files: bool = True,
) -> LoadResult:
    """Replace the loaded data with these three files, in one transaction.

    On any error nothing changes: the previous data stays as it was. With `quote_files` false,
    errors never quote the files' content (see read_header).
    """
    started = time.perf_counter()
    files = [(POLLS, Path(status)), (HOURS, Path(hours)), (TIMEZONES, Path(timezones))]
    headers = [read_header(path, source, quote_files) for source, path in files]
    con.execute("BEGIN TRANSACTION")
    try:
        for (source, path), (columns, newline) in zip(files, headers, strict=True):
            con.execute(f"SET VARIABLE {source.prefix}_file = ?", [str(path)])
            con.execute(f"SET VARIABLE {source.prefix}_newline = ?", [newline])
            con.execute(f"SET VARIABLE {source.prefix}_columns = ?", [columns])
        for source, path in files:
            log(f"  {source.label}: {path} ({path.stat().st_size / 1e6:,.1f} MB)")
        step_started = time.perf_counter()
        try:
            for done in run_sql_files(con, sql_files("load")):
                log(f"  {done.stem:<22} done in {time.perf_counter() - step_started:6.2f} s")
                step_started = time.perf_counter()
        except StoremonError as error:
            if not quote_files:
                log(f"  load failed: {error}")  # the service's log, for its owner
            raise _explain(error, files, quote_files) from error.__cause__
        summary = con.execute(
            "SELECT source, file, data_rows, kept_rows, duplicates, rejected FROM load_summary"
        ).fetchall()
        reasons = con.execute(
            "SELECT source, reason, count(*) FROM rejected_rows GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        stores = con.execute("SELECT count(*) FROM stores").fetchone()[0]
        quality = con.execute(f"SELECT {QUALITY_COLUMNS} FROM data_quality").fetchall()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    write_inputs(con)  # for analysts, while a service holds the database
    return LoadResult(summary, reasons, stores, time.perf_counter() - started, quality)


def _explain(
    error: StoremonError, files: list[tuple[Source, Path]], quote_files: bool = True
) -> StoremonError:
    """Say which file and line a CSV-level failure is about, in words a user can act on.
    DuckDB's own message may quote the file, so without `quote_files` it is not passed on."""
    text = str(error.__cause__ or error)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    for source, path in files:
        if line and f"file = {path}" in text:
            problem = "is not UTF-8 text" if "unicode" in text.lower() else "cannot be read"
            return StoremonError(
                f"{source.label}: line {line.group(1)} of {path} {problem}; "
                "fix or remove it and load again (nothing was changed)"
            )
    if not quote_files:
        return StoremonError(
            f"{str(error).split(' failed:', 1)[0]} failed on these files; nothing was changed (the "
            "service's log has DuckDB's message)"
        )
    return error
